"""The write model: every piece of human work enters the store through here, validated once.

Decisions on segments, imported codings (CSV and REFI-QDA both end in
:func:`import_codings`), matrix summaries, good-practice curation, comments and topic
edits are checked here, the same way whichever door they come through (the dashboard,
the command line, a notebook): the theme against the codebook (a misspelt theme is
refused with the closest match), the polarity, the segment, the author. Free text a
person writes (notes, summaries, comments) is pseudonymised before it is stored. Work on
a segment is anchored by content (the segment's text and its source's uid; see
:mod:`toolkit.review.anchors`), so re-running the pipeline on edited, renamed or
re-pseudonymised sources never loses it.

Everything here appends (human work is never updated in place, so several reviewers
never overwrite each other; the latest decision wins) and is all-or-nothing: a batch
with one bad row writes nothing.

Examples
--------
>>> from toolkit.review import ReviewContext, record_decisions
>>> context = ReviewContext(store=store, codebook=codebook)  # doctest: +SKIP
>>> record_decisions(context, ["k1", "k2"], decision="accept", coder="ana")  # doctest: +SKIP
2
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from toolkit import schema as s
from toolkit.review.validate import (
    check_author,
    check_decision,
    check_polarity,
    check_role,
    check_themes,
    require_text,
)

log = logging.getLogger(__name__)

REVIEW_CONTEXT = "review"
"""``human_codings.context`` of a decision made while reviewing (the default)."""

__all__ = [
    "ImportReport",
    "ReviewContext",
    "add_comment",
    "add_practice",
    "add_summary",
    "add_topic_edit",
    "import_codings",
    "record_decisions",
    "rename_topic",
]


@dataclass(frozen=True)
class ReviewContext:
    """What the write model needs: the store, the codebook, and how to pseudonymise free text.

    ``redact`` turns a researcher's text into its pseudonymised form (built from the study's
    key by :meth:`toolkit.api.Study.review_context`); ``None`` stores text as written, which
    only a study with pseudonymisation switched off should do.
    """

    store: Any
    codebook: Any
    redact: Callable[[str], str] | None = None
    where: str = "project store"

    def clean(self, text: Any) -> str | None:
        """Free text as it will be stored: stripped, pseudonymised, or None when empty."""
        if text is None or (isinstance(text, float) and pd.isna(text)):
            return None
        text = str(text).strip()
        if not text:
            return None
        return self.redact(text) if self.redact is not None else text


@dataclass
class ImportReport:
    """What an import stored and what it could not place (never silently dropped)."""

    stored: int = 0
    passages: int = 0
    unmatched: list[str] = field(default_factory=list)
    """Rows (as ``row N: first words``) whose passage is in no segment of the study."""
    not_in_codebook: dict[str, int] = field(default_factory=dict)
    """Codes of a foreign project that are not themes of this codebook, with their counts (not stored)."""

    def summary(self) -> str:
        parts = [f"stored {self.stored} coding(s) from {self.passages} passage(s)"]
        if self.unmatched:
            parts.append(f"{len(self.unmatched)} passage(s) matched no segment of the study and were not stored")
        if self.not_in_codebook:
            codes = ", ".join(f"{c} ({n})" for c, n in list(self.not_in_codebook.items())[:8])
            parts.append(f"codes not in the codebook, not stored: {codes}")
        return "; ".join(parts) + "."


# --------------------------------------------------------------------------- decisions
def record_decisions(
    context: ReviewContext,
    segment_keys: Iterable[str],
    *,
    decision: str,
    coder: str,
    theme: str | None = None,
    polarity: str | None = None,
    note: str | None = None,
    good_practice: bool | None = None,
    made_in: str = REVIEW_CONTEXT,
    blind: bool = False,
) -> int:
    """Record the same decision on several segments at once (one transaction; all or nothing).

    ``accept`` keeps the machine's coding (its theme and polarity are recorded with the
    decision); ``reject`` takes it away; ``recode`` replaces it; ``add`` adds a theme.
    ``made_in`` says where the coding was made (``review``, ``qa:<sample>``, ``double:<batch>``,
    ``resolution:<batch>``; stored in ``human_codings.context``) and ``blind`` that the coder
    had not seen the machine's coding (quality-assurance and double coding).

    Examples
    --------
    >>> record_decisions(context, ["k1"], decision="recode", coder="ana", theme="trust_relationships",
    ...                  polarity="barrier")  # doctest: +SKIP
    1
    """
    where = context.where
    keys = list(dict.fromkeys(segment_keys))
    check_decision(where, decision)
    coder = check_author(where, coder, what="a decision")
    if theme is not None:
        check_themes(context.codebook, [theme], where=where)
    if polarity is not None:
        check_polarity(where, polarity)
    if decision in ("recode", "add") and theme is None:
        raise _input(where, f"'{decision}' needs a theme.", "Choose one, e.g. theme='trust_relationships'.")
    if decision in ("recode", "add") and polarity is None and _polarity_required(context.codebook):
        raise _input(where, f"'{decision}' needs a polarity.", "Choose barrier, enabler or neutral.")
    if not keys:
        return 0
    segments = _segments(context, keys)
    missing = [k for k in keys if k not in segments.index]
    if missing:
        raise _input(
            where, f"{len(missing)} unknown segment key(s): {', '.join(missing[:5])}.",
            "Copy keys from study.segments() or the dashboard.",
        )
    machine = _machine_primary(context.store, keys) if decision == "accept" else {}
    rows = []
    for key in keys:
        row_theme, row_polarity = theme, polarity
        if decision == "accept":
            coded = machine.get(key)
            if theme is None and coded is None:
                raise _input(where, f"segment {key} has no machine coding to accept.",
                             "Use 'add' with a theme and polarity instead.")
            row_theme = theme or coded[0]
            row_polarity = polarity or coded[1]
        rows.append(
            {s.SEGMENT_KEY: key, s.CODER: coder, s.DECISION: decision, s.THEME: row_theme, s.POLARITY: row_polarity,
             s.GOOD_PRACTICE: None if good_practice is None else bool(good_practice), s.NOTE: context.clean(note),
             s.TEXT: segments.at[key, s.TEXT], s.SOURCE_UID: segments.at[key, s.SOURCE_UID],
             s.ANCHOR: "attached", s.CONTEXT: made_in, s.BLIND: bool(blind)}
        )
    n = context.store.add_human_codings(pd.DataFrame(rows))
    log.info("recorded %d '%s' decision(s)", n, decision)
    return n


# --------------------------------------------------------------------------- imports
def import_codings(context: ReviewContext, frame: pd.DataFrame, *, coder: str | None, origin: str,
                   require_polarity: bool = True) -> ImportReport:
    """Store a person's codings made elsewhere (a CSV, a REFI-QDA project), validated like any decision.

    Parameters
    ----------
    frame : one row per coded passage, already placed by the importer: ``segment_keys``
        (a list: every segment the passage covers; empty when it matched none), ``theme``,
        ``polarity``, and optionally ``coder``, ``decision`` (default ``add``; a row
        without a theme is a ``reject``), ``note``, ``good_practice``, ``row`` (where it was
        in the file, for messages) and ``excerpt`` (its first words, for messages).
    coder : the coder's name for every row (else each row's ``coder``).
    origin : the file it came from (named in every message).
    require_polarity : refuse themed rows without a polarity (a CSV whose polarity cell was left
        empty); a REFI-QDA project coded without polarities passes ``False``.

    A theme that is not in the codebook (a misspelling, or another project's code) stops the
    whole import with the closest theme named; nothing is written. Several codes on one
    passage and passages longer than one sentence are kept whole: each covered segment
    gets the coding.
    """
    where = origin
    if frame.empty:
        return ImportReport()
    themes = frame[s.THEME].map(_blank_to_none)
    polarities = frame[s.POLARITY].map(_blank_to_none) if s.POLARITY in frame else pd.Series(None, index=frame.index)
    polarities = polarities.where(themes.notna(), None)  # no polarity without a theme
    check_themes(context.codebook, themes.dropna().unique().tolist(), where=where, rows=frame.get("row"))
    for value in polarities.dropna().unique():
        check_polarity(where, value)
    if require_polarity and _polarity_required(context.codebook):
        lacking = frame[themes.notna() & polarities.isna()]
        if not lacking.empty:
            raise _input(where, f"{len(lacking)} row(s) give a theme without a polarity "
                                f"(first: {_row_label(lacking.iloc[0])}).", "Fill in barrier, enabler or neutral.")
    coders = frame["coder"] if "coder" in frame else pd.Series(None, index=frame.index)
    names = coders.map(_blank_to_none).fillna(coder) if coder is None else pd.Series(coder, index=frame.index)
    if names.isna().any():
        raise _input(where, "some rows name no coder.", "Pass --coder NAME (or fill in a 'coder' column).")
    decisions = frame["decision"].map(_blank_to_none) if "decision" in frame else pd.Series(None, index=frame.index)
    decisions = decisions.where(decisions.notna(), themes.map(lambda t: "add" if t is not None else "reject"))
    for value in decisions.unique():
        check_decision(where, value)
    report = ImportReport(passages=len(frame))
    keys_per_row = frame["segment_keys"].map(lambda k: list(k) if isinstance(k, (list, tuple)) else [])
    all_keys = sorted({k for keys in keys_per_row for k in keys})
    segments = _segments(context, all_keys)
    rows = []
    for i, keys in keys_per_row.items():
        keys = [k for k in keys if k in segments.index]
        if not keys:
            report.unmatched.append(_row_label(frame.loc[i]))
            continue
        flag = frame.at[i, s.GOOD_PRACTICE] if s.GOOD_PRACTICE in frame else None
        for key in keys:
            rows.append(
                {s.SEGMENT_KEY: key, s.CODER: check_author(where, names[i], what="a coding"),
                 s.DECISION: decisions[i], s.THEME: themes[i], s.POLARITY: polarities[i],
                 s.GOOD_PRACTICE: _truthy(flag), s.NOTE: context.clean(frame.at[i, s.NOTE] if s.NOTE in frame else None),
                 s.TEXT: segments.at[key, s.TEXT], s.SOURCE_UID: segments.at[key, s.SOURCE_UID],
                 s.ANCHOR: "attached"}
            )
    if rows:
        report.stored = context.store.add_human_codings(pd.DataFrame(rows))
    log.info("imported %d coding(s) from %d passage(s); %d unmatched", report.stored, report.passages,
             len(report.unmatched))
    return report


# --------------------------------------------------------------------------- summaries, practices, comments, topics
def add_summary(context: ReviewContext, *, row_dimension: str, row_value: str, theme: str, text: str,
                author: str, dimensions: Iterable[str]) -> int:
    """Save a researcher's summary of one framework-matrix cell (the latest one is shown)."""
    where = context.where
    if row_dimension not in tuple(dimensions):
        raise _input(where, f"a summary's row_dimension is one of {', '.join(dimensions)}, not '{row_dimension}'.",
                     "Pick one of those.")
    check_themes(context.codebook, [theme], where=where)
    author = check_author(where, author, what="a summary")
    body = require_text(where, context.clean(text), what="A summary")
    return context.store.add_summary(row_dimension, str(row_value), theme, body, author=author)


def add_practice(context: ReviewContext, segment_key: str, *, included: bool, author: str,
                 theme: str | None = None, title: str | None = None, note: str | None = None) -> int:
    """Add a quote to (or take it out of) the good-practice library (append-only: the latest wins)."""
    where = context.where
    author = check_author(where, author, what="a good-practice decision")
    if theme is not None:
        check_themes(context.codebook, [theme], where=where)
    segment = _one_segment(context, segment_key)
    return context.store.add_practice(
        segment_key, included=included, author=author, theme=theme, title=context.clean(title),
        note=context.clean(note), source_uid=segment[s.SOURCE_UID], anchor_text=segment[s.TEXT],
    )


def add_comment(context: ReviewContext, text: str, *, author: str, author_role: str,
                segment_key: str | None = None, theme: str | None = None, topic: int | None = None) -> int:
    """Save a comment (reviewers and researchers both comment) on a segment, a theme or a topic."""
    where = context.where
    author = check_author(where, author, what="a comment")
    check_role(where, author_role)
    body = require_text(where, context.clean(text), what="A comment")
    if theme is not None:
        check_themes(context.codebook, [theme], where=where)
    anchor: dict[str, Any] = {}
    if segment_key is not None:
        segment = _one_segment(context, segment_key)
        anchor = {"source_uid": segment[s.SOURCE_UID], "anchor_text": segment[s.TEXT]}
    return context.store.add_comment(body, author=author, author_role=author_role, segment_key=segment_key,
                                     theme=theme, topic=topic, **anchor)


def add_topic_edit(context: ReviewContext, action: str, members: list[list[str]], *, author: str,
                   label: str | None = None, parts: int | None = None, note: str | None = None) -> int:
    """Record a researcher's edit of topics (rename, merge, split), replayed on every topic run."""
    where = context.where
    author = check_author(where, author, what="a topic edit")
    if action not in s.TOPIC_ACTIONS:
        raise _input(where, f"unknown topic edit '{action}'.", f"Use one of: {', '.join(s.TOPIC_ACTIONS)}.")
    if not members or not all(members):
        raise _input(where, "a topic edit must name at least one topic with segments in it.", "Pick a topic.")
    if action == "rename" and not (label or "").strip():
        raise _input(where, "a topic's new name cannot be empty.", "Give it a name.")
    return context.store.add_topic_edit(action, members, author=author, label=context.clean(label), parts=parts,
                                        note=context.clean(note))


def rename_topic(context: ReviewContext, topic: int, members: list[str], *, name: str, author: str) -> int:
    """Give a topic a researcher's name: recorded as an edit (replayed on every re-fit) and shown at once."""
    edit = add_topic_edit(context, "rename", [members], author=author, label=name)
    context.store.set_topic_label(int(topic), context.clean(name))
    return edit


# --------------------------------------------------------------------------- helpers
def _segments(context: ReviewContext, keys: list[str]) -> pd.DataFrame:
    """The segments with these keys: text and source uid, indexed by key."""
    frame = context.store.segments_by_key(keys)
    return frame.set_index(s.SEGMENT_KEY)


def _one_segment(context: ReviewContext, key: str) -> pd.Series:
    frame = _segments(context, [key])
    if key not in frame.index:
        raise _input(context.where, f"no segment with key '{key}'.", "Copy the key from study.segments().")
    return frame.loc[key]


def _machine_primary(store, keys: list[str]) -> dict[str, tuple[str, str | None]]:
    codings = store.machine_codings_of(keys)
    codings = codings[codings[s.THEME].notna()].sort_values([s.SEGMENT_KEY, s.RANK])
    first = codings.drop_duplicates(s.SEGMENT_KEY)
    return {k: (t, None if pd.isna(p) else p) for k, t, p in zip(first[s.SEGMENT_KEY], first[s.THEME],
                                                                  first[s.POLARITY])}


def _polarity_required(codebook) -> bool:
    return bool(getattr(codebook, "uses_polarity", True))


def _blank_to_none(value: Any) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    return None if text == "" or text.casefold() == "none" else text


def _truthy(value: Any) -> bool | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().casefold() in ("1", "true", "yes", "y")


def _row_label(row: pd.Series) -> str:
    where = f"row {row['row']}" if "row" in row and not pd.isna(row["row"]) else "a row"
    excerpt = row.get("excerpt")
    return f"{where}: {str(excerpt)[:40]!r}" if isinstance(excerpt, str) and excerpt else where


def _input(where: str, problem: str, fix: str):
    from toolkit.errors import InputDataError

    return InputDataError(where, problem, fix)
