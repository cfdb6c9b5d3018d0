"""Writes of the high-risk persons register, and the narrow gate screening (ADR 0017).

Services are keyword-only, atomic and audited. Their audit rows name records by reference
(HR-000012), never by name, carry no school (so no school's trail can list them) and are
sealed from the general audit pages (`audit_sealed` on the models).

`screen_person` is the only way the register is used from outside the police: it answers
"clear" or "hold" and nothing else, and on a hold tells the police.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from huxiao.audit.models import AuditAction
from huxiao.audit.services import audit_record, diff, snapshot
from huxiao.core import crypto
from huxiao.core.idcard import birth_date_of
from huxiao.core.names import acting_user
from huxiao.core.roles import Action, OrgKind, Role
from huxiao.core.scoping import can
from huxiao.intel import phonetic, rules
from huxiao.intel import validation as v
from huxiao.intel.choices import (
    REVIEW_INTERVAL_DAYS,
    Assessment,
    CloseReason,
    FollowUpMethod,
    MatchKind,
    MeasureKind,
    PersonStatus,
    RiskCategory,
    RiskLevel,
    ScreeningOutcome,
)
from huxiao.intel.models import (
    ControlMeasure,
    FollowUp,
    HighRiskPerson,
    PersonPhoto,
    ScreeningHit,
    register_birth_hash,
    register_id_hash,
)
from huxiao.people.choices import Gender

_UNSET = object()
# Reminders are not sent at night; the hourly job starts sending at this local hour.
REMIND_FROM_HOUR = 8
# A guard pressing "check" again for the same visitor does not page the police again.
HOLD_ALERT_WINDOW_SECONDS = 600


# ---------------------------------------------------------------- audit


def _audit(*, actor, action: str, obj, changes: dict | None = None):
    """An audit row naming the record by reference and by no school (see the module doc)."""
    return audit_record(
        actor=actor,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj),
        changes=changes or {},
    )


def _school_ids(person) -> list[int]:
    return sorted(person.related_schools.values_list("pk", flat=True))


# ---------------------------------------------------------------- validation


def _officer(errors: v.FieldErrors, field: str, station_id: int, value):
    """A user (or a user id, from the API) who may keep the station's register, or None."""
    if value in (None, ""):
        return None
    pk = getattr(value, "pk", value)
    user = rules.register_members(station_id).filter(pk=pk).first() if isinstance(pk, int) else None
    if user is None:
        errors.add(
            field,
            _("The responsible officer must be a police officer of this station or its posts."),
        )
    return user


def _station_schools(station_id: int):
    from huxiao.core.roles import SCHOOL_KINDS
    from huxiao.orgs.models import Organization

    return Organization.objects.filter(police_station_id=station_id, kind__in=SCHOOL_KINDS)


