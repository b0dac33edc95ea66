"""Write a study as a REFI-QDA project (``.qdpx``) or codebook (``.qdc``).

REFI-QDA (QDA-XML 1.0, www.qdasoftware.org) is the exchange format of NVivo, ATLAS.ti, MAXQDA,
QualCoder and others. A ``.qdpx`` file is a zip holding ``project.qde`` (XML) and a ``Sources``
folder with one plain-text file per source (and per note kept as a file).

What the project holds:

- Users: the machine coder (``machine``), every human coder and reviewer, every note's author.
- CodeBook: one code per theme (not codable itself) with three codable children
  ``<theme id> - barrier``, ``<theme id> - enabler`` and ``<theme id> - neutral``, plus a
  ``Good practice`` code; descriptions come from the codebook's definitions.
- Sources: one TextSource per transcript (its pseudonymised plain text) and one per survey file
  (every free-text answer as its own paragraph ``respondent_key | question: answer``). A source's
  name is its study path without ``/`` (``Brackenford - BK01.docx``); the path itself is in its
  description and its ``source_path`` variable.
- One PlainTextSelection per coding (the segment's span repeated for each code, as NVivo writes
  it), plus one with the ``Good practice`` code when the segment is flagged.
- Cases per participant and survey respondent with the variables place, organisation_type and role.
- Notes (see :mod:`toolkit.exchange.refi.notes`), in the layouts the readers look for:
  a note on a passage holds its text and the passage's range and is referred to both from the
  source (QualCoder's layout) and from the passage's first selection (this toolkit's and NVivo's);
  a note on a whole source holds the source's whole range; notes on codes and on the project are
  text files in the zip, referred to from the code or the project (QualCoder reads them as journals).
- Offsets count Unicode code points unless ``offsets="utf16"`` (for NVivo); the project's description
  says which, and a warning says when a source holds characters where the two differ.

Only the ``ExportData`` snapshot is read (pseudonymised data only); nothing is logged but counts
and file names.

Examples
--------
>>> write_qdpx(data, "exports/study.qdpx")  # doctest: +SKIP
PosixPath('exports/study.qdpx')
"""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from toolkit import schema as s
from toolkit.errors import ToolkitError
from toolkit.exchange.refi import common as c
from toolkit.exchange.refi.layout import build_cases, build_selections, layout_sources
from toolkit.exchange.refi.notes import NOTE_ID, check_notes, notes_from_export
from toolkit.exchange.refi.offsets import astral_positions, has_astral, to_utf16

if TYPE_CHECKING:  # only for type hints
    from toolkit.codebook import Codebook
    from toolkit.export.data import ExportData

__all__ = ["write_qdc", "write_qdpx"]

log = logging.getLogger(__name__)

_COLOURS = {s.BARRIER: "#C0392B", s.ENABLER: "#27AE60", s.NEUTRAL: "#7F8C8D", c.GOOD_PRACTICE_CODE: "#2E86C1"}
_THEME_COLOUR = "#34495E"


def write_qdpx(
    data: ExportData,
    path: str | Path,
    *,
    notes: pd.DataFrame | None = None,
    users: Iterable[str] | None = None,
    exported_at: datetime | None = None,
    offsets: str = c.CODEPOINTS,
) -> Path:
    """Write the study as a REFI-QDA project (``.qdpx``) for NVivo, ATLAS.ti, MAXQDA or QualCoder.

    Parameters
    ----------
    data : the snapshot to export.
    path : the ``.qdpx`` file to write; its folder must exist. An existing file is replaced.
    notes : a notes frame (see :mod:`toolkit.exchange.refi.notes`); default: every note the snapshot
        carries (:func:`~toolkit.exchange.refi.notes.notes_from_export`).
    users : more user names to list (e.g. the whole review team); coders, reviewers and note
        authors are always listed, and so is ``machine``.
    exported_at : the project's creation time (default: now). GUIDs never depend on it.
    offsets : ``"codepoints"`` (QualCoder, this toolkit) or ``"utf16"`` (NVivo).

    Segments whose offsets do not match their source's text are placed where their text occurs,
    or left out and counted in a warning.

    Examples
    --------
    >>> write_qdpx(data, "exports/study.qdpx")  # doctest: +SKIP
    PosixPath('exports/study.qdpx')
    """
    if offsets not in c.OFFSET_UNITS:
        raise ToolkitError(f"offsets must be one of {', '.join(c.OFFSET_UNITS)}, not {offsets!r}.")
    target = c.output_path(path, suffixes=(".qdpx",), what="REFI-QDA project")
    notes = check_notes(notes_from_export(data) if notes is None else notes)
    qde, files = _ProjectWriter(data, notes, users=users, when=c.stamp(exported_at), offsets=offsets).build()
    zipped_at = c.zip_time(exported_at)

    def write(temporary: Path) -> None:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(zipfile.ZipInfo(c.PROJECT_FILE, zipped_at), qde, compress_type=zipfile.ZIP_DEFLATED)
            for name, text in files:
                info = zipfile.ZipInfo(f"{c.SOURCES_FOLDER}/{name}", zipped_at)
                archive.writestr(info, text.encode("utf-8"), compress_type=zipfile.ZIP_DEFLATED)

    c.write_private(target, write)
    log.info("wrote REFI-QDA project %s (%d files, %d notes)", target.name, len(files), len(notes))
    return target


