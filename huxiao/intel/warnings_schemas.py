"""Request/response schemas of warnings both ways (ADR 0019)."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import ConfigDict, Field

from huxiao.core.api import DbId


class _In(Schema):
    model_config = ConfigDict(extra="forbid")


class SignIn(_In):
    school_id: DbId | None = Field(None, description="Needed only by staff of several schools.")
    category: str = Field(max_length=30)
    description: str = Field(max_length=8000)
    observed_at: dt.datetime | None = None
    observed_place: str = Field("", max_length=400)
    time_node: str = Field("", max_length=30, description="Empty when not a special time node.")


class TransitionIn(_In):
    status: str = Field(max_length=20)
    note: str = Field(max_length=8000)


class Named(Schema):
    id: int
    name: str


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    url: str


class SignEventOut(Schema):
    status: str
    status_label: str
    at: dt.datetime
    by: str
    note: str


class SignOut(Schema):
    id: int
    school: Named
    category: str
    category_label: str
    description: str
    observed_at: dt.datetime | None
    observed_place: str
    time_node: str
    time_node_label: str
    status: str
    status_label: str
    reported_at: dt.datetime
    reported_by: str
    feedback: str
    closed_at: dt.datetime | None
    attachments: list[AttachmentOut] = []
    events: list[SignEventOut] = []


class SignPage(Schema):
    count: int
    items: list[SignOut]


class EarlyIn(_In):
    school_ids: list[DbId] = Field(default_factory=list, max_length=500)
    all_schools: bool = False
    issuer_id: DbId | None = Field(
        None, description="Needed only by police who belong to several stations/posts."
    )
    title: str = Field(max_length=400)
    content: str = Field(max_length=16000)
    level: str = Field(max_length=10)
    valid_from: dt.datetime
    valid_until: dt.datetime


class RecipientOut(Schema):
    school: Named
    acknowledged_at: dt.datetime | None
    acknowledged_by: str
    reminders_sent: int


class EarlyOut(Schema):
    id: int
    issuer: Named
    title: str
    content: str
    level: str
    level_label: str
    valid_from: dt.datetime
    valid_until: dt.datetime
    is_active: bool
    issued_at: dt.datetime
    issued_by: str
    acknowledged_count: int
    recipient_count: int
    recipients: list[RecipientOut]


class EarlyPage(Schema):
    count: int
    items: list[EarlyOut]
