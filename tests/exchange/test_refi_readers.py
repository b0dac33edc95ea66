"""Other programs read our files whole: pyqdpx (every coding), QualCoder's own importer run headless by
the harness in ../shared/qualcoder (every source, coding and note, with the same text), and Taguette's
codebook import (every tag). See tests/exchange/readers.py for how each is run."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.exchange import readers
from tests.exchange.conftest import EMOJI, WHEN
from toolkit.exchange.refi import read_qdpx, write_codebook_csv, write_qdpx

pytestmark = pytest.mark.slow


@pytest.fixture
def rich(rich_export, rich_notes, tmp_path) -> Path:
    return write_qdpx(rich_export, tmp_path / "rich.qdpx", notes=rich_notes, exported_at=WHEN)


def _call(reader, *args):
    try:
        return reader(*args)
    except readers.ReaderUnavailable as exc:
        pytest.skip(str(exc))


def test_pyqdpx_reads_every_coding(rich):
    ours = read_qdpx(rich).codings
    selections = _call(readers.pyqdpx_selections, rich)  # pyqdpx takes only the first Coding of a selection
    assert len(selections) == len(ours) == 9
    got = sorted((sel["code"], sel["start"], sel["end"]) for sel in selections)
    assert got == sorted(zip(ours["code"], ours["start"], ours["end"], strict=True))


def test_pyqdpx_sees_the_passage_after_an_emoji_when_offsets_count_utf16_units(rich_export, tmp_path):
    # pyqdpx counts offsets as NVivo does (it pads each character above U+FFFF to two).
    path = write_qdpx(rich_export, tmp_path / "nvivo.qdpx", exported_at=WHEN, offsets="utf16")
    texts = {sel["text"].replace("\u200b", "") for sel in _call(readers.pyqdpx_selections, path)}
    assert "Our IG lead answers the same day." in texts and f"GPs are scared of the GMC {EMOJI}." in texts


def test_taguette_imports_every_tag_of_the_codebook_csv(tiny_export, tmp_path):
    path = write_codebook_csv(tiny_export.codebook, tmp_path / "codebook.csv")
    tags = _call(readers.taguette_tags, path)
    assert len(tags) == 4 * len(tiny_export.codebook.themes) + 1
    assert {t["path"] for t in tags} >= {"trust_relationships", "trust_relationships.enabler", "good_practice"}
    assert all(t["description"] for t in tags)


def test_qualcoder_receives_every_source_coding_and_note(rich, tmp_path):
    report, log = _call(readers.qualcoder_import, rich, tmp_path / "qualcoder")
    assert report["sources_in_db"] == report["sources_in_file"] == 3
    assert report["sources_text_identical"] == 3
    assert "Cannot copy" not in log and "Cannot read" not in log  # source names without '/'
    n = report["codings_in_file"]
    assert n == 9 and report["code_text_rows_in_db"] == n
    checks = report["coding_checks"]
    assert checks["coding_found"] == checks["seltext_identical"] == checks["owner_is_coding_user"] == n
    assert report["notes_in_file"] == 6
    # Notes on passages and on a whole source arrive as annotations, on codes and the project as journals.
    assert (report["annotations_in_db"], report["journals_in_db"]) == (3, 3)
    with zipfile.ZipFile(rich) as archive:  # the emoji travelled, and QualCoder's passages still match
        assert EMOJI in "".join(archive.read(n).decode("utf-8") for n in archive.namelist() if n.startswith("Sources/"))
