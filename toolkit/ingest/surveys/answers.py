"""Step 4: classified columns -> the long tables of a :class:`~toolkit.schema.Survey`.

One row per respondent (with place, role, organisation and other answers as
attributes), one per Likert answer (its 1-based position on the column's stored
scale), one per free-text answer and one per personal value. Everything skipped or
reinterpreted is counted in the survey's warnings.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from toolkit.config import SurveyOptions
from toolkit.ingest.surveys.cells import Column, as_text, counted, fold, found, jsonable, norm_label
from toolkit.ingest.surveys.classify import ROW_ID
from toolkit.schema import (
    ATTRIBUTES,
    LABEL,
    ORGANISATION_TYPE,
    PERSONAL_QUESTION_KINDS,
    PLACE,
    Q_CHOICE,
    Q_FREE_TEXT,
    Q_LIKERT,
    Q_METADATA,
    Q_NUMERIC,
    Q_ORGANISATION_TYPE,
    Q_PLACE,
    Q_RESPONDENT_ID,
    Q_ROLE,
    Q_TIMESTAMP,
    QUESTION_KEY,
    RESPONDENT_KEY,
    ROLE,
    ROW_NUMBER,
    TEXT,
    VALUE,
)

_GROUP_COLUMNS = {Q_PLACE: PLACE, Q_ROLE: ROLE, Q_ORGANISATION_TYPE: ORGANISATION_TYPE}
_ATTRIBUTE_KINDS = (Q_CHOICE, Q_NUMERIC, Q_METADATA, Q_TIMESTAMP)
_ANSWER_KINDS = (Q_PLACE, Q_ROLE, Q_ORGANISATION_TYPE, Q_LIKERT, Q_FREE_TEXT, Q_CHOICE, Q_NUMERIC, Q_METADATA)

TEXT_PLACEHOLDERS = frozenset({"-", "--", ".", "n/a", "na", "n.a.", "n/a."})
"""Free-text answers that say nothing: skipped and counted."""
PERSONAL_PLACEHOLDERS = frozenset({"anonymous", "anonym", "anon", "anonymous user", "n/a", "na", "-", "unknown"})
"""Values of personal columns that name nobody (Microsoft Forms writes 'anonymous')."""


def kept_rows(
    columns: list[Column], n_rows: int, first_number: int, warnings: list[str]
) -> tuple[list[int], list[int]]:
    """Indices and file row numbers of the rows that hold at least one answer."""
    answer_columns = [c for c in columns if c.kind in _ANSWER_KINDS]
    kept, numbers = [], []
    blank = bookkeeping = 0
    for index in range(n_rows):
        if any(c.values[index] is not None for c in answer_columns):
            kept.append(index)
            numbers.append(first_number + index)
        elif any(c.values[index] is not None for c in columns):
            bookkeeping += 1
        else:
            blank += 1
    if blank:
        warnings.append(f"{blank} blank row(s) were skipped.")
    if bookkeeping:
        warnings.append(
            f"{bookkeeping} row(s) hold no answers (only ids, dates, names or bookkeeping) and were skipped."
        )
    return kept, numbers


def respondent_keys(
    columns: list[Column],
    kept: list[int],
    numbers: list[int],
    options: SurveyOptions,
    warnings: list[str],
) -> list[str]:
    """One unique key per kept row: the id column's value, else 'row-N' (never a refusal).

    Without an id column (none by header, none by content, see
    :func:`toolkit.ingest.surveys.classify.classify`) respondents are numbered by
    their row in the file, and a warning says how to name the id column.
    """
    id_column = next((c for c in columns if c.kind == Q_RESPONDENT_ID), None)
    if id_column is None:
        if fold(options.id_column) != ROW_ID:
            warnings.append(
                f"no respondent id column (by header or content; columns: {found(columns)}): respondents are "
                f"numbered by their row ('row-7'). If the export has an id column, set surveys.id_column in "
                f'study.toml (or "{ROW_ID}" to keep row numbers without this warning).'
            )
        return [f"row-{n}" for n in numbers]
    keys: list[str] = []
    used: set[str] = set()
    copies: dict[str, int] = {}
    repeats = missing = 0
    for index, number in zip(kept, numbers):
        value = id_column.values[index]
        base = as_text(value) if value is not None else f"row-{number}"
        missing += value is None
        key = base
        if key in used:
            copy = copies.get(base, 1)
            while key in used:  # counted on from the last copy: a column of one repeated value stays linear
                copy += 1
                key = f"{base}#{copy}"
            copies[base] = copy
            repeats += 1
        used.add(key)
        keys.append(key)
    if repeats:
        warnings.append(
            f"{repeats} respondent id(s) in '{id_column.key}' repeat an earlier row; both rows are kept and "
            "the repeats get '#2', '#3'... keys."
        )
    if missing:
        warnings.append(
            f"{missing} row(s) have no respondent id in '{id_column.key}'; they are keyed by their row ('row-7')."
        )
    return keys


def answer_frames(
    columns: list[Column], kept: list[int], numbers: list[int], keys: list[str], warnings: list[str]
) -> dict[str, pd.DataFrame]:
    """The respondents, likert, texts and personal tables of the kept rows."""
    rows = list(zip(kept, keys))
    tally = _Tally()
    respondents = [_respondent(columns, index, number, key) for index, number, key in zip(kept, numbers, keys)]
    likert = [a for c in columns if c.kind == Q_LIKERT for a in _likert_answers(c, rows, tally)]
    texts = [a for c in columns if c.kind == Q_FREE_TEXT for a in _text_answers(c, rows, tally)]
    personal = [a for c in columns if c.kind in PERSONAL_QUESTION_KINDS for a in _personal_values(c, rows)]
    warnings.extend(tally.warnings())
    long = [RESPONDENT_KEY, QUESTION_KEY]
    people = [RESPONDENT_KEY, ROW_NUMBER, *_GROUP_COLUMNS.values(), ATTRIBUTES]
    return {
        "respondents": pd.DataFrame(respondents, columns=people),
        "likert": pd.DataFrame(likert, columns=[*long, LABEL, VALUE]).astype({VALUE: "float64"}),
        "texts": pd.DataFrame(texts, columns=[*long, TEXT]),
        "personal": pd.DataFrame(personal, columns=[*long, TEXT]),
    }


def _respondent(columns: list[Column], index: int, number: int, key: str) -> dict[str, Any]:
    """One respondent: key, row, place/role/organisation and the other answers as attributes."""
    record: dict[str, Any] = {RESPONDENT_KEY: key, ROW_NUMBER: number}
    attributes: dict[str, Any] = {}
    for column in columns:
        value = column.values[index]
        if column.kind in _GROUP_COLUMNS:
            record[_GROUP_COLUMNS[column.kind]] = as_text(value) if value is not None else None
        elif column.kind in _ATTRIBUTE_KINDS and value is not None:
            attributes[column.key] = jsonable(value, numeric=column.kind == Q_NUMERIC)
    record[ATTRIBUTES] = attributes
    return record


def _likert_answers(column: Column, rows: list[tuple[int, str]], tally: _Tally) -> list[dict[str, Any]]:
    """Each answer with its 1-based point on the column's stored scale (NaN off the scale)."""
    out = []
    for index, key in rows:
        if column.values[index] is None:
            continue
        label = as_text(column.values[index])
        answer = norm_label(label)
        point = column.points.get(answer)
        tally.off_scale[column.key] += point is None
        tally.respelled[column.key] += answer in column.fuzzy
        value = float(point) if point is not None else math.nan
        out.append({RESPONDENT_KEY: key, QUESTION_KEY: column.key, LABEL: label, VALUE: value})
    return out


