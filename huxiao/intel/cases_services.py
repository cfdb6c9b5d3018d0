"""Writes of school-related cases (涉校涉园案件, ADR 0021).

`case_register`, `case_update` and `case_transition`: police holding MANAGE_CASES for the
school. Every write is atomic and leaves its audit row and timeline event in the same
transaction; bad input raises ValidationError before anything is written.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.alarms.models import Alarm
from huxiao.audit.services import audit_create, audit_record
from huxiao.core.names import actor_label
from huxiao.core.permissions import require
from huxiao.core.roles import POLICE_KINDS, Action, Role
from huxiao.core.scoping import visible_school_ids
from huxiao.intel import rules
from huxiao.intel.cases_choices import (
    CASE_TRANSITIONS,
    STATUS_TIMESTAMP,
    CaseCategory,
    CaseStatus,
)
from huxiao.intel.models import CaseEvent, HighRiskPerson, SchoolCase, WarningSign
from huxiao.orgs.models import Membership, Organization
from huxiao.people import validation as v

CASE_OFFICER_ROLES = (Role.POLICE_COMMANDER, Role.POLICE_OFFICER)


def _id(value) -> int | None:
    if value is None:
        return None
    return getattr(value, "pk", value)


def station_officers(station_id: int):
    """Active commanders and officers of the station and of its campus posts."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    memberships = Membership.objects.filter(
        Q(organization_id=station_id) | Q(organization__parent_id=station_id),
        organization__kind__in=POLICE_KINDS,
        organization__is_active=True,
        role__in=CASE_OFFICER_ROLES,
        is_active=True,
    )
    return (
        get_user_model()
        .objects.filter(pk__in=memberships.values("user_id"), is_active=True)
        .order_by("last_name", "first_name", "username")
    )


def _clean_links(errors, *, actor, case_school_id, station_id, alarms, signs, persons):
    """Linked records must be of the case's school (persons: of its station's register).
    Unknown and foreign ids get the same answer, ids only: never reveal another school."""
    found = {}
    if alarms is not None:
        wanted = {int(_id(a)) for a in alarms}
        ok = set(
            Alarm.objects.filter(pk__in=wanted, school_id=case_school_id).values_list(
                "pk", flat=True
            )
        )
        if wanted - ok:
            errors.add(
                "alarm_ids",
                _("Not alarms of this school: %(ids)s.")
                % {"ids": ", ".join(str(i) for i in sorted(wanted - ok))},
            )
        found["alarms"] = sorted(ok)
    if signs is not None:
        wanted = {int(_id(s)) for s in signs}
        ok = set(
            WarningSign.objects.filter(pk__in=wanted, school_id=case_school_id).values_list(
                "pk", flat=True
            )
        )
        if wanted - ok:
            errors.add(
                "warning_sign_ids",
                _("Not warning signs of this school: %(ids)s.")
                % {"ids": ", ".join(str(i) for i in sorted(wanted - ok))},
            )
        found["warning_signs"] = sorted(ok)
    # Only the register's keepers may link persons. For anyone else the key is dropped
    # whole: they can neither add a link nor clear the links a keeper made (`persons=[]`).
    if persons is not None and station_id in rules.register_station_ids(actor, rules.EDIT):
        wanted = {int(_id(p)) for p in persons}
        ok = set(
            HighRiskPerson.objects.filter(pk__in=wanted, station_id=station_id).values_list(
                "pk", flat=True
            )
        )
        if wanted - ok:
            errors.add("person_ids", _("Unknown high-risk persons."))
        found["persons"] = sorted(ok)
    return found


