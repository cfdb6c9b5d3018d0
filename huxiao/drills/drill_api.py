"""REST handlers of drill records (issue 8 item 2; ADR 0030), the same rights as the pages:
the police of the jurisdiction read, the school's own recorders write.

- GET   /drills/activities/{id}/drill              the record (empty values before the first
                                                   write), its alarm, problems, linkable alarms
- PATCH /drills/activities/{id}/drill              typed times and headcounts (any subset)
- POST  /drills/activities/{id}/drill/signal       signal now (`with_alarm`: a drill alarm)
- POST  /drills/activities/{id}/drill/all-out      everyone out now
- POST  /drills/activities/{id}/drill/link-alarm   link a drill alarm of the drill's day
- POST  /drills/schools/{id}/drills                a drill taking place now (201), with the
                                                   alarm in the same transaction
- POST  /drills/activities/{id}/drill/problems     a problem found (201)
- DELETE /drills/problems/{id}                     remove one that is not a hazard (204)
- POST  /drills/problems/{id}/hazard               make it a hazard (201)
"""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from ninja import Router, Schema, Status
from pydantic import Field

from huxiao.core.api import DbId, ErrorOut
from huxiao.drills import activity_selectors as sel
from huxiao.drills import drill_services as services
from huxiao.drills.activity_api import ActivityDetailOut, detail_payload, refused
from huxiao.drills.activity_services import ActivityRefused
from huxiao.drills.choices import ActivityKind

router = Router(tags=["drills: drill records"])
TEXT = 20000


class AlarmBriefOut(Schema):
    id: int
    kind: str
    is_drill: bool
    status: str
    raised_at: dt.datetime
    acknowledged_at: dt.datetime | None
    arrived_at: dt.datetime | None
    ack_seconds: float | None
    arrival_seconds: float | None


class ProblemOut(Schema):
    id: int
    description: str
    hazard_id: int | None
    created_at: dt.datetime


class DrillOut(Schema):
    activity_id: int
    recorded: bool
    signal_at: dt.datetime | None
    all_out_at: dt.datetime | None
    duration_seconds: int | None
    duration: str
    expected_headcount: int | None
    counted_headcount: int | None
    missing: int | None
    missing_resolved: bool
    missing_note: str
    alarm: AlarmBriefOut | None
    problems: list[ProblemOut]
    linkable_alarms: list[AlarmBriefOut]


class DrillPatchIn(Schema):
    signal_at: dt.datetime | None = None
    all_out_at: dt.datetime | None = None
    expected_headcount: int | None = None
    counted_headcount: int | None = None
    missing_resolved: bool = False
    missing_note: str = Field("", max_length=TEXT)


class SignalIn(Schema):
    with_alarm: bool = False
    location: str = Field("", max_length=TEXT)


class StartIn(Schema):
    drill_kind: str = Field(max_length=40)
    title: str = Field("", max_length=TEXT)
    location: str = Field("", max_length=TEXT)
    with_alarm: bool = False


class LinkIn(Schema):
    alarm_id: DbId


class ProblemIn(Schema):
    description: str = Field(max_length=TEXT)


class HazardIn(Schema):
    category: str = Field("other", max_length=40)
    level: str = Field("general", max_length=40)
    deadline: dt.date | None = None


class HazardOut(Schema):
    problem_id: int
    hazard_id: int


def alarm_brief(alarm) -> dict | None:
    if alarm is None:
        return None
    return {
        "id": alarm.pk,
        "kind": alarm.kind,
        "is_drill": alarm.is_drill,
        "status": alarm.status,
        "raised_at": alarm.raised_at,
        "acknowledged_at": alarm.acknowledged_at,
        "arrived_at": alarm.arrived_at,
        "ack_seconds": alarm.ack_seconds,
        "arrival_seconds": alarm.arrival_seconds,
    }


def problem_payload(p) -> dict:
    return {
        "id": p.pk,
        "description": p.description,
        "hazard_id": p.hazard_id,
        "created_at": p.created_at,
    }


def _drill(request, activity_id):
    activity = sel.activity_get(actor=request.auth, activity_id=activity_id)
    if activity.kind != ActivityKind.DRILL:
        raise Http404
    return activity


