"""REST handlers of the response to a case (§3 7–10; ADR 0032 "Response").

- GET  /health/disinfections?school_id=&case_id=&month=&kind=   VIEW_HEALTH or RECORD_HEALTH
- POST /health/disinfections {school_id, case_id?, area, area_detail?, method, agent?,
       done_by_name, done_at}      routine: RECORD_HEALTH; with case_id: emergency, MANAGE_HEALTH
- GET  /health/suspensions?school_id=&state=current|past        VIEW_SUSPENSION
- POST /health/suspensions {school_id, scope, school_class_id?, grade?, starts_on, ends_on,
       reason, health_centre_opinion, education_office_opinion, case_id?}   SUSPEND_CLASSES
- POST /health/suspensions/{id}/resume {resumed_on, note?}     SUSPEND_CLASSES
- POST /health/cases/{id}/no-suspension {note}                 SUSPEND_CLASSES
- GET  /health/statements?school_id=&case_id=                   VIEW_SUSPENSION
- POST /health/statements {school_id, case_id?, text, published_at, approved_by}  MANAGE_HEALTH
- GET  /health/aftercare?school_id=&case_id=&state=open|done    VIEW_HEALTH;
       with mine=true: the tasks given to the caller (VIEW_SUSPENSION, as /health/aftercare/)
- POST /health/aftercare {case_id, kind, description, assignee_id?, due_on?}      MANAGE_HEALTH
- POST /health/aftercare/{id}/done {note}                      MANAGE_HEALTH or the assignee
- GET  /health/monitoring-plans?school_id=&case_id=&state=      VIEW_HEALTH or RECORD_HEALTH
- POST /health/monitoring-plans {school_id, school_class_id, starts_on, ends_on,
       checks_per_day?, case_id?}                              MANAGE_HEALTH
- POST /health/monitoring-plans/{id}/end {ends_on}             MANAGE_HEALTH
- GET  /health/cases/{id}/response                             the case's response (logged)

Nobody with the action anywhere: 403; out of scope: 404; a state refusal: 409 with the
sentence; bad input: 400 with `errors` by field (a class of another school is an error on
`school_class`, nothing written).
"""

from __future__ import annotations

import datetime as dt
from functools import wraps
from typing import Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import Field

from huxiao.core.api import DbId, ErrorOut, api, paginate
from huxiao.core.names import person_name
from huxiao.core.roles import Action
from huxiao.health import response_selectors as sel
from huxiao.health import response_services as services
from huxiao.health.choices import DisinfectionKind
from huxiao.health.reads import log_health_read

router = Router(tags=["health"])
WRITE = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}
READ = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
TEXT = 6000


def conflicts_as_409(handler):
    """A state refusal (ResponseConflict) answers 409 with its sentence."""

    @wraps(handler)
    def wrapper(request, *args, **kwargs):
        try:
            return handler(request, *args, **kwargs)
        except services.ResponseConflict as exc:
            return api.create_response(
                request, {"detail": exc.messages[0], "errors": {}}, status=409
            )

    return wrapper


def _need(actor, actions) -> None:
    if not sel.school_ids_for(actor, actions):
        raise PermissionDenied(_("Your role does not allow this."))


# ------------------------------------------------------------------ schemas


class DisinfectionOut(Schema):
    id: int
    school_id: int
    case_id: int | None
    kind: str
    kind_label: str
    area: str
    area_label: str
    area_detail: str
    method: str
    agent: str
    done_by_name: str
    done_at: dt.datetime
    recorded_by: str


class DisinfectionIn(Schema):
    school_id: DbId
    case_id: DbId | None = None
    area: str = Field(max_length=50)
    area_detail: str = Field("", max_length=TEXT)
    method: str = Field(max_length=TEXT)
    agent: str = Field("", max_length=TEXT)
    done_by_name: str = Field(max_length=TEXT)
    done_at: dt.datetime


class DisinfectionList(Schema):
    count: int
    items: list[DisinfectionOut]


class SuspensionOut(Schema):
    id: int
    school_id: int
    school_name: str
    scope: str
    scope_label: str
    school_class_id: int | None
    school_class_name: str
    grade: str
    starts_on: dt.date
    ends_on: dt.date
    reason: str
    case_id: int | None
    health_centre_opinion: str
    education_office_opinion: str
    decided_by: str
    decided_at: dt.datetime
    resumed_on: dt.date | None
    resumed_by: str
    resume_note: str
    in_force: bool


class SuspensionIn(Schema):
    school_id: DbId
    scope: str = Field(max_length=20)
    school_class_id: DbId | None = None
    grade: str = Field("", max_length=TEXT)
    starts_on: dt.date
    ends_on: dt.date
    reason: str = Field(max_length=TEXT)
    health_centre_opinion: str = Field(max_length=TEXT)
    education_office_opinion: str = Field(max_length=TEXT)
    case_id: DbId | None = None


