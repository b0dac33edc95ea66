"""Small helpers the read model's modules share (not public)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from toolkit.errors import ConfigError


def empty(columns: Sequence[str]) -> pd.DataFrame:
    """An empty frame with these columns (object dtype): what every read gives before there is data."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def ensure(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """``frame`` with every one of ``columns`` (missing ones added, empty)."""
    for column in columns:
        if column not in frame.columns:
            frame[column] = None
    return frame


def records(frame: pd.DataFrame, columns: Iterable[str] | None = None) -> list[dict]:
    """``frame.to_dict("records")`` (only ``columns``, when given), built column by column.

    pandas boxes every cell of ``to_dict`` apart, which on Arrow-backed text columns costs about a second
    for 25,000 rows; ``Series.tolist`` converts a whole column at once. The values are the ones ``to_dict``
    gives: a missing value of a nullable column is None, as there, never ``pd.NA`` (whose truth is an error).

    >>> records(pd.DataFrame({"a": [1, 2], "b": pd.array(["x", None], dtype="string[pyarrow]")}))
    [{'a': 1, 'b': 'x'}, {'a': 2, 'b': None}]
    """
    names = list(frame.columns if columns is None else columns)
    if not names:
        return [{} for _ in range(len(frame))]
    return [dict(zip(names, row)) for row in zip(*(_python_values(frame[name]) for name in names))]


def _python_values(column: pd.Series) -> list:
    values = column.tolist()
    if isinstance(column.dtype, np.dtype):
        return values
    return [None if v is pd.NA else v for v in values]


def values(wanted: Any) -> list:
    """A filter value as a list: ``None`` -> [], a scalar -> [scalar], a list -> its non-None items."""
    if wanted is None:
        return []
    if isinstance(wanted, (str, int)):
        return [wanted]
    return [w for w in wanted if w is not None]


def none(value: Any) -> Any:
    """``None`` for any missing value (None, NaN, NA), else the value."""
    try:
        return None if pd.isna(value) else value
    except (TypeError, ValueError):  # lists, dicts
        return value


def plain(value: Any) -> str:
    """A value as text; missing values as the empty string."""
    value = none(value)
    return "" if value is None else str(value)


def json_list(value: Any) -> list:
    """A stored JSON list (or a list already) as a list; anything else as a one-item list."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if none(value) is None:
        return []
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return [str(value)]
    return parsed if isinstance(parsed, list) else [parsed]


def label(series: pd.Series, missing: str) -> pd.Series:
    """A column as text with missing values spelt ``missing`` (for grouping and display)."""
    return series.astype(object).where(series.notna(), missing).astype(str)


def check_option(value: Any, allowed: Sequence[Any], what: str) -> None:
    """Refuse an option that is not one of ``allowed``, naming the choices (``what``: "A polarity is")."""
    if value not in allowed:
        raise ConfigError(f"{what} one of {', '.join(map(str, allowed))}; not '{value}'.")


def theme_order(themes: Iterable[str], codebook_ids: Sequence[str]) -> list[str]:
    """Codebook themes first (codebook order), then themes the codebook lacks (as found)."""
    found = [t for t in dict.fromkeys(themes) if t is not None and not (isinstance(t, float) and pd.isna(t))]
    return list(codebook_ids) + [t for t in found if t not in set(codebook_ids)]


def flag(series: pd.Series) -> pd.Series:
    """A true/false column with missing values as False."""
    return series.astype(object).where(series.notna(), False).astype(bool)
