"""REST handlers of listed supervision (挂牌督办): the board, one listing, listing a hazard
or a prominent problem, and lifting (摘牌).

Reading needs `view` on some school (public listings of the scope, plus those the caller
supervises or belongs to); listing needs `list_supervision` at the school; lifting the
supervising office. Out of scope is 404; no right 403; a state that does not allow the
write 409 with the reason in `detail`; bad input 400.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from huxiao.core.api import DbId, ErrorOut, api, paginate
from huxiao.core.names import person_name
from huxiao.hazards import listing_selectors as selectors
from huxiao.hazards import listing_services as services
from huxiao.hazards.choices import ListingStatus
from huxiao.hazards.hazard_services import local_today
from huxiao.hazards.models import Hazard
from huxiao.orgs.models import Organization

router = Router(tags=["listed supervision"])


class ListingOut(Schema):
    id: int
    school_id: int
    school_name: str
    town_name: str
    hazard_id: int | None
    hazard_status: str | None
    reference: str
    title: str
    supervising_org_id: int
    supervising_org_name: str
    deadline: str
    days_left: int
    countdown: str
    status: str
    status_label: str
    is_public: bool
    listed_at: str
    lifted_at: str | None


class ListingList(Schema):
    count: int
    items: list[ListingOut]


class ListingDetailOut(ListingOut):
    reason: str
    requirements: str
    listed_by: str
    lifted_by: str
    lift_note: str
    may_manage: bool


class ListingIn(Schema):
    school_id: DbId | None = None
    hazard_id: DbId | None = None
    title: str = ""
    reason: str
    requirements: str = ""
    deadline: dt.date
    reference: str = ""
    supervising_org_id: DbId | None = None
    is_public: bool = True


class LiftIn(Schema):
    note: str
    lift_anyway: bool = False


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def listing_payload(listing, today: dt.date | None = None) -> dict:
    today = today or local_today()
    countdown = selectors.countdown(listing, today)
    return {
        "id": listing.pk,
        "school_id": listing.school_id,
        "school_name": listing.school.name,
        "town_name": listing.school.town.name if listing.school.town_id else "",
        "hazard_id": listing.hazard_id,
        "hazard_status": listing.hazard.status if listing.hazard_id else None,
        "reference": listing.reference,
        "title": listing.title,
        "supervising_org_id": listing.supervising_org_id,
        "supervising_org_name": listing.supervising_org.name,
        "deadline": listing.deadline.isoformat(),
        "days_left": selectors.days_left(listing, today),
        "countdown": countdown["state"],
        "status": listing.status,
        "status_label": str(ListingStatus(listing.status).label),
        "is_public": listing.is_public,
        "listed_at": listing.listed_at.isoformat(),
        "lifted_at": _iso(listing.lifted_at),
    }


def _detail(request, listing_id: int) -> dict:
    listing = selectors.listing_get(actor=request.auth, listing_id=listing_id)
    data = listing_payload(listing)
    data.update(
        {
            "reason": listing.reason,
            "requirements": listing.requirements,
            "listed_by": person_name(listing.listed_by) if listing.listed_by_id else "",
            "lifted_by": person_name(listing.lifted_by) if listing.lifted_by_id else "",
            "lift_note": listing.lift_note,
            "may_manage": services.may_manage(request.auth, listing)
            and listing.status == ListingStatus.ACTIVE,
        }
    )
    return data


def _refused(request, refused):
    return api.create_response(request, {"detail": refused.messages[0], "errors": {}}, status=409)


@router.get("/hazards/listings", response={200: ListingList, 400: ErrorOut, 403: ErrorOut})
def listing_list(
    request,
    status: ListingStatus | None = None,
    town_id: DbId | None = None,
    school_id: DbId | None = None,
    limit: int = 50,
    offset: int = 0,
):
    """The board: active listings first, nearest deadline first. `days_left` is negative
    when overdue; `countdown` is left / today / overdue / awaiting (the hazard is closed,
    the listing awaits lifting) / lifted."""
    selectors.require_board(request.auth)
    today = local_today()
    qs = selectors.listing_list(
        actor=request.auth,
        filters=selectors.ListingFilters(status=status or "", town_id=town_id, school_id=school_id),
    )
    return paginate(qs, limit=limit, offset=offset, row=lambda x: listing_payload(x, today))


@router.get(
    "/hazards/listings/{listing_id}",
    response={200: ListingDetailOut, 403: ErrorOut, 404: ErrorOut},
)
def listing_detail(request, listing_id: DbId):
    selectors.require_board(request.auth)
    return _detail(request, listing_id)


@router.post(
    "/hazards/listings",
    response={201: ListingDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def listing_create(request, payload: ListingIn):
    """List a hazard (`hazard_id`) or a prominent problem of a school (`school_id`)."""
    selectors.require_board(request.auth)
    hazard = school = None
    if payload.hazard_id is not None:
        hazard = Hazard(pk=payload.hazard_id)  # the service reads it in scope (or 404)
    if payload.school_id is not None:
        school = Organization.objects.visible_to(request.auth).filter(pk=payload.school_id).first()
        if school is None:
            raise Http404
    if hazard is None and school is None:
        raise ValidationError({"school_id": [_("Give a school or a hazard.")]})
    supervising_org = None
    if payload.supervising_org_id is not None:
        supervising_org = Organization(pk=payload.supervising_org_id)
    try:
        listing = services.listing_create(
            actor=request.auth,
            school=school,
            hazard=hazard,
            title=payload.title,
            reason=payload.reason,
            requirements=payload.requirements,
            deadline=payload.deadline,
            reference=payload.reference,
            supervising_org=supervising_org,
            is_public=payload.is_public,
        )
    except services.ListingRefused as refused:
        return _refused(request, refused)
    return Status(201, _detail(request, listing.pk))


@router.post(
    "/hazards/listings/{listing_id}/lift",
    response={200: ListingDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def listing_lift(request, listing_id: DbId, payload: LiftIn):
    """摘牌, with a note; while the hazard is open only with `lift_anyway`."""
    selectors.require_board(request.auth)
    listing = selectors.listing_get(actor=request.auth, listing_id=listing_id)
    try:
        services.listing_lift(
            actor=request.auth,
            listing=listing,
            note=payload.note,
            lift_anyway=payload.lift_anyway,
        )
    except services.ListingRefused as refused:
        return _refused(request, refused)
    return _detail(request, listing_id)
