"""REST handlers of legal vice-principal assignments (ADR 0020).

Reading needs `view` on the school; appointing and ending `assign_lvp` (the station
commander). Out of scope is 404 like a missing record (ADR 0005)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from huxiao.core.api import DbId, ErrorOut, paginate
from huxiao.core.names import person_name
from huxiao.core.roles import Action
from huxiao.orgs.models import Organization
from huxiao.patrols import lvp_selectors as selectors
from huxiao.patrols import lvp_services as services
from huxiao.patrols.selectors import require_any

router = Router(tags=["legal vice-principals"])


class _In(Schema):
    model_config = ConfigDict(extra="forbid")


class LvpIn(_In):
    school_id: DbId
    officer_id: DbId
    term_start: dt.date
    term_end: dt.date | None = None
    appointment_no: str = Field(max_length=1000)


class LvpEndIn(_In):
    reason: str = Field("", max_length=1000)


class LvpOut(Schema):
    id: int
    school_id: int
    school_name: str
    station_id: int
    station_name: str
    officer_id: int
    officer: str
    term_start: str
    term_end: str | None
    appointment_no: str
    is_active: bool
    ended_at: str | None
    end_reason: str


class LvpList(Schema):
    count: int
    items: list[LvpOut]


def lvp_payload(a) -> dict:
    return {
        "id": a.pk,
        "school_id": a.school_id,
        "school_name": a.school.name,
        "station_id": a.station_id,
        "station_name": a.station.name,
        "officer_id": a.officer_id,
        "officer": person_name(a.officer),
        "term_start": a.term_start.isoformat(),
        "term_end": a.term_end.isoformat() if a.term_end else None,
        "appointment_no": a.appointment_no,
        "is_active": selectors.lvp_is_current(a),
        "ended_at": a.ended_at.isoformat() if a.ended_at else None,
        "end_reason": a.end_reason,
    }


@router.get("/lvp/assignments", response={200: LvpList, 403: ErrorOut})
def lvp_list(
    request,
    school_id: DbId | None = None,
    station_id: DbId | None = None,
    active: bool | None = None,
    limit: int = 50,
    offset: int = 0,
):
    require_any(request.auth, Action.VIEW)
    qs = selectors.lvp_list(
        actor=request.auth, school_id=school_id, station_id=station_id, active=active
    )
    return paginate(qs, limit=limit, offset=offset, row=lvp_payload)


@router.post(
    "/lvp/assignments", response={201: LvpOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
)
def lvp_assign(request, payload: LvpIn):
    require_any(request.auth, Action.ASSIGN_LVP)
    school = get_object_or_404(
        Organization.objects.visible_to(request.auth, Action.ASSIGN_LVP).schools(),
        pk=payload.school_id,
    )
    officer = get_user_model().objects.filter(pk=payload.officer_id, is_active=True).first()
    assignment = services.lvp_assign(
        actor=request.auth,
        school=school,
        officer=officer,
        term_start=payload.term_start,
        term_end=payload.term_end,
        appointment_no=payload.appointment_no,
    )
    return Status(201, lvp_payload(assignment))


@router.get(
    "/lvp/assignments/{assignment_id}", response={200: LvpOut, 403: ErrorOut, 404: ErrorOut}
)
def lvp_detail(request, assignment_id: DbId):
    require_any(request.auth, Action.VIEW)
    return lvp_payload(selectors.lvp_get(actor=request.auth, assignment_id=assignment_id))


@router.post(
    "/lvp/assignments/{assignment_id}/end",
    response={200: LvpOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def lvp_end(request, assignment_id: DbId, payload: LvpEndIn):
    require_any(request.auth, Action.VIEW)
    assignment = selectors.lvp_get(actor=request.auth, assignment_id=assignment_id)
    assignment = services.lvp_end(actor=request.auth, assignment=assignment, reason=payload.reason)
    return lvp_payload(assignment)
