"""REFI-QDA exchange: write a study as a ``.qdpx`` project or ``.qdc`` codebook, read them back.

- :mod:`~toolkit.exchange.refi.write`: :func:`write_qdpx`, :func:`write_qdc` (from an export snapshot
  and a notes frame, :mod:`~toolkit.exchange.refi.notes`); where things go: :mod:`~toolkit.exchange.refi.layout`.
- :mod:`~toolkit.exchange.refi.read`: :func:`read_qdpx`, :func:`read_qdc`, pure: frames of sources,
  codes, codings and notes anchored by content; never writes to the store.
- :mod:`~toolkit.exchange.refi.match`: :func:`codings_from_project`, a project's passages among the
  study's segments.
- :mod:`~toolkit.exchange.refi.validate`: :func:`validate` against the REFI-QDA schemas.
- :mod:`~toolkit.exchange.refi.archive`: the limits that keep a hostile ``.qdpx`` from exhausting memory.
- :mod:`~toolkit.exchange.refi.offsets`: code points and UTF-16 units (characters above U+FFFF).
- :mod:`~toolkit.exchange.refi.codebook_csv`: :func:`write_codebook_csv`, the codebook for Taguette.

Examples
--------
>>> from toolkit.exchange.refi import write_qdpx, read_qdpx
>>> write_qdpx(data, "exports/study.qdpx")  # doctest: +SKIP
PosixPath('exports/study.qdpx')
>>> read_qdpx("exports/study.qdpx").codings.shape[0] > 0  # doctest: +SKIP
True
"""

from toolkit.exchange.refi.archive import DEFAULT_LIMITS, ZipLimits
from toolkit.exchange.refi.codebook_csv import write_codebook_csv
from toolkit.exchange.refi.common import (
    CODE_COLUMN,
    CODE_NAME,
    CODEBOOK_NS,
    CODEPOINTS,
    GOOD_PRACTICE_CODE,
    NOTE_TARGETS,
    PARAGRAPH_BREAK,
    PROJECT_NS,
    SOURCE_PATH_VARIABLE,
    UTF16,
    guid_for,
    source_name,
    survey_paragraph,
)
from toolkit.exchange.refi.match import codings_from_project
from toolkit.exchange.refi.notes import NOTE_FRAME_COLUMNS, check_notes, notes_from_export
from toolkit.exchange.refi.read import ImportedCodebook, ImportedProject, read_qdc, read_qdpx
from toolkit.exchange.refi.validate import validate
from toolkit.exchange.refi.write import write_qdc, write_qdpx

__all__ = [
    "CODEBOOK_NS",
    "CODEPOINTS",
    "CODE_COLUMN",
    "CODE_NAME",
    "DEFAULT_LIMITS",
    "GOOD_PRACTICE_CODE",
    "NOTE_FRAME_COLUMNS",
    "NOTE_TARGETS",
    "PARAGRAPH_BREAK",
    "PROJECT_NS",
    "SOURCE_PATH_VARIABLE",
    "UTF16",
    "ImportedCodebook",
    "ImportedProject",
    "ZipLimits",
    "check_notes",
    "codings_from_project",
    "guid_for",
    "notes_from_export",
    "read_qdc",
    "read_qdpx",
    "source_name",
    "survey_paragraph",
    "validate",
    "write_codebook_csv",
    "write_qdc",
    "write_qdpx",
]
