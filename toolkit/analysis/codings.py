"""Resolved codings: what a reader sees once people's decisions are laid over the machine's codings.

The resolution itself is :func:`toolkit.coding.resolve_codings` (the latest human decision on a
segment wins); this module types its result, joins it to the segments' who and where, and
derives the views the other read-model modules count from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import pandas as pd

from toolkit import schema as s
from toolkit.analysis._frames import empty, ensure, flag
from toolkit.analysis.columns import (
    CODING_COLUMNS,
    DECISION_COLUMNS,
    PARTICIPANT,
    RESOLVED_COLUMNS,
    SOURCE_KIND,
    THEME_NAME,
)
from toolkit.coding import latest_human, resolve_codings

__all__ = [
    "agreement_codings",
    "coded_segments",
    "coding_view",
    "decision_history",
    "last_decisions",
    "primary_codings",
    "resolved_codings",
]

_META = [s.PLACE, s.ORGANISATION_TYPE, s.ROLE, PARTICIPANT, SOURCE_KIND, s.PATH]


def resolved_codings(machine: pd.DataFrame, human: pd.DataFrame, *, parse_evidence: bool = False) -> pd.DataFrame:
    """The codings a reader should see, one row per segment × theme, typed (confidence float, rank int).

    Rejected codings are gone; ``status`` is machine, accepted or recoded; ``reviewed_by`` names
    who decided. Every column of the ``codings`` table is kept (``evidence`` parsed from JSON into a
    dict when ``parse_evidence``).

    Examples
    --------
    >>> resolved_codings(store.table("codings"), store.table("human_codings"))  # doctest: +SKIP
    """
    resolved = resolve_codings(machine, human)
    if resolved.empty:
        return ensure(empty(RESOLVED_COLUMNS), [c for c in resolved.columns])
    resolved[s.CONFIDENCE] = pd.to_numeric(resolved[s.CONFIDENCE], errors="coerce")
    resolved[s.RANK] = pd.to_numeric(resolved[s.RANK], errors="coerce").fillna(1).astype(int)
    resolved[s.GOOD_PRACTICE] = flag(resolved[s.GOOD_PRACTICE])
    if parse_evidence and s.EVIDENCE in resolved.columns:
        resolved[s.EVIDENCE] = resolved[s.EVIDENCE].map(_evidence)
    return resolved.reset_index(drop=True)


def _evidence(value) -> dict:
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def last_decisions(human: pd.DataFrame) -> pd.DataFrame:
    """The latest human decision per segment (any coder), indexed by segment key."""
    if human is None or human.empty:
        return empty(DECISION_COLUMNS).set_index(s.SEGMENT_KEY)
    ordered = human.sort_values([s.CREATED_AT, s.CODING_ID], kind="stable")
    return ordered.drop_duplicates(s.SEGMENT_KEY, keep="last").set_index(s.SEGMENT_KEY)


def primary_codings(resolved: pd.DataFrame) -> pd.DataFrame:
    """Each segment's primary coding (lowest rank, then highest confidence), indexed by segment key."""
    if resolved.empty:
        return empty(RESOLVED_COLUMNS).set_index(s.SEGMENT_KEY)
    return (
        resolved.sort_values([s.SEGMENT_KEY, s.RANK, s.CONFIDENCE], ascending=[True, True, False], kind="stable")
        .drop_duplicates(s.SEGMENT_KEY)
        .set_index(s.SEGMENT_KEY)
    )


def coding_view(resolved: pd.DataFrame, segments: pd.DataFrame, theme_names: Mapping[str, str]) -> pd.DataFrame:
    """Resolved codings of evidence segments with who said them (:data:`~toolkit.analysis.columns.CODING_COLUMNS`).

    ``segments`` is a frame with ``segment_key`` and the who/where columns (place,
    organisation_type, role, participant, source_kind, path); codings of segments it lacks are
    left out.
    """
    if resolved.empty or segments.empty:
        return empty(CODING_COLUMNS)
    meta = ensure(segments[[c for c in [s.SEGMENT_KEY, *_META] if c in segments.columns]].copy(), _META)
    frame = resolved.drop(columns=[c for c in _META if c in resolved.columns]).merge(meta, on=s.SEGMENT_KEY,
                                                                                     how="inner")
    frame[THEME_NAME] = frame[s.THEME].map(dict(theme_names)).fillna(frame[s.THEME])
    frame[s.GOOD_PRACTICE] = flag(frame[s.GOOD_PRACTICE])
    return ensure(frame, CODING_COLUMNS)[CODING_COLUMNS].reset_index(drop=True)


