"""Each leak the privacy benchmark found (benchmarks/privacy_leaks.py, dev set) pinned here, with what must stay.

Fast tests use ``spacy.blank("en")``; tests marked ``model`` load the packaged English pipeline.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest
import spacy

from toolkit import schema as s
from toolkit.config import PseudonymisationOptions
from toolkit.pseudonymise import Document, Pseudonymiser, SourceRecord, find_ni_numbers, pseudonymise_records
from toolkit.pseudonymise.names import Lexicon, NameBook
from toolkit.pseudonymise.rules import load_rules
from toolkit.schema import SourceMeta, Survey, Transcript, Turn

PLACES = ("Ashgrove", "Bramcote")


@pytest.fixture(scope="module")
def blank():
    return spacy.blank("en")


def fit(texts: list[str], nlp=None, **kwargs) -> Pseudonymiser:
    return Pseudonymiser(nlp=nlp, organisations=PLACES, **kwargs).fit(
        [Document(f"{i:02d}.txt", t) for i, t in enumerate(texts)]
    )


def transcript(path: str, turns: list[tuple[str, str]]) -> Transcript:
    text, rows = "", []
    for i, (who, said) in enumerate(turns):
        start = len(text) + len(who) + 2
        text += f"{who}: {said}\n"
        rows.append(Turn(i, who, s.INTERVIEWER if who == "Interviewer" else s.PARTICIPANT, start, start + len(said),
                         said))
    return Transcript(Path(path), "txt", text, tuple(rows))


# =========================================================================== names
def test_an_email_does_not_make_a_first_name_an_ordinary_word():
    """'priya.raghunathan@nhs.net' put 'priya' among the study's lower-case words, so 'Priya' was kept."""
    rules = load_rules()
    book = NameBook(Lexicon.build(rules), rules)
    book.observe(["Please mail priya.raghunathan@nhs.net or see linkedin.com/in/aled-pryce and @saoirse_hv today."])
    assert {"priya", "raghunathan", "aled", "pryce", "saoirse"}.isdisjoint(book.lower_words)
    assert {"mail", "or", "see", "and", "today"} <= book.lower_words


def test_a_name_typed_once_in_lower_case_is_not_a_word():
    rules = load_rules()
    book = NameBook(Lexicon.build(rules), rules)
    book.observe(["i told niamh about it", "honestly it was definitely fine", "the form, the form"])
    assert not book.is_word("Niamh")
    assert book.is_word("Definitely") and book.is_word("Form") and book.is_word("The")


@pytest.mark.model
def test_sentence_initial_name_whose_first_name_is_in_an_email_elsewhere():
    """The issue's "Priya Raghunathan, our Caldicott guardian" stayed when her address was in another file."""
    records = [
        SourceRecord("Ashgrove/AG01.txt", transcript("AG01.txt", [
            ("Interviewer", "Who signs it off?"),
            ("AG01", "Priya Raghunathan, our Caldicott guardian, is very cautious."),
        ])),
        SourceRecord("Ashgrove/AG02.txt", transcript("AG02.txt", [
            ("Interviewer", "How do you reach her?"),
            ("AG02", ("You can reach her at priya.raghunathan@nhs.net for the form. Honestly? Hamish Tregothnan "
                      "just asked, from hamish_t88@yahoo.co.uk.")),
        ])),
    ]
    result = pseudonymise_records(records, PseudonymisationOptions(organisations=PLACES))
    text = "\n".join(r.record.text for r in result.records)
    for leaked in ("Priya", "Raghunathan", "Hamish", "Tregothnan", "priya", "hamish"):
        assert leaked not in text
    assert "our Caldicott guardian, is very cautious." in text


@pytest.mark.model
def test_a_full_name_in_lower_case_is_the_same_person():
    p = fit(["i told niamh castellanos we would need consent first.",
             "Niamh Castellanos is the lead for the early help hub.",
             "NIAMH CASTELLANOS SIGNED IT."])
    out = [p.transform(t).text for t in ("i told niamh castellanos we would need consent first.",
                                         "Niamh Castellanos is the lead for the early help hub.",
                                         "NIAMH CASTELLANOS SIGNED IT.")]
    assert out[0] == "i told [PERSON_01] we would need consent first."
    assert out[1].startswith("[PERSON_01] is the lead")
    assert out[2].startswith("[PERSON_01]")


