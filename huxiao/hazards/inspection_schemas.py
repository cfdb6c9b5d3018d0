"""Request and response schemas of the inspections API."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import ConfigDict, Field

from huxiao.core.api import DbId


class _In(Schema):
    model_config = ConfigDict(extra="forbid")


class InspectionPlanIn(_In):
    school_id: DbId
    template_id: DbId
    kind: str = Field(
        max_length=30, description="self_check, police, central_school, governance or joint"
    )
    planned_on: str = Field(max_length=20, description="YYYY-MM-DD")
    unannounced: bool = False
    inspector_ids: list[DbId] = Field(default_factory=list, max_length=20)
    organization_id: DbId | None = None


class AnswerIn(_In):
    item_id: DbId
    result: str = Field(max_length=10, description="pass, fail or na")
    note: str = Field("", max_length=5000)
    score: str | None = Field(None, max_length=20)


class SignOffIn(_In):
    summary: str = Field("", max_length=10000)


class FindingHazardIn(_In):
    title: str | None = Field(None, max_length=1000)
    level: str = Field("general", max_length=10)
    deadline: str | None = Field(None, max_length=20)


class AnswerOut(Schema):
    id: int
    item_id: int
    result: str
    result_label: str
    score: str
    note: str
    photo_ids: list[int]
    hazard_id: int | None
    answered_at: dt.datetime


class InspectionOut(Schema):
    id: int
    school_id: int
    school_name: str
    template_id: int
    template_name: str
    template_version: int
    kind: str
    kind_label: str
    unannounced: bool
    organization_id: int
    organization_name: str
    inspector_ids: list[int]
    planned_on: dt.date
    status: str
    status_label: str
    started_at: dt.datetime | None
    signed_off_at: dt.datetime | None
    score: str | None
    max_score: str | None
    summary: str


class InspectionDetailOut(InspectionOut):
    answers: list[AnswerOut]
    unanswered_item_ids: list[int]
    missing_photo_item_ids: list[int]


class InspectionList(Schema):
    count: int
    items: list[InspectionOut]


class HazardRefOut(Schema):
    id: int
    title: str
