"""Writes of a school's technical and physical defences (issue 7 item 3; §1 二(一), §2 4, 6).

- `defence_profile_save`: the school-wide facts (video retention, monitoring room, physical
  defences, closed management, 24-hour gatehouse). The profile row is created by the first
  save; later saves lock it and change what is given.
- `technical_system_add` / `technical_system_update` / `technical_system_retire`: alarms
  and recorders other than registry cameras and HuXiao alarm boxes.

Order of checks everywhere: the school or system is found through the actor's VIEW scope
(out of reach is Http404), then the right (MANAGE_SECURITY, else PermissionDenied → 403),
then the state (`DefenceRefused`, 409 with a sentence), then the input (ValidationError by
field → 400, nothing written). Every write is audited in its transaction, and the school's
compliance is evaluated again once it commits.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from huxiao.audit.services import audit_create, audit_update, snapshot
from huxiao.core.names import acting_user
from huxiao.core.permissions import require
from huxiao.core.roles import Action
from huxiao.hazards.hazard_services import local_today
from huxiao.orgs.models import Organization
from huxiao.people import validation as v
from huxiao.security import dates
from huxiao.security.choices import Perimeter, SystemKind
from huxiao.security.compliance import reevaluate_on_commit
from huxiao.security.defence_selectors import PROFILE_FIELDS
from huxiao.security.models import DefenceProfile, TechnicalSystem

MAX_RETENTION_DAYS = 3650
MAX_BOLLARDS = 500
PROFILE_BOOLS = (
    "monitoring_room",
    "monitoring_room_24h",
    "vehicle_barrier",
    "speed_bumps",
    "parent_waiting_area",
    "closed_management",
    "gatehouse_24h",
)
EDITABLE_PROFILE_FIELDS = (*PROFILE_FIELDS, "notes")
SYSTEM_FIELDS = (
    "kind",
    "name",
    "location",
    "networked_to_police",
    "installed_on",
    "last_tested_on",
    "is_active",
)


class DefenceRefused(ValidationError):
    """A step the record's state does not allow; pages and the API answer 409."""

    def __init__(self, message):
        super().__init__(message, code="transition")


# ------------------------------------------------------------------ field rules


def clean_strict_bool(value) -> bool:
    """Yes or no, given as such (a page form and the API both send booleans)."""
    if not isinstance(value, bool):
        raise ValidationError(_("Enter yes or no."), code="bool")
    return value


def clean_count(value, *, maximum: int, required: bool = True) -> int | None:
    """A whole number from 0 to `maximum` (None allowed when not required)."""
    if value is None or value == "":
        if required:
            raise ValidationError(_("This field is required."), code="required")
        return None
    if isinstance(value, bool):
        raise ValidationError(_("Enter a whole number."), code="invalid")
    if isinstance(value, str):
        text = value.strip()
        if not text.isdigit():
            raise ValidationError(_("Enter a whole number."), code="invalid")
        value = int(text)
    if not isinstance(value, int):
        raise ValidationError(_("Enter a whole number."), code="invalid")
    if value < 0 or value > maximum:
        raise ValidationError(
            _("Enter a number from 0 to %(max)s.") % {"max": maximum}, code="range"
        )
    return value


def clean_past_date(value, *, today: dt.date) -> dt.date | None:
    return dates.clean_past_date(value, today=today)


def _unknown_fields(errors: v.FieldErrors, changes: dict, allowed) -> None:
    for name in sorted(set(changes) - set(allowed)):
        errors.add(name, _("This field cannot be changed here."))


def _clean_profile(errors: v.FieldErrors, changes: dict) -> dict:
    cleaned = {}
    if "video_retention_days" in changes:
        cleaned["video_retention_days"] = errors.run(
            "video_retention_days",
            clean_count,
            changes["video_retention_days"],
            maximum=MAX_RETENTION_DAYS,
            required=False,
        )
    for name in PROFILE_BOOLS:
        if name in changes:
            cleaned[name] = errors.run(name, clean_strict_bool, changes[name])
    if "perimeter" in changes:
        if changes["perimeter"] not in Perimeter.values:
            errors.add("perimeter", _("Select a valid choice."))
        cleaned["perimeter"] = changes["perimeter"]
    if "bollards" in changes:
        cleaned["bollards"] = errors.run(
            "bollards", clean_count, changes["bollards"], maximum=MAX_BOLLARDS
        )
    if "notes" in changes:
        cleaned["notes"] = errors.run("notes", v.clean_text, changes["notes"], max_length=2000)
    return cleaned


def _school_for(actor, school) -> Organization:
    """The school through the actor's VIEW scope (404 otherwise), then MANAGE_SECURITY."""
    school_id = school.pk if isinstance(school, Organization) else school
    found = get_object_or_404(
        Organization.objects.visible_to(actor, Action.VIEW).schools(), pk=school_id
    )
    require(actor, Action.MANAGE_SECURITY, found.pk)
    return found


# ------------------------------------------------------------------ the profile


def _locked_profile(school: Organization) -> tuple[DefenceProfile, bool]:
    """The school's profile, locked; created on the first save. A concurrent first save
    loses the insert race and then updates the winner's row."""
    profile = DefenceProfile.objects.select_for_update().filter(school=school).first()
    if profile is not None:
        return profile, False
    try:
        with transaction.atomic():
            return DefenceProfile.objects.create(school=school), True
    except IntegrityError:
        return DefenceProfile.objects.select_for_update().get(school=school), False


