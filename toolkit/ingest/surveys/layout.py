"""Step 2: a grid of cells -> the vendor, the header rows and one column per question.

Qualtrics writes three header rows (export tag, wording, ``{"ImportId": ...}``), or two
in legacy ``V1..V10`` exports; SurveyMonkey two (question, then 'Response' or an option
label under it); Google Forms, Microsoft Forms and plain sheets one. Every column gets a
unique, store-sized key and keeps its full wording.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from toolkit.ingest.surveys.cells import MAX_KEY, Column, Place, fold, header_text, is_filled, squash

QUALTRICS = "qualtrics"
SURVEYMONKEY = "surveymonkey"
GOOGLE_FORMS = "google_forms"
MICROSOFT_FORMS = "microsoft_forms"
GENERIC = "generic"
VENDORS = (QUALTRICS, SURVEYMONKEY, GOOGLE_FORMS, MICROSOFT_FORMS, GENERIC)

# SurveyMonkey sub-headers that say nothing beyond the question above them.
PLAIN_SUBHEADERS = frozenset({"response", "open-ended response", "open ended response"})
_OPEN_SUBHEADERS = frozenset({"open-ended response", "open ended response"})

_IMPORT_ID = re.compile(r"""\{\s*['"]ImportId['"]\s*:\s*['"]([^'"]*)['"]""")
_LEGACY_CODE = re.compile(r"V\d+")
_OPEN_CODE = re.compile(r"(^|[_-])TEXT($|[_-])")

_Label = tuple[str, str, tuple[str, ...], bool, str]
"""key, wording, header cells, open-ended, question stem"""


def split_header(
    rows: list[list[Any]], header_rows: int, place: Place
) -> tuple[str, list[list[Any]], list[list[Any]], int]:
    """The vendor, the header rows, the response rows and the file row number of the first response.

    Blank rows above the header and below the last response are left out (they are
    layout, not data); blank rows between responses stay, to be counted.
    """
    first = _first_filled_row(rows, place)
    last = max(i for i, row in enumerate(rows) if is_filled(row))
    vendor, n_header = detect_layout(rows[first:], header_rows)
    body = rows[first + n_header : last + 1]
    if not body:
        raise place.error(
            "has a header but no responses: there are no rows after the header.",
            "Export the survey again once responses have come in, or remove the file from the study folder.",
        )
    return vendor, rows[first : first + n_header], body, first + n_header + 1


def detect_layout(rows: list[list[Any]], header_rows: int) -> tuple[str, int]:
    """The vendor and the number of header rows (``header_rows`` overrides the count)."""
    first = [squash(header_text(c)) for c in rows[0]]
    second = rows[1] if len(rows) > 1 else []
    third = rows[2] if len(rows) > 2 else []
    names = set(first)
    if any(isinstance(c, str) and _IMPORT_ID.match(c) for c in third):
        vendor, count = QUALTRICS, 3
    elif first[:3] == ["v1", "v2", "v3"]:
        vendor, count = QUALTRICS, 2
    elif _is_surveymonkey(names, second):
        vendor, count = SURVEYMONKEY, 2
    elif {"respondentid", "collectorid"} <= names:
        vendor, count = SURVEYMONKEY, 1
    elif "responseid" in names and names & {"finished", "progress", "recordeddate", "startdate"}:
        at = first.index("responseid")
        repeated = len(second) > at and squash(header_text(second[at])) == "responseid"  # row 2 repeats row 1
        vendor, count = QUALTRICS, 2 if repeated else 1
    elif first and first[0] == "timestamp":
        vendor, count = GOOGLE_FORMS, 1
    elif {"starttime", "completiontime"} <= names:
        vendor, count = MICROSOFT_FORMS, 1
    else:
        vendor, count = GENERIC, 1
    return vendor, header_rows or count


def check_ragged(header: list[list[Any]], body: list[list[Any]], first_number: int, place: Place) -> None:
    """Refuse a CSV whose rows have cells beyond the header: they would shift onto wrong questions."""
    width = max(len(row) for row in header)
    for offset, row in enumerate(body):
        if len(row) > width:
            raise place.error(
                f"this row has {len(row)} cells but the header names only {width} columns, so its answers "
                "cannot be matched to questions.",
                "Add the missing column names to the header (or remove the stray cells) and export the CSV again.",
                row=first_number + offset,
            )


def build_columns(header: list[list[Any]], body: list[list[Any]], vendor: str, warnings: list[str]) -> list[Column]:
    """One column per header cell (or data cell beyond it), with unique keys."""
    width = max(len(row) for row in header + body)
    cells = [[header_text(row[i]) if i < len(row) else "" for i in range(width)] for row in header]
    labels = _qualtrics_labels(cells) if vendor == QUALTRICS else _stacked_labels(cells)
    columns: list[Column] = []
    unnamed = 0
    for index, (key, text, headers, open_ended, stem) in enumerate(labels):
        values = [row[index] if index < len(row) else None for row in body]
        if not key:
            if not any(v is not None for v in values):
                continue  # no header and no answers: nothing to read
            unnamed += 1
            key = text = f"column {index + 1}"
        columns.append(Column(index + 1, key, text, headers, values, open_ended, stem or key))
    if unnamed:
        warnings.append(f"{unnamed} column(s) with answers have no header; they are named 'column N' by position.")
    for column in columns:
        column.key = short_key(column.key)
    _make_keys_unique(columns, warnings)
    return columns


def short_key(text: str, limit: int = MAX_KEY) -> str:
    """A long header cut at a word boundary, so keys fit the store; the wording stays whole."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" -,:;") + "\u2026"


def _first_filled_row(rows: list[list[Any]], place: Place) -> int:
    for index, row in enumerate(rows):
        if is_filled(row):
            return index
    raise place.error("has no cells with data.", "Export it again or remove it from the study folder.")


def _is_surveymonkey(names: set[str], second: list[Any]) -> bool:
    if not second or second[0] is not None:
        return False
    subs = {fold(header_text(c)) for c in second if c is not None}
    return bool(subs & PLAIN_SUBHEADERS) or {"respondentid", "collectorid"} <= names


def _qualtrics_labels(rows: list[list[str]]) -> list[_Label]:
    """Key from the export tag (row 1), wording from row 2, text entry from the ImportId (row 3)."""
    labels = []
    for cells in zip(*rows):
        code = cells[0]
        wording = cells[1] if len(cells) > 1 else ""
        found = _IMPORT_ID.match(cells[2]) if len(cells) > 2 else None
        import_id = found.group(1) if found else ""
        key = wording if (_LEGACY_CODE.fullmatch(code) and wording) else (code or wording)
        open_ended = bool(_OPEN_CODE.search(import_id) or _OPEN_CODE.search(code))
        stem = import_id.split("-")[0] if import_id else re.sub(r"_[^_]*$", "", code)
        labels.append((key, wording or code, tuple(c for c in cells if c), open_ended, stem))
    return labels


def _stacked_labels(rows: list[list[str]]) -> list[_Label]:
    """Header rows read top-down; a blank top cell over a sub-header carries the question on.

    SurveyMonkey writes each question once over its sub-columns ('Response',
    'Open-Ended Response' or an option label); plain sheets have a single row.
    """
    labels = []
    carried = ""
    for cells in zip(*rows):
        top, below = cells[0], [c for c in cells[1:] if c]
        if top:
            carried = top
        elif below:
            top = carried
        subs = [b for b in below if fold(b) not in PLAIN_SUBHEADERS and b != top]
        text = " - ".join(p for p in [top, *subs] if p)
        key = text
        if len(text) > MAX_KEY and top and subs:  # shorten the question, keep the sub-column's label
            suffix = short_key(" - " + " - ".join(subs), 2 * MAX_KEY // 3)
            key = short_key(top, MAX_KEY - len(suffix)) + suffix
        open_ended = any(fold(b) in _OPEN_SUBHEADERS for b in below)
        labels.append((key, text, tuple(c for c in cells if c), open_ended, top))
    return labels


def _make_keys_unique(columns: list[Column], warnings: list[str]) -> None:
    """Repeated keys get '.1', '.2' in order, as pandas names repeated headers."""
    used: set[str] = set()
    counts: Counter[str] = Counter()
    renamed = 0
    for column in columns:
        base = column.key
        key = base
        while key in used:
            counts[base] += 1
            key = f"{base}.{counts[base]}"
        if key != base:
            renamed += 1
        column.key = key
        used.add(key)
    if renamed:
        warnings.append(f"{renamed} column(s) repeat an earlier header; their keys get '.1', '.2'... suffixes.")