class SuspensionList(Schema):
    count: int
    items: list[SuspensionOut]


class ResumeIn(Schema):
    resumed_on: dt.date
    note: str = Field("", max_length=TEXT)


class NoteIn(Schema):
    note: str = Field("", max_length=TEXT)


class StepOut(Schema):
    case_id: int
    step: str
    note: str
    done_at: dt.datetime | None


class StatementOut(Schema):
    id: int
    school_id: int
    case_id: int | None
    text: str
    published_at: dt.datetime
    approved_by: str
    recorded_by: str


class StatementIn(Schema):
    school_id: DbId
    case_id: DbId | None = None
    text: str = Field(max_length=TEXT)
    published_at: dt.datetime
    approved_by: str = Field(max_length=TEXT)


class StatementList(Schema):
    count: int
    items: list[StatementOut]


class TaskOut(Schema):
    id: int
    case_id: int
    school_id: int
    kind: str
    kind_label: str
    description: str
    assignee_id: int | None
    assignee: str
    due_on: dt.date | None
    done_at: dt.datetime | None
    done_by: str
    note: str


class TaskIn(Schema):
    case_id: DbId
    kind: str = Field(max_length=30)
    description: str = Field(max_length=TEXT)
    assignee_id: DbId | None = None
    due_on: dt.date | None = None


class TaskList(Schema):
    count: int
    items: list[TaskOut]


class PlanOut(Schema):
    id: int
    school_id: int
    school_class_id: int
    school_class_name: str
    case_id: int | None
    starts_on: dt.date
    ends_on: dt.date
    checks_per_day: int


class PlanIn(Schema):
    school_id: DbId
    school_class_id: DbId
    starts_on: dt.date
    ends_on: dt.date
    checks_per_day: int = services.MONITORING_CHECKS_PER_DAY
    case_id: DbId | None = None


class PlanEndIn(Schema):
    ends_on: dt.date


class PlanList(Schema):
    count: int
    items: list[PlanOut]


class CaseResponseOut(Schema):
    case_id: int
    school_id: int
    disinfections: list[DisinfectionOut]
    suspensions: list[SuspensionOut]
    statements: list[StatementOut]
    aftercare: list[TaskOut]
    monitoring_plans: list[PlanOut]


# ------------------------------------------------------------------ payloads


def disinfection_payload(d) -> dict:
    return {
        "id": d.pk,
        "school_id": d.school_id,
        "case_id": d.case_id,
        "kind": d.kind,
        "kind_label": str(d.get_kind_display()),
        "area": d.area,
        "area_label": str(d.get_area_display()),
        "area_detail": d.area_detail,
        "method": d.method,
        "agent": d.agent,
        "done_by_name": d.done_by_name,
        "done_at": d.done_at,
        "recorded_by": person_name(d.recorded_by) if d.recorded_by_id else "",
    }


def suspension_payload(s, today: dt.date | None = None) -> dict:
    today = today or timezone.localdate()
    return {
        "id": s.pk,
        "school_id": s.school_id,
        "school_name": s.school.name,
        "scope": s.scope,
        "scope_label": str(s.get_scope_display()),
        "school_class_id": s.school_class_id,
        "school_class_name": s.school_class.name if s.school_class_id else "",
        "grade": s.grade,
        "starts_on": s.starts_on,
        "ends_on": s.ends_on,
        "reason": s.reason,
        "case_id": s.case_id,
        "health_centre_opinion": s.health_centre_opinion,
        "education_office_opinion": s.education_office_opinion,
        "decided_by": person_name(s.decided_by) if s.decided_by_id else "",
        "decided_at": s.decided_at,
        "resumed_on": s.resumed_on,
        "resumed_by": person_name(s.resumed_by) if s.resumed_by_id else "",
        "resume_note": s.resume_note,
        "in_force": sel.suspension_in_force(s, today),
    }


def statement_payload(s) -> dict:
    return {
        "id": s.pk,
        "school_id": s.school_id,
        "case_id": s.case_id,
        "text": s.text,
        "published_at": s.published_at,
        "approved_by": s.approved_by,
        "recorded_by": person_name(s.recorded_by) if s.recorded_by_id else "",
    }


def task_payload(t, school_id: int | None = None) -> dict:
    return {
        "id": t.pk,
        "case_id": t.case_id,
        "school_id": school_id if school_id is not None else t.case.school_id,
        "kind": t.kind,
        "kind_label": str(t.get_kind_display()),
        "description": t.description,
        "assignee_id": t.assignee_id,
        "assignee": person_name(t.assignee) if t.assignee_id else "",
        "due_on": t.due_on,
        "done_at": t.done_at,
        "done_by": person_name(t.done_by) if t.done_by_id else "",
        "note": t.note,
    }


