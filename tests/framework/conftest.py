"""Fixtures of the framework-analysis tests: the tiny hand-built study (no models), with case attributes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.dashboard.conftest import build_tiny_study
from toolkit import api
from toolkit import schema as s
from toolkit.store import TABLES

DATA = Path(__file__).resolve().parent / "data"
ATTRIBUTES = {
    "BK01": {"setting": {"type": "text", "value": "urban"}, "years_in_post": {"type": "number", "value": 3},
             "started": {"type": "date", "value": "2021-04-01"}},
    "FM01": {"setting": {"type": "text", "value": "rural"}, "years_in_post": {"type": "number", "value": 12.5},
             "started": {"type": "date", "value": "2014-09-01"}},
}


def with_attributes(folder: Path) -> Path:
    """The tiny study with case attributes stored on its transcripts (what ingesting a manifest stores)."""
    store = api.open_study(folder).store
    with store.engine.begin() as conn:
        for pid, attributes in ATTRIBUTES.items():
            conn.execute(sa.update(TABLES[s.SOURCES]).where(TABLES[s.SOURCES].c.participant_id == pid)
                         .values({s.ATTRIBUTES: json.dumps(attributes)}))
    store.close()
    return folder


@pytest.fixture
def study(tmp_path) -> api.Study:
    """A fresh tiny study (two interviews, one survey, coded) with case attributes, that a test may write to."""
    return api.open_study(with_attributes(build_tiny_study(tmp_path / "study")))


@pytest.fixture(scope="module")
def labels() -> pd.DataFrame:
    """The sample study's good-practice candidates, read and grouped by hand (see practice_labels.csv)."""
    return pd.read_csv(DATA / "practice_labels.csv", keep_default_na=False)
