"""The optional ``manifest.csv``: who and where each raw file comes from, and the cases' own attributes.

Columns (only ``file`` is required; names are matched case-insensitively):
``file`` (path relative to the study folder, or a bare file name), ``participant_id``,
``place``, ``organisation_type``, ``sector``, ``role``, ``interview_date``,
``interviewer`` (names of interviewers as they appear as speakers; ``;`` between several).

Any other column is a **case attribute** a team adds for its own analysis (rural/urban, years in
post, date the service started): typed ``text``, ``number`` or ``date``. The type is read from the
column's values (every filled cell a number: ``number``; every filled cell a date: ``date``; else
``text``), or given in the header as ``name:type`` (``years_in_post:number``), which is then
checked cell by cell. Dates are written ``2026-02-09`` or ``09/02/2026`` (day first, as in the UK)
and stored as ``2026-02-09``. Attributes are stored with their source (``sources.attributes``),
pseudonymised like the rest of the manifest, and can be the rows of a framework matrix, a filter,
and REFI-QDA case variables.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from toolkit.errors import InputDataError
from toolkit.ingest.encoding import read_text_file
from toolkit.schema import SourceMeta

MANIFEST_COLUMNS = (
    "file",
    "participant_id",
    "place",
    "organisation_type",
    "sector",
    "role",
    "interview_date",
    "interviewer",
)
ATTRIBUTE_TYPES = ("text", "number", "date")
"""The types of a case attribute."""
MAX_ATTRIBUTES = 40
"""More extra columns than this is almost certainly a wrong file (a survey export given as the manifest)."""

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9 _\-]{0,59}$")
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


@dataclass(frozen=True)
class Attribute:
    """One case-attribute column of the manifest: its name (as shown) and its type."""

    name: str
    type: str
    column: str
    """The header cell it came from (``years_in_post:number``)."""


def read_manifest(path: str | Path) -> dict[str, SourceMeta]:
    """Read a manifest into ``{file key: SourceMeta}``; case attributes go to ``SourceMeta.extra``.

    The key is the ``file`` cell with forward slashes; :func:`lookup` matches it
    against a file's path relative to the study, or its bare name. ``extra`` maps each attribute
    to ``{"type": ..., "value": ...}`` (a number as a number, a date as ``YYYY-MM-DD``); empty
    cells are left out.

    Examples
    --------
    >>> meta = read_manifest("interviews/manifest.csv")  # doctest: +SKIP
    >>> meta["Brackenford/BK03_data_analyst.txt"].participant_id  # doctest: +SKIP
    'BK03'
    >>> meta["Brackenford/BK03_data_analyst.txt"].extra  # doctest: +SKIP
    {'setting': {'type': 'text', 'value': 'urban'}, 'years_in_post': {'type': 'number', 'value': 4}}
    """
    path = Path(path)
    text, _ = read_text_file(path)
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise InputDataError(path, "has no header row.", f"The first row must name the columns: {', '.join(MANIFEST_COLUMNS)}.")
    columns = {name.strip().casefold(): name for name in reader.fieldnames if name and name.strip()}
    if "file" not in columns:
        raise InputDataError(
            path,
            f"has no 'file' column. Found: {', '.join(reader.fieldnames)}.",
            "Add a 'file' column with each file's path relative to the study folder.",
        )
    rows = list(reader)
    attributes = _attribute_columns(path, [name for key, name in columns.items() if key not in MANIFEST_COLUMNS],
                                    rows)
    out: dict[str, SourceMeta] = {}
    for line, row in enumerate(rows, start=2):
        def get(key: str, row: dict = row) -> str | None:
            return (row.get(columns.get(key, ""), "") or "").strip() or None

        key = get("file")
        if not key:
            if any((v or "").strip() for v in row.values() if isinstance(v, str)):
                raise InputDataError(path, "has a row without a file name.", "Fill in the 'file' cell.", f"line {line}")
            continue
        key = key.replace("\\", "/").lstrip("./")
        if key in out:
            raise InputDataError(path, f"lists '{key}' twice.", "Keep one row per file.", f"line {line}")
        interviewers = tuple(n.strip() for n in (get("interviewer") or "").split(";") if n.strip())
        extra = {}
        for attribute in attributes:
            cell = (row.get(attribute.column) or "").strip()
            if cell:
                extra[attribute.name] = {"type": attribute.type,
                                         "value": _typed(path, line, attribute, cell)}
        out[key] = SourceMeta(
            place=get("place"),
            participant_id=get("participant_id"),
            organisation_type=get("organisation_type"),
            sector=get("sector"),
            role=get("role"),
            interview_date=get("interview_date"),
            interviewers=interviewers,
            extra=extra,
        )
    return out


def lookup(manifest: dict[str, SourceMeta], relative: str) -> SourceMeta | None:
    """The manifest entry for a file, by relative path first, then by bare name."""
    if relative in manifest:
        return manifest[relative]
    name = relative.rsplit("/", 1)[-1]
    matches = [meta for key, meta in manifest.items() if key.rsplit("/", 1)[-1] == name]
    return matches[0] if len(matches) == 1 else None


# --------------------------------------------------------------------------- case attributes
def _attribute_columns(path: Path, headers: list[str], rows: list[dict]) -> list[Attribute]:
    """The manifest's extra columns as typed attributes (declared ``name:type``, else read from the values)."""
    if len(headers) > MAX_ATTRIBUTES:
        raise InputDataError(
            path, f"has {len(headers)} columns besides the known ones (at most {MAX_ATTRIBUTES} case attributes).",
            f"Is this the manifest? Its known columns are {', '.join(MANIFEST_COLUMNS)}; keep the attributes you "
            "analyse by.",
        )
    out: list[Attribute] = []
    seen: dict[str, str] = {}
    for header in headers:
        name, _, declared = header.strip().partition(":")
        name, declared = name.strip(), declared.strip().casefold()
        if not _NAME.match(name):
            raise InputDataError(
                path, f"column '{header.strip()}' is not a usable attribute name.",
                "Start it with a letter and use letters, digits, spaces, '-' or '_' (at most 60 characters), "
                "optionally followed by ':text', ':number' or ':date'.",
            )
        if name.casefold() in MANIFEST_COLUMNS:
            raise InputDataError(path, f"column '{header.strip()}' repeats the built-in column '{name}'.",
                                 "Remove the type suffix, or rename the attribute.")
        if declared and declared not in ATTRIBUTE_TYPES:
            raise InputDataError(path, f"column '{header.strip()}' declares the unknown type '{declared}'.",
                                 f"Use one of: {', '.join(ATTRIBUTE_TYPES)} (e.g. '{name}:number').")
        if name.casefold() in seen:
            raise InputDataError(path, f"has two columns for the attribute '{name}' ('{seen[name.casefold()]}' and "
                                       f"'{header.strip()}').", "Keep one.")
        seen[name.casefold()] = header.strip()
        cells = [(row.get(header) or "").strip() for row in rows]
        out.append(Attribute(name=name, type=declared or infer_type(cells), column=header))
    return out


