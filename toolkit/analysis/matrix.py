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
from toolkit.analysis._frames import check_option, empty, label, records, theme_order
from toolkit.analysis.columns import (
    COOCCURRENCE_UNITS,
    COUNT_BY,
    INTERVIEWEES,
    MATRIX_COUNTS,
    NO_VALUE,
    PARENT,
    PARTICIPANT,
    PARTICIPANTS,
    REFERENCES,
    ROW_DIMENSIONS,
    SEGMENT_KEYS,
    SEGMENTS_COL,
    SOURCE_KIND,
    SUMMARY_AT,
    SUMMARY_AUTHOR,
    SURVEY,
    SURVEY_RESPONDENTS,
    THEME_NAME,
    TRANSCRIPT,
)

__all__ = [
    "MAX_CELL_REFERENCES",
    "cell_text",
    "cooccurrence",
    "cooccurring_participants",
    "cooccurring_segments",
    "framework_cell",
    "framework_matrix",
    "matrix_cells",
    "people_text",
    "row_labels",
    "row_values",
    "source_location",
    "theme_columns",
    "theme_counts",
]


def row_values(segments: pd.DataFrame, rows: str, *, known: Sequence[str] = (),
               dimensions: Sequence[str] = ROW_DIMENSIONS) -> list[str]:
    """The rows of a matrix: ``known`` values first (a study's places), then the others found, sorted.

    ``dimensions`` are the allowed rows (:func:`toolkit.analysis.cases.row_dimensions` adds a
    study's case attributes); numbers sort as numbers.
    """
    check_option(rows, dimensions, "A framework matrix's rows are")
    found = set(row_labels(segments[rows])) if not segments.empty and rows in segments.columns else set()
    known = [str(k) for k in known]
    return known + sorted((v for v in found if v not in known), key=_sort_key)


def row_labels(series: pd.Series) -> pd.Series:
    """A row dimension's values as text: missing ones spelt ``(not recorded)``, whole numbers without ``.0``.

    >>> row_labels(pd.Series([4.0, None, 2.5, "rural"])).tolist()
    ['4', '(not recorded)', '2.5', 'rural']
    """
    def one(value):
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return NO_VALUE
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    return series.astype(object).map(one)


def _sort_key(value: str):
    try:
        return (0, float(value), "")
    except ValueError:
        return (1 if value != NO_VALUE else 2, 0.0, value)


