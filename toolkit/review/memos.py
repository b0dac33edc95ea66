"""Writing memos: project, case, theme, cell, source and passage memos, validated once (the write model).

A memo has a scope (:data:`toolkit.schema.MEMO_SCOPES`), an author, a time, an optional title and
its text; both are pseudonymised with the study's key before they are stored. What it is about is
checked here: a case must be a participant of the study, a theme a codebook theme, a cell a row
dimension with a value and a theme, a source a stored source, a passage a segment (anchored by its
text and source, so it follows the passage when the study is segmented again). Memos are appended,
never edited: a revision is a new memo.

Examples
--------
>>> add_memo(context, scope="cell", row_dimension="participant", row_value="BK01",
...          theme="trust_relationships", text="Trust rests on one person.", author="ana")  # doctest: +SKIP
12
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from toolkit import schema as s
from toolkit.analysis.columns import PARTICIPANT, ROW_DIMENSIONS
from toolkit.analysis.memos import cell_target
from toolkit.errors import InputDataError
from toolkit.review.validate import check_author, check_themes, require_text

log = logging.getLogger(__name__)

__all__ = ["add_memo"]


def add_memo(
    context,
    *,
    scope: str,
    text: str,
    author: str,
    title: str | None = None,
    theme: str | None = None,
    participant: str | None = None,
    row_dimension: str | None = None,
    row_value: str | None = None,
    path: str | None = None,
    segment_key: str | None = None,
    dimensions: Sequence[str] = ROW_DIMENSIONS,
) -> int:
    """Save a memo; returns its id.

    Parameters
    ----------
    context : the write model's :class:`~toolkit.review.ReviewContext`.
    scope : ``project``, ``case`` (give ``participant``), ``theme`` (``theme``), ``cell``
        (``row_dimension``, ``row_value`` and ``theme``), ``source`` (``path``: the source's path as the
        study shows it) or ``passage`` (``segment_key``).
    text, title : the memo (pseudonymised before it is stored).
    dimensions : the row dimensions a cell may have (the study's own case attributes included).

    Raises
    ------
    InputDataError
        Unknown scope, theme (with the closest match), participant, source or segment; a missing
        target; no author or no text. Nothing is stored.
    """
    where = context.where
    if scope not in s.MEMO_SCOPES:
        raise InputDataError(where, f"unknown memo scope '{scope}'.", f"Use one of: {', '.join(s.MEMO_SCOPES)}.")
    author = check_author(where, author, what="a memo")
    body = require_text(where, context.clean(text), what="A memo")
    row = {s.SCOPE: scope, s.TEXT: body, s.AUTHOR: author, s.TITLE: context.clean(title), s.TARGET: None,
           s.SEGMENT_KEY: None, s.SOURCE_UID: None, s.ANCHOR_TEXT: None, s.ANCHOR: None}
    if scope == "case":
        row[s.TARGET] = _participant(context, participant if participant is not None else row_value)
    elif scope == "theme":
        row[s.TARGET] = _theme(context, theme)
    elif scope == "cell":
        if row_dimension not in tuple(dimensions):
            raise InputDataError(where, f"a cell memo's row_dimension is one of {', '.join(dimensions)}, not "
                                        f"'{row_dimension}'.", "Pick one of those.")
        value = "" if row_value is None else str(row_value).strip()
        if not value:
            raise InputDataError(where, "a cell memo needs the row's value (row_value).", "e.g. row_value='BK01'.")
        if row_dimension == PARTICIPANT:
            value = _participant(context, value)
        row[s.TARGET] = cell_target(row_dimension, value, _theme(context, theme))
    elif scope == "source":
        row[s.TARGET], row[s.SOURCE_UID] = _source(context, path)
    elif scope == "passage":
        if not segment_key:
            raise InputDataError(where, "a passage memo needs the passage's segment_key.",
                                 "Copy it from study.segments() or the dashboard.")
        found = context.store.segments_by_key([segment_key])
        if found.empty:
            raise InputDataError(where, f"no segment with key '{segment_key}'.", "Copy the key from study.segments().")
        segment = found.iloc[0]
        row.update({s.SEGMENT_KEY: segment_key, s.SOURCE_UID: segment[s.SOURCE_UID],
                    s.ANCHOR_TEXT: segment[s.TEXT], s.ANCHOR: "attached"})
    ident = context.store.add_memo(row)
    log.info("saved a %s memo (%d)", scope, ident)
    return ident


def _theme(context, theme: str | None) -> str:
    if not theme:
        raise InputDataError(context.where, "this memo needs a theme.", "Pass theme='<theme id>'.")
    check_themes(context.codebook, [theme], where=context.where)
    return theme


def _participant(context, participant: str | None) -> str:
    """A case of the study: an interview's participant id (or file, when it has none) or a survey respondent."""
    who = "" if participant is None else str(participant).strip()
    if not who:
        raise InputDataError(context.where, "a case memo needs the participant.", "Pass participant='BK01'.")
    sources = context.store.sources_frame()
    known = set(sources[s.PARTICIPANT_ID].dropna().astype(str)) if not sources.empty else set()
    if not sources.empty:
        unnamed = sources[(sources[s.KIND] == "transcript") & sources[s.PARTICIPANT_ID].isna()]
        known |= set(unnamed[s.PATH].astype(str))
    if who not in known:
        respondents = context.store.table(s.RESPONDENTS)
        known |= set(respondents[s.RESPONDENT_KEY].dropna().astype(str)) if not respondents.empty else set()
    if who not in known:
        shown = ", ".join(sorted(k for k in known if "/" not in k)[:12])
        raise InputDataError(context.where, f"no case '{who}' in the study.",
                             f"Use a participant id or survey respondent key, e.g. {shown or 'BK01'}.")
    return who


def _source(context, path: str | None) -> tuple[str, str | None]:
    wanted = "" if path is None else str(path).strip().replace("\\", "/")
    sources = context.store.sources_frame()
    hit = sources[sources[s.PATH] == wanted] if not sources.empty else sources
    if not wanted or hit.empty:
        shown = ", ".join(sources[s.PATH].astype(str).head(5)) if not sources.empty else "none yet"
        raise InputDataError(context.where, f"no source '{wanted}' in the study.",
                             f"Give the source's path as the study shows it (e.g. {shown}).")
    return wanted, hit.iloc[0][s.SOURCE_UID]
