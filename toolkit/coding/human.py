"""Human and machine codings together: the latest human decision, what teaches the coder, what a reader sees."""

from __future__ import annotations

import json

import pandas as pd

from toolkit import schema as s


def latest_human(human: pd.DataFrame) -> pd.DataFrame:
    """The latest decision of each coder on each segment (earlier ones are kept in the store as history)."""
    if human.empty:
        return human
    ordered = human.sort_values([s.CREATED_AT, s.CODING_ID])
    return ordered.groupby([s.SEGMENT_KEY, s.CODER], as_index=False).tail(1)


def training_frame(human: pd.DataFrame, *, include_rejected: bool = True) -> pd.DataFrame:
    """Human codings that teach the coder: accepted, recoded or added ones with a theme and polarity,
    and (``include_rejected``) rejected ones as units with no theme, which teach the coder when to abstain.

    Columns ``text``, ``theme`` (``None`` for a rejection), ``polarity``, and ``prompt`` / ``previous``
    when the human codings carry them.
    """
    latest = latest_human(human)
    extra = [c for c in ("prompt", "previous") if c in latest.columns]
    columns = [s.TEXT, s.THEME, s.POLARITY, *extra]
    if latest.empty:
        return pd.DataFrame(columns=columns)
    coded = latest[s.DECISION].isin(("accept", "recode", "add")) & latest[s.THEME].notna()
    rejected = (latest[s.DECISION] == "reject") if include_rejected else False
    keep = latest[(coded | rejected) & latest[s.TEXT].notna()].copy()
    keep.loc[~keep[s.DECISION].isin(("accept", "recode", "add")), [s.THEME, s.POLARITY]] = None
    return keep[columns].reset_index(drop=True)


def resolve_codings(machine: pd.DataFrame, human: pd.DataFrame) -> pd.DataFrame:
    """The codings a reader should see: a human decision wins over the machine's.

    For each segment, the most recent human decision (any coder) applies: ``reject``
    removes the machine's coding, ``accept`` keeps it (marked reviewed), ``recode`` and
    ``add`` replace it with the human's theme and polarity. Segments nobody reviewed
    keep the machine's codings. Adds a ``status`` column (machine, accepted, recoded)
    and ``reviewed_by``. Vectorised: linear in the store's size (the dashboard
    re-resolves after every decision).

    Examples
    --------
    >>> resolved = resolve_codings(store.table("codings"), store.table("human_codings"))  # doctest: +SKIP
    """
    machine = machine[machine[s.THEME].notna()].copy() if not machine.empty else machine.copy()
    machine[s.STATUS] = "machine"
    machine["reviewed_by"] = None
    latest = latest_human(human)
    if latest.empty:
        return machine.reset_index(drop=True)
    last = latest.sort_values([s.CREATED_AT, s.CODING_ID]).groupby(s.SEGMENT_KEY).tail(1)
    keep = machine[~machine[s.SEGMENT_KEY].isin(set(last[s.SEGMENT_KEY]))]
    frames = [keep]
    order = {key: i for i, key in enumerate(last[s.SEGMENT_KEY])}
    accepted = last[last[s.DECISION] == "accept"].set_index(s.SEGMENT_KEY)
    rows = machine[machine[s.SEGMENT_KEY].isin(set(accepted.index))].copy()
    rows[s.STATUS] = "accepted"
    rows["reviewed_by"] = rows[s.SEGMENT_KEY].map(accepted[s.CODER])
    rows["_order"] = rows[s.SEGMENT_KEY].map(order)
    recoded = last[~last[s.DECISION].isin(("accept", "reject"))]
    notes = recoded[s.NOTE] if s.NOTE in recoded.columns else pd.Series(None, index=recoded.index)
    flags = recoded[s.GOOD_PRACTICE] if s.GOOD_PRACTICE in recoded.columns else pd.Series(None, index=recoded.index)
    human_rows = pd.DataFrame(
        {
            s.SEGMENT_KEY: recoded[s.SEGMENT_KEY].values,
            s.THEME: recoded[s.THEME].values,
            s.POLARITY: recoded[s.POLARITY].values,
            s.CONFIDENCE: 1.0,
            s.RANK: 1,
            s.GOOD_PRACTICE: [bool(v or False) for v in flags],
            s.EVIDENCE: [json.dumps({"fired": ["human"], "note": n}) for n in notes],
            s.CODER: recoded[s.CODER].values,
            s.STATUS: "recoded",
            "reviewed_by": recoded[s.CODER].values,
        }
    )
    human_rows["_order"] = human_rows[s.SEGMENT_KEY].map(order)
    reviewed = pd.concat([r for r in (rows, human_rows) if not r.empty], ignore_index=True) if not (
        rows.empty and human_rows.empty) else None
    if reviewed is not None:
        frames.append(reviewed.sort_values("_order", kind="stable").drop(columns="_order"))
    return pd.concat(frames, ignore_index=True)


def match_segments(frame: pd.DataFrame, segments: pd.DataFrame) -> pd.Series:
    """Find the segment key of each row of ``frame`` by its ``segment_key`` or its text.

    Text is matched exactly (whitespace-normalised) against segments of the same
    file when a ``file`` column is given, else against all segments; failing that, a
    segment that contains the text. Unmatched rows get ``None``.
    """
    if s.SEGMENT_KEY in frame.columns:
        known = set(segments[s.SEGMENT_KEY])
        return frame[s.SEGMENT_KEY].where(frame[s.SEGMENT_KEY].isin(known), None)
    norm = lambda t: " ".join(str(t).split())
    seg = segments.assign(_norm=segments[s.TEXT].map(norm))
    keys = []
    for row in frame.to_dict("records"):
        text = norm(row.get(s.TEXT, ""))
        pool = seg
        if "file" in row and row["file"] and s.PATH in seg.columns:
            same = seg[seg[s.PATH] == str(row["file"]).replace("\\", "/")]
            pool = same if not same.empty else seg
        exact = pool[pool["_norm"] == text]
        if exact.empty and text:
            exact = pool[pool["_norm"].str.contains(text, regex=False)]
        keys.append(exact.iloc[0][s.SEGMENT_KEY] if not exact.empty else None)
    return pd.Series(keys, index=frame.index, dtype=object)
