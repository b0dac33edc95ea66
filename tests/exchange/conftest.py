"""Fixtures of the exchange tests: the tiny export snapshot shared with the export tests, and a richer
one with a character above U+FFFF and notes on every kind of target."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import realfiles_dir
from tests.export.conftest import tiny_export  # noqa: F401  (a fixture, used by name)
from toolkit import schema as s
from toolkit.exchange.refi import notes_from_export, write_qdpx

WHEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
EMOJI = "\U0001F62C"  # grimacing face: one code point, two UTF-16 units
TEXT_B = f"FM01: GPs are scared of the GMC {EMOJI}. Our IG lead answers the same day."


def xsd(name: str) -> Path:
    path = realfiles_dir("xsd") / name
    if not path.is_file():
        pytest.skip(f"schema {name} not available at {path}")
    return path


def segments_of(data) -> pd.DataFrame:
    """The study's segments as the store gives them to codings_from_project (with the source's text)."""
    texts = data.sources[[s.SOURCE_ID, s.TEXT]].rename(columns={s.TEXT: "source_text"})
    return data.segments.merge(texts, on=s.SOURCE_ID)


@pytest.fixture
def qdpx(tiny_export, tmp_path) -> Path:  # noqa: F811
    return write_qdpx(tiny_export, tmp_path / "tiny.qdpx", exported_at=WHEN)


@pytest.fixture
def rich_export(tiny_export):  # noqa: F811
    """The tiny study with an emoji before FM01's second sentence (k4 ends in it, k5 comes after it)."""
    sources = tiny_export.sources.copy()
    sources.loc[sources[s.SOURCE_ID] == 2, s.TEXT] = TEXT_B
    segments = tiny_export.segments.copy()
    for key, sentence in (("k4", f"GPs are scared of the GMC {EMOJI}."), ("k5", "Our IG lead answers the same day.")):
        start = TEXT_B.index(sentence)
        row = segments[s.SEGMENT_KEY] == key
        segments.loc[row, [s.START_CHAR, s.END_CHAR, s.TEXT]] = [start, start + len(sentence), sentence]
    return dataclasses.replace(tiny_export, sources=sources, segments=segments)


@pytest.fixture
def rich_notes(rich_export) -> pd.DataFrame:
    """Every note the snapshot carries, and one note of each other kind (one whose passage is not exported)."""
    extra = pd.DataFrame([
        {"text": "Read FM01 beside BK01.", "author": "bea", "created_at": "2026-03-01T11:00:00+00:00",
         "target": "project", "title": "Reading order"},
        {"text": "Trust is the thread through every place.", "author": "bea", "target": "code",
         "theme": "trust_relationships"},
        {"text": "Enablers of trust are mostly people.", "author": "ana", "target": "code",
         "theme": "trust_relationships", "polarity": "enabler"},
        {"text": "Recorded on Teams; audio poor in places.", "author": "ana", "target": "source",
         "path": "Fernmouth/FM01_icb.vtt"},
        {"text": "Same-day IG answers: ask how.", "author": "bea", "target": "selection", "segment_key": "k5"},
        {"text": "On a passage that is not exported.", "author": "bea", "target": "selection", "segment_key": "gone"},
    ])
    return pd.concat([notes_from_export(rich_export), extra], ignore_index=True)
