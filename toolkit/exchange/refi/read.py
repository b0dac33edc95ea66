"""Read a REFI-QDA project (``.qdpx`` or ``.qde``) or codebook (``.qdc``) into frames: a pure reader.

Nothing here writes to the store or matches anything to the study: :func:`read_qdpx` returns an
:class:`ImportedProject` whose codings and notes are anchored by content (the source's name and
study path, the passage's text, offsets as hints, the code's name and parent, polarity where the
code structure carries it, the coder). :mod:`toolkit.exchange.refi.match` finds them among the
study's segments; the write model validates and stores them.

Both note layouts are read: a ``NoteRef`` inside a coded selection (this toolkit, NVivo's links)
and a ``NoteRef`` directly under the source with the passage's range inside the note (QualCoder),
as well as notes on the project and on codes, and notes whose text is a file in the zip.

Offsets are returned in Unicode code points. A project from NVivo (or one that says so in its
description, as this toolkit's exports do) counts UTF-16 code units; they are converted. When a
source holds characters above U+FFFF and the project does not say how it counts, a selection
that only fits in UTF-16 units decides; otherwise code points are assumed and a warning says so.

Examples
--------
>>> project = read_qdpx("exports/study.qdpx")  # doctest: +SKIP
>>> project.codings[["source", "passage", "code", "coder"]].head(1)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pandas as pd

from toolkit import schema as s
from toolkit.errors import InputDataError
from toolkit.exchange.refi import common as c
from toolkit.exchange.refi.archive import DEFAULT_LIMITS, ProjectArchive, ZipLimits, read_limited
from toolkit.exchange.refi.offsets import astral_positions, has_astral, to_codepoints, utf16_length

__all__ = [
    "CODE_COLUMNS",
    "CODING_COLUMNS",
    "NOTE_COLUMNS",
    "SOURCE_COLUMNS",
    "ImportedCodebook",
    "ImportedProject",
    "parse_xml",
    "read_qdc",
    "read_qdpx",
]

log = logging.getLogger(__name__)

CODE_COLUMNS = [c.GUID, c.NAME, c.PARENT_GUID, c.PARENT_CODE, c.DESCRIPTION, s.THEME, s.POLARITY]
SOURCE_COLUMNS = [c.GUID, c.NAME, s.PATH, s.KIND, s.TEXT, c.OFFSET_UNIT]
CODING_COLUMNS = [
    c.SOURCE_GUID, c.SOURCE, s.PATH, c.SELECTION_GUID, c.START, c.END, c.PASSAGE, c.CODE_GUID, c.CODE_COLUMN,
    c.PARENT_CODE, s.THEME, s.POLARITY, s.CODER, s.CREATED_AT, s.NOTE,
]
NOTE_COLUMNS = [
    c.GUID, c.NAME, s.TEXT, s.AUTHOR, s.CREATED_AT, c.TARGET, c.TARGET_GUID, c.SOURCE_GUID, c.SOURCE, s.PATH,
    c.START, c.END, c.PASSAGE, c.CODE_COLUMN,
]
USER_COLUMNS = [c.GUID, c.NAME]
_POLARITY_WORD = re.compile(r"^\s*(barrier|enabler|neutral)s?\s*$", re.IGNORECASE)
_MARKER = re.compile(r"Selection offsets count (Unicode code points|UTF-16 code units)\.")


@dataclass(frozen=True)
class ImportedProject:
    """A REFI-QDA project as read by :func:`read_qdpx`.

    Attributes
    ----------
    codes : ``guid``, ``name``, ``parent_guid`` (None at the top), ``parent_code`` (its name),
        ``description``, ``theme`` and ``polarity`` where the code structure carries them (our
        ``<theme> - <polarity>`` codes, or a code named barrier/enabler/neutral under a theme).
    sources : ``guid``, ``name`` (as in the project), ``path`` (the study path this toolkit keeps in the
        ``source_path`` variable, else the name), ``kind`` (TextSource, PDFSource, ...), ``text`` (None
        when the plain text is not in the file), ``offset_unit`` (how the file counted offsets).
    codings : one row per coding of a text selection: ``source_guid``, ``source``, ``path``,
        ``selection_guid``, ``start``, ``end`` (code points, hints only), ``passage`` (the selected
        text), ``code_guid``, ``code``, ``parent_code``, ``theme``, ``polarity``, ``coder`` (the
        coding's creating user, else the selection's), ``created_at``, ``note`` (the text of notes
        on the passage, either layout, or None).
    notes : one row per note: ``guid``, ``name``, ``text``, ``author``, ``created_at``, ``target``
        (project / source / code / selection), ``target_guid``, and for source and selection notes
        ``source_guid``, ``source``, ``path``, ``start``, ``end``, ``passage``; ``code`` for code notes.
    users : ``guid``, ``name``.
    description : the project's description.
    warnings : what could not be read, one line each (never passage text).
    GUIDs are lower case, without braces.
    """

    path: Path
    name: str
    origin: str
    codes: pd.DataFrame
    sources: pd.DataFrame
    codings: pd.DataFrame
    notes: pd.DataFrame
    users: pd.DataFrame
    description: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def selections(self) -> pd.DataFrame:
        """The codings under their former column names (``user`` for ``coder``)."""
        return self.codings.rename(columns={s.CODER: c.USER})


@dataclass(frozen=True)
class ImportedCodebook:
    """A REFI-QDA codebook (``.qdc``) as read by :func:`read_qdc`: ``codes`` as in :class:`ImportedProject`."""

    path: Path
    origin: str
    codes: pd.DataFrame
    warnings: tuple[str, ...] = field(default=())


# --------------------------------------------------------------------------- entry points
def read_qdpx(path: str | Path, *, offsets: str = "auto", limits: ZipLimits = DEFAULT_LIMITS) -> ImportedProject:
    """Read a REFI-QDA project: a ``.qdpx`` zip, or a bare ``project.qde``.

    Parameters
    ----------
    path : the file.
    offsets : ``"auto"`` (see the module's notes), ``"codepoints"`` or ``"utf16"``: how the file counts
        selection offsets. Returned offsets are always code points.
    limits : what the zip may hold before it is refused (see :class:`~toolkit.exchange.refi.archive.ZipLimits`).

    Tolerates what vendors write: ``Project.qde`` in any letter case, CRLF line ends, the namespace
    declared anywhere on the root, absolute base paths, no CodeBook or Sources, and source files
    missing from the zip (their ``text`` is None and a warning says so).

    Raises
    ------
    InputDataError
        The file is missing, not a zip or XML, has no ``project.qde``, passes a limit, or its root
        is not a REFI-QDA ``<Project>``.

    Examples
    --------
    >>> project = read_qdpx("exports/study.qdpx")  # doctest: +SKIP
    >>> project.codings.columns.tolist()[:3]  # doctest: +SKIP
    ['source_guid', 'source', 'path']
    """
    if offsets not in ("auto", *c.OFFSET_UNITS):
        raise ValueError(f"offsets must be 'auto', 'codepoints' or 'utf16', not {offsets!r}.")
    path = Path(path).expanduser()
    with ProjectArchive.open(path, limits) as archive:
        root = parse_xml(archive.project_bytes(), path).getroot()
        check_root(root, path, "Project", c.PROJECT_NS)
        project = _ProjectReader(path, root, archive, offsets).read()
    for line in project.warnings:
        log.warning("%s", line)
    return project


def read_qdc(path: str | Path, *, limits: ZipLimits = DEFAULT_LIMITS) -> ImportedCodebook:
    """Read a REFI-QDA codebook (``.qdc``); a project's CodeBook is read too.

    Examples
    --------
    >>> read_qdc("exports/codebook.qdc").codes.shape[0]  # doctest: +SKIP
    49
    """
    path = Path(path).expanduser()
    with ProjectArchive.open(path, limits) as archive:
        if archive.is_zip:
            project_root = parse_xml(archive.project_bytes(), path).getroot()
            check_root(project_root, path, "Project", c.PROJECT_NS)
            codes, _ = code_rows(c.first(c.first(project_root, "CodeBook"), "Codes"))
            return ImportedCodebook(path=path, origin=project_root.get("origin") or "", codes=codes)
        root = parse_xml(archive.project_bytes(), path).getroot()
    if c.local(root) != "Project":
        check_root(root, path, "CodeBook", c.CODEBOOK_NS)
    codebook = root if c.local(root) == "CodeBook" else c.first(root, "CodeBook")
    codes, _ = code_rows(c.first(codebook, "Codes"))
    return ImportedCodebook(path=path, origin=root.get("origin") or "", codes=codes)


# --------------------------------------------------------------------------- the project reader
class _ProjectReader:
    """One pass over a parsed project: users, codes, notes, sources with their selections."""

    def __init__(self, path: Path, root, archive: ProjectArchive, offsets: str):
        self.path = path
        self.root = root
        self.archive = archive
        self.requested = offsets
        self.warnings: list[str] = []
        self._astral: dict[int, tuple[str, list[int]]] = {}
        self.base = root.get("basePath") or ""
        description = c.first(root, "Description")
        self.description = description.text if description is not None else None

    def read(self) -> ImportedProject:
        root = self.root
        users = pd.DataFrame(
            [{c.GUID: c.norm_guid(u.get("guid")), c.NAME: u.get("name") or u.get("id") or ""}
             for u in c.kids(c.first(root, "Users"), "User")],
            columns=USER_COLUMNS,
        )
        self.user_names = dict(zip(users[c.GUID], users[c.NAME], strict=False))
        codes, code_refs = code_rows(c.first(c.first(root, "CodeBook"), "Codes"))
        self.codes = {row[c.GUID]: row for row in codes.to_dict("records")}
        self.variables = {
            c.norm_guid(v.get("guid")): v.get("name") for v in c.kids(c.first(root, "Variables"), "Variable")
        }
        self.raw_notes = {c.norm_guid(n.get("guid")): n for n in c.kids(c.first(root, "Notes"), "Note")}
        sources, selections, source_refs = self._sources()
        units = {row[c.GUID]: row[c.OFFSET_UNIT] for row in sources}
        texts = {row[c.GUID]: row[s.TEXT] for row in sources}
        codings = self._codings(sources, selections)
        notes = self._notes(sources, selections, source_refs, code_refs, units, texts)
        if not codings.empty and not notes.empty:
            joined: dict[tuple, list[str]] = {}
            for row in notes[notes[c.TARGET] == "selection"].itertuples(index=False):
                if getattr(row, s.TEXT):
                    key = (getattr(row, c.SOURCE_GUID), int(getattr(row, c.START)), int(getattr(row, c.END)))
                    joined.setdefault(key, []).append(getattr(row, s.TEXT))
            keys = zip(codings[c.SOURCE_GUID], codings[c.START], codings[c.END], strict=True)
            codings[s.NOTE] = [("\n\n".join(joined[k]) if k in joined else None) for k in keys]
        return ImportedProject(
            path=self.path,
            name=root.get("name") or self.path.stem,
            origin=root.get("origin") or "",
            codes=codes,
            sources=pd.DataFrame([{k: row[k] for k in SOURCE_COLUMNS} for row in sources], columns=SOURCE_COLUMNS),
            codings=codings,
            notes=notes,
            users=users,
            description=self.description,
            warnings=tuple(self.warnings),
        )

    # ------------------------------------------------------------------ sources and selections
    def _sources(self) -> tuple[list[dict], list[dict], list[tuple[str, str]]]:
        rows: list[dict] = []
        selections: list[dict] = []
        source_refs: list[tuple[str, str]] = []  # (note guid, source guid)
        skipped: dict[str, int] = {}
        for source in list(c.first(self.root, "Sources")) if c.first(self.root, "Sources") is not None else []:
            kind = c.local(source)
            if not isinstance(kind, str) or not kind.endswith("Source"):
                continue
            guid = c.norm_guid(source.get("guid"))
            name = source.get("name") or guid
            text = self._source_text(source) if kind == "TextSource" else None
            own = []
            for child in source:
                here = c.local(child)
                if here == "PlainTextSelection":
                    own.append(self._selection(child, guid))
                elif here == "NoteRef":
                    source_refs.append((c.norm_guid(child.get("targetGUID")), guid))
                elif isinstance(here, str) and here.endswith("Selection"):
                    skipped[here] = skipped.get(here, 0) + 1
                elif here == "Coding":
                    skipped["whole-source Coding"] = skipped.get("whole-source Coding", 0) + 1
            own = [sel for sel in own if sel is not None]
            unit = self._unit(name, text, [(sel[c.START], sel[c.END]) for sel in own])
            for sel in own:
                sel[c.START], sel[c.END] = self._to_codepoints(text, unit, sel[c.START], sel[c.END])
            selections.extend(own)
            rows.append({
                c.GUID: guid, c.NAME: name, s.PATH: self._path_variable(source) or name, s.KIND: kind,
                s.TEXT: text, c.OFFSET_UNIT: unit,
            })
        for what, n in sorted(skipped.items()):
            self.warnings.append(f"{self.path.name}: {n} {what}(s) not read (only coded text selections are imported).")
        outside = 0
        texts = {row[c.GUID]: row[s.TEXT] for row in rows}
        for sel in selections:
            text = texts.get(sel[c.SOURCE_GUID])
            if text is not None and not (0 <= sel[c.START] <= sel[c.END] <= len(text)):
                outside += 1
        if outside:
            self.warnings.append(f"{self.path.name}: {outside} selection(s) lie outside their source's text; "
                                 "their passage is missing.")
        return rows, selections, source_refs

    def _selection(self, el, source_guid: str) -> dict | None:
        try:
            start, end = int(el.get("startPosition")), int(el.get("endPosition"))
        except (TypeError, ValueError):
            return None
        description = c.first(el, "Description")
        codings = []
        for coding in c.kids(el, "Coding"):
            ref = c.first(coding, "CodeRef")
            codings.append({
                c.CODE_GUID: c.norm_guid(ref.get("targetGUID")) if ref is not None else None,
                s.CODER: self._user(coding) or self._user(el),
                s.CREATED_AT: coding.get("creationDateTime") or el.get("creationDateTime"),
            })
        return {
            c.SOURCE_GUID: source_guid,
            c.SELECTION_GUID: c.norm_guid(el.get("guid")),
            c.START: start,
            c.END: end,
            "codings": codings,
            "note_refs": [c.norm_guid(r.get("targetGUID")) for r in c.kids(el, "NoteRef")],
            c.DESCRIPTION: description.text if description is not None else None,
            s.AUTHOR: self._user(el),
            s.CREATED_AT: el.get("creationDateTime") or el.get("modifiedDateTime"),
        }

    def _user(self, el) -> str | None:
        guid = c.norm_guid(el.get("creatingUser") or el.get("modifyingUser"))
        return self.user_names.get(guid) if guid else None

    def _path_variable(self, source) -> str | None:
        for value in c.kids(source, "VariableValue"):
            ref = c.first(value, "VariableRef")
            if ref is None or self.variables.get(c.norm_guid(ref.get("targetGUID"))) != c.SOURCE_PATH_VARIABLE:
                continue
            text = c.first(value, "TextValue")
            if text is not None and text.text and text.text.strip():
                return text.text.strip()
        return None

    # ------------------------------------------------------------------ offsets
    def _declared_unit(self) -> str | None:
        if self.requested != "auto":
            return self.requested
        m = _MARKER.search(self.description or "")
        if m:
            return c.UTF16 if m.group(1).startswith("UTF-16") else c.CODEPOINTS
        if "nvivo" in (self.root.get("origin") or "").lower():
            return c.UTF16
        return None

    def _unit(self, name: str, text: str | None, spans: list[tuple[int, int]]) -> str:
        declared = self._declared_unit()
        if declared is not None or not has_astral(text):
            return declared or c.CODEPOINTS
        longest = max((end for _, end in spans), default=0)
        if len(text) < longest <= utf16_length(text):
            return c.UTF16
        if spans:
            self.warnings.append(
                f"{self.path.name}: source '{name}' holds characters above U+FFFF and the project does not say how "
                "it counts offsets; read as code points (QualCoder). If it came from NVivo, read it with "
                "offsets='utf16'."
            )
        return c.CODEPOINTS

    def _to_codepoints(self, text: str | None, unit: str, start: int, end: int) -> tuple[int, int]:
        if unit != c.UTF16 or not text:
            return start, end
        key = id(text)
        if key not in self._astral:
            self._astral[key] = (text, astral_positions(text))  # the text is kept so its id stays its own
        astral = self._astral[key][1]
        if not astral:
            return start, end
        return to_codepoints(text, start, astral=astral), to_codepoints(text, end, astral=astral)

    # ------------------------------------------------------------------ codings
    def _codings(self, sources: list[dict], selections: list[dict]) -> pd.DataFrame:
        by_guid = {row[c.GUID]: row for row in sources}
        rows = []
        for sel in selections:
            source = by_guid[sel[c.SOURCE_GUID]]
            passage = _cut(source[s.TEXT], sel[c.START], sel[c.END])
            for coding in sel["codings"]:
                code_guid = coding[c.CODE_GUID]
                code = self.codes.get(code_guid)
                rows.append({
                    c.SOURCE_GUID: source[c.GUID],
                    c.SOURCE: source[c.NAME],
                    s.PATH: source[s.PATH],
                    c.SELECTION_GUID: sel[c.SELECTION_GUID],
                    c.START: sel[c.START],
                    c.END: sel[c.END],
                    c.PASSAGE: passage,
                    c.CODE_GUID: code_guid,
                    c.CODE_COLUMN: code[c.NAME] if code is not None else code_guid,
                    c.PARENT_CODE: code[c.PARENT_CODE] if code is not None else None,
                    s.THEME: code[s.THEME] if code is not None else None,
                    s.POLARITY: code[s.POLARITY] if code is not None else None,
                    s.CODER: coding[s.CODER],
                    s.CREATED_AT: coding[s.CREATED_AT],
                    s.NOTE: None,
                })
        return pd.DataFrame(rows, columns=CODING_COLUMNS)

    # ------------------------------------------------------------------ notes
    def _notes(self, sources, selections, source_refs, code_refs, units, texts) -> pd.DataFrame:
        by_source = {row[c.GUID]: row for row in sources}
        by_selection = {sel[c.SELECTION_GUID]: sel for sel in selections}
        targets: dict[str, dict] = {}

        def claim(note_guid: str | None, rank: int, **where: Any) -> None:
            if note_guid is None or note_guid not in self.raw_notes:
                return
            if note_guid not in targets or targets[note_guid]["rank"] < rank:
                targets[note_guid] = {"rank": rank, **where}

        for ref in c.kids(self.root, "NoteRef"):
            claim(c.norm_guid(ref.get("targetGUID")), 0, target="project")
        for note_guid, code_guid in code_refs:
            claim(note_guid, 1, target="code", target_guid=code_guid)
        for note_guid, source_guid in source_refs:
            span = self._note_span(note_guid, texts.get(source_guid), units.get(source_guid, c.CODEPOINTS))
            text = texts.get(source_guid)
            whole = span is None or (text is not None and span == (0, len(text)))
            if whole:
                claim(note_guid, 2, target="source", target_guid=source_guid, source_guid=source_guid)
            else:
                claim(note_guid, 3, target="selection", target_guid=source_guid, source_guid=source_guid, span=span)
        for sel in selections:
            for note_guid in sel["note_refs"]:
                claim(note_guid, 4, target="selection", target_guid=sel[c.SELECTION_GUID],
                      source_guid=sel[c.SOURCE_GUID], span=(sel[c.START], sel[c.END]))
        for link in c.kids(c.first(self.root, "Links"), "Link"):  # NVivo: a link between a note and a selection
            ends = [c.norm_guid(link.get("originGUID")), c.norm_guid(link.get("targetGUID"))]
            note = next((g for g in ends if g in self.raw_notes), None)
            sel = next((by_selection[g] for g in ends if g in by_selection), None)
            if note and sel is not None:
                claim(note, 4, target="selection", target_guid=sel[c.SELECTION_GUID],
                      source_guid=sel[c.SOURCE_GUID], span=(sel[c.START], sel[c.END]))
        rows = []
        for note_guid, el in self.raw_notes.items():
            where = targets.get(note_guid, {"target": "project"})
            rows.append(self._note_row(note_guid, el, where, by_source))
        for sel in selections:  # MAXQDA: an uncoded selection whose description is a memo
            if not sel["codings"] and sel[c.DESCRIPTION] and sel[c.DESCRIPTION].strip():
                source = by_source[sel[c.SOURCE_GUID]]
                rows.append({
                    c.GUID: sel[c.SELECTION_GUID], c.NAME: "", s.TEXT: sel[c.DESCRIPTION], s.AUTHOR: sel[s.AUTHOR],
                    s.CREATED_AT: sel[s.CREATED_AT], c.TARGET: "selection", c.TARGET_GUID: sel[c.SELECTION_GUID],
                    c.SOURCE_GUID: source[c.GUID], c.SOURCE: source[c.NAME], s.PATH: source[s.PATH],
                    c.START: sel[c.START], c.END: sel[c.END], c.PASSAGE: _cut(source[s.TEXT], sel[c.START], sel[c.END]),
                    c.CODE_COLUMN: None,
                })
        return pd.DataFrame(rows, columns=NOTE_COLUMNS)

    def _note_row(self, note_guid: str, el, where: dict, by_source: dict) -> dict:
        source = by_source.get(where.get("source_guid")) if where.get("source_guid") else None
        span = where.get("span")
        code_guid = where.get("target_guid") if where["target"] == "code" else None
        code = self.codes[code_guid][c.NAME] if code_guid in self.codes else None
        return {
            c.GUID: note_guid,
            c.NAME: el.get("name") or "",
            s.TEXT: self._note_text(el),
            s.AUTHOR: self._user(el),
            s.CREATED_AT: el.get("creationDateTime") or el.get("modifiedDateTime"),
            c.TARGET: where["target"],
            c.TARGET_GUID: where.get("target_guid"),
            c.SOURCE_GUID: source[c.GUID] if source else None,
            c.SOURCE: source[c.NAME] if source else None,
            s.PATH: source[s.PATH] if source else None,
            c.START: span[0] if span else None,
            c.END: span[1] if span else None,
            c.PASSAGE: _cut(source[s.TEXT], *span) if source and span else None,
            c.CODE_COLUMN: code,
        }

    def _note_span(self, note_guid: str, text: str | None, unit: str) -> tuple[int, int] | None:
        inner = c.first(self.raw_notes.get(note_guid), "PlainTextSelection")
        if inner is None:
            return None
        try:
            start, end = int(inner.get("startPosition")), int(inner.get("endPosition"))
        except (TypeError, ValueError):
            return None
        return self._to_codepoints(text, unit, start, end)

    def _note_text(self, el) -> str | None:
        content = c.first(el, "PlainTextContent")
        if content is not None and content.text:
            return content.text
        if el.get("plainTextPath"):
            text = self._file_text(el.get("plainTextPath"), label=f"note '{el.get('name') or el.get('guid')}'")
            if text is not None:
                return text
        description = c.first(el, "Description")
        if description is not None and description.text:
            return description.text
        return el.get("name")

    # ------------------------------------------------------------------ text files
    def _source_text(self, source) -> str | None:
        inline = c.first(source, "PlainTextContent")
        if inline is not None and inline.text is not None:
            return inline.text
        where = source.get("plainTextPath")
        label = f"source '{source.get('name') or source.get('guid')}'"
        if not where:
            self.warnings.append(f"{self.path.name}: {label} has no plain text (no plainTextPath); its text is missing.")
            return None
        return self._file_text(where, label=label)

    def _file_text(self, where: str, *, label: str) -> str | None:
        raw = None
        limit = self.archive.limits.max_entry_bytes
        if where.lower().startswith("internal://"):
            file_name = unquote(where[len("internal://"):]).lstrip("/")
            if self.archive.is_zip:
                member = self.archive.find(f"sources/{file_name}", file_name)
                if member is not None:
                    raw = self.archive.member_bytes(member)
            else:
                for folder in ("Sources", "sources"):
                    candidate = self.path.parent / folder / file_name
                    if candidate.is_file():
                        raw = read_limited(candidate, limit=limit, what="source file")
                        break
        else:
            local = _local_path(where, self.base)
            if local is not None and local.is_file():
                raw = read_limited(local, limit=limit, what="source file")
        if raw is None:
            self.warnings.append(
                f"{self.path.name}: the plain text of {label} ({where}) is not in the project; its text is missing "
                "and its selections cannot be matched by text (export the project again with its sources)."
            )
            return None
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
                return raw.decode("utf-16")
            self.warnings.append(f"{self.path.name}: the plain text of {label} is not UTF-8; undecodable bytes replaced.")
            return raw.decode("utf-8", errors="replace")


# --------------------------------------------------------------------------- shared pieces
def code_rows(codes_el) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """The codes under a ``<Codes>`` element (depth first), and the notes they refer to: ``[(note guid, code guid)]``."""
    rows: list[dict] = []
    refs: list[tuple[str, str]] = []

    def walk(parent, parent_guid, parent_name):
        for code in c.kids(parent, "Code"):
            description = c.first(code, "Description")
            guid = c.norm_guid(code.get("guid"))
            name = code.get("name") or ""
            theme = polarity = None
            ours = c.parse_code_name(name)
            if ours:
                theme, polarity = ours
            elif parent_name and _POLARITY_WORD.match(name):
                theme, polarity = parent_name, _POLARITY_WORD.match(name).group(1).lower()
            rows.append({
                c.GUID: guid, c.NAME: name, c.PARENT_GUID: parent_guid, c.PARENT_CODE: parent_name,
                c.DESCRIPTION: description.text if description is not None else None, s.THEME: theme,
                s.POLARITY: polarity,
            })
            refs.extend((c.norm_guid(r.get("targetGUID")), guid) for r in c.kids(code, "NoteRef"))
            walk(code, guid, name)

    if codes_el is not None:
        walk(codes_el, None, None)
    return pd.DataFrame(rows, columns=CODE_COLUMNS), refs


def parse_xml(raw: bytes, path: Path):
    """Parse XML safely: no entities resolved, no network, a clear error naming the file."""
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


def check_root(root, path: Path, expected: str, namespace: str) -> None:
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


def _cut(text: str | None, start: int, end: int) -> str | None:
    if text is None or not (0 <= start <= end <= len(text)):
        return None
    return text[start:end]


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
