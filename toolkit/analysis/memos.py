"""Memos: what researchers wrote about the project, a case, a theme, a matrix cell, a source or a passage.

Pure functions over the store's ``memos`` table (append-only: every memo is kept, with its author
and time). :func:`memo_view` says in words what each memo is about and cites its passage the way
every output cites it; :func:`search_memos` narrows them; :func:`memo_notes` lays them out as a
REFI-QDA notes frame (:mod:`toolkit.exchange.refi.notes`), so NVivo and QualCoder receive them.

A memo's ``target`` holds what it is about: nothing for the project, the participant for a case,
the theme id for a theme, ``["row dimension", "row value", "theme"]`` (JSON) for a cell, the
source's path for a source; a passage memo is anchored by content (``segment_key``,
``source_uid`` and ``anchor_text``, re-attached after re-segmentation like all human work).

Examples
--------
>>> cell_target("participant", "BK01", "trust_relationships")
'["participant", "BK01", "trust_relationships"]'
>>> parse_cell_target(cell_target("place", "Fernmouth", "ig_capacity_advice"))
('place', 'Fernmouth', 'ig_capacity_advice')
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import pandas as pd

from toolkit import schema as s
from toolkit.analysis._frames import empty, ensure, none, plain
from toolkit.analysis.columns import ABOUT, MEMO_COLUMNS, PARTICIPANT, REFERENCE

__all__ = ["cell_target", "memo_notes", "memo_view", "parse_cell_target", "search_memos"]

PROJECT, CASE, THEME, CELL, SOURCE, PASSAGE = s.MEMO_SCOPES


def cell_target(row_dimension: str, row_value: str, theme: str) -> str:
    """How a memo on a framework-matrix cell names its cell (JSON, so any value round-trips)."""
    return json.dumps([str(row_dimension), str(row_value), str(theme)], ensure_ascii=False)


def parse_cell_target(target) -> tuple[str, str, str] | None:
    """``(row dimension, row value, theme)`` of a cell memo's target; None when it is not one."""
    try:
        value = json.loads(target) if isinstance(target, str) else None
    except ValueError:
        return None
    if isinstance(value, list) and len(value) == 3 and all(isinstance(v, str) for v in value):
        return value[0], value[1], value[2]
    return None


