"""The framework matrix, theme counts and theme co-occurrence: counts of people and segments per theme.

People are counted, and interviewees are kept apart from survey respondents: a cell says
"2 interviewees, 1 survey respondent", never just a number of sentences, so a talkative
interviewee cannot outweigh a place. Every count keeps the segments behind it
(``segment_keys``), so any number can be opened and read.

All functions take :func:`toolkit.analysis.codings.coding_view` frames (one row per segment ×
theme with who said it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from toolkit import schema as s
from toolkit.analysis._frames import check_option, empty, label, theme_order
from toolkit.analysis.columns import (
    COOCCURRENCE_UNITS,
    COUNT_BY,
    INTERVIEWEES,
    MATRIX_COUNTS,
    NO_VALUE,
    PARTICIPANT,
    PARTICIPANTS,
    ROW_DIMENSIONS,
    SEGMENT_KEYS,
    SEGMENTS_COL,
    SOURCE_KIND,
    SURVEY,
    SURVEY_RESPONDENTS,
    THEME_NAME,
    TRANSCRIPT,
)

__all__ = [
    "cell_text",
    "cooccurrence",
    "cooccurring_participants",
    "cooccurring_segments",
    "framework_matrix",
    "matrix_cells",
    "people_text",
    "row_values",
    "theme_counts",
]


def row_values(segments: pd.DataFrame, rows: str, *, known: Sequence[str] = ()) -> list[str]:
    """The rows of a matrix: ``known`` values first (a study's places), then the others found, sorted."""
    check_option(rows, ROW_DIMENSIONS, "A framework matrix's rows are")
    found = set(label(segments[rows], NO_VALUE)) if not segments.empty and rows in segments.columns else set()
    known = [str(k) for k in known]
    return known + sorted(v for v in found if v not in known)


def _people(codings: pd.DataFrame) -> pd.DataFrame:
    """One row per (coding, person): the participant and whether they were interviewed or surveyed."""
    kind = codings[SOURCE_KIND] if SOURCE_KIND in codings.columns else pd.Series(TRANSCRIPT, index=codings.index)
    return codings.assign(
        _interviewee=codings[PARTICIPANT].where(kind != SURVEY),
        _respondent=codings[PARTICIPANT].where(kind == SURVEY),
    )


def framework_matrix(
    codings: pd.DataFrame,
    *,
    rows: str = s.PLACE,
    values: Sequence[str] = (),
    themes: Sequence[str] = (),
    theme_names: Mapping[str, str] | None = None,
    summaries: pd.DataFrame | None = None,
    total: str | None = None,
) -> pd.DataFrame:
    """The framework matrix, long: one row per (row value, theme), zero cells included.

    Parameters
    ----------
    codings : :func:`~toolkit.analysis.codings.coding_view` (resolved codings with who said them).
    rows : ``place``, ``organisation_type`` or ``participant`` (cases).
    values : the row values, in order (:func:`row_values`); values found only in ``codings`` follow.
    themes : theme ids in order (the codebook's); themes found only in ``codings`` follow.
    theme_names : ``theme id -> name``.
    summaries : the latest researcher summary per cell (``row_dimension``, ``row_value``, ``theme``, ``text``).
    total : a last row value (e.g. ``"All places"``) counting over every row; people are counted once.

    Returns
    -------
    Columns ``<rows>``, ``theme``, ``theme_name``, ``participants`` (distinct people with a coding of
    the theme), ``interviewees`` and ``survey_respondents`` (the same, apart), ``barrier``, ``enabler``,
    ``neutral`` (segments), ``summary`` and ``segment_keys`` (the segments behind the cell).

    Examples
    --------
    >>> framework_matrix(codings, rows="place", values=["Brackenford"], themes=["trust_relationships"])  # doctest: +SKIP
    """
    check_option(rows, ROW_DIMENSIONS, "A framework matrix's rows are")
    columns = [rows, s.THEME, THEME_NAME, *MATRIX_COUNTS, s.SUMMARY, SEGMENT_KEYS]
    names = dict(theme_names or {})
    coded = codings[codings[s.THEME].notna()] if not codings.empty else codings
    order = theme_order(coded[s.THEME].astype(str) if not coded.empty else [], list(themes))
    found = sorted(set(label(coded[rows], NO_VALUE))) if not coded.empty else []
    row_order = list(dict.fromkeys([*map(str, values), *found]))
    if total is not None:
        row_order.append(total)
    grid = pd.MultiIndex.from_product([row_order, order], names=[rows, s.THEME]).to_frame(index=False)
    if grid.empty:
        return empty(columns)
    if not coded.empty:
        people = _people(coded.assign(**{rows: label(coded[rows], NO_VALUE)}))
        parts = [people] if total is None else [people, people.assign(**{rows: total})]
        both = pd.concat(parts, ignore_index=True)
        both = both.assign(**{p: (both[s.POLARITY] == p).astype(int) for p in s.POLARITIES})
        group = both.groupby([rows, s.THEME])
        agg = pd.DataFrame(
            {
                PARTICIPANTS: group[PARTICIPANT].nunique(),
                INTERVIEWEES: group["_interviewee"].nunique(),
                SURVEY_RESPONDENTS: group["_respondent"].nunique(),
                **{p: group[p].sum() for p in s.POLARITIES},
                SEGMENT_KEYS: group[s.SEGMENT_KEY].agg(lambda k: list(dict.fromkeys(k))),
            }
        ).reset_index()
        grid = grid.merge(agg, on=[rows, s.THEME], how="left")
    for col in MATRIX_COUNTS:
        grid[col] = grid[col].fillna(0).astype(int) if col in grid.columns else 0
    keys = grid[SEGMENT_KEYS] if SEGMENT_KEYS in grid.columns else pd.Series([None] * len(grid))
    grid[SEGMENT_KEYS] = [k if isinstance(k, list) else [] for k in keys]
    lookup: dict[tuple[str, str], str] = {}
    if summaries is not None and not summaries.empty:
        mine = summaries[summaries[s.ROW_DIMENSION] == rows]
        lookup = {(str(r), t): text for r, t, text in zip(mine[s.ROW_VALUE], mine[s.THEME], mine[s.TEXT])}
    grid[s.SUMMARY] = [lookup.get((r, t)) for r, t in zip(grid[rows], grid[s.THEME])]
    grid[THEME_NAME] = grid[s.THEME].map(names).fillna(grid[s.THEME])
    return grid[columns]


def people_text(interviewees: int, respondents: int) -> str:
    """``"2 interviewees, 1 survey respondent"``; ``""`` when nobody.

    >>> people_text(1, 0), people_text(2, 3), people_text(0, 0)
    ('1 interviewee', '2 interviewees, 3 survey respondents', '')
    """
    parts = []
    if interviewees:
        parts.append(f"{interviewees} interviewee{'' if interviewees == 1 else 's'}")
    if respondents:
        parts.append(f"{respondents} survey respondent{'' if respondents == 1 else 's'}")
    return ", ".join(parts)


def cell_text(row: Mapping) -> str:
    """One framework-matrix cell in words: ``"1 interviewee, 1 survey respondent · 1 barrier / 1 enabler"``.

    People first (interviewees and survey respondents apart), then the barrier and enabler segments.
    An empty cell is ``""``.

    >>> cell_text({"interviewees": 1, "survey_respondents": 1, "barrier": 1, "enabler": 1})
    '1 interviewee, 1 survey respondent · 1 barrier / 1 enabler'
    """
    people = people_text(int(row.get(INTERVIEWEES, 0) or 0), int(row.get(SURVEY_RESPONDENTS, 0) or 0))
    if not people:
        return ""
    return f"{people} · {int(row.get(s.BARRIER, 0) or 0)} barrier / {int(row.get(s.ENABLER, 0) or 0)} enabler"


def matrix_cells(matrix: pd.DataFrame, value: str = "cell") -> pd.DataFrame:
    """A framework matrix (:func:`framework_matrix`) as a wide table to show: row values × theme names.

    ``value="cell"`` writes each cell with :func:`cell_text`; a count column (``participants``,
    ``interviewees``, ``survey_respondents``, ``barrier``, ``enabler``, ``neutral``) gives numbers;
    ``summary`` the researchers' summaries.

    Examples
    --------
    >>> matrix_cells(study.framework_matrix(rows="place"), "participants")  # doctest: +SKIP
    """
    if matrix.empty:
        return pd.DataFrame()
    rows = matrix.columns[0]
    frame = matrix.copy()
    if value == "cell":
        frame["_v"] = [cell_text(r) for r in frame.to_dict("records")]
    else:
        check_option(value, [*MATRIX_COUNTS, s.SUMMARY, "cell"], "A matrix cell shows")
        frame["_v"] = frame[value]
    names = list(dict.fromkeys(frame[THEME_NAME]))
    wide = frame.pivot(index=rows, columns=THEME_NAME, values="_v")
    order = list(dict.fromkeys(frame[rows]))
    return wide.reindex(index=order, columns=names)


def theme_counts(codings: pd.DataFrame, *, by: str = s.PLACE, themes: Sequence[str] = (),
                 theme_names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Segments and people per ``by`` value, theme and polarity.

    Columns: ``<by>``, ``theme``, ``theme_name``, ``polarity``, ``segments``, ``participants``,
    ``interviewees``, ``survey_respondents``, ``segment_keys``; ordered by ``by``, codebook theme, polarity.
    """
    check_option(by, COUNT_BY, "theme_counts(by=...) is")
    columns = [by, s.THEME, THEME_NAME, s.POLARITY, SEGMENTS_COL, PARTICIPANTS, INTERVIEWEES, SURVEY_RESPONDENTS,
               SEGMENT_KEYS]
    if codings.empty:
        return empty(columns)
    frame = _people(codings.assign(**{by: label(codings[by], NO_VALUE),
                                      s.POLARITY: codings[s.POLARITY].fillna(s.NEUTRAL)}))
    known = frame[THEME_NAME] if THEME_NAME in frame.columns else frame[s.THEME]
    frame[THEME_NAME] = frame[s.THEME].map(dict(theme_names or {})).fillna(known)
    group = frame.groupby([by, s.THEME, THEME_NAME, s.POLARITY], sort=False)
    out = pd.DataFrame(
        {
            SEGMENTS_COL: group[s.SEGMENT_KEY].nunique(),
            PARTICIPANTS: group[PARTICIPANT].nunique(),
            INTERVIEWEES: group["_interviewee"].nunique(),
            SURVEY_RESPONDENTS: group["_respondent"].nunique(),
            SEGMENT_KEYS: group[s.SEGMENT_KEY].agg(lambda k: list(dict.fromkeys(k))),
        }
    ).reset_index()
    rank = {t: i for i, t in enumerate(themes)}
    out["_o"] = out[s.THEME].map(rank).fillna(len(rank))
    return out.sort_values([by, "_o", s.POLARITY]).drop(columns="_o").reset_index(drop=True)[columns]


def cooccurrence(codings: pd.DataFrame, *, unit: str = "segment", themes: Sequence[str] = ()) -> pd.DataFrame:
    """Theme × theme: how many segments (or participants) are coded with both themes.

    A square frame indexed and columned by theme id (``themes`` order first, themes never coded
    left out); the diagonal holds each theme's own count.
    """
    check_option(unit, COOCCURRENCE_UNITS, "cooccurrence(unit=...) is")
    if codings.empty:
        return pd.DataFrame(dtype=int)
    key = s.SEGMENT_KEY if unit == "segment" else PARTICIPANT
    pairs = codings[[key, s.THEME]].dropna().drop_duplicates()
    if pairs.empty:
        return pd.DataFrame(dtype=int)
    onehot = pd.crosstab(pairs[key], pairs[s.THEME]).clip(upper=1)
    order = [t for t in themes if t in onehot.columns]
    order += [t for t in onehot.columns if t not in order]
    onehot = onehot[order]
    matrix = onehot.T.dot(onehot)
    matrix.index.name = s.THEME
    matrix.columns.name = s.THEME
    return matrix.astype(int)


def _with_both(codings: pd.DataFrame, theme_a: str, theme_b: str, key: str) -> list:
    if codings.empty:
        return []
    a = set(codings.loc[codings[s.THEME] == theme_a, key].dropna())
    b = set(codings.loc[codings[s.THEME] == theme_b, key].dropna())
    return [k for k in dict.fromkeys(codings[key].dropna()) if k in a and k in b]


def cooccurring_segments(codings: pd.DataFrame, theme_a: str, theme_b: str) -> list[str]:
    """The segment keys coded with both themes (the segments behind a co-occurrence cell)."""
    return _with_both(codings, theme_a, theme_b, s.SEGMENT_KEY)


def cooccurring_participants(codings: pd.DataFrame, theme_a: str, theme_b: str) -> list[str]:
    """The participants with codings of both themes (possibly in different segments), sorted."""
    return sorted(str(p) for p in _with_both(codings, theme_a, theme_b, PARTICIPANT))
