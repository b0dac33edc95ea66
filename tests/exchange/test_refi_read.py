"""REFI-QDA reading: pure frames anchored by content, both note layouts, offsets in UTF-16 units, exact
round trips through the matcher, vendor projects, refusals."""

from __future__ import annotations

import logging
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import realfile_params, realfiles_dir
from tests.exchange.conftest import EMOJI, TEXT_B, WHEN, segments_of
from toolkit import schema as s
from toolkit.errors import InputDataError
from toolkit.exchange.refi import (
    CODE_COLUMN,
    PARAGRAPH_BREAK,
    codings_from_project,
    read_qdc,
    read_qdpx,
    survey_paragraph,
    write_qdc,
    write_qdpx,
)

REPO = Path(__file__).resolve().parents[2]
G = "AAAAAAAA-0000-0000-0000-0000000000{:02d}".format  # readable GUIDs for hand-made projects


def _project(tmp_path, body: str, *, origin: str = "", name: str = "project.qde") -> Path:
    path = tmp_path / name
    path.write_text(
        f'<?xml version="1.0" encoding="utf-8"?>\n<Project name="Hand made" origin="{origin}" '
        f'xmlns="urn:QDA-XML:project:1.0"><Users><User guid="{G(1)}" name="Bea"/></Users>{body}</Project>',
        encoding="utf-8",
    )
    return path


# --------------------------------------------------------------------------- what the reader returns
def test_the_reader_is_pure_and_anchors_codings_by_content(qdpx, tiny_export):
    project = read_qdpx(qdpx)
    assert project.warnings == ()
    row = project.codings.set_index(["path", "code"]).loc[("Brackenford/BK01_programme_lead.docx", "trust_relationships - enabler")]
    assert row["passage"] == "We trust [PERSON_03] now, café and all."
    assert (row["source"], row["theme"], row["polarity"], row["coder"], row["note"]) == (
        "Brackenford - BK01_programme_lead.docx", "trust_relationships", "enabler", "ana", "trust rebuilt"
    )
    assert row["parent_code"] == tiny_export.codebook.theme("trust_relationships").name
    # Reading touches no store: importing the reader does not even load the store module.
    code = "import sys, toolkit.exchange.refi; sys.exit('toolkit.store' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env={"PYTHONPATH": str(REPO)}, check=False)
    assert done.returncode == 0


def test_round_trip_keeps_every_coding(qdpx, tiny_export):
    project = read_qdpx(qdpx)
    texts = project.sources.set_index("path")["text"]
    for source in tiny_export.sources.itertuples():
        if source.kind == "transcript":
            assert texts[source.path] == source.text  # same plain text, non-ASCII included
    assert set(project.codings["passage"]) <= set(tiny_export.segments[s.TEXT])
    got = codings_from_project(project, segments_of(tiny_export))
    assert got[s.SEGMENT_KEY].notna().all() and set(got["match"]) == {"exact"}
    pairs = lambda f: sorted(map(tuple, f[[s.SEGMENT_KEY, s.THEME, s.POLARITY]].to_numpy().tolist()))
    assert pairs(got) == pairs(tiny_export.codings)
    coders = dict(zip(got[s.SEGMENT_KEY] + got[s.THEME], got[s.CODER], strict=True))
    assert coders["k3trust_relationships"] == "ana" and coders["k1agreements_protocols"] == "machine"
    # Good practice is a flag per passage, though it sits in a selection of its own.
    flagged = set(tiny_export.codings.loc[tiny_export.codings[s.GOOD_PRACTICE], s.SEGMENT_KEY])
    assert set(got.loc[got[s.GOOD_PRACTICE], s.SEGMENT_KEY]) == flagged
    assert got.loc[got[s.SEGMENT_KEY] == "k3", s.NOTE].tolist() == ["trust rebuilt"]


def test_round_trip_offsets_are_code_points(qdpx, tiny_export):
    got = codings_from_project(read_qdpx(qdpx), segments_of(tiny_export))
    got = got.drop_duplicates(s.SEGMENT_KEY).set_index(s.SEGMENT_KEY)
    transcript = tiny_export.segments[tiny_export.segments[s.RESPONDENT_KEY].isna()].set_index(s.SEGMENT_KEY)
    for key, seg in transcript.iterrows():
        assert (got.loc[key, "start"], got.loc[key, "end"]) == (seg[s.START_CHAR], seg[s.END_CHAR])
    # "café" comes after the only non-ASCII character: byte offsets would differ from code points.
    assert got.loc["k3", "passage"] == "We trust [PERSON_03] now, café and all."


