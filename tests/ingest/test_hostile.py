"""Hostile files: each is refused (or read) with its memory MEASURED, not just its outcome.

Every file is built at run time (tests/ingest/hostile.py). Memory is the peak resident
set size of a fresh interpreter reading the one file, less its size once the readers'
libraries are imported (~140 MB), so the figure is what the file itself cost. Without
the limits the 1.1 GB bombs below cost about as much memory as they unpack to (see
benchmarks/ingest_hostile.py for the figures with and without the limits).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ingest import hostile
from toolkit.config import load_config
from toolkit.errors import InputDataError
from toolkit.ingest.files import discover_files
from toolkit.ingest.limits import LIMITS, MB

pytestmark = pytest.mark.slow

BOUND_MB = 80
"""What reading any hostile file may add to the interpreter's peak memory."""


def refused(path: Path, expression: str, message: str) -> dict:
    result = hostile.measure(expression, path)
    assert result["error"] is not None, f"{path.name} was read"
    assert result["error"].startswith("InputDataError: " + path.name), result["error"]
    assert message in result["error"], result["error"]
    assert result["grown_mb"] < BOUND_MB, result
    return result


def test_xlsx_zip_bomb_is_refused_before_unpacking(tmp_path: Path) -> None:
    # issue 16: a 0.96 MB .xlsx took 1.1 GB and was ingested
    path = hostile.xlsx_bomb(tmp_path / "bomb.xlsx", unpacked=1_100 * MB)
    assert path.stat().st_size < 5 * MB
    refused(path, "read_survey(path)", "declares 1,100 MB of content; the limit is 200 MB unpacked")


def test_xlsx_bomb_under_the_total_is_caught_by_its_ratio(tmp_path: Path) -> None:
    path = hostile.xlsx_bomb(tmp_path / "small_bomb.xlsx", unpacked=150 * MB)
    refused(path, "read_survey(path)", "looks like a 'zip bomb'")


def test_archive_that_lies_about_its_sizes(tmp_path: Path) -> None:
    # the central directory declares 2 kB; the data unpacks to 1.1 GB
    path = hostile.lying_zip(tmp_path / "lying.xlsx", declared=2_000, real=1_100 * MB)
    refused(path, "read_survey(path)", "does not unpack to what the archive declares")


def test_archive_of_many_entries_is_refused_from_its_end_record(tmp_path: Path) -> None:
    path = hostile.many_entries_zip(tmp_path / "many.xlsx", entries=60_000)
    refused(path, "read_survey(path)", "of 60,009 files inside; the limit is 2,000")


def test_sheet_that_claims_a_million_rows(tmp_path: Path) -> None:
    # 5 kB of sheet whose <dimension> and last row claim A1:XFD1048576 (17 billion cells)
    path = hostile.xlsx_far_cell(tmp_path / "far.xlsx")
    refused(path, "read_survey(path)", "spans more than 3,000,000 cells")


def test_docx_zip_bomb_is_refused(tmp_path: Path) -> None:
    path = hostile.docx_bomb(tmp_path / "bomb.docx", unpacked=1_100 * MB)
    refused(path, "read_transcript(path)", "declares 1,101 MB of content")


def test_docx_billion_laughs_memory(tmp_path: Path) -> None:
    path = hostile.docx_with_dtd(tmp_path / "lol.docx", hostile.BILLION_LAUGHS, "&i;")
    refused(path, "read_transcript(path)", "declares XML entities")


def test_fifty_megabyte_single_line_text(tmp_path: Path) -> None:
    # issue 16: ran past 300 s with no output (one turn of 50 MB; sentence splitting is quadratic per turn)
    path = hostile.one_line_text(tmp_path / "one.txt", size=50 * MB)
    result = refused(path, "read_transcript(path)", "is 50.0 MB, larger than the limit of 10.0 MB")
    assert result["seconds"] < 5


def test_single_line_text_under_the_limit_is_read_in_bounded_turns(tmp_path: Path) -> None:
    path = hostile.one_line_text(tmp_path / "one.txt", size=9 * MB)
    result = hostile.measure(
        "t = read_transcript(path); assert max(len(x.text) for x in t.turns) <= 20_000, 'long turn'", path
    )
    assert result["error"] is None, result
    assert result["grown_mb"] < 200, result  # 9 MB of text held as the transcript and its 500 turns


def test_limits_are_data_in_one_place() -> None:
    assert LIMITS.max_unpacked_bytes == 200 * MB and LIMITS.max_archive_entries == 2_000
    assert LIMITS.max_text_bytes == 10 * MB and LIMITS.max_cells == 3_000_000


# --------------------------------------------------------------------------- symlinks
def study(tmp_path: Path) -> Path:
    root = tmp_path / "study"
    (root / "Northfold").mkdir(parents=True)
    (root / "study.toml").write_text("[pseudonymisation]\nenabled = false\n")
    (root / "Northfold" / "n1.txt").write_text("I: What helped?\nR: The charter.\n")
    return root


def test_symlink_to_a_file_outside_the_study_is_refused(tmp_path: Path) -> None:
    # issue 16: a symlink in a place folder ingested a file from outside the study
    root = study(tmp_path)
    outside = tmp_path / "elsewhere" / "other_study_interview.txt"
    outside.parent.mkdir()
    outside.write_text("I: Secret?\nR: Yes.\n")
    (root / "Northfold" / "n2.txt").symlink_to(outside)
    with pytest.raises(InputDataError, match=r"n2\.txt: is a symbolic link \('Northfold/n2\.txt'\) to a file outside"):
        discover_files(load_config(root))


def test_place_folder_linked_from_outside_is_refused(tmp_path: Path) -> None:
    root = study(tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "x.txt").write_text("I: Hi?\nR: Hi.\n")
    (root / "Southmere").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InputDataError, match=r"Southmere: is a symbolic link \('Southmere'\) to a folder outside"):
        discover_files(load_config(root))


def test_dangling_symlink_is_refused(tmp_path: Path) -> None:
    root = study(tmp_path)
    (root / "Northfold" / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    with pytest.raises(InputDataError, match=r"gone\.txt: is a symbolic link .* does not exist"):
        discover_files(load_config(root))


def test_symlink_inside_the_study_is_followed(tmp_path: Path) -> None:
    root = study(tmp_path)
    (root / "Northfold" / "same.txt").symlink_to(root / "Northfold" / "n1.txt")
    files, _ = discover_files(load_config(root))
    assert [f.relative for f in files] == ["Northfold/n1.txt", "Northfold/same.txt"]


def test_excluded_symlink_is_not_refused(tmp_path: Path) -> None:
    root = study(tmp_path)
    (root / "study.toml").write_text('[pseudonymisation]\nenabled = false\n[ingest]\nexclude = ["*/link.txt"]\n')
    (root / "Northfold" / "link.txt").symlink_to("/etc/hostname")
    files, _ = discover_files(load_config(root))
    assert [f.relative for f in files] == ["Northfold/n1.txt"]
