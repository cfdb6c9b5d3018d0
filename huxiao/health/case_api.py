"""REST handlers of the suspected-case procedure (issue 9 items 5–6; ADR 0032 "Case").

- POST /health/cases {class_id, child_id, symptoms, temperature?, onset_date,
       suspected_disease?, notifiable?, note?, check_id?, contact_window_days?}
                                             RECORD_HEALTH; 201 {id, status, reported_at};
                                             409 when a case is open for the child (`case_id`)
- GET  /health/cases?status=&school_id=      VIEW_HEALTH; open cases first
- GET  /health/cases/{id}                    VIEW_HEALTH; with its steps and response groups
                                             (the read is logged)
- POST /health/cases/{id}/steps {step, note?, isolation_place?, isolated_at?,
       standby_classroom?, destination?, escort?, outcome?, diagnosis?, members?}
                                             the step's role (403 with the reason); 409 out
                                             of order or closed; a step already recorded is
                                             returned as it is
- POST /health/cases/{id}/close {note?}      MANAGE_HEALTH; after the outcome
- GET  /health/cases/{id}/contacts           VIEW_HEALTH; the close contacts with their
                                             reasons (the read is logged)

Out of scope is 404; no health action anywhere 403; bad input 400 with `errors` by field.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import wraps

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import Field

from huxiao.core.api import DbId, ErrorOut, api, paginate
from huxiao.core.names import person_name
from huxiao.core.roles import Action
from huxiao.duty.duty_selectors import require_any, school_get
from huxiao.health import case_selectors as sel
from huxiao.health import case_services as services
from huxiao.health.choices import CaseStatus, Step
from huxiao.health.contacts import case_contacts_for
from huxiao.health.reads import log_health_read
from huxiao.health.steps import steps_done

router = Router(tags=["health"])
WRITE = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


class ReportIn(Schema):
    class_id: DbId
    child_id: DbId
    symptoms: list[str] = Field(default=[], max_length=20)
    temperature: Decimal | str | None = None
    onset_date: dt.date
    suspected_disease: str = Field(default="", max_length=1000)
    notifiable: bool = False
    note: str = Field(default="", max_length=10000)
    check_id: DbId | None = None
    contact_window_days: int | None = None


class ReportedOut(Schema):
    id: int
    status: str
    reported_at: dt.datetime


class ConflictOut(ErrorOut):
    case_id: int | None = None


class StepOut(Schema):
    step: str
    label: str
    done_by: str
    done_at: dt.datetime
    note: str


class MemberOut(Schema):
    id: int
    group: str
    group_label: str
    user_id: int | None
    name: str
    phone: str
    is_leader: bool


class CaseOut(Schema):
    id: int
    school_id: int
    school_name: str
    class_id: int
    class_name: str
    child_id: int
    child_name: str
    status: str
    status_label: str
    symptoms: list[str]
    temperature: str | None
    suspected_disease: str
    notifiable: bool
    onset_date: dt.date
    contact_window_days: int
    isolated_at: dt.datetime | None
    isolation_place: str
    standby_classroom: str
    diagnosis: str
    reported_by: str
    reported_at: dt.datetime
    closed_at: dt.datetime | None


class CaseList(Schema):
    count: int
    items: list[CaseOut]


class CaseDetailOut(CaseOut):
    note: str
    steps: list[StepOut]
    groups: list[MemberOut]


class MemberIn(Schema):
    group: str = Field(max_length=30)
    user_id: int | None = None
    name: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=50)
    is_leader: bool = False


class StepIn(Schema):
    step: str = Field(max_length=40)
    note: str = Field(default="", max_length=5000)
    isolation_place: str = Field(default="", max_length=1000)
    isolated_at: dt.datetime | None = None
    standby_classroom: str = Field(default="", max_length=1000)
    destination: str = Field(default="", max_length=1000)
    escort: str = Field(default="", max_length=1000)
    outcome: str = Field(default="", max_length=20)
    diagnosis: str = Field(default="", max_length=1000)
    members: list[MemberIn] = Field(default=[], max_length=services.MEMBERS_MAX)


class CloseIn(Schema):
    note: str = Field(default="", max_length=10000)


class ReasonOut(Schema):
    reason: str
    label: str
    dates: list[dt.date]
    detail: str


class ContactOut(Schema):
    kind: str
    id: int
    name: str
    class_: str = Field(alias="class")
    reasons: list[ReasonOut]


# ------------------------------------------------------------------ payloads


def case_payload(c) -> dict:
    return {
        "id": c.pk,
        "school_id": c.school_id,
        "school_name": c.school.name,
        "class_id": c.school_class_id,
        "class_name": c.school_class.name,
        "child_id": c.child_id,
        "child_name": c.child.name,
        "status": c.status,
        "status_label": str(c.get_status_display()),
        "symptoms": list(c.symptoms or []),
        "temperature": str(c.temperature) if c.temperature is not None else None,
        "suspected_disease": c.suspected_disease,
        "notifiable": c.notifiable,
        "onset_date": c.onset_date,
        "contact_window_days": c.contact_window_days,
        "isolated_at": c.isolated_at,
        "isolation_place": c.isolation_place,
        "standby_classroom": c.standby_classroom,
        "diagnosis": c.diagnosis,
        "reported_by": person_name(c.reported_by) if c.reported_by_id else "",
        "reported_at": c.reported_at,
        "closed_at": c.closed_at,
    }


def _detail(actor, case_id) -> dict:
    case = sel.case_get(actor=actor, case_id=case_id)
    log_health_read(actor=actor, obj=case, purpose="case api")
    done = steps_done(case)
    steps = [
        {
            "step": s.step,
            "label": str(Step(s.step).label),
            "done_by": person_name(s.done_by) if s.done_by_id else "",
            "done_at": s.done_at,
            "note": s.note,
        }
        for s in sorted(done.values(), key=lambda s: (s.done_at, s.pk))
    ]
    groups = [
        {
            "id": m.pk,
            "group": m.group,
            "group_label": str(g.label),
            "user_id": m.user_id,
            "name": m.name,
            "phone": m.phone,
            "is_leader": m.is_leader,
        }
        for g in sel.groups_of(case)
        for m in g.members
    ]
    return {**case_payload(case), "note": case.note, "steps": steps, "groups": groups}


def conflicts_as_409(handler):
    """A state refusal (CaseConflict) answers 409 with its sentence (and the open case)."""

    @wraps(handler)
    def wrapper(request, *args, **kwargs):
        try:
            return handler(request, *args, **kwargs)
        except services.CaseConflict as exc:
            body = {"detail": exc.messages[0], "errors": {}}
            if exc.case is not None:
                body["case_id"] = exc.case.pk
            return api.create_response(request, body, status=409)

    return wrapper


# ------------------------------------------------------------------ cases


@router.post("/health/cases", response={**WRITE, 201: ReportedOut, 409: ConflictOut})
@conflicts_as_409
def case_report(request, payload: ReportIn):
    case = services.case_report(
        actor=request.auth,
        class_id=payload.class_id,
        child_id=payload.child_id,
        symptoms=payload.symptoms,
        temperature=payload.temperature,
        onset_date=payload.onset_date,
        suspected_disease=payload.suspected_disease,
        notifiable=payload.notifiable,
        note=payload.note,
        check_id=payload.check_id,
        contact_window_days=payload.contact_window_days,
    )
    return Status(201, {"id": case.pk, "status": case.status, "reported_at": case.reported_at})


@router.get(
    "/health/cases",
    response={200: CaseList, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def case_list(
    request,
    status: str | None = None,
    school_id: DbId | None = None,
    limit: int = 50,
    offset: int = 0,
):
    require_any(request.auth, Action.VIEW_HEALTH)
    if status and status not in ("open", *CaseStatus.values):
        raise ValidationError(
            {
                "status": [
                    _("Choose a status: %(values)s.")
                    % {"values": ", ".join(("open", *CaseStatus.values))}
                ]
            }
        )
    if school_id is not None:
        school_get(actor=request.auth, school_id=school_id, action=Action.VIEW_HEALTH)
    qs = sel.case_list(actor=request.auth, status=status or "", school_id=school_id)
    return paginate(qs, limit=limit, offset=offset, row=case_payload)


@router.get(
    "/health/cases/{case_id}",
    response={200: CaseDetailOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def case_detail(request, case_id: DbId):
    require_any(request.auth, Action.VIEW_HEALTH)
    return _detail(request.auth, case_id)


@router.post("/health/cases/{case_id}/steps", response={**WRITE, 200: CaseDetailOut})
@conflicts_as_409
def case_step(request, case_id: DbId, payload: StepIn):
    services.case_step(
        actor=request.auth,
        case_id=case_id,
        step=payload.step,
        note=payload.note,
        isolation_place=payload.isolation_place,
        isolated_at=payload.isolated_at,
        standby_classroom=payload.standby_classroom,
        destination=payload.destination,
        escort=payload.escort,
        outcome=payload.outcome,
        diagnosis=payload.diagnosis,
        members=[m.model_dump() for m in payload.members],
    )
    return _detail(request.auth, case_id)


@router.post("/health/cases/{case_id}/close", response={**WRITE, 200: CaseDetailOut})
@conflicts_as_409
def case_close(request, case_id: DbId, payload: CloseIn):
    services.case_close(actor=request.auth, case_id=case_id, note=payload.note)
    return _detail(request.auth, case_id)


@router.get(
    "/health/cases/{case_id}/contacts",
    response={200: list[ContactOut], 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def case_contacts(request, case_id: DbId):
    require_any(request.auth, Action.VIEW_HEALTH)
    _case, contacts = case_contacts_for(actor=request.auth, case_id=case_id)
    return api.create_response(
        request,
        [
            {
                "kind": c.kind,
                "id": c.id,
                "name": c.name,
                "class": c.class_name,
                "reasons": [
                    {
                        "reason": r.reason,
                        "label": r.label,
                        "dates": [d.isoformat() for d in r.dates],
                        "detail": r.detail,
                    }
                    for r in c.reasons
                ],
            }
            for c in contacts
        ],
        status=200,
    )
