"""REFI-QDA exchange: write a study as a ``.qdpx`` project or a ``.qdc`` codebook, and read them back.

REFI-QDA (QDA-XML 1.0, www.qdasoftware.org) is the exchange format of NVivo, ATLAS.ti, MAXQDA,
QualCoder and others. A ``.qdpx`` file is a zip holding ``project.qde`` (XML) and a ``Sources``
folder with one plain-text file per source; a ``.qdc`` file is a codebook on its own.

What the project holds:

- Users: the machine coder (``machine``) and every human coder and reviewer.
- CodeBook: one code per theme (not codable itself) with three codable children
  ``<theme id> - barrier``, ``<theme id> - enabler`` and ``<theme id> - neutral``, plus a
  ``Good practice`` code; descriptions come from the codebook's definitions.
- Sources: one TextSource per transcript (its pseudonymised plain text) and one per survey file
  (every free-text answer as its own paragraph ``respondent_key | question: answer``).
- One PlainTextSelection per coded segment (0-based code-point offsets into that text) with a
  Coding for each theme's polarity child code, and one for ``Good practice`` when flagged.
- Cases per participant and survey respondent with the variables place, organisation_type and role.
- Notes for the notes human coders wrote, referenced from the segment's selection.

Every GUID is derived with :func:`uuid.uuid5` from a fixed namespace and what it stands for
(theme id, source path, segment key, ...), so exporting the same study twice gives the same GUIDs.
Only the ``ExportData`` snapshot is read (pseudonymised data only); nothing is logged but counts
and file names.

Examples
--------
>>> from toolkit.export.refi import write_qdpx, read_qdpx
>>> write_qdpx(data, "exports/study.qdpx")  # doctest: +SKIP
PosixPath('exports/study.qdpx')
>>> read_qdpx("exports/study.qdpx").selections.shape[0] > 0  # doctest: +SKIP
True
"""

from __future__ import annotations

import io
import logging
import re
import uuid
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import pandas as pd

from toolkit import schema as s
from toolkit.errors import InputDataError, ToolkitError
from toolkit.export.tables import _target, _write_atomically

if TYPE_CHECKING:  # only for type hints
    from toolkit.codebook import Codebook
    from toolkit.export.data import ExportData

__all__ = [
    "CODE_NAME",
    "GOOD_PRACTICE_CODE",
    "PROJECT_NS",
    "CODEBOOK_NS",
    "ImportedCodebook",
    "ImportedProject",
    "codings_from_project",
    "guid_for",
    "read_qdc",
    "read_qdpx",
    "survey_paragraph",
    "validate",
    "write_qdc",
    "write_qdpx",
]

log = logging.getLogger(__name__)

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
PROJECT_FILE = "project.qde"
SOURCES_FOLDER = "Sources"
"""Folder of the source files inside the zip. NVivo and ATLAS.ti both write ``Sources``; the reader
accepts any letter case."""

GUID_NAMESPACE = uuid.UUID("5b0f6a52-3c1e-5d7a-9a43-1e2f0c7d8b61")
"""Fixed namespace of every GUID this module writes (never change it: GUIDs would change)."""

CODE_NAME = "{theme} - {polarity}"
"""Name of a theme's polarity child code, e.g. ``trust_relationships - barrier``."""
GOOD_PRACTICE_CODE = "Good practice"
SURVEY_PREFIX = "{respondent} | {question}: "
"""How each survey answer's paragraph starts, before the answer itself."""
PARAGRAPH_BREAK = "\n\n"
CODE_COLUMN = "code"
"""Column of :func:`codings_from_project` with the code's name as written in the project."""
VARIABLES = (s.PLACE, s.ORGANISATION_TYPE, s.ROLE)

_COLOURS = {s.BARRIER: "#C0392B", s.ENABLER: "#27AE60", s.NEUTRAL: "#7F8C8D", GOOD_PRACTICE_CODE: "#2E86C1"}
_THEME_COLOUR = "#34495E"
_OUR_CODE = re.compile(r"^\s*([a-z][a-z0-9_]*)\s+-\s+(barrier|enabler|neutral)\s*$")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_MIN_OVERLAP = 0.5
"""A selection that is not exactly a segment maps to the segment it overlaps most, if that covers at
least this share of the selection."""


# --------------------------------------------------------------------------- results of reading
@dataclass(frozen=True)
class ImportedProject:
    """A REFI-QDA project as read by :func:`read_qdpx`.

    Attributes
    ----------
    codes : ``guid``, ``name``, ``parent_guid`` (None at the top), ``description``.
    sources : ``guid``, ``name``, ``kind`` (TextSource, PDFSource, ...), ``text`` (None when the
        plain text is not in the file).
    selections : one row per coding of a text selection: ``source_guid``, ``selection_guid``,
        ``start``, ``end``, ``code_guid``, ``code`` (its name), ``user`` (the coding's creating user,
        else the selection's), ``note`` (the text of notes on the selection, or None).
    users : ``guid``, ``name``.
    name, origin : the project's attributes.
    warnings : what could not be read (missing source files, non-text selections), one line each.
    GUIDs are lower case, without braces.
    """

    path: Path
    name: str
    origin: str
    codes: pd.DataFrame
    sources: pd.DataFrame
    selections: pd.DataFrame
    users: pd.DataFrame
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportedCodebook:
    """A REFI-QDA codebook (``.qdc``) as read by :func:`read_qdc`: ``codes`` as in :class:`ImportedProject`."""

    path: Path
    origin: str
    codes: pd.DataFrame
    warnings: tuple[str, ...] = field(default=())


