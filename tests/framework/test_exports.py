"""A summary written for one participant × theme through the API, the memos and the curated practices reach every
export: the workbook's framework matrix, the findings report (Word and HTML), and the REFI-QDA project, which
QualCoder's own importer receives whole (run headless by ../shared/qualcoder)."""

from __future__ import annotations

import sqlite3
import zipfile

import openpyxl
import pytest
from docx import Document
from lxml import etree

from tests.exchange import readers
from tests.framework.test_memos import write_every_kind
from toolkit import schema as s
from toolkit.exchange.refi import read_qdpx
from toolkit.export.tables import SHEETS

SUMMARY = "Trust rests on the weekly meeting at the hub; BK01 sees the barrier as largely gone."
PRACTICE = "Same-day IG answers"


@pytest.fixture
def analysed(study):
    """The tiny study after a framework analysis: a case summary, a place synthesis, memos, a curated practice."""
    study.add_summary(row_dimension="participant", row_value="BK01", theme="trust_relationships", text=SUMMARY,
                      author="ana")
    study.add_summary(row_dimension="place", row_value="All places", theme="trust_relationships",
                      text="Trust is built where people meet.", author="ana")
    write_every_kind(study)
    # a second note by the same author on the same passage: QualCoder keeps one per passage and author
    study.add_memo(scope="passage", segment_key="k5", text="Compare with the data clinic elsewhere.", author="ana")
    study.save_practice(title=PRACTICE, author="bo", place="Fernmouth", theme="ig_capacity_advice",
                        description="The ICB's IG lead answers questions the same day.", status="reviewed",
                        passages=["k5"])
    return study


def test_the_workbook_holds_the_summary_in_its_cell_the_memos_practices_and_cases(analysed, tmp_path):
    path = analysed.export("xlsx", tmp_path / "study.xlsx")[0]
    book = openpyxl.load_workbook(path, rich_text=True)
    assert book.sheetnames == list(SHEETS)
    rows = list(book["Framework matrix"].iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:2] == ["Place", "Case"] and "Setting" in header and "Years in post" in header
    bk01 = next(r for r in rows if r[1] == "BK01")
    cell = str(bk01[header.index("Trust and relationships between partners")])
    assert cell.startswith(SUMMARY + " [ana, ") and "1 reference (1 enabler):" in cell and "E 12:34" in cell
    assert bk01[header.index("Setting")] == "urban" and bk01[header.index("Years in post")] == 3
    place_rows = [r[1] for r in rows if str(r[1]).startswith("All of ")]
    assert place_rows == ["All of Brackenford", "All of Fernmouth"]
    memos = [r for r in book["Memos"].iter_rows(values_only=True)]
    assert len(memos) == 1 + 7 and {r[0] for r in memos[1:]} == set(s.MEMO_SCOPES)
    practices = {r[0]: r for r in book["Practices"].iter_rows(values_only=True)}
    assert practices[PRACTICE][1] == "reviewed" and practices[PRACTICE][2] == "bo"
    cases = list(book["Cases"].iter_rows(values_only=True))
    assert "years_in_post (number)" in cases[0] and "started (date)" in cases[0]


@pytest.mark.parametrize("suffix", [".docx", ".html"])
def test_the_report_holds_the_case_summary_synthesis_practices_remedies_and_memo_appendix(analysed, tmp_path, suffix):
    path = analysed.export("report", tmp_path / f"findings{suffix}")[0]
    if suffix == ".docx":
        doc = Document(str(path))
        text = "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows
                                                             for c in r.cells])
    else:
        import html
        import re

        text = html.unescape(re.sub(r"</?(strong|br)>", "", path.read_text(encoding="utf-8")))
    assert f"BK01 (Brackenford, Local authority, Programme lead): {SUMMARY} (ana, " in text
    assert "Trust and relationships between partners: Trust is built where people meet." in text  # key findings
    assert "All places: Trust is built where people meet." in text
    assert PRACTICE in text and "The ICB's IG lead answers questions the same day." in text
    assert "From barrier to remedy" in text and "Where it is a barrier" in text
    assert "Appendix: memos" in text and "Reading order (ana, " in text and "Ask how they manage it." in text
    assert "Data and sampling" in text and "Limitations" in text and "Analysts" in text


def test_the_refi_project_carries_the_summary_memos_practice_and_typed_case_variables(analysed, tmp_path):
    path = analysed.export("qdpx", tmp_path / "study.qdpx")[0]
    project = read_qdpx(path)
    notes = project.notes
    summary = notes[notes["text"] == SUMMARY].iloc[0]
    assert summary["target"] == "code" and "participant BK01" in summary["name"]
    assert {"Read the programme leads first.", "Ask how they manage it.", "Audio poor in the middle.",
            "Compare with the data clinic elsewhere."} <= set(notes["text"])
    on_k5 = project.codings[project.codings["note"].fillna("").str.contains("Compare with the data clinic")]
    assert len(on_k5) >= 1  # still referred to from its passage (NVivo's layout), though written as a project note
    assert notes["name"].str.startswith(f"Practice: {PRACTICE}").any()
    with zipfile.ZipFile(path) as archive:
        root = etree.fromstring(archive.read("project.qde"))
    ns = {"q": root.nsmap[None]}
    kinds = {v.get("name"): v.get("typeOfVariable") for v in root.iterfind(".//q:Variables/q:Variable", ns)}
    assert (kinds["setting"], kinds["years_in_post"], kinds["started"]) == ("Text", "Float", "Date")
    fm01 = root.find(".//q:Case[@name='FM01']", ns)
    values = {vv.find("q:VariableRef", ns).get("targetGUID"): vv[1] for vv in fm01.iterfind("q:VariableValue", ns)}
    found = {etree.QName(v).localname: v.text for v in values.values()}
    assert found["FloatValue"] == "12.5" and found["DateValue"] == "2014-09-01"


