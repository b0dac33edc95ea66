"""The notes a REFI-QDA project carries: one generic frame, whatever wrote them.

A notes frame has one row per note with the columns of :data:`NOTE_FRAME_COLUMNS`:

- ``text`` (required), ``author``, ``created_at`` (ISO 8601), ``title`` (optional; made up when empty),
  ``note_id`` (optional; a stable key, so the note keeps its GUID from one export to the next);
- ``target``: ``project``, ``source``, ``code`` or ``selection``, and what it points at:
  ``path`` (the study path of a source), ``theme`` and optionally ``polarity`` (a code), or
  ``segment_key`` (a passage).

:func:`notes_from_export` builds it from what an export snapshot carries today: human coding notes,
and, when the snapshot has them, reviewers' comments, framework-matrix summaries, good-practice
notes and memos (a ``memos`` frame already in this layout). Anything that writes notes later (the
framework-analysis memos) hands :func:`~toolkit.exchange.refi.write.write_qdpx` a frame like this.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame([{"text": "Read with FM02.", "author": "ana", "target": "project"}])
>>> check_notes(frame)[["target", "title"]].to_dict("records")
[{'target': 'project', 'title': 'Project note by ana'}]
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pandas as pd

from toolkit import schema as s
from toolkit.exchange.refi import common as c

if TYPE_CHECKING:  # only for type hints
    from toolkit.export.data import ExportData

__all__ = ["NOTE_FRAME_COLUMNS", "check_notes", "notes_from_export"]

log = logging.getLogger(__name__)

NOTE_ID = "note_id"
NOTE_FRAME_COLUMNS = [
    s.TEXT, s.AUTHOR, s.CREATED_AT, c.TARGET, s.PATH, s.THEME, s.POLARITY, s.SEGMENT_KEY, s.TITLE, NOTE_ID,
]
_ANCHOR = {"project": None, "source": s.PATH, "code": s.THEME, "selection": s.SEGMENT_KEY}


def notes_from_export(
    data: ExportData,
    *,
    comments: pd.DataFrame | None = None,
    summaries: pd.DataFrame | None = None,
    practices: pd.DataFrame | None = None,
    memos: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every note an export snapshot carries, as a notes frame (see the module's notes).

    ``comments``, ``summaries`` and ``practices`` are the store's tables of the same names (the latest
    rows); ``memos`` is a notes frame. Each defaults to the snapshot's attribute of that name, if any.
    """
    rows: list[dict] = []
    human = data.human_codings
    if human is not None and not human.empty and s.NOTE in human.columns:
        for row in human.itertuples(index=False):
            note = getattr(row, s.NOTE, None)
            if c.missing(note) or not str(note).strip():
                continue
            coder = c.name_or_none(getattr(row, s.CODER, None)) or s.MACHINE_CODER
            ident = getattr(row, s.CODING_ID, None)
            created = getattr(row, s.CREATED_AT, None)
            rows.append({
                s.TEXT: str(note), s.AUTHOR: coder, s.CREATED_AT: created, c.TARGET: "selection",
                s.SEGMENT_KEY: row.segment_key, s.TITLE: f"Note by {coder} on segment {row.segment_key}",
                NOTE_ID: ident if not c.missing(ident) else f"{row.segment_key}|{coder}|{created or ''}",
            })
    rows.extend(_comment_rows(comments if comments is not None else getattr(data, "comments", None)))
    rows.extend(_summary_rows(summaries if summaries is not None else getattr(data, "summaries", None)))
    rows.extend(_practice_rows(practices if practices is not None else getattr(data, "practices", None)))
    memos = memos if memos is not None else getattr(data, "memos", None)
    if isinstance(memos, pd.DataFrame) and not memos.empty:
        rows.extend(memos.to_dict("records"))
    return pd.DataFrame(rows, columns=NOTE_FRAME_COLUMNS)


