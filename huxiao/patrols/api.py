"""REST handlers for the patrols app: parse → call a selector/service → return.

Rights: reading posts, shifts, check-ins, coverage and visits needs `view_coverage`;
planning `plan_posts`; checking in `staff_post`; patrol logs and logging visits
`log_patrol`. A user whose role allows the action nowhere gets 403; a record outside the
user's scope is 404, exactly like one that does not exist (ADR 0005)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Router, Status
from ninja.files import UploadedFile

from huxiao.core.api import DbId, ErrorOut, api, paginate
from huxiao.core.names import person_name
from huxiao.core.roles import Action
from huxiao.orgs.models import Organization
from huxiao.patrols import selectors, services
from huxiao.patrols.choices import Dress, PatrolMode, Period, StaffKind
from huxiao.patrols.forms import CoverageForm, DayForm, WeekForm
from huxiao.patrols.schemas import (
    CancelIn,
    CheckInIn,
    CheckInList,
    CheckInOut,
    CheckInUpdateIn,
    CoverageOut,
    PatrolLogIn,
    PatrolLogList,
    PatrolLogOut,
    PostIn,
    PostList,
    PostOut,
    PostUpdateIn,
    RefusalOut,
    ShiftDetailOut,
    ShiftList,
    ShiftOut,
    StaffIn,
    StaffOut,
    VisitCompleteIn,
    VisitIn,
    VisitList,
    VisitOut,
    VisitWeekOut,
    WeekGridOut,
)

router = Router(tags=["patrols"])


# ------------------------------------------------------------------ payloads


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def staff_payload(staff) -> dict:
    return {
        "id": staff.pk,
        "kind": staff.kind,
        "kind_label": str(StaffKind(staff.kind).label),
        "user_id": staff.user_id,
        "name": staff.display_name,
        "phone": staff.phone,
        "weekdays": [int(d) for d in staff.weekdays],
    }


def post_payload(post, staff=None) -> dict:
    if staff is None:
        staff = getattr(post, "active_staff", None)
        if staff is None:
            staff = selectors.post_staff(post=post)
    return {
        "id": post.pk,
        "school_id": post.school_id,
        "school_name": post.school.name,
        "period": post.period,
        "period_label": str(Period(post.period).label),
        "location": post.location,
        "note": post.note,
        "is_active": post.is_active,
        "windows": [
            {"weekday": w.weekday, "starts": f"{w.starts:%H:%M}", "ends": f"{w.ends:%H:%M}"}
            for w in sorted(post.windows.all(), key=lambda w: w.weekday)
        ],
        "staff": [staff_payload(s) for s in staff],
    }


def check_in_payload(check_in) -> dict:
    return {
        "id": check_in.pk,
        "shift_id": check_in.shift_id,
        "school_id": check_in.school_id,
        "kind": check_in.kind,
        "kind_label": str(StaffKind(check_in.kind).label),
        "person_name": check_in.person_name,
        "on_behalf": check_in.on_behalf,
        "recorded_by": person_name(check_in.user),
        "checked_in_at": check_in.checked_in_at.isoformat(),
        "checked_out_at": _iso(check_in.checked_out_at),
        "is_late": check_in.is_late,
        "latitude": float(check_in.latitude) if check_in.latitude is not None else None,
        "longitude": float(check_in.longitude) if check_in.longitude is not None else None,
        "accuracy_m": check_in.accuracy_m,
        "has_photo": bool(check_in.photo),
        "vehicle_present": check_in.vehicle_present,
        "lights_on": check_in.lights_on,
        "note": check_in.note,
    }


def shift_payload(shift) -> dict:
    return {
        "id": shift.pk,
        "post_id": shift.post_id,
        "school_id": shift.school_id,
        "school_name": shift.school.name,
        "period": shift.period,
        "period_label": str(Period(shift.period).label),
        "location": shift.post.location,
        "date": shift.date.isoformat(),
        "starts_at": shift.starts_at.isoformat(),
        "ends_at": shift.ends_at.isoformat(),
        "expects_police": shift.expects_police,
        "staffed": shift.staffed,
        "police_present": shift.police_present,
        "police_car": shift.police_car,
        "police_lights": shift.police_lights,
        "all_three": shift.all_three,
        "arrived_late": shift.arrived_late,
        "first_check_in_at": _iso(shift.first_check_in_at),
        "police_arrived_at": _iso(shift.police_arrived_at),
        "late_flagged_at": _iso(shift.late_flagged_at),
        "missed_flagged_at": _iso(shift.missed_flagged_at),
        "cancelled_at": _iso(shift.cancelled_at),
        "cancel_reason": shift.cancel_reason,
    }


def patrol_log_payload(log) -> dict:
    return {
        "id": log.pk,
        "officer": person_name(log.officer),
        "started_at": log.started_at.isoformat(),
        "ended_at": log.ended_at.isoformat(),
        "mode": log.mode,
        "mode_label": str(PatrolMode(log.mode).label),
        "dress": log.dress,
        "dress_label": str(Dress(log.dress).label),
        "route": log.route,
        "schools": [{"id": s.pk, "name": s.name} for s in log.schools.all()],
        "companions": log.companions,
        "findings": log.findings,
        "suspicious_checked": log.suspicious_checked,
        "suspicious_notes": log.suspicious_notes,
    }


def visit_payload(visit) -> dict:
    return {
        "id": visit.pk,
        "school_id": visit.school_id,
        "school_name": visit.school.name,
        "officer": person_name(visit.officer),
        "arrived_at": visit.arrived_at.isoformat(),
        "left_at": _iso(visit.left_at),
        "information_collected": visit.information_collected,
        "guidance_given": visit.guidance_given,
        "problems_found": visit.problems_found,
    }


def _refusal_response(request, refused: services.CheckInRefused):
    message = " ".join(refused.messages)
    return api.create_response(
        request,
        {"detail": message, "errors": {"__all__": [message]}, "code": refused.reason_code},
        status=409,
    )


def _day(value: str):
    """A local date YYYY-MM-DD, or None when not given; a bad date is a field error."""
    if not value:
        return None
    form = DayForm({"date": value[:20]})
    if not form.is_valid():
        raise _form_errors(form)
    return form.cleaned_data["date"]


def _school_for(actor, school_id, action) -> Organization:
    school = Organization.objects.visible_to(actor, action).filter(pk=school_id).first()
    if school is None or not school.is_school:
        raise ValidationError({"school_id": [_("Unknown or inaccessible record.")]})
    return school


def _form_errors(form) -> ValidationError:
    return ValidationError({field: list(messages) for field, messages in form.errors.items()})


# ------------------------------------------------------------------ posts


@router.get("/patrols/posts", response={200: PostList, 403: ErrorOut})
def post_list(request, school_id: DbId | None = None):
    """The gate posts of the caller's scope with their windows and staff."""
    selectors.require_any(request.auth, Action.VIEW_COVERAGE)
    posts = selectors.post_list(actor=request.auth, school_id=school_id)
    return {"items": [post_payload(p) for p in posts]}