@pytest.mark.slow
def test_qualcoder_receives_the_summary_memos_and_case_attributes(analysed, tmp_path):
    path = analysed.export("qdpx", tmp_path / "framework.qdpx")[0]
    try:
        report, log = readers.qualcoder_import(path, tmp_path / "qualcoder")
    except readers.ReaderUnavailable as exc:
        pytest.skip(str(exc))
    assert report["notes_in_file"] == report["annotations_in_db"] + report["journals_in_db"]
    assert "Cannot copy" not in log
    db = sqlite3.connect(tmp_path / "qualcoder" / "framework.qda" / "data.qda")
    journals = dict(db.execute("select name, jentry from journal").fetchall())
    assert SUMMARY in journals.values() and "Key informant on the template." in journals.values()
    assert "Compare with the data clinic elsewhere." in journals.values()  # the second note on k5 by ana
    annotations = {memo for (memo,) in db.execute("select memo from annotation")}
    assert {"Ask how they manage it.", "Audio poor in the middle."} <= annotations
    types = {name: kind for name, _, kind in report["attribute_types_in_db"]}
    assert types["years_in_post"] == "numeric" and types["setting"] == "character"


def _report_data(study):
    from toolkit.export.data import load_export_data

    return load_export_data(study.config, study.store)


def test_barrier_to_remedy_names_the_machines_proposals_apart_from_curated_practices(study):
    import dataclasses

    import pandas as pd

    from toolkit.export.findings import remedy_blocks
    from toolkit.export.report_blocks import Table

    group = study.save_practice(title="Weekly meeting", author="ana", place="Brackenford",
                                theme="trust_relationships", status="reviewed", passages=["k3"])
    data = _report_data(study)
    table = data.practice_table
    proposal = table[table["group_id"] == group].assign(origin="proposed", group_id="p-machine", title="Meet weekly")
    data = dataclasses.replace(data, practice_table=pd.concat([table, proposal], ignore_index=True))
    cells = [cell for block in remedy_blocks(data) if isinstance(block, Table) for row in block.rows for cell in row]
    brackenford = next(c for c in cells if c.startswith("Brackenford: 1 reporting enabler"))
    assert "; practices: Weekly meeting; proposed from the coding, not yet reviewed: Meet weekly" in brackenford


def test_curated_practices_are_reported_strongest_status_first(study):
    from toolkit.export.findings import practice_blocks
    from toolkit.export.report_blocks import Heading

    study.save_practice(title="A candidate", author="ana", place="Fernmouth", status="candidate", passages=["k5"])
    study.save_practice(title="A confirmed one", author="ana", place="Brackenford", status="confirmed", passages=["k1"])
    study.save_practice(title="A reviewed one", author="ana", place="Brackenford", status="reviewed", passages=["k3"])
    titles = [b.text for b in practice_blocks(_report_data(study)) if isinstance(b, Heading) and b.level == 2]
    assert titles[:3] == ["A confirmed one", "A reviewed one", "A candidate"]


def test_the_methods_count_the_participant_passages_left_without_a_theme(study):
    import dataclasses

    from toolkit.export.report import build_report
    from toolkit.export.report_blocks import Para

    def notes(data) -> list[str]:
        return [b.text for b in build_report(data) if isinstance(b, Para) and "carry no theme" in b.text]

    data = _report_data(study)
    assert notes(data) == []  # every passage of the tiny study is coded
    total = data.segments["segment_key"].nunique()
    abstained = data.codings[~data.codings["segment_key"].isin(["k4", "k6"])]  # as the coder stores an abstention
    assert notes(dataclasses.replace(data, codings=abstained))[0].startswith(
        f"2 of {total} participant passages carry no theme")


def test_framework_rows_are_sized_for_the_small_references_not_left_half_empty():
    import pandas as pd
    from openpyxl import Workbook

    from toolkit.export.excel import fill_sheet

    refs = "\n".join(f"• E 1:0{i} \u201cWe meet every week and it has changed how we share…\u201d" for i in range(6))
    cell = f"Trust rests on the weekly meeting. [ana, 2026-03-02]\n6 references (6 enabler):\n{refs}"
    heights = {}
    for rich in (False, True):
        sheet = Workbook().active
        fill_sheet(sheet, [pd.DataFrame({"Case": ["BK01"], "Trust": [cell]})], set(), narrow={"Trust": 42},
                   rich=rich)
        heights[rich] = sheet.row_dimensions[2].height
    assert heights[True] < heights[False]  # 9 pt references: fewer, lower lines
    assert heights[True] >= 15 + 12 * 7  # still every line: the summary, the count and six references


def test_the_workbooks_barrier_to_remedy_sheet_keeps_proposals_in_their_own_column(study, tmp_path):
    import dataclasses

    import pandas as pd

    from toolkit.export.tables import write_workbook

    group = study.save_practice(title="Weekly meeting", author="ana", place="Brackenford",
                                theme="trust_relationships", status="reviewed", passages=["k3"])
    data = _report_data(study)
    table = data.practice_table
    proposal = table[table["group_id"] == group].assign(origin="proposed", group_id="p-machine", title="Meet weekly")
    data = dataclasses.replace(data, practice_table=pd.concat([table, proposal], ignore_index=True))
    rows = list(openpyxl.load_workbook(write_workbook(data, tmp_path / "w.xlsx"))["Barrier to remedy"]
                .iter_rows(values_only=True))
    header = list(rows[0])
    row = next(r for r in rows[1:] if r[header.index("What another place reports")] == "Brackenford")
    assert row[header.index("Practices there")] == "Weekly meeting"
    assert row[header.index("Proposed there, not yet reviewed")] == "Meet weekly"
