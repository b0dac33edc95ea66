"""The findings report: Word and HTML, content, escaping, quote balance, errors."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pandas as pd
import pytest
from docx import Document

from toolkit import schema as s
from toolkit.errors import ConfigError, ToolkitError
from toolkit.export.report import (
    MACHINE_MARK,
    select_quotes,
    survey_percentages,
    write_report,
)

DATE = dt.date(2026, 3, 2)
SECTIONS = ("Summary", "Key findings", "Findings by theme", "From barrier to remedy", "Practices that helped",
            "Survey results", "Methods", "Data and sampling", "Corpus", "Analysts", "Codebook", "Coding method",
            "Coder agreement", "Limitations", "Run log", "Appendix: memos")
CHARTER = "The charter helped us a lot."
CHARTER_REF = "BK01, Brackenford, Local authority"


def _docx_lines(path) -> tuple[list[str], list[str], list[str]]:
    """Headings, paragraphs and table cell texts of a Word file."""
    doc = Document(str(path))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    paragraphs = [p.text for p in doc.paragraphs]
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return headings, paragraphs, cells


def _theme_names(data) -> list[str]:
    used = set(data.codings[s.THEME])
    return [t.name for t in data.codebook.themes if t.id in used]


def _with_script_quote(data):
    segments = data.segments.copy()
    segments.loc[segments[s.SEGMENT_KEY] == "k2", s.TEXT] = '<script>alert("x")</script> & the systems'
    return dataclasses.replace(_confident(data), segments=segments)


def _confident(data):
    """Unreviewed quotes appear only when the machine is sure of them (issue 14): make k2 and k6 so."""
    codings = data.codings.copy()
    codings.loc[codings[s.SEGMENT_KEY].isin(["k2", "k6"]), s.CONFIDENCE] = 0.95
    return dataclasses.replace(data, codings=codings)


# --------------------------------------------------------------------------- Word
def test_docx_has_sections_themes_quotes_and_references(tiny_export, tmp_path):
    path = write_report(_confident(tiny_export), tmp_path / "report.docx", report_date=DATE)

    headings, paragraphs, cells = _docx_lines(path)
    for section in SECTIONS:
        assert section in headings
    assert "Findings report: Tiny study" in headings
    for name in _theme_names(tiny_export):
        assert f"Theme: {name}" in headings
    assert "Theme: Legal basis and consent" not in headings  # no codings: skipped
    assert any("2026-03-02" in p for p in paragraphs)
    assert any("pseudonymised" in p for p in paragraphs)
    assert any("2 of them have been reviewed by a person; 4 carry a machine coding only" in p for p in paragraphs)

    quote = paragraphs.index(f"\u201c{CHARTER}\u201d")
    assert CHARTER_REF in paragraphs[quote + 1]
    assert MACHINE_MARK not in paragraphs[quote + 1]  # accepted by a person
    gmc = paragraphs.index("\u201cGPs are scared of the GMC.\u201d")
    assert MACHINE_MARK in paragraphs[gmc + 1]
    survey_ref = paragraphs.index("\u201cNobody trusts the forms.\u201d")
    assert "survey respondent Fernmouth_R001, Fernmouth, GP practice" in paragraphs[survey_ref + 1]

    assert "Partners in my area trust each other" in headings
    assert "100%" in cells  # Brackenford all agree
    assert "Table Grid" in {t.style.name for t in Document(str(path)).tables}


def test_docx_people_table_counts_people_reporting_barriers_and_enablers_by_place(tiny_export, tmp_path):
    path = write_report(tiny_export, tmp_path / "report.docx")
    doc = Document(str(path))
    trust = next(
        t for t in doc.tables
        if t.rows[0].cells[0].text == "Place" and [c.text for c in t.rows[-1].cells] == [
            "All places", "1 survey respondent", "2 interviewees", "1/2/0"]
    )
    rows = {r.cells[0].text: [c.text for c in r.cells[1:]] for r in trust.rows[1:]}
    assert rows["Brackenford"] == ["nobody", "1 interviewee", "0/1/0"]
    assert rows["Fernmouth"] == ["1 survey respondent", "1 interviewee", "1/1/0"]


# --------------------------------------------------------------------------- HTML
def test_html_has_the_same_content_and_is_self_contained(tiny_export, tmp_path):
    path = write_report(tiny_export, tmp_path / "report.html", report_date=DATE)
    page = path.read_text(encoding="utf-8")

    assert page.startswith("<!DOCTYPE html>")
    for section in SECTIONS:
        assert re.search(rf"<h[1-6]>{re.escape(section)}</h[1-6]>", page)
    for name in _theme_names(tiny_export):
        assert f"<h3>Theme: {name}</h3>" in page
    assert CHARTER in page and CHARTER_REF in page
    assert page.count('class="machine"') >= 1
    assert "<table>" in page and "plotly" in page.lower()
    assert not re.search(r"""src\s*=\s*["']?(https?:)?//""", page, flags=re.IGNORECASE)
    assert not re.search(r"""<link[^>]+href\s*=\s*["']?https?://""", page, flags=re.IGNORECASE)
    assert page.count('id="survey-chart-1"') == 1