def _clean(data: dict, *, actor, school, station_id, case: SchoolCase | None) -> dict:
    errors = v.FieldErrors()
    out: dict = {}
    if "case_number" in data:
        out["case_number"] = errors.run(
            "case_number", v.clean_text, data["case_number"], max_length=60, required=True
        )
        if out["case_number"] and station_id:
            clash = SchoolCase.objects.filter(station_id=station_id, case_number=out["case_number"])
            if case is not None:
                clash = clash.exclude(pk=case.pk)
            if clash.exists():
                errors.add(
                    "case_number", _("The station already has a case with this case number.")
                )
    if "title" in data:
        out["title"] = errors.run(
            "title", v.clean_text, data["title"], max_length=200, required=True
        )
    if "description" in data:
        out["description"] = errors.run(
            "description", v.clean_text, data["description"], max_length=4000
        )
    if "category" in data:
        if data["category"] not in CaseCategory.values:
            errors.add("category", _("Choose one of the offered categories."))
        else:
            out["category"] = data["category"]
    if "occurred_at" in data:
        occurred = data["occurred_at"]
        if not isinstance(occurred, dt.datetime) or timezone.is_naive(occurred):
            errors.add("occurred_at", _("Enter when the case occurred."))
        elif occurred > timezone.now() + dt.timedelta(minutes=5):
            errors.add("occurred_at", _("A case cannot occur in the future."))
        else:
            out["occurred_at"] = occurred
    if "officer" in data:
        officer_id = _id(data["officer"])
        officer = (
            station_officers(station_id).filter(pk=officer_id).first()
            if station_id and officer_id
            else None
        )
        if officer is None:
            errors.add(
                "officer_id", _("The dedicated officer must be a police officer of the station.")
            )
        out["officer"] = officer
    school_id = school.pk if school is not None else None
    if school_id is not None:
        out.update(
            _clean_links(
                errors,
                actor=actor,
                case_school_id=school_id,
                station_id=station_id,
                alarms=data.get("alarms"),
                signs=data.get("warning_signs"),
                persons=data.get("persons"),
            )
        )
    errors.raise_if_any()
    return out


def _school_for(actor, school) -> Organization:
    school_id = _id(school)
    ids = visible_school_ids(actor, Action.MANAGE_CASES)
    if not ids:
        raise PermissionDenied(_("Your role does not allow this action."))
    found = (
        Organization.objects.filter(pk=school_id, pk__in=ids).first()
        if isinstance(school_id, int)
        else None
    )
    if found is None:
        raise ValidationError({"school_id": [_("Choose a school of your jurisdiction.")]})
    if not found.police_station_id:
        raise ValidationError({"school_id": [_("The school has no police station.")]})
    return found


def _set_links(case: SchoolCase, cleaned: dict, *, actor) -> None:
    for field in ("alarms", "warning_signs", "persons"):
        if field in cleaned:
            before = set(getattr(case, field).values_list("pk", flat=True))
            getattr(case, field).set(cleaned[field])
            if field == "persons":
                _audit_person_links(actor, case, before, set(cleaned[field]))


def _audit_person_links(actor, case: SchoolCase, before: set, after: set) -> None:
    """Person links are audited on the person (sealed rows, ADR 0017), never on the case:
    the case's trail is read by the school's principal."""
    for person in HighRiskPerson.objects.filter(pk__in=before ^ after):
        linked = person.pk in after
        audit_record(
            actor=actor,
            action="update",
            obj=person,
            changes={"school_case": [None, case.pk] if linked else [case.pk, None]},
        )


@transaction.atomic
def case_register(
    *,
    actor,
    school,
    case_number: str,
    title: str,
    category: str,
    occurred_at: dt.datetime,
    officer,
    description: str = "",
    alarms=None,
    warning_signs=None,
    persons=None,
    now: dt.datetime | None = None,
) -> SchoolCase:
    """Register a case of a school of the actor's jurisdiction, kept by its station."""
    school = _school_for(actor, school)
    station_id = school.police_station_id
    data = {
        "case_number": case_number,
        "title": title,
        "category": category,
        "occurred_at": occurred_at,
        "officer": officer,
        "description": description,
        "alarms": alarms,
        "warning_signs": warning_signs,
        "persons": persons,
    }
    cleaned = _clean(data, actor=actor, school=school, station_id=station_id, case=None)
    now = now or timezone.now()
    case = SchoolCase.objects.create(
        school=school,
        station_id=station_id,
        case_number=cleaned["case_number"],
        title=cleaned["title"],
        category=cleaned["category"],
        description=cleaned.get("description") or "",
        occurred_at=cleaned["occurred_at"],
        officer=cleaned["officer"],
        registered_at=now,
        created_by=actor,
    )
    _set_links(case, cleaned, actor=actor)
    CaseEvent.objects.create(
        case=case,
        kind="registered",
        status=CaseStatus.REGISTERED,
        at=now,
        actor=actor,
        actor_label=actor_label(actor),
    )
    audit_create(actor=actor, obj=case, school=school)
    return case


