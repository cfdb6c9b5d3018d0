"""Checking a roster spreadsheet: every row, against the file itself and the school's records.

Set-based on purpose (a 10,000-row roster must check in seconds): each checker loads what it
compares against — class names, ID hashes, guardian names — in one query per set when it is
created, then checks rows in memory. No query runs per row.

Field rules come from people.validation, the same functions the single-record services use,
so a value accepted on the child form is accepted in a spreadsheet and vice versa.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from huxiao.core.crypto import lookup_hash
from huxiao.core.idcard import mask_id_number
from huxiao.imports.choices import ImportKind
from huxiao.imports.columns import ID_NUMBER, Column, columns_for, normalize_header, page_label
from huxiao.imports.workbook import WorkbookError, open_first_sheet
from huxiao.people import validation as v
from huxiao.people.models import Child, Guardian, SchoolClass, Staff

DEFAULT_MAX_ROWS = 20_000
PREVIEW_ROWS = 20
# Enough to fix a file; a file with thousands of errors is usually the wrong file.
ERRORS_KEPT = 500
PROGRESS_EVERY = 500
# A title line or two above the header row is common in schools' own sheets.
HEADER_SEARCH_ROWS = 10


def max_rows() -> int:
    return getattr(settings, "IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)


@dataclass
class CleanRow:
    number: int  # the row number the user sees in Excel
    values: dict


@dataclass
class Outcome:
    """The result of checking one file. `errors` holds at most ERRORS_KEPT entries."""

    total_rows: int = 0
    error_count: int = 0
    errors: list[dict] = field(default_factory=list)
    preview: list[dict] = field(default_factory=list)
    rows: list[CleanRow] = field(default_factory=list)

    def add_error(self, row: int | None, column: str, message) -> None:
        self.error_count += 1
        if len(self.errors) < ERRORS_KEPT:
            self.errors.append({"row": row, "column": column, "message": str(message)})

    @classmethod
    def file_error(cls, message) -> Outcome:
        """One error about the whole file, and nothing else (no row errors, no preview)."""
        outcome = cls()
        outcome.add_error(None, "", message)
        return outcome


# ---------------------------------------------------------------- cell values


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value) -> str:
    """Cell text; numbers typed into text columns (phones, names of classes) lose the '.0'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _date_value(value):
    return value if isinstance(value, dt.date) else _text(value)


def _clean_id(value, required: bool) -> str:
    # Excel stores a number typed into a General cell as a double with 15 significant
    # digits, so the last digits of an 18-digit ID are already lost: say so plainly.
    if isinstance(value, float) and abs(value) >= 1e14:
        raise ValidationError(
            _(
                "The ID number was stored as a number and Excel dropped its last digits. "
                "Format the column as text and type the number again."
            ),
            code="id_as_number",
        )
    return v.clean_id_number(_text(value), required=required)


def _clean_optional_phone(value) -> str:
    return v.clean_phone(_text(value), required=False)


def _clean_bool_default_yes(value) -> bool:
    return v.clean_bool(_text(value), default=True)


def _clean_bool_default_no(value) -> bool:
    return v.clean_bool(_text(value), default=False)


DUPLICATE_IN_FILE = _("Duplicate of row %(row)s in this file.")


# ---------------------------------------------------------------- row checkers


class RowChecker:
    """Cleans one row at a time against sets loaded once for the school.

    `check` returns the cleaned values (column keys hold cleaned values; resolved foreign
    keys get their own keys, e.g. `school_class_id`) and a FieldErrors keyed by column key.
    """

    def __init__(self, school):
        self.school = school
        self.first_row_of: dict = {}

    def check(self, number: int, raw: dict) -> tuple[dict, v.FieldErrors]:
        raise NotImplementedError

    def _unique_in_file(self, errors, column: str, key, number: int) -> bool:
        first = self.first_row_of.get(key)
        if first is not None:
            errors.add(column, DUPLICATE_IN_FILE % {"row": first})
            return False
        self.first_row_of[key] = number
        return True


