"""Rows for the store: the time it records, and frames turned into rows of a table."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from toolkit.store.tables import check_lengths


def now() -> str:
    """The current UTC time as an ISO string (what the store records)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")



def records(frame: pd.DataFrame, table: sa.Table, **fixed: Any) -> list[dict[str, Any]]:
    """Rows of ``frame`` restricted to the table's columns, NaN as NULL, dicts as JSON."""
    if frame is None or frame.empty:
        return []
    names = [c.name for c in table.columns if c.name in frame.columns and c.name not in fixed]
    out = []
    for row in frame[names].to_dict("records"):
        clean = {}
        for key, value in row.items():
            if isinstance(value, (dict, list, tuple)):
                value = json.dumps(value, default=str, ensure_ascii=False)
            elif value is not None and not isinstance(value, str) and pd.isna(value):
                value = None
            elif hasattr(value, "item"):
                value = value.item()
            clean[key] = value
        clean.update(fixed)
        out.append(clean)
    check_lengths(table, out)
    return out