def write_qdc(codebook: Codebook | ExportData, path: str | Path) -> Path:
    """Write the codebook as a REFI-QDA codebook (``.qdc``), with the same codes and GUIDs as the project.

    ``codebook`` is a :class:`~toolkit.codebook.Codebook` or an ``ExportData`` (its codebook is used).

    Examples
    --------
    >>> from toolkit.codebook import load_codebook
    >>> write_qdc(load_codebook(), "exports/codebook.qdc")  # doctest: +SKIP
    PosixPath('exports/codebook.qdc')
    """
    from lxml import etree

    book = getattr(codebook, "codebook", codebook)
    if not hasattr(book, "themes"):
        raise ToolkitError(f"write_qdc needs a Codebook (or ExportData), found {type(codebook).__name__}.")
    target = c.output_path(path, suffixes=(".qdc",), what="REFI-QDA codebook")
    root = etree.Element(c.q(c.CODEBOOK_NS, "CodeBook"), nsmap={None: c.CODEBOOK_NS}, origin=c.origin())
    codes_xml(etree.SubElement(root, c.q(c.CODEBOOK_NS, "Codes")), book, c.CODEBOOK_NS)
    payload = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    c.write_private(target, lambda temporary: temporary.write_bytes(payload))
    log.info("wrote REFI-QDA codebook %s (%d themes)", target.name, len(book.themes))
    return target


def codes_xml(parent, book, ns: str, notes_by_code: dict[str, list[str]] | None = None) -> None:
    """The codebook's codes under ``parent`` (a ``<Codes>`` element), with NoteRefs to notes on codes."""
    from lxml import etree

    notes_by_code = notes_by_code or {}

    def code(where, guid: str, name: str, codable: bool, colour: str, description: str):
        el = etree.SubElement(where, c.q(ns, "Code"), guid=guid, name=c.clean(name),
                              isCodable="true" if codable else "false", color=colour)
        etree.SubElement(el, c.q(ns, "Description")).text = c.clean(description)
        for note_guid in notes_by_code.get(guid, []):
            etree.SubElement(el, c.q(ns, "NoteRef"), targetGUID=note_guid)
        return el

    for theme in book.themes:
        description = theme.definition
        if theme.include:
            description += f"\n\nInclude: {theme.include}"
        if theme.exclude:
            description += f"\n\nExclude: {theme.exclude}"
        el = code(parent, c.guid_for("theme", theme.id), theme.name, False, _THEME_COLOUR, f"[{theme.id}] {description}")
        for polarity in s.POLARITIES:
            text = f"{theme.name}: {polarity}. {book.polarities.get(polarity, '')}".strip()
            code(el, c.guid_for("code", theme.id, polarity), c.CODE_NAME.format(theme=theme.id, polarity=polarity), True,
                 _COLOURS[polarity], text)
    gp_text = getattr(book, "good_practice_definition", "") or "A concrete enabler another place could copy."
    code(parent, c.guid_for("code", "good_practice"), c.GOOD_PRACTICE_CODE, True, _COLOURS[c.GOOD_PRACTICE_CODE], gp_text)