CODE_COLUMNS = ["guid", "name", "parent_guid", "description"]
SOURCE_COLUMNS = ["guid", "name", "kind", "text"]
SELECTION_COLUMNS = ["source_guid", "selection_guid", "start", "end", "code_guid", CODE_COLUMN, "user", s.NOTE]
USER_COLUMNS = ["guid", "name"]


# --------------------------------------------------------------------------- GUIDs
def guid_for(kind: str, *key: Any) -> str:
    """The stable GUID of one thing: ``uuid5`` of a fixed namespace and ``kind`` plus its key.

    Examples
    --------
    >>> guid_for("theme", "trust_relationships") == guid_for("theme", "trust_relationships")
    True
    """
    name = "\x1f".join([kind, *(str(k) for k in key)])
    return str(uuid.uuid5(GUID_NAMESPACE, name))


def survey_paragraph(respondent_key: str, question: str, answer: str) -> tuple[str, int]:
    """One survey answer as a paragraph, and where the answer starts in it.

    Line breaks inside the question or answer become spaces (one for one, so offsets into the
    answer still hold).

    Examples
    --------
    >>> survey_paragraph("P_R001", "What helps?", "Trust.")
    ('P_R001 | What helps?: Trust.', 22)
    """
    prefix = _one_line(SURVEY_PREFIX.format(respondent=respondent_key, question=question))
    return prefix + _one_line(answer), len(prefix)


# --------------------------------------------------------------------------- writing
def write_qdpx(
    data: ExportData,
    path: str | Path,
    *,
    users: Iterable[str] | None = None,
    exported_at: datetime | None = None,
) -> Path:
    """Write the study as a REFI-QDA project (``.qdpx``) for NVivo, ATLAS.ti, MAXQDA or QualCoder.

    Parameters
    ----------
    data : the snapshot to export.
    path : the ``.qdpx`` file to write; its folder must exist. An existing file is replaced.
    users : more user names to list (e.g. the whole review team); coders and reviewers found in
        the codings are always listed, and so is ``machine``.
    exported_at : the project's creation time (default: now). GUIDs never depend on it.

    Segments whose offsets do not match their source's text are left out and counted in a warning.

    Examples
    --------
    >>> write_qdpx(data, "exports/study.qdpx")  # doctest: +SKIP
    PosixPath('exports/study.qdpx')
    """
    target = _target(path, suffixes=(".qdpx",), what="REFI-QDA project")
    when = _stamp(exported_at)
    qde, files = _project_xml(data, users=users, when=when)
    zipped_at = _zip_time(exported_at)

    def write(temporary: Path) -> None:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(zipfile.ZipInfo(PROJECT_FILE, zipped_at), qde, compress_type=zipfile.ZIP_DEFLATED)
            for name, text in files:
                info = zipfile.ZipInfo(f"{SOURCES_FOLDER}/{name}", zipped_at)
                archive.writestr(info, text.encode("utf-8"), compress_type=zipfile.ZIP_DEFLATED)

    _write_atomically(target, write)
    log.info("wrote REFI-QDA project %s (%d sources)", target.name, len(files))
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
    target = _target(path, suffixes=(".qdc",), what="REFI-QDA codebook")
    root = etree.Element(_q(CODEBOOK_NS, "CodeBook"), nsmap={None: CODEBOOK_NS}, origin=_origin())
    _codes(etree.SubElement(root, _q(CODEBOOK_NS, "Codes")), book, CODEBOOK_NS)
    payload = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    _write_atomically(target, lambda temporary: temporary.write_bytes(payload))
    log.info("wrote REFI-QDA codebook %s (%d themes)", target.name, len(book.themes))
    return target


def validate(path: str | Path, kind: str, xsd: str | Path) -> list[str]:
    """Check a ``.qdpx`` (its ``project.qde``), a ``.qde`` or a ``.qdc`` against a REFI-QDA schema.

    Parameters
    ----------
    path : the file to check.
    kind : ``"qdpx"``, ``"qde"`` or ``"qdc"``.
    xsd : the schema file (``Project-mrt2019.xsd`` for projects, ``Codebook-mrt2019.xsd`` for codebooks).

    Returns the schema errors, one line each (``"line 12: ..."``); empty when the file is valid.

    Examples
    --------
    >>> validate("exports/study.qdpx", "qdpx", "Project-mrt2019.xsd")  # doctest: +SKIP
    []
    """
    from lxml import etree

    if kind not in ("qdpx", "qde", "qdc"):
        raise ToolkitError(f"Unknown REFI-QDA kind '{kind}'. Choose qdpx, qde or qdc.")
    xsd = Path(xsd)
    if not xsd.is_file():
        raise ToolkitError(f"No schema at {xsd}. Pass the path of the REFI-QDA .xsd file.")
    schema = etree.XMLSchema(etree.parse(str(xsd)))
    path = Path(path)
    if kind == "qdpx":
        raw, _, archive = _project_bytes(path)
        if archive is not None:
            archive.close()
    else:
        raw = _read_bytes(path)
    document = _parse(raw, path)
    if schema.validate(document):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


