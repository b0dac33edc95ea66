"""The framework matrix as researchers know it: cases × themes and sub-themes, summaries, references, people."""

from __future__ import annotations

import pandas as pd
import pytest

from toolkit import schema as s
from toolkit.analysis.columns import PARTICIPANT
from toolkit.analysis.matrix import framework_cell, framework_matrix, theme_columns
from toolkit.errors import InputDataError

TRUST = "trust_relationships"


def test_a_summary_written_for_a_participant_is_in_their_cell_with_its_references(study):
    study.add_summary(row_dimension="participant", row_value="BK01", theme=TRUST,
                      text="Trust rests on the weekly meeting with the hub.", author="ana")
    matrix = study.framework_matrix(rows="participant").set_index([PARTICIPANT, s.THEME])
    cell = matrix.loc[("BK01", TRUST)]
    assert cell[s.SUMMARY] == "Trust rests on the weekly meeting with the hub."
    assert cell["summary_author"] == "ana" and cell["summary_at"]
    assert cell["segment_keys"] == ["k3"]
    assert cell["references"] == ["12:34 \u201cWe trust [PERSON_03] now, and we meet\u2026\u201d"]
    assert pd.isna(matrix.loc[("FM01", TRUST), s.SUMMARY])  # one cell's summary, not the row's
    # every interviewee is a row, in place order, even one with nothing coded on a theme
    assert list(dict.fromkeys(matrix.index.get_level_values(0)))[:2] == ["BK01", "FM01"]


def test_the_latest_summary_of_a_cell_wins_and_a_bad_row_dimension_is_refused(study):
    study.add_summary(row_dimension="setting", row_value="rural", theme=TRUST, text="first", author="ana")
    study.add_summary(row_dimension="setting", row_value="rural", theme=TRUST, text="second", author="bo")
    matrix = study.framework_matrix(rows="setting").set_index(["setting", s.THEME])
    assert (matrix.at[("rural", TRUST), s.SUMMARY], matrix.at[("rural", TRUST), "summary_author"]) == ("second", "bo")
    with pytest.raises(InputDataError, match="row_dimension is one of .*setting.*not 'colour'"):
        study.add_summary(row_dimension="colour", row_value="red", theme=TRUST, text="x", author="ana")


def test_a_cell_reads_like_nvivos_summary_then_references():
    row = {s.SUMMARY: "Trust is built in the clinic.", "summary_author": "ana", "summary_at": "2026-03-01T10:00:00",
           "segment_keys": ["a", "b", "c"], "references": ["1:00 \u201cx\u201d", "2:00 \u201cy\u201d", "3:00 \u201cz\u201d"],
           s.BARRIER: 1, s.ENABLER: 2, s.NEUTRAL: 0, "interviewees": 2, "survey_respondents": 1}
    text = framework_cell(row, people=True, polarity_of={"a": s.ENABLER, "b": s.BARRIER}, max_references=2)
    assert text.splitlines() == [
        "Trust is built in the clinic. [ana, 2026-03-01]",
        "People: 2 interviewees, 1 survey respondent",
        "3 references (1 barrier, 2 enabler):",
        "\u2022 E 1:00 \u201cx\u201d",
        "\u2022 B 2:00 \u201cy\u201d",
        "\u2022 and 1 more (see Coded segments)",
    ]
    assert framework_cell({"segment_keys": [], "references": []}) == ""


def _codings() -> pd.DataFrame:
    rows = [("s1", "legal", s.BARRIER, "A1"), ("s2", "consent_forms", s.ENABLER, "A1"),
            ("s3", "consent_forms", s.BARRIER, "B1"), ("s4", "dpia", s.ENABLER, "B1")]
    return pd.DataFrame([{s.SEGMENT_KEY: k, s.THEME: t, s.POLARITY: p, PARTICIPANT: who, s.PLACE: "P",
                          "source_kind": "transcript"} for k, t, p, who in rows])


def test_sub_themes_follow_their_theme_and_can_roll_up():
    parents = {"consent_forms": "legal", "dpia": "legal", "legal": None, "trust": None}
    assert theme_columns(["legal", "trust", "consent_forms", "dpia"], parents) == ["legal", "consent_forms", "dpia",
                                                                                  "trust"]
    names = {"legal": "Legal basis", "consent_forms": "Consent forms", "dpia": "DPIAs", "trust": "Trust"}
    exact = framework_matrix(_codings(), rows=s.PLACE, themes=["legal", "trust", "consent_forms", "dpia"],
                             theme_names=names, parents=parents).set_index(s.THEME)
    assert list(exact.index) == ["legal", "consent_forms", "dpia", "trust"]
    assert exact.at["consent_forms", "parent"] == "legal" and pd.isna(exact.at["legal", "parent"])
    assert (exact.at["legal", "participants"], exact.at["legal", s.BARRIER]) == (1, 1)
    rolled = framework_matrix(_codings(), rows=s.PLACE, themes=list(names), parents=parents, roll_up=True).set_index(
        s.THEME)
    assert (rolled.at["legal", "participants"], rolled.at["legal", s.BARRIER], rolled.at["legal", s.ENABLER]) == (2, 2, 2)
    assert rolled.at["consent_forms", "participants"] == 2  # a sub-theme's own cells are unchanged
