"""Tests for reading survey exports: tiny fixtures per vendor, every error path, and
a sweep over the real exports and the sample study's workbooks."""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import zipfile
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import SAMPLE_STUDY, realfile_params, realfiles_dir
from toolkit.config import SurveyOptions
from toolkit.errors import ConfigError, InputDataError
from toolkit.ingest import surveys
from toolkit.ingest.surveys import read_survey
from toolkit.schema import (
    ATTRIBUTES,
    LABEL,
    ORGANISATION_TYPE,
    PERSONAL_QUESTION_KINDS,
    PLACE,
    Q_CHOICE,
    Q_EMAIL,
    Q_FREE_TEXT,
    Q_IGNORED,
    Q_LIKERT,
    Q_METADATA,
    Q_NAME,
    Q_NUMERIC,
    Q_ORGANISATION_TYPE,
    Q_PLACE,
    Q_RESPONDENT_ID,
    Q_ROLE,
    Q_TIMESTAMP,
    QUESTION_KEY,
    QUESTION_KINDS,
    RESPONDENT_KEY,
    ROLE,
    ROW_NUMBER,
    TEXT,
    VALUE,
    Survey,
)

AGREE_1 = "I know who to ask for advice"
AGREE_2 = "Partners trust each other"
HELPED = "What has helped you share information? Please give an example."