def plan_payload(p) -> dict:
    return {
        "id": p.pk,
        "school_id": p.school_id,
        "school_class_id": p.school_class_id,
        "school_class_name": p.school_class.name,
        "case_id": p.case_id,
        "starts_on": p.starts_on,
        "ends_on": p.ends_on,
        "checks_per_day": p.checks_per_day,
    }


def _school_filter(actor, school_id, actions) -> int | None:
    if school_id is None:
        return None
    return sel.school_in(actor, school_id, actions).pk


# ------------------------------------------------------------------ disinfection


@router.get("/health/disinfections", response={200: DisinfectionList, **READ})
def disinfection_list(
    request,
    school_id: DbId | None = None,
    case_id: DbId | None = None,
    month: str | None = None,
    kind: DisinfectionKind | None = None,
    limit: int = 50,
    offset: int = 0,
):
    _need(request.auth, sel.HEALTH_READERS)
    school_id = _school_filter(request.auth, school_id, sel.HEALTH_READERS)
    first = None
    if month:
        first = sel.parse_month(month)
        if first is None:
            raise ValidationError({"month": [_("Enter a month as YYYY-MM.")]})
    qs = sel.disinfection_list(
        actor=request.auth, school_id=school_id, case_id=case_id, month=first, kind=kind or ""
    )
    return paginate(qs, limit=limit, offset=offset, row=disinfection_payload)


@router.post("/health/disinfections", response={201: DisinfectionOut, **WRITE})
def disinfection_create(request, payload: DisinfectionIn):
    row = services.disinfection_record(
        actor=request.auth,
        school_id=payload.school_id,
        case_id=payload.case_id,
        area=payload.area,
        area_detail=payload.area_detail,
        method=payload.method,
        agent=payload.agent,
        done_by_name=payload.done_by_name,
        done_at=payload.done_at,
    )
    return Status(201, disinfection_payload(row))


# ------------------------------------------------------------------ suspensions


@router.get("/health/suspensions", response={200: SuspensionList, **READ})
def suspension_list(
    request,
    school_id: DbId | None = None,
    state: Literal["current", "past"] | None = None,
    limit: int = 50,
    offset: int = 0,
):
    _need(request.auth, (Action.VIEW_SUSPENSION,))
    school_id = _school_filter(request.auth, school_id, (Action.VIEW_SUSPENSION,))
    qs = sel.suspension_list(actor=request.auth, school_id=school_id, state=state or "")
    today = timezone.localdate()
    return paginate(qs, limit=limit, offset=offset, row=lambda s: suspension_payload(s, today))


def _suspension(actor, suspension_id) -> dict:
    return suspension_payload(sel.suspension_get(actor=actor, suspension_id=suspension_id))


@router.post("/health/suspensions", response={201: SuspensionOut, **WRITE})
@conflicts_as_409
def suspension_create(request, payload: SuspensionIn):
    suspension = services.suspension_decide(
        actor=request.auth,
        school_id=payload.school_id,
        scope=payload.scope,
        school_class_id=payload.school_class_id,
        grade=payload.grade,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        reason=payload.reason,
        health_centre_opinion=payload.health_centre_opinion,
        education_office_opinion=payload.education_office_opinion,
        case_id=payload.case_id,
    )
    return Status(201, _suspension(request.auth, suspension.pk))


@router.post("/health/suspensions/{suspension_id}/resume", response={200: SuspensionOut, **WRITE})
@conflicts_as_409
def suspension_resume(request, suspension_id: DbId, payload: ResumeIn):
    suspension = services.suspension_resume(
        actor=request.auth,
        suspension_id=suspension_id,
        resumed_on=payload.resumed_on,
        note=payload.note,
    )
    return _suspension(request.auth, suspension.pk)


@router.post("/health/cases/{case_id}/no-suspension", response={200: StepOut, **WRITE})
@conflicts_as_409
def case_no_suspension(request, case_id: DbId, payload: NoteIn):
    case = services.case_assessed_no_suspension(
        actor=request.auth, case_id=case_id, note=payload.note
    )
    step = case.steps.filter(step="assessed").first()
    return {
        "case_id": case.pk,
        "step": "assessed",
        "note": step.note if step else "",
        "done_at": step.done_at if step else None,
    }


# ------------------------------------------------------------------ statements


@router.get("/health/statements", response={200: StatementList, **READ})
def statement_list(
    request,
    school_id: DbId | None = None,
    case_id: DbId | None = None,
    limit: int = 50,
    offset: int = 0,
):
    _need(request.auth, (Action.VIEW_SUSPENSION,))
    school_id = _school_filter(request.auth, school_id, (Action.VIEW_SUSPENSION,))
    qs = sel.statement_list(actor=request.auth, school_id=school_id, case_id=case_id)
    return paginate(qs, limit=limit, offset=offset, row=statement_payload)