# --------------------------------------------------------------------------- building the project
def _project_xml(data: ExportData, *, users: Iterable[str] | None, when: str) -> tuple[bytes, list[tuple[str, str]]]:
    from lxml import etree

    study = data.study_name
    ns = PROJECT_NS
    user_guids = _users(data, users)
    machine = user_guids[s.MACHINE_CODER]
    root = etree.Element(
        _q(ns, "Project"),
        nsmap={None: ns},
        name=_clean(study) or "Study",
        origin=_origin(),
        creatingUserGUID=machine,
        creationDateTime=when,
    )
    users_el = etree.SubElement(root, _q(ns, "Users"))
    for name, guid in user_guids.items():
        etree.SubElement(users_el, _q(ns, "User"), guid=guid, name=_clean(name))
    _codes(etree.SubElement(etree.SubElement(root, _q(ns, "CodeBook")), _q(ns, "Codes")), data.codebook, ns)

    texts, placed, skipped = _layout(data)
    selections = _selections(data, placed)
    notes = _notes(data, user_guids)

    variables = etree.SubElement(root, _q(ns, "Variables"))
    for name in VARIABLES:
        etree.SubElement(variables, _q(ns, "Variable"), guid=guid_for("variable", name), name=name, typeOfVariable="Text")
    cases = _cases(data, texts, selections)
    if cases:
        cases_el = etree.SubElement(root, _q(ns, "Cases"))
        for case in cases:
            el = etree.SubElement(cases_el, _q(ns, "Case"), guid=case["guid"], name=_clean(case["name"]))
            for name in VARIABLES:
                value = case.get(name)
                if _missing(value):
                    continue
                vv = etree.SubElement(el, _q(ns, "VariableValue"))
                etree.SubElement(vv, _q(ns, "VariableRef"), targetGUID=guid_for("variable", name))
                etree.SubElement(vv, _q(ns, "TextValue")).text = _clean(str(value))
            for source_guid in case["sources"]:
                etree.SubElement(el, _q(ns, "SourceRef"), targetGUID=source_guid)
            for selection_guid in case["selections"]:
                etree.SubElement(el, _q(ns, "SelectionRef"), targetGUID=selection_guid)

    files: list[tuple[str, str]] = []
    if texts:
        sources_el = etree.SubElement(root, _q(ns, "Sources"))
        for source in texts:
            file_name = f"{source['guid']}.txt"
            files.append((file_name, source["text"]))
            el = etree.SubElement(
                sources_el,
                _q(ns, "TextSource"),
                guid=source["guid"],
                name=_clean(source["name"]),
                plainTextPath=f"internal://{file_name}",
                creatingUser=machine,
                creationDateTime=when,
            )
            etree.SubElement(el, _q(ns, "Description")).text = _clean(source["description"])
            for sel in selections.get(source["guid"], []):
                first = sel["codings"][0]
                sel_el = etree.SubElement(
                    el,
                    _q(ns, "PlainTextSelection"),
                    guid=sel["guid"],
                    name=_clean(sel["name"]),
                    startPosition=str(sel["start"]),
                    endPosition=str(sel["end"]),
                    creatingUser=user_guids[first["coder"]],
                    creationDateTime=when,
                )
                if sel["reviewer"]:
                    sel_el.set("modifyingUser", user_guids[sel["reviewer"]])
                    sel_el.set("modifiedDateTime", when)
                etree.SubElement(sel_el, _q(ns, "Description")).text = _clean(sel["description"])
                for coding in sel["codings"]:
                    c_el = etree.SubElement(
                        sel_el, _q(ns, "Coding"), guid=coding["guid"], creatingUser=user_guids[coding["coder"]],
                        creationDateTime=when,
                    )
                    etree.SubElement(c_el, _q(ns, "CodeRef"), targetGUID=coding["code"])
                for note in notes.get(sel["segment_key"], []):
                    etree.SubElement(sel_el, _q(ns, "NoteRef"), targetGUID=note["guid"])
    all_notes = [n for group in notes.values() for n in group]
    if all_notes:
        notes_el = etree.SubElement(root, _q(ns, "Notes"))
        for note in all_notes:
            n_el = etree.SubElement(
                notes_el, _q(ns, "Note"), guid=note["guid"], name=_clean(note["name"]), creatingUser=note["user"],
                creationDateTime=note["when"] or when,
            )
            etree.SubElement(n_el, _q(ns, "PlainTextContent")).text = _clean(note["text"])
    if skipped:
        log.warning("%d coded segment(s) left out of the REFI-QDA project: their text is not in their source's "
                    "text (run the segment stage again)", skipped)
    payload = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    return payload, files


def _codes(parent, book, ns: str) -> None:
    from lxml import etree

    for theme in book.themes:
        description = theme.definition
        if theme.include:
            description += f"\n\nInclude: {theme.include}"
        if theme.exclude:
            description += f"\n\nExclude: {theme.exclude}"
        el = etree.SubElement(
            parent, _q(ns, "Code"), guid=guid_for("theme", theme.id), name=_clean(theme.name), isCodable="false",
            color=_THEME_COLOUR,
        )
        etree.SubElement(el, _q(ns, "Description")).text = _clean(f"[{theme.id}] {description}")
        for polarity in s.POLARITIES:
            child = etree.SubElement(
                el, _q(ns, "Code"), guid=guid_for("code", theme.id, polarity),
                name=CODE_NAME.format(theme=theme.id, polarity=polarity), isCodable="true", color=_COLOURS[polarity],
            )
            text = f"{theme.name}: {polarity}. {book.polarities.get(polarity, '')}".strip()
            etree.SubElement(child, _q(ns, "Description")).text = _clean(text)
    gp = etree.SubElement(
        parent, _q(ns, "Code"), guid=guid_for("code", "good_practice"), name=GOOD_PRACTICE_CODE, isCodable="true",
        color=_COLOURS[GOOD_PRACTICE_CODE],
    )
    gp_text = getattr(book, "good_practice_definition", "") or "A concrete enabler another place could copy."
    etree.SubElement(gp, _q(ns, "Description")).text = _clean(gp_text)


def _users(data: ExportData, extra: Iterable[str] | None) -> dict[str, str]:
    names = [s.MACHINE_CODER]
    frames = [(data.codings, (s.CODER, "reviewed_by")), (data.human_codings, (s.CODER,))]
    for frame, columns in frames:
        for column in columns:
            if frame is not None and column in frame.columns:
                names.extend(str(v) for v in frame[column] if not _missing(v))
    names.extend(str(v) for v in (extra or ()) if not _missing(v))
    ordered = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    return {name: guid_for("user", name) for name in ordered}


