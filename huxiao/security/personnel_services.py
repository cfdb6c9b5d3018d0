"""Writes of the security personnel records (issue 7 item 1; ADR 0028 "Personnel").

A guard, security officer or dormitory manager is a `people.Staff` row (name, post, phone,
resident ID number and background check stay the people app's, written through its
services); `GuardProfile` adds the security-service facts and `TrainingRecord` the
trainings. Adding a guard creates both in one transaction.

Rules (bad input is a ValidationError by field; nothing is written):
- guard certificate number (保安员证编号): optional; spaces are dropped, full-width
  characters and lower-case letters normalised; then an optional province abbreviation
  (京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼), an optional "公保" or
  "公保字", and 8–18 digits or capital letters, at most 20 characters in all. Certificate
  dates need a number; the issue date is not in the future; the expiry is after the issue;
- the filing date is required when filed with the police, and not in the future;
- the hire date and the background-check date are not in the future;
- no date is before 1980-01-01 (`dates.EARLIEST_DATE`: a typing mistake otherwise);
- the security company's name is required when a security company employs the guard (and
  dropped when the school does);
- a training has a date (not in the future), a topic, 0–99.9 hours (one decimal).

Every change is audited and, once committed, the school's compliance is evaluated again.
`personnel_remind` is the daily reminder of expiring or expired certificates and of staff
without training in 12 months (security/tasks.py).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from huxiao.audit.services import audit_create, audit_delete, audit_update, snapshot
from huxiao.core.names import acting_user
from huxiao.core.permissions import require
from huxiao.core.roles import Action, Role
from huxiao.orgs.models import Membership
from huxiao.people import services as people_services
from huxiao.people import validation as v
from huxiao.people.choices import StaffRole
from huxiao.people.models import Staff
from huxiao.security import dates
from huxiao.security.choices import Employer, Employment
from huxiao.security.compliance import reevaluate_on_commit
from huxiao.security.models import GuardProfile, TrainingRecord
from huxiao.security.personnel_selectors import (
    EXPIRY_WARNING_DAYS,
    SECURITY_POSTS,
    certificate_state,
    local_today,
    training_cutoff,
)

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
CERTIFICATE_NUMBER = re.compile(rf"^[{PROVINCES}]?(?:公保字?)?[0-9A-Z]{{8,18}}$")
CERTIFICATE_MAX = 20
MAX_HOURS = Decimal("99.9")
PROFILE_FIELDS = (
    "employment",
    "employer",
    "security_company",
    "hired_on",
    "certificate_number",
    "certificate_issued_on",
    "certificate_expires_on",
    "filed_with_police",
    "filed_on",
    "notes",
)
# Staff fields the personnel page edits (through people.services.staff_update).
STAFF_FIELDS = ("name", "role", "phone", "background_check", "background_checked_on", "is_active")
REMINDER_EVENT = "security.personnel_reminder"
# Who is told of the school's expiring certificates and missing trainings.
REMINDED_ROLES = (Role.PRINCIPAL, Role.SECURITY_OFFICER)

_PROFILE_DEFAULTS = {
    "employment": Employment.FULL_TIME,
    "employer": Employer.SCHOOL,
    "security_company": "",
    "hired_on": None,
    "certificate_number": "",
    "certificate_issued_on": None,
    "certificate_expires_on": None,
    "filed_with_police": False,
    "filed_on": None,
    "notes": "",
}


# ------------------------------------------------------------------ field rules


def clean_certificate_number(value) -> str:
    """The guard certificate number, normalised (see the module docstring); "" if empty."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    text = re.sub(r"\s+", "", text).upper()
    if not text:
        return ""
    v.reject_control_characters(text)
    if len(text) > CERTIFICATE_MAX or not CERTIFICATE_NUMBER.match(text):
        raise ValidationError(
            _(
                "Enter the certificate number as on the guard certificate: an optional "
                "province abbreviation (e.g. 冀) and 公保, then 8–18 digits or capital "
                "letters, at most 20 characters."
            ),
            code="certificate_number",
        )
    return text


def _choice(value, choices, message) -> str:
    text = str(value or "").strip()
    if text in choices.values:
        return text
    raise ValidationError(message, code="choice")


def clean_employment(value) -> str:
    return _choice(value, Employment, _("Choose full-time or part-time."))


def clean_employer(value) -> str:
    return _choice(value, Employer, _("Choose the school or a security company."))


