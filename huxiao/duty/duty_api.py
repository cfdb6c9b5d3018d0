"""REST handlers of duty (issue 7 item 5; ADR 0029 "Duty"): parse → call a selector or
service → return, with the same rights as the pages.

- GET  /duty/shifts?school_id=&date=&date_to=   shifts in scope (VIEW), by local date
- GET  /duty/shifts/{id}                         one shift: people, log, open items, handovers
- POST /duty/shifts/{id}/check-in | /check-out   the caller's own check-in (KEEP_DUTY, on the
                                                 roster)
- POST /duty/shifts/{id}/log                     a duty-log entry (201)
- POST /duty/shifts/{id}/handover                the handover with open items (201)
- POST /duty/handovers/{id}/receive              the next shift confirms
- POST /duty/open-items/{id}/close               close an open item with a note
- GET/PUT /duty/schools/{id}/plan                the duty plan (PUT: PLAN_DUTY)
- POST /duty/schools/{id}/weeks                  make a week's shifts from the plan
- POST /duty/shifts/{id}/assignments, DELETE /duty/assignments/{id}   the roster

Out of scope is 404, exactly like a record that does not exist; the wrong role 403; a step
the state does not allow 409 with the reason in `detail`; bad input 400 with `errors`.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from huxiao.core.api import DbId, ErrorOut, api, paginate
from huxiao.core.names import person_name
from huxiao.core.roles import Action
from huxiao.duty import duty_selectors as sel
from huxiao.duty import duty_services as services
from huxiao.duty.choices import DutyRole, LogKind

router = Router(tags=["duty"])
MAX_DAYS = 31


# ------------------------------------------------------------------ schemas


class AssignmentOut(Schema):
    id: int
    shift_id: int
    user_id: int
    name: str
    role: str
    role_label: str
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None


class ShiftOut(Schema):
    id: int
    school_id: int
    school_name: str
    date: dt.date
    kind: str
    kind_label: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    covered: bool
    gap_flagged_at: dt.datetime | None
    assignments: list[AssignmentOut]


class ShiftList(Schema):
    count: int
    items: list[ShiftOut]


class LogOut(Schema):
    id: int
    shift_id: int
    at: dt.datetime
    kind: str
    kind_label: str
    text: str
    author: str


class OpenItemOut(Schema):
    id: int
    text: str
    raised_in_id: int
    current_shift_id: int | None
    raised_by: str
    created_at: dt.datetime
    closed_at: dt.datetime | None
    closed_by: str
    closing_note: str


class HandoverOut(Schema):
    id: int
    from_shift_id: int
    to_shift_id: int | None
    notes: str
    handed_over_by: str
    handed_over_at: dt.datetime
    received_by: str
    received_at: dt.datetime | None
    open_items: list[OpenItemOut] = []


class ShiftDetailOut(ShiftOut):
    log: list[LogOut]
    open_items: list[OpenItemOut]
    handover_out: HandoverOut | None
    handovers_in: list[HandoverOut]


class LogIn(Schema):
    text: str = Field(max_length=20000)
    kind: LogKind = LogKind.ROUTINE
    at: dt.datetime | None = None


class HandoverIn(Schema):
    notes: str = Field("", max_length=20000)
    open_items: list[str] = Field(default_factory=list, max_length=100)


class NoteIn(Schema):
    note: str = Field(max_length=5000)


class PlanOut(Schema):
    school_id: int
    day_starts: dt.time
    night_starts: dt.time
    check_in_grace_minutes: int
    monitoring_max_gap_minutes: int
    night_round_from: dt.time
    night_round_until: dt.time


class PlanIn(Schema):
    day_starts: dt.time
    night_starts: dt.time
    check_in_grace_minutes: int
    monitoring_max_gap_minutes: int
    night_round_from: dt.time
    night_round_until: dt.time


class WeekIn(Schema):
    week_start: dt.date


class AssignIn(Schema):
    user_id: DbId
    role: DutyRole


# ------------------------------------------------------------------ payloads


def _name(user) -> str:
    return person_name(user) if user is not None else ""


def assignment_payload(a) -> dict:
    return {
        "id": a.pk,
        "shift_id": a.shift_id,
        "user_id": a.user_id,
        "name": _name(a.user),
        "role": a.role,
        "role_label": a.get_role_display(),
        "checked_in_at": a.checked_in_at,
        "checked_out_at": a.checked_out_at,
    }


def shift_payload(shift, assignments=None) -> dict:
    people = list(shift.assignments.all()) if assignments is None else assignments
    return {
        "id": shift.pk,
        "school_id": shift.school_id,
        "school_name": shift.school.name,
        "date": shift.date,
        "kind": shift.kind,
        "kind_label": shift.get_kind_display(),
        "starts_at": shift.starts_at,
        "ends_at": shift.ends_at,
        "covered": any(a.checked_in_at for a in people),
        "gap_flagged_at": shift.gap_flagged_at,
        "assignments": [assignment_payload(a) for a in people],
    }


def item_payload(item) -> dict:
    return {
        "id": item.pk,
        "text": item.text,
        "raised_in_id": item.raised_in_id,
        "current_shift_id": item.current_shift_id,
        "raised_by": _name(item.raised_by),
        "created_at": item.created_at,
        "closed_at": item.closed_at,
        "closed_by": _name(item.closed_by),
        "closing_note": item.closing_note,
    }


def handover_payload(h) -> dict:
    from huxiao.duty.models import DutyOpenItem

    return {
        "id": h.pk,
        "from_shift_id": h.from_shift_id,
        "to_shift_id": h.to_shift_id,
        "notes": h.notes,
        "handed_over_by": _name(h.handed_over_by),
        "handed_over_at": h.handed_over_at,
        "received_by": _name(h.received_by),
        "received_at": h.received_at,
        "open_items": [
            item_payload(i)
            for i in DutyOpenItem.objects.filter(raised_in_id=h.from_shift_id).select_related(
                "raised_by", "closed_by"
            )
        ],
    }


def log_payload(e) -> dict:
    return {
        "id": e.pk,
        "shift_id": e.shift_id,
        "at": e.at,
        "kind": e.kind,
        "kind_label": e.get_kind_display(),
        "text": e.text,
        "author": _name(e.author),
    }


def _detail(request, shift_id) -> dict:
    shift = sel.shift_get(actor=request.auth, shift_id=shift_id)
    view = sel.shift_view(shift)
    return {
        **shift_payload(shift, view.assignments),
        "log": [log_payload(e) for e in view.log],
        "open_items": [item_payload(i) for i in view.open_items],
        "handover_out": handover_payload(view.handover_out) if view.handover_out else None,
        "handovers_in": [handover_payload(h) for h in view.handovers_in],
    }


def refused(request, exc: services.DutyRefused):
    return api.create_response(request, {"detail": exc.messages[0], "errors": {}}, status=409)


# ------------------------------------------------------------------ shifts

_READ = {200: ShiftDetailOut, 403: ErrorOut, 404: ErrorOut}
_STEP = {200: AssignmentOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


@router.get("/duty/shifts", response={200: ShiftList, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut})
def shift_list(
    request,
    school_id: DbId | None = None,
    date: dt.date | None = None,
    date_to: dt.date | None = None,
    limit: int = 50,
    offset: int = 0,
):
    """Shifts in scope from `date` (default today) to `date_to` (default `date`), at most
    31 days; `school_id` narrows to one school (404 out of scope)."""
    sel.require_any(request.auth, Action.VIEW)
    if school_id is not None:
        sel.school_get(actor=request.auth, school_id=school_id)
    sel.check_date(date, "date")
    sel.check_date(date_to, "date_to")
    first = date or timezone.localdate()
    last = date_to or first
    if last < first or (last - first).days >= MAX_DAYS:
        raise HttpError(400, _("date_to must be on or after date, at most 31 days later."))
    qs = sel.shift_list(actor=request.auth, school_id=school_id, date_from=first, date_to=last)
    # paginate caps the offset (MAX_OFFSET): a huge one is an empty page, not an overflow.
    return paginate(qs, limit=limit, offset=offset, row=shift_payload)


@router.get("/duty/shifts/{shift_id}", response=_READ)
def shift_detail(request, shift_id: DbId):
    return _detail(request, shift_id)


def _step(request, shift_id, call):
    shift = sel.shift_get(actor=request.auth, shift_id=shift_id)
    try:
        assignment = call(actor=request.auth, shift_id=shift.pk)
    except services.DutyRefused as exc:
        return refused(request, exc)
    return assignment_payload(assignment)


@router.post("/duty/shifts/{shift_id}/check-in", response=_STEP)
def check_in(request, shift_id: DbId):
    """Check in (from 60 minutes before the start until the end). Not on the shift's
    roster: 403; too early or ended: 409. A second check-in changes nothing."""
    return _step(request, shift_id, services.shift_check_in)


@router.post("/duty/shifts/{shift_id}/check-out", response=_STEP)
def check_out(request, shift_id: DbId):
    """Check out after checking in; 409 before."""
    return _step(request, shift_id, services.shift_check_out)


@router.post(
    "/duty/shifts/{shift_id}/log",
    response={201: LogOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def log_add(request, shift_id: DbId, payload: LogIn):
    try:
        entry = services.log_add(
            actor=request.auth,
            shift_id=shift_id,
            text=payload.text,
            kind=payload.kind,
            at=payload.at,
        )
    except services.DutyRefused as exc:
        return refused(request, exc)
    return Status(201, log_payload(entry))


@router.post(
    "/duty/shifts/{shift_id}/handover",
    response={201: HandoverOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def handover_create(request, shift_id: DbId, payload: HandoverIn):
    """Hand the shift over: notes and new open items; the shift's open items go to the next
    shift. Once per shift (409 again)."""
    try:
        handover = services.handover_create(
            actor=request.auth,
            shift_id=shift_id,
            notes=payload.notes,
            open_items=payload.open_items,
        )
    except services.DutyRefused as exc:
        return refused(request, exc)
    return Status(201, handover_payload(handover))


@router.post(
    "/duty/handovers/{handover_id}/receive",
    response={200: HandoverOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def handover_receive(request, handover_id: DbId):
    try:
        handover = services.handover_receive(actor=request.auth, handover_id=handover_id)
    except services.DutyRefused as exc:
        return refused(request, exc)
    return handover_payload(handover)


@router.post(
    "/duty/open-items/{item_id}/close",
    response={200: OpenItemOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def open_item_close(request, item_id: DbId, payload: NoteIn):
    try:
        item = services.open_item_close(actor=request.auth, item_id=item_id, note=payload.note)
    except services.DutyRefused as exc:
        return refused(request, exc)
    return item_payload(item)


# ------------------------------------------------------------------ plan and roster


def plan_payload(plan) -> dict:
    return {
        "school_id": plan.school_id,
        "day_starts": sel.as_time(plan.day_starts),
        "night_starts": sel.as_time(plan.night_starts),
        "check_in_grace_minutes": plan.check_in_grace_minutes,
        "monitoring_max_gap_minutes": plan.monitoring_max_gap_minutes,
        "night_round_from": sel.as_time(plan.night_round_from),
        "night_round_until": sel.as_time(plan.night_round_until),
    }


@router.get("/duty/schools/{school_id}/plan", response={200: PlanOut, 404: ErrorOut})
def plan_get(request, school_id: DbId):
    school = sel.school_get(actor=request.auth, school_id=school_id)
    return plan_payload(sel.plan_for(school.pk))


@router.put(
    "/duty/schools/{school_id}/plan",
    response={200: PlanOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def plan_put(request, school_id: DbId, payload: PlanIn):
    plan = services.plan_save(actor=request.auth, school_id=school_id, **payload.model_dump())
    return plan_payload(plan)


@router.post(
    "/duty/schools/{school_id}/weeks",
    response={200: ShiftList, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def week_create(request, school_id: DbId, payload: WeekIn):
    """Make the week's shifts (the week containing `week_start`) from the plan; answers
    the shifts created (none when they all exist)."""
    created = services.week_create(
        actor=request.auth, school_id=school_id, week_start=payload.week_start
    )
    school = sel.school_get(actor=request.auth, school_id=school_id)
    for shift in created:
        shift.school = school
    return {"count": len(created), "items": [shift_payload(s, []) for s in created]}


@router.post(
    "/duty/shifts/{shift_id}/assignments",
    response={201: AssignmentOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def assignment_add(request, shift_id: DbId, payload: AssignIn):
    try:
        assignment = services.assignment_add(
            actor=request.auth, shift_id=shift_id, user=payload.user_id, role=payload.role
        )
    except services.DutyRefused as exc:
        return refused(request, exc)
    return Status(201, assignment_payload(assignment))


@router.delete(
    "/duty/assignments/{assignment_id}",
    response={204: None, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def assignment_remove(request, assignment_id: DbId):
    try:
        services.assignment_remove(actor=request.auth, assignment_id=assignment_id)
    except services.DutyRefused as exc:
        return refused(request, exc)
    return Status(204, None)