def _clean_person(
    errors: v.FieldErrors,
    *,
    station_id: int,
    today: dt.date,
    current: HighRiskPerson | None,
    name=_UNSET,
    id_number=_UNSET,
    birth_date=_UNSET,
    gender=_UNSET,
    address=_UNSET,
    notes=_UNSET,
    category=_UNSET,
    risk_level=_UNSET,
    related_schools=_UNSET,
    responsible_officer=_UNSET,
    next_review_on=_UNSET,
) -> dict:
    cleaned: dict = {}
    if name is not _UNSET:
        cleaned["name"] = errors.run("name", v.clean_person_name, name)
    if id_number is not _UNSET:
        typed_number = errors.run("id_number", v.clean_id_number, id_number)
        if typed_number is not None:
            cleaned["id_number"] = typed_number
            if typed_number:
                duplicate = HighRiskPerson.objects.filter(
                    station_id=station_id,
                    status=PersonStatus.ACTIVE,
                    id_number_hash=register_id_hash(typed_number),
                ).exclude(pk=getattr(current, "pk", None))
                first = duplicate.first()
                if first is not None:
                    errors.add(
                        "id_number",
                        _("This person is already on the station's register (%(ref)s).")
                        % {"ref": first.reference},
                    )
    # The ID number, when there is one, decides the birth date and the gender.
    number_changed = "id_number" in cleaned
    id_failed = "id_number" in errors.errors
    effective: list[str] = []  # computed at most once, only when needed

    def number() -> str:
        if not effective:
            if number_changed:
                effective.append(cleaned["id_number"])
            else:
                effective.append(current.decrypt_id_number() if current is not None else "")
        return effective[0]

    if not id_failed and (birth_date is not _UNSET or number_changed):
        typed = None
        if birth_date is not _UNSET:
            typed = errors.run("birth_date", v.clean_birth_date, birth_date, today=today)
        if number():
            from_id = birth_date_of(number())
            if typed and typed != from_id:
                errors.add("birth_date", _("The birth date does not match the resident ID number."))
            cleaned["birth_date"] = from_id
        elif typed:
            cleaned["birth_date"] = typed
        elif "birth_date" not in errors.errors and not (birth_date is _UNSET and current):
            # (An update that only removes the ID number keeps the birth date it had.)
            errors.add(
                "birth_date",
                _(
                    "Give the resident ID number or at least the birth date: the gate "
                    "screening needs one of them."
                ),
            )
    if not id_failed and (gender is not _UNSET or number_changed):
        if number():
            cleaned["gender"] = v.gender_of(number())
        elif gender is not _UNSET:
            cleaned["gender"] = errors.run("gender", v.clean_choice, gender, Gender, required=False)
    if address is not _UNSET:
        cleaned["address"] = errors.run("address", v.clean_text, address, max_length=200)
    if notes is not _UNSET:
        cleaned["notes"] = errors.run("notes", v.clean_text, notes, max_length=5000)
    if category is not _UNSET:
        cleaned["category"] = errors.run("category", v.clean_choice, category, RiskCategory)
    if risk_level is not _UNSET:
        cleaned["risk_level"] = errors.run("risk_level", v.clean_choice, risk_level, RiskLevel)
    if related_schools is not _UNSET:
        ids = sorted({getattr(s, "pk", s) for s in related_schools or ()})
        allowed = set(_station_schools(station_id).filter(pk__in=ids).values_list("pk", flat=True))
        if set(ids) - allowed:
            errors.add(
                "related_school_ids",
                _("Only schools of the station's jurisdiction can be linked."),
            )
        cleaned["related_school_ids"] = ids
    if responsible_officer is not _UNSET:
        cleaned["responsible_officer"] = _officer(
            errors, "responsible_officer_id", station_id, responsible_officer
        )
    if next_review_on is not _UNSET:
        review = errors.run("next_review_on", v.clean_date, next_review_on)
        changed = current is None or review != current.next_review_on
        if review and changed and review < today:
            errors.add("next_review_on", _("The next review cannot be in the past."))
        cleaned["next_review_on"] = review
    return cleaned


def _apply(person: HighRiskPerson, cleaned: dict) -> None:
    if "name" in cleaned:
        person.set_name(cleaned["name"], phonetic.encode(phonetic.name_key(cleaned["name"])))
    if "id_number" in cleaned:
        person.set_id_number(cleaned["id_number"])
    if "birth_date" in cleaned:
        person.set_birth_date(cleaned["birth_date"])
    if "address" in cleaned:
        person.set_address(cleaned["address"])
    if "notes" in cleaned:
        person.set_notes(cleaned["notes"])
    for field in ("gender", "category", "risk_level", "responsible_officer", "next_review_on"):
        if field in cleaned:
            setattr(person, field, cleaned[field])


def _encrypted_changes(cleaned: dict) -> list[str]:
    """Which encrypted fields a write changed: named in the trail, never their values."""
    return sorted(
        f for f in ("name", "id_number", "birth_date", "address", "notes") if f in cleaned
    )


def _station(station):
    from huxiao.orgs.models import Organization

    if isinstance(station, Organization):
        return station
    if station is None:
        return None
    return Organization.objects.filter(pk=station, kind=OrgKind.POLICE_STATION).first()


# ---------------------------------------------------------------- persons


