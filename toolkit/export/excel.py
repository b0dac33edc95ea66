"""Excel formatting of the workbook's sheets: bold frozen headers, wrapped text, widths, printing, borders.

:func:`fill_sheet` writes the frames of one sheet (:mod:`toolkit.export.tables` decides which) and lays
them out: every value as a value (text is never a formula), wrapped columns, row heights that show the
wrapped text (neither Excel nor LibreOffice sizes rows when a file opens), and for the framework sheets
A3 landscape printing, cell borders and NVivo-like cells (the summary in bold, its references in grey).
"""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["fill_sheet"]

_EXCEL_MAX_CHARS = 32_767
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_WRAP_WIDTH = 80
_MIN_WIDTH, _MAX_WIDTH = 8, 50


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists, dicts
        return False


def _excel_value(value):
    if _missing(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, str):
        value = _ILLEGAL_XML.sub("", value)
        if len(value) > _EXCEL_MAX_CHARS:
            value = value[: _EXCEL_MAX_CHARS - 1] + "…"
    return value


def fill_sheet(sheet, blocks: list[pd.DataFrame], wrapped: set[str], *, freeze: str = "A2",
                wrap_width: int | None = None, landscape: bool = False, grid: bool = False,
                narrow: dict[str, int] | None = None, emphasise: tuple[str, str] | None = None,
                rich: bool = False) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import column_index_from_string, get_column_letter

    bold = Font(bold=True)
    header_align = Alignment(wrap_text=True, vertical="top")
    wrap = Alignment(wrap_text=True, vertical="top")
    top = Alignment(vertical="top")
    widths: dict[int, int] = {}
    wrap_columns: set[int] = set()
    row_number = 0
    for position, block in enumerate(blocks):
        if position:
            row_number += 1  # a blank row between blocks
        row_number += 1
        for col, name in enumerate(block.columns, start=1):
            cell = sheet.cell(row=row_number, column=col, value=str(name))
            cell.font = bold
            cell.alignment = header_align
            widths[col] = max(widths.get(col, 0), min(len(str(name)), 30))
            if str(name) in wrapped or str(name) in (narrow or {}):
                wrap_columns.add(col)
        if position == 0:
            last = f"{get_column_letter(max(len(block.columns), 1))}{row_number + len(block)}"
            sheet.auto_filter.ref = f"A{row_number}:{last}"
        for values in block.itertuples(index=False, name=None):
            row_number += 1
            for col, value in enumerate(values, start=1):
                cell = sheet.cell(row=row_number, column=col, value=_excel_value(value))
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula, even when the text starts with '='
                    longest = max((len(line) for line in cell.value.split("\n")), default=0)
                    widths[col] = max(widths.get(col, 0), longest)
                elif cell.value is not None:
                    widths[col] = max(widths.get(col, 0), len(str(cell.value)))
                cell.alignment = wrap if col in wrap_columns else top
    sheet.freeze_panes = freeze
    if landscape:  # a wide matrix prints on A3 landscape, its header row and first columns on every page
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.paperSize = sheet.PAPERSIZE_A3
        sheet.page_setup.scale = 70
        sheet.print_title_rows = "1:1"
        sheet.print_title_cols = f"A:{get_column_letter(max(column_index_from_string(freeze.rstrip('0123456789')) - 1, 1))}"
    header = {col: str(sheet.cell(row=1, column=col).value) for col in widths}
    caps = {col: (narrow or {}).get(header[col], wrap_width or _WRAP_WIDTH) for col in widths}
    for col, width in widths.items():
        letter = get_column_letter(col)
        if col in wrap_columns:
            sheet.column_dimensions[letter].width = min(max(width, _MIN_WIDTH) + 2, caps[col])
        else:
            sheet.column_dimensions[letter].width = min(max(width, _MIN_WIDTH) + 2, _MAX_WIDTH)
    _fit_rows(sheet, wrap_columns, widths, caps, rich=rich)
    if grid:
        _grid(sheet, emphasise)
    if rich:
        _rich_cells(sheet)