def clean_hours(value) -> Decimal:
    if value is None or value == "":
        raise ValidationError(_("This field is required."), code="required")
    if isinstance(value, bool):
        raise ValidationError(_("Enter a number of hours."), code="invalid")
    try:
        hours = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(_("Enter a number of hours."), code="invalid") from None
    if not hours.is_finite() or hours < 0 or hours > MAX_HOURS:
        raise ValidationError(_("Enter between 0 and 99.9 hours."), code="range")
    if hours != hours.quantize(Decimal("0.1")):
        raise ValidationError(_("Use at most one decimal place."), code="decimal")
    return hours.quantize(Decimal("0.1"))


def _clean_profile(errors: v.FieldErrors, given: dict, current: dict, today: dt.date) -> dict:
    """The profile fields in `given`, cleaned, checked together with `current` (the stored
    values, or the defaults for a new record). Returns the values to store."""
    cleaned: dict = {}
    if "employment" in given:
        cleaned["employment"] = errors.run("employment", clean_employment, given["employment"])
    if "employer" in given:
        cleaned["employer"] = errors.run("employer", clean_employer, given["employer"])
    if "security_company" in given:
        cleaned["security_company"] = errors.run(
            "security_company", v.clean_text, given["security_company"], max_length=200
        )
    if "hired_on" in given:
        cleaned["hired_on"] = errors.run(
            "hired_on",
            dates.clean_past_date,
            given["hired_on"],
            today=today,
            future_message=_("The hire date is in the future."),
        )
    if "certificate_number" in given:
        cleaned["certificate_number"] = errors.run(
            "certificate_number", clean_certificate_number, given["certificate_number"]
        )
    for name in ("certificate_issued_on", "certificate_expires_on", "filed_on"):
        if name in given:
            # Only the lower bound here; the future is checked below with the other dates.
            cleaned[name] = errors.run(name, dates.clean_past_date, given[name], today=None)
    if "filed_with_police" in given:
        cleaned["filed_with_police"] = errors.run(
            "filed_with_police", v.clean_required_bool, given["filed_with_police"]
        )
    if "notes" in given:
        cleaned["notes"] = errors.run("notes", v.clean_text, given["notes"], max_length=2000)
    # Checked together: the values that parsed, over the stored ones; a check that needs a
    # field that did not parse is left until it does.
    bad = set(errors.errors)
    merged = {**current, **{k: val for k, val in cleaned.items() if k not in bad}}
    if merged["employer"] == Employer.SECURITY_COMPANY:
        if not merged["security_company"] and not bad & {"employer", "security_company"}:
            errors.add(
                "security_company",
                _("Enter the name of the security company that employs the guard."),
            )
    elif merged["security_company"]:
        cleaned["security_company"] = ""
    issued, expires = merged["certificate_issued_on"], merged["certificate_expires_on"]
    if not merged["certificate_number"] and (issued or expires) and "certificate_number" not in bad:
        errors.add(
            "certificate_number",
            _("Enter the certificate number, or leave the certificate dates empty."),
        )
    if issued and issued > today:
        errors.add("certificate_issued_on", _("The issue date is in the future."))
    if issued and expires and expires <= issued:
        errors.add("certificate_expires_on", _("The expiry date must be after the issue date."))
    if merged["filed_with_police"] and "filed_on" not in bad:
        if merged["filed_on"] is None:
            errors.add("filed_on", _("Enter the date of filing with the police."))
        elif merged["filed_on"] > today:
            errors.add("filed_on", _("The filing date is in the future."))
    elif not merged["filed_with_police"] and merged["filed_on"] is not None:
        # Unticked "filed": a date left in the form means nothing.
        cleaned["filed_on"] = None
    return cleaned


def _check_staff(errors: v.FieldErrors, given: dict, today: dt.date) -> None:
    """What the security roster adds to the people app's staff rules: the post is one of
    the security posts, and the background check is not dated in the future."""
    if "role" in given:
        try:
            role = v.clean_staff_role(given["role"])
        except ValidationError:
            role = None  # the people service reports the unknown post
        if role is not None and role not in SECURITY_POSTS:
            errors.add("role", _("Choose guard, security officer or dormitory manager."))
    if "background_checked_on" in given:
        try:
            checked = v.clean_date(given["background_checked_on"])
        except ValidationError:
            checked = None
        if checked is not None and checked > today:
            errors.add("background_checked_on", _("The background check date is in the future."))
        elif checked is not None:
            errors.run("background_checked_on", dates.not_too_early, checked)


def _merge(errors: v.FieldErrors, exc: ValidationError) -> None:
    items = exc.message_dict.items() if hasattr(exc, "error_dict") else [("__all__", exc.messages)]
    for name, messages in items:
        for message in messages:
            if message not in [str(m) for m in errors.errors.get(name, [])]:
                errors.add(name, message)