@transaction.atomic
def person_register(
    *,
    actor,
    station,
    name,
    category,
    risk_level,
    id_number="",
    birth_date=None,
    gender="",
    address="",
    notes="",
    related_schools=(),
    responsible_officer=None,
    next_review_on=None,
    today: dt.date | None = None,
) -> HighRiskPerson:
    """Register a person with the station's register (EDIT_REGISTER of that station)."""
    station = _station(station)
    if station is None or station.pk not in rules.register_station_ids(actor, rules.EDIT):
        raise ValidationError(
            {"station_id": [_("Choose a police station whose register you keep.")]}
        )
    today = today or timezone.localdate()
    errors = v.FieldErrors()
    cleaned = _clean_person(
        errors,
        station_id=station.pk,
        today=today,
        current=None,
        name=name,
        id_number=id_number,
        birth_date=birth_date,
        gender=gender,
        address=address,
        notes=notes,
        category=category,
        risk_level=risk_level,
        related_schools=related_schools,
        responsible_officer=responsible_officer,
        next_review_on=next_review_on,
    )
    errors.raise_if_any()
    if not cleaned.get("next_review_on"):
        cleaned["next_review_on"] = today + dt.timedelta(
            days=REVIEW_INTERVAL_DAYS[cleaned["risk_level"]]
        )
    person = HighRiskPerson(station=station, created_by=acting_user(actor))
    _apply(person, cleaned)
    person.save()
    person.related_schools.set(cleaned["related_school_ids"])
    after = snapshot(person)
    after["related_schools"] = cleaned["related_school_ids"]
    _audit(
        actor=actor,
        action=AuditAction.CREATE,
        obj=person,
        changes={"after": after, "encrypted": _encrypted_changes(cleaned)},
    )
    return person


@transaction.atomic
def person_update(
    *,
    actor,
    person: HighRiskPerson,
    today: dt.date | None = None,
    **fields,
) -> HighRiskPerson:
    """Change any of the fields `person_register` takes (except the station)."""
    rules.require_edit(actor, person.station_id)
    unknown = set(fields) - {
        "name",
        "id_number",
        "birth_date",
        "gender",
        "address",
        "notes",
        "category",
        "risk_level",
        "related_schools",
        "responsible_officer",
        "next_review_on",
    }
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    if not person.is_active:
        raise ValidationError(
            {"status": [_("A closed record cannot be changed; reopen it first.")]}
        )
    today = today or timezone.localdate()
    errors = v.FieldErrors()
    cleaned = _clean_person(
        errors, station_id=person.station_id, today=today, current=person, **fields
    )
    errors.raise_if_any()
    before = snapshot(person)
    before_schools = _school_ids(person)
    _apply(person, cleaned)
    person.save()
    if "related_school_ids" in cleaned:
        person.related_schools.set(cleaned["related_school_ids"])
    changed = diff(before, snapshot(person))
    changed.pop("updated_at", None)
    if "related_school_ids" in cleaned and cleaned["related_school_ids"] != before_schools:
        changed["related_schools"] = [before_schools, cleaned["related_school_ids"]]
    encrypted = _encrypted_changes(cleaned)
    if changed or encrypted:
        _audit(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=person,
            changes={"fields": changed, "encrypted": encrypted},
        )
    return person


@transaction.atomic
def person_close(*, actor, person: HighRiskPerson, reason, note="") -> HighRiskPerson:
    """Close a record (no longer screened at the gates); the reason is required."""
    rules.require_edit(actor, person.station_id)
    if not person.is_active:
        raise ValidationError({"status": [_("The record is already closed.")]})
    errors = v.FieldErrors()
    reason = errors.run("reason", v.clean_choice, reason, CloseReason)
    note = errors.run("note", v.clean_text, note, max_length=2000)
    if reason == CloseReason.OTHER and not note:
        errors.add("note", _("Say why the record is closed."))
    errors.raise_if_any()
    before = snapshot(person)
    person.status = PersonStatus.CLOSED
    person.closed_reason = reason
    person.set_closed_note(note)
    person.closed_at = timezone.now()
    person.closed_by = acting_user(actor)
    person.save()
    changed = diff(before, snapshot(person))
    changed.pop("updated_at", None)
    _audit(actor=actor, action=AuditAction.UPDATE, obj=person, changes={"fields": changed})
    return person


@transaction.atomic
def person_reopen(*, actor, person: HighRiskPerson, today: dt.date | None = None):
    rules.require_edit(actor, person.station_id)
    if person.is_active:
        raise ValidationError({"status": [_("The record is not closed.")]})
    today = today or timezone.localdate()
    before = snapshot(person)
    person.status = PersonStatus.ACTIVE
    person.closed_reason = ""
    person.set_closed_note("")
    person.closed_at = None
    person.closed_by = None
    if not person.next_review_on or person.next_review_on < today:
        person.next_review_on = today
    person.save()
    changed = diff(before, snapshot(person))
    changed.pop("updated_at", None)
    _audit(actor=actor, action=AuditAction.UPDATE, obj=person, changes={"fields": changed})
    return person