@router.post("/patrols/posts", response={201: PostOut, 400: ErrorOut, 403: ErrorOut})
def post_create(request, payload: PostIn):
    selectors.require_any(request.auth, Action.PLAN_POSTS)
    school = _school_for(request.auth, payload.school_id, Action.PLAN_POSTS)
    post = services.gate_post_create(
        actor=request.auth,
        school=school,
        period=payload.period,
        location=payload.location,
        note=payload.note,
        windows=[w.dict() for w in payload.windows],
    )
    return Status(201, post_payload(post))


@router.get("/patrols/posts/{post_id}", response={200: PostOut, 404: ErrorOut})
def post_detail(request, post_id: DbId):
    selectors.require_any(request.auth, Action.VIEW_COVERAGE)
    return post_payload(selectors.post_get(actor=request.auth, post_id=post_id))


@router.put("/patrols/posts/{post_id}", response={200: PostOut, 400: ErrorOut, 404: ErrorOut})
def post_update(request, post_id: DbId, payload: PostUpdateIn):
    selectors.require_any(request.auth, Action.VIEW_COVERAGE)
    post = selectors.post_get(actor=request.auth, post_id=post_id)
    post = services.gate_post_update(
        actor=request.auth,
        post=post,
        location=payload.location,
        note=payload.note,
        is_active=payload.is_active,
        windows=[w.dict() for w in payload.windows],
    )
    return post_payload(post)