def test_survey_answers_become_paragraphs_and_round_trip(qdpx, tiny_export):
    project = read_qdpx(qdpx)
    survey = project.sources.set_index("path").loc["Fernmouth/survey.xlsx"]
    paragraph, offset = survey_paragraph("Fernmouth_R001", "What gets in the way?", "Nobody trusts the forms.")
    assert survey["text"].split(PARAGRAPH_BREAK) == [paragraph]
    assert survey["name"] == "Fernmouth - survey.xlsx"
    got = codings_from_project(project, segments_of(tiny_export))
    k6 = got[got[s.SEGMENT_KEY] == "k6"].iloc[0]
    assert (k6[s.THEME], k6[s.POLARITY], k6["start"], k6["passage"]) == (
        "trust_relationships", "barrier", offset, "Nobody trusts the forms."
    )


def test_survey_paragraph_keeps_offsets_when_answers_have_line_breaks():
    paragraph, offset = survey_paragraph("R1", "Why?\nReally", "Line one\r\nline two")
    assert "\n" not in paragraph and "\r" not in paragraph
    assert paragraph[offset:] == "Line one  line two"


# --------------------------------------------------------------------------- notes, both layouts
def test_our_notes_on_every_target_read_back_once(rich_export, rich_notes, tmp_path):
    path = write_qdpx(rich_export, tmp_path / "rich.qdpx", notes=rich_notes, exported_at=WHEN)
    notes = read_qdpx(path).notes.set_index("text")
    assert len(notes) == 6  # a passage note is referred to twice (source and selection) but read once
    assert notes.loc["Read FM01 beside BK01.", "target"] == "project"
    assert notes.loc["Read FM01 beside BK01.", "author"] == "bea"
    assert notes.loc["Trust is the thread through every place.", "code"] == "Trust and relationships between partners"
    assert notes.loc["Enablers of trust are mostly people.", "code"] == "trust_relationships - enabler"
    on_source = notes.loc["Recorded on Teams; audio poor in places."]
    assert (on_source["target"], on_source["path"]) == ("source", "Fernmouth/FM01_icb.vtt")
    on_passage = notes.loc["Same-day IG answers: ask how."]
    assert (on_passage["target"], on_passage["passage"]) == ("selection", "Our IG lead answers the same day.")
    assert notes.loc["trust rebuilt", "passage"] == "We trust [PERSON_03] now, café and all."


def test_qualcoder_layout_a_note_under_the_source_with_its_range(tmp_path):
    text = "We share by default now. Nobody asks twice."
    path = _project(tmp_path, f"""
 <CodeBook><Codes><Code guid="{G(2)}" name="Culture" isCodable="true"/></Codes></CodeBook>
 <Sources><TextSource guid="{G(3)}" name="BK01.docx"><PlainTextContent>{text}</PlainTextContent>
  <PlainTextSelection guid="{G(4)}" startPosition="0" endPosition="24" creatingUser="{G(1)}">
   <Coding guid="{G(5)}" creatingUser="{G(1)}"><CodeRef targetGUID="{G(2)}"/></Coding></PlainTextSelection>
  <NoteRef targetGUID="{G(6)}"/>
 </TextSource></Sources>
 <Notes><Note guid="{G(6)}" creatingUser="{G(1)}" creationDateTime="2025-01-02T03:04:05Z">
  <PlainTextContent>A shift in culture.</PlainTextContent>
  <PlainTextSelection guid="{G(7)}" startPosition="0" endPosition="24"/></Note></Notes>""")
    project = read_qdpx(path)
    note = project.notes.iloc[0]
    assert (note["target"], note["passage"], note["author"], note["created_at"]) == (
        "selection", "We share by default now.", "Bea", "2025-01-02T03:04:05Z"
    )
    assert project.codings["note"].tolist() == ["A shift in culture."]


