"""Evidence segments as a reader meets them: who said it, where, its citation, its coding, topic and review.

Pure functions over store frames (:meth:`toolkit.store.Store.segments_frame`, the ``codings``,
``human_codings``, ``topics``, ``segment_topics``, ``turns`` tables); :class:`toolkit.api.Study`
reads the store and calls them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from toolkit import schema as s
from toolkit.analysis._frames import empty, ensure, flag, none
from toolkit.analysis.codings import last_decisions, primary_codings
from toolkit.analysis.columns import (
    BASE_COLUMNS,
    CONTEXT_COLUMNS,
    IS_SEGMENT,
    PARTICIPANT,
    REJECTED,
    REVIEW_STATUS,
    REVIEWED,
    REVIEWED_AT,
    REVIEWED_BY,
    SEGMENT_COLUMNS,
    SOURCE_KIND,
    SURVEY,
    TEXT_ANSWER_COLUMNS,
    THEME_NAME,
    UNCODED,
    UNREVIEWED,
)
from toolkit.analysis.references import with_references

__all__ = [
    "base_segments",
    "by_keys",
    "context",
    "evidence_segments",
    "segment_topics",
    "text_answers",
]


def base_segments(raw: pd.DataFrame) -> pd.DataFrame:
    """Evidence segments with who said them and their citation, no coding (:data:`BASE_COLUMNS` first).

    ``raw`` is :meth:`toolkit.store.Store.segments_frame` (``evidence_only=True``); interviewer
    turns and other non-evidence rows are dropped here too. Extra columns of ``raw`` are kept after
    the base columns.
    """
    if raw is None or raw.empty:
        return empty(BASE_COLUMNS)
    frame = raw
    if s.IS_EVIDENCE in frame.columns:
        frame = frame[flag(frame[s.IS_EVIDENCE])]
    frame = ensure(with_references(frame.reset_index(drop=True)), BASE_COLUMNS)
    rest = [c for c in frame.columns if c not in BASE_COLUMNS]
    return frame[BASE_COLUMNS + rest]


def segment_topics(assigned: pd.DataFrame, topics: pd.DataFrame) -> pd.DataFrame:
    """Each segment's topic with the topic's label (``Outliers`` / ``Topic N`` where it has none)."""
    columns = [s.SEGMENT_KEY, s.TOPIC, s.TOPIC_LABEL, s.PROBABILITY, s.ASSIGNED_BY]
    if assigned is None or assigned.empty:
        return empty(columns)
    labels = topics[[s.TOPIC, s.TOPIC_LABEL]] if topics is not None and not topics.empty else empty(
        [s.TOPIC, s.TOPIC_LABEL])
    merged = assigned.drop(columns=[s.TOPIC_LABEL], errors="ignore").merge(labels, on=s.TOPIC, how="left")
    fallback = merged[s.TOPIC].map(lambda t: "Outliers" if t == s.OUTLIER_TOPIC else f"Topic {t}")
    merged[s.TOPIC_LABEL] = merged[s.TOPIC_LABEL].astype(object).where(merged[s.TOPIC_LABEL].notna(), fallback)
    return ensure(merged, columns)


def evidence_segments(
    base: pd.DataFrame,
    resolved: pd.DataFrame,
    human: pd.DataFrame,
    topics: pd.DataFrame,
    *,
    theme_names: Mapping[str, str],
) -> pd.DataFrame:
    """One row per evidence segment with its resolved primary coding, review status and topic.

    Parameters
    ----------
    base : :func:`base_segments`.
    resolved : :func:`toolkit.analysis.codings.resolved_codings`.
    human : the ``human_codings`` table (every decision).
    topics : :func:`segment_topics`.
    theme_names : ``theme id -> name``.

    ``status`` is the primary coding's status: machine, accepted, recoded, ``rejected`` (a
    person took the coding away) or ``uncoded``. ``review_status`` is ``reviewed`` once anyone
    decided. Columns: :data:`~toolkit.analysis.columns.SEGMENT_COLUMNS`.
    """
    if base.empty:
        return empty(SEGMENT_COLUMNS)
    frame = base.copy()
    keys = frame[s.SEGMENT_KEY]
    primary = primary_codings(resolved)
    for col in (s.THEME, s.POLARITY, s.CONFIDENCE, s.GOOD_PRACTICE, s.STATUS):
        frame[col] = keys.map(primary[col]) if col in primary.columns and not primary.empty else None
    last = last_decisions(human)
    frame[REVIEWED_BY] = keys.map(last[s.CODER]) if not last.empty else None
    frame[REVIEWED_AT] = keys.map(last[s.CREATED_AT]) if not last.empty else None
    frame[REVIEW_STATUS] = frame[REVIEWED_BY].notna().map({True: REVIEWED, False: UNREVIEWED})
    rejected = keys.isin(last.index[last[s.DECISION] == "reject"]) if not last.empty else False
    frame[s.STATUS] = frame[s.STATUS].astype(object).where(frame[s.STATUS].notna(), UNCODED)
    frame.loc[rejected & frame[s.THEME].isna(), s.STATUS] = REJECTED
    frame[s.GOOD_PRACTICE] = flag(frame[s.GOOD_PRACTICE])
    frame[THEME_NAME] = frame[s.THEME].map(dict(theme_names)).fillna(frame[s.THEME])
    if topics is None or topics.empty:
        frame[s.TOPIC] = pd.Series(pd.NA, index=frame.index, dtype="Int64")
        frame[s.TOPIC_LABEL] = None
    else:
        by_key = topics.drop_duplicates(s.SEGMENT_KEY).set_index(s.SEGMENT_KEY)
        frame[s.TOPIC] = keys.map(by_key[s.TOPIC]).astype("Int64")
        frame[s.TOPIC_LABEL] = keys.map(by_key[s.TOPIC_LABEL])
    return ensure(frame, SEGMENT_COLUMNS)[SEGMENT_COLUMNS].reset_index(drop=True)


def by_keys(segments: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """The segments behind a number, in the order given (unknown keys left out)."""
    if not keys or segments.empty:
        return segments.iloc[0:0]
    wanted = {k: i for i, k in enumerate(dict.fromkeys(keys))}
    picked = segments[segments[s.SEGMENT_KEY].isin(list(wanted))]  # vectorised: no Python loop over every segment
    order = picked[s.SEGMENT_KEY].map(wanted).to_numpy().argsort(kind="stable")
    columns = [s.SEGMENT_KEY, *(c for c in segments.columns if c != s.SEGMENT_KEY)]
    return picked.iloc[order][columns].reset_index(drop=True)


def context(segment: Mapping[str, Any], turns: pd.DataFrame, *, window: int = 2) -> pd.DataFrame:
    """The turns around a segment: ``window`` turns before and after, the segment's own turn marked.

    ``segment`` is one row of :func:`evidence_segments`; ``turns`` the ``turns`` table. A survey
    answer has no turns: its context is the one answer.
    """
    turn_id = none(segment.get(s.TURN_ID))
    if turn_id is None:
        return pd.DataFrame(
            [{s.TURN_INDEX: 0, s.SPEAKER: segment.get(PARTICIPANT), s.SPEAKER_ROLE: s.PARTICIPANT,
              s.START_TIME: None, s.TEXT: segment.get(s.TEXT), IS_SEGMENT: True}],
            columns=CONTEXT_COLUMNS,
        )
    here = turns[turns[s.SOURCE_ID] == segment[s.SOURCE_ID]]
    mine = here[here[s.TURN_ID] == int(turn_id)]
    if mine.empty:
        return empty(CONTEXT_COLUMNS)
    index = int(mine[s.TURN_INDEX].iloc[0])
    window = max(int(window), 0)
    near = here[(here[s.TURN_INDEX] >= index - window) & (here[s.TURN_INDEX] <= index + window)].copy()
    near[IS_SEGMENT] = near[s.TURN_ID] == int(turn_id)
    return near.sort_values(s.TURN_INDEX)[CONTEXT_COLUMNS].reset_index(drop=True)


def text_answers(
    segments: pd.DataFrame,
    answers: pd.DataFrame,
    respondents: pd.DataFrame,
    questions: pd.DataFrame,
) -> pd.DataFrame:
    """Free-text survey answers with their coding: one row per answer segment.

    Before coding has run (no survey segments), one row per stored answer, ``uncoded``.
    Columns: :data:`~toolkit.analysis.columns.TEXT_ANSWER_COLUMNS`.
    """
    survey = segments[segments[SOURCE_KIND] == SURVEY] if not segments.empty else segments
    if not survey.empty:
        return survey[TEXT_ANSWER_COLUMNS].reset_index(drop=True)
    if answers is None or answers.empty:
        return empty(TEXT_ANSWER_COLUMNS)
    frame = answers.merge(
        respondents[[s.RESPONDENT_ID, s.RESPONDENT_KEY, s.PLACE, s.ORGANISATION_TYPE, s.ROLE]], on=s.RESPONDENT_ID,
    ).merge(questions[[s.QUESTION_ID, s.QUESTION_TEXT]], on=s.QUESTION_ID)
    frame = ensure(frame, TEXT_ANSWER_COLUMNS)
    frame[s.STATUS] = UNCODED
    return frame[TEXT_ANSWER_COLUMNS].reset_index(drop=True)