# --------------------------------------------------------------------------- helpers
def write_xlsx(path: Path, rows: list[list], sheet: str = "Form1", others: dict[str, list[list]] | None = None) -> Path:
    """A workbook whose first sheet holds ``rows``; ``others`` adds sheets after it."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    for name, other_rows in (others or {}).items():
        other = book.create_sheet(name)
        for row in other_rows:
            other.append(row)
    book.save(path)
    return path


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def kinds(survey: Survey) -> dict[str, str]:
    return {q.key: q.kind for q in survey.questions}


def likert_values(survey: Survey, question: str) -> list[float]:
    return survey.likert.loc[survey.likert[QUESTION_KEY] == question, VALUE].tolist()


def answers(survey: Survey, question: str) -> list[str]:
    return survey.texts.loc[survey.texts[QUESTION_KEY] == question, TEXT].tolist()


def ms_forms_rows() -> list[list]:
    start = dt.datetime(2026, 2, 2, 9, 30, 5)
    header = [
        "ID",
        "Start time",
        "Completion time",
        "Email",
        "Name",
        "Last modified time",
        "Which area do you work in?",
        "What is your role?",
        "What type of organisation do you work for?",
        AGREE_1,
        AGREE_2,
        HELPED,
    ]
    return [
        header,
        [
            1,
            start,
            start + dt.timedelta(minutes=7),
            "ann.smith@council.example.org",
            "Ann Smith",
            None,
            "Brackenford ",
            "Social worker",
            "Local authority",
            "Strongly agree",
            "Agree",
            "Regular multi-agency meetings where we\ncould talk through cases.",
        ],
        [
            2,
            start,
            start + dt.timedelta(minutes=9),
            "anonymous",
            None,
            None,
            "Brackenford",
            "Health visitor\u00a0",
            "Community health provider",
            "Neither agree nor disagree",
            "Disagree",
            "n/a",
        ],
        [
            3,
            start,
            start + dt.timedelta(minutes=4),
            "raj.patel@nhs.example.net",
            "Raj Patel",
            None,
            "Brackenford",
            "GP",
            "GP practice",
            "Strongly disagree",
            "Don't know",
            "Knowing the named safeguarding lead in each practice helped a lot.",
        ],
    ]


# --------------------------------------------------------------------------- vendors
def test_microsoft_forms_workbook(tmp_path: Path) -> None:
    survey = read_survey(write_xlsx(tmp_path / "survey_brackenford.xlsx", ms_forms_rows()))

    assert (survey.vendor, survey.format, survey.sheet) == ("microsoft_forms", "xlsx", "Form1")
    assert kinds(survey) == {
        "ID": Q_RESPONDENT_ID,
        "Start time": Q_TIMESTAMP,
        "Completion time": Q_TIMESTAMP,
        "Email": Q_EMAIL,
        "Name": Q_NAME,
        "Last modified time": Q_TIMESTAMP,
        "Which area do you work in?": Q_PLACE,
        "What is your role?": Q_ROLE,
        "What type of organisation do you work for?": Q_ORGANISATION_TYPE,
        AGREE_1: Q_LIKERT,
        AGREE_2: Q_LIKERT,
        HELPED: Q_FREE_TEXT,
    }
    assert [q.position for q in survey.questions] == list(range(1, 13))
    people = survey.respondents
    assert people[RESPONDENT_KEY].tolist() == ["1", "2", "3"]
    assert people[ROW_NUMBER].tolist() == [2, 3, 4]
    assert people[PLACE].tolist() == ["Brackenford"] * 3  # trailing space stripped
    assert people[ROLE].tolist() == ["Social worker", "Health visitor", "GP"]  # NBSP stripped
    assert people[ORGANISATION_TYPE].tolist()[2] == "GP practice"
    assert people[ATTRIBUTES].iloc[0] == {"Start time": "2026-02-02T09:30:05", "Completion time": "2026-02-02T09:37:05"}

    assert likert_values(survey, AGREE_1) == [5.0, 3.0, 1.0]
    assert survey.questions_of(Q_LIKERT)[0].scale[0] == "Strongly disagree"
    off_scale = likert_values(survey, AGREE_2)
    assert off_scale[:2] == [4.0, 2.0] and math.isnan(off_scale[2])
    assert any("not on their question's scale" in w and "(1)" in w for w in survey.warnings)

    assert answers(survey, HELPED)[0] == "Regular multi-agency meetings where we\ncould talk through cases."
    assert len(answers(survey, HELPED)) == 2
    assert any("1 placeholder" in w for w in survey.warnings)


def test_personal_values_only_in_personal(tmp_path: Path) -> None:
    survey = read_survey(write_xlsx(tmp_path / "s.xlsx", ms_forms_rows()))

    assert sorted(survey.personal[TEXT]) == [
        "Ann Smith",
        "Raj Patel",
        "ann.smith@council.example.org",
        "raj.patel@nhs.example.net",
    ]
    elsewhere = json.dumps(survey.respondents.to_dict("records")) + survey.texts.to_json() + survey.likert.to_json()
    for value in survey.personal[TEXT]:
        assert value not in elsewhere


def test_qualtrics_three_header_rows(tmp_path: Path) -> None:
    text = (
        "StartDate,EndDate,Status,IPAddress,Progress,Duration (in seconds),Finished,RecordedDate,ResponseId,"
        "RecipientEmail,LocationLatitude,DistributionChannel,UserLanguage,Q1,Q2,Q3_TEXT\n"
        "Start Date,End Date,Response Type,IP Address,Progress,Duration (in seconds),Finished,Recorded Date,"
        "Response ID,Recipient Email,Location Latitude,Distribution Channel,User Language,"
        "How satisfied are you with the service?,Which team are you in?,Why did you choose that?\n"
        + ",".join(
            f'"{{""ImportId"":""{i}""}}"'
            for i in (
                "startDate",
                "endDate",
                "status",
                "ipAddress",
                "progress",
                "duration",
                "finished",
                "recordedDate",
                "_recordId",
                "recipientEmail",
                "locationLatitude",
                "distributionChannel",
                "userLanguage",
                "QID1",
                "QID2",
                "QID3_TEXT",
            )
        )
        + "\n"
        "2024-03-01 10:00:00,2024-03-01 10:05:00,0,10.0.0.1,100,300,1,2024-03-01 10:05:00,R_abc,a@b.org,"
        "51.5,anonymous,EN,Very satisfied,Blue,Because it was close\n"
        "2024-03-01 11:00:00,2024-03-01 11:05:00,0,10.0.0.2,100,300,1,2024-03-01 11:05:00,R_def,,"
        "51.6,anonymous,EN,Dissatisfied,Red,Short\n"
    )
    survey = read_survey(write_csv(tmp_path / "qualtrics.csv", text))

    assert survey.vendor == "qualtrics"
    found = kinds(survey)
    assert found["ResponseId"] == Q_RESPONDENT_ID
    assert {
        found[k]
        for k in ("Status", "Progress", "Duration (in seconds)", "Finished", "DistributionChannel", "UserLanguage")
    } == {Q_IGNORED}
    assert {found[k] for k in ("StartDate", "EndDate", "RecordedDate")} == {Q_TIMESTAMP}
    assert (found["IPAddress"], found["LocationLatitude"], found["RecipientEmail"]) == (Q_NAME, Q_NAME, Q_EMAIL)
    assert (found["Q1"], found["Q2"], found["Q3_TEXT"]) == (Q_LIKERT, Q_CHOICE, Q_FREE_TEXT)
    assert survey.questions[13].text == "How satisfied are you with the service?"
    assert survey.respondents[RESPONDENT_KEY].tolist() == ["R_abc", "R_def"]
    assert survey.respondents[ROW_NUMBER].tolist() == [4, 5]
    assert likert_values(survey, "Q1") == [5.0, 2.0]
    assert answers(survey, "Q3_TEXT") == ["Because it was close", "Short"]
    attributes = survey.respondents[ATTRIBUTES].iloc[0]
    assert "IPAddress" not in attributes and "LocationLatitude" not in attributes and attributes["Q2"] == "Blue"
    assert set(survey.personal[TEXT]) == {"10.0.0.1", "10.0.0.2", "a@b.org", "51.5", "51.6"}


def test_qualtrics_python_dict_import_ids(tmp_path: Path) -> None:
    text = (
        "ResponseID,ResponseSet,Finished,Q1,Q2\n"
        "ResponseID,ResponseSet,Finished,Pick one,Tell us more\n"
        "{'ImportId': 'responseId'},{'ImportId': 'responseSetId'},{'ImportId': 'finished'},"
        "{'ImportId': 'QID1'},{'ImportId': 'QID2-TEXT'}\n"
        "R_1,Default,1,2,ok\n"
    )
    survey = read_survey(write_csv(tmp_path / "insights.csv", text))

    assert (survey.vendor, kinds(survey)["Q2"], kinds(survey)["Q1"]) == ("qualtrics", Q_FREE_TEXT, Q_NUMERIC)
    assert answers(survey, "Q2") == ["ok"]


def test_qualtrics_legacy_v_codes(tmp_path: Path) -> None:
    text = (
        "\ufeffV1,V2,V3,V4,V5,V6,V7,V8,V9,V10,Q1,Q2,\n"
        "ResponseID,ResponseSet,Name,ExternalDataReference,EmailAddress,IPAddress,Status,StartDate,EndDate,"
        "Finished,Pick one,This is a free text question.,\n"
        "R_1,Default,Anonymous,,,1.2.3.4,0,2017-07-18 08:28:09,2017-07-18 08:28:48,1,2,Hello World!,\n"
    )
    survey = read_survey(write_csv(tmp_path / "legacy.csv", text))

    assert survey.vendor == "qualtrics"
    assert [q.key for q in survey.questions][:3] == ["ResponseID", "ResponseSet", "Name"]
    assert kinds(survey)["Q2"] == Q_FREE_TEXT and survey.questions[-1].text == "This is a free text question."
    assert survey.respondents[ROW_NUMBER].tolist() == [3]
    assert survey.personal[TEXT].tolist() == ["1.2.3.4"]  # 'Anonymous' names nobody


def test_surveymonkey_two_header_rows(tmp_path: Path) -> None:
    text = (
        "Respondent ID,Collector ID,Start Date,End Date,IP Address,Email Address,First Name,Last Name,"
        "Custom Data 1,What do you think were the main strengths?,Which sessions did you attend?,,"
        '"To what extent do you agree: ""I feel equipped""",\n'
        ",,,,,,,,,Open-Ended Response,Session A,Session B,Response,Is there anything else you would like to say?\n"
        '101,9,07/31/2023 04:21:36 PM,07/31/2023 04:29:08 PM,,,,,,"Good models,\nand time to reflect",'
        "Session A,,Strongly agree,No\n"
        "102,9,07/30/2023 04:21:36 PM,07/30/2023 04:29:08 PM,,,,,,Less reading,,Session B,Disgree,\n"
    )
    survey = read_survey(write_csv(tmp_path / "monkey.csv", text))

    assert survey.vendor == "surveymonkey"
    keys = [q.key for q in survey.questions]
    assert keys[10:12] == ["Which sessions did you attend? - Session A", "Which sessions did you attend? - Session B"]
    assert keys[13] == 'To what extent do you agree: "I feel equipped" - Is there anything else you would like to say?'
    found = kinds(survey)
    assert (found["Collector ID"], found["Custom Data 1"], found["IP Address"]) == (Q_IGNORED, Q_IGNORED, Q_NAME)
    assert found["What do you think were the main strengths?"] == Q_FREE_TEXT
    assert found[keys[12]] == Q_LIKERT and found[keys[13]] == Q_FREE_TEXT
    assert answers(survey, "What do you think were the main strengths?")[0] == "Good models,\nand time to reflect"
    assert likert_values(survey, keys[12]) == [5.0, 2.0]  # 'Disgree' read as 'Disagree'
    assert any("misspelt" in w for w in survey.warnings)
    assert survey.respondents[ROW_NUMBER].tolist() == [3, 4]  # CSV rows are records, as a spreadsheet shows them