def _text_answers(column: Column, rows: list[tuple[int, str]], tally: _Tally) -> list[dict[str, Any]]:
    """Each non-empty free-text answer; blanks and placeholders ('-', 'n/a') are counted instead."""
    out = []
    for index, key in rows:
        value = column.values[index]
        text = as_text(value) if value is not None else ""
        if not text:
            tally.blank_texts += 1
        elif text.casefold() in TEXT_PLACEHOLDERS:
            tally.placeholder_texts += 1
        else:
            out.append({RESPONDENT_KEY: key, QUESTION_KEY: column.key, TEXT: text})
    return out


def _personal_values(column: Column, rows: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """Each value that identifies a person ('anonymous' and the like name nobody)."""
    out = []
    for index, key in rows:
        value = column.values[index]
        if value is not None and as_text(value).casefold() not in PERSONAL_PLACEHOLDERS:
            out.append({RESPONDENT_KEY: key, QUESTION_KEY: column.key, TEXT: as_text(value)})
    return out


@dataclass
class _Tally:
    """Answers skipped or reinterpreted while the tables are built, for the warnings."""

    off_scale: Counter[str] = field(default_factory=Counter)
    respelled: Counter[str] = field(default_factory=Counter)
    blank_texts: int = 0
    placeholder_texts: int = 0

    def warnings(self) -> list[str]:
        out = []
        if self.off_scale.total():
            out.append(
                f"{self.off_scale.total()} Likert answer(s) are not on their question's scale ('Don't know', "
                f"'N/A' or an unknown label) and have value NaN: {counted(self.off_scale)}."
            )
        if self.respelled.total():
            out.append(
                f"{self.respelled.total()} Likert answer(s) are misspelt scale labels and were read as the "
                f"nearest label: {counted(self.respelled)}."
            )
        if self.blank_texts or self.placeholder_texts:
            out.append(
                f"free text: {self.blank_texts} blank and {self.placeholder_texts} placeholder ('-', 'n/a', 'na', "
                "'.') answer(s) were skipped."
            )
        return out
