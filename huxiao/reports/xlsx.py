"""Excel workbooks of reports and exports (ADR 0033).

`workbook_bytes(sheets)` writes one sheet per `Sheet`, streaming (openpyxl write-only), so a
list of 100,000 rows keeps memory flat. User text is defused with `spreadsheet_safe` (a
visitor called "=HYPERLINK(…)" stays text); aware datetimes become local wall-clock times
(what Excel can show and sort); choices and lazy strings become text.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import openpyxl
from django.utils import timezone
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from huxiao.imports.columns import spreadsheet_safe

_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")


@dataclass
class Sheet:
    title: str
    columns: Sequence[str]
    rows: Iterable[Sequence]
    # Lines above the header (what the sheet covers: area, month, filters, when exported).
    heading: Sequence[str] = field(default_factory=list)


def cell_value(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)  # callers pass labels ("是/否") where it matters
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(tzinfo=None, microsecond=0)
    if isinstance(value, int | float | Decimal | dt.date | dt.time):
        return value
    return spreadsheet_safe(str(value))


def sheet_title(title: str, taken: set[str]) -> str:
    base = _BAD_TITLE.sub(" ", str(title)).strip()[:31] or "Sheet"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)] + suffix
        n += 1
    taken.add(name.lower())
    return name


def workbook_bytes(
    sheets: Iterable[Sheet], *, on_row: Callable[[int], None] | None = None
) -> tuple[bytes, int]:
    """The workbook and the number of data rows written (all sheets). `on_row(n)` is called
    every 1,000 rows (for progress)."""
    workbook = openpyxl.Workbook(write_only=True)
    taken: set[str] = set()
    total = 0
    for spec in sheets:
        sheet = workbook.create_sheet(sheet_title(spec.title, taken))
        columns = [str(c) for c in spec.columns]
        for index, header in enumerate(columns, start=1):
            width = min(60, max(10, len(header) * 2 + 4))
            sheet.column_dimensions[get_column_letter(index)].width = width
        bold = Font(bold=True)
        for line in spec.heading:
            cell = WriteOnlyCell(sheet, value=cell_value(line))
            cell.font = bold
            sheet.append([cell])
        if spec.heading:
            sheet.append([])
        header_cells = []
        for header in columns:
            cell = WriteOnlyCell(sheet, value=cell_value(header))
            cell.font = bold
            header_cells.append(cell)
        sheet.append(header_cells)
        for row in spec.rows:
            sheet.append([cell_value(v) for v in row])
            total += 1
            if on_row is not None and total % 1000 == 0:
                on_row(total)
    if not workbook.worksheets:
        workbook.create_sheet("Sheet")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), total
