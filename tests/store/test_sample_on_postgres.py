"""The sample study run on PostgreSQL gives what it gives on SQLite (the whole pipeline, real models)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from toolkit import schema as s
from toolkit.config import load_config
from toolkit.pipeline import run_study
from toolkit.store import Store

SAMPLE = Path(__file__).resolve().parents[2] / "interviews"


def _run(folder: Path, url: str | None) -> Store:
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns("store", "private", "exports"))
    config = load_config(folder)
    store = Store(url or config.store_url)
    run_study(config, store=store)
    return store


@pytest.mark.slow
@pytest.mark.model
def test_the_sample_study_gives_the_same_counts_on_postgresql_as_on_sqlite(tmp_path, postgres_url):
    lite = _run(tmp_path / "sqlite", None)
    server = _run(tmp_path / "postgresql", postgres_url)
    assert server.backend == "postgresql" and lite.backend == "sqlite"
    counts = lite.counts()
    assert counts[s.SEGMENTS] > 0 and counts[s.CODINGS] > 0 and counts[s.RESPONDENTS] > 0
    assert server.counts() == counts
    key = [s.SEGMENT_KEY, s.THEME, s.POLARITY, s.RANK]
    machine = [frame.table(s.CODINGS)[key].sort_values(key).reset_index(drop=True) for frame in (lite, server)]
    assert machine[0].equals(machine[1])
    segments = [set(frame.table(s.SEGMENTS)[s.SEGMENT_KEY]) for frame in (lite, server)]
    assert segments[0] == segments[1]
    assert [r for r in server.runs_frame()[s.STATUS]] == ["ok"] * len(server.runs_frame())