_REFERENCES_LINE = re.compile(r"^(?:People: .*|\d+ references? .*)$", re.MULTILINE)


def _rich_cells(sheet) -> None:
    """Framework cells as NVivo shows them: the researcher's summary in bold, the references after it in grey."""
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    summary_font = InlineFont(rFont="Calibri", b=True, color="0B0C0C", sz=11)
    rest_font = InlineFont(rFont="Calibri", color="505A5F", sz=9)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            value = cell.value
            if not isinstance(value, str) or "\n" not in value and not _REFERENCES_LINE.match(value):
                continue
            found = _REFERENCES_LINE.search(value)
            if found is None:
                continue
            head, tail = value[: found.start()], value[found.start():]
            parts = ([TextBlock(summary_font, head)] if head else []) + [TextBlock(rest_font, tail)]
            cell.value = CellRichText(*parts)


def _grid(sheet, emphasise: tuple[str, str] | None) -> None:
    """Thin borders round every cell, a shaded header, and rows set apart (``(column, prefix)``), as a printed matrix."""
    from openpyxl.styles import Border, Font, PatternFill, Side

    line = Side(style="thin", color="B1B4B6")
    border = Border(left=line, right=line, top=line, bottom=line)
    header_fill = PatternFill("solid", fgColor="DDE6F0")
    row_fill = PatternFill("solid", fgColor="F3F2F1")
    headers = [c.value for c in sheet[1]]
    marked = headers.index(emphasise[0]) if emphasise and emphasise[0] in headers else None
    for row in sheet.iter_rows(min_row=1, max_row=sheet.max_row, max_col=len(headers)):
        first = row[0].row == 1
        special = (marked is not None and not first and isinstance(row[marked].value, str)
                   and row[marked].value.startswith(emphasise[1]))
        for cell in row:
            cell.border = border
            if first:
                cell.fill = header_fill
            elif special:
                cell.fill = row_fill
                if cell.column <= (marked or 0) + 1:
                    cell.font = Font(bold=True)


def _fit_rows(sheet, wrap_columns: set[int], widths: dict[int, int], caps: dict[int, int], *,
              rich: bool = False) -> None:
    """Row heights that show every line of wrapped text (neither Excel nor LibreOffice sizes rows on opening).

    In framework cells (``rich``) the references after the summary are set in 9 pt: more characters fit on a
    line and a line is lower, so the row is sized for that rather than left half empty.
    """
    if not wrap_columns:
        return
    for row in sheet.iter_rows(min_row=2):
        height = _LINE_POINTS
        for cell in row:
            if cell.column in wrap_columns and isinstance(cell.value, str):
                width = max(min(max(widths.get(cell.column, _MIN_WIDTH), _MIN_WIDTH) + 2, caps[cell.column]) - 1, 1)
                found = _REFERENCES_LINE.search(cell.value) if rich else None
                head, tail = (cell.value, "") if found is None else (cell.value[: found.start()], cell.value[found.start():])
                points = _LINE_POINTS * _wrapped_lines(head, width) if head.strip() else 0.0
                if tail:
                    points += _SMALL_LINE_POINTS * _wrapped_lines(tail, int(width * _SMALL_FONT_FIT))
                height = max(height, points)
        if height > _LINE_POINTS:
            sheet.row_dimensions[row[0].row].height = min(height + 3, 409)


_LINE_POINTS, _SMALL_LINE_POINTS = 15.0, 12.0
_SMALL_FONT_FIT = 1.35
"""A line of 11 pt text takes 15 points; of the 9 pt references 12 points, and holds about a third more characters
(not 11/9: the column width is set in characters of the default font, with some slack)."""


def _wrapped_lines(text: str, width: int) -> int:
    return sum(max(1, -(-len(part) // max(width, 1))) for part in text.rstrip("\n").split("\n"))