@transaction.atomic
def person_photo_set(*, actor, person: HighRiskPerson, data: bytes) -> PersonPhoto:
    """Store (or replace) the person's photo, encrypted; JPEG or PNG up to 2 MB."""
    import base64

    rules.require_edit(actor, person.station_id)
    try:
        content_type = v.photo_content_type(data)
    except ValidationError as exc:
        raise ValidationError({"photo": exc.messages}) from exc
    sealed = crypto.encrypt(base64.b64encode(data).decode("ascii"))
    photo, created = PersonPhoto.objects.update_or_create(
        person=person,
        defaults={
            "content_type": content_type,
            "size": len(data),
            "data_encrypted": sealed,
            "uploaded_by": acting_user(actor),
        },
    )
    _audit(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        obj=person,
        changes={"photo": {"content_type": content_type, "size": len(data)}},
    )
    return photo


@transaction.atomic
def person_photo_remove(*, actor, person: HighRiskPerson) -> None:
    rules.require_edit(actor, person.station_id)
    deleted, _rows = PersonPhoto.objects.filter(person=person).delete()
    if deleted:
        _audit(actor=actor, action=AuditAction.DELETE, obj=person, changes={"photo": None})


# ---------------------------------------------------------------- measures and follow-ups


@transaction.atomic
def measure_add(
    *,
    actor,
    person: HighRiskPerson,
    kind,
    started_on,
    ended_on=None,
    responsible=None,
    notes="",
) -> ControlMeasure:
    rules.require_edit(actor, person.station_id)
    if not person.is_active:
        raise ValidationError(
            {"status": [_("A closed record cannot be changed; reopen it first.")]}
        )
    errors = v.FieldErrors()
    kind = errors.run("kind", v.clean_choice, kind, MeasureKind)
    started = errors.run("started_on", v.clean_date, started_on, required=True)
    ended = errors.run("ended_on", v.clean_date, ended_on)
    if started and ended and ended < started:
        errors.add("ended_on", _("The end cannot be before the start."))
    responsible = _officer(errors, "responsible_id", person.station_id, responsible)
    notes = errors.run("notes", v.clean_text, notes, max_length=5000)
    errors.raise_if_any()
    measure = ControlMeasure.objects.create(
        person=person,
        kind=kind,
        started_on=started,
        ended_on=ended,
        responsible=responsible,
        notes_encrypted=crypto.encrypt(notes) if notes else "",
        created_by=acting_user(actor),
    )
    _audit(
        actor=actor,
        action=AuditAction.CREATE,
        obj=measure,
        changes={"after": snapshot(measure), "person_id": person.pk},
    )
    return measure


@transaction.atomic
def measure_end(*, actor, measure: ControlMeasure, ended_on) -> ControlMeasure:
    rules.require_edit(actor, measure.person.station_id)
    errors = v.FieldErrors()
    ended = errors.run("ended_on", v.clean_date, ended_on, required=True)
    if ended and ended < measure.started_on:
        errors.add("ended_on", _("The end cannot be before the start."))
    errors.raise_if_any()
    before = snapshot(measure)
    measure.ended_on = ended
    measure.save(update_fields=["ended_on"])
    _audit(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=measure,
        changes={"fields": diff(before, snapshot(measure)), "person_id": measure.person_id},
    )
    return measure