def drill_payload(request, activity_id) -> dict:
    activity = _drill(request, activity_id)
    record = sel.record_of(activity)
    alarms = [] if record is not None and record.alarm_id else sel.linkable_alarms(activity)
    return {
        "activity_id": activity.pk,
        "recorded": record is not None,
        "signal_at": record.signal_at if record else None,
        "all_out_at": record.all_out_at if record else None,
        "duration_seconds": record.duration_seconds if record else None,
        "duration": sel.duration_text(record.duration_seconds) if record else "",
        "expected_headcount": record.expected_headcount
        if record
        else sel.expected_headcount(activity) or None,
        "counted_headcount": record.counted_headcount if record else None,
        "missing": record.missing if record else None,
        "missing_resolved": record.missing_resolved if record else False,
        "missing_note": record.missing_note if record else "",
        "alarm": alarm_brief(record.alarm) if record else None,
        "problems": [problem_payload(p) for p in record.problems.all()] if record else [],
        "linkable_alarms": [alarm_brief(a) for a in alarms],
    }


_STEP = {200: DrillOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


@router.get("/drills/activities/{activity_id}/drill", response={200: DrillOut, 404: ErrorOut})
def drill_get(request, activity_id: DbId):
    return drill_payload(request, activity_id)


def _step(request, activity_id, call, **kwargs):
    _drill(request, activity_id)
    try:
        call(actor=request.auth, activity_id=activity_id, **kwargs)
    except ActivityRefused as exc:
        return refused(request, exc)
    return drill_payload(request, activity_id)


@router.patch("/drills/activities/{activity_id}/drill", response=_STEP)
def drill_patch(request, activity_id: DbId, payload: DrillPatchIn):
    """Typed times and headcounts: only the fields sent change."""
    return _step(
        request,
        activity_id,
        services.drill_record_save,
        **payload.model_dump(exclude_unset=True),
    )


@router.post("/drills/activities/{activity_id}/drill/signal", response=_STEP)
def drill_signal(request, activity_id: DbId, payload: SignalIn):
    """The signal now (server time); with `with_alarm` by raising a drill alarm."""
    return _step(
        request,
        activity_id,
        services.drill_signal,
        with_alarm=payload.with_alarm,
        location=payload.location,
    )


@router.post("/drills/activities/{activity_id}/drill/all-out", response=_STEP)
def drill_all_out(request, activity_id: DbId):
    return _step(request, activity_id, services.drill_all_out)


@router.post("/drills/activities/{activity_id}/drill/link-alarm", response=_STEP)
def drill_link_alarm(request, activity_id: DbId, payload: LinkIn):
    return _step(request, activity_id, services.drill_link_alarm, alarm_id=payload.alarm_id)


@router.post(
    "/drills/schools/{school_id}/drills",
    response={201: ActivityDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def drill_start(request, school_id: DbId, payload: StartIn):
    """A whole-school drill taking place now; `with_alarm` raises the drill alarm and gives
    the signal in the same transaction."""
    activity = services.drill_start(actor=request.auth, school_id=school_id, **payload.model_dump())
    return Status(201, detail_payload(request, activity.pk))


@router.post(
    "/drills/activities/{activity_id}/drill/problems",
    response={201: ProblemOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def problem_add(request, activity_id: DbId, payload: ProblemIn):
    _drill(request, activity_id)
    try:
        problem = services.drill_problem_add(
            actor=request.auth, activity_id=activity_id, description=payload.description
        )
    except ActivityRefused as exc:
        return refused(request, exc)
    return Status(201, problem_payload(problem))


@router.delete(
    "/drills/problems/{problem_id}",
    response={204: None, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def problem_delete(request, problem_id: DbId):
    try:
        services.drill_problem_delete(actor=request.auth, problem_id=problem_id)
    except ActivityRefused as exc:
        return refused(request, exc)
    return Status(204, None)


@router.post(
    "/drills/problems/{problem_id}/hazard",
    response={201: HazardOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def problem_hazard(request, problem_id: DbId, payload: HazardIn):
    """Turn the problem into a hazard of the school (REPORT_HAZARD) in one step."""
    try:
        hazard = services.drill_problem_to_hazard(
            actor=request.auth, problem_id=problem_id, **payload.model_dump()
        )
    except ActivityRefused as exc:
        return refused(request, exc)
    return Status(201, {"problem_id": problem_id, "hazard_id": hazard.pk})