def _layout(data: ExportData) -> tuple[list[dict], dict[str, tuple[str, int, int]], int]:
    """The plain text of every source and where each segment lies in it.

    Returns (sources, placed, skipped): ``placed`` maps a segment key to (source guid, start, end).
    """
    study = data.study_name
    segments = data.segments
    answers = data.text_answers if data.text_answers is not None else pd.DataFrame()
    coded = set(data.codings[s.SEGMENT_KEY]) if not data.codings.empty else set()
    sources: list[dict] = []
    placed: dict[str, tuple[str, int, int]] = {}
    skipped = moved = 0
    for source in data.sources.sort_values(s.PATH).itertuples(index=False):
        source = source._asdict()
        guid = guid_for("source", study, source[s.PATH])
        segs = segments[segments[s.SOURCE_ID] == source[s.SOURCE_ID]] if not segments.empty else segments
        if source.get(s.KIND) == "survey":
            own = answers[answers[s.SOURCE_ID] == source[s.SOURCE_ID]] if not answers.empty else answers
            if own.empty:
                continue
            parts, starts, position = [], {}, 0
            for answer in own.sort_values(s.TEXT_ANSWER_ID).itertuples(index=False):
                paragraph, offset = survey_paragraph(answer.respondent_key, answer.question_text, answer.text or "")
                starts[int(answer.text_answer_id)] = (position + offset, answer.respondent_key)
                parts.append(paragraph)
                position += len(paragraph) + len(PARAGRAPH_BREAK)
            text = PARAGRAPH_BREAK.join(parts)
            for seg in segs.itertuples(index=False):
                answer_id = seg.text_answer_id
                at = starts.get(int(answer_id)) if not _missing(answer_id) else None
                span = _place(text, at[0] + int(seg.start_char), at[0] + int(seg.end_char), _one_line(seg.text)) if at else None
                if span is not None:
                    placed[seg.segment_key] = (guid, *span)
                    moved += span != (at[0] + int(seg.start_char), at[0] + int(seg.end_char))
                elif seg.segment_key in coded:
                    skipped += 1
            description = f"Survey {source[s.PATH]} ({source.get(s.PLACE) or 'no place'}): {len(parts)} free-text answers."
        else:
            text = source.get(s.TEXT)
            if _missing(text):
                skipped += sum(k in coded for k in segs[s.SEGMENT_KEY]) if not segs.empty else 0
                continue
            for seg in segs.itertuples(index=False):
                start, end = int(seg.start_char), int(seg.end_char)
                span = _place(text, start, end, seg.text)
                if span is not None:
                    placed[seg.segment_key] = (guid, *span)
                    moved += span != (start, end)
                elif seg.segment_key in coded:
                    skipped += 1
            who = " - ".join(str(v) for v in (source.get(s.PARTICIPANT_ID), source.get(s.ROLE), source.get(s.ORGANISATION_TYPE)) if not _missing(v))
            description = f"Interview {source[s.PATH]} ({source.get(s.PLACE) or 'no place'}): {who or 'participant unknown'}."
        sources.append({"guid": guid, "name": source[s.PATH], "text": text, "description": description, "row": source})
    if moved:
        log.warning("%d segment(s) had offsets that did not match their text; placed where their text occurs "
                    "nearest instead", moved)
    return sources, placed, skipped


def _place(text: str, start: int, end: int, wanted: Any) -> tuple[int, int] | None:
    """Where a segment lies in ``text``: its own offsets if they hold, else the nearest place its text occurs."""
    if _missing(wanted) or not str(wanted):
        return None
    wanted = str(wanted)
    if 0 <= start <= end and text[start:end] == wanted:
        return start, end
    best, at = None, text.find(wanted)
    while at >= 0:
        if best is None or abs(at - start) < abs(best - start):
            best = at
        at = text.find(wanted, at + 1)
    return (best, best + len(wanted)) if best is not None else None


def _selections(data: ExportData, placed: dict[str, tuple[str, int, int]]) -> dict[str, list[dict]]:
    """Selections by source guid, in text order; each with its codings."""
    study = data.study_name
    out: dict[str, list[dict]] = {}
    if data.codings.empty:
        return out
    codings = data.codings.sort_values([s.SEGMENT_KEY, s.RANK]) if s.RANK in data.codings.columns else data.codings
    for key, group in codings.groupby(s.SEGMENT_KEY, sort=False):
        if key not in placed:
            continue
        source_guid, start, end = placed[key]
        entries = []
        for row in group.itertuples(index=False):
            coder = _name(row.coder) or s.MACHINE_CODER
            entries.append({
                "guid": guid_for("coding", study, key, row.theme),
                "code": guid_for("code", row.theme, row.polarity),
                "coder": coder,
            })
        flagged = [r for r in group.itertuples(index=False) if _truthy(getattr(r, s.GOOD_PRACTICE, False))]
        if flagged:
            entries.append({
                "guid": guid_for("coding", study, key, "good_practice"),
                "code": guid_for("code", "good_practice"),
                "coder": _name(flagged[0].coder) or s.MACHINE_CODER,
            })
        reviewers = [_name(v) for v in group.get("reviewed_by", pd.Series(dtype=object)) if _name(v)]
        details = "; ".join(
            f"{r.theme} {r.polarity}"
            + (f" (confidence {float(r.confidence):.2f})" if not _missing(getattr(r, s.CONFIDENCE, None)) else "")
            + (f", {getattr(r, s.STATUS)}" if not _missing(getattr(r, s.STATUS, None)) else "")
            for r in group.itertuples(index=False)
        )
        out.setdefault(source_guid, []).append({
            "guid": guid_for("selection", study, key),
            "segment_key": key,
            "name": key,
            "start": start,
            "end": end,
            "codings": entries,
            "reviewer": reviewers[0] if reviewers else None,
            "description": f"Segment {key}: {details}.",
        })
    for group in out.values():
        group.sort(key=lambda sel: (sel["start"], sel["end"], sel["segment_key"]))
    return out