def test_surveymonkey_long_question_keeps_sub_column_in_key(tmp_path: Path) -> None:
    question = "To what extent do you agree with this statement about the support you were given during the module?"
    text = f'Respondent ID,"{question}",\n,Response,Is there anything else you would like to say?\n1,Agree,More time\n'
    survey = read_survey(write_csv(tmp_path / "monkey.csv", text))

    keys = [q.key for q in survey.questions]
    assert all(len(k) <= 100 for k in keys) and len(set(keys)) == 3
    assert keys[2].endswith(" - Is there anything else you would like to say?")
    assert survey.questions[2].text == f"{question} - Is there anything else you would like to say?"
    assert not any("repeat an earlier header" in w for w in survey.warnings)


def test_google_forms_numbers_rows(tmp_path: Path) -> None:
    text = (
        "Timestamp,How often do you share information with partners?,Any other comments?\n"
        "1/18/2024 14:18:57,Often,It works well when the leads know each other\n"
        ",,\n"
        "1/18/2024 14:19:43,Never,\n"
    )
    survey = read_survey(write_csv(tmp_path / "google.csv", text))

    assert survey.vendor == "google_forms"
    assert survey.respondents[RESPONDENT_KEY].tolist() == ["row-2", "row-4"]
    assert any("numbered by their row" in w for w in survey.warnings)
    assert any("1 blank row(s)" in w for w in survey.warnings)
    assert likert_values(survey, "How often do you share information with partners?") == [4.0, 1.0]
    assert survey.respondents[ATTRIBUTES].iloc[0] == {"Timestamp": "1/18/2024 14:18:57"}


def test_plain_sheet_with_case_ids(tmp_path: Path) -> None:
    text = "Case,Age,Gender,freetext\nID4,24,f,I wanted to study more after leaving school\nID5,,m,No time\n"
    survey = read_survey(write_csv(tmp_path / "plain.csv", text))

    assert survey.vendor == "generic"
    assert kinds(survey) == {"Case": Q_RESPONDENT_ID, "Age": Q_NUMERIC, "Gender": Q_CHOICE, "freetext": Q_FREE_TEXT}
    assert survey.respondents[ATTRIBUTES].tolist() == [{"Age": 24, "Gender": "f"}, {"Gender": "m"}]


# --------------------------------------------------------------------------- encodings and layout
def test_utf16_tab_separated_csv(tmp_path: Path) -> None:
    text = "ID\tWhat is your role?\tPlease describe a barrier\r\n1\tInfirmière\tLa réunion était trop tard\r\n"
    survey = read_survey(write_csv(tmp_path / "unicode.csv", text, encoding="utf-16"))

    assert survey.respondents[ROLE].tolist() == ["Infirmière"]
    assert answers(survey, "Please describe a barrier") == ["La réunion était trop tard"]