# --------------------------------------------------------------------------- the project
class _ProjectWriter:
    """Builds ``project.qde`` and the files beside it from a snapshot and a notes frame."""

    def __init__(self, data: ExportData, notes: pd.DataFrame, *, users: Iterable[str] | None, when: str, offsets: str):
        self.data = data
        self.notes = notes
        self.when = when
        self.offsets = offsets
        self.ns = c.PROJECT_NS
        self.user_guids = _users(data, users, notes)
        self.files: list[tuple[str, str]] = []
        self.attribute_kinds: dict[str, str] = {}

    def build(self) -> tuple[bytes, list[tuple[str, str]]]:
        from lxml import etree

        data, ns = self.data, self.ns
        texts, placed, skipped = layout_sources(data)
        selections = build_selections(data, placed)
        placed_notes = self._place_notes(texts, placed, selections)
        root = etree.Element(
            c.q(ns, "Project"), nsmap={None: ns}, name=c.clean(data.study_name) or "Study", origin=c.origin(),
            creatingUserGUID=self.user_guids[s.MACHINE_CODER], creationDateTime=self.when,
        )
        users_el = etree.SubElement(root, c.q(ns, "Users"))
        for name, guid in self.user_guids.items():
            etree.SubElement(users_el, c.q(ns, "User"), guid=guid, name=c.clean(name))
        by_code: dict[str, list[str]] = {}
        for note in placed_notes:
            if note["kind"] == "code":
                by_code.setdefault(note["code"], []).append(note["guid"])
        codes_xml(etree.SubElement(etree.SubElement(root, c.q(ns, "CodeBook")), c.q(ns, "Codes")), data.codebook, ns, by_code)
        cases = build_cases(data, texts, selections)
        self.attribute_kinds = attribute_variables(cases)
        variables = etree.SubElement(root, c.q(ns, "Variables"))
        for name, kind in {**{n: "Text" for n in (*c.VARIABLES, c.SOURCE_PATH_VARIABLE)},
                           **self.attribute_kinds}.items():
            etree.SubElement(variables, c.q(ns, "Variable"), guid=c.guid_for("variable", name), name=name,
                             typeOfVariable=kind)
        self._cases(root, cases)
        self._sources(root, texts, selections, placed_notes)
        self._notes(root, placed_notes)
        unit = c.OFFSET_MARKER.format(unit=c.UNIT_WORDS[self.offsets])
        etree.SubElement(root, c.q(ns, "Description")).text = (
            f"Exported by {c.origin()} from the study '{c.clean(data.study_name)}' (pseudonymised text). {unit}"
        )
        for note in placed_notes:
            if note["kind"] == "project":
                etree.SubElement(root, c.q(ns, "NoteRef"), targetGUID=note["guid"])
        if skipped:
            log.warning("%d coded segment(s) left out of the REFI-QDA project: their text is not in their source's "
                        "text (run the segment stage again)", skipped)
        astral = sum(has_astral(t["text"]) for t in texts)
        if astral and self.offsets == c.CODEPOINTS:
            log.warning("%d source(s) hold characters above U+FFFF (emoji and the like): offsets count code points, "
                        "as QualCoder does; for NVivo, which counts UTF-16 units, export with offsets='utf16'", astral)
        return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True), self.files

    # ------------------------------------------------------------------ pieces
    def _cases(self, root, cases: list[dict]) -> None:
        from lxml import etree

        if not cases:
            return
        ns = self.ns
        cases_el = etree.SubElement(root, c.q(ns, "Cases"))
        for case in cases:
            el = etree.SubElement(cases_el, c.q(ns, "Case"), guid=case["guid"], name=c.clean(case["name"]))
            for name in c.VARIABLES:
                value = case.get(name)
                if not c.missing(value):
                    _variable_value(el, ns, name, value)
            for name, (kind, value) in sorted(case.get("attributes", {}).items()):
                if not c.missing(value) and name not in c.VARIABLES:
                    _variable_value(el, ns, name, value, kind=self.attribute_kinds.get(name, "Text"))
            for source_guid in case["sources"]:
                etree.SubElement(el, c.q(ns, "SourceRef"), targetGUID=source_guid)
            for selection_guid in case["selections"]:
                etree.SubElement(el, c.q(ns, "SelectionRef"), targetGUID=selection_guid)

    def _sources(self, root, texts: list[dict], selections: dict[str, list[dict]], notes: list[dict]) -> None:
        from lxml import etree

        if not texts:
            return
        ns, when, users = self.ns, self.when, self.user_guids
        on_selection: dict[str, list[str]] = {}
        on_source: dict[str, list[str]] = {}
        for note in notes:
            if note["kind"] in ("selection", "source"):
                on_source.setdefault(note["source"], []).append(note["guid"])
            if note.get("selection"):
                on_selection.setdefault(note["selection"], []).append(note["guid"])
        sources_el = etree.SubElement(root, c.q(ns, "Sources"))
        for source in texts:
            file_name = f"{source['guid']}.txt"
            self.files.append((file_name, source["text"]))
            el = etree.SubElement(
                sources_el, c.q(ns, "TextSource"), guid=source["guid"], name=c.clean(source["name"]),
                plainTextPath=f"internal://{file_name}", creatingUser=users[s.MACHINE_CODER], creationDateTime=when,
            )
            etree.SubElement(el, c.q(ns, "Description")).text = c.clean(source["description"])
            for sel in selections.get(source["guid"], []):
                start, end = self._span(source["text"], sel["start"], sel["end"])
                sel_el = etree.SubElement(
                    el, c.q(ns, "PlainTextSelection"), guid=sel["guid"], name=c.clean(sel["name"]),
                    startPosition=str(start), endPosition=str(end), creatingUser=users[sel["coder"]],
                    creationDateTime=when,
                )
                if sel["reviewer"]:
                    sel_el.set("modifyingUser", users[sel["reviewer"]])
                    sel_el.set("modifiedDateTime", when)
                etree.SubElement(sel_el, c.q(ns, "Description")).text = c.clean(sel["description"])
                coding = etree.SubElement(sel_el, c.q(ns, "Coding"), guid=sel["coding"], creatingUser=users[sel["coder"]],
                                          creationDateTime=when)
                etree.SubElement(coding, c.q(ns, "CodeRef"), targetGUID=sel["code"])
                for note_guid in on_selection.get(sel["guid"], []):
                    etree.SubElement(sel_el, c.q(ns, "NoteRef"), targetGUID=note_guid)
            for note_guid in on_source.get(source["guid"], []):
                etree.SubElement(el, c.q(ns, "NoteRef"), targetGUID=note_guid)
            _variable_value(el, ns, c.SOURCE_PATH_VARIABLE, source["path"])

    def _notes(self, root, notes: list[dict]) -> None:
        from lxml import etree

        if not notes:
            return
        ns = self.ns
        notes_el = etree.SubElement(root, c.q(ns, "Notes"))
        for note in notes:
            el = etree.SubElement(notes_el, c.q(ns, "Note"), guid=note["guid"], name=c.clean(note["name"]),
                                  creatingUser=note["user"], creationDateTime=note["when"] or self.when)
            if note["span"] is not None:  # on a passage or a whole source: the text inline, the range inside
                etree.SubElement(el, c.q(ns, "PlainTextContent")).text = c.clean(note["text"])
                start, end = self._span(note["source_text"], *note["span"])
                etree.SubElement(el, c.q(ns, "PlainTextSelection"), guid=c.guid_for("note-range", note["guid"]),
                                 startPosition=str(start), endPosition=str(end), creatingUser=note["user"],
                                 creationDateTime=note["when"] or self.when)
            else:  # on a code or the project: a text file, which QualCoder reads as a journal
                file_name = f"{note['guid']}.txt"
                el.set("plainTextPath", f"internal://{file_name}")
                self.files.append((file_name, c.clean(note["text"])))

    def _span(self, text: str, start: int, end: int) -> tuple[int, int]:
        if self.offsets != c.UTF16 or not has_astral(text):
            return start, end
        astral = astral_positions(text)
        return to_utf16(text, start, astral=astral), to_utf16(text, end, astral=astral)

    def _place_notes(self, texts: list[dict], placed: dict, selections: dict[str, list[dict]]) -> list[dict]:
        """Each note of the frame with what it is attached to; notes whose target is not in the project are counted."""
        study = self.data.study_name
        by_path = {t["path"]: t for t in texts}
        by_guid = {t["guid"]: t for t in texts}
        first_selection = {sel["segment_key"]: sel["guid"] for group in selections.values() for sel in group if sel["first"]}
        themes = {t.id for t in self.data.codebook.themes}
        out, names, missing = [], set(), 0
        taken: set[tuple] = set()
        demoted = 0
        for row in self.notes.to_dict("records"):
            target = row[c.TARGET]
            ident = row[NOTE_ID] if not c.missing(row[NOTE_ID]) else "|".join(
                str(row[k]) for k in (c.TARGET, s.PATH, s.THEME, s.POLARITY, s.SEGMENT_KEY, s.AUTHOR, s.CREATED_AT, s.TEXT)
            )
            note = {"guid": c.guid_for("note", study, ident), "text": str(row[s.TEXT]), "kind": target, "span": None,
                    "user": self.user_guids[row[s.AUTHOR]], "when": c.stamp_of(row[s.CREATED_AT]), "selection": None}
            if target == "selection":
                where = placed.get(row[s.SEGMENT_KEY])
                if where is None:
                    missing += 1
                    continue
                note.update(source=where[0], span=(where[1], where[2]), source_text=by_guid[where[0]]["text"],
                            selection=first_selection.get(row[s.SEGMENT_KEY]))
            elif target == "source":
                source = by_path.get(row[s.PATH])
                if source is None:
                    missing += 1
                    continue
                note.update(source=source["guid"], span=(0, len(source["text"])), source_text=source["text"])
            elif target == "code":
                theme, polarity = row[s.THEME], c.name_or_none(row[s.POLARITY])
                if theme not in themes:
                    missing += 1
                    continue
                note["code"] = c.guid_for("code", theme, polarity) if polarity in s.POLARITIES else c.guid_for("theme", theme)
            note["name"] = _unique(c.clean(c.one_line(row[s.TITLE])), names)
            if note["span"] is not None:  # QualCoder keeps one note per source, range and author: a second becomes
                spot = (note["source"], note["span"], note["user"])  # a project note (its passage NoteRef stays)
                if spot in taken:
                    note.update(kind="project", span=None)
                    demoted += 1
                taken.add(spot)
            out.append(note)
        if demoted:
            log.info("%d note(s) share their passage and author with another note: written as project notes, "
                     "still referred to from their passage", demoted)
        if missing:
            log.warning("%d note(s) left out of the REFI-QDA project: their passage, source or theme is not in it",
                        missing)
        return out


