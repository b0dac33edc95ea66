"""Anchors: find the segment a piece of human work belongs to, by its text.

A decision, practice or comment is made on a segment, and keeps the text of that
segment (its *anchor*) and the uid of its source. Segment keys are content-anchored
already (:func:`toolkit.segment.segment_key`), so most human work never moves. When it
does (the sentence was split or joined differently, a name inside it is now
pseudonymised, a typo was fixed), :func:`attach` finds it again, in this order:

1. the segment it names is still there (``attached``);
2. a segment of the same source with the same text, or one containing it, or one it
   contains, or one that reads almost the same (difflib ratio >= ``min_ratio``)
   (``moved``);
3. nothing matches: ``orphaned``. Orphans are kept and reported (``toolkit status``, the
   dashboard), never dropped.

Written here rather than taken from a library: the matching is small, must stay inside
one source, and must be explainable to a researcher ("moved because the text matched").
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict

import pandas as pd

from toolkit import schema as s
from toolkit.segment import normalise_text

ATTACHED, MOVED, ORPHANED = s.ANCHOR_STATES
_TAG = re.compile(r"\[[a-z]+(?:_[a-z]+)*_\d+\]")
"""A pseudonym tag as :func:`toolkit.segment.normalise_text` leaves it (lower case)."""
MIN_RATIO = 0.85
"""How alike (difflib ratio) an edited sentence must still read to be the same passage."""


def attach(
    anchors: pd.DataFrame,
    segments: pd.DataFrame,
    *,
    text_column: str = s.ANCHOR_TEXT,
    min_ratio: float = MIN_RATIO,
) -> pd.DataFrame:
    """Re-attach human work to the current segments.

    Parameters
    ----------
    anchors : one row per piece of human work, with ``segment_key`` (the segment it was
        attached to), ``source_uid`` (may be empty for work made before uids existed) and
        ``text_column`` (the anchor text).
    segments : the current segments: ``segment_key``, ``source_uid``, ``text``.

    Returns
    -------
    ``anchors`` with ``segment_key`` updated where the work moved, ``source_uid`` filled in,
    and ``anchor`` set to ``attached``, ``moved`` or ``orphaned``. Orphans keep their old key.

    Examples
    --------
    >>> segs = pd.DataFrame({"segment_key": ["n1"], "source_uid": ["u"], "text": ["The IG lead, [PERSON_02], helped."]})
    >>> work = pd.DataFrame({"segment_key": ["old"], "source_uid": ["u"], "anchor_text": ["The IG lead, Clem, helped."]})
    >>> attach(work, segs)[["segment_key", "anchor"]].values.tolist()
    [['n1', 'moved']]
    """
    out = anchors.copy()
    if out.empty:
        out[s.ANCHOR] = pd.Series(dtype=object)
        return out
    current = segments[[s.SEGMENT_KEY, s.SOURCE_UID, s.TEXT]].copy() if not segments.empty else pd.DataFrame(
        columns=[s.SEGMENT_KEY, s.SOURCE_UID, s.TEXT])
    uid_of = dict(zip(current[s.SEGMENT_KEY], current[s.SOURCE_UID]))
    index = _SourceIndex(current)
    keys, uids, states = [], [], []
    for key, uid, text in zip(out[s.SEGMENT_KEY], out.get(s.SOURCE_UID, [None] * len(out)), out[text_column]):
        uid = None if _missing(uid) else str(uid)
        if key in uid_of and (uid is None or uid_of[key] == uid):
            keys.append(key), uids.append(uid_of[key]), states.append(ATTACHED)
            continue
        found = index.find(text, uid, min_ratio=min_ratio)
        if found is None:
            keys.append(key), uids.append(uid), states.append(ORPHANED)
        else:
            keys.append(found), uids.append(uid_of[found]), states.append(MOVED)
    out[s.SEGMENT_KEY] = keys
    out[s.SOURCE_UID] = uids
    out[s.ANCHOR] = states
    return out


def remap(old_keys: list[str], moved: dict[str, str]) -> list[str]:
    """Keys of a list (e.g. a topic edit's members) after work moved; keys that did not move stay."""
    return list(dict.fromkeys(moved.get(k, k) for k in old_keys))


class _SourceIndex:
    """Segments by source and by normalised text, for quick lookups."""

    def __init__(self, segments: pd.DataFrame):
        self.by_source: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.exact: dict[tuple[str | None, str], str] = {}
        for key, uid, text in zip(segments[s.SEGMENT_KEY], segments[s.SOURCE_UID], segments[s.TEXT]):
            norm = normalise_text(text)
            uid = None if _missing(uid) else str(uid)
            self.by_source[uid].append((key, norm))
            self.exact.setdefault((uid, norm), key)
            self.exact.setdefault((None, norm), key)

    def find(self, text, uid: str | None, *, min_ratio: float) -> str | None:
        if _missing(text) or not str(text).strip():
            return None
        norm = normalise_text(text)
        hit = self.exact.get((uid, norm))
        if hit is not None:
            return hit
        if uid is None:  # work made before sources had uids: only an exact, study-wide match is safe
            return None
        pool = self.by_source.get(uid, [])
        inside = [(key, len(seg)) for key, seg in pool if norm in seg]
        if inside:
            return min(inside, key=lambda kv: kv[1])[0]
        covered = [(key, len(seg)) for key, seg in pool if seg and seg in norm]
        if covered:
            return max(covered, key=lambda kv: kv[1])[0]
        words = norm.split()
        best, best_ratio = None, min_ratio
        for key, seg in pool:
            ratio = similarity(words, seg.split())
            if ratio >= best_ratio:
                best, best_ratio = key, ratio
        return best


def similarity(old: list[str], new: list[str]) -> float:
    """How alike two passages read, word by word (difflib), 0-1.

    A run of words that became pseudonym tags (``Clem`` -> ``[PERSON_02]``) counts as
    unchanged: re-pseudonymising a source must not orphan the work done on it.

    Examples
    --------
    >>> similarity("the ig lead, clem, helped.".split(), "the ig lead, [person_02], helped.".split())
    1.0
    """
    if not old or not new:
        return 0.0
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    if matcher.real_quick_ratio() < 0.5:
        return 0.0
    same = 0
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            same += a2 - a1
        elif op == "replace" and a2 - a1 <= 4 and all(_TAG.search(w) for w in new[b1:b2]):
            same += b2 - b1
            old_extra = (a2 - a1) - (b2 - b1)
            if old_extra > 0:  # "Clem Ashdown" -> "[PERSON_02]": both words became one tag
                same += old_extra
    return min(1.0, 2.0 * same / (len(old) + len(new)))


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NA
