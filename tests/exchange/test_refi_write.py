"""REFI-QDA writing: schema validity, one coding per selection, notes in both layouts, names without
``/``, offsets for NVivo, stable GUIDs, the Taguette codebook CSV."""

from __future__ import annotations

import csv
import io
import logging
import zipfile
from datetime import UTC, datetime

import pandas as pd
import pytest
from lxml import etree

from tests.exchange.conftest import EMOJI, TEXT_B, WHEN, xsd
from toolkit.errors import ExportPathError
from toolkit.exchange.refi import (
    GOOD_PRACTICE_CODE,
    SOURCE_PATH_VARIABLE,
    check_notes,
    guid_for,
    notes_from_export,
    read_qdc,
    read_qdpx,
    source_name,
    validate,
    write_codebook_csv,
    write_qdc,
    write_qdpx,
)

NS = {"q": "urn:QDA-XML:project:1.0"}


def _root(path):
    with zipfile.ZipFile(path) as archive:
        return etree.fromstring(archive.read("project.qde"))


def _files(path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        return {n: archive.read(n).decode("utf-8") for n in archive.namelist() if n != "project.qde"}


@pytest.fixture
def rich(rich_export, rich_notes, tmp_path):
    return write_qdpx(rich_export, tmp_path / "rich.qdpx", notes=rich_notes, exported_at=WHEN, users=["chris"])


# --------------------------------------------------------------------------- schema
def test_projects_validate_against_the_project_schema(qdpx, rich):
    schema = xsd("Project-mrt2019.xsd")
    xmlschema = pytest.importorskip("xmlschema")  # a second, independent validator
    for path in (qdpx, rich):
        assert validate(path, "qdpx", schema) == []
        with zipfile.ZipFile(path) as archive:
            assert xmlschema.XMLSchema(str(schema)).is_valid(archive.read("project.qde").decode("utf-8"))


def test_qdc_validates_against_the_codebook_schema(tiny_export, tmp_path):
    path = write_qdc(tiny_export.codebook, tmp_path / "book.qdc")
    assert validate(path, "qdc", xsd("Codebook-mrt2019.xsd")) == []
    assert write_qdc(tiny_export, tmp_path / "same.qdc").read_bytes() == path.read_bytes()


def test_validate_reports_schema_errors(tmp_path):
    bad = tmp_path / "bad.qde"
    bad.write_text('<Project xmlns="urn:QDA-XML:project:1.0"><Users/></Project>', encoding="utf-8")
    errors = validate(bad, "qde", xsd("Project-mrt2019.xsd"))
    assert errors and "name" in " ".join(errors)  # the required name attribute and the empty Users


# --------------------------------------------------------------------------- layout
def test_project_layout_and_codebook_structure(qdpx, tiny_export):
    with zipfile.ZipFile(qdpx) as archive:
        names = archive.namelist()
    assert names[0] == "project.qde"
    assert all(n.startswith("Sources/") and n.endswith(".txt") for n in names[1:])
    assert len(names) == 1 + 3  # two transcripts and one survey file; notes on passages are inline
    codes = read_qdpx(qdpx).codes
    themes = codes[codes["parent_guid"].isna() & (codes["name"] != GOOD_PRACTICE_CODE)]
    assert len(themes) == len(tiny_export.codebook.themes)
    children = codes[codes["parent_guid"] == guid_for("theme", "trust_relationships")]
    assert sorted(children["name"]) == [f"trust_relationships - {p}" for p in ("barrier", "enabler", "neutral")]
    assert set(children["theme"]) == {"trust_relationships"} and set(children["parent_code"]) == {
        tiny_export.codebook.theme("trust_relationships").name
    }
    assert (codes["name"] == GOOD_PRACTICE_CODE).sum() == 1
    trust = tiny_export.codebook.theme("trust_relationships")
    assert trust.definition in codes.set_index("guid").loc[guid_for("theme", trust.id), "description"]
    assert set(read_qdpx(qdpx).users["name"]) == {"machine", "ana"}


def test_one_coding_per_selection_with_the_span_repeated(qdpx, tiny_export):
    root = _root(qdpx)
    selections = root.findall(".//q:TextSource/q:PlainTextSelection", NS)
    assert all(len(sel.findall("q:Coding", NS)) == 1 for sel in selections)
    flagged = tiny_export.codings.groupby("segment_key")["good_practice"].any().sum()
    assert len(selections) == len(tiny_export.codings) + flagged == 9
    spans = pd.Series([(sel.get("name"), sel.get("startPosition"), sel.get("endPosition")) for sel in selections])
    assert spans.map(lambda t: t[0]).value_counts().to_dict() == {"k1": 2, "k2": 1, "k3": 1, "k4": 1, "k5": 3, "k6": 1}
    assert spans.groupby(spans.map(lambda t: t[0])).nunique().eq(1).all()  # the same span for each code
    users = {u.get("guid"): u.get("name") for u in root.findall("q:Users/q:User", NS)}
    k3 = next(sel for sel in selections if sel.get("name") == "k3")
    assert users[k3.get("creatingUser")] == "ana"  # the selection's creator is its coding's coder (QualCoder)


def test_source_names_have_no_slash_and_keep_the_path(qdpx, tiny_export):
    root = _root(qdpx)
    variables = {v.get("guid"): v.get("name") for v in root.findall("q:Variables/q:Variable", NS)}
    for source in root.findall("q:Sources/q:TextSource", NS):
        assert "/" not in source.get("name") and "\\" not in source.get("name")
        values = {variables[vv.find("q:VariableRef", NS).get("targetGUID")]: vv.find("q:TextValue", NS).text
                  for vv in source.findall("q:VariableValue", NS)}
        path = values[SOURCE_PATH_VARIABLE]
        assert source.get("name") == source_name(path) and path in source.find("q:Description", NS).text
    assert set(read_qdpx(qdpx).sources["path"]) == set(tiny_export.sources["path"])
    assert source_name("a\\b/c:d?.txt") == "a - b - c_d_.txt"


def test_cases_and_variables(qdpx):
    root = _root(qdpx)
    cases = {c.get("name"): c for c in root.findall("q:Cases/q:Case", NS)}
    assert set(cases) == {"BK01", "FM01", "Fernmouth_R001"}
    variables = {v.get("guid"): v.get("name") for v in root.findall("q:Variables/q:Variable", NS)}
    values = {
        variables[vv.find("q:VariableRef", NS).get("targetGUID")]: vv.find("q:TextValue", NS).text
        for vv in cases["Fernmouth_R001"].findall("q:VariableValue", NS)
    }
    assert values == {"place": "Fernmouth", "organisation_type": "GP practice", "role": "GP"}
    assert len(cases["BK01"].findall("q:SourceRef", NS)) == 1
    assert len(cases["Fernmouth_R001"].findall("q:SelectionRef", NS)) == 1


# --------------------------------------------------------------------------- notes
def test_a_passage_note_is_written_in_both_layouts(qdpx, tiny_export):
    root = _root(qdpx)
    notes = root.findall("q:Notes/q:Note", NS)
    assert [n.find("q:PlainTextContent", NS).text for n in notes] == ["trust rebuilt"]
    note = notes[0]
    source = root.find("q:Sources/q:TextSource[@name='Brackenford - BK01_programme_lead.docx']", NS)
    # QualCoder's layout: a NoteRef directly under the source, the passage's range inside the note.
    assert [r.get("targetGUID") for r in source.findall("q:NoteRef", NS)] == [note.get("guid")]
    inner = note.find("q:PlainTextSelection", NS)
    text = tiny_export.sources.loc[0, "text"]
    assert text[int(inner.get("startPosition")) : int(inner.get("endPosition"))] == "We trust [PERSON_03] now, café and all."
    # Ours and NVivo's: a NoteRef inside the passage's (first) coded selection.
    k3 = [sel for sel in source.findall("q:PlainTextSelection", NS) if sel.get("name") == "k3"]
    assert [r.get("targetGUID") for r in k3[0].findall("q:NoteRef", NS)] == [note.get("guid")]


def test_notes_on_every_target(rich):
    root = _root(rich)
    files = _files(rich)
    notes = {n.get("name"): n for n in root.findall("q:Notes/q:Note", NS)}
    assert len(notes) == 6  # the one on a passage that is not exported is left out
    project_refs = [r.get("targetGUID") for r in root.findall("q:NoteRef", NS)]
    reading = notes["Reading order"]
    assert project_refs == [reading.get("guid")]
    assert files[f"Sources/{reading.get('guid')}.txt"] == "Read FM01 beside BK01."  # a journal file for QualCoder
    assert reading.find("q:PlainTextContent", NS) is None
    theme = root.find(f".//q:Code[@guid='{guid_for('theme', 'trust_relationships')}']", NS)
    enabler = root.find(f".//q:Code[@guid='{guid_for('code', 'trust_relationships', 'enabler')}']", NS)
    assert [files[f"Sources/{r.get('targetGUID')}.txt"] for r in theme.findall("q:NoteRef", NS)] == [
        "Trust is the thread through every place."
    ]
    assert len(enabler.findall("q:NoteRef", NS)) == 1
    fm01 = root.find("q:Sources/q:TextSource[@name='Fernmouth - FM01_icb.vtt']", NS)
    on_source = {r.get("targetGUID") for r in fm01.findall("q:NoteRef", NS)}
    whole = notes["Source note by ana on Fernmouth/FM01_icb.vtt"]
    assert whole.get("guid") in on_source
    inner = whole.find("q:PlainTextSelection", NS)
    assert (inner.get("startPosition"), inner.get("endPosition")) == ("0", str(len(TEXT_B)))
    assert len(set(notes)) == len(notes)  # unique names: QualCoder refuses a journal name twice


def test_comments_summaries_and_practices_become_notes(tiny_export, tmp_path):
    at = "2026-03-03T10:00:00+00:00"
    comments = pd.DataFrame([
        {"comment_id": 1, "segment_key": "k2", "theme": None, "topic": None, "text": "Check the IT wording.",
         "author": "rev", "author_role": "reviewer", "created_at": at},
        {"comment_id": 2, "segment_key": None, "theme": "trust_relationships", "topic": None,
         "text": "Split trust by partner?", "author": "rev", "author_role": "reviewer", "created_at": at},
        {"comment_id": 3, "segment_key": None, "theme": None, "topic": 4, "text": "Topic 4 is data quality.",
         "author": "ana", "author_role": "researcher", "created_at": at},
    ])
    summaries = pd.DataFrame([{"row_dimension": "participant", "row_value": "BK01", "theme": "trust_relationships",
                               "text": "Trust rebuilt after the charter.", "author": "ana", "created_at": at}])
    practices = pd.DataFrame([
        {"segment_key": "k5", "included": True, "theme": "ig_capacity_advice", "title": "Same-day IG answers",
         "note": "Ask how they staff it.", "author": "ana", "created_at": at},
        {"segment_key": "k1", "included": False, "theme": None, "title": None, "note": "Not a practice.",
         "author": "ana", "created_at": at},
    ])
    notes = notes_from_export(tiny_export, comments=comments, summaries=summaries, practices=practices)
    path = write_qdpx(tiny_export, tmp_path / "notes.qdpx", notes=notes, exported_at=WHEN)
    back = read_qdpx(path).notes.set_index("text")
    assert len(back) == 1 + 3 + 1 + 1  # the human note, three comments, one summary, one included practice
    assert back.loc["Check the IT wording.", "passage"] == "But the systems don't talk to each other."
    assert back.loc["Split trust by partner?", "target"] == "code"
    assert back.loc["Topic 4 is data quality.", "target"] == "project"
    summary = back.loc["Trust rebuilt after the charter."]
    assert (summary["target"], summary["name"]) == ("code", "Summary of trust_relationships for participant BK01")
    assert back.loc["Ask how they staff it.", "passage"] == "Our IG lead answers the same day."
    assert back.loc["Ask how they staff it.", "created_at"] == "2026-03-03T10:00:00Z"


def test_check_notes_counts_what_it_cannot_write(caplog):
    frame = pd.DataFrame([
        {"text": "ok", "target": "project"},
        {"text": " ", "target": "project"},
        {"text": "no anchor", "target": "selection"},
        {"text": "odd target", "target": "case"},
    ])
    with caplog.at_level(logging.WARNING):
        kept = check_notes(frame)
    assert kept["text"].tolist() == ["ok"] and kept["author"].tolist() == ["machine"]
    assert "3 note(s) left out" in caplog.text


# --------------------------------------------------------------------------- offsets
def test_offsets_for_nvivo_count_utf16_units(rich_export, tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        points = write_qdpx(rich_export, tmp_path / "points.qdpx", exported_at=WHEN)
    assert "1 source(s) hold characters above U+FFFF" in caplog.text
    units = write_qdpx(rich_export, tmp_path / "units.qdpx", exported_at=WHEN, offsets="utf16")
    k5 = TEXT_B.index("Our IG lead")

    def starts(path):
        return {sel.get("name"): int(sel.get("startPosition")) for sel in _root(path).iter(f"{{{NS['q']}}}PlainTextSelection")}

    assert starts(points)["k5"] == k5 and starts(units)["k5"] == k5 + 1  # the emoji is two UTF-16 units
    assert starts(points)["k4"] == starts(units)["k4"]  # before the emoji, both agree
    assert "Selection offsets count UTF-16 code units." in _root(units).find("q:Description", NS).text
    assert "Unicode code points" in _root(points).find("q:Description", NS).text
    assert EMOJI in TEXT_B


# --------------------------------------------------------------------------- stable GUIDs
def test_guids_are_identical_across_exports(tiny_export, tmp_path):
    first = write_qdpx(tiny_export, tmp_path / "a.qdpx", exported_at=WHEN)
    second = write_qdpx(tiny_export, tmp_path / "b.qdpx", exported_at=datetime(2027, 1, 1, tzinfo=UTC))
    a, b = read_qdpx(first), read_qdpx(second)
    for frame in ("codes", "sources", "users", "notes"):
        pd.testing.assert_frame_equal(getattr(a, frame), getattr(b, frame))
    pd.testing.assert_frame_equal(a.codings.drop(columns="created_at"), b.codings.drop(columns="created_at"))
    with zipfile.ZipFile(first) as one, zipfile.ZipFile(second) as two:
        assert one.namelist() == two.namelist()
    again = write_qdpx(tiny_export, tmp_path / "c.qdpx", exported_at=WHEN)
    assert again.read_bytes() == first.read_bytes()  # same time: the same bytes
    book = read_qdc(write_qdc(tiny_export.codebook, tmp_path / "book.qdc"))
    assert list(book.codes["guid"]) == list(a.codes["guid"])  # the codebook file uses the project's code GUIDs


# --------------------------------------------------------------------------- Taguette
def _taguette_tags(raw: bytes) -> list[dict]:
    """Taguette's reading rules (taguette/import_codebook.py); test_refi_readers runs the real code."""
    reader = csv.reader(io.StringIO(raw.decode("utf-8-sig")))
    header = [cell.lower() for cell in next(reader)]
    assert ("tag" in header) + ("name" in header) + ("path" in header) == 1
    col, desc = header.index("tag"), header.index("description")
    tags = []
    for row in reader:
        if not any(row):
            continue
        assert len(row) >= max(col, desc) + 1 and row[col].strip()
        tags.append({"path": row[col].strip(), "description": row[desc].strip()})
    return tags


def test_codebook_csv_imports_into_taguette(tiny_export, tmp_path):
    path = write_codebook_csv(tiny_export.codebook, tmp_path / "codebook_taguette.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbftag,description\r\n")  # a BOM makes Taguette's encoding guess certain
    tags = _taguette_tags(raw)
    themes = tiny_export.codebook.themes
    assert len(tags) == len(themes) * 4 + 1
    paths = [t["path"] for t in tags]
    assert len(set(paths)) == len(paths) and all(len(p) <= 200 for p in paths)
    assert {"trust_relationships", "trust_relationships.barrier", "good_practice"} <= set(paths)
    trust = tiny_export.codebook.theme("trust_relationships")
    assert trust.definition[:40] in {t["path"]: t["description"] for t in tags}["trust_relationships"]
    assert all("\n" not in t["description"] for t in tags)


# --------------------------------------------------------------------------- refusals
def test_bad_targets_are_refused_before_anything_is_written(tiny_export, tmp_path):
    with pytest.raises(ExportPathError, match="does not exist"):
        write_qdpx(tiny_export, tmp_path / "nowhere" / "x.qdpx")
    with pytest.raises(ExportPathError, match=r"must end in \.qdpx"):
        write_qdpx(tiny_export, tmp_path / "x.zip")
    with pytest.raises(ExportPathError, match=r"must end in \.csv"):
        write_codebook_csv(tiny_export.codebook, tmp_path / "x.txt")
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_export_study_writes_the_taguette_codebook_beside_the_qdc(tiny_export, tmp_path, monkeypatch):
    from toolkit import export

    monkeypatch.setattr("toolkit.export.data.load_export_data", lambda config, store: tiny_export)
    config = type("Config", (), {"root": tmp_path / "study"})()
    written = export.export_study(config, None, "qdc", tmp_path / "book.qdc")
    assert [p.name for p in written] == ["book.qdc", "book_taguette.csv"]
    qdpx = export.export_study(config, None, "qdpx", tmp_path / "p.qdpx")
    assert len(read_qdpx(qdpx[0]).codings) == 9