_REFI_TYPES = {"text": "Text", "number": "Float", "date": "Date"}
"""Case attribute types (:mod:`toolkit.ingest.manifest`) as REFI-QDA variable types (whole numbers: Integer)."""


def attribute_variables(cases: list[dict]) -> dict[str, str]:
    """The study's own case attributes as REFI-QDA variables: ``name -> typeOfVariable`` (issue 15)."""
    kinds: dict[str, set[str]] = {}
    for case in cases:
        for name, (kind, value) in case.get("attributes", {}).items():
            if name in c.VARIABLES or name == c.SOURCE_PATH_VARIABLE or c.missing(value):
                continue
            refi = _REFI_TYPES.get(kind, "Text")
            if refi == "Float" and float(value).is_integer():
                refi = "Integer"
            kinds.setdefault(name, set()).add(refi)
    out = {}
    for name, found in sorted(kinds.items()):
        out[name] = "Integer" if found == {"Integer"} else "Float" if found <= {"Integer", "Float"} else \
            found.pop() if len(found) == 1 else "Text"
    return out


def _variable_value(parent, ns: str, name: str, value, kind: str = "Text") -> None:
    from lxml import etree

    vv = etree.SubElement(parent, c.q(ns, "VariableValue"))
    etree.SubElement(vv, c.q(ns, "VariableRef"), targetGUID=c.guid_for("variable", name))
    if kind == "Integer":
        etree.SubElement(vv, c.q(ns, "IntegerValue")).text = str(int(float(value)))
    elif kind == "Float":
        from decimal import Decimal

        etree.SubElement(vv, c.q(ns, "FloatValue")).text = format(Decimal(str(float(value))), "f")
    elif kind == "Date":
        etree.SubElement(vv, c.q(ns, "DateValue")).text = str(value)[:10]
    else:
        etree.SubElement(vv, c.q(ns, "TextValue")).text = c.clean(str(value))


def _users(data: ExportData, extra: Iterable[str] | None, notes: pd.DataFrame) -> dict[str, str]:
    names = [s.MACHINE_CODER]
    frames = [(data.codings, (s.CODER, "reviewed_by")), (data.human_codings, (s.CODER,)), (notes, (s.AUTHOR,))]
    for frame, columns in frames:
        for column in columns:
            if frame is not None and column in frame.columns:
                names.extend(str(v) for v in frame[column] if not c.missing(v))
    names.extend(str(v) for v in (extra or ()) if not c.missing(v))
    ordered = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    return {name: c.guid_for("user", name) for name in ordered}


def _unique(name: str, taken: set[str]) -> str:
    base = name or "Note"
    candidate, n = base, 2
    while candidate in taken:
        candidate = f"{base} ({n})"
        n += 1
    taken.add(candidate)
    return candidate
