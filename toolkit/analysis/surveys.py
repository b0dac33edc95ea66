"""Likert answers and their percentages, read on each question's STORED scale.

An answer's ``value`` is its 1-based position on the question's scale, which ingestion stores
with the question (``survey_questions.scale``: the labels, lowest first). Agree, neutral and
disagree are read against that scale's middle, never against the answers observed: on a 1-7
scale, 3 is below the middle (disagree) even if nobody answered 6 or 7, and a 1-5 question on
which nobody chose 5 is still a 5-point question. Without a stored scale (an older store, a
hand-made frame) the answer's label decides (``"Agree"``, ``"Neither agree nor disagree"``...);
answers that can be placed neither way (``"Don't know"``) are counted apart, never dropped
silently.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from toolkit import schema as s
from toolkit.analysis._frames import empty, ensure, json_list, label, none, plain
from toolkit.analysis.columns import (
    AGREE,
    DISAGREE,
    LIKERT_COLUMNS,
    MEAN,
    N_ANSWERS,
    NEUTRAL_ANSWER,
    NO_VALUE,
    OFF_SCALE,
    PERCENTAGE_COLUMNS,
    SCALE_POINTS,
)

__all__ = ["likert_answers", "likert_direction", "likert_percentages", "scale_of"]

log = logging.getLogger(__name__)


def scale_of(value: Any) -> tuple[str, ...] | None:
    """A stored scale (JSON text, list or tuple of labels) as a tuple; None when there is none.

    >>> scale_of('["Disagree", "Neutral", "Agree"]')
    ('Disagree', 'Neutral', 'Agree')
    >>> scale_of(None) is None
    True
    """
    labels = tuple(str(v) for v in json_list(value))
    return labels or None


def likert_answers(answers: pd.DataFrame, respondents: pd.DataFrame, questions: pd.DataFrame) -> pd.DataFrame:
    """Every Likert answer with the respondent's place, organisation type and role, and the question's scale.

    ``answers``, ``respondents`` and ``questions`` are the store's ``likert_answers``,
    ``respondents`` and ``survey_questions`` tables. Columns:
    :data:`~toolkit.analysis.columns.LIKERT_COLUMNS` (``scale`` a tuple of labels or None).
    """
    if answers is None or answers.empty:
        return empty(LIKERT_COLUMNS)
    frame = answers.merge(respondents, on=[s.RESPONDENT_ID, s.SOURCE_ID]).merge(
        questions, on=[s.QUESTION_ID, s.SOURCE_ID], suffixes=("", "_question"))
    frame = ensure(frame, LIKERT_COLUMNS)
    frame[s.SCALE] = frame[s.SCALE].map(scale_of).astype(object)
    return frame[LIKERT_COLUMNS].reset_index(drop=True)


def likert_direction(value: Any, *, points: int | None = None, label: Any = None) -> str | None:
    """``Agree``, ``Neutral`` or ``Disagree`` for one answer; None when it sits on no point of the scale.

    With the scale's number of ``points``, the answer's position decides: below the middle is
    disagree, above it agree, the middle (odd scales only) neutral. Without it, the label does.

    Examples
    --------
    >>> likert_direction(3, points=7), likert_direction(5, points=7), likert_direction(4, points=7)
    ('Disagree', 'Agree', 'Neutral')
    >>> likert_direction(3, points=4), likert_direction(None, label="Neither agree nor disagree")
    ('Agree', 'Neutral')
    >>> likert_direction(None, points=5, label="Don't know") is None
    True
    """
    number = pd.to_numeric(pd.Series([none(value)], dtype=object), errors="coerce").iloc[0]
    if points and points >= 2 and not pd.isna(number) and 1 <= number <= points:
        middle = (points + 1) / 2
        return NEUTRAL_ANSWER if number == middle else (AGREE if number > middle else DISAGREE)
    text = plain(label).strip().lower()
    if "neither" in text or "neutral" in text:
        return NEUTRAL_ANSWER
    if "disagree" in text:
        return DISAGREE
    if "agree" in text:
        return AGREE
    return None


def likert_percentages(likert: pd.DataFrame, *, total: str | None = None) -> pd.DataFrame:
    """Per question and place: % Disagree, Neutral and Agree, answers counted, answers off the scale.

    Parameters
    ----------
    likert : :func:`likert_answers` (a ``scale`` column is optional; without it labels decide).
    total : when given, a last row per question counting every place under this name ("All places").

    Returns
    -------
    Columns :data:`~toolkit.analysis.columns.PERCENTAGE_COLUMNS`: ``question_text``, ``place``,
    ``Disagree``, ``Neutral``, ``Agree`` (percent of the answers placed on the scale), ``n`` (those
    answers), ``off_scale`` (answers on no point, e.g. "Don't know"), ``mean`` (mean position, when
    the answers share one scale) and ``scale_points``. A question and place whose every answer is off
    the scale has ``n`` 0 and no percentages. Questions in survey order, places sorted.

    Examples
    --------
    >>> likert_percentages(study.likert()).head()  # doctest: +SKIP
    """
    if likert is None or likert.empty or s.QUESTION_TEXT not in likert.columns:
        return empty(PERCENTAGE_COLUMNS)
    frame = likert.copy()
    scales = frame[s.SCALE].map(scale_of) if s.SCALE in frame.columns else pd.Series([None] * len(frame),
                                                                                      index=frame.index)
    frame["_points"] = pd.to_numeric(pd.Series([len(sc) if sc else None for sc in scales], index=frame.index,
                                               dtype=object), errors="coerce")
    frame["_value"] = pd.to_numeric(frame[s.VALUE], errors="coerce")
    frame["_dir"] = _directions(frame)
    frame[s.PLACE] = label(frame[s.PLACE], NO_VALUE) if s.PLACE in frame.columns else NO_VALUE
    skipped = int(frame["_dir"].isna().sum())
    if skipped:
        log.info("survey results: %d Likert answer(s) sit on no point of their scale and are counted apart", skipped)
    rows = []
    for question in dict.fromkeys(frame[s.QUESTION_TEXT]):
        answers = frame[frame[s.QUESTION_TEXT] == question]
        groups = [(place, group) for place, group in answers.groupby(s.PLACE, sort=True)]
        if total is not None:
            groups.append((total, answers))
        for place, group in groups:
            rows.append({s.QUESTION_TEXT: question, s.PLACE: place, **_shares(group)})
    return pd.DataFrame(rows, columns=PERCENTAGE_COLUMNS)


def _directions(frame: pd.DataFrame) -> pd.Series:
    """:func:`likert_direction` of every answer (positions on a stored scale at once; labels only where needed)."""
    points, value = frame["_points"], frame["_value"]
    placed = (points >= 2) & (value >= 1) & (value <= points)
    middle = (points + 1) / 2
    direction = pd.Series(None, index=frame.index, dtype=object)
    direction[placed & (value < middle)] = DISAGREE
    direction[placed & (value == middle)] = NEUTRAL_ANSWER
    direction[placed & (value > middle)] = AGREE
    if s.LABEL in frame.columns and (~placed).any():
        rest = frame.loc[~placed, s.LABEL]
        by_label = {lab: likert_direction(None, label=lab) for lab in rest.dropna().unique()}
        direction[~placed] = rest.map(by_label)
    return direction


def _shares(group: pd.DataFrame) -> dict[str, Any]:
    placed = group[group["_dir"].notna()]
    n = len(placed)
    shares = {d: (100.0 * int((placed["_dir"] == d).sum()) / n if n else None) for d in (DISAGREE, NEUTRAL_ANSWER,
                                                                                         AGREE)}
    points = {p for p in placed["_points"] if p is not None and not pd.isna(p)}
    unknown = placed["_points"].isna().any()
    one_scale = len(points) <= 1 and not (points and unknown)
    values = placed["_value"].dropna()
    mean = float(values.mean()) if n and one_scale and len(values) == n else None
    return {**shares, N_ANSWERS: n, OFF_SCALE: int(len(group) - n), MEAN: mean,
            SCALE_POINTS: int(next(iter(points))) if len(points) == 1 else None}
