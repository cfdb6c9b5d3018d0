"""REST handlers of the gate's visitors (ADR 0023): parse → call a service → return.

Auth: a user token or session (the gate roles of the school: REGISTER_VISITOR), or a gate
terminal's device token (bound to its school; a `school_id` in the body must be that
school). Errors follow ADR 0006 (400 with the Chinese message per field, 403 role, 404 out
of scope). A check-in answers the same shape for both outcomes; a hold carries no badge and
only the neutral instruction — never which list matched, never why.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from huxiao.access import visitor_selectors as selectors
from huxiao.access import visitor_services as services
from huxiao.access.choices import Screening, VisitStatus
from huxiao.core.api import DbId, ErrorOut, api, paginate
from huxiao.core.roles import Action
from huxiao.core.scoping import visible_school_ids

router = Router(tags=["gate"])


class CheckInIn(Schema):
    school_id: DbId | None = None
    name: str = ""
    id_number: str = ""
    phone: str = ""
    purpose: str = ""
    purpose_note: str = ""
    host_id: str | int | None = None
    items: str = ""
    invitation: str = ""


class BadgeOut(Schema):
    code: str
    expires_at: str


class CheckInOut(Schema):
    id: int
    screening: str
    badge: BadgeOut | None = None
    message: str


class CodeIn(Schema):
    school_id: DbId | None = None
    code: str = ""


class PreRegisterIn(Schema):
    school_id: DbId | None = None
    name: str = ""
    phone: str = ""
    purpose: str = ""
    purpose_note: str = ""
    host_id: str | int | None = None
    expected_on: str = ""


class RefusedOut(Schema):
    detail: str
    errors: dict[str, list[str]] = {}
    code: str


class HoldDecisionIn(Schema):
    decision: str = ""
    note: str = ""


class HostOut(Schema):
    id: int
    name: str


class VisitOut(Schema):
    id: int
    school_id: int
    name: str
    phone: str
    id_number_masked: str
    purpose: str
    purpose_label: str
    purpose_note: str
    host: HostOut | None = None
    items: str
    status: str
    screening: str
    expected_on: str | None = None
    checked_in_at: str | None = None
    checked_out_at: str | None = None
    badge: BadgeOut | None = None
    invitation: str | None = None
    overstay_flagged_at: str | None = None
    # The duty leader's decision on a hold ("admitted" | "turned_away" | ""); never why.
    hold_resolution: str = ""


class VisitList(Schema):
    count: int
    items: list[VisitOut]


def _iso(value):
    return value.isoformat() if value is not None else None


def badge_payload(visit) -> dict | None:
    # A held visit has no badge until the duty leader admits it.
    if not visit.badge_code:
        return None
    return {"code": services.badge_text(visit), "expires_at": visit.badge_expires_at.isoformat()}


def check_in_payload(visit) -> dict:
    hold = visit.screening == Screening.HOLD
    return {
        "id": visit.pk,
        "screening": visit.screening,
        "badge": None if hold else badge_payload(visit),
        "message": str(services.HOLD_INSTRUCTION) if hold else _("Checked in."),
    }


def visit_payload(visit, *, with_screening: bool = True) -> dict:
    """`with_screening=False` (an inviter who is not the gate): the status only — no
    screening, no decision on a hold, no arrival time, ID number or items of a visit that
    is not inside (selectors.gate_details_hidden)."""
    invitation = None
    if visit.invitation_code and visit.status == VisitStatus.EXPECTED and not visit.screening:
        invitation = services.invitation_text(visit)
    arrived = visit.status in (VisitStatus.INSIDE, VisitStatus.LEFT)
    gate_details = with_screening or arrived
    return {
        "id": visit.pk,
        "school_id": visit.school_id,
        "name": visit.name,
        "phone": visit.phone,
        "id_number_masked": visit.id_number_masked if gate_details else "",
        "purpose": visit.purpose,
        "purpose_label": str(visit.get_purpose_display()),
        "purpose_note": visit.purpose_note,
        "host": {"id": visit.host.pk, "name": visit.host.name} if visit.host else None,
        "items": visit.items if gate_details else "",
        "status": visit.status,
        "screening": visit.screening if with_screening else "",
        "expected_on": _iso(visit.expected_on),
        "checked_in_at": _iso(visit.checked_in_at) if with_screening or arrived else None,
        "checked_out_at": _iso(visit.checked_out_at),
        "badge": badge_payload(visit) if visit.status == VisitStatus.INSIDE else None,
        "invitation": invitation,
        "overstay_flagged_at": _iso(visit.overstay_flagged_at),
        "hold_resolution": visit.hold_resolution if with_screening else "",
    }


def _school_for(principal, school_id, action=Action.REGISTER_VISITOR):
    if getattr(principal, "is_device", False):
        # A device is bound to one school; a school_id in the body must be that school.
        if school_id not in (None, principal.school_id):
            raise ValidationError({"school_id": [_("Unknown or inaccessible record.")]})
        school_id = principal.school_id
    if school_id is None:
        ids = visible_school_ids(principal, action)
        if len(ids) != 1:
            raise ValidationError({"school_id": [_("This field is required.")]})
        (school_id,) = ids
    return selectors.gate_school(actor=principal, school_id=school_id, action=action)


@router.post("/visitors/check-in", response={201: CheckInOut, 400: ErrorOut, 403: ErrorOut})
def visitor_check_in(request, payload: CheckInIn):
    """Check a visitor in, screened against the police register and the school's
    blocklist. `screening` is "clear" (a badge until closing time) or "hold" (no badge;
    tell the visitor to wait and call the duty leader)."""
    school = _school_for(request.auth, payload.school_id)
    visit = services.visit_check_in(
        actor=request.auth,
        school=school,
        name=payload.name,
        id_number=payload.id_number,
        phone=payload.phone,
        purpose=payload.purpose,
        purpose_note=payload.purpose_note,
        host=payload.host_id,
        items=payload.items,
        invitation=payload.invitation or None,
    )
    # Rendered here: CheckInOut documents it and a test keeps the two in step (ninja's
    # validation of the answer cost a twentieth of a check-in; ADR 0022).
    return api.create_response(request, check_in_payload(visit), status=201)


@router.post(
    "/visitors/check-out", response={200: VisitOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
)
def visitor_check_out_by_badge(request, payload: CodeIn):
    """Check a visitor out by the badge's QR code."""
    school = _school_for(request.auth, payload.school_id)
    visit = services.visit_check_out_by_badge(actor=request.auth, school=school, text=payload.code)
    return Status(200, visit_payload(visit))