def test_cp1252_csv(tmp_path: Path) -> None:
    text = (
        "ID,Please explain your answer\n"
        "1,\u201cThe caf\u00e9 meeting\u201d was na\u00efve but useful \u2013 Zo\u00eb agreed\n"
        "2,We met every week at the caf\u00e9 near the \u00e9cole\n"
    )
    survey = read_survey(write_csv(tmp_path / "windows.csv", text, encoding="cp1252"))

    assert (
        answers(survey, "Please explain your answer")[0]
        == "\u201cThe caf\u00e9 meeting\u201d was na\u00efve but useful \u2013 Zo\u00eb agreed"
    )


def test_semicolon_csv(tmp_path: Path) -> None:
    survey = read_survey(write_csv(tmp_path / "excel_eu.csv", "ID;Team\n1;Blue\n2;Red\n"))

    assert kinds(survey) == {"ID": Q_RESPONDENT_ID, "Team": Q_CHOICE}


def test_duplicate_headers_get_suffixes(tmp_path: Path) -> None:
    survey = read_survey(write_csv(tmp_path / "dups.csv", "ID,Other,Other,Other\n1,a,b,c\n2,a,b,c\n"))

    assert [q.key for q in survey.questions] == ["ID", "Other", "Other.1", "Other.2"]
    assert any("repeat an earlier header" in w for w in survey.warnings)


def test_duplicate_ids_are_kept_and_warned(tmp_path: Path) -> None:
    survey = read_survey(write_csv(tmp_path / "ids.csv", "ID,Team\n17,Blue\n17,Red\n18,Red\n17,Blue\n"))

    assert survey.respondents[RESPONDENT_KEY].tolist() == ["17", "17#2", "18", "17#3"]
    assert any("2 respondent id(s)" in w for w in survey.warnings)


def test_rows_without_answers_are_counted(tmp_path: Path) -> None:
    text = "ID,Start time,Completion time,Team\n1,x,y,Blue\n2,x,y,\n,,,\n3,x,y,Red\n"
    survey = read_survey(write_csv(tmp_path / "gaps.csv", text))

    assert survey.respondents[RESPONDENT_KEY].tolist() == ["1", "3"]
    assert any("1 blank row(s)" in w for w in survey.warnings)
    assert any("1 row(s) hold no answers" in w for w in survey.warnings)


def test_numeric_likert_under_agree_wording(tmp_path: Path) -> None:
    text = "ID,How much do you agree (1-5)?,How many staff?\n1,4,12\n2,5,3\n3,2,40\n"
    survey = read_survey(write_csv(tmp_path / "numeric.csv", text))

    assert kinds(survey)["How much do you agree (1-5)?"] == Q_LIKERT
    assert survey.questions[1].scale == ("1", "2", "3", "4", "5")
    assert likert_values(survey, "How much do you agree (1-5)?") == [4.0, 5.0, 2.0]
    assert kinds(survey)["How many staff?"] == Q_NUMERIC


def test_numeric_scale_is_the_declared_one_not_the_highest_answer(tmp_path: Path) -> None:
    # issue 12: 3/4/5 answers on a 1-7 scale must stay positions 3, 4, 5 of SEVEN
    text = "ID,How much do you agree (1-7)?,Rate your satisfaction 1 to 10\n1,3,2\n2,4,6\n3,5,7\n"
    survey = read_survey(write_csv(tmp_path / "numeric.csv", text))

    scales = {q.key: q.scale for q in survey.questions_of(Q_LIKERT)}
    assert scales["How much do you agree (1-7)?"] == tuple(str(i) for i in range(1, 8))
    assert scales["Rate your satisfaction 1 to 10"] == tuple(str(i) for i in range(1, 11))
    assert likert_values(survey, "How much do you agree (1-7)?") == [3.0, 4.0, 5.0]
    assert not any("do not say their scale" in w for w in survey.warnings)


def test_guessed_numeric_scale_is_warned(tmp_path: Path) -> None:
    text = "ID,How much do you agree?\n1,3\n2,4\n3,2\n"
    survey = read_survey(write_csv(tmp_path / "numeric.csv", text))
    assert survey.questions[1].scale == ("1", "2", "3", "4", "5")
    assert any("How much do you agree? (1-5)" in w and "do not say their scale" in w for w in survey.warnings)


def test_labelled_scale_keeps_points_nobody_chose(tmp_path: Path) -> None:
    # a 1-5 agree question where nobody chose 'Strongly agree' is still read on the 5-point scale
    rows = [["ID", AGREE_1, AGREE_2]] + [[n, "Agree", "Neither agree nor disagree"] for n in range(1, 4)]
    survey = read_survey(write_xlsx(tmp_path / "s.xlsx", rows))
    question = next(q for q in survey.questions if q.key == AGREE_1)
    assert question.scale[-1] == "Strongly agree" and len(question.scale) == 5
    assert likert_values(survey, AGREE_1) == [4.0, 4.0, 4.0]


def test_one_scale_per_family_in_a_file(tmp_path: Path) -> None:
    rows = "\n".join(f"{i},Agree,{'Neutral' if i == 1 else 'Strongly agree'}" for i in range(1, 4))
    survey = read_survey(write_csv(tmp_path / "family.csv", f"ID,{AGREE_1},{AGREE_2}\n{rows}\n"))

    assert survey.questions[1].scale == survey.questions[2].scale
    assert likert_values(survey, AGREE_1) == [4.0, 4.0, 4.0]  # 5-point: 'Neutral' is used elsewhere


