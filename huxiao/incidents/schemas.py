from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import ConfigDict, Field

from huxiao.core.api import DbId


class _In(Schema):
    model_config = ConfigDict(extra="forbid")


class IncidentOpenIn(_In):
    alarm_id: DbId
    title: str = Field("", max_length=1000)


class PersonIn(_In):
    user_id: DbId


class MemberIn(_In):
    group: str = Field(description="handling, casualty, order or scene")
    user_id: DbId
    organization_id: DbId | None = None
    role: str = Field("", max_length=1000)
    leader: bool = False


class TaskIn(_In):
    title: str = Field(max_length=2000)
    owner_id: DbId
    due_at: dt.datetime
    group: str = Field("", description="handling, casualty, order, scene or empty")


class NoteIn(_In):
    text: str = Field(max_length=10000)


class CloseIn(_In):
    summary: str = Field(max_length=50000)
    casualties: str = Field("", max_length=50000)
    actions_taken: str = Field("", max_length=50000)
    lessons: str = Field("", max_length=50000)


class PersonOut(Schema):
    id: int
    name: str


class MemberOut(Schema):
    id: int
    user: PersonOut
    organization_id: int
    organization_name: str
    role: str
    is_leader: bool


class GroupOut(Schema):
    kind: str
    label: str
    leader: PersonOut | None
    members: list[MemberOut]


class TaskOut(Schema):
    id: int
    title: str
    group: str
    owner: PersonOut
    due_at: str
    status: str
    overdue: bool
    done_at: str | None
    done_by: str | None


class TimelineOut(Schema):
    source: str
    type: str
    label: str
    at: str
    by: str
    text: str
    data: dict


class IncidentSummaryOut(Schema):
    id: int
    school_id: int
    school_name: str
    alarm_id: int | None
    title: str
    status: str
    status_label: str
    is_drill: bool
    opened_at: str
    opened_by: str | None
    commander: PersonOut | None
    closed_at: str | None


class IncidentOut(IncidentSummaryOut):
    closed_by: str | None
    summary: str
    casualties: str
    actions_taken: str
    lessons: str
    can_manage: bool
    groups: list[GroupOut]
    tasks: list[TaskOut]
    timeline: list[TimelineOut]


class IncidentList(Schema):
    count: int
    items: list[IncidentSummaryOut]