def theme_columns(themes: Sequence[str], parents: Mapping[str, str | None] | None = None) -> list[str]:
    """Themes in matrix-column order: each top-level theme followed by its sub-themes (codebook order kept).

    >>> theme_columns(["a", "b", "a1", "b1", "a2"], {"a1": "a", "a2": "a", "b1": "b"})
    ['a', 'a1', 'a2', 'b', 'b1']
    """
    parents = {k: v for k, v in (parents or {}).items() if v}
    order = list(dict.fromkeys(themes))
    tops = [t for t in order if parents.get(t) not in order]
    out: list[str] = []

    def add(theme: str) -> None:
        if theme in out:
            return
        out.append(theme)
        for child in order:
            if parents.get(child) == theme:
                add(child)

    for theme in tops:
        add(theme)
    return out + [t for t in order if t not in out]


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
    dimensions: Sequence[str] = ROW_DIMENSIONS,
    parents: Mapping[str, str | None] | None = None,
    references: Mapping[str, str] | None = None,
    roll_up: bool = False,
) -> pd.DataFrame:
    """The framework matrix, long: one row per (row value, theme), zero cells included.

    Parameters
    ----------
    codings : :func:`~toolkit.analysis.codings.coding_view` (resolved codings with who said them),
        with a column for ``rows`` (case attributes added by :func:`toolkit.analysis.cases.with_case_attributes`).
    rows : ``place``, ``organisation_type``, ``participant`` (cases), ``role``, ``sector`` or a case
        attribute (one of ``dimensions``).
    values : the row values, in order (:func:`row_values`); values found only in ``codings`` follow.
    themes : theme and sub-theme ids in order (the codebook's); themes found only in ``codings`` follow.
        With ``parents``, each theme's sub-themes follow it (:func:`theme_columns`).
    theme_names : ``theme id -> name``.
    summaries : the latest researcher summary per cell (``row_dimension``, ``row_value``, ``theme``, ``text``,
        and optionally ``author`` and ``created_at``).
    total : a last row value (e.g. ``"All places"``) counting over every row; people are counted once.
    parents : ``sub-theme id -> theme id`` (None for a top-level theme).
    references : ``segment key -> citation``: each cell lists its segments' citations (``references``).
    roll_up : a theme's cells also count its sub-themes' codings (NVivo's "aggregate").

    Returns
    -------
    Columns ``<rows>``, ``theme``, ``theme_name``, ``participants`` (distinct people with a coding of
    the theme), ``interviewees`` and ``survey_respondents`` (the same, apart), ``barrier``, ``enabler``,
    ``neutral`` (segments), ``summary`` and ``segment_keys`` (the segments behind the cell), then
    ``parent``, ``references``, ``summary_author`` and ``summary_at``.

    Examples
    --------
    >>> framework_matrix(codings, rows="place", values=["Brackenford"], themes=["trust_relationships"])  # doctest: +SKIP
    """
    check_option(rows, dimensions, "A framework matrix's rows are")
    columns = [rows, s.THEME, THEME_NAME, *MATRIX_COUNTS, s.SUMMARY, SEGMENT_KEYS, PARENT, REFERENCES,
               SUMMARY_AUTHOR, SUMMARY_AT]
    names = dict(theme_names or {})
    parent_of = {k: v for k, v in (parents or {}).items() if v}
    coded = codings[codings[s.THEME].notna()] if not codings.empty else codings
    if not coded.empty and rows not in coded.columns:
        coded = coded.assign(**{rows: None})
    order = theme_columns(theme_order(coded[s.THEME].astype(str) if not coded.empty else [], list(themes)),
                          parent_of)
    found = sorted(set(row_labels(coded[rows])), key=_sort_key) if not coded.empty else []
    row_order = list(dict.fromkeys([*map(str, values), *found]))
    if total is not None:
        row_order.append(total)
    grid = pd.MultiIndex.from_product([row_order, order], names=[rows, s.THEME]).to_frame(index=False)
    if grid.empty:
        return empty(columns)
    if not coded.empty:
        people = _people(coded.assign(**{rows: row_labels(coded[rows])}))
        if roll_up and parent_of:
            lifted = [people]
            for child, parent in parent_of.items():
                mine = people[people[s.THEME] == child]
                while parent and not mine.empty:
                    lifted.append(mine.assign(**{s.THEME: parent}))
                    parent = parent_of.get(parent)
            people = pd.concat(lifted, ignore_index=True)
        parts = [people] if total is None else [people, people.assign(**{rows: total})]
        both = pd.concat(parts, ignore_index=True)
        both = both.assign(**{p: (both[s.POLARITY] == p).astype(int) for p in s.POLARITIES})
        both = both.drop_duplicates([rows, s.THEME, s.SEGMENT_KEY, s.POLARITY])
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
    lookup: dict[tuple[str, str], tuple] = {}
    if summaries is not None and not summaries.empty:
        mine = summaries[summaries[s.ROW_DIMENSION] == rows]
        if s.CREATED_AT in mine.columns:
            mine = mine.sort_values(s.CREATED_AT, kind="stable")
        authors = mine[s.AUTHOR] if s.AUTHOR in mine.columns else pd.Series(None, index=mine.index)
        when = mine[s.CREATED_AT] if s.CREATED_AT in mine.columns else pd.Series(None, index=mine.index)
        lookup = {(str(r), t): (text, a, w) for r, t, text, a, w in zip(mine[s.ROW_VALUE], mine[s.THEME],
                                                                         mine[s.TEXT], authors, when)}
    found_summaries = [lookup.get((r, t), (None, None, None)) for r, t in zip(grid[rows], grid[s.THEME])]
    grid[s.SUMMARY] = [f[0] for f in found_summaries]
    grid[SUMMARY_AUTHOR] = [f[1] for f in found_summaries]
    grid[SUMMARY_AT] = [f[2] for f in found_summaries]
    grid[THEME_NAME] = grid[s.THEME].map(names).fillna(grid[s.THEME])
    grid[PARENT] = grid[s.THEME].map(parent_of)
    cite = dict(references or {})
    grid[REFERENCES] = [[cite[k] for k in keys if k in cite] for keys in grid[SEGMENT_KEYS]]
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


MAX_CELL_REFERENCES = 6
"""At most this many references are written out in a framework cell (the rest are counted)."""