class ClassRows(RowChecker):
    def __init__(self, school):
        super().__init__(school)
        self.existing_names = set(
            SchoolClass.objects.filter(school=school).values_list("name", flat=True)
        )
        self.staff_by_name: dict[str, list[int]] = defaultdict(list)
        for name, pk in Staff.objects.filter(school=school, is_active=True).values_list(
            "name", "id"
        ):
            self.staff_by_name[name].append(pk)

    def check(self, number, raw):
        errors = v.FieldErrors()
        cleaned = {"name": errors.run("name", v.clean_name, _text(raw.get("name")))}
        if cleaned["name"]:
            if cleaned["name"] in self.existing_names:
                errors.add("name", _("A class with this name already exists at this school."))
            else:
                self._unique_in_file(errors, "name", cleaned["name"], number)
        # Same rule as people.services.class_create.
        cleaned["grade"] = v.clean_grade(_text(raw.get("grade")))
        teacher = _text(raw.get("head_teacher"))
        cleaned["head_teacher"] = teacher
        cleaned["head_teacher_id"] = None
        if teacher:
            matches = self.staff_by_name.get(teacher, [])
            if not matches:
                errors.add(
                    "head_teacher",
                    _("No staff member named %(name)s works at this school.") % {"name": teacher},
                )
            elif len(matches) > 1:
                errors.add(
                    "head_teacher",
                    _(
                        "Several staff members are named %(name)s; leave the cell empty and "
                        "choose the head teacher on the class page."
                    )
                    % {"name": teacher},
                )
            else:
                cleaned["head_teacher_id"] = matches[0]
        return cleaned, errors


class ChildRows(RowChecker):
    def __init__(self, school):
        super().__init__(school)
        self.class_ids = dict(SchoolClass.objects.filter(school=school).values_list("name", "id"))
        # Every child ever enrolled here, active or not: the database constraint is per school.
        self.enrolled = set(
            Child.objects.filter(school=school)
            .exclude(id_number_hash="")
            .values_list("id_number_hash", flat=True)
        )

    def check(self, number, raw):
        errors = v.FieldErrors()
        cleaned = {}
        class_name = errors.run("school_class", v.clean_name, _text(raw.get("school_class")))
        cleaned["school_class"] = class_name
        cleaned["school_class_id"] = self.class_ids.get(class_name) if class_name else None
        if class_name and cleaned["school_class_id"] is None:
            errors.add(
                "school_class",
                _("There is no class named %(name)s at this school; import or create it first.")
                % {"name": class_name},
            )
        cleaned["name"] = errors.run("name", v.clean_name, _text(raw.get("name")))
        cleaned["gender"] = errors.run("gender", v.clean_gender, _text(raw.get("gender")))
        id_number = errors.run("id_number", _clean_id, raw.get("id_number"), True)
        cleaned["id_number"] = id_number
        if id_number:
            digest = lookup_hash(id_number)
            if digest in self.enrolled:
                errors.add(
                    "id_number", _("A child with this resident ID number is already enrolled.")
                )
            else:
                self._unique_in_file(errors, "id_number", digest, number)
        typed = errors.run("birth_date", v.clean_date, _date_value(raw.get("birth_date")))
        cleaned["birth_date"] = None
        if id_number or typed:
            # The ID number decides the birth date; a typed date must agree with it.
            cleaned["birth_date"] = errors.run(
                "birth_date" if typed else "id_number",
                v.clean_child_birth_date,
                typed,
                id_number or "",
            )
        return cleaned, errors


class GuardianRows(RowChecker):
    def __init__(self, school):
        super().__init__(school)
        self.child_ids = dict(
            Child.objects.filter(school=school)
            .exclude(id_number_hash="")
            .values_list("id_number_hash", "id")
        )
        self.existing = set(
            Guardian.objects.filter(child__school=school).values_list("child_id", "name")
        )

    def check(self, number, raw):
        errors = v.FieldErrors()
        cleaned = {}
        child_number = errors.run("child_id_number", _clean_id, raw.get("child_id_number"), True)
        cleaned["child_id_number"] = child_number
        cleaned["child_id"] = None
        if child_number:
            cleaned["child_id"] = self.child_ids.get(lookup_hash(child_number))
            if cleaned["child_id"] is None:
                errors.add(
                    "child_id_number",
                    _("No child with this resident ID number is enrolled at this school."),
                )
        cleaned["name"] = errors.run("name", v.clean_name, _text(raw.get("name")))
        if cleaned["child_id"] and cleaned["name"]:
            key = (cleaned["child_id"], cleaned["name"])
            if key in self.existing:
                errors.add("name", _("This child already has a guardian with this name."))
            else:
                self._unique_in_file(errors, "name", key, number)
        cleaned["relationship"] = errors.run(
            "relationship", v.clean_relationship, _text(raw.get("relationship"))
        )
        cleaned["phone"] = errors.run("phone", v.clean_phone, _text(raw.get("phone")))
        # Blank means the defaults of guardian_create: may pick up, not the primary contact.
        cleaned["can_pick_up"] = errors.run(
            "can_pick_up", _clean_bool_default_yes, raw.get("can_pick_up")
        )
        cleaned["is_primary"] = errors.run(
            "is_primary", _clean_bool_default_no, raw.get("is_primary")
        )
        cleaned["id_number"] = errors.run("id_number", _clean_id, raw.get("id_number"), False)
        return cleaned, errors


