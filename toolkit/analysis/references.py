"""The one citation of a segment: who said it, where they work, and where in the source.

The dashboard's quote cards, the workbook's ``Reference`` column and the findings report's
quotes all print :func:`reference`, so a quote is cited the same way wherever a reader meets it::

    BK01, Brackenford, Local authority (Programme lead), interview 12:34
    BK03, Brackenford, Local authority (Data analyst), interview BK03_data_analyst.txt, characters 400-508
    survey respondent Fernmouth_R001, Fernmouth, GP practice (GP), survey answer to "What gets in the way?"

Timestamped interviews are cited by time (what a reader can find in the recording); others by
file name and character offsets into the stored, pseudonymised text.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

import pandas as pd

from toolkit import schema as s
from toolkit.analysis._frames import none, plain, records
from toolkit.analysis.columns import PARTICIPANT, REFERENCE, SOURCE_KIND, SURVEY, TRANSCRIPT

__all__ = ["clock", "is_survey", "reference", "who", "with_references", "with_who"]


def is_survey(row: Mapping[str, Any]) -> bool:
    """Whether a segment is a survey answer (its source kind, else it has a respondent or an answer id)."""
    kind = plain(row.get(SOURCE_KIND))
    if kind:
        return kind == SURVEY
    return bool(plain(row.get(s.RESPONDENT_KEY))) or none(row.get(s.TEXT_ANSWER_ID)) is not None


def who(row: Mapping[str, Any]) -> str:
    """The speaker as a reader meets them: ``BK01``, ``survey respondent Fernmouth_R001``, else the file."""
    if plain(row.get(s.PARTICIPANT_ID)):
        return plain(row.get(s.PARTICIPANT_ID))
    if plain(row.get(s.RESPONDENT_KEY)):
        return f"survey respondent {plain(row.get(s.RESPONDENT_KEY))}"
    return plain(row.get(s.PATH)) or "source unknown"


def clock(seconds: Any) -> str | None:
    """``754.0`` -> ``12:34``; ``3725`` -> ``1:02:05``; missing -> None."""
    value = none(seconds)
    if value is None:
        return None
    total = int(float(value))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def reference(row: Mapping[str, Any]) -> str:
    """The citation of one segment (a dict or a row of a segments frame).

    Reads ``participant_id``, ``respondent_key``, ``path``, ``place``, ``organisation_type``,
    ``role``, ``source_kind``, ``question_text``, ``start_time``, ``start_char`` and ``end_char``;
    any may be missing.

    Examples
    --------
    >>> reference({"participant_id": "BK01", "place": "Brackenford", "organisation_type": "Local authority",
    ...            "role": "Programme lead", "source_kind": "transcript", "start_time": 754.0})
    'BK01, Brackenford, Local authority (Programme lead), interview 12:34'
    >>> reference({"respondent_key": "Fernmouth_R001", "place": "Fernmouth", "source_kind": "survey",
    ...            "question_text": "What gets in the way?"})
    'survey respondent Fernmouth_R001, Fernmouth, survey answer to \u201cWhat gets in the way?\u201d'
    """
    parts = [who(row), plain(row.get(s.PLACE)), plain(row.get(s.ORGANISATION_TYPE))]
    base = ", ".join(p for p in parts if p)
    role = plain(row.get(s.ROLE))
    if role:
        base += f" ({role})"
    if is_survey(row):
        question = plain(row.get(s.QUESTION_TEXT))
        return base + (f", survey answer to \u201c{question}\u201d" if question else ", survey answer")
    when = clock(row.get(s.START_TIME))
    if when:
        return base + f", interview {when}"
    name = PurePosixPath(plain(row.get(s.PATH)).replace("\\", "/")).name
    start, end = none(row.get(s.START_CHAR)), none(row.get(s.END_CHAR))
    where = f", characters {int(start)}-{int(end)}" if start is not None and end is not None else ""
    return base + (f", interview {name}{where}" if name else "")


def with_who(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``source_kind`` and ``participant`` filled in where missing (a copy).

    ``participant`` is who said it, as counted: the interview's participant id, else the survey
    respondent key, else the interview's file (one transcript without an id is one person).
    """
    frame = frame.copy()
    n = len(frame)
    if SOURCE_KIND not in frame.columns or frame[SOURCE_KIND].isna().any():
        inferred = pd.Series([SURVEY if is_survey(r) else TRANSCRIPT for r in records(frame)],
                             index=frame.index, dtype=object)
        current = frame[SOURCE_KIND] if SOURCE_KIND in frame.columns else pd.Series([None] * n, index=frame.index)
        frame[SOURCE_KIND] = current.astype(object).where(current.notna(), inferred)
    if PARTICIPANT not in frame.columns:
        def column(name: str) -> pd.Series:
            if name in frame.columns:
                return frame[name].astype(object)
            return pd.Series([None] * n, index=frame.index, dtype=object)

        ids, keys, paths = column(s.PARTICIPANT_ID), column(s.RESPONDENT_KEY), column(s.PATH)
        transcript_path = paths.where(frame[SOURCE_KIND] == TRANSCRIPT)
        frame[PARTICIPANT] = ids.where(ids.notna(), keys.where(keys.notna(), transcript_path))
    return frame


def with_references(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with who said it (:func:`with_who`) and its ``reference`` column (a copy).

    Examples
    --------
    >>> with_references(segments)["reference"].iloc[0]  # doctest: +SKIP
    'BK01, Brackenford, Local authority (Programme lead), interview 0:15'
    """
    frame = with_who(frame)
    frame[REFERENCE] = [reference(row) for row in records(frame)] if len(frame) else pd.Series(dtype=object)
    return frame