def test_long_headers_give_short_keys(tmp_path: Path) -> None:
    wording = "To what extent do you agree with this statement about sharing information " * 3 + "(please pick one)"
    survey = read_survey(write_csv(tmp_path / "long.csv", f'ID,"{wording}","{wording}"\n1,Agree,Agree\n'))

    first, second = survey.questions[1], survey.questions[2]
    assert first.text == wording.strip() and len(first.key) <= 100 and first.key.endswith("\u2026")
    assert second.key == first.key + ".1"
    assert (
        read_survey(tmp_path / "long.csv", options=SurveyOptions(text_columns=(first.key,))).questions[1].kind
        == Q_FREE_TEXT
    )


def test_header_rows_override(tmp_path: Path) -> None:
    text = "Wave 2 export,,\nID,Team,Why did you join?\n1,Blue,To meet other practitioners\n"
    survey = read_survey(write_csv(tmp_path / "titled.csv", text), options=SurveyOptions(header_rows=2))

    assert kinds(survey)["Wave 2 export - ID"] == Q_RESPONDENT_ID
    assert survey.respondents[ROW_NUMBER].tolist() == [3]


def test_excel_dates_and_json_attributes(tmp_path: Path) -> None:
    rows = [
        ["ID", "Visit date", "Score", "Started"],
        [1.0, dt.date(2025, 1, 31), 4.5, dt.datetime(2025, 1, 31, 8, 0, 1)],
    ]
    survey = read_survey(write_xlsx(tmp_path / "dates.xlsx", rows))

    assert survey.respondents[RESPONDENT_KEY].tolist() == ["1"]
    attributes = survey.respondents[ATTRIBUTES].iloc[0]
    assert attributes == {"Visit date": "2025-01-31", "Score": 4.5, "Started": "2025-01-31T08:00:01"}
    json.dumps(attributes)


def test_formula_without_cached_value_is_warned(tmp_path: Path) -> None:
    rows = [["ID", "Team", "Count"], [1, "Blue", "=COUNTA(B2:B3)"], [2, "Red", 3]]
    survey = read_survey(write_xlsx(tmp_path / "formula.xlsx", rows))  # openpyxl saves no cached values

    assert any("formula cell(s) have no saved value (C2)" in w for w in survey.warnings)
    assert survey.respondents[ATTRIBUTES].iloc[0] == {"Team": "Blue"}


def test_first_sheet_with_data_and_sheet_option(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "book.xlsx",
        [],
        sheet="Notes",
        others={"Form1": [["ID", "Team"], [1, "Blue"]], "Old": [["ID", "Team"], [9, "Red"]]},
    )

    survey = read_survey(path)
    assert survey.sheet == "Form1"
    assert any("read 'Form1', the first with responses" in w for w in survey.warnings)
    assert read_survey(path, options=SurveyOptions(sheet="old")).respondents[RESPONDENT_KEY].tolist() == ["9"]


# --------------------------------------------------------------------------- overrides
def test_column_overrides(tmp_path: Path) -> None:
    text = (
        "Ref,Site,Job,Employer type,Score,Notes,Mood,Secret,Extra\n"
        "A1,North,Nurse,NHS,3,ok,Fine,x1,z\n"
        "A2,South,GP,NHS,4,good,Low,x2,z\n"
    )
    options = SurveyOptions(
        id_column="ref",
        place_column="SITE",
        role_column="job",
        organisation_column="Employer type",
        likert_columns=("Score",),
        text_columns=("notes",),
        metadata_columns=("Mood",),
        ignore_columns=("Extra",),
        personal_columns=("Secret",),
    )
    survey = read_survey(write_csv(tmp_path / "custom.csv", text), options=options)

    assert kinds(survey) == {
        "Ref": Q_RESPONDENT_ID,
        "Site": Q_PLACE,
        "Job": Q_ROLE,
        "Employer type": Q_ORGANISATION_TYPE,
        "Score": Q_LIKERT,
        "Notes": Q_FREE_TEXT,
        "Mood": Q_METADATA,
        "Secret": Q_NAME,
        "Extra": Q_IGNORED,
    }
    assert survey.respondents[PLACE].tolist() == ["North", "South"]
    assert likert_values(survey, "Score") == [3.0, 4.0]
    assert answers(survey, "Notes") == ["ok", "good"]
    assert survey.personal[TEXT].tolist() == ["x1", "x2"]
    assert survey.respondents[ATTRIBUTES].tolist() == [{"Mood": "Fine"}, {"Mood": "Low"}]


def test_override_matches_any_header_row(tmp_path: Path) -> None:
    text = (
        "ResponseId,Finished,Q1\nResponse ID,Finished,Your team\n"
        '"{""ImportId"":""_recordId""}","{""ImportId"":""finished""}","{""ImportId"":""QID1""}"\n'
        "R_1,1,Blue\n"
    )
    survey = read_survey(write_csv(tmp_path / "q.csv", text), options=SurveyOptions(metadata_columns=("your team",)))

    assert kinds(survey)["Q1"] == Q_METADATA


def test_id_column_row_numbers_rows(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "survey_placeB.xlsx", [["Respondent", "Q1"], ["x", "Agree"], ["y", "Agree"]])
    survey = read_survey(path, options=SurveyOptions(id_column="row"))

    assert survey.respondents[RESPONDENT_KEY].tolist() == ["row-2", "row-3"]


def test_forced_likert_with_unknown_labels_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "odd.csv", "ID,Mood\n1,Sunny\n2,Cloudy\n")
    with pytest.raises(
        InputDataError,
        match=r"odd\.csv: surveys\.likert_columns names 'Mood', but its answers fit no known Likert scale \(answers: Cloudy, Sunny\)",
    ):
        read_survey(path, options=SurveyOptions(likert_columns=("mood",)))