def test_nvivo_layouts_links_several_codings_per_selection_and_notes_in_files(tmp_path):
    text = "Trust grew. Forms did not."
    path = tmp_path / "nvivo.qdpx"
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project name="N" origin="NVivo 14" xmlns="urn:QDA-XML:project:1.0"><Users><User guid="{G(1)}" name="Bea"/></Users>
 <CodeBook><Codes><Code guid="{G(2)}" name="Trust" isCodable="true">
   <Code guid="{G(8)}" name="Barriers" isCodable="true"/><Code guid="{G(9)}" name="Enabler" isCodable="true"/></Code>
 </Codes></CodeBook>
 <Sources><TextSource guid="{G(3)}" name="FM01" plainTextPath="internal://{G(3)}.txt">
  <PlainTextSelection guid="{G(4)}" startPosition="0" endPosition="11" creatingUser="{G(1)}">
   <Coding guid="{G(5)}"><CodeRef targetGUID="{G(2)}"/></Coding>
   <Coding guid="{G(10)}"><CodeRef targetGUID="{G(9)}"/></Coding></PlainTextSelection>
 </TextSource></Sources>
 <Notes><Note guid="{G(6)}" name="Annotation" plainTextPath="internal://{G(6)}.txt" creatingUser="{G(1)}"/></Notes>
 <Links><Link guid="{G(11)}" originGUID="{G(6)}" targetGUID="{G(4)}"/></Links>
