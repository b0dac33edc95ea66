"""Step 1: a survey file's bytes -> a grid of cells (:class:`~toolkit.ingest.surveys.cells.Sheet`).

``.xlsx`` through openpyxl (cached formula values, one worksheet: the one asked for or
the first with responses); ``.csv`` through :func:`~toolkit.ingest.encoding.decode_bytes`
(any encoding) and :mod:`csv` (comma, semicolon or tab). Damaged, encrypted, legacy and
misnamed files are refused here with a fix, and so are files past the limits of
:mod:`toolkit.ingest.limits`: the file's size is checked before it is read, a
workbook's archive (entries, unpacked size, ratio) before openpyxl opens it, and the
cells are counted while they stream in, whatever the sheet claims its size is.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import warnings as pywarnings
import zipfile
from pathlib import Path
from typing import Any

from toolkit.errors import InputDataError
from toolkit.ingest.archives import check_archive
from toolkit.ingest.encoding import decode_bytes
from toolkit.ingest.limits import LIMITS, Limits, check_size
from toolkit.ingest.surveys.cells import Sheet, clean_cell, fold, is_filled, trim

logger = logging.getLogger(__name__)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
"""The first bytes of a binary Office file (.xls, or an encrypted .xlsx)."""
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[ >/]")
_EXCEL_ERRORS = frozenset({"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!"})


def file_format(path: Path) -> str:
    """``xlsx`` or ``csv`` by suffix; anything else is refused with a fix."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    if suffix == ".xls":
        raise InputDataError(
            path,
            "is an old Excel 97-2003 (.xls) workbook, which is not supported.",
            "Open it in Excel and save it as .xlsx (Excel Workbook).",
        )
    raise InputDataError(path, f"is not a survey export: expected .xlsx or .csv, found '{suffix or 'no extension'}'.")


def read_sheet(path: Path, fmt: str, sheet: str = "", *, limits: Limits = LIMITS) -> Sheet:
    """The cells of a survey file: one worksheet of a workbook (``sheet``, else the first with data), or a CSV."""
    raw = read_bytes(path, limits=limits)
    return read_workbook(path, raw, sheet, limits=limits) if fmt == "xlsx" else read_csv(path, raw, limits=limits)


def read_bytes(path: Path, *, limits: Limits = LIMITS) -> bytes:
    if path.exists():
        check_size(path, limits.max_file_bytes, "a survey export")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problem = f"cannot be read ({exc.strerror or exc})."
        raise InputDataError(path, problem, "Check the path and its permissions.") from None
    if not raw.strip():
        raise InputDataError(path, "the file is empty.", "Export it again or remove it from the study folder.")
    return raw


# --------------------------------------------------------------------------- CSV
def read_csv(path: Path, raw: bytes, *, limits: Limits = LIMITS) -> Sheet:
    """Decode a CSV export and split it into rows of cleaned cells."""
    if raw.startswith((b"PK\x03\x04", OLE_MAGIC)):
        raise InputDataError(
            path,
            "is a binary file (an Excel workbook or another Office file), not CSV text.",
            "Rename it to .xlsx if it is a workbook, or export the survey again as CSV.",
        )
    text, encoding = decode_bytes(raw, path)
    delimiter = _sniff_delimiter(text)
    logger.debug("CSV survey in %s, delimiter %r", encoding, delimiter)  # no file name: it may name someone
    try:
        return Sheet(_csv_rows(path, text, delimiter, strict=True, limits=limits))
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            problem = "a quoted cell is never closed, so the rest of the file would be read as one answer"
            raise _csv_error(path, text, delimiter, problem) from None
    # Stray quotes inside cells ('"Blue" team'): read them as a spreadsheet would.
    sheet = Sheet(_csv_rows_or_raise(path, text, delimiter, limits))
    sheet.warnings.append("some cells have stray quote characters; they were read as plain text.")
    return sheet


def _csv_rows(path: Path, text: str, delimiter: str, *, strict: bool, limits: Limits) -> list[list[Any]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=strict)
    rows: list[list[Any]] = []
    width = 0
    for record in reader:
        width = max(width, len(record))
        if (len(rows) + 1) * width > limits.max_cells:
            raise _too_many_cells(path, None, limits)
        rows.append(trim([clean_cell(cell) for cell in record]))
    return rows


