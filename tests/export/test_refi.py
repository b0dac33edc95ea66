"""REFI-QDA export and import: schema validity, stable GUIDs, exact round trips, vendor files."""

from __future__ import annotations

import unicodedata
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import realfile_params, realfiles_dir
from toolkit import schema as s
from toolkit.errors import InputDataError
from toolkit.export.refi import (
    CODE_COLUMN,
    GOOD_PRACTICE_CODE,
    PARAGRAPH_BREAK,
    codings_from_project,
    guid_for,
    read_qdc,
    read_qdpx,
    survey_paragraph,
    validate,
    write_qdc,
    write_qdpx,
)
from toolkit.export.tables import ExportPathError

WHEN = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)


def _xsd(name: str) -> Path:
    path = realfiles_dir("xsd") / name
    if not path.is_file():
        pytest.skip(f"schema {name} not available at {path}")
    return path


def _segments(data) -> pd.DataFrame:
    """The study's segments as the store gives them to codings_from_project (with the source's text)."""
    texts = data.sources[[s.SOURCE_ID, s.TEXT]].rename(columns={s.TEXT: "source_text"})
    return data.segments.merge(texts, on=s.SOURCE_ID)


@pytest.fixture
def qdpx(tiny_export, tmp_path) -> Path:
    return write_qdpx(tiny_export, tmp_path / "tiny.qdpx", exported_at=WHEN)


# --------------------------------------------------------------------------- schema
def test_qdpx_validates_against_the_project_schema(qdpx):
    xsd = _xsd("Project-mrt2019.xsd")
    assert validate(qdpx, "qdpx", xsd) == []
    xmlschema = pytest.importorskip("xmlschema")  # a second, independent validator
    with zipfile.ZipFile(qdpx) as archive:
        assert xmlschema.XMLSchema(str(xsd)).is_valid(archive.read("project.qde").decode("utf-8"))


def test_qdc_validates_against_the_codebook_schema(tiny_export, tmp_path):
    xsd = _xsd("Codebook-mrt2019.xsd")
    path = write_qdc(tiny_export.codebook, tmp_path / "book.qdc")
    assert validate(path, "qdc", xsd) == []
    assert write_qdc(tiny_export, tmp_path / "same.qdc").read_bytes() == path.read_bytes()


def test_validate_reports_schema_errors(tmp_path):
    xsd = _xsd("Project-mrt2019.xsd")
    bad = tmp_path / "bad.qde"
    bad.write_text('<Project xmlns="urn:QDA-XML:project:1.0"><Users/></Project>', encoding="utf-8")
    errors = validate(bad, "qde", xsd)
    assert errors and "name" in " ".join(errors)  # the required name attribute and the empty Users


def test_project_layout_and_codebook_structure(qdpx, tiny_export):
    with zipfile.ZipFile(qdpx) as archive:
        names = archive.namelist()
        assert names[0] == "project.qde"
        assert all(n.startswith("Sources/") and n.endswith(".txt") for n in names[1:])
        assert len(names) == 1 + 3  # two transcripts and one survey file
    project = read_qdpx(qdpx)
    codes = project.codes
    themes = codes[codes["parent_guid"].isna() & (codes["name"] != GOOD_PRACTICE_CODE)]
    assert len(themes) == len(tiny_export.codebook.themes)
    children = codes[codes["parent_guid"] == guid_for("theme", "trust_relationships")]
    assert sorted(children["name"]) == [f"trust_relationships - {p}" for p in ("barrier", "enabler", "neutral")]
    assert (codes["name"] == GOOD_PRACTICE_CODE).sum() == 1
    trust = tiny_export.codebook.theme("trust_relationships")
    assert trust.definition in codes.set_index("guid").loc[guid_for("theme", trust.id), "description"]
    assert set(project.users["name"]) == {"machine", "ana"}


def test_cases_and_variables(qdpx):
    from lxml import etree

    with zipfile.ZipFile(qdpx) as archive:
        root = etree.fromstring(archive.read("project.qde"))
    ns = {"q": "urn:QDA-XML:project:1.0"}
    cases = {c.get("name"): c for c in root.findall("q:Cases/q:Case", ns)}
    assert set(cases) == {"BK01", "FM01", "Fernmouth_R001"}
    variables = {v.get("guid"): v.get("name") for v in root.findall("q:Variables/q:Variable", ns)}
    values = {
        variables[vv.find("q:VariableRef", ns).get("targetGUID")]: vv.find("q:TextValue", ns).text
        for vv in cases["Fernmouth_R001"].findall("q:VariableValue", ns)
    }
    assert values == {"place": "Fernmouth", "organisation_type": "GP practice", "role": "GP"}
    assert len(cases["BK01"].findall("q:SourceRef", ns)) == 1
    notes = root.findall("q:Notes/q:Note", ns)
    assert [n.find("q:PlainTextContent", ns).text for n in notes] == ["trust rebuilt"]


