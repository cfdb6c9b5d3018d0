"""REST handlers of checks, attendance and absences (issue 9 items 2–3).

- POST /health/checks {class_id, date?, session, checkpoint?, results[]}   RECORD_HEALTH;
       201 the check. `results` are the exceptions only: every other child of the class
       (not recorded absent) is well, checked now (or at their earlier time when the check
       is saved again). Saving again edits the same check.
- GET  /health/checks?class_id=&school_id=&date=&session=    checks in scope, each with its
       unwell children (paginated)
- POST /health/attendance {class_id, date?, absences[]}     RECORD_HEALTH; 201 the day;
       the absent children with their cause (edit replaces)
- GET  /health/absences?school_id=&class_id=&date=&cause=    absences in scope (paginated)
- POST /health/absences/{id}/cause {cause, symptoms, diagnosis, note}   an unknown cause found

Police roles hold no health action: 403. Out of scope 404; the wrong role 403; bad input 400
with `errors` by field (`results.<child id>.temperature`, …).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import Field

from huxiao.core.api import DbId, ErrorOut, paginate
from huxiao.core.names import person_name
from huxiao.duty.duty_selectors import check_date
from huxiao.health import check_selectors as sel
from huxiao.health import check_services as services
from huxiao.health.choices import AbsenceCause, CheckSession

router = Router(tags=["health"])
READ = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class ResultIn(Schema):
    child_id: int
    temperature: float | str | None = None
    symptoms: list[str] = Field(default=[], max_length=20)
    symptom_note: str = Field(default="", max_length=1000)
    action: str = Field(default="none", max_length=20)
    note: str = Field(default="", max_length=1000)
    checked_at: dt.datetime | None = None


class CheckIn(Schema):
    class_id: DbId
    date: dt.date | None = None
    session: CheckSession
    checkpoint: str = Field(default="", max_length=200)
    results: list[ResultIn] = Field(default=[], max_length=services.RESULTS_MAX)


class ResultOut(Schema):
    id: int
    child_id: int
    child_name: str
    checked_at: dt.datetime
    checkpoint: str
    temperature: float | None
    symptoms: list[str]
    symptom_note: str
    is_well: bool
    action: str
    note: str


class CheckOut(Schema):
    id: int
    school_id: int
    class_id: int
    class_name: str
    date: dt.date
    session: str
    session_label: str
    checkpoint: str
    expected: int
    checked: int
    unwell: int
    recorded_at: dt.datetime
    recorded_by: str
    unwell_results: list[ResultOut]


class CheckList(Schema):
    count: int
    items: list[CheckOut]


class AbsenceIn(Schema):
    child_id: int
    cause: str = Field(max_length=20)
    symptoms: list[str] = Field(default=[], max_length=20)
    diagnosis: str = Field(default="", max_length=1000)
    note: str = Field(default="", max_length=1000)


class AttendanceIn(Schema):
    class_id: DbId
    date: dt.date | None = None
    absences: list[AbsenceIn] = Field(default=[], max_length=services.RESULTS_MAX)


class CauseIn(Schema):
    cause: str = Field(max_length=20)
    symptoms: list[str] = Field(default=[], max_length=20)
    diagnosis: str = Field(default="", max_length=1000)
    note: str = Field(default="", max_length=1000)


class AbsenceOut(Schema):
    id: int
    school_id: int
    class_id: int
    class_name: str
    child_id: int
    child_name: str
    date: dt.date
    cause: str
    cause_label: str
    symptoms: list[str]
    diagnosis: str
    note: str
    follow_up_id: int | None
    chased_at: dt.datetime | None
    chased_by: str
    recorded_at: dt.datetime


class AbsenceList(Schema):
    count: int
    items: list[AbsenceOut]


class AttendanceOut(Schema):
    id: int
    school_id: int
    class_id: int
    date: dt.date
    enrolled: int
    absent: int
    absences: list[AbsenceOut]


# ------------------------------------------------------------------ payloads


def result_payload(r) -> dict:
    return {
        "id": r.pk,
        "child_id": r.child_id,
        "child_name": r.child.name,
        "checked_at": r.checked_at,
        "checkpoint": r.checkpoint,
        "temperature": float(r.temperature) if r.temperature is not None else None,
        "symptoms": list(r.symptoms),
        "symptom_note": r.symptom_note,
        "is_well": r.is_well,
        "action": r.action,
        "note": r.note,
    }


def check_payload(c, unwell: list) -> dict:
    return {
        "id": c.pk,
        "school_id": c.school_id,
        "class_id": c.school_class_id,
        "class_name": c.school_class.name,
        "date": c.date,
        "session": c.session,
        "session_label": str(c.get_session_display()),
        "checkpoint": c.checkpoint,
        "expected": c.expected,
        "checked": c.checked,
        "unwell": c.unwell,
        "recorded_at": c.recorded_at,
        "recorded_by": person_name(c.recorded_by) if c.recorded_by_id else "",
        "unwell_results": [result_payload(r) for r in unwell],
    }


def absence_payload(a) -> dict:
    return {
        "id": a.pk,
        "school_id": a.school_id,
        "class_id": a.school_class_id,
        "class_name": a.school_class.name,
        "child_id": a.child_id,
        "child_name": a.child.name,
        "date": a.date,
        "cause": a.cause,
        "cause_label": str(a.get_cause_display()),
        "symptoms": list(a.symptoms),
        "diagnosis": a.diagnosis,
        "note": a.note,
        "follow_up_id": a.follow_up_id,
        "chased_at": a.chased_at,
        "chased_by": person_name(a.chased_by) if a.chased_by_id else "",
        "recorded_at": a.recorded_at,
    }


def _check_detail(actor, check_id: int) -> dict:
    check = sel.check_list(actor=actor).get(pk=check_id)
    return check_payload(check, sel.unwell_results([check.pk]).get(check.pk, []))


# ------------------------------------------------------------------ checks


@router.post("/health/checks", response={201: CheckOut, **READ})
def check_record(request, payload: CheckIn):
    check = services.health_check_record(
        actor=request.auth,
        school_class_id=payload.class_id,
        date=payload.date or timezone.localdate(),
        session=payload.session,
        checkpoint=payload.checkpoint,
        results=[r.model_dump() for r in payload.results],
    )
    return Status(201, _check_detail(request.auth, check.pk))


@router.get("/health/checks", response={200: CheckList, **READ})
def check_list(
    request,
    class_id: DbId | None = None,
    school_id: DbId | None = None,
    date: dt.date | None = None,
    session: CheckSession | None = None,
    limit: int = 50,
    offset: int = 0,
):
    sel.require_health(request.auth)
    if class_id is not None:
        sel.class_get(actor=request.auth, class_id=class_id)
    if school_id is not None:
        sel.school_get(actor=request.auth, school_id=school_id)
    check_date(date)
    qs = sel.check_list(
        actor=request.auth,
        school_id=school_id,
        class_id=class_id,
        date=date,
        session=session or "",
    )
    page = paginate(qs, limit=limit, offset=offset)
    unwell = sel.unwell_results([c.pk for c in page["items"]])
    page["items"] = [check_payload(c, unwell.get(c.pk, [])) for c in page["items"]]
    return page


# ------------------------------------------------------------------ attendance


def _attendance_payload(actor, record) -> dict:
    absences = sel.absence_list(actor=actor, class_id=record.school_class_id, date=record.date)
    return {
        "id": record.pk,
        "school_id": record.school_id,
        "class_id": record.school_class_id,
        "date": record.date,
        "enrolled": record.enrolled,
        "absent": record.absent,
        "absences": [absence_payload(a) for a in absences],
    }


@router.post("/health/attendance", response={201: AttendanceOut, **READ})
def attendance_record(request, payload: AttendanceIn):
    record = services.attendance_record(
        actor=request.auth,
        school_class_id=payload.class_id,
        date=payload.date or timezone.localdate(),
        absences=[a.model_dump() for a in payload.absences],
    )
    return Status(201, _attendance_payload(request.auth, record))


@router.get("/health/absences", response={200: AbsenceList, **READ})
def absence_list(
    request,
    school_id: DbId | None = None,
    class_id: DbId | None = None,
    date: dt.date | None = None,
    cause: AbsenceCause | None = None,
    limit: int = 50,
    offset: int = 0,
):
    sel.require_health(request.auth)
    if school_id is not None:
        sel.school_get(actor=request.auth, school_id=school_id)
    if class_id is not None:
        sel.class_get(actor=request.auth, class_id=class_id)
    check_date(date)
    qs = sel.absence_list(
        actor=request.auth, school_id=school_id, class_id=class_id, date=date, cause=cause or ""
    )
    return paginate(qs, limit=limit, offset=offset, row=absence_payload)


@router.post("/health/absences/{absence_id}/cause", response={200: AbsenceOut, **READ})
def absence_establish(request, absence_id: DbId, payload: CauseIn):
    absence = services.absence_cause_establish(
        actor=request.auth,
        absence_id=absence_id,
        cause=payload.cause,
        symptoms=payload.symptoms,
        diagnosis=payload.diagnosis,
        note=payload.note,
    )
    return absence_payload(sel.absence_get(actor=request.auth, absence_id=absence.pk))