@router.post(
    "/visitors/{visit_id}/check-out",
    response={200: VisitOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def visitor_check_out(request, visit_id: DbId):
    visit = _gate_visit(request.auth, visit_id)
    visit = services.visit_check_out(actor=request.auth, visit=visit)
    return Status(200, visit_payload(visit))


def _gate_visit(principal, visit_id):
    from django.http import Http404

    visit = selectors.visit_get(actor=principal, visit_id=visit_id)
    if not getattr(principal, "is_device", False) or visit.school_id == principal.school_id:
        return visit
    raise Http404


@router.post(
    "/visitors/pre-register", response={201: VisitOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
)
def visitor_pre_register(request, payload: PreRegisterIn):
    """An expected visit with a one-time invitation QR (`invitation`), valid on the day."""
    device = getattr(request.auth, "is_device", False)
    action = Action.REGISTER_VISITOR if device else Action.VIEW
    school = _school_for(request.auth, payload.school_id, action)
    visit = services.visit_pre_register(
        actor=request.auth,
        school=school,
        name=payload.name,
        phone=payload.phone,
        purpose=payload.purpose,
        purpose_note=payload.purpose_note,
        host=payload.host_id,
        expected_on=payload.expected_on,
    )
    return Status(201, visit_payload(visit))


@router.get("/visitors", response={200: VisitList, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut})
def visitor_list(
    request,
    school_id: DbId | None = None,
    status: str = "inside",
    limit: int = 50,
    offset: int = 0,
):
    """The gate's visitors: `status` = inside (default), expected (today's invitations) or
    today (every check-in of the day)."""
    school = _school_for(request.auth, school_id)
    today = services.local_now().date()
    if status == "inside":
        qs = selectors.visits_inside(school=school)
    elif status == "expected":
        qs = selectors.visits_expected(school=school, day=today)
    elif status == "today":
        qs = selectors.visits_of_day(school=school, day=today).order_by("-checked_in_at", "-pk")
    else:
        raise ValidationError({"status": [_("Choose inside, expected or today.")]})
    return paginate(qs, limit=limit, offset=offset, row=visit_payload)


@router.get("/visitors/{visit_id}", response={200: VisitOut, 404: ErrorOut})
def visitor_get(request, visit_id: DbId):
    visit = _gate_visit(request.auth, visit_id)
    return Status(
        200,
        visit_payload(visit, with_screening=selectors.can_read_screening(request.auth, visit)),
    )


@router.post(
    "/visitors/{visit_id}/hold-decision",
    response={200: VisitOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: RefusedOut},
)
def visitor_hold_decision(request, visit_id: DbId, payload: HoldDecisionIn):
    """The duty leader's decision on a held visitor: `decision` = "admit" (inside, with a
    badge) or "turn_away" (closed; `note` required). Duty leader, principal or security
    officer of the school; not the guard, not a device."""
    visit = selectors.visit_get(actor=request.auth, visit_id=visit_id)
    try:
        visit = services.visit_hold_resolve(
            actor=request.auth, visit=visit, decision=payload.decision, note=payload.note
        )
    except services.VisitRefused as refused:
        message = str(refused.reason)
        return Status(409, {"detail": message, "errors": {}, "code": refused.reason_code})
    return Status(200, visit_payload(visit))
