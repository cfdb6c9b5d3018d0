"""REST handlers of the security personnel (issue 7 item 1; ADR 0028): parse → call a
selector/service → return.

Readers: everyone with VIEW on the school (its staff, the police of the jurisdiction, the
town's offices, the county). Writers: MANAGE_SECURITY (principal, security officer). No
school at all → 403; out of scope or not a security post → 404 exactly like a missing
record; a role that may read but not change → 403; bad input → 400 by field, nothing
written.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema, Status
from pydantic import ConfigDict

from huxiao.core.api import DbId, ErrorOut
from huxiao.core.permissions import require
from huxiao.core.roles import Action
from huxiao.people.choices import BackgroundCheck, StaffRole
from huxiao.security import personnel_selectors as selectors
from huxiao.security import personnel_services as services
from huxiao.security.choices import Employer, Employment

router = Router(tags=["security"])


# ------------------------------------------------------------------ schemas


class BadgeOut(Schema):
    code: str
    level: str
    label: str


class ProfileOut(Schema):
    employment: str
    employer: str
    security_company: str
    hired_on: dt.date | None
    certificate_number: str
    certificate_issued_on: dt.date | None
    certificate_expires_on: dt.date | None
    filed_with_police: bool
    filed_on: dt.date | None
    notes: str


class PersonOut(Schema):
    id: int
    school_id: int
    name: str
    role: str
    role_label: str
    phone: str
    is_active: bool
    background_check: str
    background_checked_on: dt.date | None
    # None until the first save of the security record (staff added elsewhere).
    profile: ProfileOut | None
    # valid | expiring | expired | missing | none (not a licensed post, no certificate)
    certificate: str
    days_to_expiry: int | None
    last_training_on: dt.date | None
    badges: list[BadgeOut]


class TrainingOut(Schema):
    id: int
    staff_id: int
    held_on: dt.date
    topic: str
    hours: Decimal
    provider: str
    passed: bool


class PersonDetailOut(PersonOut):
    trainings: list[TrainingOut]


class PersonList(Schema):
    count: int
    items: list[PersonOut]


class TrainingList(Schema):
    count: int
    items: list[TrainingOut]


class PersonIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str
    role: StaffRole = StaffRole.GUARD
    phone: str = ""
    id_number: str = ""
    background_check: BackgroundCheck = BackgroundCheck.NOT_DONE
    background_checked_on: dt.date | None = None
    employment: Employment = Employment.FULL_TIME
    employer: Employer = Employer.SCHOOL
    security_company: str = ""
    hired_on: dt.date | None = None
    certificate_number: str = ""
    certificate_issued_on: dt.date | None = None
    certificate_expires_on: dt.date | None = None
    filed_with_police: bool = False
    filed_on: dt.date | None = None
    notes: str = ""


class PersonPatch(Schema):
    """Only the fields sent change; the resident ID number is changed in the staff records."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    role: StaffRole | None = None
    phone: str | None = None
    background_check: BackgroundCheck | None = None
    background_checked_on: dt.date | None = None
    is_active: bool | None = None
    employment: Employment | None = None
    employer: Employer | None = None
    security_company: str | None = None
    hired_on: dt.date | None = None
    certificate_number: str | None = None
    certificate_issued_on: dt.date | None = None
    certificate_expires_on: dt.date | None = None
    filed_with_police: bool | None = None
    filed_on: dt.date | None = None
    notes: str | None = None


# PATCH fields that always have a value: null is refused, not taken for the default.
NOT_NULL = (
    "name",
    "role",
    "background_check",
    "is_active",
    "employment",
    "employer",
    "filed_with_police",
)


class TrainingIn(Schema):
    model_config = ConfigDict(extra="forbid")

    held_on: dt.date
    topic: str
    hours: Decimal
    provider: str = ""
    passed: bool = True


# ------------------------------------------------------------------ payloads


def training_payload(training) -> dict:
    return {
        "id": training.pk,
        "staff_id": training.staff_id,
        "held_on": training.held_on,
        "topic": training.topic,
        "hours": training.hours,
        "provider": training.provider,
        "passed": training.passed,
    }


