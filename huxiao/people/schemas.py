from __future__ import annotations

import datetime as dt

from ninja import Schema


class ClassOut(Schema):
    id: int
    school_id: int
    name: str
    grade: str
    head_teacher_id: int | None
    children_count: int | None = None


class ClassIn(Schema):
    school_id: int
    name: str
    grade: str = ""
    head_teacher_id: int | None = None


class ClassPatch(Schema):
    name: str | None = None
    grade: str | None = None
    head_teacher_id: int | None = None


class ChildOut(Schema):
    id: int
    school_id: int
    class_id: int
    class_name: str
    name: str
    gender: str
    birth_date: dt.date
    id_number_masked: str
    is_active: bool

    @staticmethod
    def resolve_class_id(obj):
        return obj.school_class_id

    @staticmethod
    def resolve_class_name(obj):
        return obj.school_class.name


class ChildIn(Schema):
    class_id: int
    name: str
    gender: str
    id_number: str
    birth_date: dt.date | None = None


class ChildPatch(Schema):
    class_id: int | None = None
    name: str | None = None
    gender: str | None = None
    id_number: str | None = None
    birth_date: dt.date | None = None
    is_active: bool | None = None


class IdNumberOut(Schema):
    id_number: str


class GuardianOut(Schema):
    id: int
    child_id: int
    name: str
    relationship: str
    phone: str
    can_pick_up: bool
    is_primary: bool
    id_number_masked: str


class GuardianIn(Schema):
    child_id: int
    name: str
    relationship: str
    phone: str
    can_pick_up: bool = True
    is_primary: bool = False
    id_number: str = ""


class GuardianPatch(Schema):
    name: str | None = None
    relationship: str | None = None
    phone: str | None = None
    can_pick_up: bool | None = None
    is_primary: bool | None = None
    id_number: str | None = None


class StaffOut(Schema):
    id: int
    school_id: int
    name: str
    role: str
    phone: str
    background_check: str
    background_checked_on: dt.date | None
    id_number_masked: str
    is_active: bool


class StaffIn(Schema):
    school_id: int
    name: str
    role: str
    phone: str = ""
    background_check: str = ""
    background_checked_on: dt.date | None = None
    id_number: str = ""


class StaffPatch(Schema):
    name: str | None = None
    role: str | None = None
    phone: str | None = None
    background_check: str | None = None
    background_checked_on: dt.date | None = None
    id_number: str | None = None
    is_active: bool | None = None


def page_of(item_schema):
    return type(
        f"{item_schema.__name__}Page",
        (Schema,),
        {"__annotations__": {"count": int, "items": list[item_schema]}},
    )


ClassPage = page_of(ClassOut)
ChildPage = page_of(ChildOut)
GuardianPage = page_of(GuardianOut)
StaffPage = page_of(StaffOut)