</Project>"""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("project.qde", qde)
        archive.writestr(f"Sources/{G(3)}.txt", text)
        archive.writestr(f"Sources/{G(6)}.txt", "Said twice.")
    project = read_qdpx(path)
    assert project.codings["code"].tolist() == ["Trust", "Enabler"]  # every coding of the selection
    enabler = project.codings.iloc[1]
    assert (enabler["parent_code"], enabler["theme"], enabler["polarity"], enabler["note"]) == (
        "Trust", "Trust", "enabler", "Said twice."
    )
    assert project.codings["passage"].tolist() == ["Trust grew."] * 2
    assert project.codes.set_index("name").loc["Barriers", "polarity"] == "barrier"


# --------------------------------------------------------------------------- offsets above U+FFFF
def test_nvivo_offsets_in_utf16_units_are_converted(rich_export, tmp_path):
    for unit in ("codepoints", "utf16"):
        path = write_qdpx(rich_export, tmp_path / f"{unit}.qdpx", exported_at=WHEN, offsets=unit)
        project = read_qdpx(path)  # our description says how it counts
        k5 = project.codings[project.codings["passage"] == "Our IG lead answers the same day."]
        assert len(k5) == 3 and set(k5["start"]) == {TEXT_B.index("Our IG lead")}
        got = codings_from_project(project, segments_of(rich_export))
        assert got[s.SEGMENT_KEY].notna().all() and set(got["match"]) == {"exact"}
        assert got.loc[got[s.SEGMENT_KEY] == "k4", "passage"].iloc[0].endswith(f"{EMOJI}.")


def _emoji_project(tmp_path, origin: str, start: int, end: int) -> Path:
    text = f"Smile {EMOJI} then trust."
    return _project(tmp_path, f"""
 <CodeBook><Codes><Code guid="{G(2)}" name="Trust" isCodable="true"/></Codes></CodeBook>
 <Sources><TextSource guid="{G(3)}" name="S"><PlainTextContent>{text}</PlainTextContent>
  <PlainTextSelection guid="{G(4)}" startPosition="{start}" endPosition="{end}"><Coding guid="{G(5)}">
   <CodeRef targetGUID="{G(2)}"/></Coding></PlainTextSelection></TextSource></Sources>""", origin=origin)


def test_offsets_unit_is_detected_from_the_origin_or_the_selections(tmp_path, caplog):
    text = f"Smile {EMOJI} then trust."
    at = text.index("trust")
    nvivo = read_qdpx(_emoji_project(tmp_path, "NVivo 14.24", at + 1, at + 6))
    assert nvivo.codings["passage"].tolist() == ["trust"] and nvivo.sources["offset_unit"].tolist() == ["utf16"]
    # No origin, but a selection only fits in UTF-16 units: they are UTF-16 units.
    fits = read_qdpx(_emoji_project(tmp_path, "", len(text) - 5, len(text) + 1))
    assert fits.codings["passage"].tolist() == ["trust."]
    # No origin, nothing to tell: code points, and a warning that says how to read it otherwise.
    with caplog.at_level(logging.WARNING):
        unsure = read_qdpx(_emoji_project(tmp_path, "MAXQDA 2024", at, at + 5))
    assert unsure.codings["passage"].tolist() == ["trust"]
    assert "holds characters above U+FFFF" in caplog.text and "offsets='utf16'" in caplog.text
    forced = read_qdpx(_emoji_project(tmp_path, "MAXQDA 2024", at + 1, at + 6), offsets="utf16")
    assert forced.codings["passage"].tolist() == ["trust"]


# --------------------------------------------------------------------------- foreign codes
def test_foreign_codes_are_kept_with_their_name(tiny_export, tmp_path):
    text = tiny_export.sources.loc[0, s.TEXT]
    start = text.index("The charter helped us a lot.")
    path = _project(tmp_path, f"""
 <CodeBook><Codes>
  <Code guid="{G(2)}" name="Leadership" isCodable="true"/>
  <Code guid="{G(3)}" name="agreements_protocols - enabler" isCodable="true"/>
 </Codes></CodeBook>
 <Sources><TextSource guid="{G(4)}" name="BK01_programme_lead.docx">
  <PlainTextContent>{text}</PlainTextContent>
  <PlainTextSelection guid="{G(5)}" startPosition="{start}" endPosition="{start + 27}" creatingUser="{{{G(1)}}}">
   <Coding guid="{G(6)}"><CodeRef targetGUID="{G(2)}"/></Coding>
   <Coding guid="{G(7)}"><CodeRef targetGUID="{G(3).lower()}"/></Coding>
  </PlainTextSelection>
 </TextSource></Sources>""")
    got = codings_from_project(read_qdpx(path), segments_of(tiny_export)).set_index(CODE_COLUMN)
    assert pd.isna(got.loc["Leadership", s.THEME]) and got.loc["Leadership", s.SEGMENT_KEY] == "k1"
    ours = got.loc["agreements_protocols - enabler"]
    assert (ours[s.THEME], ours[s.POLARITY], ours[s.CODER], ours["match"]) == (
        "agreements_protocols", "enabler", "Bea", "overlap"
    )


def test_a_passage_is_found_by_its_text_when_offsets_moved(tiny_export, tmp_path):
    text = "Preamble added later. " + tiny_export.sources.loc[0, s.TEXT]
    start = text.index("The charter helped us a lot.")
    path = _project(tmp_path, f"""
 <CodeBook><Codes><Code guid="{G(2)}" name="agreements_protocols - enabler" isCodable="true"/></Codes></CodeBook>
 <Sources><TextSource guid="{G(4)}" name="Brackenford - BK01_programme_lead.docx">
  <PlainTextContent>{text}</PlainTextContent>
  <PlainTextSelection guid="{G(5)}" startPosition="{start}" endPosition="{start + 28}">
   <Coding guid="{G(6)}"><CodeRef targetGUID="{G(2)}"/></Coding></PlainTextSelection>
  <VariableValue><VariableRef targetGUID="{G(9)}"/><TextValue>Brackenford/BK01_programme_lead.docx</TextValue></VariableValue>
 </TextSource></Sources>""".replace("<Sources>", f'<Variables><Variable guid="{G(9)}" name="source_path" typeOfVariable="Text"/></Variables><Sources>'))
    got = codings_from_project(read_qdpx(path), segments_of(tiny_export))
    assert (got.loc[0, s.SEGMENT_KEY], got.loc[0, "match"], got.loc[0, "path"]) == (
        "k1", "text", "Brackenford/BK01_programme_lead.docx"
    )


# --------------------------------------------------------------------------- real vendor files
@pytest.mark.parametrize("path", realfile_params("qdpx"))
def test_real_projects_import(path):
    expected = {  # codes, sources, text codings (loosely: at least)
        "TestProject.qdpx": (10, 10, 5),
        "Project.qde": (10, 10, 5),
        "oltas0517.qdpx": (100, 2, 200),
        "blank-atlas-project.qdpx": (0, 0, 0),
        "target-atlas-project.qdpx": (3, 0, 0),
    }
    project = read_qdpx(path)
    n_codes, n_sources, n_codings = expected.get(path.name, (0, 0, 0))
    assert len(project.codes) >= n_codes
    assert len(project.sources) >= n_sources
    assert len(project.codings) >= n_codings
    assert project.codings["code"].notna().all()
    if path.name == "oltas0517.qdpx":  # NVivo: nested codes, texts present, passages cut from them
        assert project.codes["parent_guid"].notna().any()
        assert project.sources["text"].notna().all() and project.warnings == ()
        assert project.codings["passage"].notna().all()
        # Its texts hold ~900 emoji; NVivo counts UTF-16 units: converted, passages start and end between words.
        assert set(project.sources["offset_unit"]) == {"utf16"}
        assert _on_word_boundaries(project) > 0.95
        assert _on_word_boundaries(read_qdpx(path, offsets="codepoints")) < 0.5  # read as code points: cut words
    if path.name in ("TestProject.qdpx", "Project.qde"):  # ATLAS.ti: the Sources folder is empty
        assert project.sources.loc[project.sources["kind"] == "TextSource", "text"].isna().all()
        assert any("is not in the project" in w for w in project.warnings)
        assert "Mabêl 2ième.txt" in {unicodedata.normalize("NFC", n) for n in project.sources["name"]}


def _on_word_boundaries(project) -> float:
    texts = project.sources.set_index("guid")["text"]
    good = 0
    for row in project.codings.itertuples():
        text = texts[row.source_guid]
        starts = row.start == 0 or not (text[row.start - 1].isalnum() and text[row.start].isalnum())
        ends = row.end >= len(text) or not (text[row.end - 1].isalnum() and text[row.end].isalnum())
        good += starts and ends
    return good / len(project.codings)


def test_real_codebook_of_a_project_reads_as_qdc():
    path = realfiles_dir("qdpx") / "target-atlas-project.qdpx"
    if not path.is_file():
        pytest.skip("target-atlas-project.qdpx not available")
    assert set(read_qdc(path).codes["name"]) >= {"Commits"}


# --------------------------------------------------------------------------- refusals
def test_corrupt_zip_is_refused(qdpx, tmp_path):
    broken = tmp_path / "broken.qdpx"
    broken.write_bytes(qdpx.read_bytes()[:200])
    with pytest.raises(InputDataError, match=r"broken\.qdpx: a damaged zip file.*export"):
        read_qdpx(broken)


def test_zip_without_project_is_refused(tmp_path):
    path = tmp_path / "other.qdpx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(InputDataError, match=r"other\.qdpx: this zip holds no project\.qde \(found: readme\.txt\)"):
        read_qdpx(path)


def test_wrong_root_is_refused(tmp_path):
    path = tmp_path / "notes.qde"
    path.write_text('<?xml version="1.0"?><html><body/></html>', encoding="utf-8")
    with pytest.raises(InputDataError, match=r"notes\.qde: the XML root is <html>, expected <Project"):
        read_qdpx(path)


def test_codebook_given_as_project_says_so(tiny_export, tmp_path):
    book = write_qdc(tiny_export.codebook, tmp_path / "book.qdc")
    with pytest.raises(InputDataError, match="read it with read_qdc"):
        read_qdpx(book)
    project = write_qdpx(tiny_export, tmp_path / "p.qdpx", exported_at=WHEN)
    assert len(read_qdc(project).codes) == len(read_qdc(book).codes)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"\x00\x01binary junk", "neither a zip"), (b"<Project name='x'><Users>", "not well-formed XML")],
)
def test_not_a_project_is_refused(tmp_path, content, message):
    path = tmp_path / "thing.qdpx"
    path.write_bytes(content)
    with pytest.raises(InputDataError, match=message):
        read_qdpx(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InputDataError, match="no such file"):
        read_qdpx(tmp_path / "absent.qdpx")
    with pytest.raises(InputDataError, match="is a folder"):
        read_qdpx(tmp_path)
    with pytest.raises(ValueError, match="offsets must be"):
        read_qdpx(tmp_path / "absent.qdpx", offsets="bytes")
