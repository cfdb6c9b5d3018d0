"""REST handlers of the monitoring-room log (issue 7 item 6; ADR 0029 "Monitoring room").

- GET  /duty/monitoring?school_id=&date=   one local day of a school's log (VIEW), with the
                                           day's coverage and the gaps flagged on it
- POST /duty/monitoring                    a new entry (KEEP_DUTY): 201

Out of scope is 404; the wrong role 403; bad input 400 with `errors` by field.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import Field

from huxiao.core.api import DbId, ErrorOut
from huxiao.core.names import person_name
from huxiao.duty import duty_selectors as sel
from huxiao.duty import monitoring_selectors as msel
from huxiao.duty import monitoring_services as services

router = Router(tags=["duty: monitoring room"])


class EntryOut(Schema):
    id: int
    school_id: int
    watcher_id: int | None
    watcher: str
    period_start: dt.datetime
    period_end: dt.datetime
    observations: str
    actions: str
    anomaly: bool
    created_by: str
    created_at: dt.datetime


class GapRef(Schema):
    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    resolved_at: dt.datetime | None


class DayOut(Schema):
    school_id: int
    date: dt.date
    covered_percent: int
    max_gap_minutes: int
    entries: list[EntryOut]
    gaps: list[GapRef]


class EntryIn(Schema):
    school_id: DbId
    watcher_id: DbId | None = None
    watcher_name: str = Field("", max_length=1000)
    period_start: dt.datetime
    period_end: dt.datetime
    observations: str = Field(max_length=20000)
    actions: str = Field("", max_length=20000)
    anomaly: bool = False


def entry_payload(e) -> dict:
    return {
        "id": e.pk,
        "school_id": e.school_id,
        "watcher_id": e.watcher_id,
        "watcher": person_name(e.watcher) if e.watcher_id else e.watcher_name,
        "period_start": e.period_start,
        "period_end": e.period_end,
        "observations": e.observations,
        "actions": e.actions,
        "anomaly": e.anomaly,
        "created_by": person_name(e.created_by) if e.created_by_id else "",
        "created_at": e.created_at,
    }


@router.get("/duty/monitoring", response={200: DayOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut})
def monitoring_day(request, school_id: DbId, date: dt.date | None = None):
    """One local day (default today) of the school's log; `date` within 2000-01-01 to
    2100-12-31 (400 otherwise)."""
    school = sel.school_get(actor=request.auth, school_id=school_id)
    sel.check_date(date, "date")
    now = timezone.now()
    day = date or timezone.localtime(now).date()
    since, until = msel.day_bounds(day)
    entries = list(
        msel.entry_list(actor=request.auth, school_id=school.pk, since=since, until=until)
    )
    plan = sel.plan_for(school.pk)
    coverage = msel.day_coverage(entries, day, now, plan.monitoring_max_gap_minutes)
    return {
        "school_id": school.pk,
        "date": day,
        "covered_percent": coverage.percent,
        "max_gap_minutes": plan.monitoring_max_gap_minutes,
        "entries": [entry_payload(e) for e in entries],
        "gaps": [
            {
                "id": g.pk,
                "starts_at": g.starts_at,
                "ends_at": g.ends_at,
                "resolved_at": g.resolved_at,
            }
            for g in msel.monitoring_gaps_of_day(school_id=school.pk, day=day)
        ],
    }


@router.post(
    "/duty/monitoring", response={201: EntryOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
)
def monitoring_add(request, payload: EntryIn):
    """One stretch of watching: a member of the school (`watcher_id`) or a name, from/until
    (until ≥ from, not in the future, at most 24 hours), what was seen, what was done."""
    entry = services.monitoring_add(
        actor=request.auth,
        school_id=payload.school_id,
        watcher=payload.watcher_id,
        watcher_name=payload.watcher_name,
        period_start=payload.period_start,
        period_end=payload.period_end,
        observations=payload.observations,
        actions=payload.actions,
        anomaly=payload.anomaly,
    )
    return Status(201, entry_payload(entry))