def person_payload(staff, today: dt.date) -> dict:
    status = selectors.person_status(staff, today)
    profile = status.profile
    return {
        "id": staff.pk,
        "school_id": staff.school_id,
        "name": staff.name,
        "role": staff.role,
        "role_label": str(staff.get_role_display()),
        "phone": staff.phone,
        "is_active": staff.is_active,
        "background_check": staff.background_check,
        "background_checked_on": staff.background_checked_on,
        "profile": (
            {name: getattr(profile, name) for name in services.PROFILE_FIELDS}
            if profile is not None
            else None
        ),
        "certificate": status.certificate,
        "days_to_expiry": status.days_to_expiry,
        "last_training_on": status.last_training_on,
        "badges": [{"code": b.code, "level": b.level, "label": b.label} for b in status.badges],
    }


def _detail(request, staff_id: int) -> dict:
    staff = selectors.staff_get(actor=request.auth, staff_id=staff_id)
    data = person_payload(staff, selectors.local_today())
    data["trainings"] = [training_payload(t) for t in selectors.training_list(staff)]
    return data


# ------------------------------------------------------------------ handlers


@router.get(
    "/security/schools/{school_id}/personnel",
    response={200: PersonList, 403: ErrorOut, 404: ErrorOut},
)
def personnel_list(request, school_id: DbId, active: bool = True):
    """The school's guards, security officers and dormitory managers with their security
    record and status badges; `active=false` lists former staff."""
    school = selectors.school_get(actor=request.auth, school_id=school_id)
    today = selectors.local_today()
    items = [
        person_payload(s, today)
        for s in selectors.personnel_list(actor=request.auth, school_id=school.pk, active=active)
    ]
    return {"count": len(items), "items": items}


@router.post(
    "/security/schools/{school_id}/personnel",
    response={201: PersonDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def personnel_create(request, school_id: DbId, payload: PersonIn):
    """Add a member of the security staff: the staff record and the security record in
    one transaction."""
    school = selectors.school_get(actor=request.auth, school_id=school_id)
    record = services.guard_create(actor=request.auth, school=school, **payload.dict())
    return Status(201, _detail(request, record.staff_id))


@router.get(
    "/security/personnel/{staff_id}",
    response={200: PersonDetailOut, 403: ErrorOut, 404: ErrorOut},
)
def personnel_detail(request, staff_id: DbId):
    selectors.require_viewer(request.auth)
    return _detail(request, staff_id)


@router.patch(
    "/security/personnel/{staff_id}",
    response={200: PersonDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def personnel_update(request, staff_id: DbId, payload: PersonPatch):
    """Change the staff fields and the security record (created on the first change).
    `null` clears a date or a text; for a field that always has a value (NOT_NULL) it is
    refused (400), never read as "reset to the default"."""
    selectors.require_viewer(request.auth)
    staff = selectors.staff_get(actor=request.auth, staff_id=staff_id)
    changes = payload.dict(exclude_unset=True)
    require(request.auth, Action.MANAGE_SECURITY, staff.school_id)  # 403 before 400
    nulls = sorted(name for name in NOT_NULL if name in changes and changes[name] is None)
    if nulls:
        raise ValidationError({name: [_("This field is required.")] for name in nulls})
    services.guard_update(actor=request.auth, staff=staff, **changes)
    return _detail(request, staff_id)


@router.get(
    "/security/personnel/{staff_id}/trainings",
    response={200: TrainingList, 403: ErrorOut, 404: ErrorOut},
)
def training_list(request, staff_id: DbId):
    selectors.require_viewer(request.auth)
    staff = selectors.staff_get(actor=request.auth, staff_id=staff_id)
    items = [training_payload(t) for t in selectors.training_list(staff)]
    return {"count": len(items), "items": items}


@router.post(
    "/security/personnel/{staff_id}/trainings",
    response={201: TrainingOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def training_create(request, staff_id: DbId, payload: TrainingIn):
    selectors.require_viewer(request.auth)
    staff = selectors.staff_get(actor=request.auth, staff_id=staff_id)
    training = services.training_add(actor=request.auth, staff=staff, **payload.dict())
    return Status(201, training_payload(training))


@router.delete(
    "/security/trainings/{training_id}",
    response={204: None, 403: ErrorOut, 404: ErrorOut},
)
def training_delete(request, training_id: DbId):
    selectors.require_viewer(request.auth)
    training = selectors.training_get(actor=request.auth, training_id=training_id)
    services.training_delete(actor=request.auth, training=training)
    return Status(204, None)
