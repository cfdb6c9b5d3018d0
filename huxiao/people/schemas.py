from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import ConfigDict

from huxiao.core.api import DbId


class ClassOut(Schema):
    id: int
    school_id: int
    name: str
    grade: str
    head_teacher_id: int | None
    children_count: int | None = None


class ClassIn(Schema):
    model_config = ConfigDict(extra="forbid")

    school_id: DbId
    name: str
    grade: str = ""
    head_teacher_id: DbId | None = None


class ClassPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    grade: str | None = None
    head_teacher_id: DbId | None = None


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


def child_row(child) -> dict:
    """ChildOut of one child as a plain dict (the list's fast path); kept equal by a test."""
    return {
        "id": child.id,
        "school_id": child.school_id,
        "class_id": child.school_class_id,
        "class_name": child.school_class.name,
        "name": child.name,
        "gender": child.gender,
        "birth_date": child.birth_date,
        "id_number_masked": child.id_number_masked,
        "is_active": child.is_active,
    }


class ChildIn(Schema):
    model_config = ConfigDict(extra="forbid")

    class_id: DbId
    name: str
    gender: str
    id_number: str
    birth_date: dt.date | None = None


class ChildPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    class_id: DbId | None = None
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
    model_config = ConfigDict(extra="forbid")

    child_id: DbId
    name: str
    relationship: str
    phone: str
    can_pick_up: bool = True
    is_primary: bool = False
    id_number: str = ""


class GuardianPatch(Schema):
    model_config = ConfigDict(extra="forbid")

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
    model_config = ConfigDict(extra="forbid")

    school_id: DbId
    name: str
    role: str
    phone: str = ""
    background_check: str = ""
    background_checked_on: dt.date | None = None
    id_number: str = ""


class StaffPatch(Schema):
    model_config = ConfigDict(extra="forbid")

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