class StaffRows(RowChecker):
    def __init__(self, school):
        super().__init__(school)
        self.hashes = set()
        self.names_and_phones = set()
        for name, phone, digest in Staff.objects.filter(school=school).values_list(
            "name", "phone", "id_number_hash"
        ):
            if digest:
                self.hashes.add(digest)
            self.names_and_phones.add((name, phone))

    def check(self, number, raw):
        errors = v.FieldErrors()
        cleaned = {"name": errors.run("name", v.clean_name, _text(raw.get("name")))}
        cleaned["role"] = errors.run("role", v.clean_staff_role, _text(raw.get("role")))
        cleaned["phone"] = errors.run("phone", _clean_optional_phone, raw.get("phone"))
        cleaned["id_number"] = errors.run("id_number", _clean_id, raw.get("id_number"), False)
        cleaned["background_check"] = errors.run(
            "background_check", v.clean_background_check, _text(raw.get("background_check"))
        )
        cleaned["background_checked_on"] = errors.run(
            "background_checked_on", v.clean_date, _date_value(raw.get("background_checked_on"))
        )
        # Staff are the same person by ID number when there is one, else by name and phone.
        if cleaned["id_number"]:
            digest = lookup_hash(cleaned["id_number"])
            if digest in self.hashes:
                errors.add(
                    "id_number",
                    _("A staff member with this resident ID number already works at this school."),
                )
            else:
                self._unique_in_file(errors, "id_number", ("id", digest), number)
        elif cleaned["name"] and cleaned["phone"] is not None:
            key = (cleaned["name"], cleaned["phone"])
            if key in self.names_and_phones:
                errors.add(
                    "name", _("A staff member with this name and phone number already exists.")
                )
            else:
                self._unique_in_file(errors, "name", ("name", key), number)
        return cleaned, errors


CHECKERS: dict[str, type[RowChecker]] = {
    ImportKind.CLASSES: ClassRows,
    ImportKind.CHILDREN: ChildRows,
    ImportKind.GUARDIANS: GuardianRows,
    ImportKind.STAFF: StaffRows,
}


# ---------------------------------------------------------------- the sheet


def _display(column: Column, raw, cleaned: dict) -> str:
    """A preview cell: the cleaned value where it is valid; ID numbers always masked."""
    value = cleaned.get(column.key)
    if column.value_type == ID_NUMBER:
        text = value or _text(raw)
        return mask_id_number(text) if text else ""
    if value is None or value == "":
        return _text(raw)[:50]
    return page_label(column.value_type, value)


def _map_columns(columns, header: tuple) -> tuple[dict[str, int], dict[str, str]]:
    by_name = {name: column for column in columns for name in column.accepted_names()}
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    for index, cell in enumerate(header):
        column = by_name.get(normalize_header(_text(cell)))
        if column is None:
            continue  # extra columns (remarks, numbering) are allowed and ignored
        if column.key in positions:
            raise WorkbookError(
                _("The column %(name)s appears twice in the header row.") % {"name": column.header}
            )
        positions[column.key] = index
        headers[column.key] = _text(cell)
    missing = [
        column.header for column in columns if column.required and column.key not in positions
    ]
    if missing:
        raise WorkbookError(
            _(
                "Required columns are missing: %(columns)s. Copy the header row from the "
                "template of this roster."
            )
            % {"columns": ", ".join(missing)}
        )
    return positions, headers


def _example_texts(columns) -> dict[str, str]:
    return {column.key: _text(column.example) for column in columns}