def test_names_in_capitals(blank):
    texts = ["NOTE: GODFREY AMANKWAH TO SEND THE SIGNED DSA BY FRIDAY.",
             "We will send it once it is signed, as agreed.",
             "THE NHS AND THE ICB AGREED ON MONDAY."]
    out = [fit(texts, blank).transform(t).text for t in texts]
    assert "GODFREY" not in out[0] and "AMANKWAH" not in out[0]
    assert out[0] == "NOTE: [PERSON_01] TO SEND THE SIGNED DSA BY FRIDAY."
    assert out[2] == texts[2]  # acronyms, stop words and days stay


def test_a_domain_word_before_a_name_in_capitals_is_its_first_name(blank):
    """Found by the second holdout set: "Fraser" is allowed (Gillick and Fraser), so "FRASER MCALISTER" lost only
    the surname."""
    texts = ["CALLED FRASER MCALISTER ABOUT THE PORTAL, NO REPLY.", "I called about the reply."]
    assert fit(texts, blank).transform(texts[0]).text == "CALLED [PERSON_01] ABOUT THE PORTAL, NO REPLY."
    # in a study with no such person the guidelines keep their name (with one, "Fraser" alone is taken as him)
    texts = ["GILLICK AND FRASER GUIDELINES APPLY.", "The guidelines apply."]
    assert fit(texts, blank).transform(texts[0]).text == texts[0]


def test_a_school_named_with_of_is_replaced_whole(blank):
    """Found by the second holdout set: "Our Lady of Lourdes RC Primary" kept "Our Lady of"."""
    texts = ["The head at Our Lady of Lourdes RC Primary rang us.", "The boys go to Westbrook Primary School."]
    out = [fit(texts, blank).transform(t).text for t in texts]
    assert out == ["The head at [SCHOOL_01] rang us.", "The boys go to [SCHOOL_02]."]


def test_a_street_named_without_a_number(blank):
    """Found by the holdout set (so the holdout's figure after this fix is no longer blind): "Way" after a cue."""
    from toolkit.pseudonymise import find_addresses

    assert [x.text for x in find_addresses("A cluster of families on Foxglove Way use one GP.")] == ["Foxglove Way"]
    assert find_addresses("We are on the way; the Family Court sat in Leeds.") == []


def test_ni_numbers_with_dashes_and_dots():
    text = "NI KL-55-21-08-C, AB.12.34.56.C, ws 83 19 27 d; not the reference AB-12-34-56 or DA123456A."
    assert [x.text for x in find_ni_numbers(text)] == ["KL-55-21-08-C", "AB.12.34.56.C", "ws 83 19 27 d"]


# =========================================================================== paths
def test_a_name_in_lower_case_in_a_file_name(blank):
    t = transcript("x.txt", [("Interviewer", "What helped?"), ("P1", "The interview notes and the feedback helped.")])
    paths = ["Bramcote/interview_with_gideon_ashworth.docx", "Bramcote/BC02_school_nursing.srt",
             "Ashgrove/AG02_health_visiting_feedback_final.txt", "Ashgrove/survey_ashgrove.csv"]
    result = pseudonymise_records([SourceRecord(p, t) for p in paths], PseudonymisationOptions(allow=PLACES),
                                  nlp=blank)
    assert result.paths[0] == "Bramcote/interview_with_[PERSON_01].docx"
    assert list(result.paths[1:]) == paths[1:]


# =========================================================================== manifest and survey cells
def test_manifest_fields_are_pseudonymised(blank):
    t = transcript("x.txt", [("Interviewer", "What helped?"), ("P1", "The charter helped.")])
    meta = SourceMeta(place="Ashgrove", participant_id="AG01", organisation_type="Priory Lane Surgery",
                      sector="Health (on loan from Ingrid Falconbridge's team)",
                      role="School nurse (job share with Anouk Haverkamp)", interview_date="2026-03-02",
                      extra={"team": "the hub run by Kerensa Polglase", "size": 12})
    plain = SourceMeta(place="Bramcote", organisation_type="GP practice", sector="Local authority",
                       role="Supporting Families programme lead")

    class Read:  # ingestion's ReadSource, as the pipeline hands it over
        def __init__(self, relative, meta):
            self.file = type("F", (), {"relative": relative, "place": meta.place})()
            self.meta, self.record = meta, t

    from dataclasses import dataclass

    @dataclass
    class Item:
        file: object
        meta: SourceMeta
        record: Transcript

    items = [Item(r.file, r.meta, r.record) for r in (Read("Ashgrove/AG01.txt", meta), Read("Bramcote/B.txt", plain))]
    out = pseudonymise_records(items, PseudonymisationOptions(allow=PLACES), nlp=blank).records
    cells = " ".join(str(v) for v in (out[0].meta.role, out[0].meta.sector, out[0].meta.organisation_type,
                                       *out[0].meta.extra.values()))
    for leaked in ("Anouk", "Haverkamp", "Ingrid", "Falconbridge", "Priory", "Kerensa", "Polglase"):
        assert leaked not in cells
    assert out[0].meta.role.startswith("School nurse (job share with [PERSON_")
    assert out[0].meta.extra["size"] == 12 and out[0].meta.place == "Ashgrove"
    assert (out[1].meta.role, out[1].meta.organisation_type, out[1].meta.sector) == (
        "Supporting Families programme lead", "GP practice", "Local authority")