# --------------------------------------------------------------------------- errors
def test_missing_override_column(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "survey_placeB.xlsx", [["Respondent", "Q1", "Q2"], ["x", "Agree", "Yes"]])
    with pytest.raises(
        InputDataError,
        match=r"survey_placeB\.xlsx, sheet 'Form1': surveys\.id_column names 'Participant', but no column has "
        r"that name\. Found: Respondent, Q1, Q2\. Fix surveys\.id_column in study\.toml",
    ):
        read_survey(path, options=SurveyOptions(id_column="Participant"))


@pytest.mark.parametrize(
    "setting", ["likert_columns", "text_columns", "ignore_columns", "personal_columns", "metadata_columns"]
)
def test_missing_override_in_lists(tmp_path: Path, setting: str) -> None:
    path = write_csv(tmp_path / "s.csv", "ID,Q1\n1,Agree\n")
    with pytest.raises(InputDataError, match=rf"s\.csv: surveys\.{setting} names 'Q9'.*Found: ID, Q1\."):
        read_survey(path, options=SurveyOptions(**{setting: ("Q9",)}))


def test_respondent_column_is_found_by_its_numbers(tmp_path: Path) -> None:
    # issue 16: a first run stopped on this ("no column for the respondent id")
    rows = [["Respondent", "I know who to ask for advice", "What helped?"]] + [
        [n, "Agree", f"Answer number {n} about the charter."] for n in (1, 2, 3, 5)
    ]
    survey = read_survey(write_xlsx(tmp_path / "survey_placeB.xlsx", rows))

    assert kinds(survey)["Respondent"] == Q_RESPONDENT_ID
    assert survey.respondents[RESPONDENT_KEY].tolist() == ["1", "2", "3", "5"]
    assert any("respondent id is taken from 'Respondent'" in w and "surveys.id_column" in w for w in survey.warnings)


@pytest.mark.parametrize(
    ("header", "values"),
    [("Participant", ["P01", "P02", "P03"]), ("Case ref", ["HM-7", "HM-9", "HM-12"]), ("Code", ["blue team", "red", "green"])],
)
def test_id_column_by_header_word_and_unique_codes(tmp_path: Path, header: str, values: list[str]) -> None:
    text = f"{header},Partners trust each other\n" + "".join(f"{v},Agree\n" for v in values)
    survey = read_survey(write_csv(tmp_path / "s.csv", text))
    found = kinds(survey)[header]
    # words with spaces are not ids: those rows are numbered instead
    assert found == (Q_RESPONDENT_ID if header != "Code" else Q_CHOICE)


def test_first_column_of_unique_codes_is_the_id(tmp_path: Path) -> None:
    text = "Who,Partners trust each other\nR_3kXb91aa,Agree\nR_8mQp02bb,Disagree\nR_1zzT55cc,Agree\n"
    survey = read_survey(write_csv(tmp_path / "s.csv", text))
    assert survey.respondents[RESPONDENT_KEY].tolist() == ["R_3kXb91aa", "R_8mQp02bb", "R_1zzT55cc"]


def test_ages_are_not_taken_for_ids(tmp_path: Path) -> None:
    text = "Age,Partners trust each other\n33,Agree\n45,Disagree\n29,Agree\n"
    survey = read_survey(write_csv(tmp_path / "s.csv", text))
    assert kinds(survey)["Age"] == Q_NUMERIC
    assert survey.respondents[RESPONDENT_KEY].tolist() == ["row-2", "row-3", "row-4"]


def test_no_id_column_numbers_rows_with_a_note(tmp_path: Path) -> None:
    rows = [["Team", "Q1", "Q2"], ["Blue", "Agree", "Yes"], ["Blue", "Disagree", "No"]]
    survey = read_survey(write_xlsx(tmp_path / "survey_placeB.xlsx", rows))

    assert survey.respondents[RESPONDENT_KEY].tolist() == ["row-2", "row-3"]
    (note,) = [w for w in survey.warnings if "no respondent id column" in w]
    assert "columns: Team, Q1, Q2" in note and "set surveys.id_column in study.toml" in note


def test_one_repeated_id_stays_linear(tmp_path: Path) -> None:
    # every row has the id 'anonymous': keys anonymous, anonymous#2... without a quadratic search
    text = "ID,Partners trust each other\n" + "anonymous,Agree\n" * 20_000
    survey = read_survey(write_csv(tmp_path / "same.csv", text))
    keys = survey.respondents[RESPONDENT_KEY]
    assert keys.is_unique and keys.iloc[-1] == "anonymous#20000"
    assert any("20000" in w or "19999" in w for w in survey.warnings)