def check_notes(notes: pd.DataFrame | None) -> pd.DataFrame:
    """A notes frame made whole: every column present, titles made up, rows without text or target dropped.

    Rows that cannot be written (no text, an unknown target, no anchor for their target) are
    counted in one warning, never silently lost.
    """
    if notes is None or notes.empty:
        return pd.DataFrame(columns=NOTE_FRAME_COLUMNS)
    frame = notes.copy()
    for column in NOTE_FRAME_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    frame = frame[NOTE_FRAME_COLUMNS].astype(object).where(frame[NOTE_FRAME_COLUMNS].notna(), None)
    keep, dropped = [], 0
    for row in frame.to_dict("records"):
        target = row[c.TARGET]
        text = row[s.TEXT]
        anchor = _ANCHOR.get(target, "?")
        if target not in c.NOTE_TARGETS or c.missing(text) or not str(text).strip() or (
            anchor is not None and c.name_or_none(row.get(anchor)) is None
        ):
            dropped += 1
            continue
        row[s.AUTHOR] = c.name_or_none(row[s.AUTHOR]) or s.MACHINE_CODER
        if not c.name_or_none(row[s.TITLE]):
            what = {"project": "Project", "source": "Source", "code": "Code", "selection": "Passage"}[target]
            where = f" on {row[anchor]}" if anchor else ""
            row[s.TITLE] = f"{what} note by {row[s.AUTHOR]}{where}"
        keep.append(row)
    if dropped:
        log.warning("%d note(s) left out: no text, an unknown target, or nothing to attach them to", dropped)
    return pd.DataFrame(keep, columns=NOTE_FRAME_COLUMNS)


def _comment_rows(comments: Any) -> list[dict]:
    if not isinstance(comments, pd.DataFrame) or comments.empty:
        return []
    rows = []
    for row in comments.to_dict("records"):
        author = c.name_or_none(row.get(s.AUTHOR)) or "reviewer"
        role = c.name_or_none(row.get(s.AUTHOR_ROLE))
        base = {s.TEXT: row.get(s.TEXT), s.AUTHOR: author, s.CREATED_AT: row.get(s.CREATED_AT),
                NOTE_ID: f"comment:{row.get(s.COMMENT_ID)}"}
        by = f"{author}" + (f" ({role})" if role else "")
        if c.name_or_none(row.get(s.SEGMENT_KEY)):
            rows.append({**base, c.TARGET: "selection", s.SEGMENT_KEY: row[s.SEGMENT_KEY],
                         s.TITLE: f"Comment by {by} on segment {row[s.SEGMENT_KEY]}"})
        elif c.name_or_none(row.get(s.THEME)):
            rows.append({**base, c.TARGET: "code", s.THEME: row[s.THEME], s.TITLE: f"Comment by {by} on {row[s.THEME]}"})
        else:
            topic = row.get(s.TOPIC)
            what = f"topic {int(topic)}" if not c.missing(topic) else "the project"
            rows.append({**base, c.TARGET: "project", s.TITLE: f"Comment by {by} on {what}"})
    return rows


def _summary_rows(summaries: Any) -> list[dict]:
    if not isinstance(summaries, pd.DataFrame) or summaries.empty:
        return []
    rows = []
    for row in summaries.to_dict("records"):
        dim, value, theme = row.get(s.ROW_DIMENSION), row.get(s.ROW_VALUE), row.get(s.THEME)
        rows.append({
            s.TEXT: row.get(s.TEXT), s.AUTHOR: row.get(s.AUTHOR), s.CREATED_AT: row.get(s.CREATED_AT),
            c.TARGET: "code", s.THEME: theme, s.TITLE: f"Summary of {theme} for {dim} {value}",
            NOTE_ID: f"summary:{dim}:{value}:{theme}",
        })
    return rows


def _practice_rows(practices: Any) -> list[dict]:
    if not isinstance(practices, pd.DataFrame) or practices.empty or s.NOTE not in practices.columns:
        return []
    rows = []
    for row in practices.to_dict("records"):
        if not c.truthy(row.get(s.INCLUDED, True)) or not c.name_or_none(row.get(s.NOTE)):
            continue
        title = c.name_or_none(row.get(s.TITLE)) or "good practice"
        rows.append({
            s.TEXT: row[s.NOTE], s.AUTHOR: row.get(s.AUTHOR), s.CREATED_AT: row.get(s.CREATED_AT),
            c.TARGET: "selection", s.SEGMENT_KEY: row.get(s.SEGMENT_KEY),
            s.TITLE: f"Practice: {title}", NOTE_ID: f"practice:{row.get(s.SEGMENT_KEY)}",
        })
    return rows
