from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import ConfigDict, Field

from huxiao.core.api import DbId


class _In(Schema):
    model_config = ConfigDict(extra="forbid")


class PersonIn(_In):
    station_id: DbId | None = Field(
        None, description="Needed only by users who keep the register of several stations."
    )
    name: str = Field(max_length=100)
    id_number: str = Field("", max_length=24)
    birth_date: dt.date | None = Field(None, description="Needed when there is no ID number.")
    gender: str = Field("", max_length=10)
    address: str = Field("", max_length=1000)
    notes: str = Field("", max_length=20000)
    category: str = Field(max_length=30)
    risk_level: str = Field(max_length=10)
    related_school_ids: list[DbId] = Field(default_factory=list, max_length=200)
    responsible_officer_id: DbId | None = None
    next_review_on: dt.date | None = None


class PersonPatch(_In):
    """Only the fields sent are changed."""

    name: str | None = Field(None, max_length=100)
    id_number: str | None = Field(None, max_length=24)
    birth_date: dt.date | None = None
    gender: str | None = Field(None, max_length=10)
    address: str | None = Field(None, max_length=1000)
    notes: str | None = Field(None, max_length=20000)
    category: str | None = Field(None, max_length=30)
    risk_level: str | None = Field(None, max_length=10)
    related_school_ids: list[DbId] | None = Field(None, max_length=200)
    responsible_officer_id: DbId | None = None
    next_review_on: dt.date | None = None


class SearchIn(_In):
    q: str = Field(max_length=50, description="A name, or a full resident ID number.")
    status: str = Field("", max_length=10)


class CloseIn(_In):
    reason: str = Field(max_length=30)
    note: str = Field("", max_length=10000)


class MeasureIn(_In):
    kind: str = Field(max_length=20)
    started_on: dt.date
    ended_on: dt.date | None = None
    responsible_id: DbId | None = None
    notes: str = Field("", max_length=20000)


class MeasureEndIn(_In):
    ended_on: dt.date


class FollowUpIn(_In):
    on: dt.date
    method: str = Field(max_length=20)
    assessment: str = Field(max_length=30)
    finding: str = Field(max_length=20000)
    next_review_on: dt.date | None = None


class NamedOut(Schema):
    id: int
    name: str


class PersonSummaryOut(Schema):
    id: int
    reference: str
    station: NamedOut
    name: str
    gender: str
    id_number_masked: str
    category: str
    category_label: str
    risk_level: str
    risk_level_label: str
    status: str
    status_label: str
    next_review_on: dt.date | None
    review_due: bool
    responsible_officer: NamedOut | None
    related_schools: list[str]


class PersonPage(Schema):
    count: int
    items: list[PersonSummaryOut]


class MeasureOut(Schema):
    id: int
    kind: str
    kind_label: str
    started_on: dt.date
    ended_on: dt.date | None
    current: bool
    responsible: NamedOut | None
    notes: str


class FollowUpOut(Schema):
    id: int
    on: dt.date
    method: str
    method_label: str
    assessment: str
    assessment_label: str
    finding: str
    by: NamedOut | None


class HitOut(Schema):
    id: int
    at: dt.datetime
    school: NamedOut
    match: str
    match_label: str
    screened_by: str


class PersonOut(PersonSummaryOut):
    id_number: str
    birth_date: dt.date | None
    address: str
    notes: str
    related_school_ids: list[int]
    closed_reason: str
    closed_reason_label: str
    closed_note: str
    closed_at: dt.datetime | None
    has_photo: bool
    created_at: dt.datetime
    created_by: NamedOut | None
    measures: list[MeasureOut]
    follow_ups: list[FollowUpOut]
    screening_hits: list[HitOut]


class AccessOut(Schema):
    at: dt.datetime
    actor: str
    action: str
    purpose: str


class AccessLog(Schema):
    items: list[AccessOut]