# --------------------------------------------------------------------------- stable GUIDs
def test_guids_are_identical_across_exports(tiny_export, tmp_path):
    first = write_qdpx(tiny_export, tmp_path / "a.qdpx", exported_at=WHEN)
    second = write_qdpx(tiny_export, tmp_path / "b.qdpx", exported_at=datetime(2027, 1, 1, tzinfo=timezone.utc))
    a, b = read_qdpx(first), read_qdpx(second)
    for frame in ("codes", "sources", "selections", "users"):
        pd.testing.assert_frame_equal(getattr(a, frame), getattr(b, frame))
    with zipfile.ZipFile(first) as one, zipfile.ZipFile(second) as two:
        assert one.namelist() == two.namelist()
    # Same time: the same bytes.
    again = write_qdpx(tiny_export, tmp_path / "c.qdpx", exported_at=WHEN)
    assert again.read_bytes() == first.read_bytes()
    # The codebook file uses the project's code GUIDs.
    book = read_qdc(write_qdc(tiny_export.codebook, tmp_path / "book.qdc"))
    assert list(book.codes["guid"]) == list(a.codes["guid"])


# --------------------------------------------------------------------------- round trip
def test_round_trip_keeps_every_coding(qdpx, tiny_export):
    project = read_qdpx(qdpx)
    assert project.warnings == ()
    texts = project.sources.set_index("name")["text"]
    for source in tiny_export.sources.itertuples():
        if source.kind == "transcript":
            assert texts[source.path] == source.text  # same plain text, non-ASCII included
    segments = tiny_export.segments.set_index(s.SEGMENT_KEY)
    by_guid = project.sources.set_index("guid")["text"]
    for row in project.selections.itertuples():
        assert row.user in {"machine", "ana"}
        assert by_guid[row.source_guid][row.start : row.end] in set(segments[s.TEXT])

    got = codings_from_project(project, _segments(tiny_export))
    assert got[s.SEGMENT_KEY].notna().all()
    expected = tiny_export.codings[[s.SEGMENT_KEY, s.THEME, s.POLARITY]]
    pairs = lambda f: sorted(map(tuple, f[[s.SEGMENT_KEY, s.THEME, s.POLARITY]].to_numpy().tolist()))  # noqa: E731
    assert pairs(got) == pairs(expected)
    coders = dict(zip(got[s.SEGMENT_KEY] + got[s.THEME], got[s.CODER], strict=True))
    assert coders["k3trust_relationships"] == "ana" and coders["k1agreements_protocols"] == "machine"
    # Good practice is a flag per segment.
    flagged = set(tiny_export.codings.loc[tiny_export.codings[s.GOOD_PRACTICE], s.SEGMENT_KEY])
    assert set(got.loc[got[s.GOOD_PRACTICE], s.SEGMENT_KEY]) == flagged
    assert got.loc[got[s.SEGMENT_KEY] == "k3", s.NOTE].tolist() == ["trust rebuilt"]


def test_round_trip_offsets_are_code_points(qdpx, tiny_export):
    project = read_qdpx(qdpx)
    got = codings_from_project(project, _segments(tiny_export)).drop_duplicates(s.SEGMENT_KEY).set_index(s.SEGMENT_KEY)
    transcript = tiny_export.segments[tiny_export.segments[s.RESPONDENT_KEY].isna()].set_index(s.SEGMENT_KEY)
    for key, seg in transcript.iterrows():
        assert (got.loc[key, "start"], got.loc[key, "end"]) == (seg[s.START_CHAR], seg[s.END_CHAR])
        assert got.loc[key, "match"] == "exact"
    # "café" comes after the only non-ASCII character: byte offsets would differ from code points.
    k3 = got.loc["k3"]
    text = project.sources.set_index("guid").loc[k3["source_guid"], "text"]
    assert text[k3["start"] : k3["end"]] == "We trust [PERSON_03] now, café and all."


def test_survey_answers_become_paragraphs_and_round_trip(qdpx, tiny_export):
    project = read_qdpx(qdpx)
    survey = project.sources.set_index("name").loc["Fernmouth/survey.xlsx"]
    paragraph, offset = survey_paragraph("Fernmouth_R001", "What gets in the way?", "Nobody trusts the forms.")
    assert survey["text"].split(PARAGRAPH_BREAK) == [paragraph]
    assert paragraph.startswith("Fernmouth_R001 | What gets in the way?: ")
    got = codings_from_project(project, _segments(tiny_export))
    k6 = got[got[s.SEGMENT_KEY] == "k6"].iloc[0]
    assert (k6[s.THEME], k6[s.POLARITY]) == ("trust_relationships", "barrier")
    assert survey["text"][k6["start"] : k6["end"]] == "Nobody trusts the forms."
    assert k6["start"] == offset