def _split(changes: dict) -> tuple[dict, dict]:
    unknown = set(changes) - set(PROFILE_FIELDS) - set(STAFF_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    staff = {k: changes[k] for k in STAFF_FIELDS if k in changes}
    profile = {k: changes[k] for k in PROFILE_FIELDS if k in changes}
    return staff, profile


# ------------------------------------------------------------------ guards


@transaction.atomic
def guard_create(
    *,
    actor,
    school,
    name,
    role=StaffRole.GUARD,
    phone="",
    background_check="",
    background_checked_on=None,
    id_number="",
    today: dt.date | None = None,
    **profile,
) -> GuardProfile:
    """Add a member of the security staff: the Staff row (through the people app, which
    keeps the resident ID number) and the security record, in one transaction. `profile`
    takes the GuardProfile fields (PROFILE_FIELDS)."""
    require(actor, Action.MANAGE_SECURITY, school.pk)
    _split(profile)
    today = today or local_today()
    errors = v.FieldErrors()
    _check_staff(errors, {"role": role, "background_checked_on": background_checked_on}, today)
    cleaned = _clean_profile(errors, profile, dict(_PROFILE_DEFAULTS), today)
    staff = None
    try:
        staff = people_services.staff_create(
            actor=actor,
            school=school,
            name=name,
            role=role,
            phone=phone,
            background_check=background_check,
            background_checked_on=background_checked_on,
            id_number=id_number,
        )
    except ValidationError as exc:
        _merge(errors, exc)
    errors.raise_if_any()
    record = GuardProfile(staff=staff, updated_by=acting_user(actor), **_PROFILE_DEFAULTS)
    for key, value in cleaned.items():
        setattr(record, key, value)
    record.save()
    audit_create(actor=actor, obj=record, school=school.pk)
    reevaluate_on_commit([school.pk])
    return record


@transaction.atomic
def guard_update(*, actor, staff: Staff, today: dt.date | None = None, **changes) -> GuardProfile:
    """Change a member of the security staff: the staff fields (STAFF_FIELDS, through the
    people app) and the security record (PROFILE_FIELDS; created on the first save for
    staff added elsewhere, e.g. by a roster import). Only the fields given change."""
    require(actor, Action.MANAGE_SECURITY, staff.school_id)
    staff_changes, profile_changes = _split(changes)
    today = today or local_today()
    errors = v.FieldErrors()
    if staff.role not in SECURITY_POSTS and "role" not in staff_changes:
        errors.add("role", _("Choose guard, security officer or dormitory manager."))
    _check_staff(errors, staff_changes, today)
    record = GuardProfile.objects.select_for_update().filter(staff_id=staff.pk).first()
    current = (
        {name: getattr(record, name) for name in PROFILE_FIELDS}
        if record is not None
        else dict(_PROFILE_DEFAULTS)
    )
    cleaned = _clean_profile(errors, profile_changes, current, today)
    if staff_changes:
        try:
            people_services.staff_update(actor=actor, staff=staff, **staff_changes)
        except ValidationError as exc:
            _merge(errors, exc)
    errors.raise_if_any()
    if record is None:
        record = GuardProfile(staff=staff, updated_by=acting_user(actor), **current)
        for key, value in cleaned.items():
            setattr(record, key, value)
        record.save()
        audit_create(actor=actor, obj=record, school=staff.school_id)
    else:
        before = snapshot(record)
        for key, value in cleaned.items():
            setattr(record, key, value)
        if snapshot(record) != before:
            record.updated_by = acting_user(actor)
            record.save()
            audit_update(actor=actor, obj=record, before=before, school=staff.school_id)
    reevaluate_on_commit([staff.school_id])
    return record


# ------------------------------------------------------------------ trainings


@transaction.atomic
def training_add(
    *,
    actor,
    staff: Staff,
    held_on,
    topic,
    hours,
    provider="",
    passed=True,
    today: dt.date | None = None,
) -> TrainingRecord:
    require(actor, Action.MANAGE_SECURITY, staff.school_id)
    today = today or local_today()
    errors = v.FieldErrors()
    if staff.role not in SECURITY_POSTS:
        errors.add("staff_id", _("Trainings are kept for the security staff only."))
    held = errors.run(
        "held_on",
        dates.clean_past_date,
        held_on,
        today=today,
        future_message=_("The training date is in the future."),
        required=True,
    )
    topic_clean = errors.run("topic", v.clean_text, topic, max_length=200, required=True)
    hours_clean = errors.run("hours", clean_hours, hours)
    provider_clean = errors.run("provider", v.clean_text, provider, max_length=200)
    passed_clean = errors.run("passed", v.clean_required_bool, passed)
    errors.raise_if_any()
    training = TrainingRecord.objects.create(
        staff=staff,
        held_on=held,
        topic=topic_clean,
        hours=hours_clean,
        provider=provider_clean,
        passed=passed_clean,
        created_by=acting_user(actor),
    )
    audit_create(actor=actor, obj=training, school=staff.school_id)
    reevaluate_on_commit([staff.school_id])
    return training


@transaction.atomic
def training_delete(*, actor, training: TrainingRecord) -> None:
    school_id = training.staff.school_id
    require(actor, Action.MANAGE_SECURITY, school_id)
    audit_delete(actor=actor, obj=training, school=school_id)
    training.delete()
    reevaluate_on_commit([school_id])


# ------------------------------------------------------------------ daily reminder


def _message(template, params: dict | None = None) -> str:
    """A notification text in the platform's language, whoever triggered it."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(template) % (params or {})


def _recipients(school_ids) -> dict[int, list[int]]:
    result: dict[int, set[int]] = defaultdict(set)
    for school_id, user_id in Membership.objects.filter(
        organization_id__in=list(school_ids),
        role__in=REMINDED_ROLES,
        is_active=True,
        user__is_active=True,
    ).values_list("organization_id", "user_id"):
        result[school_id].add(user_id)
    return {school_id: sorted(users) for school_id, users in result.items()}


def personnel_remind(*, now: dt.datetime | None = None) -> dict:
    """Tell each school's principal and security officers, once a day (the dedupe key
    carries the date), which of their active security staff have a certificate expired or
    expiring within 30 days, and who has had no passed training in 12 months. One message
    per school listing them all. Returns {"schools": [ids told], "items": n}. A fixed
    number of queries, whatever the number of schools."""
    from huxiao.notify.services import notify_send_many

    today = local_today(now)
    stamp = today.isoformat()
    active = Q(is_active=True, role__in=SECURITY_POSTS, school__is_active=True)
    lines: dict[int, list[str]] = defaultdict(list)
    names: dict[int, str] = {}
    profiles = (
        GuardProfile.objects.filter(
            staff__is_active=True,
            staff__role__in=SECURITY_POSTS,
            staff__school__is_active=True,
            certificate_expires_on__lte=today + dt.timedelta(days=EXPIRY_WARNING_DAYS),
        )
        .exclude(certificate_number="")
        .select_related("staff", "staff__school")
        .order_by("staff__school_id", "certificate_expires_on", "staff__name", "pk")
    )
    for record in profiles:
        state, days = certificate_state(record, today)
        params = {"name": record.staff.name, "date": record.certificate_expires_on.isoformat()}
        if state == "expired":
            text = _message(_("%(name)s: guard certificate expired on %(date)s."), params)
        else:
            text = _message(
                _("%(name)s: guard certificate expires on %(date)s (in %(days)s day(s))."),
                {**params, "days": days},
            )
        school_id = record.staff.school_id
        names[school_id] = record.staff.school.name
        lines[school_id].append(text)
    untrained = (
        Staff.objects.filter(active)
        .annotate(
            last=Max("security_trainings__held_on", filter=Q(security_trainings__passed=True))
        )
        .filter(Q(last__isnull=True) | Q(last__lt=training_cutoff(today)))
        .select_related("school")
        .order_by("school_id", "name", "pk")
    )
    for staff in untrained:
        if staff.last is None:
            text = _message(_("%(name)s: no training on record."), {"name": staff.name})
        else:
            text = _message(
                _("%(name)s: last training on %(date)s, more than 12 months ago."),
                {"name": staff.name, "date": staff.last.isoformat()},
            )
        names[staff.school_id] = staff.school.name
        lines[staff.school_id].append(text)
    if not lines:
        return {"schools": [], "items": 0}
    recipients = _recipients(lines)
    messages = []
    for school_id in sorted(lines):
        params = {"school": names[school_id], "count": len(lines[school_id])}
        messages.append(
            {
                "organizations": [school_id],
                "event_type": REMINDER_EVENT,
                "title": _message(
                    _("%(school)s: %(count)s guard certificate or training item(s) to follow up"),
                    params,
                ),
                "body": "\n".join(lines[school_id]),
                "payload": {"school_id": school_id, "date": stamp},
                "recipients": recipients.get(school_id, []),
                "dedupe_key": f"{REMINDER_EVENT}:{school_id}:{stamp}",
            }
        )
    from huxiao.notify.models import Notification

    keys = [m["dedupe_key"] for m in messages]
    already = set(
        Notification.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True)
    )
    fresh = [m for m in messages if m["dedupe_key"] not in already]
    with transaction.atomic():
        notify_send_many(fresh)
    return {
        "schools": [m["payload"]["school_id"] for m in fresh],
        "items": sum(len(lines[m["payload"]["school_id"]]) for m in fresh),
    }
