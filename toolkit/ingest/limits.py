"""How big an input may be: every limit the readers enforce, in one place.

A hostile or broken file must not take the machine down: a 1 MB ``.xlsx`` can unpack to
gigabytes (a "zip bomb"), a worksheet can claim a million empty rows, a 50 MB text file
can be one line. Each reader checks these limits BEFORE it does the expensive work and
refuses with a message that names the file, the limit and the fix.

The defaults are far above real research data: the largest real survey workbook we test
on unpacks to 5.8 MB (210 columns, 1,600 rows); the longest real transcript is 130 KB;
Word and Excel files compress 3-35 times. Change a value here (and say why in the commit)
if a real study needs more.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import InputDataError

MB = 1_000_000


@dataclass(frozen=True)
class Limits:
    """The limits of one read. Use :data:`LIMITS`; tests pass smaller ones."""

    max_file_bytes: int = 100 * MB
    """Any raw file (workbook, Word, OpenDocument, PDF, CSV) on disk."""
    max_text_bytes: int = 10 * MB
    """A plain-text transcript (.txt, .vtt, .srt): 50 times the longest interview we have seen."""
    max_archive_entries: int = 2_000
    """Files inside a .docx/.xlsx/.odt (real ones hold 8-20; embedded images add a few each)."""
    max_unpacked_bytes: int = 200 * MB
    """All the files inside a .docx/.xlsx/.odt together, unpacked (declared sizes, then counted while read)."""
    max_ratio: int = 200
    """Unpacked / packed size of one entry, for entries over :attr:`ratio_floor` bytes; real files: 3-35."""
    ratio_floor: int = 1 * MB
    """Entries smaller than this unpacked are never refused for their ratio."""
    max_cells: int = 3_000_000
    """Cells read from one worksheet (10,000 respondents x 300 columns)."""
    max_turn_chars: int = 20_000
    """A longer speaker turn is split at sentence ends into turns of at most this many characters."""
    max_pdf_pages: int = 2_000
    """Pages of a PDF transcript."""
    max_entity_chars: int = 1_000
    """Longest value of an XML entity declared in a Word file that is put in the text (never external)."""


LIMITS = Limits()
"""The limits in force."""


def check_size(path: Path, limit: int, what: str) -> None:
    """Refuse a file larger than ``limit`` bytes before reading it."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputDataError(path, f"cannot be read ({exc.strerror}).", "Check the path and its permissions.") from None
    if size > limit:
        raise InputDataError(
            path,
            f"is {_size(size)}, larger than the limit of {_size(limit)} for {what} "
            "(toolkit/ingest/limits.py). It was not read.",
            "Check that it is one transcript or survey (not several joined, or another kind of file); split it "
            "into smaller files.",
        )


def _size(n: int) -> str:
    return f"{n / MB:,.1f} MB" if n >= MB // 10 else f"{n:,} bytes"