def test_survey_paragraph_keeps_offsets_when_answers_have_line_breaks():
    paragraph, offset = survey_paragraph("R1", "Why?\nReally", "Line one\r\nline two")
    assert "\n" not in paragraph and "\r" not in paragraph
    assert paragraph[offset:] == "Line one  line two"


def test_foreign_codes_are_kept_with_their_name(tiny_export, tmp_path):
    text = tiny_export.sources.loc[0, s.TEXT]
    start = text.index("The charter helped us a lot.")
    qde = tmp_path / "project.qde"
    qde.write_text(
        f"""<?xml version="1.0" encoding="utf-8"?>
<Project name="From NVivo" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="urn:QDA-XML:project:1.0">
 <Users><User guid="{{AAAAAAAA-0000-0000-0000-000000000001}}" name="Bea"/></Users>
 <CodeBook><Codes>
  <Code guid="AAAAAAAA-0000-0000-0000-000000000002" name="Leadership" isCodable="true"/>
  <Code guid="AAAAAAAA-0000-0000-0000-000000000003" name="agreements_protocols - enabler" isCodable="true"/>
 </Codes></CodeBook>
 <Sources><TextSource guid="AAAAAAAA-0000-0000-0000-000000000004" name="BK01_programme_lead.docx">
  <PlainTextContent>{text}</PlainTextContent>
  <PlainTextSelection guid="AAAAAAAA-0000-0000-0000-000000000005" startPosition="{start}" endPosition="{start + 27}"
    creatingUser="AAAAAAAA-0000-0000-0000-000000000001">
   <Coding guid="AAAAAAAA-0000-0000-0000-000000000006"><CodeRef targetGUID="AAAAAAAA-0000-0000-0000-000000000002"/></Coding>
   <Coding guid="AAAAAAAA-0000-0000-0000-000000000007"><CodeRef targetGUID="aaaaaaaa-0000-0000-0000-000000000003"/></Coding>
  </PlainTextSelection>
 </TextSource></Sources>
</Project>""",
        encoding="utf-8",
    )
    got = codings_from_project(read_qdpx(qde), _segments(tiny_export)).set_index(CODE_COLUMN)
    assert pd.isna(got.loc["Leadership", s.THEME]) and got.loc["Leadership", s.SEGMENT_KEY] == "k1"
    ours = got.loc["agreements_protocols - enabler"]
    assert (ours[s.THEME], ours[s.POLARITY], ours[s.CODER], ours["match"]) == (
        "agreements_protocols", "enabler", "Bea", "overlap"
    )


# --------------------------------------------------------------------------- real vendor files
@pytest.mark.parametrize("path", realfile_params("qdpx"))
def test_real_projects_import(path):
    expected = {  # codes, sources, text selections (loosely: at least)
        "TestProject.qdpx": (10, 10, 5),
        "Project.qde": (10, 10, 5),
        "oltas0517.qdpx": (100, 2, 200),
        "blank-atlas-project.qdpx": (0, 0, 0),
        "target-atlas-project.qdpx": (3, 0, 0),
    }
    project = read_qdpx(path)
    n_codes, n_sources, n_selections = expected.get(path.name, (0, 0, 0))
    assert len(project.codes) >= n_codes
    assert len(project.sources) >= n_sources
    assert len(project.selections) >= n_selections
    assert project.selections["code"].notna().all()
    if path.name == "oltas0517.qdpx":  # NVivo: nested codes, texts present, offsets inside them
        assert project.codes["parent_guid"].notna().any()
        assert project.sources["text"].notna().all() and project.warnings == ()
        lengths = project.sources.set_index("guid")["text"].str.len()
        assert (project.selections["end"] <= project.selections["source_guid"].map(lengths)).all()
    if path.name in ("TestProject.qdpx", "Project.qde"):  # ATLAS.ti: the Sources folder is empty
        assert project.sources.loc[project.sources["kind"] == "TextSource", "text"].isna().all()
        assert any("is not in the project" in w for w in project.warnings)
        assert "Mabêl 2ième.txt" in {unicodedata.normalize("NFC", n) for n in project.sources["name"]}


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


def test_missing_file_and_bad_target(tiny_export, tmp_path):
    with pytest.raises(InputDataError, match="no such file"):
        read_qdpx(tmp_path / "absent.qdpx")
    with pytest.raises(ExportPathError, match="does not exist"):
        write_qdpx(tiny_export, tmp_path / "nowhere" / "x.qdpx")
    with pytest.raises(ExportPathError, match=r"must end in \.qdpx"):
        write_qdpx(tiny_export, tmp_path / "x.zip")
    assert not list(tmp_path.iterdir())  # nothing half-written