@pytest.mark.parametrize("name", ["empty.csv", "empty.xlsx"])
def test_empty_file(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(InputDataError, match=rf"{name}: the file is empty\."):
        read_survey(tmp_path / name)


def test_header_only_csv(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match=r"header\.csv: has a header but no responses"):
        read_survey(write_csv(tmp_path / "header.csv", "ID,Q1,Q2\n,,\n"))


def test_header_only_qualtrics(tmp_path: Path) -> None:
    text = 'ResponseId,Q1\nResponse ID,Pick\n"{""ImportId"":""_recordId""}","{""ImportId"":""QID1""}"\n'
    with pytest.raises(InputDataError, match=r"has a header but no responses"):
        read_survey(write_csv(tmp_path / "q.csv", text))


def test_header_only_workbook(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match=r"h\.xlsx, sheet 'Form1': has a header but no responses"):
        read_survey(write_xlsx(tmp_path / "h.xlsx", [["ID", "Q1"]]))


def test_only_bookkeeping_rows(tmp_path: Path) -> None:
    with pytest.raises(
        InputDataError, match=r"b\.csv: has no answers: every row after the header is blank or holds only ids"
    ):
        read_survey(write_csv(tmp_path / "b.csv", "ID,Start time,Q1\n1,2024-01-01,\n"))


def test_corrupt_workbook(tmp_path: Path) -> None:
    good = write_xlsx(tmp_path / "good.xlsx", ms_forms_rows())
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(good.read_bytes()[:500])
    with pytest.raises(InputDataError, match=r"broken\.xlsx: is a damaged Excel workbook: it is not a readable zip archive"):
        read_survey(broken)


def test_random_bytes_named_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "noise.xlsx"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(InputDataError, match=r"noise\.xlsx: is not an Excel workbook: an \.xlsx is a zip archive"):
        read_survey(path)


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "other.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(
        InputDataError,
        match=r"other\.xlsx: cannot be read as an Excel workbook .*Save it again|other\.xlsx: cannot be read as an Excel workbook",
    ):
        read_survey(path)


def test_csv_text_named_xlsx(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match=r"renamed\.xlsx: holds plain text.*Rename it to \.csv"):
        read_survey(write_csv(tmp_path / "renamed.xlsx", "ID,Q1\n1,Agree\n"))


def test_workbook_named_csv(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "book.xlsx", ms_forms_rows())
    path = path.rename(tmp_path / "book.csv")
    with pytest.raises(InputDataError, match=r"book\.csv: is a binary file .*not CSV text"):
        read_survey(path)


def test_password_protected_workbook(tmp_path: Path) -> None:
    # An encrypted .xlsx is an OLE compound file holding an 'EncryptedPackage' stream.
    path = tmp_path / "locked.xlsx"
    path.write_bytes(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512) + "EncryptedPackage".encode("utf-16-le") + bytes(512)
    )
    with pytest.raises(InputDataError, match=r"locked\.xlsx: is password-protected \(encrypted\).*remove the password"):
        read_survey(path)


def test_legacy_xls_bytes_named_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "old.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1024))
    with pytest.raises(InputDataError, match=r"old\.xlsx: is an old Excel 97-2003 \(\.xls\) workbook"):
        read_survey(path)


def test_missing_sheet_lists_sheets(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "book.xlsx", ms_forms_rows(), others={"Notes": [["x"]]})
    with pytest.raises(
        InputDataError,
        match=r"book\.xlsx: has no worksheet named 'Responses'\. Sheets: 'Form1', 'Notes'\. Fix surveys\.sheet",
    ):
        read_survey(path, options=SurveyOptions(sheet="Responses"))


def test_empty_workbook(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match=r"blank\.xlsx: has no data in any worksheet \(sheets: 'Form1'\)"):
        read_survey(write_xlsx(tmp_path / "blank.xlsx", []))


def test_ragged_csv_header(tmp_path: Path) -> None:
    text = "ID,Team\n1,Blue\n2,Red,extra,cells\n"
    with pytest.raises(
        InputDataError, match=r"ragged\.csv, row 3: this row has 4 cells but the header names only 2 columns"
    ):
        read_survey(write_csv(tmp_path / "ragged.csv", text))


def test_unclosed_quote_in_csv(tmp_path: Path) -> None:
    text = 'ID,Team,Comments\n1,Blue,"It was fine\n2,Red,Good\n3,Red,Good\n'
    with pytest.raises(
        InputDataError, match=r"quote\.csv, row 2: is not well-formed CSV: a quoted cell is never closed"
    ):
        read_survey(write_csv(tmp_path / "quote.csv", text))


def test_oversized_cell_in_csv(tmp_path: Path) -> None:
    text = "ID,Comments\n1,ok\n2," + "x" * 200_000 + "\n"
    with pytest.raises(
        InputDataError, match=r"huge\.csv, row 3: is not well-formed CSV: field larger than field limit"
    ):
        read_survey(write_csv(tmp_path / "huge.csv", text))


def test_stray_quotes_are_read_leniently(tmp_path: Path) -> None:
    survey = read_survey(write_csv(tmp_path / "stray.csv", 'ID,Team\n1,"Blue" team\n2,Red\n'))

    assert survey.respondents[ATTRIBUTES].tolist() == [{"Team": "Blue team"}, {"Team": "Red"}]
    assert any("stray quote" in w for w in survey.warnings)


@pytest.mark.parametrize(
    ("name", "message"), [("old.xls", r"old Excel 97-2003"), ("notes.docx", r"expected \.xlsx or \.csv")]
)
def test_unsupported_extensions(tmp_path: Path, name: str, message: str) -> None:
    (tmp_path / name).write_bytes(b"x")
    with pytest.raises(InputDataError, match=message):
        read_survey(tmp_path / name)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match=r"gone\.csv: cannot be read"):
        read_survey(tmp_path / "gone.csv")


# --------------------------------------------------------------------------- house rules
def test_answer_text_is_never_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="toolkit")
    read_survey(write_xlsx(tmp_path / "s.xlsx", ms_forms_rows()))

    assert "survey" in caplog.text
    for secret in ("multi-agency", "safeguarding", "Ann Smith", "raj.patel", "Strongly"):
        assert secret not in caplog.text