def coded_segments(codings: pd.DataFrame, segments: pd.DataFrame) -> pd.DataFrame:
    """Codings joined with their segments (one row per segment × theme), in reading order.

    Reading order: source path, position in the source, then rank. Codings of segments not in
    ``segments`` are left out.
    """
    if codings is None or codings.empty or s.SEGMENT_KEY not in codings.columns:
        columns = list(dict.fromkeys([*(codings.columns if codings is not None else []), *segments.columns]))
        return empty(columns)
    overlap = [c for c in segments.columns if c in codings.columns and c != s.SEGMENT_KEY]
    frame = codings.merge(segments.drop(columns=overlap), on=s.SEGMENT_KEY, how="inner")
    order = [c for c in (s.PATH, s.START_CHAR, s.RANK) if c in frame.columns]
    return frame.sort_values(order, kind="stable").reset_index(drop=True) if order else frame


def decision_history(human: pd.DataFrame, segment_key: str | None = None) -> pd.DataFrame:
    """Every human decision, oldest first (optionally on one segment)."""
    if human is None or human.empty:
        return empty(DECISION_COLUMNS)
    if segment_key is not None:
        human = human[human[s.SEGMENT_KEY] == segment_key]
    return ensure(human.copy(), DECISION_COLUMNS).sort_values([s.CREATED_AT, s.CODING_ID])[
        DECISION_COLUMNS].reset_index(drop=True)


def agreement_codings(codings: pd.DataFrame, human: pd.DataFrame) -> pd.DataFrame:
    """Long codings (``unit_id``, ``coder``, ``theme``, ``polarity``) of the machine and each person.

    Machine rows are the machine coder's codings in ``codings`` (resolved codings). Each person's
    latest decision per segment gives their rows: ``accept`` repeats the machine's codings of that
    segment, ``recode``/``add`` give the person's theme, ``reject`` an empty label (the person saw
    the segment and coded nothing).
    """
    columns = [s.UNIT_ID, s.CODER, s.THEME, s.POLARITY]
    if codings is None or codings.empty or human is None or human.empty:
        return pd.DataFrame(columns=columns)
    machine = codings[codings[s.CODER] == s.MACHINE_CODER]
    machine = machine.sort_values([s.SEGMENT_KEY, s.RANK], kind="stable") if s.RANK in machine.columns else machine
    rows = [
        {s.UNIT_ID: r[s.SEGMENT_KEY], s.CODER: s.MACHINE_CODER, s.THEME: r[s.THEME], s.POLARITY: r[s.POLARITY]}
        for r in machine.to_dict("records")
    ]
    by_segment = {key: group for key, group in machine.groupby(s.SEGMENT_KEY, sort=False)}
    for decision in latest_human(human).to_dict("records"):
        key, coder = decision[s.SEGMENT_KEY], decision[s.CODER]
        if coder == s.MACHINE_CODER:
            continue
        if decision[s.DECISION] == "accept":
            for r in by_segment.get(key, pd.DataFrame(columns=[s.THEME, s.POLARITY])).to_dict("records"):
                rows.append({s.UNIT_ID: key, s.CODER: coder, s.THEME: r[s.THEME], s.POLARITY: r[s.POLARITY]})
        elif decision[s.DECISION] == "reject":
            rows.append({s.UNIT_ID: key, s.CODER: coder, s.THEME: None, s.POLARITY: None})
        else:
            rows.append({s.UNIT_ID: key, s.CODER: coder, s.THEME: decision[s.THEME], s.POLARITY: decision[s.POLARITY]})
    return pd.DataFrame(rows, columns=columns)
