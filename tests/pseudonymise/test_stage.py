"""The pseudonymisation stage: pure records-in/records-out, free text, paths, and the old wrapper."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import spacy

from toolkit import pseudonymise
from toolkit import schema as s
from toolkit.config import PseudonymisationOptions
from toolkit.errors import ConfigError
from toolkit.pseudonymise import (
    PseudonymisationResult,
    Pseudonymiser,
    SourceRecord,
    keyfile,
    pseudonymise_path,
    pseudonymise_records,
    pseudonymise_text,
)
from toolkit.schema import INTERVIEWER, PARTICIPANT, Survey, Transcript, Turn


@pytest.fixture(scope="module")
def blank():
    return spacy.blank("en")


def transcript(path: str, turns: list[tuple[str, str]]) -> Transcript:
    text, out, pos = "", [], 0
    for i, (speaker, said) in enumerate(turns):
        line = f"{speaker}: {said}\n"
        start = pos + len(speaker) + 2
        role = INTERVIEWER if speaker.startswith("I") else PARTICIPANT
        out.append(Turn(i, speaker, role, start, start + len(said), said))
        text += line
        pos += len(line)
    return Transcript(Path(path), "txt", text, tuple(out))


def survey(path: str) -> Survey:
    respondents = pd.DataFrame({s.RESPONDENT_KEY: ["1", "2"], s.ATTRIBUTES: [{}, {}]})
    texts = pd.DataFrame({s.RESPONDENT_KEY: ["1", "2"], s.QUESTION_KEY: ["q1", "q1"],
                          s.TEXT: ["Ask Orla Pennyworth.", "Ring 07700 900123."]})
    personal = pd.DataFrame({s.RESPONDENT_KEY: ["1"], s.TEXT: ["Orla Pennyworth"]})
    likert = pd.DataFrame({s.RESPONDENT_KEY: [], s.QUESTION_KEY: [], s.LABEL: [], s.VALUE: []})
    return Survey(path=Path(path), format="xlsx", vendor="msforms", questions=(), respondents=respondents,
                  likert=likert, texts=texts, personal=personal)


def test_the_public_names_are_all_importable():
    for name in pseudonymise.__all__:
        assert hasattr(pseudonymise, name), name


def test_records_in_same_order_with_paths_key_and_report(blank):
    a = transcript("x", [("I1", "Hello."), ("P1", "Aled Pryce here, NHS 943 476 5919.")])
    b = transcript("y", [("P1", "I spoke to Aled yesterday.")])
    records = [SourceRecord("Zed/b.txt", b), SourceRecord("Alpha/Aled Pryce.txt", a, interviewers=("I1",))]
    result = pseudonymise_records(records, PseudonymisationOptions(), nlp=blank, names=("Aled Pryce",))
    assert isinstance(result, PseudonymisationResult)
    assert [r.source for r in result.records] == ["Zed/b.txt", "Alpha/Aled Pryce.txt"]  # same order
    # numbering follows the sorted sources: Alpha/ before Zed/
    assert result.records[1].record.text == "I01: Hello.\nP01: [PERSON_01] here, NHS [NHS_NUMBER_01].\n"
    assert result.records[0].record.text == "P02: I spoke to [PERSON_01] yesterday.\n"
    assert result.paths == ("Zed/b.txt", "Alpha/[PERSON_01].txt")
    assert {"kind": "nhs_number", "value": "9434765919", "original": "943 476 5919", "code": "NHS_NUMBER_01"} \
        in result.key.entries
    assert result.summary()["replaced"]["nhs_number"] == 1
    assert "943 476" not in str(result.summary())


def test_records_keep_an_existing_key(blank):
    first = pseudonymise_records([SourceRecord("a.txt", transcript("a", [("P1", "Ring 07700 900123.")]))],
                                 PseudonymisationOptions(), nlp=blank)
    second = pseudonymise_records(
        [SourceRecord("b.txt", transcript("b", [("P1", "Ring 07700 900999 or 07700 900123.")]))],
        PseudonymisationOptions(), key=first.key, nlp=blank,
    )
    assert second.records[0].record.text == "P02: Ring [PHONE_02] or [PHONE_01].\n"


def test_records_accept_ingest_items_and_surveys(blank):
    @dataclass
    class File:
        relative: str
        place: str | None

    @dataclass
    class Item:
        file: File
        meta: s.SourceMeta
        record: object

    items = [Item(File("Fernmouth/survey.xlsx", "Fernmouth"), s.SourceMeta(place="FM"), survey("survey.xlsx"))]
    result = pseudonymise_records(items, PseudonymisationOptions(), nlp=blank)
    out = result.records[0]
    assert isinstance(out, Item) and out.file.relative == "Fernmouth/survey.xlsx"
    assert list(out.record.texts[s.TEXT]) == ["Ask [PERSON_01].", "Ring [PHONE_01]."]
    assert list(out.record.texts[s.RESPONDENT_KEY]) == ["FM_R001", "FM_R002"]
    assert out.record.personal.empty


def test_records_refuse_other_items(blank):
    with pytest.raises(ConfigError, match="expected SourceRecord"):
        pseudonymise_records(["some text"], PseudonymisationOptions(), nlp=blank)


def test_the_stage_writes_no_file(blank, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pseudonymise_records([SourceRecord("a.txt", transcript("a", [("P1", "Ring 07700 900123.")]))],
                         PseudonymisationOptions(), nlp=blank)
    assert list(tmp_path.iterdir()) == []


def test_free_text_keeps_known_pseudonyms_and_numbers_new_ones(blank):
    options = PseudonymisationOptions()
    run = pseudonymise_records(
        [SourceRecord("a.txt", transcript("a", [("Araminta Puddlecombe", "Ask Aled Pryce, 07700 900123.")]))],
        options, nlp=blank, names=("Aled Pryce",),
    )
    note = pseudonymise_text(
        "Araminta said Aled and Dr Hyacinth Marrowby (07700 900999, jo@example.org) agreed.",
        key=run.key, options=options, nlp=blank,
    )
    assert note.text == "[P01] said [PERSON_01] and [PERSON_02] ([PHONE_02], [EMAIL_01]) agreed."
    assert note.replaced == {"person": 3, "phone": 1, "email": 1}
    again = pseudonymise_text("Marrowby agreed.", key=note.key, options=options, nlp=blank)
    assert again.text == "[PERSON_02] agreed."


def test_path_with_a_name(blank):
    options = PseudonymisationOptions()
    out = pseudonymise_path("Brackenford/BK05 Siobhan Ni Dhomhnaill interview.txt", key=None, options=options,
                            nlp=blank, names=("Siobhan Ni Dhomhnaill",))
    assert out.text == "Brackenford/BK05 [PERSON_01] interview.txt"
    note = pseudonymise_text("Siobhan rang.", key=out.key, options=options, nlp=blank)
    assert note.text == "[PERSON_01] rang."
    variant = pseudonymise_path("Leeds/siobhan_dhomhnaill_feedback.docx", key=out.key, options=options, nlp=blank)
    assert variant.text == "Leeds/[PERSON_01]_feedback.docx"


def test_wrapper_writes_key_and_report_private(tmp_path, blank, monkeypatch):
    @dataclass
    class File:
        relative: str
        place: str | None

    @dataclass
    class Item:
        file: File
        meta: s.SourceMeta
        record: object

    @dataclass
    class Config:
        key_path: Path
        pseudonymisation: PseudonymisationOptions

        @property
        def ingest(self):
            return type("Ingest", (), {"interviewers": ("Rosalind Fairweather",)})()

    import toolkit.models

    monkeypatch.setattr(toolkit.models, "load_spacy", lambda *a, **k: blank)
    config = Config(tmp_path / "keys" / "k.json", PseudonymisationOptions())
    items = [Item(File("a.txt", None), s.SourceMeta(), transcript("a", [("P1", "Rosalind Fairweather rang.")]))]
    out, summary = pseudonymise.pseudonymise_sources(config, items)
    assert out[0].record.text == "P01: [I01] rang.\n" or out[0].record.text == "P01: [PERSON_01] rang.\n"
    assert stat.S_IMODE(os.stat(config.key_path).st_mode) == 0o600
    report = Path(summary["report_path"])
    assert report.exists() and stat.S_IMODE(os.stat(report).st_mode) == 0o600
    assert keyfile.load_key(config.key_path) == Pseudonymiser.load_key(config.key_path)


def test_file_names_teach_names_used_in_the_text(blank):
    t = transcript("a", [("P1", "Siobhan said it was fine.")])
    result = pseudonymise_records([SourceRecord("BK05 Siobhan Ni Dhomhnaill interview.txt", t)],
                                  PseudonymisationOptions(), nlp=blank)
    assert "Dhomhnaill" not in result.paths[0]
    assert "Siobhan" not in result.records[0].record.text
