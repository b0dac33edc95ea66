"""Find a REFI-QDA project's coded passages among the study's segments (today's ``import-qdpx`` matching).

A project source is the study source with the same text, else the one whose path the project
keeps (the ``source_path`` variable, or a name equal to the path), else the only study file with
the same file name. A passage is the segment with the same offsets, else a segment with the same
text in that source (the nearest), else the segment it overlaps most (at least half of the passage).

Examples
--------
>>> frame = codings_from_project(read_qdpx("exports/study.qdpx"), segments)  # doctest: +SKIP
>>> frame[["segment_key", "theme", "polarity"]].head(1)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import PurePosixPath

import pandas as pd

from toolkit import schema as s
from toolkit.exchange.refi import common as c
from toolkit.exchange.refi.read import ImportedProject

__all__ = ["MATCH_COLUMNS", "codings_from_project"]

log = logging.getLogger(__name__)

MIN_OVERLAP = 0.5
"""A passage that is not exactly a segment maps to the segment it overlaps most, if that covers at
least this share of the passage."""

MATCH_COLUMNS = [
    s.SEGMENT_KEY, s.THEME, s.POLARITY, s.GOOD_PRACTICE, s.CODER, s.NOTE, c.CODE_COLUMN, c.PARENT_CODE,
    c.SOURCE_GUID, c.SOURCE, s.PATH, c.START, c.END, c.PASSAGE, c.MATCH,
]

_Span = tuple[int, int, str, str]  # start, end, segment key, segment text


def codings_from_project(project: ImportedProject, segments: pd.DataFrame) -> pd.DataFrame:
    """Match a project's coded passages to the study's segments, ready for the write model.

    Parameters
    ----------
    project : from :func:`~toolkit.exchange.refi.read.read_qdpx`.
    segments : the study's segments with ``segment_key``, ``path``, ``start_char``, ``end_char``,
        ``text`` and, for survey segments, ``respondent_key``, ``question_text`` (offsets into the
        answer); optionally ``source_text`` (the transcript's plain text) to match sources by text.

    Returns one row per passage and code: ``segment_key`` (None when no segment matched),
    ``theme`` and ``polarity`` (from our ``<theme> - <polarity>`` codes or a polarity code under a
    theme; None for other codes), ``good_practice`` (the same passage also has the ``Good practice``
    code, in the same selection or another one), ``coder``, ``note``, ``code``, ``parent_code``,
    ``source_guid``, ``source``, ``path``, ``start``, ``end``, ``passage`` and ``match``
    (exact/text/overlap/None). The ``Good practice`` code becomes the flag on the passage's theme rows,
    and a row of its own only when the passage has no theme code.
    """
    codings = project.codings
    if codings.empty:
        return pd.DataFrame(columns=MATCH_COLUMNS)
    spans = _segment_spans(project, segments)
    rows = []
    for (source_guid, start, end), group in codings.groupby([c.SOURCE_GUID, c.START, c.END], sort=False):
        first = group.iloc[0]
        key, how = _match(spans.get(source_guid, ()), int(start), int(end), first[c.PASSAGE])
        flagged = group[c.CODE_COLUMN].map(c.is_good_practice)
        has_theme = group[s.THEME].notna().any()
        for row, is_gp in zip(group.to_dict("records"), flagged, strict=True):
            if is_gp and has_theme:
                continue
            rows.append({
                s.SEGMENT_KEY: key,
                s.THEME: row[s.THEME],
                s.POLARITY: row[s.POLARITY],
                s.GOOD_PRACTICE: bool(flagged.any()),
                s.CODER: row[s.CODER] or None,
                s.NOTE: row[s.NOTE],
                c.CODE_COLUMN: row[c.CODE_COLUMN],
                c.PARENT_CODE: row[c.PARENT_CODE],
                c.SOURCE_GUID: source_guid,
                c.SOURCE: row[c.SOURCE],
                s.PATH: row[s.PATH],
                c.START: int(start),
                c.END: int(end),
                c.PASSAGE: row[c.PASSAGE],
                c.MATCH: how,
            })
    frame = pd.DataFrame(rows, columns=MATCH_COLUMNS)
    matched = frame[s.SEGMENT_KEY].notna().sum()
    log.info("%s: %d of %d coding(s) matched a segment", project.path.name, matched, len(frame))
    return frame


def _segment_spans(project: ImportedProject, segments: pd.DataFrame) -> dict[str, list[_Span]]:
    """Where each study segment lies in each matched project source: source guid -> [(start, end, key, text)]."""
    if segments is None or segments.empty:
        return {}
    by_path = {p: g for p, g in segments.groupby(s.PATH)}
    file_names: dict[str, list[str]] = {}
    for p in by_path:
        file_names.setdefault(PurePosixPath(str(p).replace("\\", "/")).name.lower(), []).append(p)
    texts = {}
    if "source_text" in segments.columns:
        for p, g in by_path.items():
            value = g["source_text"].dropna()
            if not value.empty:
                texts.setdefault(value.iloc[0], p)
    spans: dict[str, list[_Span]] = {}
    for source in project.sources.to_dict("records"):
        text = source[s.TEXT]
        path = texts.get(text) if text is not None else None
        for name in (source[s.PATH], source[c.NAME]):
            if path is None and name in by_path:
                path = name
        if path is None:
            candidates = file_names.get(PurePosixPath(str(source[s.PATH]).replace("\\", "/")).name.lower(), [])
            path = candidates[0] if len(candidates) == 1 else None
        if path is None:
            continue
        found: list[_Span] = []
        for seg in by_path[path].itertuples(index=False):
            respondent = getattr(seg, s.RESPONDENT_KEY, None)
            seg_text = str(seg.text) if not c.missing(seg.text) else ""
            if c.missing(respondent):
                found.append((int(seg.start_char), int(seg.end_char), seg.segment_key, seg_text))
                continue
            if text is None:
                continue
            prefix = c.one_line(c.SURVEY_PREFIX.format(respondent=respondent, question=getattr(seg, s.QUESTION_TEXT, "")))
            if text.startswith(prefix):
                begin = len(prefix)
            else:
                at = text.find(c.PARAGRAPH_BREAK + prefix)
                if at < 0:
                    continue
                begin = at + len(c.PARAGRAPH_BREAK) + len(prefix)
            found.append((begin + int(seg.start_char), begin + int(seg.end_char), seg.segment_key, c.one_line(seg_text)))
        spans[source[c.GUID]] = found
    return spans


def _match(spans: Iterable[_Span], start: int, end: int, passage) -> tuple[str | None, str | None]:
    spans = list(spans)
    for s_start, s_end, key, _ in spans:
        if s_start == start and s_end == end:
            return key, "exact"
    if isinstance(passage, str) and passage.strip():
        same = [(abs(s_start - start), key) for s_start, _, key, text in spans if text == passage]
        if same:
            return min(same)[1], "text"
    best, best_overlap = None, 0
    for s_start, s_end, key, _ in spans:
        overlap = min(end, s_end) - max(start, s_start)
        if overlap > best_overlap:
            best, best_overlap = key, overlap
    if best is not None and best_overlap >= MIN_OVERLAP * max(end - start, 1):
        return best, "overlap"
    return None, None
