"""Placing coded passages made elsewhere onto the study's segments (pure: frames in, frames out).

A passage comes from a CSV of codings or a REFI-QDA project: its text, perhaps the file it
is from and a segment key. It may be a phrase inside a sentence or several paragraphs;
:func:`place_passages` finds every segment it covers:

1. a known ``segment_key``: that segment;
2. the passage's text in its source's text (the file named, else any source), compared
   whitespace- and case-insensitively, after the same pseudonymisation the source had:
   every segment the passage covers at least half of (or the one segment it lies inside);
3. the passage's text equal to a segment's text anywhere in the study.

What matches nothing is reported by the caller, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from toolkit import schema as s
from toolkit.segment import normalise_text

PASSAGE_KEYS = "segment_keys"
MIN_COVER = 0.5
"""A segment belongs to a passage when the passage covers at least this share of it."""


def place_passages(
    passages: pd.DataFrame,
    segments: pd.DataFrame,
    sources: pd.DataFrame,
    *,
    redact: Callable[[str], str] | None = None,
    source_of: Callable[[str], int | None] | None = None,
) -> pd.Series:
    """The segment keys each passage covers (a list per row; empty when it matched nothing).

    Parameters
    ----------
    passages : ``text`` and optionally ``segment_key`` and ``file``.
    segments : the study's segments: ``segment_key``, ``source_id``, ``text_answer_id``,
        ``start_char``, ``end_char``, ``text``, ``path``.
    sources : ``source_id``, ``path``, ``text`` (a transcript's pseudonymised text; empty for surveys).
    redact : pseudonymises a passage the way its source was (names become the same tags).
    source_of : finds the ``source_id`` of a raw file path (e.g. by its keyed path hash).

    Examples
    --------
    >>> segs = pd.DataFrame({"segment_key": ["a", "b"], "source_id": [1, 1], "text_answer_id": [None, None],
    ...     "start_char": [0, 20], "end_char": [19, 45], "text": ["The charter helped.", "The systems don't talk."],
    ...     "path": ["P/x.txt"] * 2})
    >>> srcs = pd.DataFrame({"source_id": [1], "path": ["P/x.txt"], "text": ["The charter helped. The systems don't talk."]})
    >>> place_passages(pd.DataFrame({"text": ["charter helped. The systems don't"]}), segs, srcs).tolist()
    [['a', 'b']]
    """
    known = set(segments[s.SEGMENT_KEY]) if not segments.empty else set()
    by_source = {sid: group for sid, group in segments.groupby(s.SOURCE_ID)} if not segments.empty else {}
    texts = dict(zip(sources[s.SOURCE_ID], sources[s.TEXT])) if not sources.empty else {}
    path_to_id = {str(p): int(i) for i, p in zip(sources[s.SOURCE_ID], sources[s.PATH])} if not sources.empty else {}
    exact = {}
    for key, text in zip(segments.get(s.SEGMENT_KEY, []), segments.get(s.TEXT, [])):
        exact.setdefault(normalise_text(text), key)
    out = []
    for row in passages.to_dict("records"):
        key = row.get(s.SEGMENT_KEY)
        if isinstance(key, str) and key in known:
            out.append([key])
            continue
        text = row.get(s.TEXT)
        if not isinstance(text, str) or not text.strip():
            out.append([])
            continue
        if redact is not None:
            text = redact(text)
        candidates = _candidate_sources(row.get("file"), path_to_id, source_of, list(by_source))
        found: list[str] = []
        for source_id in candidates:
            found = _cover(text, by_source.get(source_id), texts.get(source_id))
            if found:
                break
        if not found:
            hit = exact.get(normalise_text(text))
            found = [hit] if hit else []
        out.append(found)
    return pd.Series(out, index=passages.index, dtype=object)


def _candidate_sources(file, path_to_id: dict[str, int], source_of, every: list) -> list:
    if isinstance(file, str) and file.strip():
        name = file.strip().replace("\\", "/").lstrip("./")
        hit = source_of(name) if source_of is not None else None
        if hit is None:
            hit = path_to_id.get(name)
        if hit is None:
            same_name = [i for p, i in path_to_id.items() if p.rsplit("/", 1)[-1] == name.rsplit("/", 1)[-1]]
            hit = same_name[0] if len(same_name) == 1 else None
        if hit is not None:
            return [hit]
    return every


def _cover(text: str, segments: pd.DataFrame | None, source_text) -> list[str]:
    """Segments of one source the passage covers: found in the source's text, else in a survey answer."""
    if segments is None or segments.empty:
        return []
    needle = normalise_text(text)
    if isinstance(source_text, str) and source_text:
        hay, index = _normalised_with_map(source_text)
        at = hay.find(needle)
        if at < 0:
            return []
        start, end = index[at], index[at + len(needle) - 1] + 1
        return _overlapping(segments, start, end)
    # a survey: passages are inside one answer; offsets are into that answer
    for answer_id, group in segments.groupby(s.TEXT_ANSWER_ID):
        answer = " ".join(group.sort_values(s.START_CHAR)[s.TEXT])
        if needle in normalise_text(answer):
            inside = [k for k, t in zip(group[s.SEGMENT_KEY], group[s.TEXT]) if normalise_text(t) in needle
                      or needle in normalise_text(t)]
            return inside or group[s.SEGMENT_KEY].tolist()
    return []


def _overlapping(segments: pd.DataFrame, start: int, end: int) -> list[str]:
    keys, inside = [], []
    for key, a, b in zip(segments[s.SEGMENT_KEY], segments[s.START_CHAR], segments[s.END_CHAR]):
        a, b = int(a), int(b)
        overlap = min(b, end) - max(a, start)
        if overlap <= 0:
            continue
        if overlap >= MIN_COVER * (b - a):
            keys.append((a, key))
        elif a <= start and end <= b:
            inside.append((a, key))
    chosen = keys or inside
    return [k for _, k in sorted(chosen)]


def _normalised_with_map(text: str) -> tuple[str, list[int]]:
    """``normalise_text(text)`` and, for each of its characters, where it was in ``text``."""
    out: list[str] = []
    index: list[int] = []
    space = False
    for i, ch in enumerate(text.replace("\u2019", "'").replace("\u2018", "'")):
        if ch.isspace():
            space = bool(out)
            continue
        if space:
            out.append(" ")
            index.append(i)
            space = False
        folded = ch.casefold()
        out.extend(folded)
        index.extend([i] * len(folded))
    return "".join(out), index

