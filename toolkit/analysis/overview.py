"""What a study holds, counted once: places, interviews, people, segments, codings and review progress.

``toolkit status``, the dashboard's Overview, the workbook's read-me sheet and the findings
report's summary all print these numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from toolkit import schema as s
from toolkit.analysis._frames import empty, label
from toolkit.analysis.columns import (
    NO_VALUE,
    PROGRESS_COLUMNS,
    REVIEW_STATUS,
    REVIEWED,
    REVIEWED_CODINGS,
    SEGMENTS_COL,
    SHARE,
    SURVEY,
    TRANSCRIPT,
    UNCODED,
    UNREVIEWED,
)
from toolkit.analysis.matrix import people_text

__all__ = ["PLACE_COLUMNS", "CorpusCounts", "corpus_counts", "places_table", "review_progress"]

INTERVIEWS, SURVEYS, RESPONDENTS_COL = "interviews", "surveys", "survey_respondents"
INTERVIEWEES, EVIDENCE, CODED = "interviewees", "evidence_segments", "coded"
PLACE_COLUMNS = [s.PLACE, INTERVIEWS, INTERVIEWEES, SURVEYS, RESPONDENTS_COL, EVIDENCE, CODED, REVIEWED]
"""Columns of :func:`places_table`."""


@dataclass(frozen=True)
class CorpusCounts:
    """A study's size: sources, people, segments, codings, reviews.

    Attributes
    ----------
    places : every place (the study's own first, then others found).
    interviews, surveys : transcripts and survey files.
    interviewees : distinct interviewees (participant ids; a transcript without one counts as one person).
    survey_respondents : distinct survey respondents.
    evidence_segments : passages of participants' talk or answers (the unit of coding).
    coded_segments : evidence segments with at least one (resolved) coding.
    reviewed_coded : coded segments whose coding a person accepted or recoded.
    reviewed_segments : evidence segments any person decided on (a rejection included).
    codings : resolved codings (segment × theme); ``codings_by_status`` splits them by status.
    likert_answers : agreement-scale answers.
    """

    places: tuple[str, ...] = ()
    interviews: int = 0
    interviewees: int = 0
    surveys: int = 0
    survey_respondents: int = 0
    evidence_segments: int = 0
    coded_segments: int = 0
    reviewed_coded: int = 0
    reviewed_segments: int = 0
    codings: int = 0
    codings_by_status: dict[str, int] = field(default_factory=dict)
    likert_answers: int = 0

    @property
    def people(self) -> str:
        """``"12 interviewees, 45 survey respondents"``."""
        return people_text(self.interviewees, self.survey_respondents) or "nobody yet"


def _interviewees(sources: pd.DataFrame) -> set[str]:
    if sources is None or sources.empty or s.KIND not in sources.columns:
        return set()
    transcripts = sources[sources[s.KIND] == TRANSCRIPT]
    ids = transcripts[s.PARTICIPANT_ID] if s.PARTICIPANT_ID in transcripts.columns else pd.Series(
        [None] * len(transcripts), index=transcripts.index)
    paths = transcripts[s.PATH] if s.PATH in transcripts.columns else pd.Series("", index=transcripts.index)
    return {str(v) for v in ids.astype(object).where(ids.notna(), paths)}


def _respondents(*frames: pd.DataFrame | None) -> set[str]:
    keys: set[str] = set()
    for frame in frames:
        if frame is not None and not frame.empty and s.RESPONDENT_KEY in frame.columns:
            keys |= {str(k) for k in frame[s.RESPONDENT_KEY].dropna()}
    return keys


def corpus_counts(
    *,
    sources: pd.DataFrame,
    segments: pd.DataFrame,
    codings: pd.DataFrame,
    respondents: pd.DataFrame | None = None,
    likert: pd.DataFrame | None = None,
    text_answers: pd.DataFrame | None = None,
    places: Sequence[str] = (),
) -> CorpusCounts:
    """Count a study once (see :class:`CorpusCounts`).

    Parameters
    ----------
    sources : the ``sources`` table (``kind``, ``place``, ``participant_id``, ``path``).
    segments : evidence segments (``segment_key``, ``place``; ``review_status`` when known).
    codings : resolved codings (``segment_key``, ``status``).
    respondents : the ``respondents`` table; without it, respondents are those found in ``likert``,
        ``text_answers`` and ``segments``.
    places : the study's own places, listed first.

    Examples
    --------
    >>> corpus_counts(sources=store.table("sources"), segments=segments, codings=codings).people  # doctest: +SKIP
    '12 interviewees, 45 survey respondents'
    """
    sources = sources if sources is not None else empty([s.KIND, s.PLACE])
    found: set[str] = set()
    for frame in (sources, segments, likert, respondents):
        if frame is not None and not frame.empty and s.PLACE in frame.columns:
            found |= {str(p) for p in frame[s.PLACE].dropna() if str(p)}
    known = [str(p) for p in places]
    kinds = sources[s.KIND].value_counts() if not sources.empty and s.KIND in sources.columns else pd.Series(dtype=int)
    people = _respondents(respondents) if respondents is not None else _respondents(likert, text_answers, segments)
    coded = codings[codings[s.SEGMENT_KEY].isin(set(segments[s.SEGMENT_KEY]))] if (
        codings is not None and not codings.empty and not segments.empty) else empty([s.SEGMENT_KEY, s.STATUS])
    reviewed_coded = coded[s.STATUS].isin(REVIEWED_CODINGS).groupby(coded[s.SEGMENT_KEY]).any()
    every = codings if codings is not None and not codings.empty else empty([s.STATUS])
    return CorpusCounts(
        places=tuple(known + sorted(found - set(known))),
        interviews=int(kinds.get(TRANSCRIPT, 0)),
        interviewees=len(_interviewees(sources)),
        surveys=int(kinds.get(SURVEY, 0)),
        survey_respondents=len(people),
        evidence_segments=len(segments),
        coded_segments=int(coded[s.SEGMENT_KEY].nunique()),
        reviewed_coded=int(reviewed_coded.sum()),
        reviewed_segments=int((segments[REVIEW_STATUS] == REVIEWED).sum()) if REVIEW_STATUS in segments.columns else 0,
        codings=len(every),
        codings_by_status={str(k): int(n) for k, n in every[s.STATUS].fillna("machine").value_counts().items()},
        likert_answers=0 if likert is None else len(likert),
    )


def places_table(sources: pd.DataFrame, respondents: pd.DataFrame, segments: pd.DataFrame,
                 *, places: Sequence[str] = ()) -> pd.DataFrame:
    """Per place: interviews, interviewees, surveys, survey respondents, evidence segments, coded, reviewed.

    ``segments`` is :func:`toolkit.analysis.segments.evidence_segments` (or empty before coding).
    Places without a name are shown as ``(not recorded)``.
    """
    if (sources is None or sources.empty) and (segments is None or segments.empty):
        return empty(PLACE_COLUMNS)
    rows: dict[str, dict[str, int]] = {}

    def add(place: str, column: str, n: int) -> None:
        rows.setdefault(place, dict.fromkeys(PLACE_COLUMNS[1:], 0))[column] += int(n)

    if sources is not None and not sources.empty:
        src = sources.assign(**{s.PLACE: label(sources[s.PLACE], NO_VALUE)})
        for place, group in src.groupby(s.PLACE):
            add(place, INTERVIEWS, (group[s.KIND] == TRANSCRIPT).sum())
            add(place, SURVEYS, (group[s.KIND] == SURVEY).sum())
            add(place, INTERVIEWEES, len(_interviewees(group)))
    if respondents is not None and not respondents.empty:
        resp = respondents.assign(**{s.PLACE: label(respondents[s.PLACE], NO_VALUE)})
        for place, group in resp.groupby(s.PLACE):
            add(place, RESPONDENTS_COL, group[s.RESPONDENT_KEY].nunique())
    if segments is not None and not segments.empty:
        seg = segments.assign(**{s.PLACE: label(segments[s.PLACE], NO_VALUE)})
        for place, group in seg.groupby(s.PLACE):
            add(place, EVIDENCE, len(group))
            add(place, CODED, (group[s.STATUS].notna() & ~group[s.STATUS].isin([UNCODED, "rejected"])).sum()
                if s.STATUS in group.columns else 0)
            add(place, REVIEWED, (group[REVIEW_STATUS] == REVIEWED).sum() if REVIEW_STATUS in group.columns else 0)
    order = [str(p) for p in places if str(p) in rows] + sorted(p for p in rows if p not in set(map(str, places)))
    frame = pd.DataFrame([{s.PLACE: p, **rows[p]} for p in order], columns=PLACE_COLUMNS)
    return frame.astype({c: int for c in PLACE_COLUMNS[1:]})


def review_progress(segments: pd.DataFrame) -> pd.DataFrame:
    """Reviewed and unreviewed evidence segments: all, then per primary theme.

    Columns: ``theme`` ("all" first), ``segments``, ``reviewed``, ``unreviewed``, ``share``.
    """
    if segments.empty:
        return pd.DataFrame([{s.THEME: "all", SEGMENTS_COL: 0, REVIEWED: 0, UNREVIEWED: 0, SHARE: 0.0}],
                            columns=PROGRESS_COLUMNS)
    done = segments[REVIEW_STATUS] == REVIEWED
    rows = [{s.THEME: "all", SEGMENTS_COL: len(segments), REVIEWED: int(done.sum())}]
    themes = segments[s.THEME].astype(object).where(segments[s.THEME].notna(), UNCODED)
    for theme, mask in done.groupby(themes):
        rows.append({s.THEME: theme, SEGMENTS_COL: int(mask.size), REVIEWED: int(mask.sum())})
    frame = pd.DataFrame(rows)
    frame[UNREVIEWED] = frame[SEGMENTS_COL] - frame[REVIEWED]
    frame[SHARE] = (frame[REVIEWED] / frame[SEGMENTS_COL].where(frame[SEGMENTS_COL] > 0)).fillna(0.0)
    return frame[PROGRESS_COLUMNS]



# --------------------------------------------------------------------------- human work and its anchors
WORK_KINDS = {"decision": (s.HUMAN_CODINGS, s.CODER, s.TEXT), "practice": (s.PRACTICES, s.AUTHOR, s.ANCHOR_TEXT),
              "comment": (s.COMMENTS, s.AUTHOR, s.ANCHOR_TEXT)}
"""Human work anchored to a passage: kind -> (table, who made it, the column holding the passage's text)."""
KIND_COL = "work"
ORPHAN_COLUMNS = [KIND_COL, s.SEGMENT_KEY, "by", s.CREATED_AT, s.ANCHOR_TEXT]
ATTACHED, MOVED, ORPHANED = s.ANCHOR_STATES


def _anchored(tables: dict[str, pd.DataFrame | None]) -> pd.DataFrame:
    frames = []
    for kind, (name, by, text) in WORK_KINDS.items():
        frame = tables.get(name)
        if frame is None or frame.empty or s.SEGMENT_KEY not in frame.columns:
            continue
        frame = frame[frame[s.SEGMENT_KEY].notna()]  # a comment on a theme or topic is not anchored to a passage
        state = frame[s.ANCHOR] if s.ANCHOR in frame.columns else pd.Series(None, index=frame.index, dtype=object)
        frames.append(pd.DataFrame({
            KIND_COL: kind, s.SEGMENT_KEY: frame[s.SEGMENT_KEY], "by": frame.get(by), s.CREATED_AT: frame.get(s.CREATED_AT),
            s.ANCHOR_TEXT: frame.get(text), s.ANCHOR: state.fillna(ATTACHED),
        }))
    return pd.concat(frames, ignore_index=True) if frames else empty([*ORPHAN_COLUMNS, s.ANCHOR])


def anchor_states(tables: dict[str, pd.DataFrame | None]) -> pd.DataFrame:
    """How human work is attached to the passages as they are now: one row per kind of work.

    ``tables`` maps ``human_codings``, ``practices`` and ``comments`` to those store tables.
    Columns: ``work`` (decision, practice, comment), ``attached``, ``moved`` (re-attached by its
    text after its source changed) and ``orphaned`` (its text is no longer in the study: kept and
    listed by :func:`orphaned_work`, never dropped).
    """
    work = _anchored(tables)
    rows = [{KIND_COL: kind, **{state: int(((work[KIND_COL] == kind) & (work[s.ANCHOR] == state)).sum())
                                for state in s.ANCHOR_STATES}} for kind in WORK_KINDS]
    return pd.DataFrame(rows, columns=[KIND_COL, *s.ANCHOR_STATES])


def orphaned_work(tables: dict[str, pd.DataFrame | None]) -> pd.DataFrame:
    """The human work that could not be re-attached: kind, its old segment key, by whom, when, the passage's text."""
    work = _anchored(tables)
    return work[work[s.ANCHOR] == ORPHANED][ORPHAN_COLUMNS].sort_values(s.CREATED_AT, kind="stable").reset_index(
        drop=True)
