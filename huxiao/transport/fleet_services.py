"""Writes of a school's buses and drivers (issue 8 item 4; ADR 0031 "Fleet"), and the daily
reminder of their documents.

Order of checks everywhere: the record is found through the actor's VIEW scope (out of
reach is Http404), then the right (MANAGE_TRANSPORT, else PermissionDenied → 403), then the
state (`FleetRefused`, 409 with a sentence), then the input (ValidationError by field →
400, nothing written). Every write is audited in its transaction.

Field rules:
- plate: a Chinese plate (`access.plates.clean_plate`, stored normalised: 冀A·X3712 →
  冀AX3712); one bus in service per plate across the platform (constraint
  `transport_bus_plate_active`, also caught when two requests race);
- approved seats: a whole number from 1 to 80;
- document dates (permit, insurance, inspection; licence, qualification, health check):
  from 1980-01-01 to 2100-12-31 — anything else is a typing mistake; the last health check
  is not in the future, its validity is one year unless given, and after the check;
- numbers of permits, licences and qualifications: spaces dropped, full-width and
  lower-case letters normalised; a licence number has only digits and letters;
- a violation: a date (not in the future), a description, 0–12 penalty points.

A bus or driver still named on a route in service cannot be retired (change the route
first); one with trips, inspections or routes on record cannot be deleted (retire it).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import defaultdict
from functools import partial

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from huxiao.access.plates import clean_plate
from huxiao.audit.services import audit_create, audit_delete, audit_update, snapshot
from huxiao.core.names import acting_user
from huxiao.core.permissions import require
from huxiao.core.roles import Action
from huxiao.people import validation as v
from huxiao.security.dates import EARLIEST_DATE
from huxiao.transport import checks
from huxiao.transport import fleet_selectors as sel
from huxiao.transport.choices import LicenceClass
from huxiao.transport.models import Bus, Driver, DriverViolation
from huxiao.transport.notify import platform_text, told_about

LATEST_DATE = dt.date(2100, 12, 31)
MAX_SEATS = 80
MAX_POINTS = 12
HEALTH_CHECK_VALID_YEARS = 1
_LICENCE_NUMBER = re.compile(r"^[0-9A-Z]{6,30}$")


class FleetRefused(ValidationError):
    """A step the record's state does not allow; pages and the API answer 409."""

    def __init__(self, message):
        super().__init__(message, code="refused")


# ------------------------------------------------------------------ field rules


def clean_fleet_date(value, *, required: bool = False) -> dt.date | None:
    """A document date from 1980-01-01 to 2100-12-31 (None when empty)."""
    date = v.clean_date(value, required=required)
    if date is not None and not EARLIEST_DATE <= date <= LATEST_DATE:
        raise ValidationError(
            _("Enter a date between %(first)s and %(last)s.")
            % {"first": EARLIEST_DATE.isoformat(), "last": LATEST_DATE.isoformat()},
            code="range",
        )
    return date


def clean_past_fleet_date(value, *, today: dt.date, required: bool = False) -> dt.date | None:
    date = clean_fleet_date(value, required=required)
    if date is not None and date > today:
        raise ValidationError(_("The date cannot be in the future."), code="future")
    return date


def clean_whole_number(value, *, low: int, high: int, message) -> int:
    """A whole number from `low` to `high`; anything else (text, 2.5, a boolean) gets
    `message`."""
    if isinstance(value, bool) or value is None or str(value).strip() == "":
        raise ValidationError(message, code="invalid")
    text = str(value).strip()
    if not re.fullmatch(r"[+-]?\d{1,20}", text):
        raise ValidationError(message, code="invalid")
    number = int(text)
    if not low <= number <= high:
        raise ValidationError(message, code="range")
    return number


def clean_seats(value) -> int:
    message = _("Enter the approved seats: a whole number from 1 to %(max)s.") % {"max": MAX_SEATS}
    return clean_whole_number(value, low=1, high=MAX_SEATS, message=message)


def clean_points(value) -> int:
    if value is None or value == "":
        return 0
    message = _("Enter 0 to %(max)s penalty points.") % {"max": MAX_POINTS}
    return clean_whole_number(value, low=0, high=MAX_POINTS, message=message)