@router.post(
    "/patrols/posts/{post_id}/staff", response={201: StaffOut, 400: ErrorOut, 404: ErrorOut}
)
def post_staff_add(request, post_id: DbId, payload: StaffIn):
    selectors.require_any(request.auth, Action.VIEW_COVERAGE)
    post = selectors.post_get(actor=request.auth, post_id=post_id)
    user = None
    if payload.user_id is not None:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(pk=payload.user_id, is_active=True).first()
        if user is None:
            raise ValidationError(
                {"user_id": [_("This person cannot staff posts at this school.")]}
            )
    staff = services.gate_post_staff_add(
        actor=request.auth,
        post=post,
        kind=payload.kind,
        user=user,
        name=payload.name,
        phone=payload.phone,
        weekdays=payload.weekdays,
    )
    return Status(201, staff_payload(staff))


@router.delete("/patrols/posts/{post_id}/staff/{staff_id}", response={204: None, 404: ErrorOut})
def post_staff_remove(request, post_id: DbId, staff_id: DbId):
    selectors.require_any(request.auth, Action.VIEW_COVERAGE)
    post = selectors.post_get(actor=request.auth, post_id=post_id)
    staff = selectors.staff_get(post=post, staff_id=staff_id)
    services.gate_post_staff_remove(actor=request.auth, staff=staff)
    return Status(204, None)


# ------------------------------------------------------------------ shifts


@router.get("/patrols/shifts", response={200: ShiftList, 400: ErrorOut, 403: ErrorOut})
def shift_list(request, date: str = "", school_id: DbId | None = None):
    """The shifts of one local date (YYYY-MM-DD; default today) in the caller's scope."""
    selectors.require_any(request.auth, Action.VIEW_COVERAGE)
    day = _day(date) or timezone.localdate()
    shifts = selectors.shift_list(actor=request.auth, day=day, school_id=school_id)
    return {"items": [shift_payload(s) for s in shifts]}


@router.get("/patrols/shifts/{shift_id}", response={200: ShiftDetailOut, 404: ErrorOut})
def shift_detail(request, shift_id: DbId):
    selectors.require_any(request.auth, Action.VIEW_COVERAGE)
    shift = selectors.shift_get(actor=request.auth, shift_id=shift_id)
    data = shift_payload(shift)
    data["check_ins"] = [check_in_payload(c) for c in selectors.shift_check_ins(shift=shift)]
    return data


