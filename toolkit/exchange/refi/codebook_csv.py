"""The codebook as a CSV file that Taguette imports (its "Import codebook" page).

Taguette (taguette.org) reads a CSV with a header row; the tag's name comes from the one column
headed ``tag``, ``name`` or ``path`` (any case), the description from a column headed
``description``; other columns are ignored and every row needs a non-empty tag (see
``taguette/import_codebook.py`` in Taguette's source). It guesses the encoding with chardet, so the
file starts with a UTF-8 byte-order mark, which makes the guess certain for accented text.
Taguette shows tags containing ``.`` as a hierarchy, so each polarity code is
``<theme id>.<polarity>`` under its theme, and ``good_practice`` stands alone. Tag paths are at
most 200 characters in Taguette's database.

Examples
--------
>>> from toolkit.codebook import load_codebook
>>> write_codebook_csv(load_codebook(), "exports/codebook_taguette.csv")  # doctest: +SKIP
PosixPath('exports/codebook_taguette.csv')
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit import schema as s
from toolkit.errors import ToolkitError
from toolkit.exchange.refi import common as c

if TYPE_CHECKING:  # only for type hints
    from toolkit.codebook import Codebook
    from toolkit.export.data import ExportData

__all__ = ["TAGUETTE_COLUMNS", "codebook_rows", "write_codebook_csv"]

log = logging.getLogger(__name__)

TAGUETTE_COLUMNS = ("tag", "description")
MAX_TAG = 200
GOOD_PRACTICE_TAG = "good_practice"


def codebook_rows(codebook: Codebook) -> list[tuple[str, str]]:
    """``(tag, description)`` for every theme, each theme's polarity codes, and good practice."""
    rows: list[tuple[str, str]] = []
    for theme in codebook.themes:
        description = theme.definition
        if theme.include:
            description += f" Include: {theme.include}"
        if theme.exclude:
            description += f" Exclude: {theme.exclude}"
        rows.append((theme.id, f"{theme.name}. {description}"))
        for polarity in s.POLARITIES:
            rows.append((f"{theme.id}.{polarity}", f"{theme.name}: {polarity}. {codebook.polarities.get(polarity, '')}".strip()))
    gp = getattr(codebook, "good_practice_definition", "") or "A concrete enabler another place could copy."
    rows.append((GOOD_PRACTICE_TAG, gp))
    for tag, _ in rows:
        if len(tag) > MAX_TAG:
            raise ToolkitError(f"Theme id '{tag[:40]}...' is longer than Taguette's {MAX_TAG} characters; shorten it in the codebook.")
    return [(tag, c.one_line(c.clean(text)).strip()) for tag, text in rows]


def write_codebook_csv(codebook: Codebook | ExportData, path: str | Path) -> Path:
    """Write the codebook as a CSV for Taguette (``tag,description``; UTF-8 with a byte-order mark).

    Examples
    --------
    >>> from toolkit.codebook import load_codebook
    >>> write_codebook_csv(load_codebook(), "exports/codebook_taguette.csv")  # doctest: +SKIP
    PosixPath('exports/codebook_taguette.csv')
    """
    book = getattr(codebook, "codebook", codebook)
    if not hasattr(book, "themes"):
        raise ToolkitError(f"write_codebook_csv needs a Codebook (or ExportData), found {type(codebook).__name__}.")
    target = c.output_path(path, suffixes=(".csv",), what="codebook CSV")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(TAGUETTE_COLUMNS)
    rows = codebook_rows(book)
    writer.writerows(rows)
    payload = buffer.getvalue().encode("utf-8-sig")
    c.write_private(target, lambda temporary: temporary.write_bytes(payload))
    log.info("wrote the codebook for Taguette %s (%d tags)", target.name, len(rows))
    return target