@router.post("/health/statements", response={201: StatementOut, **WRITE})
def statement_create(request, payload: StatementIn):
    statement = services.statement_publish(
        actor=request.auth,
        school_id=payload.school_id,
        case_id=payload.case_id,
        text=payload.text,
        published_at=payload.published_at,
        approved_by=payload.approved_by,
    )
    return Status(201, statement_payload(statement))


# ------------------------------------------------------------------ aftercare


@router.get("/health/aftercare", response={200: TaskList, **READ})
def aftercare_list(
    request,
    school_id: DbId | None = None,
    case_id: DbId | None = None,
    state: Literal["open", "done"] | None = None,
    mine: bool = False,
    limit: int = 50,
    offset: int = 0,
):
    if mine:
        # An assignee sees their own tasks without reading health records (ADR 0032).
        _need(request.auth, (Action.VIEW_SUSPENSION,))
        school_id = _school_filter(request.auth, school_id, (Action.VIEW_SUSPENSION,))
        qs = sel.my_aftercare(request.auth, school_id=school_id, case_id=case_id, state=state)
        return paginate(qs, limit=limit, offset=offset, row=task_payload)
    _need(request.auth, (Action.VIEW_HEALTH,))
    school_id = _school_filter(request.auth, school_id, (Action.VIEW_HEALTH,))
    qs = sel.aftercare_list(
        actor=request.auth, school_id=school_id, case_id=case_id, state=state or ""
    )
    return paginate(qs, limit=limit, offset=offset, row=task_payload)


@router.post("/health/aftercare", response={201: TaskOut, **WRITE})
def aftercare_create(request, payload: TaskIn):
    task = services.aftercare_create(
        actor=request.auth,
        case_id=payload.case_id,
        kind=payload.kind,
        description=payload.description,
        assignee_id=payload.assignee_id,
        due_on=payload.due_on,
    )
    return Status(201, task_payload(sel.aftercare_get(actor=request.auth, task_id=task.pk)))


@router.post("/health/aftercare/{task_id}/done", response={200: TaskOut, **WRITE})
@conflicts_as_409
def aftercare_done(request, task_id: DbId, payload: NoteIn):
    _need(request.auth, (Action.VIEW_SUSPENSION,))
    task = services.aftercare_done(actor=request.auth, task_id=task_id, note=payload.note)
    return task_payload(sel.aftercare_get(actor=request.auth, task_id=task.pk))


# ------------------------------------------------------------------ monitoring plans


@router.get("/health/monitoring-plans", response={200: PlanList, **READ})
def plan_list(
    request,
    school_id: DbId | None = None,
    case_id: DbId | None = None,
    state: Literal["current", "past"] | None = None,
    limit: int = 50,
    offset: int = 0,
):
    _need(request.auth, sel.HEALTH_READERS)
    school_id = _school_filter(request.auth, school_id, sel.HEALTH_READERS)
    qs = sel.plan_list(actor=request.auth, school_id=school_id, case_id=case_id, state=state or "")
    return paginate(qs, limit=limit, offset=offset, row=plan_payload)


@router.post("/health/monitoring-plans", response={201: PlanOut, **WRITE})
def plan_create(request, payload: PlanIn):
    plan = services.monitoring_plan_create(
        actor=request.auth,
        school_id=payload.school_id,
        school_class_id=payload.school_class_id,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        checks_per_day=payload.checks_per_day,
        case_id=payload.case_id,
    )
    return Status(201, plan_payload(plan))


@router.post("/health/monitoring-plans/{plan_id}/end", response={200: PlanOut, **WRITE})
@conflicts_as_409
def plan_end(request, plan_id: DbId, payload: PlanEndIn):
    plan = services.monitoring_plan_end(
        actor=request.auth, plan_id=plan_id, ends_on=payload.ends_on
    )
    return plan_payload(plan)


# ------------------------------------------------------------------ a case's response


@router.get("/health/cases/{case_id}/response", response={200: CaseResponseOut, **READ})
def case_response(request, case_id: DbId):
    _need(request.auth, (Action.VIEW_HEALTH,))
    case = sel.case_get(actor=request.auth, case_id=case_id)
    log_health_read(actor=request.auth, obj=case, purpose="case response")
    data = sel.case_response(case)
    today = data.today
    for s in data.suspensions:
        s.school = data.case.school
    return {
        "case_id": case.pk,
        "school_id": case.school_id,
        "disinfections": [disinfection_payload(d) for d in data.disinfections],
        "suspensions": [suspension_payload(s, today) for s in data.suspensions],
        "statements": [statement_payload(s) for s in data.statements],
        "aftercare": [task_payload(t, case.school_id) for t in data.tasks],
        "monitoring_plans": [plan_payload(p) for p in data.plans],
    }
