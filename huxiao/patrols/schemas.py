"""Request and response schemas of the patrols API."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import ConfigDict, Field

from huxiao.core.api import DbId, ErrorOut


class _In(Schema):
    model_config = ConfigDict(extra="forbid")


class WindowIn(_In):
    weekday: int = Field(ge=0, le=6, description="Monday 0 … Sunday 6")
    starts: str = Field(max_length=8, description="local time HH:MM")
    ends: str = Field(max_length=8, description="local time HH:MM")


class PostIn(_In):
    school_id: DbId
    period: str = Field(max_length=20, description="morning, noon or afternoon")
    location: str = Field(max_length=1000)
    note: str = Field("", max_length=10000)
    windows: list[WindowIn] = Field(max_length=7)


class PostUpdateIn(_In):
    location: str = Field(max_length=1000)
    note: str = Field("", max_length=10000)
    is_active: bool = True
    windows: list[WindowIn] = Field(max_length=7)


class StaffIn(_In):
    kind: str = Field(
        max_length=30,
        description="police, auxiliary_police, guard, school_staff, parent_volunteer, "
        "community_volunteer or militia",
    )
    user_id: DbId | None = None
    name: str = Field("", max_length=200)
    phone: str = Field("", max_length=40)
    weekdays: list[int] = Field(default_factory=list, max_length=7)


class WindowOut(Schema):
    weekday: int
    starts: str
    ends: str


class StaffOut(Schema):
    id: int
    kind: str
    kind_label: str
    user_id: int | None
    name: str
    phone: str
    weekdays: list[int]


class PostOut(Schema):
    id: int
    school_id: int
    school_name: str
    period: str
    period_label: str
    location: str
    note: str
    is_active: bool
    windows: list[WindowOut]
    staff: list[StaffOut]


class PostList(Schema):
    items: list[PostOut]


class CancelIn(_In):
    reason: str = Field(max_length=1000)


class CheckInIn(_In):
    post_id: DbId
    staff_id: DbId | None = Field(
        None, description="a planned person without an account, checked in by the caller"
    )
    vehicle_present: bool = False
    lights_on: bool = False
    latitude: float | None = None
    longitude: float | None = None
    accuracy_m: float | None = None
    note: str = Field("", max_length=2000)


class CheckInUpdateIn(_In):
    vehicle_present: bool
    lights_on: bool
    note: str | None = Field(None, max_length=2000)


class CheckInOut(Schema):
    id: int
    shift_id: int
    school_id: int
    kind: str
    kind_label: str
    person_name: str
    on_behalf: bool
    recorded_by: str
    checked_in_at: str
    checked_out_at: str | None
    is_late: bool
    latitude: float | None
    longitude: float | None
    accuracy_m: int | None
    has_photo: bool
    vehicle_present: bool
    lights_on: bool
    note: str


class ShiftOut(Schema):
    id: int
    post_id: int
    school_id: int
    school_name: str
    period: str
    period_label: str
    location: str
    date: str
    starts_at: str
    ends_at: str
    expects_police: bool
    staffed: bool
    police_present: bool
    police_car: bool
    police_lights: bool
    all_three: bool
    arrived_late: bool
    first_check_in_at: str | None
    police_arrived_at: str | None
    late_flagged_at: str | None
    missed_flagged_at: str | None
    cancelled_at: str | None
    cancel_reason: str


class ShiftDetailOut(ShiftOut):
    check_ins: list[CheckInOut]


class ShiftList(Schema):
    items: list[ShiftOut]


class CheckInList(Schema):
    count: int
    items: list[CheckInOut]


class RefusalOut(ErrorOut):
    """A check-in refused: `detail` is the reason to show; `code` one of too_early,
    too_late, not_today, cancelled, inactive, duplicate, closed."""

    code: str


class CoverageRowOut(Schema):
    key: int | str | None
    name: str
    station_name: str
    shifts: int
    staffed: int
    police: int
    car: int
    lights: int
    all_three: int
    late: int
    missed: int
    staffed_rate: float | None
    police_rate: float | None
    car_rate: float | None
    lights_rate: float | None
    three_rate: float | None


class CoverageOut(Schema):
    since: str
    until: str
    groups: dict[str, list[CoverageRowOut]]
    total: CoverageRowOut


class WeekCellOut(Schema):
    school_id: int
    date: str
    period: str
    shift_id: int
    staffed: bool
    police_present: bool
    police_car: bool
    police_lights: bool
    cancelled: bool


class WeekGridOut(Schema):
    week_start: str
    cells: list[WeekCellOut]


class PatrolLogIn(_In):
    started_at: dt.datetime
    ended_at: dt.datetime
    mode: str = Field(max_length=20, description="car, foot or mixed")
    dress: str = Field(max_length=20, description="uniform, plain_clothes or mixed")
    route: str = Field(max_length=2000)
    school_ids: list[DbId] = Field(max_length=200)
    companions: str = Field("", max_length=1000)
    findings: str = Field("", max_length=10000)
    suspicious_checked: int = Field(0, ge=0, le=9999)
    suspicious_notes: str = Field("", max_length=10000)


class PatrolLogOut(Schema):
    id: int
    officer: str
    started_at: str
    ended_at: str
    mode: str
    mode_label: str
    dress: str
    dress_label: str
    route: str
    schools: list[dict]
    companions: str
    findings: str
    suspicious_checked: int
    suspicious_notes: str


class PatrolLogList(Schema):
    count: int
    items: list[PatrolLogOut]


class VisitIn(_In):
    school_id: DbId
    arrived_at: dt.datetime | None = None
    left_at: dt.datetime | None = None
    information_collected: str = Field("", max_length=10000)
    guidance_given: str = Field("", max_length=10000)
    problems_found: str = Field("", max_length=10000)


class VisitCompleteIn(_In):
    left_at: dt.datetime | None = None
    information_collected: str = Field("", max_length=10000)
    guidance_given: str = Field("", max_length=10000)
    problems_found: str = Field("", max_length=10000)


class VisitOut(Schema):
    id: int
    school_id: int
    school_name: str
    officer: str
    arrived_at: str
    left_at: str | None
    information_collected: str
    guidance_given: str
    problems_found: str


class VisitList(Schema):
    count: int
    items: list[VisitOut]


class VisitWeekRowOut(Schema):
    school_id: int
    name: str
    station_name: str
    visits: int
    required: int
    met: bool
    flagged_at: str | None


class VisitWeekOut(Schema):
    week_start: str
    rows: list[VisitWeekRowOut]
