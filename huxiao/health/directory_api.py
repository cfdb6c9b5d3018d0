"""REST handlers of the four-party directory (issue 9 item 1; §3 1; ADR 0032 "Directory"):
parse → call a selector/service → return.

Readers: everybody of the school and of the offices with a health action there (VIEW_HEALTH,
RECORD_HEALTH or VIEW_SUSPENSION); police hold none → 403. Writers: MANAGE_HEALTH, for the
parties they may edit (`editable_parties`). No health action anywhere → 403; a school or
contact out of reach → 404, exactly like one that does not exist; a role that may read but
not change → 403; bad input → 400 by field, nothing written.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema, Status
from pydantic import ConfigDict

from huxiao.core.api import DbId, ErrorOut
from huxiao.health import directory_selectors as sel
from huxiao.health import directory_services as services
from huxiao.health.directory import four_party_directory, tel_href

router = Router(tags=["health"])


class ContactOut(Schema):
    id: int
    school_id: int
    party: str
    party_label: str
    name: str
    title: str
    phone: str
    tel: str  # the tel: link
    is_primary: bool
    sort_order: int
    organization_id: int | None
    organization_name: str
    updated_at: dt.datetime
    editable: bool


class EntryOut(Schema):
    """A line of the directory as every health page shows it (named contacts first; a
    party without one falls back to its organization's switchboard)."""

    party: str
    party_label: str
    name: str
    title: str
    phone: str
    tel: str
    is_primary: bool
    is_switchboard: bool


class DirectoryOut(Schema):
    school_id: int
    school_name: str
    editable_parties: list[str]
    count: int
    items: list[ContactOut]
    entries: list[EntryOut]


class ContactIn(Schema):
    """`organization_id` left out links the party's own organization; null links none."""

    model_config = ConfigDict(extra="forbid")

    party: str
    name: str
    phone: str
    title: str = ""
    is_primary: bool = False
    sort_order: int | None = None
    organization_id: int | None = None


class ContactPatch(Schema):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    party: str | None = None
    name: str | None = None
    phone: str | None = None
    title: str | None = None
    is_primary: bool | None = None
    sort_order: int | None = None
    organization_id: int | None = None


class FillOut(Schema):
    count: int
    items: list[ContactOut]


NOT_NULL = ("party", "name", "phone", "is_primary")


def contact_payload(contact, parties) -> dict:
    org = contact.organization
    return {
        "id": contact.pk,
        "school_id": contact.school_id,
        "party": contact.party,
        "party_label": str(contact.get_party_display()),
        "name": contact.name,
        "title": contact.title,
        "phone": contact.phone,
        "tel": tel_href(contact.phone),
        "is_primary": contact.is_primary,
        "sort_order": contact.sort_order,
        "organization_id": contact.organization_id,
        "organization_name": org.name if org else "",
        "updated_at": contact.updated_at,
        "editable": contact.party in parties,
    }


def _entry_payload(entry) -> dict:
    return {
        "party": entry.party,
        "party_label": entry.party_label,
        "name": entry.name,
        "title": entry.title,
        "phone": entry.phone,
        "tel": tel_href(entry.phone),
        "is_primary": entry.is_primary,
        "is_switchboard": entry.is_switchboard,
    }


def _refuse_nulls(changes: dict) -> None:
    nulls = sorted(name for name in NOT_NULL if name in changes and changes[name] is None)
    if nulls:
        raise ValidationError({name: [_("This field is required.")] for name in nulls})


def _one(actor, contact_id: int) -> dict:
    contact = sel.contact_get(actor=actor, contact_id=contact_id)
    return contact_payload(contact, sel.editable_parties(actor, contact.school))


@router.get(
    "/health/directory",
    response={200: DirectoryOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def directory(request, school_id: DbId):
    """The school's named contacts (`items`) and the directory as shown (`entries`)."""
    school = sel.school_get(actor=request.auth, school_id=school_id)
    parties = sel.editable_parties(request.auth, school)
    items = [contact_payload(c, parties) for c in sel.contact_list(school)]
    return {
        "school_id": school.pk,
        "school_name": school.name,
        "editable_parties": sorted(parties, key=sel.PARTY_ORDER.get),
        "count": len(items),
        "items": items,
        "entries": [_entry_payload(e) for e in four_party_directory(school)],
    }


@router.post(
    "/health/directory",
    response={201: ContactOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def contact_create(request, school_id: DbId, payload: ContactIn):
    school = sel.school_get(actor=request.auth, school_id=school_id)
    data = payload.dict(exclude_unset=True)
    if "organization_id" not in data:
        data["organization_id"] = services.DEFAULT
    contact = services.health_contact_create(actor=request.auth, school=school, **data)
    return Status(201, _one(request.auth, contact.pk))


@router.post(
    "/health/directory/fill",
    response={200: FillOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def directory_fill(request, school_id: DbId):
    """Add each party's organization switchboard where the party has no contact yet (the
    parties the caller may edit); a second call adds nothing."""
    school = sel.school_get(actor=request.auth, school_id=school_id)
    added = services.health_contacts_fill(actor=request.auth, school=school)
    parties = sel.editable_parties(request.auth, school)
    return {"count": len(added), "items": [contact_payload(c, parties) for c in added]}


@router.patch(
    "/health/directory/{contact_id}",
    response={200: ContactOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def contact_update(request, contact_id: DbId, payload: ContactPatch):
    contact = sel.contact_get(actor=request.auth, contact_id=contact_id)
    services.require_party(request.auth, contact.school, contact.party)  # 403 before 400
    changes = payload.dict(exclude_unset=True)
    _refuse_nulls(changes)
    services.health_contact_update(actor=request.auth, contact=contact, **changes)
    return _one(request.auth, contact_id)


@router.delete(
    "/health/directory/{contact_id}",
    response={204: None, 403: ErrorOut, 404: ErrorOut},
)
def contact_delete(request, contact_id: DbId):
    contact = sel.contact_get(actor=request.auth, contact_id=contact_id)
    services.health_contact_delete(actor=request.auth, contact=contact)
    return Status(204, None)