def test_survey_role_and_organisation_columns_are_pseudonymised(blank):
    respondents = pd.DataFrame({s.RESPONDENT_KEY: ["1", "2"], s.ROW_NUMBER: [1, 2], s.PLACE: ["Ashgrove"] * 2,
                                s.ROLE: ["Secretary to Dr Declan Oyelaran", "Health visitor"],
                                s.ORGANISATION_TYPE: ["Riverside Surgery", "GP practice"],
                                s.ATTRIBUTES: [{}, {}]})
    empty = pd.DataFrame({s.RESPONDENT_KEY: [], s.TEXT: []})
    survey = Survey(Path("survey.csv"), "csv", "generic", (), respondents, pd.DataFrame(), empty, empty)
    out = pseudonymise_records([SourceRecord("Ashgrove/survey.csv", survey, place="AG")],
                               PseudonymisationOptions(allow=PLACES), nlp=blank).records[0].record
    assert list(out.respondents[s.ROLE]) == ["Secretary to [PERSON_01]", "Health visitor"]
    assert list(out.respondents[s.ORGANISATION_TYPE]) == ["[GP_PRACTICE_01]", "GP practice"]


# =========================================================================== imports, notes, logs
def test_an_unplaced_imported_passage_is_reported_pseudonymised():
    """`toolkit import-codings` printed 'not placed: row 2: <the passage as written>' with its names."""
    from toolkit.review.imports import csv_passages

    frame = pd.DataFrame({"text": ["Asha Patel said this nowhere."], "theme": ["x"], "polarity": ["barrier"]})
    segments = pd.DataFrame({s.SEGMENT_KEY: ["k"], s.SOURCE_ID: [1], s.TEXT_ANSWER_ID: [None], s.START_CHAR: [0],
                             s.END_CHAR: [9], s.TEXT: ["Something"], s.PATH: ["A/x.txt"]})
    sources = pd.DataFrame({s.SOURCE_ID: [1], s.PATH: ["A/x.txt"], s.TEXT: ["Something"]})
    out = csv_passages(frame, segments, sources, redact=lambda t: t.replace("Asha Patel", "[PERSON_01]"))
    assert out["excerpt"].tolist() == ["[PERSON_01] said this nowhere."]
    assert out["segment_keys"].tolist() == [[]]


def test_survey_logs_name_no_file(tmp_path, caplog):
    from toolkit.ingest.surveys import read_survey

    path = tmp_path / "Responses from Olwen Price.csv"
    path.write_text("Respondent,What helps?\n1,Meeting in person helps a lot\n2,Shared records help us\n",
                    encoding="utf-8")
    with caplog.at_level(logging.DEBUG):
        read_survey(path)
    assert caplog.records and "Olwen" not in caplog.text


@pytest.mark.model
def test_ingest_notes_name_no_speaker(tmp_path, monkeypatch):
    """The ingest report's notes ('took <speaker> as the interviewer') are shown pseudonymised."""
    from toolkit.config import load_config
    from toolkit.pipeline import run_study

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "user"))
    root = tmp_path / "study"
    (root / "Ashgrove").mkdir(parents=True)
    (root / "study.toml").write_text('[study]\nname = "t"\nplaces = ["Ashgrove"]\n', encoding="utf-8")
    (root / "Ashgrove" / "AG01.vtt").write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Gethin Pritchard>What helped, and why?</v>\n\n"
        "00:00:05.000 --> 00:00:09.000\n<v Olwen Price>The charter helped us a lot.</v>\n\n"
        "00:00:10.000 --> 00:00:12.000\n<v Gethin Pritchard>Anything else?</v>\n\n"
        "00:00:13.000 --> 00:00:16.000\n<v Olwen Price>No, that covers it.</v>\n", encoding="utf-8")
    report = run_study(load_config(root), stages=("ingest",)).ingest
    notes = " ".join(n for notes in report.warnings.values() for n in notes)
    assert "interviewer" in notes
    assert "Gethin" not in notes and "Pritchard" not in notes