def test_scales_are_data() -> None:
    book = surveys.load_scales(surveys.SCALES_FILE)

    names = {s.name for s in book.scales}
    assert {
        "agree-4",
        "agree-5",
        "agree-7",
        "satisfaction-5",
        "likelihood-5",
        "frequency-5",
        "quality-5",
        "confidence-4",
    } <= names
    agree = next(s for s in book.scales if s.name == "agree-5")
    assert agree.labels[0] == "Strongly disagree" and agree.lookup["neutral"] == 3


def test_bad_scales_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "scales.toml"
    path.write_text(
        '[families.agree]\nhints = ["agree"]\n[[scale]]\nname = "x"\nfamily = "agree"\npoints = [["Agree"], ["agree"]]\n'
    )
    with pytest.raises(ConfigError, match=r"scale 'x' lists 'agree' on two points"):
        surveys.load_scales(path)


# --------------------------------------------------------------------------- real files
# What each real export must yield: vendor, respondents, Likert and free-text questions.
EXPECTED = {
    "DS-4002-sp24-survey-results.csv": ("google_forms", 91, 0, 2),
    "Hot-Dog-Form-Fa24.csv": ("microsoft_forms", 187, 0, 0),
    "Questions_with_Text_Entry_Components.csv": ("qualtrics", 15, 0, 12),
    "Sample_Survey (Insights).csv": ("qualtrics", 5, 9, 28),
    "SidebySide_Questions (Legacy).csv": ("qualtrics", 25, 0, 12),
    "hot_dog_survey_spring25.xlsx - Form Responses 1.csv": ("google_forms", 64, 0, 3),
    "sample.csv": ("qualtrics", 1, 0, 1),
    "sample_legacy.csv": ("qualtrics", 1, 0, 1),
    "survey456.csv": ("generic", 3, 0, 1),
    "test-responses.csv": ("surveymonkey", 16, 3, 4),
    "All Data Reorg_5.11.19.xlsx": ("generic", 796, 0, 79),
    "DS-4002-sp24-survey-results.xlsx": ("google_forms", 91, 0, 2),
    "Is hotdog a sandwich_ (Responses).xlsx": ("google_forms", 207, 0, 0),
    "Q5 Coded.xlsx": ("generic", 5, 0, 1),
    "survey789.xlsx": ("generic", 3, 0, 2),
}


def check_survey(survey: Survey) -> None:
    """Invariants every survey read must hold."""
    keys = [q.key for q in survey.questions]
    assert len(keys) == len(set(keys))
    assert {q.kind for q in survey.questions} <= set(QUESTION_KINDS)
    assert len(survey.respondents) > 0
    assert survey.respondents[RESPONDENT_KEY].is_unique
    personal_keys = {q.key for q in survey.questions if q.kind in PERSONAL_QUESTION_KINDS}
    for attributes in survey.respondents[ATTRIBUTES]:
        json.dumps(attributes)
        assert not personal_keys & set(attributes)
    assert set(survey.texts[QUESTION_KEY]) <= {q.key for q in survey.questions_of(Q_FREE_TEXT)}
    assert set(survey.personal[QUESTION_KEY]) <= personal_keys
    assert survey.texts[TEXT].str.strip().ne("").all()
    values = survey.likert[VALUE].dropna()
    assert ((values >= 1) & (values == values.round())).all()


@pytest.mark.parametrize("path", realfile_params("csv", "xlsx"))
def test_real_exports(path: Path) -> None:
    try:
        survey = read_survey(path)
    except InputDataError as exc:  # a refusal must name the file and say what to do
        assert path.name in str(exc)
        pytest.fail(f"unexpected refusal: {exc}")
    check_survey(survey)
    if path.name in EXPECTED:
        found = (
            survey.vendor,
            len(survey.respondents),
            len(survey.questions_of(Q_LIKERT)),
            len(survey.questions_of(Q_FREE_TEXT)),
        )
        assert found == EXPECTED[path.name]


def test_real_surveymonkey_export_details() -> None:
    survey = read_survey(realfiles_dir("csv") / "test-responses.csv")
    assert survey.likert[LABEL].isin(["Strongly agree", "Agree", "Aagree", "Disgree", "Strongly disagree"]).all()
    assert not survey.likert[VALUE].isna().any()
    assert len({q.scale for q in survey.questions_of(Q_LIKERT)}) == 1


SAMPLE_SURVEYS = sorted(SAMPLE_STUDY.glob("*/survey_*.xlsx"))


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, id=p.name) for p in SAMPLE_SURVEYS]
    or [pytest.param(None, marks=pytest.mark.skip(reason="no sample study surveys yet"))],
)
def test_sample_study_surveys(path: Path) -> None:
    survey = read_survey(path)

    check_survey(survey)
    found = Counter(q.kind for q in survey.questions)
    assert (survey.vendor, survey.sheet) == ("microsoft_forms", "Form1")
    assert (found[Q_PLACE], found[Q_ROLE], found[Q_ORGANISATION_TYPE]) == (1, 1, 1)
    assert (found[Q_LIKERT], found[Q_FREE_TEXT]) == (8, 3)
    assert survey.respondents[PLACE].notna().all()
    assert set(survey.personal[QUESTION_KEY]) <= {"Email", "Name"}
    # Free text may mention people by name: that is the pseudonymiser's job, not ingestion's.
    everything_else = survey.respondents.to_json() + survey.likert.to_json()
    for value in survey.personal[TEXT]:
        assert json.dumps(value)[1:-1] not in everything_else
