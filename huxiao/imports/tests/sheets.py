"""Spreadsheets built in memory for import tests."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile

from huxiao.core.idcard import make_id_number

CHILD_HEADER = ["班级", "姓名", "性别", "身份证号", "出生日期(可选)"]


def xlsx(header, rows, *, title="Sheet") -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    if header is not None:
        sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(data: bytes, name: str = "roster.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


def child_id(seq: int, born=dt.date(2021, 5, 6)) -> str:
    """Distinct valid numbers for any seq (the sequence part has only three digits)."""
    return make_id_number("320102", born + dt.timedelta(days=seq // 1000), seq % 1000)


def child_rows(count: int, class_name: str = "小一班", start: int = 1) -> list[list]:
    return [
        [class_name, f"孩子{n}", "女" if n % 2 else "男", child_id(n), None]
        for n in range(start, start + count)
    ]


def read_sheet(data: bytes, index: int = 0) -> list[tuple]:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    return list(workbook.worksheets[index].iter_rows(values_only=True))