@transaction.atomic
def follow_up_add(
    *,
    actor,
    person: HighRiskPerson,
    on,
    method,
    assessment,
    finding,
    next_review_on=None,
    today: dt.date | None = None,
) -> FollowUp:
    """Record a follow-up and set the next review (by the risk level when not given).

    "Whereabouts unknown" (失控) tells every register user of the station at once: the
    policy's first concern is that nobody slips out of control (§1 二(四)).
    """
    rules.require_edit(actor, person.station_id)
    if not person.is_active:
        raise ValidationError(
            {"status": [_("A closed record cannot be changed; reopen it first.")]}
        )
    today = today or timezone.localdate()
    errors = v.FieldErrors()
    on = errors.run("on", v.clean_date, on, required=True)
    if on and on > today:
        errors.add("on", _("A follow-up cannot be dated in the future."))
    method = errors.run("method", v.clean_choice, method, FollowUpMethod)
    assessment = errors.run("assessment", v.clean_choice, assessment, Assessment)
    finding = errors.run("finding", v.clean_text, finding, max_length=5000, required=True)
    review = errors.run("next_review_on", v.clean_date, next_review_on)
    if review and review < today:
        errors.add("next_review_on", _("The next review cannot be in the past."))
    errors.raise_if_any()
    follow_up = FollowUp.objects.create(
        person=person,
        on=on,
        method=method,
        assessment=assessment,
        finding_encrypted=crypto.encrypt(finding),
        by=acting_user(actor),
    )
    before = person.next_review_on
    person.next_review_on = review or today + dt.timedelta(
        days=REVIEW_INTERVAL_DAYS[person.risk_level]
    )
    person.save(update_fields=["next_review_on", "updated_at"])
    _audit(
        actor=actor,
        action=AuditAction.CREATE,
        obj=follow_up,
        changes={
            "after": snapshot(follow_up),
            "person_id": person.pk,
            "next_review_on": [_iso(before), _iso(person.next_review_on)],
        },
    )
    if assessment == Assessment.WHEREABOUTS_UNKNOWN:
        _notify_lost(person=person, follow_up=follow_up)
    return follow_up


def _iso(value):
    return value.isoformat() if value else None


def _in_default_language(build):
    with translation.override(settings.LANGUAGE_CODE):
        return build()


def _notify_lost(*, person, follow_up) -> None:
    from huxiao.notify.services import notify_send

    def build():
        return (
            gettext("High-risk person out of sight: %(ref)s") % {"ref": person.reference},
            gettext(
                "The follow-up of %(date)s found record %(ref)s's whereabouts unknown. "
                "Locate the person and take control measures."
            )
            % {"date": follow_up.on.isoformat(), "ref": person.reference},
        )

    title, body = _in_default_language(build)
    notify_send(
        organizations=(),
        event_type="intel.whereabouts_unknown",
        title=title,
        body=body,
        payload={"url": reverse("intel:register_detail", args=[person.pk])},
        recipients=rules.register_members(person.station_id),
        dedupe_key=f"intel.lost:{follow_up.pk}",
    )


# ---------------------------------------------------------------- review reminders


def register_reviews_remind(*, now: dt.datetime | None = None) -> int:
    """Tell each responsible officer (or, for records without one, the station's
    commanders) how many of their records are due or overdue for review.

    One inbox item per person to tell per day (the dedupe key carries the date), so the
    hourly job may run as often as it likes; nothing is sent before REMIND_FROM_HOUR.
    Returns the number of people told.
    """
    from huxiao.notify.services import notify_send

    local = timezone.localtime(now or timezone.now())
    if local.hour < REMIND_FROM_HOUR:
        return 0
    today = local.date()
    due = HighRiskPerson.objects.active().filter(next_review_on__lte=today)
    members: dict[int, set[int]] = {}
    commanders: dict[int, list[int]] = {}
    counts: dict[int, int] = {}
    for station_id, officer_id in due.values_list("station_id", "responsible_officer_id"):
        if station_id not in members:
            members[station_id] = set(
                rules.register_members(station_id).values_list("pk", flat=True)
            )
            commanders[station_id] = list(
                rules.register_members(station_id, roles={Role.POLICE_COMMANDER}).values_list(
                    "pk", flat=True
                )
            )
        # An officer who has left the station is not told; the commanders are instead.
        targets = [officer_id] if officer_id in members[station_id] else commanders[station_id]
        for user_id in targets:
            counts[user_id] = counts.get(user_id, 0) + 1
    url = reverse("intel:register_list") + "?review=due"
    for user_id, count in sorted(counts.items()):

        def build(count=count):
            return (
                gettext("High-risk persons due for review: %(count)s") % {"count": count},
                gettext(
                    "%(count)s record(s) of the high-risk persons register are due or overdue "
                    "for review (as of %(date)s)."
                )
                % {"count": count, "date": today.isoformat()},
            )

        title, body = _in_default_language(build)
        notify_send(
            organizations=(),
            event_type="intel.review_due",
            title=title,
            body=body,
            payload={"url": url, "count": count},
            recipients=[user_id],
            dedupe_key=f"intel.review:{user_id}:{today.isoformat()}",
        )
    return len(counts)