def test_html_escapes_interview_text(tiny_export, tmp_path):
    data = _with_script_quote(tiny_export)
    page = write_report(data, tmp_path / "report.html").read_text(encoding="utf-8")

    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; the systems" in page
    assert '<script>alert("x")</script>' not in page


def test_html_is_deterministic_for_a_fixed_date(tiny_export, tmp_path):
    a = write_report(tiny_export, tmp_path / "a.html", report_date=DATE).read_text(encoding="utf-8")
    b = write_report(tiny_export, tmp_path / "b.html", report_date=DATE).read_text(encoding="utf-8")
    assert a == b


def test_fmt_argument_overrides_the_suffix(tiny_export, tmp_path):
    path = write_report(tiny_export, tmp_path / "report.out", fmt="html")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


# --------------------------------------------------------------------------- errors and edge cases
def test_unsupported_format_is_a_clear_toolkit_error(tiny_export, tmp_path):
    with pytest.raises(ConfigError, match=r"report\.pdf: unsupported report format 'pdf'.*docx, html"):
        write_report(tiny_export, tmp_path / "report.pdf", fmt="pdf")
    with pytest.raises(ToolkitError, match=r"cannot tell the report format from the suffix '\.pdf'"):
        write_report(tiny_export, tmp_path / "report.pdf")
    assert not list(tmp_path.iterdir())


def test_missing_folder_is_a_clear_error(tiny_export, tmp_path):
    with pytest.raises(ConfigError, match=r"report\.docx: the folder .*nowhere does not exist"):
        write_report(tiny_export, tmp_path / "nowhere" / "report.docx")
    with pytest.raises(ConfigError, match="is a folder"):
        write_report(tiny_export, tmp_path, fmt="html")


def test_rewrite_replaces_the_file_and_leaves_no_temporary_files(tiny_export, tmp_path):
    target = tmp_path / "report.html"
    target.write_text("old", encoding="utf-8")
    write_report(tiny_export, target)
    assert target.read_text(encoding="utf-8") != "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


@pytest.mark.parametrize("suffix", [".docx", ".html"])
def test_empty_codings_say_so(tiny_export, tmp_path, suffix):
    data = dataclasses.replace(tiny_export, codings=tiny_export.codings.iloc[0:0], human_codings=pd.DataFrame())
    path = write_report(data, tmp_path / f"report{suffix}")
    if suffix == ".docx":
        _, paragraphs, _ = _docx_lines(path)
        text = "\n".join(paragraphs)
    else:
        text = path.read_text(encoding="utf-8")
    assert "No segments have been coded yet" in text
    assert "No codings yet" in text
    assert "No passages have been flagged as good practice yet" in text
    assert "no coder agreement to report yet" in text
    assert "Theme: " not in text


