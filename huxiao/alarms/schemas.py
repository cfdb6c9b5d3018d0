from __future__ import annotations

from ninja import Schema
from pydantic import ConfigDict

from huxiao.core.api import DbId


class AlarmIn(Schema):
    model_config = ConfigDict(extra="forbid")

    kind: str
    location: str = ""
    note: str = ""
    drill: bool = False
    school_id: DbId | None = None


class DispatchIn(Schema):
    model_config = ConfigDict(extra="forbid")

    units: str


class ResolveIn(Schema):
    model_config = ConfigDict(extra="forbid")

    outcome: str


class CancelIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: str = ""