def infer_type(cells: list[str]) -> str:
    """``number`` when every filled cell is a number, ``date`` when every one is a date, else ``text``.

    >>> infer_type(["4", "", "12.5"]), infer_type(["2019-04-01", "01/09/2021"]), infer_type(["rural", "3"])
    ('number', 'date', 'text')
    >>> infer_type(["", ""])
    'text'
    """
    filled = [c for c in cells if c]
    if not filled:
        return "text"
    if all(_NUMBER.match(c.replace(",", "")) for c in filled):
        return "number"
    if all(_parse_date(c) is not None for c in filled):
        return "date"
    return "text"


def _typed(path: Path, line: int, attribute: Attribute, cell: str) -> Any:
    if attribute.type == "number":
        plain = cell.replace(",", "")
        if not _NUMBER.match(plain):
            raise InputDataError(path, f"column '{attribute.column.strip()}' is declared a number, but this cell is "
                                       "not one.", "Write a number (e.g. 4 or 2.5), or declare the column ':text'.",
                                 f"line {line}")
        number = float(plain)
        return int(number) if number.is_integer() and "." not in plain else number
    if attribute.type == "date":
        parsed = _parse_date(cell)
        if parsed is None:
            raise InputDataError(path, f"column '{attribute.column.strip()}' is declared a date, but this cell is "
                                       "not one.", "Write dates as 2026-02-09 or 09/02/2026, or declare the column "
                                       "':text'.", f"line {line}")
        return parsed
    return cell


def _parse_date(cell: str) -> str | None:
    """``2026-02-09`` or ``09/02/2026`` (day first) as ``2026-02-09``; None when not a real date."""
    match = _ISO_DATE.match(cell)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _UK_DATE.match(cell)
        if not match:
            return None
        day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None