def test_no_columns_at_all_still_writes(tiny_export, tmp_path):
    data = dataclasses.replace(tiny_export, codings=pd.DataFrame(), likert=pd.DataFrame(), runs=pd.DataFrame())
    text = write_report(data, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "No segments have been coded yet" in text and "no survey agreement-scale answers" in text


# --------------------------------------------------------------------------- pieces
def _candidates(n_places=3, per_place=4):
    rows = []
    for p in range(n_places):
        for i in range(per_place):
            rows.append({
                s.SEGMENT_KEY: f"p{p}s{i}", s.PLACE: f"Place{p}", s.PARTICIPANT_ID: f"P{p}-{i // 2}",
                s.RESPONDENT_KEY: None, s.PATH: f"f{p}.txt", s.START_CHAR: i, s.STATUS: "machine",
                s.CONFIDENCE: 0.9 - 0.1 * p - 0.01 * i,
            })
    return pd.DataFrame(rows)


def test_select_quotes_balances_places_and_participants():
    rows = _candidates()
    rows.loc[rows[s.SEGMENT_KEY] == "p2s3", s.STATUS] = "accepted"  # weakest, but reviewed

    chosen = select_quotes(rows)

    assert len(chosen) == 6
    assert chosen.iloc[0][s.SEGMENT_KEY] == "p2s3"  # reviewed first
    assert chosen[s.PLACE].value_counts().max() == 2
    assert chosen[s.PARTICIPANT_ID].is_unique
    assert set(chosen[s.SEGMENT_KEY]) == {"p2s3", "p2s0", "p0s0", "p0s2", "p1s0", "p1s2"}


def test_select_quotes_stops_when_constraints_run_out():
    rows = _candidates(n_places=1, per_place=4)
    chosen = select_quotes(rows)
    assert list(chosen[s.SEGMENT_KEY]) == ["p0s0", "p0s2"]  # one per participant, two per place


def test_survey_percentages_by_place(tiny_export):
    likert = pd.concat([
        tiny_export.likert,
        pd.DataFrame([{s.PLACE: "Fernmouth", s.ORGANISATION_TYPE: "GP practice", s.ROLE: "GP",
                       s.RESPONDENT_KEY: "Fernmouth_R003", s.QUESTION_TEXT: "Partners in my area trust each other",
                       s.LABEL: "Neither agree nor disagree", s.VALUE: 3}]),
    ])
    table = survey_percentages(likert).set_index(s.PLACE)
    assert table.loc["Brackenford", ["Agree", "Neutral", "Disagree", "n"]].tolist() == [100.0, 0.0, 0.0, 2]
    fern = table.loc["Fernmouth"]
    assert round(fern["Disagree"], 1) == 66.7 and round(fern["Neutral"], 1) == 33.3 and fern["n"] == 3


def test_agreement_compares_machine_and_person_on_segments_both_coded(tiny_export, tmp_path):
    extra = pd.DataFrame([
        {"coding_id": 2, "segment_key": "k2", "coder": "bob", "decision": "accept", "theme": None, "polarity": None,
         "good_practice": False, "note": None, "text": None, "created_at": "2026-03-02T10:00:00+00:00"},
        {"coding_id": 3, "segment_key": "k4", "coder": "bob", "decision": "recode", "theme": "trust_relationships",
         "polarity": "barrier", "good_practice": False, "note": None, "text": None,
         "created_at": "2026-03-02T10:05:00+00:00"},
    ])
    human = pd.concat([tiny_export.human_codings, extra], ignore_index=True)
    codings = tiny_export.codings.copy()  # k4 stays the machine's in this snapshot: both coded it
    data = dataclasses.replace(tiny_export, human_codings=human, codings=codings)

    doc = Document(str(write_report(data, tmp_path / "r.docx")))
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "Person")
    rows = [[c.text for c in r.cells] for r in table.rows[1:]]
    theme_row = next(r for r in rows if r[0] == "bob" and r[1] == "theme")
    assert theme_row[2] == "2" and theme_row[3] == "50%"
    paragraphs = [p.text for p in doc.paragraphs]
    assert any("ana: no passage in this export carries both" in p for p in paragraphs)
