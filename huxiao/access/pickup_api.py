"""REST handlers of child pick-up (issue 5, ADR 0025): parse → call a service → return.

Auth as every API (ADR 0006): a user token, the browser session, or a gate terminal's
device token (bound to its school). Looking up and releasing need RELEASE_CHILD at the
school; the waiting list of a class RELEASE_CHILD or MANAGE_PICKUP. A refused code is 409
with `code` (the RefusalReason) and the message; a PIN lock 429 (`pin_locked`), 503
(`pin_unavailable`) while the lockout cannot be read; bad input 400.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import Field

from huxiao.access import photos
from huxiao.access import pickup_selectors as selectors
from huxiao.access import pickup_services as services
from huxiao.access.models import GuardianPhoto, PickupDelegate
from huxiao.core.api import DbId, ErrorOut, api
from huxiao.core.roles import Action
from huxiao.core.scoping import visible_school_ids
from huxiao.orgs.models import Organization

router = Router(tags=["gate"])


class LookupIn(Schema):
    code: str = Field(max_length=500)
    school_id: DbId | None = None


class ReleaseIn(Schema):
    confirmation_token: str = Field(max_length=500)
    school_id: DbId | None = None


class ChildOut(Schema):
    id: int
    name: str
    class_name: str
    initials: str


class AdultOut(Schema):
    name: str
    relationship: str
    is_delegate: bool
    has_photo: bool
    photo_url: str | None = None


class LookupOut(Schema):
    child: ChildOut
    adult: AdultOut
    method: str
    confirmation_token: str
    expires_in: int


class ReleaseOut(Schema):
    id: int
    child: ChildOut
    adult_name: str
    released_at: str
    released_by: str
    method: str


class RefusedOut(ErrorOut):
    code: str


class WaitingRowOut(Schema):
    child: ChildOut
    status: str
    flagged: bool
    adult_name: str | None = None
    released_at: str | None = None
    released_by: str | None = None


class WaitingOut(Schema):
    count: int
    waiting: int
    items: list[WaitingRowOut]


def _child(child) -> dict:
    return {
        "id": child.pk,
        "name": child.name,
        "class_name": child.school_class.name,
        "initials": selectors.initials(child.name),
    }


def _school_ref(school_id: int) -> Organization:
    """The gate's school as the services use it: its id, and its other fields (the name,
    for an alert) loaded only if a refusal needs them. Its existence and the caller's right
    to it are already established (device binding or visible_school_ids), so the hot path
    does not fetch the row a second time."""
    return Organization.from_db(None, ["id"], [school_id])


def _school_for(principal, school_id) -> Organization:
    if getattr(principal, "is_device", False):
        # A gate terminal is bound to one school; another school_id is a field error.
        if school_id not in (None, principal.school_id):
            raise ValidationError({"school_id": [_("Unknown or inaccessible record.")]})
        if Action.RELEASE_CHILD not in principal.actions:
            raise PermissionDenied(_("Your role does not allow this action."))
        return _school_ref(principal.school_id)
    ids = visible_school_ids(principal, Action.RELEASE_CHILD)
    if not ids:
        raise PermissionDenied(_("Your role does not allow this action."))
    if school_id is None:
        if len(ids) != 1:
            raise ValidationError({"school_id": [_("This field is required.")]})
        school_id = next(iter(ids))
    if school_id not in ids:
        raise ValidationError({"school_id": [_("Unknown or inaccessible record.")]})
    return _school_ref(school_id)


def _refused(request, refused: services.PickupRefused):
    message = str(refused.message)
    return api.create_response(
        request,
        {"detail": message, "errors": {"code": [message]}, "code": refused.reason},
        status=409,
    )


def _locked(request, locked: services.PinLocked):
    message = str(locked.message)
    return api.create_response(
        request,
        {"detail": message, "errors": {"code": [message]}, "code": locked.code},
        status=locked.status,
    )


@router.post(
    "/pickup/lookup",
    response={
        200: LookupOut,
        400: ErrorOut,
        403: ErrorOut,
        409: RefusedOut,
        429: RefusedOut,
        503: RefusedOut,
    },
)
def pickup_lookup(request, payload: LookupIn):
    """A scanned card QR, rotating QR or typed PIN → the child, the adult and a
    confirmation token for `/pickup/release` (valid a few minutes, for this caller only)."""
    school = _school_for(request.auth, payload.school_id)
    try:
        match = services.pickup_lookup(actor=request.auth, school=school, text=payload.code)
    except services.PickupRefused as refused:
        return _refused(request, refused)
    except services.PinLocked as locked:
        return _locked(request, locked)
    code = match.code
    has_photo = match.has_photo
    photo_url = None
    if has_photo:
        # Served by the API (token or session), like the lookup itself.
        kind, pk = (
            ("delegate", code.delegate_id) if code.delegate_id else ("guardian", code.guardian_id)
        )
        photo_url = reverse("api:pickup_adult_photo", args=[kind, pk])
    # Rendered here: LookupOut documents it and a test keeps the two in step (ninja's
    # validation of the answer cost a tenth of a lookup; ADR 0022).
    return api.create_response(
        request,
        {
            "child": _child(match.child),
            "adult": {
                "name": match.adult_name,
                "relationship": str(match.relationship),
                "is_delegate": match.is_delegate,
                "has_photo": has_photo,
                "photo_url": photo_url,
            },
            "method": match.method,
            "confirmation_token": match.token,
            "expires_in": services.CONFIRM_MAX_AGE_SECONDS,
        },
        status=200,
    )


@router.post(
    "/pickup/release",
    response={201: ReleaseOut, 400: ErrorOut, 403: ErrorOut, 409: RefusedOut},
)
def pickup_release(request, payload: ReleaseIn):
    """Confirm the hand-over: one release per child and day."""
    school = _school_for(request.auth, payload.school_id)
    try:
        release = services.pickup_release(
            actor=request.auth, school=school, token=payload.confirmation_token
        )
    except services.PickupRefused as refused:
        return _refused(request, refused)
    return api.create_response(request, release_payload(release), status=201)


def release_payload(release) -> dict:
    """ReleaseOut, rendered by the handler (as the lookup's answer)."""
    return {
        "id": release.pk,
        "child": _child(release.child),
        "adult_name": release.adult_name,
        "released_at": release.released_at.isoformat(),
        "released_by": release.released_by_label,
        "method": release.method,
    }


@router.get(
    "/pickup/photos/{kind}/{adult_id}",
    response={200: None, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    url_name="pickup_adult_photo",
)
def pickup_adult_photo(request, kind: str, adult_id: DbId):
    """The photo of a pick-up adult (`guardian` or `delegate`), for the gate device's
    confirm screen: RELEASE_CHILD at the adult's school, as the lookup; `no-store`. Another
    school's adult, or one without a photo, is 404."""
    principal = request.auth
    if getattr(principal, "is_device", False):
        if Action.RELEASE_CHILD not in principal.actions:
            raise PermissionDenied(_("Your role does not allow this action."))
        school_ids = {principal.school_id}
    else:
        school_ids = visible_school_ids(principal, Action.RELEASE_CHILD)
        if not school_ids:
            raise PermissionDenied(_("Your role does not allow this action."))
    if kind == "guardian":
        record = GuardianPhoto.objects.filter(
            guardian_id=adult_id, guardian__child__school_id__in=school_ids
        ).first()
    elif kind == "delegate":
        record = PickupDelegate.objects.filter(pk=adult_id, school_id__in=school_ids).first()
    else:
        raise Http404
    opened = photos.open_photo(record) if record is not None else None
    if opened is None:
        raise Http404
    data, content_type = opened
    response = HttpResponse(data, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response


@router.get(
    "/pickup/classes/{class_id}/waiting",
    response={200: WaitingOut, 403: ErrorOut, 404: ErrorOut},
)
def pickup_class_waiting(request, class_id: DbId):
    """Every active child of the class today: waiting, or collected by whom and when."""
    principal = request.auth
    if getattr(principal, "is_device", False):
        from django.http import Http404

        from huxiao.people.models import SchoolClass

        school_class = SchoolClass.objects.filter(
            pk=class_id, school_id=principal.school_id
        ).first()
        if school_class is None:
            raise Http404
        if Action.RELEASE_CHILD not in principal.actions:
            raise PermissionDenied(_("Your role does not allow this action."))
    else:
        school_class = selectors.pickup_class_get(actor=principal, class_id=class_id)
    rows = selectors.class_waiting(school_class=school_class)
    items = []
    for row in rows:
        release = row.release
        items.append(
            {
                "child": {
                    "id": row.child.pk,
                    "name": row.child.name,
                    "class_name": school_class.name,
                    "initials": row.initials,
                },
                "status": "released" if release else "waiting",
                "flagged": row.flagged,
                "adult_name": release.adult_name if release else None,
                "released_at": release.released_at.isoformat() if release else None,
                "released_by": release.released_by_label if release else None,
            }
        )
    return {
        "count": len(items),
        "waiting": sum(1 for i in items if i["status"] == "waiting"),
        "items": items,
    }
