"""Double coding: give a sample of segments to two people, collect their blind codings, resolve disagreements.

:func:`assign_double_coding` draws a batch (a seeded random sample of evidence segments, or the
segments given) and stores one ``assignments`` row per segment and coder, anchored by content.
Each person codes their share blind with :func:`record_double_coding` (a human coding with
``context = "double:<batch>"``, ``blind = True``); agreement (Cohen's kappa, Krippendorff's alpha)
and the disagreements are computed by :func:`toolkit.analysis.validation.double_coding_results`;
a researcher settles each disagreement with :func:`resolve_disagreement` (``context =
"resolution:<batch>"``), which, being the latest decision on the segment, is what the outputs use.

Examples
--------
>>> batch = assign_double_coding(study.review_context(), study.segments(), coders=("ana", "bo"), size=30,
...                              seed=3, author="ana")  # doctest: +SKIP
>>> record_double_coding(study.review_context(), batch, key, coder="bo", theme="trust_relationships",
...                      polarity="barrier")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from toolkit import schema as s
from toolkit.analysis.columns import REVIEW_STATUS, UNREVIEWED
from toolkit.analysis.validation import DOUBLE_PREFIX, RESOLUTION_PREFIX
from toolkit.errors import InputDataError
from toolkit.review.validate import check_author, check_polarity, check_themes

log = logging.getLogger(__name__)

__all__ = ["assign_double_coding", "record_double_coding", "resolve_disagreement"]


def assign_double_coding(context, segments: pd.DataFrame, *, coders: Sequence[str], author: str, size: int = 30,
                         seed: int = 0, keys: Sequence[str] | None = None) -> str:
    """Assign a batch of segments to two coders (one transaction); returns the ``batch_id``.

    ``segments`` is :meth:`toolkit.api.Study.segments`; without ``keys``, ``size`` unreviewed evidence
    segments are drawn at random with ``seed`` (coded and uncoded alike, so both people judge whether
    there is a theme at all).

    Raises
    ------
    InputDataError
        Not two different coders, an unknown segment key, or nothing to assign.
    """
    where = context.where
    author = check_author(where, author, what="a double-coding batch")
    names = [check_author(where, c, what="a double-coding assignment") for c in coders]
    if len(names) != 2 or names[0] == names[1]:
        raise InputDataError(where, f"double coding needs two different coders, not {', '.join(names) or 'none'}.",
                             "Name two people, e.g. coders=('ana', 'bo').")
    if keys is None:
        pool = segments[segments[REVIEW_STATUS] == UNREVIEWED].sort_values(s.SEGMENT_KEY, kind="stable")
        if pool.empty or size < 1:
            raise InputDataError(where, "there is nothing to assign: no unreviewed segment is left.",
                                 "Pass keys=[...] to double-code segments already reviewed.")
        chosen = np.sort(np.random.default_rng(int(seed)).choice(len(pool), size=min(int(size), len(pool)),
                                                                 replace=False))
        keys = pool.iloc[chosen][s.SEGMENT_KEY].tolist()
    keys = list(dict.fromkeys(keys))
    found = context.store.segments_by_key(keys).set_index(s.SEGMENT_KEY)
    missing = [k for k in keys if k not in found.index]
    if missing:
        raise InputDataError(where, f"{len(missing)} unknown segment key(s): {', '.join(missing[:5])}.",
                             "Copy keys from study.segments().")
    batch = "double-" + hashlib.sha1(f"{seed}|{'|'.join(names)}|{','.join(keys)}".encode()).hexdigest()[:8]
    existing = context.store.table(s.ASSIGNMENTS)
    if not existing.empty and batch in set(existing[s.BATCH_ID]):
        raise InputDataError(where, f"batch '{batch}' was already assigned (same coders, seed and segments).",
                             "Use another seed.")
    rows = pd.DataFrame([
        {s.BATCH_ID: batch, s.SEGMENT_KEY: k, s.CODER: c, s.AUTHOR: author, s.SOURCE_UID: found.at[k, s.SOURCE_UID],
         s.ANCHOR_TEXT: found.at[k, s.TEXT], s.ANCHOR: "attached"}
        for k in keys for c in names
    ])
    context.store.add_assignments(rows)
    log.info("assigned double-coding batch %s: %d segments to 2 coders", batch, len(keys))
    return batch


def _assigned(context, batch_id: str, segment_key: str, coder: str) -> None:
    assignments = context.store.table(s.ASSIGNMENTS)
    mine = assignments[assignments[s.BATCH_ID] == batch_id] if not assignments.empty else assignments
    if mine.empty:
        raise InputDataError(context.where, f"there is no double-coding batch '{batch_id}'.", "Assign one first.")
    if not ((mine[s.SEGMENT_KEY] == segment_key) & (mine[s.CODER] == coder)).any():
        raise InputDataError(context.where, f"segment {segment_key} of batch '{batch_id}' is not assigned to {coder}.",
                             "Code the segments assigned to you.")


def _record(context, key: str, *, coder: str, theme: str | None, polarity: str | None, note: str | None,
            made_in: str, blind: bool) -> int:
    from toolkit import review

    if theme is None:
        return review.record_decisions(context, [key], decision="reject", coder=coder, note=note, made_in=made_in,
                                       blind=blind)
    check_themes(context.codebook, [theme], where=context.where)
    if polarity is not None:
        check_polarity(context.where, polarity)
    return review.record_decisions(context, [key], decision="recode", coder=coder, theme=theme, polarity=polarity,
                                   note=note, made_in=made_in, blind=blind)


def record_double_coding(context, batch_id: str, segment_key: str, *, coder: str, theme: str | None,
                         polarity: str | None = None, note: str | None = None) -> int:
    """Store one coder's blind coding of a segment assigned to them (``theme=None``: no theme)."""
    coder = check_author(context.where, coder, what="a double coding")
    _assigned(context, batch_id, segment_key, coder)
    return _record(context, segment_key, coder=coder, theme=theme, polarity=polarity, note=note,
                   made_in=f"{DOUBLE_PREFIX}{batch_id}", blind=True)


def resolve_disagreement(context, batch_id: str, segment_key: str, *, coder: str, theme: str | None,
                         polarity: str | None = None, note: str | None = None) -> int:
    """Record how a disagreement of a batch was settled (the agreed theme and polarity, or no theme).

    Stored with ``context = "resolution:<batch>"``; as the latest decision on the segment it is the
    coding every output uses.
    """
    assignments = context.store.table(s.ASSIGNMENTS)
    mine = assignments[assignments[s.BATCH_ID] == batch_id] if not assignments.empty else assignments
    if mine.empty or segment_key not in set(mine[s.SEGMENT_KEY]):
        raise InputDataError(context.where, f"segment {segment_key} is not in double-coding batch '{batch_id}'.",
                             "Resolve the batch's own disagreements.")
    return _record(context, segment_key, coder=coder, theme=theme, polarity=polarity, note=note,
                   made_in=f"{RESOLUTION_PREFIX}{batch_id}", blind=False)
