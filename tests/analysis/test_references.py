"""One citation per segment: the dashboard, the workbook and the findings report cite a quote identically."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import APP
from toolkit import api
from toolkit.analysis.references import reference, with_references
from toolkit.export.data import load_export_data
from toolkit.export.report import Quote, build_report
from toolkit.export.tables import write_workbook

CITED = {
    "k3": "BK01, Brackenford, Local authority (Programme lead), interview 12:34",  # a timestamped turn
    "k4": "FM01, Fernmouth, Integrated care board (IG lead), interview FM01_icb.vtt, characters",  # no times
    "k6": "survey respondent Fernmouth_R001, Fernmouth, GP practice (GP), survey answer to "
          "\u201cWhat gets in the way?\u201d",
}


def test_the_dashboard_the_workbook_and_the_report_cite_a_segment_identically(tiny, tmp_path, monkeypatch):
    from dashboards.access import SESSION_KEY
    from toolkit.auth import User

    study = api.open_study(tiny)
    # reviewed, so the report may quote them (it quotes reviewed or confidently coded passages only)
    study.record_decisions(list(CITED), decision="accept", coder="ana")
    data = load_export_data(study.config, study.store)
    book = openpyxl.load_workbook(write_workbook(data, tmp_path / "study.xlsx"))
    rows = list(book["Coded segments"].iter_rows(values_only=True))
    workbook = [dict(zip(rows[0], r)) for r in rows[1:]]
    report = [b for b in build_report(data) if isinstance(b, Quote)]

    monkeypatch.delenv("TOOLKIT_AUTH", raising=False)
    monkeypatch.setenv(api.STUDY_ENV, str(tiny))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state[SESSION_KEY] = User("ana", "researcher")
    at.run()
    at.switch_page("views/quotes.py")
    at.run()

    for key, expected in CITED.items():
        segment = study.segment(key)
        cited = study.reference(key)
        assert cited.startswith(expected)
        assert {r["Reference"] for r in workbook if r["Quote"] == segment["text"]} == {cited}
        assert {q.reference for q in report if q.text == segment["text"]} == {cited}
        at.text_input(key="q-search").set_value(segment["text"]).run()
        assert not at.exception, at.exception
        assert [c.value for c in at.code] == [cited]  # the quote card's copyable reference


def test_a_hand_made_frame_is_cited_like_a_stored_one():
    frame = with_references(__import__("pandas").DataFrame([
        {"segment_key": "a", "participant_id": None, "respondent_key": None, "path": "Northfold/interview 3.txt",
         "place": "Northfold", "start_char": 5, "end_char": 40, "text": "x"},
        {"segment_key": "b", "respondent_key": "N_R002", "text_answer_id": 7, "place": "Northfold",
         "question_text": None, "text": "y"},
    ]))
    assert frame["reference"].tolist() == [
        "Northfold/interview 3.txt, Northfold, interview interview 3.txt, characters 5-40",
        "survey respondent N_R002, Northfold, survey answer",
    ]
    # who is counted: a transcript without a participant id is one person, its file
    assert frame["participant"].tolist() == ["Northfold/interview 3.txt", "N_R002"]
    assert frame["source_kind"].tolist() == ["transcript", "survey"]


@pytest.mark.parametrize(("seconds", "shown"), [(754.0, "12:34"), (3725, "1:02:05"), (0, "0:00")])
def test_timestamps_read_as_a_clock(seconds, shown):
    assert reference({"participant_id": "X1", "source_kind": "transcript", "start_time": seconds}).endswith(shown)


def test_records_read_as_to_dict_does_whatever_the_column_types():
    from toolkit.analysis._frames import records

    frame = pd.DataFrame({
        "n": [1, 2], "text": ["x", None], "count": pd.array([1, None], dtype="Int64"), "share": [1.5, None],
        "at": pd.to_datetime(["2024-01-01", None]), "evidence": pd.Series([{"k": 1}, None], dtype=object),
        "arrow": pd.array(["x", None], dtype="string[pyarrow]"),
    })
    assert repr(records(frame)) == repr(frame.to_dict("records"))  # a missing value is None where to_dict says so
    assert records(frame, ["arrow"]) == [{"arrow": "x"}, {"arrow": None}]
    assert records(frame.iloc[:, :0]) == [{}, {}]