# ---------------------------------------------------------------- gate screening


@dataclass(frozen=True)
class ScreeningResult:
    """What the gate learns from the register: "clear" or "hold", nothing else."""

    outcome: str

    @property
    def is_hold(self) -> bool:
        return self.outcome == ScreeningOutcome.HOLD


CLEAR = ScreeningResult(ScreeningOutcome.CLEAR)
HOLD = ScreeningResult(ScreeningOutcome.HOLD)


@functools.cache
def _lookup_sql(vendor: str) -> tuple[str, str, str]:
    """The statements of the gate's hot path, written once: building an ORM query costs
    about 0.3 ms, several times the indexed lookup itself (bench/screening)."""
    meta = HighRiskPerson._meta
    table = connection.ops.quote_name(meta.db_table)
    column = {f.name: connection.ops.quote_name(f.column) for f in meta.concrete_fields}
    active = f"{column['status']} = %s"
    exact = (
        f"SELECT {column['id']}, {column['station']} FROM {table} "  # noqa: S608 - our names
        f"WHERE {column['id_number_hash']} = %s AND {active}"
    )
    bucket = (
        f"SELECT {column['id']}, {column['station']}, {column['phonetic_encrypted']} "  # noqa: S608
        f"FROM {table} WHERE {column['birth_date_hash']} = %s AND {active}"
    )
    without_number = f" AND {column['id_number_hash']} = %s"
    return exact, bucket, without_number


def register_matches(
    *, id_number: str = "", name: str = "", birth_date: dt.date | None = None
) -> list[tuple[int, int, str]]:
    """Active records matching the inputs: (person id, station id, match kind).

    Exact by resident ID number (keyed hash, one index lookup); by name among the people
    born that day (keyed birth-date hash, one index lookup, then each candidate's
    encrypted phonetic key decrypted and compared: `phonetic.compare`) — when a number is
    given, only among records kept without one. The inputs must already be clean; callers
    other than `screen_person` are the benchmark and tests.
    """
    exact_sql, bucket_sql, without_number = _lookup_sql(connection.vendor)
    found: dict[int, tuple[int, int, str]] = {}
    key = None  # the name's phonetic key: made only when someone born that day is found
    with connection.cursor() as cursor:
        if id_number:
            cursor.execute(exact_sql, [register_id_hash(id_number), PersonStatus.ACTIVE])
            for pk, station_id in cursor.fetchall():
                found[pk] = (pk, station_id, MatchKind.ID_NUMBER)
        if name and birth_date:
            sql, params = bucket_sql, [register_birth_hash(birth_date), PersonStatus.ACTIVE]
            if id_number:
                # The visitor showed a number: a record with another number is another
                # person (a namesake born the same day); only records kept without one
                # are compared.
                sql += without_number
                params.append("")
            cursor.execute(sql, params)
            for pk, station_id, token in cursor.fetchall():
                if pk in found:
                    continue
                if key is None:
                    # Most screenings find nobody born that day: the key (the pinyin of
                    # each character) costs more CPU than both lookups (bench/gate).
                    key = phonetic.name_key(name)
                if not key:
                    break
                try:
                    candidate = phonetic.decode(crypto.decrypt(token))
                except crypto.DecryptionError:
                    continue
                if phonetic.compare(key, candidate):
                    found[pk] = (pk, station_id, MatchKind.NAME_BIRTH_DATE)
    return list(found.values())


def _require_screen(actor, school) -> None:
    """The school's gate (REGISTER_VISITOR: guards, their leaders, gate terminals) or the
    police of the school's station may screen a visitor of that school."""
    if can(actor, Action.REGISTER_VISITOR, school.pk):
        return
    if school.police_station_id and school.police_station_id in rules.register_station_ids(
        actor, rules.VIEW
    ):
        return
    raise PermissionDenied(_("Your role does not allow this action."))


