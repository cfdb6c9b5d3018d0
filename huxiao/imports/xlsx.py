"""A small, strict reader for the first worksheet of an .xlsx upload.

Why not openpyxl's reader (openpyxl still writes templates and exports):
- speed: openpyxl builds a rich-text object for every string cell; a 10,000-row roster took
  ~1.2 s of CPU to read, this reader ~0.3 s, and the roster import has a 10-second budget;
- Chinese Excel and WPS store dates with the built-in formats 27–36 and 50–58
  ("yyyy年m月d日", "yyyy/m/d"…), which openpyxl does not know are dates, so a birth date
  would arrive as a serial number such as 44259.

It reads only what a roster needs: cell values of one sheet (shared and inline strings,
numbers, booleans, dates, cached formula results). Anything it cannot make sense of is a
`WorkbookError` with a message for the user.

XML safety: ElementTree never fetches external entities or DTDs, and the expat bundled with
Python 3.11+ (2.4.1 and later) refuses entity-expansion bombs ("billion laughs", quadratic
blowup); the Python documentation lists etree as not vulnerable to these with such an
expat. Zip bombs are refused by the unpacked-size check below. `_require_safe_expat` keeps
that assumption checked at import time.
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import pyexpat
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator

from django.utils.translation import gettext_lazy as _
from openpyxl.styles.numbers import is_date_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

XLSX_SIGNATURE = b"PK\x03\x04"
# Excel 97-2003 (.xls) and other OLE compound documents.
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# A 20 MB zip can unpack to gigabytes; a 20,000-row roster unpacks to a few MB.
MAX_UNPACKED_BYTES = 300 * 1024 * 1024

NOT_XLSX_MESSAGE = _(
    "This file is not an Excel workbook (.xlsx). Download the template, fill it in and "
    "upload it again."
)
DAMAGED_MESSAGE = _(
    "Part of the workbook is damaged and cannot be read. Save the file again in Excel or WPS "
    "and upload it again."
)

# Built-in number formats that are dates or times: the international ones (14–22, 45–47)
# and the ones Chinese-locale Excel and WPS use (27–36, 50–58).
_BUILTIN_DATE_FORMATS = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])
_CELL_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")


def _require_safe_expat() -> None:
    major, minor, micro = pyexpat.version_info
    if (major, minor, micro) < (2, 4, 1):  # pragma: no cover - depends on the Python build
        raise ImportError("imports.xlsx needs expat 2.4.1 or later (entity-expansion limits)")


_require_safe_expat()


EXCEL_MAX_ROWS = 1_048_576


class WorkbookError(Exception):
    """The upload cannot be read; `message` tells the user why, in their language."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def check_signature(head: bytes) -> None:
    """Cheap check on the first bytes, so a wrong file is refused at upload time."""
    if head.startswith(OLE_SIGNATURE):
        raise WorkbookError(
            _("This is an old Excel 97-2003 (.xls) file. Save it as .xlsx and upload it again.")
        )
    if not head.startswith(XLSX_SIGNATURE):
        raise WorkbookError(NOT_XLSX_MESSAGE)


def _local(tag: str) -> str:
    # Transitional and strict OOXML use different namespaces for the same names.
    return tag.rsplit("}", 1)[-1]


def _attr(element, name: str, default=None):
    for key, value in element.attrib.items():
        if _local(key) == name:
            return value
    return default


def _column_index(letters: str) -> int:
    index = 0
    for char in letters.upper():
        index = index * 26 + ord(char) - 64
    return index


