"""The Excel workbook and the long/matrix tables, on the tiny export snapshot."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import openpyxl
import pandas as pd
import pytest

from toolkit import schema as s
from toolkit.errors import ToolkitError
from toolkit.export.tables import (
    CSV_ENCODING,
    SHEETS,
    ExportPathError,
    long_frame,
    matrix_frame,
    write_long,
    write_matrix,
    write_workbook,
)

RAW_NAME = "Araminta"  # a name that only the raw files could hold: it must never reach an export
WHEN = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)


def _rows(sheet) -> list[tuple]:
    return list(sheet.iter_rows(values_only=True))


def _records(sheet) -> list[dict]:
    rows = _rows(sheet)
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def _all_text(book) -> str:
    values = (v for sheet in book for row in sheet.iter_rows(values_only=True) for v in row)
    return "\n".join(str(v) for v in values if v is not None)


@pytest.fixture
def workbook(tiny_export, tmp_path):
    path = write_workbook(tiny_export, tmp_path / "study.xlsx", exported_at=WHEN)
    return openpyxl.load_workbook(path)


# --------------------------------------------------------------------------- workbook
def test_workbook_has_every_sheet_in_order_with_frozen_bold_filtered_header(workbook):
    assert workbook.sheetnames == list(SHEETS)
    assert SHEETS[0] == "Read me" and SHEETS[-1] == "Codebook"
    frozen = {"Framework matrix": "C2", "Barrier to remedy": "C2", "Practices": "B2"}  # the row labels stay in view
    for sheet in workbook:
        assert sheet.freeze_panes == frozen.get(sheet.title, "A2"), sheet.title
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:"), sheet.title
        assert all(cell.font.bold for cell in sheet[1] if cell.value is not None), sheet.title


def test_workbook_holds_no_formulas_and_wraps_quotes(tiny_export, tmp_path):
    segments = tiny_export.segments.copy()
    segments.loc[segments[s.SEGMENT_KEY] == "k2", s.TEXT] = '=HYPERLINK("http://example.org","x")'
    data = dataclasses.replace(tiny_export, segments=segments)
    book = openpyxl.load_workbook(write_workbook(data, tmp_path / "f.xlsx"))
    types = {cell.data_type for sheet in book for row in sheet.iter_rows() for cell in row}
    assert "f" not in types
    coded = book["Coded segments"]
    quote_col = [c.value for c in coded[1]].index("Quote") + 1
    quotes = [coded.cell(r, quote_col).value for r in range(2, coded.max_row + 1)]
    assert '=HYPERLINK("http://example.org","x")' in quotes
    assert coded.cell(2, quote_col).alignment.wrap_text
    letter = openpyxl.utils.get_column_letter(quote_col)
    assert coded.column_dimensions[letter].width >= 30


def test_read_me_names_the_study_time_codebook_and_pseudonymisation(workbook, tiny_export):
    items = {row[0]: row[1] for row in _rows(workbook["Read me"])[1:]}
    assert items["Study"] == "Tiny study"
    assert items["Exported at"] == "2026-03-02T09:30:00+00:00"
    assert tiny_export.codebook.fingerprint() in items["Codebook"]
    assert items["Codings"].startswith("7 ")
    assert "pseudonymised" in items["Pseudonymised"]
    for title in SHEETS[1:]:
        assert f"Sheet: {title}" in items


def test_framework_matrix_counts_participants_and_segments(workbook, tiny_export):
    names = {t.id: t.name for t in tiny_export.codebook.themes}
    rows = _rows(workbook["Theme counts"])
    header = rows[0]
    assert header[0] == "Place" and list(header[1:]) == [t.name for t in tiny_export.codebook.themes]
    by_place = {row[0]: dict(zip(header, row)) for row in rows[1:] if row[0]}
    assert by_place["Brackenford"][names["agreements_protocols"]] == "1 interviewee · 0 barrier / 1 enabler"
    assert by_place["Brackenford"][names["it_systems_access"]] == "1 interviewee · 1 barrier / 0 enabler"
    # FM01 (enabler, interview) and Fernmouth_R001 (barrier, survey): people counted, interviewees and
    # survey respondents apart.
    assert by_place["Fernmouth"][names["trust_relationships"]] == (
        "1 interviewee, 1 survey respondent · 1 barrier / 1 enabler")
    assert by_place["All places"][names["trust_relationships"]] == (
        "2 interviewees, 1 survey respondent · 1 barrier / 2 enabler")
    assert by_place["Fernmouth"][names["agreements_protocols"]] is None
    # The second block: the same by organisation type.
    second = [i for i, row in enumerate(rows) if row[0] == "Organisation type"]
    assert len(second) == 1
    by_org = {row[0]: dict(zip(header, row)) for row in rows[second[0] + 1 :] if row[0]}
    assert by_org["GP practice"][names["trust_relationships"]] == "1 survey respondent · 1 barrier / 0 enabler"
    assert by_org["Local authority"][names["agreements_protocols"]] == "1 interviewee · 0 barrier / 1 enabler"


def test_coded_segments_has_one_row_per_coding_with_reference(workbook, tiny_export):
    records = _records(workbook["Coded segments"])
    assert len(records) == len(tiny_export.codings) == 7
    first = records[0]
    text = tiny_export.sources.loc[0, s.TEXT]
    start, end = first["Start char"], first["End char"]
    assert text[start:end] == first["Quote"] == "The charter helped us a lot."
    # The one citation (toolkit.analysis.references), as in the dashboard and the report.
    assert first["Reference"] == (f"BK01, Brackenford, Local authority (Programme lead), interview "
                                  f"BK01_programme_lead.docx, characters {start}-{end}")
    assert first["Theme"] == "Data sharing agreements and protocols" and first["Good practice"] == "yes"
    survey = [r for r in records if r["Participant"] == "Fernmouth_R001"]
    assert len(survey) == 1 and survey[0]["Question"] == "What gets in the way?"
    assert {"Place", "Organisation type", "Role", "Source", "Speaker", "Polarity", "Confidence", "Status"} <= set(first)


def test_quotes_by_theme_take_the_strongest_balanced_across_places(tiny_export, tmp_path):
    extra = []
    for i in range(5):  # five Brackenford enablers of agreements_protocols, weaker than k1
        extra.append({"segment_key": f"x{i}", "theme": "agreements_protocols", "polarity": "enabler",
                      "confidence": 0.5 - i / 100, "rank": 1, "good_practice": False, "status": "machine",
                      "coder": "machine", "reviewed_by": None, "evidence": {}})
    k2 = tiny_export.segments[tiny_export.segments[s.SEGMENT_KEY] == "k2"]
    segments = pd.concat([tiny_export.segments] + [k2.assign(segment_key=f"x{i}") for i in range(5)], ignore_index=True)
    codings = pd.concat([tiny_export.codings, pd.DataFrame(extra)], ignore_index=True)
    data = dataclasses.replace(tiny_export, segments=segments, codings=codings)
    book = openpyxl.load_workbook(write_workbook(data, tmp_path / "q.xlsx"))
    quotes = [r for r in _records(book["Quotes by theme"]) if r["Theme"] == "Data sharing agreements and protocols"]
    assert len(quotes) == 3  # at most 3 per place, theme and polarity
    assert [q["Confidence"] for q in quotes] == [0.9, 0.5, 0.49]
    trust = [(r["Polarity"], r["Place"]) for r in _records(book["Quotes by theme"])
             if r["Theme"] == "Trust and relationships between partners"]
    assert trust == [("barrier", "Fernmouth"), ("enabler", "Brackenford"), ("enabler", "Fernmouth")]


def test_survey_summary_per_place_and_question(workbook):
    records = {r["Place"]: r for r in _records(workbook["Survey summary"])}
    assert records["Fernmouth"]["n"] == 2
    assert records["Fernmouth"]["Mean"] == 1.5
    assert records["Fernmouth"]["% disagree"] == 100 and records["Fernmouth"]["% agree"] == 0
    assert records["Brackenford"]["Mean"] == 4.5 and records["Brackenford"]["% agree"] == 100
    assert records["All places"]["n"] == 4 and records["All places"]["% agree"] == 50


def test_good_practice_lists_flagged_enablers_once_per_passage(workbook, tiny_export):
    records = _records(workbook["Good practice"])
    flagged = tiny_export.codings[tiny_export.codings[s.GOOD_PRACTICE] & (tiny_export.codings[s.POLARITY] == "enabler")]
    assert len(records) == flagged[s.SEGMENT_KEY].nunique() == 2  # the library: one row per passage, as the dashboard
    assert records[0]["Theme"] == "Information governance capacity and advice"  # codebook order


def test_good_practice_carries_researchers_curation(tiny_export, tmp_path):
    practices = pd.DataFrame([
        {"segment_key": "k3", "included": True, "theme": None, "title": "Weekly meeting", "note": "ask HM",
         "author": "ana", "created_at": "2026-03-01T10:00:00+00:00"},
        {"segment_key": "k5", "included": False, "theme": None, "title": None, "note": None, "author": "ana",
         "created_at": "2026-03-01T10:00:00+00:00"},
    ])
    data = dataclasses.replace(tiny_export, practices=practices)
    records = _records(openpyxl.load_workbook(write_workbook(data, tmp_path / "gp.xlsx"))["Good practice"])
    shown = {r["Quote"]: (r["Title"], r["Note"]) for r in records}
    assert shown == {"The charter helped us a lot.": (None, None),  # flagged by the coder (k1)
                     "We trust [PERSON_03] now, café and all.": ("Weekly meeting", "ask HM")}  # added by ana; k5 out


def test_codebook_sheet_lists_every_theme(workbook, tiny_export):
    records = _records(workbook["Codebook"])
    assert [r["Theme id"] for r in records] == list(tiny_export.codebook.ids)
    assert set(records[0]) == {"Theme id", "Name", "Definition", "Include", "Exclude"}


def test_empty_snapshot_still_writes_every_sheet_with_an_explanation(tiny_export, tmp_path):
    data = dataclasses.replace(
        tiny_export, codings=tiny_export.codings.iloc[0:0], likert=tiny_export.likert.iloc[0:0]
    )
    book = openpyxl.load_workbook(write_workbook(data, tmp_path / "empty.xlsx"))
    assert book.sheetnames == list(SHEETS)
    for title in ("Framework matrix", "Coded segments", "Quotes by theme", "Survey summary", "Good practice"):
        rows = _rows(book[title])
        assert rows[0] == ("Note",) and len(rows) == 2, title
        assert rows[1][0], title
    assert "coding" in _rows(book["Coded segments"])[1][0]
    assert "survey" in _rows(book["Survey summary"])[1][0].lower()
    assert len(_rows(book["Codebook"])) == 13


# --------------------------------------------------------------------------- long and matrix
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_long_round_trips(tiny_export, tmp_path, fmt):
    path = write_long(tiny_export, tmp_path / f"codings.{fmt}", fmt=fmt)
    back = pd.read_csv(path, encoding=CSV_ENCODING) if fmt == "csv" else pd.read_parquet(path)
    assert len(back) == len(tiny_export.codings)
    assert list(back.columns) == list(long_frame(tiny_export).columns)
    expected = {s.SEGMENT_KEY, s.PLACE, s.THEME, s.POLARITY, s.CONFIDENCE, s.GOOD_PRACTICE, s.TEXT, "participant"}
    assert expected <= set(back.columns)
    assert back[s.TEXT].tolist() == long_frame(tiny_export)[s.TEXT].tolist()
    assert "We trust [PERSON_03] now, café and all." in set(back[s.TEXT])
    assert set(back["participant"]) == {"BK01", "FM01", "Fernmouth_R001"}


def test_csv_has_a_byte_order_mark(tiny_export, tmp_path):
    raw = write_long(tiny_export, tmp_path / "codings.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert "café".encode() in raw


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_matrix_round_trips_as_zero_one(tiny_export, tmp_path, fmt):
    path = write_matrix(tiny_export, tmp_path / f"matrix.{fmt}", fmt=fmt)
    back = pd.read_csv(path, encoding=CSV_ENCODING) if fmt == "csv" else pd.read_parquet(path)
    ids = list(tiny_export.codebook.ids)
    assert len(back) == len(tiny_export.segments) == 6
    assert list(back.columns[-(len(ids) + 3):]) == ids + ["barrier", "enabler", "neutral"]
    flags = back[ids + ["barrier", "enabler", "neutral"]]
    assert set(pd.unique(flags.to_numpy().ravel())) == {0, 1}
    k5 = back.set_index(s.SEGMENT_KEY).loc["k5"]
    assert (k5["ig_capacity_advice"], k5["trust_relationships"], k5["enabler"], k5["barrier"]) == (1, 1, 1, 0)
    assert int(flags[ids].to_numpy().sum()) == len(tiny_export.codings)


def test_matrix_keeps_uncoded_segments_as_zeros(tiny_export):
    data = dataclasses.replace(tiny_export, codings=tiny_export.codings.iloc[0:0])
    frame = matrix_frame(data)
    assert len(frame) == 6 and int(frame[list(tiny_export.codebook.ids)].to_numpy().sum()) == 0
    assert len(long_frame(data)) == 0


# --------------------------------------------------------------------------- paths and privacy
@pytest.mark.parametrize(
    "write, name",
    [(write_workbook, "study.xlsx"), (write_long, "codings.csv"), (write_matrix, "matrix.csv")],
)
def test_missing_folder_is_a_clear_error(tiny_export, tmp_path, write, name):
    target = tmp_path / "no_such_folder" / name
    with pytest.raises(ExportPathError, match="no_such_folder does not exist. Create it first"):
        write(tiny_export, target)
    assert not target.parent.exists()


def test_bad_targets_are_clear_errors(tiny_export, tmp_path):
    with pytest.raises(ExportPathError, match="is a folder"):
        write_workbook(tiny_export, tmp_path)
    with pytest.raises(ExportPathError, match=r"must end in \.xlsx"):
        write_workbook(tiny_export, tmp_path / "study.csv")
    with pytest.raises(ExportPathError, match="Unknown table format 'json'"):
        write_long(tiny_export, tmp_path / "codings.json", fmt="json")
    assert issubclass(ExportPathError, ToolkitError)
    assert list(tmp_path.iterdir()) == []


def test_writes_replace_atomically_and_leave_no_temporary_files(tiny_export, tmp_path):
    target = tmp_path / "study.xlsx"
    target.write_bytes(b"old")
    write_workbook(tiny_export, target)
    write_long(tiny_export, tmp_path / "c.csv")
    write_matrix(tiny_export, tmp_path / "m.parquet", fmt="parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv", "m.parquet", "study.xlsx"]
    assert openpyxl.load_workbook(target).sheetnames == list(SHEETS)


def test_no_output_holds_text_that_is_not_in_the_snapshot(tiny_export, tmp_path):
    book = openpyxl.load_workbook(write_workbook(tiny_export, tmp_path / "study.xlsx"))
    tables = [
        pd.read_csv(write_long(tiny_export, tmp_path / "l.csv"), encoding=CSV_ENCODING),
        pd.read_csv(write_matrix(tiny_export, tmp_path / "m.csv"), encoding=CSV_ENCODING),
        pd.read_parquet(write_long(tiny_export, tmp_path / "l.parquet", fmt="parquet")),
        pd.read_parquet(write_matrix(tiny_export, tmp_path / "m.parquet", fmt="parquet")),
    ]
    everything = _all_text(book) + "\n".join(t.to_csv() for t in tables)
    assert RAW_NAME not in everything
    # Every quote anywhere is a segment of the snapshot, word for word.
    snapshot = set(tiny_export.segments[s.TEXT])
    for title in ("Coded segments", "Quotes by theme", "Good practice"):
        assert {r["Quote"] for r in _records(book[title])} <= snapshot, title
    for table in tables:
        assert set(table[s.TEXT]) <= snapshot


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_neutralised(tiny_export, tmp_path):
    from dataclasses import replace

    segments = tiny_export.segments.copy()
    segments.loc[segments["segment_key"] == "k1", "text"] = '=HYPERLINK("http://example.invalid","x")'
    segments.loc[segments["segment_key"] == "k2", "text"] = "- the systems don't talk"
    data = replace(tiny_export, segments=segments)
    written = write_long(data, tmp_path / "codings.csv")
    text = written.read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text and "'- the systems" in text
    assert '\n=HYPERLINK' not in text and ',=HYPERLINK' not in text
