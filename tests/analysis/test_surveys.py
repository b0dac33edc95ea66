"""Likert percentages are read on each question's STORED scale, never on the answers observed."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from tests.analysis.conftest import NOBODY_CHOSE_FIVE, SATISFIED, SEVEN_POINT
from toolkit import api
from toolkit import schema as s
from toolkit.analysis.columns import AGREE, DISAGREE, MEAN, N_ANSWERS, NEUTRAL_ANSWER, OFF_SCALE, SCALE_POINTS
from toolkit.analysis.surveys import likert_direction, likert_percentages
from toolkit.export.data import load_export_data
from toolkit.export.report import Table, build_report
from toolkit.export.tables import write_workbook


def _by_question(frame: pd.DataFrame) -> dict[str, dict]:
    return {r[s.QUESTION_TEXT]: r for r in frame.to_dict("records")}


def test_a_five_point_question_where_nobody_chose_five_is_still_reported(survey_study):
    pct = _by_question(api.open_study(survey_study).likert_percentages())
    # Before: the scale was taken from the highest answer (4, an even "scale"), and the question vanished.
    assert NOBODY_CHOSE_FIVE in pct
    row = pct[NOBODY_CHOSE_FIVE]
    assert (row[DISAGREE], row[NEUTRAL_ANSWER], row[AGREE], row[N_ANSWERS]) == (50.0, 25.0, 25.0, 4)
    assert row[SCALE_POINTS] == 5 and row[MEAN] == 2.5


def test_three_four_five_on_a_seven_point_scale_are_disagree_neutral_agree(survey_study):
    row = _by_question(api.open_study(survey_study).likert_percentages())[SEVEN_POINT]
    # Before: 3/4/5 read on a 1-5 "scale" came out as 33% neutral, 67% agree.
    assert [round(row[d], 1) for d in (DISAGREE, NEUTRAL_ANSWER, AGREE)] == [33.3, 33.3, 33.3]
    assert (row[N_ANSWERS], row[SCALE_POINTS], row[MEAN]) == (3, 7, 4.0)


def test_answers_off_the_scale_are_counted_apart(survey_study):
    row = _by_question(api.open_study(survey_study).likert_percentages())[SATISFIED]
    assert (round(row[AGREE], 1), round(row[DISAGREE], 1), row[N_ANSWERS], row[OFF_SCALE]) == (66.7, 33.3, 3, 1)
    assert row[MEAN] == pytest.approx(11 / 3)  # positions 4, 5, 2 on the one 5-point scale


def test_the_report_and_the_workbook_use_the_stored_scale_too(survey_study, tmp_path):
    study = api.open_study(survey_study)
    data = load_export_data(study.config, study.store)
    tables = {b.caption: b for b in build_report(data) if isinstance(b, Table)}
    seven = tables[f"Survey: \u201c{SEVEN_POINT}\u201d"]
    assert seven.rows == (("Fernmouth", "33%", "33%", "33%", "3"),)
    assert f"Survey: \u201c{NOBODY_CHOSE_FIVE}\u201d" in tables
    book = openpyxl.load_workbook(write_workbook(data, tmp_path / "s.xlsx"))
    rows = list(book["Survey summary"].iter_rows(values_only=True))
    records = [dict(zip(rows[0], r)) for r in rows[1:]]
    five = next(r for r in records if r["Question"] == NOBODY_CHOSE_FIVE and r["Place"] == "Fernmouth")
    assert (five["Scale points"], five["n"], five["% disagree"], five["% neutral"], five["% agree"]) == (
        5, 4, 50, 25, 25)


@pytest.mark.parametrize(
    ("value", "points", "label", "expected"),
    [
        (3, 7, "3", "Disagree"), (4, 7, "4", "Neutral"), (5, 7, "5", "Agree"),
        (3, 5, "3", "Neutral"), (4, 5, "4", "Agree"),
        (2, 4, "Disagree", "Disagree"), (3, 4, "Agree", "Agree"),  # an even scale has no middle point
        (None, None, "Neither agree nor disagree", "Neutral"),  # no stored scale: the label decides
        (5, None, "Strongly agree", "Agree"),
        (None, 5, "Don't know", None), (9, 5, "9", None), (4, None, "4", None),  # nothing to place it on
    ],
)
def test_direction_of_one_answer(value, points, label, expected):
    assert likert_direction(value, points=points, label=label) == expected


def test_percentages_have_a_total_row_and_survive_a_frame_without_scales():
    likert = pd.DataFrame([
        {s.PLACE: "A", s.QUESTION_TEXT: "q", s.LABEL: "Agree", s.VALUE: 4},
        {s.PLACE: "B", s.QUESTION_TEXT: "q", s.LABEL: "Disagree", s.VALUE: 2},
        {s.PLACE: None, s.QUESTION_TEXT: "q", s.LABEL: "Don't know", s.VALUE: None},
    ])
    table = likert_percentages(likert, total="All places").set_index(s.PLACE)
    assert list(table.index) == ["(not recorded)", "A", "B", "All places"]
    assert table.loc["(not recorded)", N_ANSWERS] == 0 and table.loc["(not recorded)", OFF_SCALE] == 1
    assert table.loc["All places", [AGREE, DISAGREE, N_ANSWERS, OFF_SCALE]].tolist() == [50.0, 50.0, 2, 1]
    assert likert_percentages(likert.iloc[0:0]).empty