def clean_code(value, *, max_length: int) -> str:
    """A document number: spaces dropped, full-width and lower case normalised."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value or ""))).upper()
    v.reject_control_characters(text)
    if len(text) > max_length:
        raise ValidationError(
            _("At most %(limit)s characters.") % {"limit": max_length}, code="max_length"
        )
    return text


def clean_licence_number(value) -> str:
    text = clean_code(value, max_length=30)
    if text and not _LICENCE_NUMBER.match(text):
        raise ValidationError(
            _("Enter the licence number as on the driving licence: 6–30 digits or letters."),
            code="licence_number",
        )
    return text


def clean_licence_class(value) -> str:
    text = unicodedata.normalize("NFKC", str(value or "")).strip().upper()
    if text not in LicenceClass.values:
        raise ValidationError(
            _("Choose the licence class: %(classes)s.")
            % {"classes": ", ".join(LicenceClass.values)},
            code="choice",
        )
    return text


def _text(max_length: int, *, required: bool = False):
    return partial(v.clean_text, max_length=max_length, required=required)


def clean_fields(errors: v.FieldErrors, given: dict, cleaners: dict) -> dict:
    """Each given field through its cleaner (errors collected by field)."""
    unknown = set(given) - set(cleaners)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    return {name: errors.run(name, cleaners[name], value) for name, value in given.items()}


def save_changes(*, actor, obj, cleaned: dict, school_id: int, save=None) -> None:
    """Set the cleaned values; save and audit only when something changed."""
    before = snapshot(obj)
    for key, value in cleaned.items():
        setattr(obj, key, value)
    if snapshot(obj) != before:
        obj.updated_by = acting_user(actor)
        (save or obj.save)()
        audit_update(actor=actor, obj=obj, before=before, school=school_id)


def _refuse_if_used(obj, message) -> None:
    """Refuse retiring a bus or driver still named on a route in service."""
    names = list(obj.routes.filter(is_active=True).order_by("name").values_list("name", flat=True))
    if names:
        raise FleetRefused(message % {"name": str(obj), "routes": "、".join(names)})


def _refuse_if_on_record(obj, message) -> None:
    if obj.trips.exists() or obj.inspections.exists() or obj.routes.exists():
        raise FleetRefused(message % {"name": str(obj)})


# ------------------------------------------------------------------ buses

BUS_CLEANERS = {
    "plate": clean_plate,
    "seats": clean_seats,
    "operator": _text(200),
    "model_name": _text(100),
    "permit_number": partial(clean_code, max_length=50),
    "permit_expires_on": clean_fleet_date,
    "insurance_expires_on": clean_fleet_date,
    "inspection_expires_on": clean_fleet_date,
    "markings_compliant": v.clean_required_bool,
    "notes": _text(500),
    "is_active": v.clean_required_bool,
}
BUS_FIELDS = tuple(BUS_CLEANERS)
PLATE_TAKEN = _("A bus in service already has this plate.")


def _check_plate(errors: v.FieldErrors, plate: str | None, *, exclude: int | None) -> None:
    if plate and "plate" not in errors.errors:
        taken = Bus.objects.filter(plate=plate, is_active=True).exclude(pk=exclude).exists()
        if taken:
            errors.add("plate", PLATE_TAKEN)


def _save_bus(bus: Bus) -> None:
    """Save; a plate taken by a concurrent request is the same field error."""
    try:
        with transaction.atomic():
            bus.save()
    except IntegrityError:
        raise ValidationError({"plate": [PLATE_TAKEN]}) from None


@transaction.atomic
def bus_create(*, actor, school, plate, seats, **fields) -> Bus:
    """Add a school bus in service. `fields` takes the other BUS_FIELDS."""
    require(actor, Action.MANAGE_TRANSPORT, school.pk)
    errors = v.FieldErrors()
    cleaned = clean_fields(errors, {"plate": plate, "seats": seats, **fields}, BUS_CLEANERS)
    if cleaned.get("is_active", True):
        _check_plate(errors, cleaned["plate"], exclude=None)
    errors.raise_if_any()
    bus = Bus(school=school, updated_by=acting_user(actor), **cleaned)
    _save_bus(bus)
    audit_create(actor=actor, obj=bus, school=school.pk)
    return bus


@transaction.atomic
def bus_update(*, actor, bus: Bus, **changes) -> Bus:
    """Change the fields given. `is_active=False` retires the bus (refused while a route
    in service names it), `True` puts it back in service (its plate must be free)."""
    require(actor, Action.MANAGE_TRANSPORT, bus.school_id)
    bus = Bus.objects.select_for_update().get(pk=bus.pk)
    if changes.get("is_active") is False and bus.is_active:
        _refuse_if_used(
            bus,
            _("%(name)s is the usual bus of %(routes)s: choose another bus for the route first."),
        )
    errors = v.FieldErrors()
    cleaned = clean_fields(errors, changes, BUS_CLEANERS)
    active = cleaned.get("is_active", bus.is_active)
    if active and ("plate" in cleaned or not bus.is_active):
        _check_plate(errors, cleaned.get("plate", bus.plate), exclude=bus.pk)
    errors.raise_if_any()
    save_changes(
        actor=actor, obj=bus, cleaned=cleaned, school_id=bus.school_id, save=partial(_save_bus, bus)
    )
    return bus


@transaction.atomic
def bus_delete(*, actor, bus: Bus) -> None:
    """Delete a bus recorded by mistake: never one with trips, inspections or routes."""
    require(actor, Action.MANAGE_TRANSPORT, bus.school_id)
    _refuse_if_on_record(
        bus, _("%(name)s has trips, inspections or routes on record: retire it instead.")
    )
    audit_delete(actor=actor, obj=bus, school=bus.school_id)
    bus.delete()


# ------------------------------------------------------------------ drivers


def _driver_cleaners(today: dt.date) -> dict:
    return {
        "name": v.clean_name,
        "phone": partial(v.clean_phone, required=False),
        "employer": _text(200),
        "licence_number": clean_licence_number,
        "licence_class": clean_licence_class,
        "licence_expires_on": clean_fleet_date,
        "qualification_number": partial(clean_code, max_length=50),
        "qualification_expires_on": clean_fleet_date,
        "health_checked_on": partial(clean_past_fleet_date, today=today),
        "health_check_expires_on": clean_fleet_date,
        "is_active": v.clean_required_bool,
    }


DRIVER_FIELDS = tuple(_driver_cleaners(dt.date.min))


def _one_year_after(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + HEALTH_CHECK_VALID_YEARS)
    except ValueError:  # 29 February
        return day.replace(year=day.year + HEALTH_CHECK_VALID_YEARS, day=28)


def _check_health(errors: v.FieldErrors, given: dict, cleaned: dict, current: Driver | None):
    """The health check is valid for a year unless its validity is given; a given
    validity ends after the check."""
    if errors.errors.keys() & {"health_checked_on", "health_check_expires_on"}:
        return
    checked = cleaned.get("health_checked_on", getattr(current, "health_checked_on", None))
    if "health_checked_on" in given and checked and not given.get("health_check_expires_on"):
        cleaned["health_check_expires_on"] = _one_year_after(checked)
        return
    expires = cleaned.get(
        "health_check_expires_on", getattr(current, "health_check_expires_on", None)
    )
    if checked and expires and expires <= checked:
        errors.add(
            "health_check_expires_on",
            _("The health check's validity must end after the check."),
        )


@transaction.atomic
def driver_create(
    *, actor, school, name, licence_class, today: dt.date | None = None, **fields
) -> Driver:
    """Add a bus driver in service. `fields` takes the other DRIVER_FIELDS."""
    require(actor, Action.MANAGE_TRANSPORT, school.pk)
    today = today or sel.today_local()
    given = {"name": name, "licence_class": licence_class, **fields}
    errors = v.FieldErrors()
    cleaned = clean_fields(errors, given, _driver_cleaners(today))
    _check_health(errors, given, cleaned, None)
    errors.raise_if_any()
    driver = Driver.objects.create(school=school, updated_by=acting_user(actor), **cleaned)
    audit_create(actor=actor, obj=driver, school=school.pk)
    return driver


@transaction.atomic
def driver_update(*, actor, driver: Driver, today: dt.date | None = None, **changes) -> Driver:
    """Change the fields given; `is_active=False` retires the driver (refused while a
    route in service names them)."""
    require(actor, Action.MANAGE_TRANSPORT, driver.school_id)
    driver = Driver.objects.select_for_update().get(pk=driver.pk)
    if changes.get("is_active") is False and driver.is_active:
        _refuse_if_used(
            driver,
            _(
                "%(name)s is the usual driver of %(routes)s: choose another driver for the "
                "route first."
            ),
        )
    today = today or sel.today_local()
    errors = v.FieldErrors()
    cleaned = clean_fields(errors, changes, _driver_cleaners(today))
    _check_health(errors, changes, cleaned, driver)
    errors.raise_if_any()
    save_changes(actor=actor, obj=driver, cleaned=cleaned, school_id=driver.school_id)
    return driver


@transaction.atomic
def driver_delete(*, actor, driver: Driver) -> None:
    """Delete a driver recorded by mistake: never one with trips, inspections or routes."""
    require(actor, Action.MANAGE_TRANSPORT, driver.school_id)
    _refuse_if_on_record(
        driver, _("%(name)s has trips, inspections or routes on record: retire them instead.")
    )
    audit_delete(actor=actor, obj=driver, school=driver.school_id)
    driver.delete()


# ------------------------------------------------------------------ violations


@transaction.atomic
def violation_add(
    *, actor, driver: Driver, occurred_on, description, points=0, today: dt.date | None = None
) -> DriverViolation:
    require(actor, Action.MANAGE_TRANSPORT, driver.school_id)
    today = today or sel.today_local()
    errors = v.FieldErrors()
    day = errors.run("occurred_on", clean_past_fleet_date, occurred_on, today=today, required=True)
    text = errors.run("description", v.clean_text, description, max_length=300, required=True)
    points_clean = errors.run("points", clean_points, points)
    errors.raise_if_any()
    violation = DriverViolation.objects.create(
        driver=driver,
        occurred_on=day,
        description=text,
        points=points_clean,
        created_by=acting_user(actor),
    )
    audit_create(actor=actor, obj=violation, school=driver.school_id)
    return violation


@transaction.atomic
def violation_delete(*, actor, violation: DriverViolation) -> None:
    school_id = violation.driver.school_id
    require(actor, Action.MANAGE_TRANSPORT, school_id)
    audit_delete(actor=actor, obj=violation, school=school_id)
    violation.delete()


# ------------------------------------------------------------------ daily reminder

REMINDER_EVENT = "transport.fleet_reminder"


def _document_line(name: str, document: sel.Document):
    params = {"name": name, "doc": document.label, "date": document.expires_on.isoformat()}
    if document.state == "expired":
        return _("%(name)s: %(doc)s expired on %(date)s."), params
    return (
        _("%(name)s: %(doc)s expires on %(date)s (in %(days)s day(s))."),
        {**params, "days": document.days},
    )


def _due(model, specs, today: dt.date):
    """Active records of active schools with a document expired or expiring in 30 days."""
    horizon = today + dt.timedelta(days=checks.EXPIRY_WARNING_DAYS)
    due = Q()
    for name, _label in specs:
        due |= Q(**{f"{name}__lte": horizon})
    return (
        model.objects.filter(due, is_active=True, school__is_active=True)
        .select_related("school")
        .order_by("school_id", "pk")
    )


def fleet_remind(*, now: dt.datetime | None = None) -> dict:
    """Tell each school's principal and security officers, once a day (the dedupe key
    carries the date), which documents of their buses and drivers in service have expired
    or run out within 30 days. One message per school listing them all. Returns
    {"schools": [ids told], "items": n}; a fixed number of queries."""
    from huxiao.notify.models import Notification
    from huxiao.notify.services import notify_send_many

    today = sel.today_local(now)
    stamp = today.isoformat()
    lines: dict[int, list[str]] = defaultdict(list)
    names: dict[int, str] = {}
    for model, documents in ((Bus, sel.bus_documents), (Driver, sel.driver_documents)):
        specs = sel.BUS_DOCUMENTS if model is Bus else sel.DRIVER_DOCUMENTS
        for obj in _due(model, specs, today):
            names[obj.school_id] = obj.school.name
            for document in documents(obj, today):
                if document.state in ("expired", "expiring"):
                    lines[obj.school_id].append(platform_text(*_document_line(str(obj), document)))
    keys = {school_id: f"{REMINDER_EVENT}:{school_id}:{stamp}" for school_id in lines}
    already = set(
        Notification.objects.filter(dedupe_key__in=keys.values()).values_list(
            "dedupe_key", flat=True
        )
    )
    fresh = sorted(school_id for school_id, key in keys.items() if key not in already)
    recipients = told_about(fresh, police_roles=())
    with transaction.atomic():
        notify_send_many(
            {
                "organizations": [school_id],
                "event_type": REMINDER_EVENT,
                "title": platform_text(
                    _("%(school)s: %(count)s school-bus document(s) expired or expiring"),
                    {"school": names[school_id], "count": len(lines[school_id])},
                ),
                "body": "\n".join(lines[school_id]),
                "payload": {"school_id": school_id, "date": stamp},
                "recipients": recipients[school_id],
                "dedupe_key": keys[school_id],
            }
            for school_id in fresh
        )
    return {"schools": fresh, "items": sum(len(lines[school_id]) for school_id in fresh)}
