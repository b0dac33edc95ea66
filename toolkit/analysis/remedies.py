"""From barrier to remedy, across places: what the other places report on a theme where one place is stuck.

For every theme and every place whose people report a barrier on it, the enablers and curated
practices that the *other* places report on the same theme (its sub-themes and parent theme
count too), side by side: the strongest barrier quote of the place, the strongest enabler quote
of each other place, and that place's practices. This is what the study exists for: helping
places overcome the barriers others have overcome.

People are counted, not sentences (a talkative interviewee does not make a barrier bigger), and
quotes are chosen as everywhere else (:func:`toolkit.analysis.quotes.select_quotes`: reviewed
codings first, then confidence).

Examples
--------
>>> table = barrier_remedies(study.codings(), study.segments(), study.practices(),
...                          places=study.places, theme_names=study.theme_names())  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from toolkit import schema as s
from toolkit.analysis._frames import empty, plain
from toolkit.analysis.columns import (
    BARRIER_PLACE,
    OTHER_PLACE,
    PARTICIPANT,
    REFERENCE,
    REMEDY_COLUMNS,
    THEME_NAME,
)
from toolkit.analysis.quotes import select_quotes

__all__ = ["barrier_remedies", "split_practices", "theme_family"]

NOT_PRACTICES = (s.PRACTICE_STATUSES[-1],)
"""Practice statuses left out of the remedies (a researcher decided it is not a practice)."""


def theme_family(theme: str, parents: Mapping[str, str | None] | None = None) -> set[str]:
    """A theme with its parent theme and its sub-themes (what counts as "the same theme" across places).

    >>> sorted(theme_family("consent_forms", {"consent_forms": "legal_basis", "dpia": "legal_basis"}))
    ['consent_forms', 'legal_basis']
    >>> sorted(theme_family("legal_basis", {"consent_forms": "legal_basis", "dpia": "legal_basis"}))
    ['consent_forms', 'dpia', 'legal_basis']
    """
    parents = {k: v for k, v in (parents or {}).items() if v}
    family = {theme}
    if parents.get(theme):
        family.add(parents[theme])
    family |= {child for child, parent in parents.items() if parent == theme}
    return family


def barrier_remedies(
    codings: pd.DataFrame,
    segments: pd.DataFrame,
    practices: pd.DataFrame | None = None,
    *,
    places: Sequence[str] = (),
    theme_names: Mapping[str, str] | None = None,
    parents: Mapping[str, str | None] | None = None,
) -> pd.DataFrame:
    """For each barrier reported in one place, the enablers and practices the other places report.

    Parameters
    ----------
    codings : :func:`toolkit.analysis.codings.coding_view` (resolved codings with place and participant).
    segments : evidence segments with ``reference`` and ``text`` (for the quotes).
    practices : :func:`toolkit.analysis.practices.practice_table` (curated and proposed practices).
    places : the study's places, in order (places found only in the codings follow).
    theme_names : ``theme id -> name`` in codebook order (the order of the rows).
    parents : ``sub-theme id -> theme id``.

    Returns
    -------
    :data:`~toolkit.analysis.columns.REMEDY_COLUMNS`: one row per (theme, place with the barrier,
    other place with an enabler or a practice on that theme). ``barrier_people`` and
    ``enabler_people`` count distinct people; ``*_segments`` are the segments behind them;
    ``*_quote`` and ``*_reference`` the strongest quote; ``practices`` the other place's practice
    titles (``practice_ids`` their ids). A barrier no other place reports a remedy for has one row
    with ``other_place`` empty: a gap the study can name.
    """
    if codings is None or codings.empty:
        return empty(REMEDY_COLUMNS)
    names = dict(theme_names or {})
    coded = codings[codings[s.THEME].notna() & codings[s.PLACE].notna()].copy()
    coded[s.PLACE] = coded[s.PLACE].map(plain)
    meta_cols = [c for c in (s.SEGMENT_KEY, REFERENCE, s.TEXT, s.PATH, s.START_CHAR) if c in segments.columns]
    quotable = coded.drop(columns=[c for c in meta_cols if c != s.SEGMENT_KEY and c in coded.columns]).merge(
        segments[meta_cols], on=s.SEGMENT_KEY, how="inner") if not segments.empty else coded.iloc[0:0]
    order = list(dict.fromkeys([*map(str, places), *sorted(set(coded[s.PLACE]))]))
    themes = list(dict.fromkeys([*names, *coded[s.THEME].astype(str)]))
    live = practices
    if live is not None and not live.empty:
        live = live[~live[s.STATUS].isin(NOT_PRACTICES)]
    rows: list[dict] = []
    for theme in themes:
        family = theme_family(theme, parents)
        barriers = coded[(coded[s.THEME] == theme) & (coded[s.POLARITY] == s.BARRIER)]
        if barriers.empty:
            continue
        enablers = coded[coded[s.THEME].isin(family) & (coded[s.POLARITY] == s.ENABLER)]
        for place in order:
            here = barriers[barriers[s.PLACE] == place]
            if here.empty:
                continue
            quote = _strongest(quotable[(quotable[s.THEME] == theme) & (quotable[s.POLARITY] == s.BARRIER)
                                        & (quotable[s.PLACE] == place)])
            base = {s.THEME: theme, THEME_NAME: names.get(theme, theme), BARRIER_PLACE: place,
                    "barrier_people": int(here[PARTICIPANT].nunique()),
                    "barrier_segments": list(dict.fromkeys(here[s.SEGMENT_KEY])),
                    "barrier_quote": quote[0], "barrier_reference": quote[1]}
            found = False
            for other in order:
                if other == place:
                    continue
                theirs = enablers[enablers[s.PLACE] == other]
                mine = _practices(live, other, family)
                if theirs.empty and mine.empty:
                    continue
                found = True
                quote = _strongest(quotable[quotable[s.THEME].isin(family) & (quotable[s.POLARITY] == s.ENABLER)
                                            & (quotable[s.PLACE] == other)])
                rows.append({**base, OTHER_PLACE: other, "enabler_people": int(theirs[PARTICIPANT].nunique()),
                             "enabler_segments": list(dict.fromkeys(theirs[s.SEGMENT_KEY])),
                             "enabler_quote": quote[0], "enabler_reference": quote[1],
                             "practices": [plain(t) for t in mine[s.TITLE]],
                             "practice_ids": [plain(g) for g in mine[s.GROUP_ID]]})
            if not found:
                rows.append({**base, OTHER_PLACE: None, "enabler_people": 0, "enabler_segments": [],
                             "enabler_quote": None, "enabler_reference": None, "practices": [], "practice_ids": []})
    if not rows:
        return empty(REMEDY_COLUMNS)
    return pd.DataFrame(rows, columns=REMEDY_COLUMNS)


def _strongest(rows: pd.DataFrame) -> tuple[str | None, str | None]:
    chosen = select_quotes(rows, limit=1, per_place=None, per_participant=None) if not rows.empty else rows
    if chosen.empty:
        return None, None
    first = chosen.iloc[0]
    return plain(first.get(s.TEXT)) or None, plain(first.get(REFERENCE)) or None


def _practices(practices: pd.DataFrame | None, place: str, family: set[str]) -> pd.DataFrame:
    if practices is None or practices.empty:
        return pd.DataFrame(columns=[s.TITLE, s.GROUP_ID])
    here = practices[practices[s.PLACE].map(plain).str.split(", ").map(lambda ps: place in ps)]
    themes = here["themes"] if "themes" in here.columns else here[s.THEME].map(lambda t: [t])
    keep = [bool(family & set(ts if isinstance(ts, list) else [ts])) for ts in themes]
    return here.loc[pd.Series(keep, index=here.index, dtype=bool)]  # a plain empty list would select no columns


def split_practices(titles: Sequence[str], ids: Sequence[str],
                    practices: pd.DataFrame | None) -> tuple[list[str], list[str]]:
    """A remedy row's practice titles as (curated by a researcher, proposed by the machine and not yet reviewed).

    ``practices`` is :func:`toolkit.analysis.practices.practice_table` (its ``origin`` says which); a
    practice it does not hold counts as proposed, so a machine grouping is never passed off as a
    researcher's.

    Examples
    --------
    >>> split_practices(row["practices"], row["practice_ids"], study.practices())  # doctest: +SKIP
    (['Monthly IG data clinic'], ['Template'])
    """
    origins = dict(zip(practices[s.GROUP_ID].map(plain), practices["origin"], strict=False)) \
        if practices is not None and not practices.empty else {}
    curated, proposed = [], []
    for title, group in zip(titles, ids, strict=False):
        (curated if origins.get(plain(group)) == "curated" else proposed).append(plain(title))
    return curated, proposed
