"""Word, OpenDocument and PDF transcripts: speakers as in other formats, XML entities, scans."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ingest.hostile import BILLION_LAUGHS, docx_with_dtd, write_odt, write_pdf
from toolkit.errors import InputDataError
from toolkit.ingest import read_file
from toolkit.ingest.transcripts import read_transcript
from toolkit.schema import INTERVIEWER, OTHER, PARTICIPANT, Transcript


def assert_offsets(t: Transcript) -> None:
    for turn in t.turns:
        assert t.text[turn.start : turn.end] == turn.text


def dialogue(t: Transcript) -> list[tuple[str | None, str, str]]:
    return [(turn.speaker, turn.role, turn.text) for turn in t.turns if turn.role != OTHER]


# --------------------------------------------------------------------------- odt
ODT_BODY = (
    "<text:h>Interview transcript - data lead - Fernmouth</text:h>"
    "<text:p><text:span>Interviewer:</text:span> How did the charter start?</text:p>"
    '<text:p>P1: Honestly,<text:s text:c="2"/>with a coffee.<text:note><text:note-body><text:p>a footnote'
    "</text:p></text:note-body></text:note></text:p>"
    "<text:list><text:list-item><text:p>Interviewer: And then?</text:p></text:list-item></text:list>"
    "<table:table><table:table-row><table:table-cell><text:p>P1</text:p></table:table-cell>"
    "<table:table-cell><text:p>The DPH<text:tab/>said yes.</text:p></table:table-cell></table:table-row></table:table>"
)


def test_odt_speakers_as_in_other_formats(tmp_path: Path) -> None:
    t = read_transcript(write_odt(tmp_path / "fm05.odt", ODT_BODY))
    assert_offsets(t)
    assert t.format == "odt"
    assert dialogue(t) == [
        ("Interviewer", INTERVIEWER, "How did the charter start?"),
        ("P1", PARTICIPANT, "Honestly,  with a coffee."),
        ("Interviewer", INTERVIEWER, "And then?"),
        ("P1", PARTICIPANT, "The DPH\tsaid yes."),
    ]
    assert "footnote" not in t.text
    assert t.turns[0].role == OTHER


def test_odt_through_read_file(tmp_path: Path) -> None:
    assert read_file(write_odt(tmp_path / "x.odt", ODT_BODY)).format == "odt"


def test_encrypted_odt_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match=r"locked\.odt: is password-protected.*without a password"):
        read_transcript(write_odt(tmp_path / "locked.odt", ODT_BODY, encrypted=True))


def test_odt_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    (tmp_path / "plain.odt").write_text("Interviewer: hi")
    with pytest.raises(InputDataError, match=r"plain\.odt: is not an OpenDocument text"):
        read_transcript(tmp_path / "plain.odt")


def test_odt_entities_are_inlined_never_fetched(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-PATIENT-LIST")
    dtd = f'<!DOCTYPE office:document-content [<!ENTITY org "the council"><!ENTITY xxe SYSTEM "file://{secret}">]>'
    body = "<text:p>Interviewer: Who?</text:p><text:p>P1: It was &org; and &xxe; after all.</text:p>"
    t = read_transcript(write_odt(tmp_path / "e.odt", body, dtd=dtd))
    assert dialogue(t)[1][2] == "It was the council and &xxe; after all."
    assert "TOP-SECRET" not in t.text
    assert any("XML entities" in w for w in t.warnings)


# --------------------------------------------------------------------------- pdf
PAGES = [
    [
        "Fernmouth study - confidential",
        "Interviewer: How did the charter start?",
        "Participant: Honestly, it started with a coffee (and a",
        "long chat) with the DPH.",
        "Page 1 of 3",
    ],
    ["Fernmouth study - confidential", "Interviewer: Really?", "Participant: Really.", "Page 2 of 3"],
    ["Fernmouth study - confidential", "Interviewer: Thanks.", "Participant: No problem.", "Page 3 of 3"],
]


def test_text_pdf_speakers_and_page_furniture(tmp_path: Path) -> None:
    t = read_transcript(write_pdf(tmp_path / "fm06.pdf", PAGES))
    assert_offsets(t)
    assert t.format == "pdf"
    assert dialogue(t) == [
        ("Interviewer", INTERVIEWER, "How did the charter start?"),
        ("Participant", PARTICIPANT, "Honestly, it started with a coffee (and a\nlong chat) with the DPH."),
        ("Interviewer", INTERVIEWER, "Really?"),
        ("Participant", PARTICIPANT, "Really."),
        ("Interviewer", INTERVIEWER, "Thanks."),
        ("Participant", PARTICIPANT, "No problem."),
    ]
    assert "confidential" not in t.text and "Page 2" not in t.text
    assert any("header or footer" in w for w in t.warnings)


def test_scanned_pdf_is_refused_with_ocr_advice(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match=r"scan\.pdf: has no text layer \(2 page\(s\).*run OCR on it.*ocrmypdf"):
        read_transcript(write_pdf(tmp_path / "scan.pdf", [[], []], image_only=True))


def test_pdf_without_speakers_is_not_taken_for_a_transcript(tmp_path: Path) -> None:
    pages = [["Consent form", "I agree to take part in the study.", "Signed: ____"]]
    with pytest.raises(InputDataError, match=r"consent\.pdf: has text but no speaker labels.*\[ingest\] exclude"):
        read_transcript(write_pdf(tmp_path / "consent.pdf", pages))


def test_damaged_pdf_is_refused(tmp_path: Path) -> None:
    (tmp_path / "cut.pdf").write_bytes(write_pdf(tmp_path / "whole.pdf", PAGES).read_bytes()[:300])
    with pytest.raises(InputDataError, match=r"cut\.pdf: .*(not a readable PDF|damaged PDF|no text layer)"):
        read_transcript(tmp_path / "cut.pdf")


def test_pdf_page_limit(tmp_path: Path) -> None:
    from toolkit.ingest.limits import Limits

    with pytest.raises(InputDataError, match=r"long\.pdf: has 3 pages; the limit for a transcript is 2"):
        read_transcript(write_pdf(tmp_path / "long.pdf", PAGES), limits=Limits(max_pdf_pages=2))


# --------------------------------------------------------------------------- docx entities
def test_docx_internal_entity_keeps_the_text_after_it(tmp_path: Path) -> None:
    # issue 16: the text after an entity was silently dropped
    path = docx_with_dtd(tmp_path / "e.docx", '<!DOCTYPE w:document [<!ENTITY org "the council">]>', "&org;")
    t = read_transcript(path)
    assert dialogue(t)[1][2] == "It was the council fine after all."
    assert any("1 replaced by the value the file declares" in w for w in t.warnings)


def test_docx_external_entity_is_never_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-PATIENT-LIST")
    path = docx_with_dtd(
        tmp_path / "x.docx", f'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file://{secret}">]>', "&xxe;"
    )
    t = read_transcript(path)
    assert "TOP-SECRET" not in t.text
    assert dialogue(t)[1][2] == "It was &xxe; fine after all."
    assert any("never fetched" in w for w in t.warnings)


def test_docx_billion_laughs_is_refused(tmp_path: Path) -> None:
    path = docx_with_dtd(tmp_path / "lol.docx", BILLION_LAUGHS, "&i;")
    with pytest.raises(InputDataError, match=r"lol\.docx: declares XML entities .*nothing in it was expanded"):
        read_transcript(path)