def screen_person(
    *,
    actor,
    school,
    id_number: str | None = None,
    name: str | None = None,
    birth_date: dt.date | None = None,
    now: dt.datetime | None = None,
) -> ScreeningResult:
    """Screen a visitor at `school`'s gate against every active record of the register.

    Returns CLEAR or HOLD only — never who, why, or which station. On a hold, in one
    transaction: a ScreeningHit per matched record (part of the person's movements), its
    sealed audit row, and an inbox alert (pushed live) to the register users of the owning
    station, and of the school's station if that is another one. A closed record never
    holds. Bad input (an invalid ID number, nothing to screen by) is a ValidationError.
    """
    _require_screen(actor, school)
    errors = v.FieldErrors()
    number = errors.run("id_number", v.clean_id_number, id_number) or ""
    born = None
    if birth_date not in (None, ""):
        born = errors.run("birth_date", v.clean_date, birth_date)
    text = str(name or "").strip()[:50]  # longer is not a name; keeps the work bounded
    errors.raise_if_any()
    if number and born is None:
        born = birth_date_of(number)
    if not number and not (text and born):
        raise ValidationError(
            {"__all__": [_("Give a resident ID number, or a name and a birth date.")]}
        )
    matches = register_matches(id_number=number, name=text, birth_date=born)
    if not matches:
        return CLEAR
    _hold(actor=actor, school=school, matches=matches, now=now or timezone.now())
    return HOLD


@transaction.atomic
def _hold(*, actor, school, matches, now) -> None:
    from huxiao.notify.services import notify_send

    is_device = getattr(actor, "is_device", False)
    label = (str(actor) if is_device else actor.get_username())[:150]
    for pk, station_id, match in matches:
        reference = HighRiskPerson(pk=pk).reference
        # The police are paged once for the same person at the same gate within the window
        # (counted from the last hit, not by clock buckets); every hit is still recorded.
        paged_recently = ScreeningHit.objects.filter(
            person_id=pk,
            school=school,
            at__gt=now - dt.timedelta(seconds=HOLD_ALERT_WINDOW_SECONDS),
            at__lte=now,
        ).exists()
        hit = ScreeningHit.objects.create(
            person_id=pk,
            school=school,
            at=now,
            match=match,
            screened_by=acting_user(actor),
            screened_by_label=label,
        )
        _audit(
            actor=actor,
            action=AuditAction.CREATE,
            obj=hit,
            changes={"person_id": pk, "school_id": school.pk, "match": match},
        )
        if paged_recently:
            continue

        def build(match=match, reference=reference):
            when = timezone.localtime(now).strftime("%H:%M")
            return (
                gettext("Gate screening hold: %(school)s") % {"school": school.name},
                gettext(
                    "At %(time)s a visitor at the gate of %(school)s matched record %(ref)s of "
                    "the high-risk persons register (on %(match)s). The gate has been told to "
                    "hold. Go and check at once."
                )
                % {
                    "time": when,
                    "school": school.name,
                    "ref": reference,
                    "match": MatchKind(match).label,
                },
            )

        title, body = _in_default_language(build)
        notify_send(
            organizations=[station_id],
            event_type="intel.screening_hold",
            title=title,
            body=body,
            payload={
                "url": reverse("intel:register_detail", args=[pk]),
                "hit_id": hit.pk,
                "school_id": school.pk,
            },
            recipients=list(rules.register_members(station_id).values_list("pk", flat=True)),
            dedupe_key=f"intel.hold:{hit.pk}",
        )
        local_station = school.police_station_id
        if local_station and local_station != station_id:
            # The police nearest the gate must go too; they learn that a register matched,
            # not whose register entry it is.
            from huxiao.orgs.models import Organization

            station_name = Organization.objects.get(pk=station_id).name

            def build_local(station_name=station_name):
                return (
                    gettext("Gate screening hold: %(school)s") % {"school": school.name},
                    gettext(
                        "A visitor at the gate of %(school)s matched the high-risk persons "
                        "register of %(station)s. Go and check at once, and contact that "
                        "station."
                    )
                    % {"school": school.name, "station": station_name},
                )

            title, body = _in_default_language(build_local)
            notify_send(
                organizations=[local_station],
                event_type="intel.screening_hold",
                title=title,
                body=body,
                payload={"school_id": school.pk},
                recipients=list(rules.register_members(local_station).values_list("pk", flat=True)),
                dedupe_key=f"intel.hold:{hit.pk}:local",
            )