_EDITABLE = (
    "case_number",
    "title",
    "category",
    "description",
    "occurred_at",
    "officer",
    "alarms",
    "warning_signs",
    "persons",
)


@transaction.atomic
def case_update(*, actor, case: SchoolCase, now: dt.datetime | None = None, **fields) -> SchoolCase:
    """Change the fields given; links are replaced as a whole. Person links are kept as
    they are when the actor does not keep the register."""
    require(actor, Action.MANAGE_CASES, case.school_id)
    case = SchoolCase.objects.select_for_update().select_related("school").get(pk=case.pk)
    unknown = set(fields) - set(_EDITABLE)
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in unknown})
    cleaned = _clean(fields, actor=actor, school=case.school, station_id=case.station_id, case=case)
    changes = {}
    persons_changed = False
    for name, value in cleaned.items():
        if name == "persons":
            persons_changed = sorted(case.persons.values_list("pk", flat=True)) != value
            continue
        if name in ("alarms", "warning_signs"):
            before = sorted(getattr(case, name).values_list("pk", flat=True))
            if before != value:
                changes[name] = [before, value]
            continue
        before = getattr(case, name)
        if before != value:
            changes[name] = [
                _id(before) if name == "officer" else str(before),
                _id(value) if name == "officer" else str(value),
            ]
            setattr(case, name, value)
    # Person links leave no trace on the case (timeline and audit are read by non-keepers).
    if not changes:
        if persons_changed:
            _set_links(case, {"persons": cleaned["persons"]}, actor=actor)
        return case
    case.save()
    _set_links(case, cleaned, actor=actor)
    CaseEvent.objects.create(
        case=case,
        kind="updated",
        status=case.status,
        at=now or timezone.now(),
        actor=actor,
        actor_label=actor_label(actor),
        note=", ".join(sorted(changes)),
    )
    audit_record(actor=actor, action="update", obj=case, changes=changes)
    return case


@transaction.atomic
def case_transition(
    *, actor, case: SchoolCase, status: str, note: str = "", now: dt.datetime | None = None
) -> SchoolCase:
    """Move a case one step on (registered → investigating → solved → referred / closed),
    stamping when it entered the new state."""
    require(actor, Action.MANAGE_CASES, case.school_id)
    case = SchoolCase.objects.select_for_update().get(pk=case.pk)
    errors = v.FieldErrors()
    text = errors.run("note", v.clean_text, note, max_length=4000)
    if status not in CaseStatus.values:
        errors.add("status", _("Choose one of the offered states."))
    elif status not in CASE_TRANSITIONS.get(case.status, frozenset()):
        errors.add(
            "status",
            _("A case that is “%(current)s” cannot become “%(target)s”.")
            % {"current": CaseStatus(case.status).label, "target": CaseStatus(status).label},
        )
    errors.raise_if_any()
    now = now or timezone.now()
    before = case.status
    case.status = status
    setattr(case, STATUS_TIMESTAMP[status], now)
    case.save(update_fields=["status", STATUS_TIMESTAMP[status]])
    CaseEvent.objects.create(
        case=case,
        kind="transition",
        status=status,
        at=now,
        actor=actor,
        actor_label=actor_label(actor),
        note=text or "",
    )
    audit_record(
        actor=actor, action="update", obj=case, changes={"status": [before, status], "note": text}
    )
    return case