def _notes(data: ExportData, user_guids: dict[str, str]) -> dict[str, list[dict]]:
    human = data.human_codings
    out: dict[str, list[dict]] = {}
    if human is None or human.empty or s.NOTE not in human.columns:
        return out
    for row in human.itertuples(index=False):
        note = getattr(row, s.NOTE, None)
        if _missing(note) or not str(note).strip():
            continue
        coder = _name(row.coder) or s.MACHINE_CODER
        ident = getattr(row, s.CODING_ID, None)
        key = ident if not _missing(ident) else f"{row.segment_key}|{coder}|{getattr(row, s.CREATED_AT, '')}"
        out.setdefault(row.segment_key, []).append({
            "guid": guid_for("note", data.study_name, key),
            "name": f"Note by {coder} on segment {row.segment_key}",
            "text": str(note),
            "user": user_guids.get(coder, user_guids[s.MACHINE_CODER]),
            "when": _stamp_of(getattr(row, s.CREATED_AT, None)),
        })
    return out


def _cases(data: ExportData, texts: list[dict], selections: dict[str, list[dict]]) -> list[dict]:
    study = data.study_name
    cases: dict[str, dict] = {}
    for source in texts:
        row = source["row"]
        if row.get(s.KIND) == "survey":
            continue
        pid = row.get(s.PARTICIPANT_ID)
        if _missing(pid):
            continue
        case = cases.setdefault(f"p:{pid}", {
            "guid": guid_for("case", study, "participant", pid), "name": str(pid), "sources": [], "selections": [],
            **{v: row.get(v) for v in VARIABLES},
        })
        case["sources"].append(source["guid"])
    # Survey respondents: metadata from their segments, then Likert answers, then the answers' place.
    survey_guids = {source["row"][s.SOURCE_ID]: source["guid"] for source in texts if source["row"].get(s.KIND) == "survey"}
    meta: dict[str, dict] = {}
    for frame in (data.segments, data.likert, data.text_answers):
        if frame is None or frame.empty or s.RESPONDENT_KEY not in frame.columns:
            continue
        for row in frame.itertuples(index=False):
            key = getattr(row, s.RESPONDENT_KEY)
            if _missing(key):
                continue
            known = meta.setdefault(key, {})
            for v in VARIABLES:
                value = getattr(row, v, None)
                if _missing(known.get(v)) and not _missing(value):
                    known[v] = value
    answers = data.text_answers
    sel_by_key = {sel["segment_key"]: sel["guid"] for group in selections.values() for sel in group}
    if answers is not None and not answers.empty:
        for row in answers.sort_values([s.RESPONDENT_KEY, s.TEXT_ANSWER_ID]).itertuples(index=False):
            source_guid = survey_guids.get(row.source_id)
            if source_guid is None:
                continue
            key = row.respondent_key
            case = cases.setdefault(f"r:{key}", {
                "guid": guid_for("case", study, "respondent", key), "name": str(key), "sources": [], "selections": [],
                **{v: meta.get(key, {}).get(v) for v in VARIABLES},
            })
            if source_guid not in case["sources"]:
                case["sources"].append(source_guid)
        survey_segments = data.segments[data.segments[s.RESPONDENT_KEY].notna()] if not data.segments.empty else data.segments
        for seg in survey_segments.itertuples(index=False):
            case = cases.get(f"r:{seg.respondent_key}")
            if case is not None and seg.segment_key in sel_by_key:
                case["selections"].append(sel_by_key[seg.segment_key])
    return [cases[k] for k in sorted(cases)]


# --------------------------------------------------------------------------- reading
def read_qdpx(path: str | Path) -> ImportedProject:
    """Read a REFI-QDA project: a ``.qdpx`` zip, or a bare ``project.qde``.

    Tolerates what vendors write: ``Project.qde`` in any letter case, CRLF line ends, the
    namespace declared anywhere on the root, absolute base paths, no CodeBook or Sources, and
    source files missing from the zip (their ``text`` is None and a warning says so).

    Raises
    ------
    InputDataError
        The file is missing, not a zip or XML, has no ``project.qde``, or its root is not a
        REFI-QDA ``<Project>``.

    Examples
    --------
    >>> project = read_qdpx("exports/study.qdpx")  # doctest: +SKIP
    >>> project.selections.columns.tolist()[:4]  # doctest: +SKIP
    ['source_guid', 'selection_guid', 'start', 'end']
    """
    path = Path(path).expanduser()
    raw, archive_names, archive = _project_bytes(path)
    warnings: list[str] = []
    try:
        root = _parse(raw, path).getroot()
        _check_root(root, path, "Project", PROJECT_NS)
        users = pd.DataFrame(
            [{"guid": _guid(u.get("guid")), "name": u.get("name") or u.get("id") or ""} for u in _all(root, "User")],
            columns=USER_COLUMNS,
        )
        user_names = dict(zip(users["guid"], users["name"], strict=False))
        codebook = _first(root, "CodeBook")
        codes = _code_rows(_first(codebook, "Codes")) if codebook is not None else _empty(CODE_COLUMNS)
        code_names = dict(zip(codes["guid"], codes["name"], strict=False))
        notes = {}
        notes_el = _first(root, "Notes")
        if notes_el is not None:
            for note in _kids(notes_el, "Note"):
                content = _first(note, "PlainTextContent")
                notes[_guid(note.get("guid"))] = content.text if content is not None and content.text else note.get("name")
        source_rows, selection_rows = [], []
        skipped: dict[str, int] = {}
        sources_el = _first(root, "Sources")
        base = root.get("basePath") or ""
        for source in list(sources_el) if sources_el is not None else []:
            kind = _local(source)
            if not isinstance(kind, str) or not kind.endswith("Source"):
                continue
            guid = _guid(source.get("guid"))
            name = source.get("name") or guid
            text = None
            if kind == "TextSource":
                text = _source_text(source, path, archive, archive_names, base, warnings)
            source_rows.append({"guid": guid, "name": name, "kind": kind, "text": text})
            for child in source:
                local = _local(child)
                if local == "PlainTextSelection":
                    selection_rows.extend(_selection_rows(child, guid, code_names, user_names, notes))
                elif isinstance(local, str) and local.endswith("Selection"):
                    skipped[local] = skipped.get(local, 0) + 1
                elif local == "Coding":
                    skipped["whole-source Coding"] = skipped.get("whole-source Coding", 0) + 1
        for what, n in sorted(skipped.items()):
            warnings.append(f"{path.name}: {n} {what}(s) not read (only coded text selections are imported).")
    finally:
        if archive is not None:
            archive.close()
    for line in warnings:
        log.warning("%s", line)
    return ImportedProject(
        path=path,
        name=root.get("name") or path.stem,
        origin=root.get("origin") or "",
        codes=codes,
        sources=pd.DataFrame(source_rows, columns=SOURCE_COLUMNS),
        selections=pd.DataFrame(selection_rows, columns=SELECTION_COLUMNS),
        users=users,
        warnings=tuple(warnings),
    )


