"""Loaders of the blind work: QA samples and double coding (the Review page's last two tabs).

Kept apart from :mod:`loaders` (which stays the one data access of every other page); the
writes go through :func:`loaders.writer` and say "busy, nothing saved" like every other write.
"""

from __future__ import annotations

import loaders
import pandas as pd
import streamlit as st

from toolkit import schema as s


@st.cache_data(show_spinner=False, max_entries=4)
def _blind_work(path: str, stamp: str) -> dict[str, pd.DataFrame]:
    store = loaders._study(path).store
    return {name: store.table(name) for name in (s.QA_SAMPLES, s.QA_ITEMS, s.ASSIGNMENTS)}


def qa_samples() -> pd.DataFrame:
    """The study's QA samples, newest first."""
    frame = _blind_work(loaders.study_path(), loaders.stamp())[s.QA_SAMPLES]
    return frame.sort_values(s.CREATED_AT, ascending=False) if not frame.empty else frame


def qa_size(sample_id: str) -> int:
    """How many segments a QA sample holds."""
    items = _blind_work(loaders.study_path(), loaders.stamp())[s.QA_ITEMS]
    return int((items[s.SAMPLE_ID] == sample_id).sum()) if not items.empty else 0


def qa_pending(sample_id: str) -> pd.DataFrame:
    """The items of a QA sample still to be coded, in order (keys and positions only: the coding is blind)."""
    from toolkit.analysis.validation import qa_pending as pending

    return pending(_blind_work(loaders.study_path(), loaders.stamp())[s.QA_ITEMS], loaders.decisions(), sample_id)


def qa_plan(target_width: float, expected: float) -> pd.DataFrame:
    from toolkit.review.qa import plan_qa_sample

    return plan_qa_sample(loaders.segments(), target_width=target_width, expected=expected)


@loaders._write
def draw_qa_sample(target_width: float, expected: float, seed: int) -> str:
    loaders._need_researcher()
    from toolkit.review.qa import coding_run
    from toolkit.review.qa import draw_qa_sample as draw

    current = loaders.writer()
    return draw(current.review_context(), current.segments(), target_width=target_width, expected=expected,
                seed=int(seed), author=loaders.user().name, run_id=coding_run(current.store.runs_frame(limit=1000)))


@loaders._write
def record_qa_coding(sample_id: str, segment_key: str, theme: str | None, polarity: str | None) -> int:
    loaders._need_researcher()
    from toolkit.review.qa import record_qa_coding as record

    return record(loaders.writer().review_context(), sample_id, segment_key, coder=loaders.user().name, theme=theme, polarity=polarity)


def qa_machine_coding(sample_id: str, segment_key: str) -> tuple[str | None, str | None]:
    """The machine's coding of a QA item when the sample was drawn (shown only after the blind coding)."""
    import json

    from toolkit.analysis.validation import NONE_STRATUM

    work = _blind_work(loaders.study_path(), loaders.stamp())
    items = work[s.QA_ITEMS]
    item = items[(items[s.SAMPLE_ID] == sample_id) & (items[s.SEGMENT_KEY] == segment_key)]
    if item.empty:
        return None, None
    sample = work[s.QA_SAMPLES].set_index(s.SAMPLE_ID).loc[sample_id]
    machine = json.loads(sample[s.SETTINGS] or "{}").get("machine", {})
    stratum = item.iloc[0][s.STRATUM]
    polarity = (machine.get(str(int(item.iloc[0][s.POSITION]))) or [None])[0]
    return (None if stratum == NONE_STRATUM else stratum), polarity


@loaders._write
def assign_double_coding(coder_a: str, coder_b: str, size: int, seed: int) -> str:
    loaders._need_researcher()
    from toolkit.review.double import assign_double_coding as assign

    current = loaders.writer()
    return assign(current.review_context(), current.segments(), coders=(coder_a, coder_b), size=int(size),
                  seed=int(seed), author=loaders.user().name)


def double_pending() -> pd.DataFrame:
    """Segments assigned to the signed-in person for double coding and not coded by them yet: batch, key."""
    from toolkit.analysis.validation import DOUBLE_PREFIX

    assignments = _blind_work(loaders.study_path(), loaders.stamp())[s.ASSIGNMENTS]
    if assignments.empty:
        return pd.DataFrame(columns=[s.BATCH_ID, s.SEGMENT_KEY])
    mine = assignments[assignments[s.CODER] == loaders.user().name]
    done = loaders.decisions()
    done = done[done[s.CODER] == loaders.user().name] if not done.empty else done
    coded = {(c.split(":", 1)[1], k) for c, k in zip(done.get(s.CONTEXT, []), done.get(s.SEGMENT_KEY, []))
             if isinstance(c, str) and c.startswith(DOUBLE_PREFIX)}
    left = [(b, k) not in coded for b, k in zip(mine[s.BATCH_ID], mine[s.SEGMENT_KEY])]
    return mine[left][[s.BATCH_ID, s.SEGMENT_KEY]].reset_index(drop=True)


@loaders._write
def record_double_coding(batch_id: str, segment_key: str, theme: str | None, polarity: str | None) -> int:
    from toolkit.review.double import record_double_coding as record

    loaders._need_researcher()
    return record(loaders.writer().review_context(), batch_id, segment_key, coder=loaders.user().name, theme=theme, polarity=polarity)


@loaders._write
def resolve_disagreement(batch_id: str, segment_key: str, theme: str | None, polarity: str | None) -> int:
    from toolkit.review.double import resolve_disagreement as resolve

    loaders._need_researcher()
    return resolve(loaders.writer().review_context(), batch_id, segment_key, coder=loaders.user().name, theme=theme, polarity=polarity)
