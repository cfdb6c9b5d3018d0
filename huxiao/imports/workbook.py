"""Opening uploaded .xlsx files (imports.xlsx reads them), and writing templates and exports.

Anything a user uploads may be damaged, renamed or hostile; every failure to read it becomes
a `WorkbookError` carrying a message for the user, never an exception page.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

import openpyxl
from django.utils.translation import gettext_lazy as _
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from huxiao.imports.columns import DATE, ID_NUMBER, WORDS_BY_TYPE, Column
from huxiao.imports.xlsx import FirstSheet, WorkbookError, check_signature

__all__ = ["WorkbookError", "check_signature", "export_bytes", "open_first_sheet", "template_bytes"]


@contextmanager
def open_first_sheet(data: bytes) -> Iterator[FirstSheet]:
    """The first visible worksheet of an upload; raises WorkbookError for anything else."""
    sheet = FirstSheet(data)
    try:
        yield sheet
    finally:
        sheet.close()


_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DCE6F2")
_EXAMPLE_FONT = Font(italic=True, color="808080")


def template_bytes(*, title: str, columns: tuple[Column, ...], notes: list[str]) -> bytes:
    """A template: the header row, one example row, drop-downs, and a sheet of notes."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append([column.header for column in columns])
    sheet.append([column.example for column in columns])
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        header = sheet.cell(row=1, column=index)
        header.font, header.fill = _HEADER_FONT, _HEADER_FILL
        sheet.cell(row=2, column=index).font = _EXAMPLE_FONT
        sheet.column_dimensions[letter].width = max(12, len(column.header) * 2 + 4)
        if column.value_type == ID_NUMBER:
            # As text: Excel keeps only 15 significant digits of a number.
            sheet.column_dimensions[letter].width = 22
            sheet.column_dimensions[letter].number_format = "@"
            sheet.cell(row=2, column=index).number_format = "@"
        elif column.value_type == DATE:
            sheet.cell(row=2, column=index).number_format = "yyyy-mm-dd"
        words = WORDS_BY_TYPE.get(column.value_type)
        if words:
            choices = ",".join(dict.fromkeys(words.values()))
            validation = DataValidation(type="list", formula1=f'"{choices}"', allow_blank=True)
            validation.add(f"{letter}2:{letter}20001")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"
    notes_sheet = workbook.create_sheet(str(_("Notes"))[:31])
    notes_sheet.column_dimensions["A"].width = 100
    for line in notes:
        notes_sheet.append([line])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_bytes(*, title: str, columns: tuple[Column, ...], rows: Iterator[list]) -> bytes:
    """A streaming (write-only) workbook: memory stays flat for any roster size."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    for index, column in enumerate(columns, start=1):
        width = 22 if column.value_type == ID_NUMBER else max(12, len(column.header) * 2 + 4)
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.append([column.header for column in columns])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