def read_qdc(path: str | Path) -> ImportedCodebook:
    """Read a REFI-QDA codebook (``.qdc``); a project's CodeBook is read too.

    Examples
    --------
    >>> read_qdc("exports/codebook.qdc").codes.shape[0]  # doctest: +SKIP
    49
    """
    path = Path(path).expanduser()
    raw = _read_bytes(path)
    if raw[:2] == b"PK":
        project = read_qdpx(path)
        return ImportedCodebook(path=path, origin=project.origin, codes=project.codes, warnings=project.warnings)
    root = _parse(raw, path).getroot()
    if _local(root) == "Project":
        codebook = _first(root, "CodeBook")
        codes = _code_rows(_first(codebook, "Codes")) if codebook is not None else _empty(CODE_COLUMNS)
        return ImportedCodebook(path=path, origin=root.get("origin") or "", codes=codes)
    _check_root(root, path, "CodeBook", CODEBOOK_NS)
    codes_el = _first(root, "Codes")
    codes = _code_rows(codes_el) if codes_el is not None else _empty(CODE_COLUMNS)
    return ImportedCodebook(path=path, origin=root.get("origin") or "", codes=codes)


def codings_from_project(project: ImportedProject, segments: pd.DataFrame) -> pd.DataFrame:
    """Match a project's coded selections to the study's segments, ready for the store's human codings.

    Parameters
    ----------
    project : from :func:`read_qdpx`.
    segments : the study's segments with ``segment_key``, ``path``, ``start_char``, ``end_char``,
        ``text`` and, for survey segments, ``respondent_key``, ``question_text`` (offsets into the
        answer); optionally ``source_text`` (the transcript's plain text) to match sources by text.

    A project source matches a study source when its text equals the study's text, else when its
    name is the study path (or ends in the same file name, if only one study file has it). A
    selection maps to the segment with the same offsets, else to the segment it overlaps most (at
    least half of the selection).

    Returns one row per selection and code: ``segment_key`` (None when no segment matched),
    ``theme`` and ``polarity`` (parsed from our ``<theme> - <polarity>`` code names; None for other
    codes), ``good_practice`` (the selection also has the ``Good practice`` code), ``coder``,
    ``note``, ``code`` (the code's name), ``source_guid``, ``start``, ``end`` and ``match``
    (exact/overlap/None). The ``Good practice`` code becomes the flag on the selection's theme rows,
    and a row of its own only when the selection has no theme code.

    Examples
    --------
    >>> frame = codings_from_project(read_qdpx("exports/study.qdpx"), segments)  # doctest: +SKIP
    >>> frame[["segment_key", "theme", "polarity"]].head(1)  # doctest: +SKIP
    """
    columns = [s.SEGMENT_KEY, s.THEME, s.POLARITY, s.GOOD_PRACTICE, s.CODER, s.NOTE, CODE_COLUMN,
               "source_guid", "start", "end", "match"]
    selections = project.selections
    if selections.empty:
        return pd.DataFrame(columns=columns)
    spans = _segment_spans(project, segments)
    rows = []
    for sel_guid, group in selections.groupby("selection_guid", sort=False):
        first = group.iloc[0]
        key, how = _match(spans.get(first["source_guid"], ()), int(first["start"]), int(first["end"]))
        names = [str(n) for n in group[CODE_COLUMN]]
        flagged = any(n.strip().lower() == GOOD_PRACTICE_CODE.lower() for n in names)
        ours = [(n, _OUR_CODE.match(n)) for n in names]
        has_theme = any(m for _, m in ours)
        for (name, m), row in zip(ours, group.itertuples(index=False), strict=True):
            is_gp = name.strip().lower() == GOOD_PRACTICE_CODE.lower()
            if is_gp and has_theme:
                continue
            rows.append({
                s.SEGMENT_KEY: key,
                s.THEME: m.group(1) if m else None,
                s.POLARITY: m.group(2) if m else None,
                s.GOOD_PRACTICE: flagged,
                s.CODER: row.user or None,
                s.NOTE: row.note,
                CODE_COLUMN: name,
                "source_guid": row.source_guid,
                "start": int(row.start),
                "end": int(row.end),
                "match": how,
            })
    frame = pd.DataFrame(rows, columns=columns)
    matched = frame[s.SEGMENT_KEY].notna().sum()
    log.info("%s: %d of %d coding(s) matched a segment", project.path.name, matched, len(frame))
    return frame