@dataclass
class SheetRows:
    """The mapped cells of a sheet: what the check read, and what the import re-checks.

    `headers` maps column keys to the header text as written in the file (error messages
    name the column the way the user wrote it); `rows` holds (row number, {key: cell}).
    """

    headers: dict[str, str]
    rows: Iterable[tuple[int, dict]]
    estimated_rows: int = 0

    def to_json(self) -> str:
        return json.dumps(
            {"headers": self.headers, "rows": [[n, _encode_cells(raw)] for n, raw in self.rows]},
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> SheetRows:
        payload = json.loads(text)
        rows = [(number, _decode_cells(cells)) for number, cells in payload["rows"]]
        return cls(headers=payload["headers"], rows=rows, estimated_rows=len(rows))


# Cells are str, numbers, bools, dates and datetimes; JSON keeps all but the dates.
def _encode_cells(raw: dict) -> dict:
    encoded = {}
    for key, value in raw.items():
        if isinstance(value, dt.datetime):
            value = {"$datetime": value.isoformat()}
        elif isinstance(value, dt.date):
            value = {"$date": value.isoformat()}
        elif not isinstance(value, str | int | float | bool | None):
            value = str(value)
        encoded[key] = value
    return encoded


def _decode_cells(cells: dict) -> dict:
    decoded = {}
    for key, value in cells.items():
        if isinstance(value, dict):
            if "$datetime" in value:
                value = dt.datetime.fromisoformat(value["$datetime"])
            elif "$date" in value:
                value = dt.date.fromisoformat(value["$date"])
        decoded[key] = value
    return decoded


def _find_header(columns, rows: Iterator[tuple]) -> tuple[int, tuple]:
    known = {name for column in columns for name in column.accepted_names()}
    first_filled = None
    for number, row in enumerate(rows, start=1):
        if any(normalize_header(_text(value)) in known for value in row):
            return number, row
        if first_filled is None and any(not _is_blank(value) for value in row):
            first_filled = row
        if number >= HEADER_SEARCH_ROWS:
            break
    if first_filled is None:
        raise WorkbookError(_("The first worksheet is empty."))
    return 0, first_filled  # reported as missing columns by _map_columns


def _data_rows(columns, positions, header_number, rows) -> Iterator[tuple[int, dict]]:
    """Mapped, non-empty rows with their spreadsheet row numbers; enforces the row limit."""
    example = _example_texts(columns)
    limit = max_rows()
    width_needed = max(positions.values()) + 1
    count = 0
    # Blank rows cost time too: a tiny file can number its only row 1,000,000.
    last_number = header_number + 2 * limit + 1000
    too_many = _("The file has more than %(limit)s rows; split it into several files.")
    for number, row in enumerate(rows, start=header_number + 1):
        if number > last_number:
            raise WorkbookError(too_many % {"limit": limit})
        if len(row) < width_needed:
            row = tuple(row) + (None,) * (width_needed - len(row))
        raw = {key: row[index] for key, index in positions.items()}
        if all(_is_blank(value) for value in raw.values()):
            continue
        if all(_text(value) == example[key] for key, value in raw.items()):
            continue  # the template's example row, left in
        count += 1
        if count > limit:
            raise WorkbookError(
                _("The file has more than %(limit)s rows; split it into several files.")
                % {"limit": limit}
            )
        yield number, raw


def validate_workbook(
    *,
    kind: str,
    school,
    data: bytes,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[Outcome, SheetRows | None]:
    """Read and check every row of the file; never raises for anything the file contains.

    Returns the outcome and, when the file could be read, the rows read (for sealing, so
    the import re-checks them without parsing the file again).
    """
    columns = columns_for(kind)
    try:
        with open_first_sheet(data) as sheet:
            header_number, header = _find_header(columns, sheet.rows)
            positions, headers = _map_columns(columns, header)
            read: list[tuple[int, dict]] = []

            def reading():
                for item in _data_rows(columns, positions, header_number, sheet.rows):
                    read.append(item)
                    yield item

            sheet_rows = SheetRows(
                headers=headers,
                rows=reading(),
                estimated_rows=max(sheet.estimated_rows - header_number, 0),
            )
            outcome = check_rows(
                kind=kind, school=school, sheet_rows=sheet_rows, on_progress=on_progress
            )
    except WorkbookError as exc:
        return Outcome.file_error(exc.message), None
    return outcome, SheetRows(headers=headers, rows=read)


def check_rows(
    *,
    kind: str,
    school,
    sheet_rows: SheetRows,
    on_progress: Callable[[int, int], None] | None = None,
    keep_rows: bool = False,
) -> Outcome:
    """Check rows against the file itself and the school's records (one query per set)."""
    columns = columns_for(kind)
    headers = {column.key: column.header for column in columns} | sheet_rows.headers
    checker = CHECKERS[kind](school)
    outcome = Outcome()
    for number, raw in sheet_rows.rows:
        outcome.total_rows += 1
        cleaned, errors = checker.check(number, raw)
        for key, messages in errors.errors.items():
            for message in messages:
                outcome.add_error(number, headers[key], message)
        if len(outcome.preview) < PREVIEW_ROWS:
            outcome.preview.append(
                {
                    "row": number,
                    # Values the import derives (a birth date from the ID number, a
                    # default yes/no) show even where the file has no such column.
                    "values": [
                        _display(column, raw.get(column.key), cleaned) for column in columns
                    ],
                    "error": bool(errors.errors),
                }
            )
        if keep_rows and not errors.errors:
            outcome.rows.append(CleanRow(number, cleaned))
        if on_progress is not None and outcome.total_rows % PROGRESS_EVERY == 0:
            on_progress(outcome.total_rows, max(sheet_rows.estimated_rows, outcome.total_rows))
    if outcome.total_rows == 0:
        return Outcome.file_error(_("There are no rows under the header row."))
    return outcome
