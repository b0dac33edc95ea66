"""Quality-assurance samples: a stratified random sample of the machine's codings, stored, then coded blind.

:func:`plan_qa_sample` sizes the sample: the unreviewed evidence segments are split by the
machine's primary theme (uncoded segments are the stratum ``none``), and each stratum gets the
smallest sample whose 95% Wilson interval is no wider than the target
(:func:`toolkit.analysis.validation.qa_sample_size`). :func:`draw_qa_sample` draws it with a seed
(the same seed, segments and settings give the same sample), shuffles the strata together (so the
order gives nothing away) and stores it in one transaction: the ``qa_samples`` row (seed, target
width, the strata's sizes, the coding run it measures and the machine's polarity for each item)
and the ``qa_items``, anchored by content like all human work.

:func:`record_qa_coding` stores a reviewer's blind coding of an item as a human coding with
``context = "qa:<sample_id>"`` and ``blind = True``, through the write model. The figures are
computed by :func:`toolkit.analysis.validation.qa_results` as codings arrive.

Examples
--------
>>> plan = plan_qa_sample(study.segments(), target_width=0.2)  # doctest: +SKIP
>>> sample_id = draw_qa_sample(study.review_context(), study.segments(), target_width=0.2, seed=7,
...                            author="ana", run_id=run_id)  # doctest: +SKIP
>>> record_qa_coding(study.review_context(), sample_id, key, coder="ana", theme=None)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import logging

import numpy as np
import pandas as pd

from toolkit import schema as s
from toolkit.analysis.columns import REVIEW_STATUS, UNREVIEWED
from toolkit.analysis.validation import NONE_STRATUM, QA_PREFIX, qa_sample_size
from toolkit.errors import InputDataError
from toolkit.review.validate import check_author, check_polarity, check_themes

log = logging.getLogger(__name__)

__all__ = ["coding_run", "draw_qa_sample", "plan_qa_sample", "record_qa_coding"]

PLAN_COLUMNS = [s.STRATUM, "population", "size"]


def _frame(segments: pd.DataFrame) -> pd.DataFrame:
    """The sampling frame: unreviewed evidence segments with the machine's primary theme as stratum."""
    if segments is None or segments.empty:
        return pd.DataFrame(columns=[s.SEGMENT_KEY, s.STRATUM, s.POLARITY, s.CONFIDENCE])
    frame = segments[(segments[REVIEW_STATUS] == UNREVIEWED) & segments[s.STATUS].isin(("machine", "uncoded"))].copy()
    frame[s.STRATUM] = frame[s.THEME].where(frame[s.STATUS] == "machine", None).fillna(NONE_STRATUM).astype(str)
    return frame


def coding_run(runs: pd.DataFrame) -> str | None:
    """The id of the latest coding run that finished (the machine codings a QA sample drawn now measures)."""
    if runs is None or runs.empty:
        return None
    done = runs[(runs[s.STAGE] == "code") & (runs[s.STATUS] == "ok")].sort_values(s.STARTED_AT, kind="stable")
    return None if done.empty else str(done.iloc[-1][s.RUN_ID])


def plan_qa_sample(segments: pd.DataFrame, *, target_width: float = 0.2, expected: float = 0.5,
                   strata: list[str] | None = None) -> pd.DataFrame:
    """How many segments to sample per stratum: ``stratum``, ``population`` (unreviewed segments), ``size``.

    ``segments`` is :meth:`toolkit.api.Study.segments`; ``expected`` is the accuracy you expect (0.5,
    the most cautious, gives the largest sample); ``strata`` limits the plan to some themes (and ``none``).

    Examples
    --------
    >>> plan_qa_sample(study.segments(), target_width=0.3)  # doctest: +SKIP
    """
    frame = _frame(segments)
    counts = frame[s.STRATUM].value_counts()
    order = [c for c in counts.index if strata is None or c in strata]
    rows = [{s.STRATUM: h, "population": int(counts[h]),
             "size": qa_sample_size(int(counts[h]), target_width=target_width, expected=expected)} for h in sorted(order)]
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)