def _segment_spans(project: ImportedProject, segments: pd.DataFrame) -> dict[str, list[tuple[int, int, str]]]:
    """Where each study segment lies in each matched project source: source guid -> [(start, end, key)]."""
    if segments is None or segments.empty:
        return {}
    by_path = {p: g for p, g in segments.groupby(s.PATH)}
    file_names: dict[str, list[str]] = {}
    for p in by_path:
        file_names.setdefault(PurePosixPath(str(p).replace("\\", "/")).name.lower(), []).append(p)
    texts = {}
    if "source_text" in segments.columns:
        for p, g in by_path.items():
            value = g["source_text"].dropna()
            if not value.empty:
                texts.setdefault(value.iloc[0], p)
    spans: dict[str, list[tuple[int, int, str]]] = {}
    for source in project.sources.itertuples(index=False):
        text = source.text
        path = texts.get(text) if text is not None else None
        if path is None:
            name = str(source.name)
            if name in by_path:
                path = name
            else:
                candidates = file_names.get(PurePosixPath(name.replace("\\", "/")).name.lower(), [])
                path = candidates[0] if len(candidates) == 1 else None
        if path is None:
            continue
        found = []
        for seg in by_path[path].itertuples(index=False):
            respondent = getattr(seg, s.RESPONDENT_KEY, None)
            if _missing(respondent):
                found.append((int(seg.start_char), int(seg.end_char), seg.segment_key))
                continue
            if text is None:
                continue
            prefix = _one_line(SURVEY_PREFIX.format(respondent=respondent, question=getattr(seg, s.QUESTION_TEXT, "")))
            if text.startswith(prefix):
                begin = len(prefix)
            else:
                at = text.find(PARAGRAPH_BREAK + prefix)
                if at < 0:
                    continue
                begin = at + len(PARAGRAPH_BREAK) + len(prefix)
            found.append((begin + int(seg.start_char), begin + int(seg.end_char), seg.segment_key))
        spans[source.guid] = found
    return spans


def _match(spans: Iterable[tuple[int, int, str]], start: int, end: int) -> tuple[str | None, str | None]:
    best, best_overlap = None, 0
    for s_start, s_end, key in spans:
        if s_start == start and s_end == end:
            return key, "exact"
        overlap = min(end, s_end) - max(start, s_start)
        if overlap > best_overlap:
            best, best_overlap = key, overlap
    if best is not None and best_overlap >= _MIN_OVERLAP * max(end - start, 1):
        return best, "overlap"
    return None, None


def _selection_rows(selection, source_guid: str, code_names: dict, user_names: dict, notes: dict) -> list[dict]:
    sel_user = user_names.get(_guid(selection.get("creatingUser")))
    note_texts = [notes.get(_guid(ref.get("targetGUID"))) for ref in _kids(selection, "NoteRef")]
    note = "\n\n".join(n for n in note_texts if n) or None
    try:
        start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
    except (TypeError, ValueError):
        return []
    rows = []
    for coding in _kids(selection, "Coding"):
        ref = _first(coding, "CodeRef")
        code_guid = _guid(ref.get("targetGUID")) if ref is not None else None
        rows.append({
            "source_guid": source_guid,
            "selection_guid": _guid(selection.get("guid")),
            "start": start,
            "end": end,
            "code_guid": code_guid,
            CODE_COLUMN: code_names.get(code_guid, code_guid),
            "user": user_names.get(_guid(coding.get("creatingUser"))) or sel_user,
            s.NOTE: note,
        })
    return rows


def _code_rows(codes_el) -> pd.DataFrame:
    rows: list[dict] = []

    def walk(parent, parent_guid):
        for code in _kids(parent, "Code"):
            description = _first(code, "Description")
            guid = _guid(code.get("guid"))
            rows.append({
                "guid": guid,
                "name": code.get("name") or "",
                "parent_guid": parent_guid,
                "description": description.text if description is not None else None,
            })
            walk(code, guid)

    if codes_el is not None:
        walk(codes_el, None)
    return pd.DataFrame(rows, columns=CODE_COLUMNS)


def _source_text(source, path: Path, archive, names: dict[str, str], base: str, warnings: list[str]) -> str | None:
    inline = _first(source, "PlainTextContent")
    if inline is not None and inline.text is not None:
        return inline.text
    where = source.get("plainTextPath")
    label = source.get("name") or source.get("guid")
    if not where:
        warnings.append(f"{path.name}: source '{label}' has no plain text (no plainTextPath); its text is missing.")
        return None
    raw = None
    if where.lower().startswith("internal://"):
        file_name = unquote(where[len("internal://"):]).lstrip("/")
        if archive is not None:
            member = names.get(f"sources/{file_name}".lower()) or names.get(file_name.lower())
            if member is not None:
                try:
                    raw = archive.read(member)
                except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
                    raise InputDataError(
                        path, f"the source file {member} inside the zip is damaged ({exc}).",
                        "Export the project again from your QDA software.",
                    ) from None
        else:
            for folder in ("Sources", "sources"):
                candidate = path.parent / folder / file_name
                if candidate.is_file():
                    raw = candidate.read_bytes()
                    break
    else:
        local = _local_path(where, base)
        if local is not None and local.is_file():
            raw = local.read_bytes()
    if raw is None:
        warnings.append(
            f"{path.name}: the plain text of source '{label}' ({where}) is not in the project; its text is missing "
            "and its selections cannot be matched by text (export the project again with its sources)."
        )
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return raw.decode("utf-16")
        warnings.append(f"{path.name}: the plain text of source '{label}' is not UTF-8; undecodable bytes replaced.")
        return raw.decode("utf-8", errors="replace")