@transaction.atomic
def defence_profile_save(*, actor, school, **changes) -> DefenceProfile:
    """Record the school's defence facts: only the fields given change (the API's PUT and
    the page's form give all of them). A monitoring room cannot be staffed around the
    clock without existing."""
    school = _school_for(actor, school)
    errors = v.FieldErrors()
    _unknown_fields(errors, changes, EDITABLE_PROFILE_FIELDS)
    cleaned = _clean_profile(errors, changes)
    errors.raise_if_any()
    profile, created = _locked_profile(school)
    before = snapshot(profile)
    for key, value in cleaned.items():
        setattr(profile, key, value)
    if profile.monitoring_room_24h and not profile.monitoring_room:
        # Raised inside the transaction: the row a first save created goes with it.
        raise ValidationError(
            {
                "monitoring_room_24h": [
                    _("A monitoring room staffed 24 hours needs a monitoring room.")
                ]
            }
        )
    profile.updated_by = acting_user(actor)
    profile.save()
    if created:
        audit_create(actor=actor, obj=profile, school=school.pk)
        reevaluate_on_commit([school.pk])
    elif audit_update(actor=actor, obj=profile, before=before, school=school.pk):
        reevaluate_on_commit([school.pk])
    return profile


# ------------------------------------------------------------------ technical systems


def _clean_system(errors: v.FieldErrors, data: dict, *, today: dt.date) -> dict:
    cleaned = {}
    if "kind" in data:
        if data["kind"] not in SystemKind.values:
            errors.add("kind", _("Select a valid choice."))
        cleaned["kind"] = data["kind"]
    if "name" in data:
        cleaned["name"] = errors.run(
            "name", v.clean_text, data["name"], max_length=100, required=True
        )
        if cleaned["name"] and "\n" in cleaned["name"]:
            errors.add("name", _("Enter the name on one line."))
    if "location" in data:
        cleaned["location"] = errors.run("location", v.clean_text, data["location"], max_length=200)
    for name in ("networked_to_police", "is_active"):
        if name in data:
            cleaned[name] = errors.run(name, clean_strict_bool, data[name])
    for name in ("installed_on", "last_tested_on"):
        if name in data:
            cleaned[name] = errors.run(name, clean_past_date, data[name], today=today)
    return cleaned


def _check_dates(errors: v.FieldErrors, installed, tested) -> None:
    if installed and tested and tested < installed:
        errors.add("last_tested_on", _("The last test cannot be before the installation."))


@transaction.atomic
def technical_system_add(
    *,
    actor,
    school,
    kind: str,
    name: str,
    location: str = "",
    networked_to_police: bool = False,
    installed_on: dt.date | None = None,
    last_tested_on: dt.date | None = None,
    today: dt.date | None = None,
) -> TechnicalSystem:
    """Record an alarm or recorder of the school (in service)."""
    school = _school_for(actor, school)
    today = today or local_today()
    errors = v.FieldErrors()
    cleaned = _clean_system(
        errors,
        {
            "kind": kind,
            "name": name,
            "location": location,
            "networked_to_police": networked_to_police,
            "installed_on": installed_on,
            "last_tested_on": last_tested_on,
        },
        today=today,
    )
    _check_dates(errors, cleaned.get("installed_on"), cleaned.get("last_tested_on"))
    errors.raise_if_any()
    system = TechnicalSystem.objects.create(school=school, updated_by=acting_user(actor), **cleaned)
    audit_create(actor=actor, obj=system, school=school.pk)
    reevaluate_on_commit([school.pk])
    return system


def _locked_system(actor, system) -> TechnicalSystem:
    system_id = system.pk if isinstance(system, TechnicalSystem) else system
    found = get_object_or_404(
        TechnicalSystem.objects.visible_to(actor, Action.VIEW).select_for_update(),
        pk=system_id,
    )
    require(actor, Action.MANAGE_SECURITY, found.school_id)
    return found


@transaction.atomic
def technical_system_update(
    *, actor, system, today: dt.date | None = None, **changes
) -> TechnicalSystem:
    """Change what is given (`is_active` puts a retired system back in service too)."""
    system = _locked_system(actor, system)
    today = today or local_today()
    errors = v.FieldErrors()
    _unknown_fields(errors, changes, SYSTEM_FIELDS)
    cleaned = _clean_system(errors, changes, today=today)
    _check_dates(
        errors,
        cleaned.get("installed_on", system.installed_on),
        cleaned.get("last_tested_on", system.last_tested_on),
    )
    errors.raise_if_any()
    before = snapshot(system)
    for key, value in cleaned.items():
        setattr(system, key, value)
    system.updated_by = acting_user(actor)
    system.save()
    if audit_update(actor=actor, obj=system, before=before, school=system.school_id):
        reevaluate_on_commit([system.school_id])
    return system


@transaction.atomic
def technical_system_retire(*, actor, system) -> TechnicalSystem:
    """Take a system out of service (it stays on record)."""
    system = _locked_system(actor, system)
    if not system.is_active:
        raise DefenceRefused(_("This system is already retired."))
    before = snapshot(system)
    system.is_active = False
    system.updated_by = acting_user(actor)
    system.save()
    audit_update(actor=actor, obj=system, before=before, school=system.school_id)
    reevaluate_on_commit([system.school_id])
    return system