def draw_qa_sample(context, segments: pd.DataFrame, *, target_width: float = 0.2, seed: int, author: str,
                   expected: float = 0.5, run_id: str | None = None, strata: list[str] | None = None) -> str:
    """Draw and store a QA sample (one transaction); returns its ``sample_id``.

    ``context`` is the write model's :class:`~toolkit.review.ReviewContext`; ``segments`` is
    :meth:`toolkit.api.Study.segments` (the machine's primary codings and the review status);
    ``run_id`` names the coding run whose codings the sample measures.

    Raises
    ------
    InputDataError
        Nothing left to sample (every segment reviewed), no author, a bad target width.
    """
    where = context.where
    author = check_author(where, author, what="a QA sample")
    plan = plan_qa_sample(segments, target_width=target_width, expected=expected, strata=strata)
    if plan.empty or plan["size"].sum() == 0:
        raise InputDataError(where, "there is nothing to sample: no unreviewed evidence segment is left.",
                             "Run the coding stage, or measure on a new study.")
    frame = _frame(segments).sort_values(s.SEGMENT_KEY, kind="stable")
    rng = np.random.default_rng(int(seed))
    picked = []
    for row in plan.itertuples(index=False):
        pool = frame[frame[s.STRATUM] == row.stratum]
        chosen = rng.choice(len(pool), size=int(row.size), replace=False)
        picked.append(pool.iloc[np.sort(chosen)])
    items = pd.concat(picked, ignore_index=True)
    items = items.iloc[rng.permutation(len(items))].reset_index(drop=True)
    items[s.POSITION] = np.arange(1, len(items) + 1)
    digest = hashlib.sha1(f"{seed}|{target_width}|{expected}|{','.join(items[s.SEGMENT_KEY])}".encode()).hexdigest()[:8]
    sample_id = f"qa-{int(seed)}-{digest}"
    drawn = context.store.table(s.QA_SAMPLES)
    if not drawn.empty and sample_id in set(drawn[s.SAMPLE_ID]):
        raise InputDataError(where, f"QA sample '{sample_id}' was already drawn (same seed, settings and segments).",
                             "Code that sample, or draw a new one with another seed.")
    found = context.store.segments_by_key(items[s.SEGMENT_KEY].tolist()).set_index(s.SEGMENT_KEY)
    settings = {
        "frame": "unreviewed evidence segments, by the machine's primary theme ('none': left uncoded)",
        "expected": expected, "confidence_level": 0.95, "run_id": run_id,
        "strata": {r.stratum: {"population": int(r.population), "size": int(r.size)} for r in plan.itertuples()},
        "machine": {int(p): [pol if isinstance(pol, str) and st != NONE_STRATUM else None,
                             None if pd.isna(c) else round(float(c), 4)]
                    for p, pol, st, c in zip(items[s.POSITION], items[s.POLARITY], items[s.STRATUM], items[s.CONFIDENCE])},
    }
    rows = pd.DataFrame({
        s.SEGMENT_KEY: items[s.SEGMENT_KEY], s.STRATUM: items[s.STRATUM], s.POSITION: items[s.POSITION],
        s.SOURCE_UID: items[s.SEGMENT_KEY].map(found[s.SOURCE_UID]), s.ANCHOR_TEXT: items[s.SEGMENT_KEY].map(found[s.TEXT]),
        s.ANCHOR: "attached",
    })
    context.store.add_qa_sample({s.SAMPLE_ID: sample_id, s.SEED: int(seed), s.TARGET_WIDTH: float(target_width),
                                 s.SETTINGS: settings, s.AUTHOR: author}, rows)
    log.info("drew QA sample %s: %d segments in %d strata", sample_id, len(rows), len(plan))
    return sample_id


def record_qa_coding(context, sample_id: str, segment_key: str, *, coder: str, theme: str | None,
                     polarity: str | None = None, note: str | None = None) -> int:
    """Store a reviewer's blind coding of one QA item (``theme=None``: the passage has no theme).

    Stored as a human coding (``recode`` with the reviewer's theme and polarity, or ``reject``)
    with ``context = "qa:<sample_id>"`` and ``blind = True``; it also counts as a review of the segment.

    Raises
    ------
    InputDataError
        The segment is not in the sample, the theme or polarity is unknown, or a theme lacks a polarity.
    """
    where = context.where
    items = context.store.table(s.QA_ITEMS)
    mine = items[(items[s.SAMPLE_ID] == sample_id)] if not items.empty else items
    if mine.empty:
        raise InputDataError(where, f"there is no QA sample '{sample_id}'.", "Draw one first (toolkit qa-sample).")
    if segment_key not in set(mine[s.SEGMENT_KEY]):
        raise InputDataError(where, f"segment {segment_key} is not in QA sample '{sample_id}'.",
                             "Code the sample's own items, in the order given.")
    from toolkit import review

    if theme is None:
        return review.record_decisions(context, [segment_key], decision="reject", coder=coder, note=note,
                                       made_in=f"{QA_PREFIX}{sample_id}", blind=True)
    check_themes(context.codebook, [theme], where=where)
    if polarity is not None:
        check_polarity(where, polarity)
    return review.record_decisions(context, [segment_key], decision="recode", coder=coder, theme=theme,
                                   polarity=polarity, note=note, made_in=f"{QA_PREFIX}{sample_id}", blind=True)