def _local_path(where: str, base: str) -> Path | None:
    lowered = where.lower()
    if lowered.startswith("relative://"):
        rest = unquote(where[len("relative://"):])
        return Path(base) / rest if base else Path(rest)
    if lowered.startswith("absolute://"):
        return Path(unquote(where[len("absolute://"):]))
    if lowered.startswith("file:"):
        return Path(unquote(urlparse(where).path))
    return Path(where)


def _project_bytes(path: Path) -> tuple[bytes, dict[str, str], zipfile.ZipFile | None]:
    """The project XML, the zip's member names (lower case -> name), and the open zip (or None)."""
    raw = _read_bytes(path)
    if raw[:2] != b"PK":
        if _looks_like_xml(raw):
            return raw, {}, None
        raise InputDataError(
            path,
            "not a REFI-QDA project: it is neither a zip (.qdpx) nor XML (.qde).",
            "Export the project again from your QDA software as REFI-QDA (.qdpx).",
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        names = {n.lower(): n for n in archive.namelist()}
        qde = [n for n in archive.namelist() if n.lower() == PROJECT_FILE]
        qde = qde or [n for n in archive.namelist() if n.lower().endswith(".qde") and "/" not in n.strip("/")]
        if not qde:
            found = ", ".join(sorted(archive.namelist())[:5]) or "nothing"
            archive.close()
            raise InputDataError(
                path, f"this zip holds no project.qde (found: {found}).",
                "It is not a REFI-QDA project; export the project again as .qdpx.",
            )
        return archive.read(qde[0]), names, archive
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error) as exc:
        raise InputDataError(
            path, f"a damaged zip file ({exc}).", "Copy or export the .qdpx again; it may have been cut short."
        ) from None


def _read_bytes(path: Path) -> bytes:
    if path.is_dir():
        raise InputDataError(path, "is a folder, not a REFI-QDA file.", "Pass the .qdpx, .qde or .qdc file itself.")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputDataError(path, "no such file.", "Check the path and the file name.") from None
    except OSError as exc:
        raise InputDataError(path, f"cannot be read ({exc.strerror or exc}).", "Check the file's permissions.") from None


def _looks_like_xml(raw: bytes) -> bool:
    head = raw[:200].lstrip(b"\xef\xbb\xbf").lstrip()
    return head.startswith(b"<") or head[:2] in (b"\xff\xfe", b"\xfe\xff")


def _parse(raw: bytes, path: Path):
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_blank_text=False)
    try:
        return etree.ElementTree(etree.fromstring(raw, parser))
    except etree.XMLSyntaxError as exc:
        line = getattr(exc, "lineno", None)
        raise InputDataError(
            path, f"not well-formed XML ({exc.msg if hasattr(exc, 'msg') else exc}).",
            "Export the file again from your QDA software; it may be damaged or not a REFI-QDA file.",
            where=f"line {line}" if line else "",
        ) from None


def _check_root(root, path: Path, expected: str, namespace: str) -> None:
    from lxml import etree

    qname = etree.QName(root)
    if qname.localname == expected and qname.namespace in (namespace, None):
        return
    found = f"<{qname.localname}>" + (f" in namespace {qname.namespace}" if qname.namespace else "")
    hint = ""
    if qname.localname == "CodeBook" and expected == "Project":
        hint = " It is a REFI-QDA codebook: read it with read_qdc."
    elif qname.localname == "Project" and expected == "CodeBook":
        hint = " It is a REFI-QDA project: read it with read_qdpx."
    raise InputDataError(
        path,
        f"the XML root is {found}, expected <{expected} xmlns=\"{namespace}\">.",
        f"This is not a REFI-QDA {'project' if expected == 'Project' else 'codebook'}.{hint}",
    )


# --------------------------------------------------------------------------- small helpers
def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def _local(el) -> str | None:
    tag = el.tag
    if not isinstance(tag, str):
        return None  # a comment or processing instruction
    return tag.rsplit("}", 1)[-1]


def _kids(parent, name: str) -> list:
    return [c for c in parent if _local(c) == name] if parent is not None else []


def _first(parent, name: str):
    kids = _kids(parent, name)
    return kids[0] if kids else None


def _all(root, name: str) -> list:
    return [el for el in root.iter() if _local(el) == name]


def _guid(value: str | None) -> str | None:
    return value.strip().strip("{}").lower() if value else None


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(columns=columns)


def _clean(text: Any) -> str:
    """Text safe for XML 1.0 (control characters removed)."""
    return _ILLEGAL_XML.sub("", "" if text is None else str(text))


def _one_line(text: Any) -> str:
    return _LINE_BREAKS.sub(" ", "" if _missing(text) else str(text))


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _name(value: Any) -> str | None:
    return None if _missing(value) or not str(value).strip() else str(value).strip()


def _truthy(value: Any) -> bool:
    return False if _missing(value) else bool(value)


def _origin() -> str:
    from toolkit import __version__

    return f"toolkit {__version__}"


def _stamp(when: datetime | None) -> str:
    when = when or datetime.now(timezone.utc)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stamp_of(value: Any) -> str | None:
    if _missing(value):
        return None
    try:
        return _stamp(datetime.fromisoformat(str(value)))
    except ValueError:
        return None


def _zip_time(when: datetime | None) -> tuple[int, int, int, int, int, int]:
    when = when or datetime.now(timezone.utc)
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc)
    return (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