@router.post(
    "/patrols/shifts/{shift_id}/cancel",
    response={200: ShiftOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def shift_cancel(request, shift_id: DbId, payload: CancelIn):
    """Call a shift off (holiday, classes suspended): out of coverage, never flagged."""
    selectors.require_any(request.auth, Action.VIEW_COVERAGE)
    shift = selectors.shift_get(actor=request.auth, shift_id=shift_id)
    shift = services.shift_cancel(actor=request.auth, shift=shift, reason=payload.reason)
    return shift_payload(selectors.shift_get(actor=request.auth, shift_id=shift.pk))


# ------------------------------------------------------------------ check-ins


@router.post(
    "/patrols/checkins",
    response={201: CheckInOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: RefusalOut},
)
def check_in_create(request, payload: CheckInIn):
    """Check in at today's shift of a post. Refusals (too early, ended, not held today,
    called off, already checked in) are 409 with the reason in `detail` and a `code`;
    another station's or school's post is 404."""
    selectors.require_any(request.auth, Action.STAFF_POST)
    post = selectors.post_get(actor=request.auth, post_id=payload.post_id, action=Action.STAFF_POST)
    staff = None
    if payload.staff_id is not None:
        staff = post.staff.filter(pk=payload.staff_id).first()
        if staff is None:
            raise ValidationError({"staff_id": [_("This person does not staff this post.")]})
    try:
        check_in = services.post_check_in(
            actor=request.auth,
            post=post,
            staff=staff,
            vehicle_present=payload.vehicle_present,
            lights_on=payload.lights_on,
            latitude=payload.latitude,
            longitude=payload.longitude,
            accuracy_m=payload.accuracy_m,
            note=payload.note,
        )
    except services.CheckInRefused as refused:
        return _refusal_response(request, refused)
    return Status(201, check_in_payload(check_in))


@router.get("/patrols/checkins", response={200: CheckInList, 400: ErrorOut, 403: ErrorOut})
def check_in_list(
    request, date: str = "", school_id: DbId | None = None, limit: int = 50, offset: int = 0
):
    selectors.require_any(request.auth, Action.VIEW_COVERAGE)
    qs = selectors.check_in_list(actor=request.auth, day=_day(date), school_id=school_id)
    return paginate(qs, limit=limit, offset=offset, row=check_in_payload)


def _own_check_in(request, check_in_id):
    """One's own check-in: 403 for someone else's that the caller may see, 404 out of scope."""
    selectors.require_any(request.auth, Action.STAFF_POST)
    check_in = selectors.check_in_get(actor=request.auth, check_in_id=check_in_id)
    if check_in.user_id != request.auth.pk:
        raise PermissionDenied(_("Only the person who checked in may change this check-in."))
    return check_in


@router.post(
    "/patrols/checkins/{check_in_id}/checkout",
    response={200: CheckInOut, 403: ErrorOut, 404: ErrorOut, 409: RefusalOut},
)
def check_out(request, check_in_id: DbId):
    check_in = _own_check_in(request, check_in_id)
    try:
        check_in = services.post_check_out(actor=request.auth, check_in=check_in)
    except services.CheckInRefused as refused:
        return _refusal_response(request, refused)
    return check_in_payload(check_in)


@router.patch(
    "/patrols/checkins/{check_in_id}",
    response={200: CheckInOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: RefusalOut},
)
def check_in_update(request, check_in_id: DbId, payload: CheckInUpdateIn):
    """Correct the police car and lights (the car came later) or the note."""
    check_in = _own_check_in(request, check_in_id)
    try:
        check_in = services.post_check_in_update(
            actor=request.auth,
            check_in=check_in,
            vehicle_present=payload.vehicle_present,
            lights_on=payload.lights_on,
            note=payload.note,
        )
    except services.CheckInRefused as refused:
        return _refusal_response(request, refused)
    return check_in_payload(check_in)


@router.post(
    "/patrols/checkins/{check_in_id}/photo",
    response={200: CheckInOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: RefusalOut},
)
def check_in_photo(request, check_in_id: DbId, photo: UploadedFile = File(...)):  # noqa: B008
    """Attach the photo (JPEG or PNG, multipart field `photo`) to one's own check-in."""
    check_in = _own_check_in(request, check_in_id)
    try:
        check_in = services.post_check_in_photo(actor=request.auth, check_in=check_in, photo=photo)
    except services.CheckInRefused as refused:
        return _refusal_response(request, refused)
    return check_in_payload(check_in)


# ------------------------------------------------------------------ coverage


@router.get("/patrols/coverage", response={200: CoverageOut, 400: ErrorOut, 403: ErrorOut})
def coverage(request, since: str = "", until: str = "", school_id: DbId | None = None):
    """Coverage (三见) between two local dates, both included (default: this week): per
    school, per police station, per week and per peak period, and the total. Rates are
    fractions of the shifts that had started and were not called off (ADR 0018)."""
    selectors.require_any(request.auth, Action.VIEW_COVERAGE)
    form = CoverageForm({"since": since[:20], "until": until[:20]})
    if not form.is_valid():
        raise _form_errors(form)
    result = selectors.coverage(
        actor=request.auth,
        first_day=form.cleaned_data["first_day"],
        last_day=form.cleaned_data["last_day"],
        school_id=school_id,
    )
    return {
        "since": result.first_day.isoformat(),
        "until": result.last_day.isoformat(),
        "groups": {group: [r.as_dict() for r in rows] for group, rows in result.rows.items()},
        "total": result.total.as_dict(),
    }


@router.get("/patrols/coverage/week", response={200: WeekGridOut, 400: ErrorOut, 403: ErrorOut})
def coverage_week(request, week: str = "", school_id: DbId | None = None):
    """Every shift of one week (any day of it; default this week) with its 三见 flags."""
    selectors.require_any(request.auth, Action.VIEW_COVERAGE)
    form = WeekForm({"week": week[:20]})
    if not form.is_valid():
        raise _form_errors(form)
    grid = selectors.coverage_week(
        actor=request.auth, week_start=form.cleaned_data["week"], school_id=school_id
    )
    return {
        "week_start": grid.week_start.isoformat(),
        "cells": [
            {
                "school_id": shift.school_id,
                "date": shift.date.isoformat(),
                "period": shift.period,
                "shift_id": shift.pk,
                "staffed": shift.staffed,
                "police_present": shift.police_present,
                "police_car": shift.police_car,
                "police_lights": shift.police_lights,
                "cancelled": shift.is_cancelled,
            }
            for shift in sorted(grid.cells.values(), key=lambda s: (s.school_id, s.starts_at))
        ],
    }


# ------------------------------------------------------------------ patrol logs


@router.get("/patrols/logs", response={200: PatrolLogList, 403: ErrorOut})
def patrol_log_list(request, school_id: DbId | None = None, limit: int = 50, offset: int = 0):
    selectors.require_any(request.auth, Action.LOG_PATROL)
    qs = selectors.patrol_log_list(actor=request.auth, school_id=school_id)
    return paginate(qs, limit=limit, offset=offset, row=patrol_log_payload)


@router.post("/patrols/logs", response={201: PatrolLogOut, 400: ErrorOut, 403: ErrorOut})
def patrol_log_create(request, payload: PatrolLogIn):
    selectors.require_any(request.auth, Action.LOG_PATROL)
    log = services.patrol_log_create(actor=request.auth, **payload.dict())
    return Status(201, patrol_log_payload(log))


@router.get("/patrols/logs/{log_id}", response={200: PatrolLogOut, 404: ErrorOut})
def patrol_log_detail(request, log_id: DbId):
    selectors.require_any(request.auth, Action.LOG_PATROL)
    return patrol_log_payload(selectors.patrol_log_get(actor=request.auth, log_id=log_id))


# ------------------------------------------------------------------ visits


@router.get("/patrols/visits", response={200: VisitList, 400: ErrorOut, 403: ErrorOut})
def visit_list(
    request, school_id: DbId | None = None, week: str = "", limit: int = 50, offset: int = 0
):
    """Police-post visits of the caller's scope, newest first; `week` narrows to one week."""
    selectors.require_any(request.auth, Action.VIEW_COVERAGE)
    week_start = None
    if week:
        form = WeekForm({"week": week[:20]})
        if not form.is_valid():
            raise _form_errors(form)
        week_start = form.cleaned_data["week"]
    qs = selectors.visit_list(actor=request.auth, school_id=school_id, week_start=week_start)
    return paginate(qs, limit=limit, offset=offset, row=visit_payload)


@router.post("/patrols/visits", response={201: VisitOut, 400: ErrorOut, 403: ErrorOut})
def visit_create(request, payload: VisitIn):
    selectors.require_any(request.auth, Action.LOG_PATROL)
    school = _school_for(request.auth, payload.school_id, Action.LOG_PATROL)
    data = payload.dict()
    data.pop("school_id")
    visit = services.police_visit_create(actor=request.auth, school=school, **data)
    return Status(201, visit_payload(visit))


# Declared before /patrols/visits/{visit_id}, which would otherwise take "week" for an id.
@router.get("/patrols/visits/week", response={200: VisitWeekOut, 400: ErrorOut, 403: ErrorOut})
def visit_week(request, week: str = ""):
    """Each school against the ≥ 2 visits a week rule (Monday–Sunday)."""
    selectors.require_any(request.auth, Action.VIEW_COVERAGE)
    form = WeekForm({"week": week[:20]})
    if not form.is_valid():
        raise _form_errors(form)
    week_start = form.cleaned_data["week"]
    rows = selectors.visit_week(actor=request.auth, week_start=week_start)
    return {"week_start": week_start.isoformat(), "rows": [r.as_dict() for r in rows]}


@router.get("/patrols/visits/{visit_id}", response={200: VisitOut, 404: ErrorOut})
def visit_detail(request, visit_id: DbId):
    selectors.require_any(request.auth, Action.VIEW_COVERAGE)
    return visit_payload(selectors.visit_get(actor=request.auth, visit_id=visit_id))


@router.post(
    "/patrols/visits/{visit_id}/complete",
    response={200: VisitOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def visit_complete(request, visit_id: DbId, payload: VisitCompleteIn):
    selectors.require_any(request.auth, Action.LOG_PATROL)
    visit = selectors.visit_get(actor=request.auth, visit_id=visit_id)
    if visit.officer_id != request.auth.pk:
        raise PermissionDenied(_("Only the officer who made the visit may complete it."))
    visit = services.police_visit_complete(actor=request.auth, visit=visit, **payload.dict())
    return visit_payload(visit)


# Video patrol and legal vice-principals (ADR 0020) live in their own modules.
from huxiao.patrols.lvp_api import router as lvp_router  # noqa: E402
from huxiao.patrols.video_api import router as video_router  # noqa: E402

router.add_router("/patrols", video_router)
router.add_router("/patrols", lvp_router)