def memo_view(
    memos: pd.DataFrame | None,
    segments: pd.DataFrame,
    sources: pd.DataFrame | None = None,
    *,
    theme_names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Every memo with what it is about in words (``about``), oldest first.

    Parameters
    ----------
    memos : the ``memos`` table.
    segments : evidence segments (``segment_key``, ``reference``), to cite passage memos.
    sources : the ``sources`` table (``source_uid``, ``path``), to name a source memo's source as it
        is called now (after a rename).

    Returns
    -------
    :data:`~toolkit.analysis.columns.MEMO_COLUMNS`; ``theme``, ``row_dimension``, ``row_value`` and
    ``path`` are filled for the scopes that have them; ``reference`` for passage memos (empty when the
    passage is no longer in the study: its ``anchor`` is ``orphaned``, and its text is kept).
    """
    if memos is None or memos.empty:
        return empty(MEMO_COLUMNS)
    names = dict(theme_names or {})
    cite = dict(zip(segments[s.SEGMENT_KEY], segments[REFERENCE])) if not segments.empty and REFERENCE in \
        segments.columns else {}
    paths: dict[str, str] = {}
    if sources is not None and not sources.empty and s.SOURCE_UID in sources.columns:
        paths = {plain(u): plain(p) for u, p in zip(sources[s.SOURCE_UID], sources[s.PATH]) if plain(u)}
    rows = []
    for memo in ensure(memos.copy(), MEMO_COLUMNS).to_dict("records"):
        scope, target = memo[s.SCOPE], none(memo[s.TARGET])
        extra = {s.THEME: None, s.ROW_DIMENSION: None, s.ROW_VALUE: None, s.PATH: None, REFERENCE: None}
        if scope == PROJECT:
            about = "Project"
        elif scope == CASE:
            about = f"Case {plain(target)}"
            extra[s.ROW_DIMENSION], extra[s.ROW_VALUE] = PARTICIPANT, plain(target)
        elif scope == THEME:
            extra[s.THEME] = plain(target)
            about = f"Theme: {names.get(plain(target), plain(target))}"
        elif scope == CELL:
            cell = parse_cell_target(target) or ("", "", "")
            extra[s.ROW_DIMENSION], extra[s.ROW_VALUE], extra[s.THEME] = cell
            about = f"Cell: {cell[0].replace('_', ' ')} {cell[1]} \u00d7 {names.get(cell[2], cell[2])}"
        elif scope == SOURCE:
            path = paths.get(plain(memo.get(s.SOURCE_UID)), plain(target))
            extra[s.PATH] = path
            about = f"Source: {path}"
        else:
            reference = cite.get(memo.get(s.SEGMENT_KEY))
            extra[REFERENCE] = reference
            about = f"Passage: {reference}" if reference else "Passage no longer in the study (its text is kept)"
        rows.append({**memo, **extra, ABOUT: about})
    frame = pd.DataFrame(rows)
    frame = frame.sort_values([s.CREATED_AT, s.MEMO_ID], kind="stable")
    return ensure(frame, MEMO_COLUMNS)[MEMO_COLUMNS].reset_index(drop=True)


def search_memos(
    memos: pd.DataFrame,
    text: str | None = None,
    *,
    scope: str | None = None,
    author: str | None = None,
    theme: str | None = None,
) -> pd.DataFrame:
    """Memos (:func:`memo_view`) whose title, text or subject contain ``text`` (any case), narrowed by
    scope, author and theme (a cell memo's theme counts).

    >>> frame = pd.DataFrame({"scope": ["project", "theme"], "title": ["Plan", None], "about": ["Project", "Theme: Trust"],
    ...                       "text": ["Read FM02 first.", "Trust grows in the clinic."], "author": ["ana", "bo"],
    ...                       "theme": [None, "trust_relationships"]})
    >>> search_memos(frame, "clinic")["author"].tolist(), search_memos(frame, author="ana")["title"].tolist()
    (['bo'], ['Plan'])
    """
    if memos.empty:
        return memos
    mask = pd.Series(True, index=memos.index)
    if scope:
        from toolkit.analysis._frames import check_option

        check_option(scope, s.MEMO_SCOPES, "A memo's scope is")
        mask &= memos[s.SCOPE] == scope
    if author:
        mask &= memos[s.AUTHOR].map(plain).str.casefold() == str(author).strip().casefold()
    if theme:
        mask &= memos[s.THEME] == theme
    if text and str(text).strip():
        needle = str(text).strip().casefold()
        haystack = (memos[s.TITLE].map(plain) + "\n" + memos[s.TEXT].map(plain) + "\n" + memos[ABOUT].map(plain))
        mask &= haystack.str.casefold().str.contains(needle, regex=False)
    return memos[mask].reset_index(drop=True)


def memo_notes(memos: pd.DataFrame) -> pd.DataFrame:
    """Memos (:func:`memo_view`) as a REFI-QDA notes frame (:data:`toolkit.exchange.refi.NOTE_FRAME_COLUMNS`).

    A project memo is a project note; a theme memo and a cell memo are notes on the theme's code; a
    source memo a note on its source; a passage memo a note on its passage. A case memo is a project
    note named after its case: REFI-QDA has no notes on cases, and one on the case's whole transcript
    would read as a note on the source (QualCoder keeps one such note per author).
    """
    columns = [s.TEXT, s.AUTHOR, s.CREATED_AT, "target", s.PATH, s.THEME, s.POLARITY, s.SEGMENT_KEY, s.TITLE,
               "note_id"]
    if memos is None or memos.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for memo in memos.to_dict("records"):
        scope = memo[s.SCOPE]
        title = plain(memo.get(s.TITLE))
        about = plain(memo[ABOUT])
        about = about[:1].lower() + about[1:] if about and not about[:2].isupper() else about
        label = f"Memo: {title}" if title else f"Memo on {about}"
        if title and scope != PROJECT:
            label += f" ({about})"
        row = {s.TEXT: memo[s.TEXT], s.AUTHOR: memo[s.AUTHOR], s.CREATED_AT: memo[s.CREATED_AT], s.TITLE: label,
               "note_id": f"memo:{memo[s.MEMO_ID]}", s.PATH: None, s.THEME: None, s.POLARITY: None,
               s.SEGMENT_KEY: None, "target": PROJECT}
        if scope in (THEME, CELL) and plain(memo.get(s.THEME)):
            row.update(target="code", **{s.THEME: memo[s.THEME]})
        elif scope == SOURCE and plain(memo.get(s.PATH)):
            row.update(target="source", **{s.PATH: memo[s.PATH]})
        elif scope == PASSAGE and plain(memo.get(s.SEGMENT_KEY)):
            row.update(target="selection", **{s.SEGMENT_KEY: memo[s.SEGMENT_KEY]})
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)