def source_location(row: Mapping, *, with_who: bool = False, words: int = 7) -> str:
    """A short citation of a segment inside a framework cell: when (if timed) and its opening words.

    A case's row already says who; ``with_who`` puts the speaker first, for rows that hold several
    people. The full citation is :func:`toolkit.analysis.references.reference` (the workbook's "Coded
    segments" sheet, the report's quotes).

    >>> source_location({"source_kind": "transcript", "start_time": 754.0, "text": "We trust them now."})
    '12:34 “We trust them now.”'
    >>> source_location({"participant_id": "BK03", "text": "So we wrote a schedule under the Charter, schedule four."},
    ...                 with_who=True, words=5)
    'BK03 “So we wrote a schedule…”'
    >>> source_location({"source_kind": "survey", "respondent_key": "FM_R001", "text": "The template."}, with_who=True)
    'FM_R001 (survey) “The template.”'
    """
    from toolkit.analysis.references import clock, is_survey

    text = " ".join(str(row.get(s.TEXT) or "").split())
    parts = text.split(" ")
    excerpt = " ".join(parts[:words]) + ("…" if len(parts) > words else "")
    quoted = f"“{excerpt}”" if excerpt else ""
    if is_survey(row):
        who = str(row.get(PARTICIPANT) or row.get(s.RESPONDENT_KEY) or "")
        where = "(survey)"
    else:
        who = str(row.get(PARTICIPANT) or row.get(s.PARTICIPANT_ID) or "")
        where = clock(row.get(s.START_TIME)) or ""
    bits = [who] if with_who and who else []
    bits += [where] if where and (with_who or where != "(survey)") else []
    return " ".join([*bits, quoted]).strip()


def framework_cell(row: Mapping, *, people: bool = False, polarity_of: Mapping[str, str] | None = None,
                   max_references: int = MAX_CELL_REFERENCES) -> str:
    r"""One cell of a framework matrix as NVivo shows it: the researcher's summary, then its references.

    ``row`` is a row of :func:`framework_matrix` (with ``references``); ``people`` adds who is behind it
    (for rows that are groups of cases); ``polarity_of`` (segment key -> polarity) marks each reference
    B (barrier), E (enabler) or N. An empty cell is ``""``.

    >>> framework_cell({"summary": "Trust rests on the weekly huddle.", "summary_author": "ana",
    ...                 "summary_at": "2026-03-01T10:00:00+00:00", "segment_keys": ["k1", "k2"],
    ...                 "references": ["12:34 “We meet every week.”", "15:02 “Then she left.”"],
    ...                 "barrier": 1, "enabler": 1, "neutral": 0}, polarity_of={"k1": "enabler", "k2": "barrier"})
    'Trust rests on the weekly huddle. [ana, 2026-03-01]\n2 references (1 barrier, 1 enabler):\n• E 12:34 “We meet every week.”\n• B 15:02 “Then she left.”'
    """
    summary = row.get(s.SUMMARY)
    summary = summary.strip() if isinstance(summary, str) and summary.strip() else ""
    if summary:
        by = [str(v) for v in (row.get(SUMMARY_AUTHOR), str(row.get(SUMMARY_AT) or "")[:10]) if v]
        summary += f" [{', '.join(by)}]" if by else ""
    keys = list(row.get(SEGMENT_KEYS) or [])
    cites = list(row.get(REFERENCES) or [])
    lines = [summary] if summary else []
    if people:
        who = people_text(int(row.get(INTERVIEWEES, 0) or 0), int(row.get(SURVEY_RESPONDENTS, 0) or 0))
        if who:
            lines.append(f"People: {who}")
    if keys:
        counts = ", ".join(f"{int(row.get(p, 0) or 0)} {p}" for p in s.POLARITIES if int(row.get(p, 0) or 0))
        marks = {s.BARRIER: "B", s.ENABLER: "E", s.NEUTRAL: "N"}
        lines.append(f"{len(keys)} reference{'' if len(keys) == 1 else 's'}" + (f" ({counts}):" if counts else ":"))
        for key, cite in list(zip(keys, cites))[:max_references]:
            mark = marks.get((polarity_of or {}).get(key, ""), "")
            lines.append(f"• {mark + ' ' if mark else ''}{cite}")
        more = len(keys) - min(len(cites), max_references)
        if more > 0:
            lines.append(f"• and {more} more (see Coded segments)")
    return "\n".join(lines)


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
        frame["_v"] = [cell_text(r) for r in records(frame)]
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
