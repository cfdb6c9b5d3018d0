"""REST handlers of hazards: parse → call a selector/service → return.

Reading needs `view` on the hazard's school; reporting `report_hazard`; the moves the rights
of the state machine (hazard_services.MOVES). A user whose role allows an action nowhere
gets 403; a hazard outside the user's scope is 404, exactly like one that does not exist;
a move the hazard's state does not allow is 409 with the reason in `detail`.
"""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from django.urls import reverse
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from huxiao.core.api import DbId, ErrorOut, api, paginate
from huxiao.core.names import person_name
from huxiao.core.roles import Action
from huxiao.hazards import hazard_selectors as selectors
from huxiao.hazards import hazard_services as services
from huxiao.hazards.choices import HazardCategory, HazardLevel, HazardStatus
from huxiao.hazards.models import InspectionAnswer
from huxiao.orgs.models import Membership, Organization

router = Router(tags=["hazards"])


# ------------------------------------------------------------------ schemas


class HazardOut(Schema):
    id: int
    school_id: int
    school_name: str
    category: str
    category_label: str
    level: str
    level_label: str
    title: str
    status: str
    status_label: str
    owner_id: int | None
    owner_name: str
    deadline: str | None
    overdue: bool
    escalation_level: int
    reported_at: str
    closed_at: str | None


class HazardList(Schema):
    count: int
    items: list[HazardOut]


class EventOut(Schema):
    at: str
    by: str
    from_status: str
    to_status: str
    note: str


class PhotoOut(Schema):
    id: int
    kind: str
    url: str


class HazardDetailOut(HazardOut):
    description: str
    rectification_plan: str
    inspection_id: int | None
    answer_id: int | None
    reported_by: str
    verified_by: str
    submitted_at: str | None
    events: list[EventOut]
    photos: list[PhotoOut]
    allowed_moves: list[str]


class HazardIn(Schema):
    school_id: DbId
    category: str
    level: str = HazardLevel.GENERAL
    title: str
    description: str
    deadline: dt.date | None = None
    answer_id: DbId | None = None


class AssignIn(Schema):
    owner_id: DbId
    # Left out: the current deadline is kept. The school may only bring it forward.
    deadline: dt.date | None = None
    plan: str = ""


class NoteIn(Schema):
    note: str = ""


class ReasonIn(Schema):
    reason: str


class ReasonDeadlineIn(Schema):
    reason: str
    deadline: dt.date


# ------------------------------------------------------------------ payloads


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def hazard_payload(hazard, today: dt.date | None = None) -> dict:
    return {
        "id": hazard.pk,
        "school_id": hazard.school_id,
        "school_name": hazard.school.name,
        "category": hazard.category,
        "category_label": str(HazardCategory(hazard.category).label),
        "level": hazard.level,
        "level_label": str(HazardLevel(hazard.level).label),
        "title": hazard.title,
        "status": hazard.status,
        "status_label": str(HazardStatus(hazard.status).label),
        "owner_id": hazard.owner_id,
        "owner_name": person_name(hazard.owner) if hazard.owner_id else "",
        "deadline": _iso(hazard.deadline),
        "overdue": selectors.is_overdue(hazard, today),
        "escalation_level": hazard.escalation_level,
        "reported_at": hazard.reported_at.isoformat(),
        "closed_at": _iso(hazard.closed_at),
    }


def hazard_detail_payload(hazard, actor) -> dict:
    data = hazard_payload(hazard)
    data.update(
        {
            "description": hazard.description,
            "rectification_plan": hazard.rectification_plan,
            "inspection_id": hazard.inspection_id,
            "answer_id": hazard.answer_id,
            "reported_by": person_name(hazard.reported_by) if hazard.reported_by_id else "",
            "verified_by": person_name(hazard.verified_by) if hazard.verified_by_id else "",
            "submitted_at": _iso(hazard.submitted_at),
            "events": [
                {
                    "at": e.at.isoformat(),
                    "by": person_name(e.actor) if e.actor_id else e.actor_label,
                    "from_status": e.from_status,
                    "to_status": e.to_status,
                    "note": e.note,
                }
                for e in hazard.events.all()
            ],
            "photos": [
                {
                    "id": p.pk,
                    "kind": p.kind,
                    "url": reverse("hazards:hazard_photo", args=[p.pk]),
                }
                for p in hazard.photos.all()
            ],
            "allowed_moves": services.allowed_moves(actor, hazard),
        }
    )
    return data


def _refused(request, refused: services.HazardTransitionRefused):
    return api.create_response(request, {"detail": refused.messages[0], "errors": {}}, status=409)


def _detail(request, hazard_id: int):
    return hazard_detail_payload(
        selectors.hazard_get(actor=request.auth, hazard_id=hazard_id), request.auth
    )


# ------------------------------------------------------------------ reads


