"""What every step of the survey reader passes on: the grid of cells, the columns being
classified, where an error points, and the small helpers that read a cell's value.

No step here reads a file; see :mod:`~toolkit.ingest.surveys.read` for that.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.errors import InputDataError

MAX_FOUND = 20
"""Column names listed in an error message, at most."""
MAX_KEY = 100
"""Longest question key kept; the full wording is kept separately."""

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")


@dataclass
class Sheet:
    """The cells of one worksheet or CSV file: rows of cleaned values, blanks as None."""

    rows: list[list[Any]]
    name: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class Column:
    """One column of the export while it is being classified."""

    position: int
    key: str
    text: str
    headers: tuple[str, ...]
    values: list[Any]
    open_ended: bool = False
    stem: str = ""
    """The question a sub-column belongs to (matrix rows share it)."""
    kind: str = ""
    fixed: bool = False
    scale: tuple[str, ...] = ()
    """The ordered labels of the column's scale, lowest first (Likert columns)."""
    points: dict[str, int] = field(default_factory=dict)
    """Normalised answer -> 1-based position on :attr:`scale`."""
    fuzzy: frozenset[str] = frozenset()
    scale_guessed: bool = False
    """A numeric scale whose length was guessed from the answers (the wording declares none)."""

    @property
    def filled(self) -> list[Any]:
        return [v for v in self.values if v is not None]


@dataclass(frozen=True)
class Place:
    """Where in which file: builds errors in the house style."""

    path: Path
    sheet: str | None

    @property
    def where(self) -> str:
        return f"sheet '{self.sheet}'" if self.sheet is not None else ""

    def error(self, problem: str, fix: str = "", row: int | None = None) -> InputDataError:
        where = ", ".join(p for p in (self.where, f"row {row}" if row else "") if p)
        return InputDataError(self.path, problem, fix, where=where)


# --------------------------------------------------------------------------- cell values
def clean_cell(value: Any) -> Any:
    """Trim text (spaces, NBSPs, line ends) and make blanks None; keep numbers and dates."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ").strip()
        return text or None
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    return value


def trim(row: list[Any]) -> list[Any]:
    """Drop the blank cells at the end of a row (in place) and return it."""
    while row and row[-1] is None:
        row.pop()
    return row


def is_filled(row: Sequence[Any]) -> bool:
    return any(v is not None for v in row)


def header_text(value: Any) -> str:
    """A header cell as one line of text, whitespace collapsed."""
    if value is None:
        return ""
    return " ".join(as_text(value).split())


def as_text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def as_number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        if _INTEGER.fullmatch(value):
            return int(value)
        if _DECIMAL.fullmatch(value):
            number = float(value)
            return int(number) if number.is_integer() and abs(number) < 2**53 else number
    return None


def jsonable(value: Any, *, numeric: bool) -> Any:
    """A value for ``attributes``: str, int, float or bool (dates as ISO strings)."""
    if isinstance(value, (dt.date, dt.time)):
        return as_text(value)
    if isinstance(value, dt.timedelta):
        return str(value)
    if numeric:
        number = as_number(value)
        return number if number is not None else as_text(value)
    if isinstance(value, (bool, int, float, str)):
        return value
    return as_text(value)


def looks_like_emails(values: list[Any]) -> bool:
    texts = [v for v in values if isinstance(v, str)]
    return bool(texts) and sum(bool(EMAIL.fullmatch(t)) for t in texts) * 2 >= len(values)


# --------------------------------------------------------------------------- text forms
def squash(text: str) -> str:
    """Lower-case letters and digits only: 'Response ID' -> 'responseid'."""
    return re.sub(r"[^a-z0-9]", "", text.casefold())


def words(text: str) -> str:
    """Lower-case words separated by single spaces: 'Qual_hobby opinions?' -> 'qual hobby opinions'."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.casefold()).split())


def fold(text: str) -> str:
    """Case-folded, whitespace collapsed: how override names are compared."""
    return " ".join(text.casefold().split())


def norm_label(text: str) -> str:
    """A scale label as compared: case-folded, straight apostrophes, no final full stop."""
    return " ".join(text.casefold().replace("\u2019", "'").replace("\u2018", "'").split()).rstrip(".").strip()


# --------------------------------------------------------------------------- messages
def listing(items: Iterable[str], limit: int = 10) -> str:
    items = list(items)
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def found(columns: list[Column]) -> str:
    return listing([c.key for c in columns], MAX_FOUND)


def counted(counts: Counter[str]) -> str:
    return listing([f"{key} ({n})" for key, n in counts.items() if n])
