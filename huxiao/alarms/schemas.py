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


class AlarmOut(Schema):
    """What alarm_payload() gives; consoles receive the same shape over the socket."""

    id: int
    school_id: int
    school_name: str
    kind: str
    kind_label: str
    location: str
    note: str
    is_drill: bool
    source: str
    status: str
    status_label: str
    raised_at: str
    raised_by: str | None
    cancel_window_ends_at: str
    acknowledged_at: str | None
    acknowledged_by: str | None
    dispatched_at: str | None
    dispatch_note: str
    arrived_at: str | None
    resolved_at: str | None
    outcome: str
    cancelled_at: str | None
    cancel_reason: str
    is_false_alarm: bool
    escalation_level: int
    ack_seconds: float | None
    arrival_seconds: float | None


class AlarmList(Schema):
    items: list[AlarmOut]


class ResponseStatsRowOut(Schema):
    """One school, one police station (id null: schools without a station) or the total.
    Times are seconds; null when no alarm reached that step."""

    id: int | None
    name: str
    station_name: str
    alarms: int
    acknowledged: int
    not_acknowledged: int
    arrived: int
    false_alarms: int
    accidental_presses: int
    ack_seconds_avg: float | None
    ack_seconds_median: float | None
    ack_seconds_max: float | None
    arrival_seconds_avg: float | None
    arrival_seconds_median: float | None
    arrival_seconds_max: float | None


class ResponseStatsOut(Schema):
    group_by: str
    since: str
    until: str
    drills_included: bool
    medians_complete: bool
    rows: list[ResponseStatsRowOut]
    total: ResponseStatsRowOut