def _csv_rows_or_raise(path: Path, text: str, delimiter: str, limits: Limits) -> list[list[Any]]:
    try:
        return _csv_rows(path, text, delimiter, strict=False, limits=limits)
    except csv.Error as exc:
        raise _csv_error(path, text, delimiter, str(exc)) from None


def _csv_error(path: Path, text: str, delimiter: str, problem: str) -> InputDataError:
    """Name the record where lenient parsing stops making sense."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    count = 0
    try:
        for count, _ in enumerate(reader, start=1):
            pass
    except csv.Error:
        count += 1
    return InputDataError(
        path,
        f"is not well-formed CSV: {problem}.",
        "Open it in a spreadsheet program, check the quotes around that row, save it again as 'CSV UTF-8', "
        "and run again.",
        where=f"row {count}",
    )


def _sniff_delimiter(text: str) -> str:
    """The delimiter (comma, semicolon or tab) that splits the first record into most cells."""
    best, most = ",", 0
    for delimiter in (",", ";", "\t"):
        try:
            first = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
        except csv.Error:
            continue
        if len(first) > most:
            best, most = delimiter, len(first)
    return best


# --------------------------------------------------------------------------- workbooks
def read_workbook(path: Path, raw: bytes, wanted: str, *, limits: Limits = LIMITS) -> Sheet:
    """Read the cached values of one worksheet: ``wanted``, else the first with data."""
    _check_workbook_bytes(path, raw)
    check_archive(path, raw, what="Excel workbook", limits=limits)
    import openpyxl  # only workbooks need it

    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")  # openpyxl warns about every unsupported extension
        try:
            book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        except zipfile.BadZipFile as exc:
            raise InputDataError(
                path,
                f"is damaged: it is not a readable zip archive, as an .xlsx must be ({exc}).",
                "Download or export it again; if Excel can open it, save it again as .xlsx.",
            ) from None
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on malformed parts
            raise InputDataError(
                path,
                f"cannot be read as an Excel workbook ({type(exc).__name__}: {exc}).",
                "Open it in Excel and save it again as .xlsx (Excel Workbook).",
            ) from None
        try:
            sheet = _pick_sheet(path, book, wanted, limits)
        except InputDataError:
            raise
        except Exception as exc:  # noqa: BLE001 - a malformed sheet part, whatever openpyxl makes of it
            raise InputDataError(
                path,
                f"a worksheet cannot be read ({type(exc).__name__}: {exc}).",
                "Open it in Excel and save it again as .xlsx (Excel Workbook).",
            ) from None
        finally:
            book.close()
        sheet.warnings.extend(_formula_warnings(raw, sheet, limits))
    return sheet


def _check_workbook_bytes(path: Path, raw: bytes) -> None:
    """Refuse encrypted, legacy and non-zip files before openpyxl sees them."""
    if raw.startswith(OLE_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in raw:
            raise InputDataError(
                path,
                "is password-protected (encrypted), so it cannot be read.",
                "Open it in Excel, remove the password (File > Info > Protect Workbook > Encrypt with "
                "Password), save it, and run again.",
            )
        raise InputDataError(
            path,
            "is an old Excel 97-2003 (.xls) workbook or another binary Office file renamed .xlsx.",
            "Open it in Excel and save it as .xlsx (Excel Workbook).",
        )
    if raw.startswith(b"PK"):
        return
    head = raw[:4096]
    if head.count(0) == 0 and all(b >= 9 for b in head) and any(d in head for d in (b",", b";", b"\t")):
        raise InputDataError(
            path,
            "holds plain text, not an Excel workbook: it looks like a CSV export saved with a .xlsx name.",
            "Rename it to .csv, or open it in Excel and save it as .xlsx.",
        )
    raise InputDataError(
        path,
        "is not an Excel workbook: an .xlsx is a zip archive and this file is not one (it may be damaged "
        "or only partly downloaded).",
        "Download or export it again.",
    )


def _pick_sheet(path: Path, book: Any, wanted: str, limits: Limits) -> Sheet:
    sheets = list(book.worksheets)
    names = [ws.title for ws in sheets]
    listed = ", ".join(f"'{n}'" for n in book.sheetnames)
    if wanted:
        match = next((ws for ws in sheets if ws.title == wanted), None) or next(
            (ws for ws in sheets if fold(ws.title) == fold(wanted)), None
        )
        if match is None:
            raise InputDataError(
                path,
                f"has no worksheet named '{wanted}'. Sheets: {listed}.",
                "Fix surveys.sheet in study.toml (or leave it empty to read the first sheet with data).",
            )
        return _sheet_cells(path, match, limits)
    fallback: Sheet | None = None
    for ws in sheets:
        sheet = _sheet_cells(path, ws, limits)
        filled = sum(is_filled(row) for row in sheet.rows)
        if filled >= 2:
            if len(sheets) > 1:
                sheet.warnings.insert(
                    0,
                    f"the workbook has {len(sheets)} sheets ({', '.join(repr(n) for n in names)}); read "
                    f"'{ws.title}', the first with responses. Set surveys.sheet in study.toml to read another.",
                )
            return sheet
        if filled and fallback is None:
            fallback = sheet
    if fallback is not None:
        return fallback
    raise InputDataError(path, f"has no data in any worksheet (sheets: {listed}).", "Check that it is the right file.")


def _rows(ws: Any) -> Any:
    """A read-only worksheet's rows as saved, not padded to the size the sheet declares.

    A sheet's ``<dimension>`` can claim A1:XFD1048576 (17 billion cells) in a file of a
    few bytes; openpyxl would pad every row to that width. Forgetting the declared size
    makes rows as long as their last cell and rows that hold nothing empty.
    """
    if hasattr(ws, "reset_dimensions"):
        ws.reset_dimensions()
    return ws.iter_rows(values_only=True)


def _sheet_cells(path: Path, ws: Any, limits: Limits) -> Sheet:
    """Every row of a worksheet, cleaned; Excel error values become blanks and are counted."""
    rows: list[list[Any]] = []
    errors = width = 0
    empty: list[Any] = []  # one shared list for every blank row (rows are never changed after this)
    for raw_row in _rows(ws):
        width = max(width, len(raw_row))
        if (len(rows) + 1) * width > limits.max_cells:
            raise _too_many_cells(path, ws.title, limits)
        if not raw_row:
            rows.append(empty)
            continue
        row = []
        for value in raw_row:
            if isinstance(value, str) and value.strip() in _EXCEL_ERRORS:
                errors += 1
                value = None
            row.append(clean_cell(value))
        rows.append(trim(row))
    while rows and not rows[-1]:
        rows.pop()
    sheet = Sheet(rows, name=ws.title)
    if errors:
        sheet.warnings.append(f"{errors} cell(s) hold Excel errors (#N/A, #DIV/0!, #VALUE!...) and were read as blank.")
    return sheet


def _too_many_cells(path: Path, sheet: str | None, limits: Limits) -> InputDataError:
    where = f"sheet '{sheet}' " if sheet is not None else ""
    return InputDataError(
        path,
        f"{where}spans more than {limits.max_cells:,} cells (rows x columns, blank ones too), the limit for one "
        "survey (toolkit/ingest/limits.py). It was not read.",
        "Check that this is the responses sheet (not a sheet with a stray value a million rows down, which Excel "
        "can clear with Ctrl+End and Delete); split a genuinely larger export into several files.",
    )


def _has_formulas(archive: zipfile.ZipFile) -> bool:
    """Any formula tag in any worksheet, scanned in chunks (never a whole part in memory)."""
    parts = [n for n in archive.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
    for name in parts:
        with archive.open(name) as member:
            tail = b""
            while chunk := member.read(1 << 20):
                if _FORMULA_TAG.search(tail + chunk):
                    return True
                tail = chunk[-16:]
    return False


def _formula_warnings(raw: bytes, sheet: Sheet, limits: Limits) -> list[str]:
    """Warn about formula cells whose value was never saved (they read as blank)."""
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        if not _has_formulas(archive):
            return []
    import openpyxl
    from openpyxl.utils import get_column_letter

    missing: list[str] = []
    book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=False)
    try:
        for r, row in enumerate(_rows(book[sheet.name])):
            for c, value in enumerate(row):
                is_formula = (isinstance(value, str) and value.startswith("=")) or hasattr(value, "text")
                cached = sheet.rows[r][c] if r < len(sheet.rows) and c < len(sheet.rows[r]) else None
                if is_formula and cached is None:
                    missing.append(f"{get_column_letter(c + 1)}{r + 1}")
    finally:
        book.close()
    if not missing:
        return []
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    warning = (
        f"{len(missing)} formula cell(s) have no saved value ({shown}) and were read as blank. Open the "
        "workbook in Excel, let it calculate, save it, and run again."
    )
    return [warning]
