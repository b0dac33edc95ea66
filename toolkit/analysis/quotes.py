"""Quotes: narrowing segments by any filter, choosing balanced quotes, and the good-practice library.

The dashboard's quote finder and review queue, the workbook's "Quotes by theme" and "Good
practice" sheets and the findings report's quote lists all choose their quotes here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from toolkit import schema as s
from toolkit.analysis._frames import check_option, empty, ensure, flag, plain, values
from toolkit.analysis.columns import (
    CODING_STATUSES,
    ORIGIN,
    PARTICIPANT,
    PRACTICE_COLUMNS,
    REFERENCE,
    REVIEW_STATUS,
    REVIEW_STATUSES,
    REVIEWED_CODINGS,
    THEME_NAME,
    UNCODED,
)
from toolkit.analysis.references import who

__all__ = [
    "MAX_PER_PARTICIPANT",
    "MAX_PER_PLACE",
    "MAX_QUOTES",
    "filter_quotes",
    "good_practice",
    "select_quotes",
    "theme_sizes",
]

MAX_QUOTES = 6
MAX_PER_PLACE = 2
MAX_PER_PARTICIPANT = 1


def filter_quotes(
    segments: pd.DataFrame,
    codings: pd.DataFrame | None = None,
    *,
    place: str | Sequence[str] | None = None,
    organisation_type: str | Sequence[str] | None = None,
    role: str | Sequence[str] | None = None,
    theme: str | Sequence[str] | None = None,
    polarity: str | Sequence[str] | None = None,
    topic: int | Sequence[int] | None = None,
    source: str | Sequence[str] | None = None,
    status: str | Sequence[str] | None = None,
    search: str | None = None,
) -> pd.DataFrame:
    """Narrow a segments frame (:func:`toolkit.analysis.segments.evidence_segments`) in memory.

    With ``codings`` (:func:`toolkit.analysis.codings.coding_view`), ``theme`` and ``polarity``
    match any of a segment's codings; without, only its primary coding. ``status`` is a coding
    status (machine, accepted, recoded, rejected, uncoded) or a review status (reviewed,
    unreviewed); ``search`` is case-insensitive text. Empty filters are ignored; unknown
    polarities and statuses are refused (they would match nothing, silently).

    Examples
    --------
    >>> filter_quotes(study.segments(), study.codings(), theme="trust_relationships")  # doctest: +SKIP
    """
    for wanted in values(polarity):
        check_option(wanted, s.POLARITIES, "A polarity is")
    for wanted in values(status):
        check_option(wanted, [*REVIEW_STATUSES, *CODING_STATUSES], "A status is")
    frame = segments
    if frame.empty:
        return frame.copy()
    mask = pd.Series(True, index=frame.index)
    for column, wanted in ((s.PLACE, place), (s.ORGANISATION_TYPE, organisation_type), (s.ROLE, role),
                           (s.PATH, source)):
        chosen = values(wanted)
        if chosen:
            mask &= frame[column].isin(chosen)
    themes, polarities = values(theme), values(polarity)
    if (themes or polarities) and codings is not None and not codings.empty:
        match = pd.Series(True, index=codings.index)
        if themes:
            match &= codings[s.THEME].isin(themes)
        if polarities:
            match &= codings[s.POLARITY].isin(polarities)
        mask &= frame[s.SEGMENT_KEY].isin(set(codings.loc[match, s.SEGMENT_KEY]))
    else:
        if themes:
            mask &= frame[s.THEME].isin(themes)
        if polarities:
            mask &= frame[s.POLARITY].isin(polarities)
    topics = values(topic)
    if topics:
        mask &= frame[s.TOPIC].isin([int(t) for t in topics])
    statuses = values(status)
    if statuses:
        review = [x for x in statuses if x in REVIEW_STATUSES]
        coding = [x for x in statuses if x not in REVIEW_STATUSES]
        if review:
            mask &= frame[REVIEW_STATUS].isin(review)
        if coding:
            mask &= frame[s.STATUS].isin(coding)
    if search and str(search).strip():
        mask &= frame[s.TEXT].str.contains(str(search).strip(), case=False, regex=False, na=False)
    return frame[mask.fillna(False)].reset_index(drop=True)


def select_quotes(
    rows: pd.DataFrame,
    *,
    limit: int | None = MAX_QUOTES,
    per_place: int | None = MAX_PER_PLACE,
    per_participant: int | None = MAX_PER_PARTICIPANT,
) -> pd.DataFrame:
    """The strongest quotes, balanced across places and participants.

    Candidates are ranked reviewed first (accepted or recoded by a person), then by confidence
    (ties by file and position), one quote per segment. Places take turns, the place with the
    strongest remaining candidate first, each place giving at most ``per_place`` quotes and each
    participant (or survey respondent) at most ``per_participant``, up to ``limit`` in all
    (``None``: no such limit).

    Examples
    --------
    >>> select_quotes(coded[coded["theme"] == "trust_relationships"], limit=6)  # doctest: +SKIP
    """
    if rows.empty:
        return rows

    def column(name: str) -> pd.Series:
        return rows[name] if name in rows.columns else pd.Series(None, index=rows.index, dtype=object)

    speaker = column(PARTICIPANT).map(plain)
    unknown = speaker == ""
    if unknown.any():  # who said it, where the participant column does not say (hand-made frames)
        speaker[unknown] = [who(r) for r in rows[unknown].to_dict("records")]
    ranked = pd.DataFrame(  # only what the ranking needs: quick even when the rows carry long texts
        {
            "_key": rows[s.SEGMENT_KEY],
            "_reviewed": column(s.STATUS).isin(REVIEWED_CODINGS),
            "_confidence": pd.to_numeric(column(s.CONFIDENCE), errors="coerce").fillna(0.0),
            "_path": column(s.PATH).map(plain),
            "_start": pd.to_numeric(column(s.START_CHAR), errors="coerce"),
            "_who": speaker,
            "_place": column(s.PLACE).map(plain),
        },
        index=rows.index,
    )
    ranked = ranked.sort_values(
        ["_reviewed", "_confidence", "_path", "_start"], ascending=[False, False, True, True], kind="stable"
    ).drop_duplicates("_key")
    queues: dict[str, list] = {}
    for index, place in zip(ranked.index, ranked["_place"]):
        queues.setdefault(place, []).append(index)
    chosen: list = []
    taken = {place: 0 for place in queues}
    who_count: dict[str, int] = {}
    progress = True
    while (limit is None or len(chosen) < limit) and progress:
        progress = False
        for place in list(queues):  # insertion order: the place of the strongest candidate first
            if (limit is not None and len(chosen) >= limit) or (per_place is not None and taken[place] >= per_place):
                continue
            while queues[place]:
                index = queues[place].pop(0)
                person = ranked.at[index, "_who"]
                if person and per_participant is not None and who_count.get(person, 0) >= per_participant:
                    continue
                chosen.append(index)
                taken[place] += 1
                if person:
                    who_count[person] = who_count.get(person, 0) + 1
                progress = True
                break
    return rows.loc[chosen]


def good_practice(
    codings: pd.DataFrame,
    segments: pd.DataFrame,
    curated: pd.DataFrame | None,
    *,
    theme_names: Mapping[str, str],
    include_excluded: bool = False,
) -> pd.DataFrame:
    """The good-practice library: enabler segments flagged as good practice, plus researchers' curation.

    One row per passage. A researcher's latest entry for a passage (``curated``: the latest row of
    the ``practices`` table per segment) wins: it can add a passage, take one out (``included``
    False), and give a title, theme and note. ``origin`` is ``coder`` or ``curated``. Rows are in
    codebook theme order, then place. Excluded rows are left out unless ``include_excluded``.

    Parameters
    ----------
    codings : :func:`toolkit.analysis.codings.coding_view` (or any resolved codings with
        ``segment_key``, ``theme``, ``polarity``, ``good_practice``, ``status``).
    segments : evidence segments with ``segment_key``, ``theme``, ``status``, ``place``,
        ``organisation_type``, ``participant``, ``reference`` and ``text``.
    """
    if codings is not None and not codings.empty:
        flagged = codings[flag(codings[s.GOOD_PRACTICE]) & (codings[s.POLARITY] == s.ENABLER)]
    else:
        flagged = empty([s.SEGMENT_KEY, s.THEME, s.STATUS])
    flagged = flagged.drop_duplicates(s.SEGMENT_KEY)[[s.SEGMENT_KEY, s.THEME, s.STATUS]]
    flagged = flagged.assign(**{ORIGIN: "coder", s.INCLUDED: True, s.TITLE: None, s.NOTE: None, s.AUTHOR: None})
    by_key = segments.set_index(s.SEGMENT_KEY) if not segments.empty else empty([s.SEGMENT_KEY, s.THEME, s.STATUS]
                                                                               ).set_index(s.SEGMENT_KEY)
    if curated is not None and not curated.empty:
        curated = curated.assign(**{ORIGIN: "curated", s.INCLUDED: flag(curated[s.INCLUDED])})
        primary = curated[s.SEGMENT_KEY].map(by_key[s.THEME]) if s.THEME in by_key.columns else None
        curated[s.THEME] = curated[s.THEME].where(curated[s.THEME].notna(), primary)
        curated[s.STATUS] = curated[s.SEGMENT_KEY].map(by_key[s.STATUS]) if s.STATUS in by_key.columns else None
        flagged = flagged[~flagged[s.SEGMENT_KEY].isin(curated[s.SEGMENT_KEY])]
        frame = pd.concat([flagged, curated[flagged.columns]], ignore_index=True)
    else:
        frame = flagged
    if frame.empty or segments.empty:
        return empty(PRACTICE_COLUMNS)
    meta = ensure(segments.copy(), [s.ORGANISATION_TYPE, PARTICIPANT, REFERENCE])[
        [s.SEGMENT_KEY, s.PLACE, s.ORGANISATION_TYPE, PARTICIPANT, REFERENCE, s.TEXT]]
    frame = frame.merge(meta, on=s.SEGMENT_KEY, how="inner")
    if not include_excluded:
        frame = frame[flag(frame[s.INCLUDED])]
    frame[THEME_NAME] = frame[s.THEME].map(dict(theme_names)).fillna(frame[s.THEME])
    order = {t: i for i, t in enumerate(theme_names)}
    frame = frame.assign(_o=frame[s.THEME].map(order).fillna(len(order))).sort_values(["_o", s.PLACE], kind="stable")
    return frame[PRACTICE_COLUMNS].reset_index(drop=True)


def theme_sizes(frame: pd.DataFrame) -> pd.Series:
    """Segments per primary theme, largest first, the uncoded ones (``uncoded``) last.

    >>> theme_sizes(pd.DataFrame({"theme": ["a", None, "b", "a"]})).to_dict()
    {'a': 2, 'b': 1, 'uncoded': 1}
    """
    if frame.empty:
        return pd.Series(dtype=int)
    counts = frame[s.THEME].astype(object).where(frame[s.THEME].notna(), UNCODED).value_counts()
    return pd.concat([counts.drop(UNCODED, errors="ignore"), counts.filter([UNCODED])])
