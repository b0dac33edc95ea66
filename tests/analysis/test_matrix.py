"""The framework matrix counts people, interviewees and survey respondents apart, and keeps its segments."""

from __future__ import annotations

import pandas as pd
import pytest

from toolkit import schema as s
from toolkit.analysis.columns import INTERVIEWEES, PARTICIPANT, PARTICIPANTS, SEGMENT_KEYS, SURVEY_RESPONDENTS
from toolkit.analysis.matrix import cell_text, cooccurring_participants, framework_matrix, matrix_cells, theme_counts
from toolkit.analysis.references import with_who
from toolkit.errors import ConfigError


def _codings() -> pd.DataFrame:
    """A talkative interviewee in Northfold (8 barrier segments) and three quiet people in Southmere."""
    rows = [{s.SEGMENT_KEY: f"n{i}", s.THEME: "trust", s.POLARITY: s.BARRIER, s.PLACE: "Northfold",
             s.PARTICIPANT_ID: "NF01", s.PATH: "Northfold/NF01.txt"} for i in range(8)]
    rows += [
        {s.SEGMENT_KEY: "s1", s.THEME: "trust", s.POLARITY: s.ENABLER, s.PLACE: "Southmere", s.PARTICIPANT_ID: "SM01",
         s.PATH: "Southmere/SM01.txt"},
        {s.SEGMENT_KEY: "s2", s.THEME: "trust", s.POLARITY: s.ENABLER, s.PLACE: "Southmere", s.PARTICIPANT_ID: None,
         s.PATH: "Southmere/unnamed interview.txt"},  # no participant id: the interview counts as one person
        {s.SEGMENT_KEY: "s3", s.THEME: "trust", s.POLARITY: s.BARRIER, s.PLACE: "Southmere",
         s.RESPONDENT_KEY: "SM_R001", s.TEXT_ANSWER_ID: 1, s.PATH: "Southmere/survey.xlsx"},
        {s.SEGMENT_KEY: "s3", s.THEME: "consent", s.POLARITY: s.BARRIER, s.PLACE: "Southmere",
         s.RESPONDENT_KEY: "SM_R001", s.TEXT_ANSWER_ID: 1, s.PATH: "Southmere/survey.xlsx"},
        {s.SEGMENT_KEY: "n9", s.THEME: "consent", s.POLARITY: s.NEUTRAL, s.PLACE: None, s.PARTICIPANT_ID: "XX01",
         s.PATH: "XX01.txt"},
    ]
    return with_who(pd.DataFrame(rows))


def test_people_not_sentences_and_interviewees_apart_from_survey_respondents():
    matrix = framework_matrix(_codings(), rows=s.PLACE, values=["Northfold", "Southmere"], themes=["trust", "consent"],
                              total="All places").set_index([s.PLACE, s.THEME])
    north, south = matrix.loc[("Northfold", "trust")], matrix.loc[("Southmere", "trust")]
    assert (north[PARTICIPANTS], north[INTERVIEWEES], north[SURVEY_RESPONDENTS], north[s.BARRIER]) == (1, 1, 0, 8)
    assert (south[PARTICIPANTS], south[INTERVIEWEES], south[SURVEY_RESPONDENTS]) == (3, 2, 1)
    assert (south[s.BARRIER], south[s.ENABLER]) == (1, 2)
    assert cell_text(north) == "1 interviewee · 8 barrier / 0 enabler"
    assert cell_text(south) == "2 interviewees, 1 survey respondent · 1 barrier / 2 enabler"
    total = matrix.loc[("All places", "trust")]
    assert (total[INTERVIEWEES], total[SURVEY_RESPONDENTS], len(total[SEGMENT_KEYS])) == (3, 1, 11)
    # a place nobody recorded still shows, last but before the total; nothing is dropped
    assert list(dict.fromkeys(matrix.index.get_level_values(0))) == [
        "Northfold", "Southmere", "(not recorded)", "All places"]
    assert matrix.loc[("(not recorded)", "consent"), s.NEUTRAL] == 1


def test_matrix_by_case_and_its_wide_table():
    matrix = framework_matrix(_codings(), rows=PARTICIPANT, themes=["trust", "consent"])
    wide = matrix_cells(matrix, PARTICIPANTS)
    assert wide.loc["NF01", "trust"] == 1 and wide.loc["SM_R001", "consent"] == 1
    assert wide.loc["Southmere/unnamed interview.txt", "trust"] == 1
    with pytest.raises(ConfigError, match="A matrix cell shows one of"):
        matrix_cells(matrix, "people")
    with pytest.raises(ConfigError, match="rows are one of place, organisation_type, participant, role, sector; not 'speaker'"):
        framework_matrix(_codings(), rows="speaker")


def test_theme_counts_and_people_behind_a_co_occurrence():
    counts = theme_counts(_codings(), by=s.PLACE, themes=["trust", "consent"])
    south = counts[(counts[s.PLACE] == "Southmere") & (counts[s.THEME] == "trust") & (counts[s.POLARITY] == s.ENABLER)]
    assert south[["segments", PARTICIPANTS, INTERVIEWEES, SURVEY_RESPONDENTS]].values.tolist() == [[2, 2, 2, 0]]
    assert cooccurring_participants(_codings(), "trust", "consent") == ["SM_R001"]