@router.get("/hazards", response={200: HazardList, 400: ErrorOut, 403: ErrorOut})
def hazard_list(
    request,
    school_id: DbId | None = None,
    town_id: DbId | None = None,
    status: HazardStatus | None = None,
    category: HazardCategory | None = None,
    level: HazardLevel | None = None,
    overdue: bool = False,
    limit: int = 50,
    offset: int = 0,
):
    """Hazards in the caller's scope, newest first; `town_id` keeps the schools of one town,
    `overdue` the open hazards past their deadline. `limit` is clamped to 1–200."""
    selectors.require_any(request.auth, Action.VIEW)
    today = services.local_today()
    qs = selectors.hazard_list(
        actor=request.auth,
        filters=selectors.HazardFilters(
            school_id=school_id,
            town_id=town_id,
            status=status or "",
            category=category or "",
            level=level or "",
            overdue=overdue,
        ),
        today=today,
    )
    return paginate(
        selectors.HazardRows(qs),
        limit=limit,
        offset=offset,
        row=lambda h: hazard_payload(h, today),
    )


@router.get("/hazards/{hazard_id}", response={200: HazardDetailOut, 403: ErrorOut, 404: ErrorOut})
def hazard_detail(request, hazard_id: DbId):
    selectors.require_any(request.auth, Action.VIEW)
    return _detail(request, hazard_id)


# ------------------------------------------------------------------ writes


@router.post(
    "/hazards", response={201: HazardDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
)
def hazard_report(request, payload: HazardIn):
    """Report a hazard (JSON); photos are added to a report through the page, evidence
    photos with `submit` (multipart)."""
    selectors.require_any(request.auth, Action.REPORT_HAZARD)
    school = Organization.objects.visible_to(request.auth).filter(pk=payload.school_id).first()
    answer = None
    if payload.answer_id is not None:
        answer = (
            InspectionAnswer.objects.visible_to(request.auth)
            .select_related("inspection")
            .filter(pk=payload.answer_id)
            .first()
        )
        if answer is None:
            raise Http404
    hazard = services.hazard_report(
        actor=request.auth,
        school=school,
        category=payload.category,
        level=payload.level,
        title=payload.title,
        description=payload.description,
        deadline=payload.deadline,
        answer=answer,
    )
    return Status(201, _detail(request, hazard.pk))


_MOVE_RESPONSES = {200: HazardDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


def _move(request, hazard_id: int, call):
    hazard = selectors.hazard_get(actor=request.auth, hazard_id=hazard_id)
    try:
        call(hazard)
    except services.HazardTransitionRefused as refused:
        return _refused(request, refused)
    return _detail(request, hazard_id)


@router.post("/hazards/{hazard_id}/assign", response=_MOVE_RESPONSES)
def hazard_assign(request, hazard_id: DbId, payload: AssignIn):
    """Name the owner (an active member of the school), the deadline and the plan."""

    def call(hazard):
        owner = (
            Membership.objects.filter(user_id=payload.owner_id, organization_id=hazard.school_id)
            .select_related("user")
            .first()
        )
        return services.hazard_assign(
            actor=request.auth,
            hazard=hazard,
            owner=owner.user if owner else _no_owner(payload.owner_id),
            deadline=payload.deadline,
            plan=payload.plan,
        )

    return _move(request, hazard_id, call)


def _no_owner(user_id: int):
    """Someone who is not a member of the school: the service refuses them by name, without
    revealing whether the user exists."""
    from django.contrib.auth import get_user_model

    return get_user_model()(pk=user_id)


@router.post("/hazards/{hazard_id}/start", response=_MOVE_RESPONSES)
def hazard_start(request, hazard_id: DbId, payload: NoteIn):
    return _move(
        request,
        hazard_id,
        lambda h: services.hazard_start(actor=request.auth, hazard=h, note=payload.note),
    )


@router.post("/hazards/{hazard_id}/submit", response=_MOVE_RESPONSES)
def hazard_submit(
    request,
    hazard_id: DbId,
    note: str = Form(""),  # noqa: B008
    photos: list[UploadedFile] = File(None),  # noqa: B008
):
    """Submit the rectification (multipart): `note` and at least one `photos` file."""
    return _move(
        request,
        hazard_id,
        lambda h: services.hazard_submit(
            actor=request.auth, hazard=h, note=note, photos=photos or []
        ),
    )


@router.post("/hazards/{hazard_id}/verify", response=_MOVE_RESPONSES)
def hazard_verify(request, hazard_id: DbId, payload: NoteIn):
    return _move(
        request,
        hazard_id,
        lambda h: services.hazard_verify(actor=request.auth, hazard=h, note=payload.note),
    )


@router.post("/hazards/{hazard_id}/reject", response=_MOVE_RESPONSES)
def hazard_reject(request, hazard_id: DbId, payload: ReasonIn):
    return _move(
        request,
        hazard_id,
        lambda h: services.hazard_reject(actor=request.auth, hazard=h, reason=payload.reason),
    )


@router.post("/hazards/{hazard_id}/reopen", response=_MOVE_RESPONSES)
def hazard_reopen(request, hazard_id: DbId, payload: ReasonDeadlineIn):
    """Reopen a closed hazard with a reason and a new deadline."""
    return _move(
        request,
        hazard_id,
        lambda h: services.hazard_reopen(
            actor=request.auth, hazard=h, reason=payload.reason, deadline=payload.deadline
        ),
    )


@router.post("/hazards/{hazard_id}/extend", response=_MOVE_RESPONSES)
def hazard_extend(request, hazard_id: DbId, payload: ReasonDeadlineIn):
    """The supervising side grants a later deadline, with a reason."""
    return _move(
        request,
        hazard_id,
        lambda h: services.hazard_extend(
            actor=request.auth, hazard=h, deadline=payload.deadline, reason=payload.reason
        ),
    )