class FirstSheet:
    """Rows of the first visible worksheet as tuples of values (column A at index 0).

    Missing rows come back as empty tuples, so enumerating rows from 1 gives the row
    numbers the user sees. `estimated_rows` is the sheet's own size record (0 if none),
    known once the first row has been read.
    """

    def __init__(self, data: bytes):
        check_signature(data[:8])
        try:
            self.archive = zipfile.ZipFile(io.BytesIO(data))
            infos = self.archive.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise WorkbookError(NOT_XLSX_MESSAGE) from exc
        if sum(info.file_size for info in infos) > MAX_UNPACKED_BYTES:
            raise WorkbookError(
                _("The file is too large once unpacked; split it into smaller files.")
            )
        self.names = {info.filename for info in infos}
        self.estimated_rows = 0
        try:
            self._read_workbook()
        except WorkbookError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure here means "not a workbook"
            raise WorkbookError(NOT_XLSX_MESSAGE) from exc

    def close(self) -> None:
        self.archive.close()

    # ------------------------------------------------------------ workbook parts

    def _xml(self, path: str):
        if path not in self.names:
            raise WorkbookError(NOT_XLSX_MESSAGE)
        with self.archive.open(path) as stream:
            return ET.parse(stream).getroot()  # noqa: S314 - see module docstring

    def _relationships(self, part: str) -> dict[str, tuple[str, str]]:
        folder, name = posixpath.split(part)
        rels_path = posixpath.join(folder, "_rels", name + ".rels")
        if rels_path not in self.names:
            return {}
        result = {}
        for rel in self._xml(rels_path):
            target = rel.get("Target", "")
            if rel.get("TargetMode") == "External":
                continue
            if target.startswith("/"):
                target = target[1:]
            else:
                target = posixpath.normpath(posixpath.join(folder, target))
            result[rel.get("Id", "")] = (rel.get("Type", ""), target)
        return result

    def _read_workbook(self) -> None:
        workbook_path = next(
            (
                target
                for kind, target in self._relationships("").values()
                if kind.endswith("/officeDocument")
            ),
            "xl/workbook.xml",
        )
        workbook = self._xml(workbook_path)
        rels = self._relationships(workbook_path)
        epoch = CALENDAR_WINDOWS_1900
        sheets = []
        for element in workbook.iter():
            name = _local(element.tag)
            if name == "workbookPr" and element.get("date1904") in ("1", "true"):
                epoch = CALENDAR_MAC_1904
            elif name == "sheet":
                kind, target = rels.get(_attr(element, "id", ""), ("", ""))
                if kind.endswith("/worksheet"):
                    sheets.append((element.get("state", "visible"), target))
        visible = [target for state, target in sheets if state == "visible"]
        if not sheets:
            raise WorkbookError(_("The workbook has no worksheet."))
        self.sheet_path = (visible or [sheets[0][1]])[0]
        self.epoch = epoch
        self.shared_strings: list[str] = []
        self.date_styles: frozenset[int] = frozenset()
        for kind, target in rels.values():
            if kind.endswith("/sharedStrings"):
                self.shared_strings = self._read_shared_strings(target)
            elif kind.endswith("/styles"):
                self.date_styles = self._read_date_styles(target)

    def _read_shared_strings(self, path: str) -> list[str]:
        strings = []
        if path not in self.names:
            return strings
        with self.archive.open(path) as stream:
            for _event, element in ET.iterparse(stream):  # noqa: S314 - see docstring
                if _local(element.tag) == "si":
                    strings.append(_rich_text(element))
                    element.clear()
        return strings

    def _read_date_styles(self, path: str) -> frozenset[int]:
        if path not in self.names:
            return frozenset()
        styles = self._xml(path)
        custom = {}
        cell_formats: list[int] = []
        for element in styles:
            name = _local(element.tag)
            if name == "numFmts":
                for fmt in element:
                    custom[int(fmt.get("numFmtId", "-1"))] = fmt.get("formatCode", "")
            elif name == "cellXfs":
                cell_formats = [int(xf.get("numFmtId", "0")) for xf in element]
        return frozenset(
            index
            for index, format_id in enumerate(cell_formats)
            if (
                is_date_format(custom[format_id])
                if format_id in custom
                else format_id in _BUILTIN_DATE_FORMATS
            )
        )

    # ------------------------------------------------------------ rows

    @property
    def rows(self) -> Iterator[tuple]:
        if not hasattr(self, "_rows"):
            self._rows = self._guarded(self._iter_rows())
        return self._rows

    def _guarded(self, rows: Iterator[tuple]) -> Iterator[tuple]:
        try:
            yield from rows
        except WorkbookError:
            raise
        except Exception as exc:  # noqa: BLE001 - a damaged sheet fails while being read
            raise WorkbookError(DAMAGED_MESSAGE) from exc

    def _iter_rows(self) -> Iterator[tuple]:
        if self.sheet_path not in self.names:
            raise WorkbookError(NOT_XLSX_MESSAGE)
        expected = 1
        with self.archive.open(self.sheet_path) as stream:
            cells: dict[int, object] = {}
            next_column = 1
            for _event, element in ET.iterparse(stream):  # noqa: S314 - see docstring
                name = _local(element.tag)
                if name == "c":
                    reference = _CELL_REF.match(element.get("r", ""))
                    column = _column_index(reference.group(1)) if reference else next_column
                    cells[column] = self._value(element)
                    next_column = column + 1
                    element.clear()
                elif name == "row":
                    number = int(element.get("r") or expected)
                    if number < expected or number > EXCEL_MAX_ROWS:
                        # Rows out of order or past Excel's last row: not a sheet Excel wrote.
                        raise WorkbookError(DAMAGED_MESSAGE)
                    while expected < number:  # rows the file leaves out are empty
                        yield ()
                        expected += 1
                    width = max(cells) if cells else 0
                    yield tuple(cells.get(index) for index in range(1, width + 1))
                    expected = number + 1
                    cells, next_column = {}, 1
                    element.clear()
                elif name == "dimension":
                    self.estimated_rows = _dimension_rows(element.get("ref", ""))

    def _value(self, cell):
        kind = cell.get("t", "n")
        raw = None
        inline = None
        for child in cell:
            name = _local(child.tag)
            if name == "v":
                raw = child.text
            elif name == "is":
                inline = _rich_text(child)
        if kind == "inlineStr":
            return inline
        if raw is None:
            return None
        if kind == "s":
            return self.shared_strings[int(raw)]
        if kind in ("str", "e"):
            return raw
        if kind == "b":
            return raw.strip() in ("1", "true")
        if kind == "d":
            try:
                return dt.datetime.fromisoformat(raw)
            except ValueError:
                return raw
        number = float(raw) if any(char in raw for char in ".eE") else int(raw)
        style = cell.get("s")
        if style is not None and int(style) in self.date_styles:
            try:
                return from_excel(number, self.epoch)
            except (ValueError, OverflowError):
                return number
        return number


def _rich_text(element) -> str:
    """Text of a shared or inline string: plain <t>, or the <t> of each rich-text run.

    Phonetic guides (<rPh>) are left out, as Excel shows them only as annotations.
    """
    parts = []
    for child in element:
        name = _local(child.tag)
        if name == "t":
            parts.append(child.text or "")
        elif name == "r":
            parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
    return "".join(parts)


def _dimension_rows(reference: str) -> int:
    last = reference.split(":")[-1]
    match = _CELL_REF.match(last)
    return int(match.group(2)) if match else 0
