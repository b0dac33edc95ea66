"""Small studies built by hand for the read model's tests (no models)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.dashboard.conftest import build_tiny_study
from toolkit import schema as s
from toolkit.store import Store

SEVEN = [str(i) for i in range(1, 8)]
FIVE = [str(i) for i in range(1, 6)]
SATISFACTION = ["Very dissatisfied", "Dissatisfied", "Neither satisfied nor dissatisfied", "Satisfied",
                "Very satisfied"]
NOBODY_CHOSE_FIVE = "Sharing works well here (1-5)"
SEVEN_POINT = "Partners trust each other (1-7)"
SATISFIED = "How satisfied are you with IG advice?"


def build_survey_study(folder: Path) -> Path:
    """A study whose one survey has Likert questions with stored scales (as ingestion writes them).

    - a 1-5 question on which nobody chose 5 (answers 1, 2, 3, 4);
    - a 1-7 question answered 3, 4 and 5 only;
    - a satisfaction question answered Satisfied, Very satisfied, Dissatisfied and "Don't know".
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "study.toml").write_text('[study]\nname = "Survey study"\nplaces = ["Fernmouth"]\n', encoding="utf-8")
    store = Store(f"sqlite:///{folder / 'store' / 'study.sqlite'}")
    questions = pd.DataFrame([
        {s.QUESTION_KEY: "q1", s.POSITION: 1, s.QUESTION_TEXT: NOBODY_CHOSE_FIVE, s.KIND: s.Q_LIKERT, s.SCALE: FIVE},
        {s.QUESTION_KEY: "q2", s.POSITION: 2, s.QUESTION_TEXT: SEVEN_POINT, s.KIND: s.Q_LIKERT, s.SCALE: SEVEN},
        {s.QUESTION_KEY: "q3", s.POSITION: 3, s.QUESTION_TEXT: SATISFIED, s.KIND: s.Q_LIKERT, s.SCALE: SATISFACTION},
    ])
    respondents = pd.DataFrame([
        {s.RESPONDENT_KEY: f"Fernmouth_R00{i}", s.ROW_NUMBER: i + 1, s.PLACE: "Fernmouth",
         s.ORGANISATION_TYPE: "GP practice", s.ROLE: "GP"} for i in (1, 2, 3, 4)
    ])
    answers = [("q1", i, str(v), v) for i, v in zip((1, 2, 3, 4), (1, 2, 3, 4))]
    answers += [("q2", i, str(v), v) for i, v in zip((1, 2, 3), (3, 4, 5))]
    answers += [("q3", 1, "Satisfied", 4), ("q3", 2, "Very satisfied", 5), ("q3", 3, "Dissatisfied", 2),
                ("q3", 4, "Don't know", None)]
    likert = pd.DataFrame([{s.RESPONDENT_KEY: f"Fernmouth_R00{i}", s.QUESTION_KEY: q, s.LABEL: label, s.VALUE: value}
                           for q, i, label, value in answers])
    with store.transaction() as conn:
        survey_id = store.insert_source(conn, {s.PATH: "Fernmouth/survey.xlsx", s.PLACE: "Fernmouth",
                                               s.KIND: "survey", s.FORMAT: "xlsx", s.CONTENT_HASH: "survey"})
        store.insert_survey(conn, survey_id, questions, respondents, likert, pd.DataFrame())
    store.close()
    return folder


@pytest.fixture
def survey_study(tmp_path) -> Path:
    return build_survey_study(tmp_path / "survey")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """The dashboard tests' tiny coded study (two interviews, one survey)."""
    return build_tiny_study(tmp_path_factory.mktemp("tiny") / "study")
