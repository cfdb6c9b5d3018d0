"""Writes of police bus inspections and their findings (issue 8 item 6; §1 二(三), §2 12;
ADR 0031 "Inspections").

A police officer or commander (INSPECT_BUS on the bus's school: the schools of their
jurisdiction) records a check at the roadside: scheduled inspection or random spot check,
the bus found by its plate, the school following from the bus, the trip under way linked
by itself, the driver (the trip's or the usual route's unless chosen), what was seen.
`inspection_check` reads the input and derives the findings without writing anything (the
page shows them before saving); `inspection_record` writes the check and its findings.

Findings derived from what was seen (`derive_findings`):
- riders counted > the bus's approved seats → overloading ("核载19人，实载23人");
- speed > the limit (the posted one entered, else 60 km/h, the school-bus maximum off
  motorways, 《校车安全管理条例》 art. 35) → speeding;
- continuous driving > 240 minutes (4 h without a 20-minute rest, 《道路交通安全法实施条例》
  art. 62) → fatigue driving;
- no safety officer on board → its finding;
- the bus's or the driver's documents not valid on the day (`checks.bus_problems`,
  `checks.driver_problems`) or not shown valid at the check → expired documents, listing them;
- the school-bus markings (GB 24315) missing → markings;
- plus findings the officer adds by hand (other, with text). No finding: "no problem found".

Bad input is a ValidationError by field and writes nothing: riders counted above 3× the
seats or 200, a speed or limit above 200 km/h, driving minutes above 1440, a check time in
the future or before 1980, an unknown plate or a bus of another jurisdiction (the same
words), a driver of another school.

Follow-up (`finding_follow_up`, `finding_resolve`, `finding_send_back`): the school
(MANAGE_TRANSPORT) writes what it did by the deadline (7 days unless the officer set
another); the police of the jurisdiction (INSPECT_BUS) resolve the finding or send it back
with a reason (and a new deadline). A resolved finding takes no more follow-up or review
(`FindingRefused`, 409). `finding_make_hazard` turns a finding into a hazard of the school
through `hazard_report` (REPORT_HAZARD), once.

Notifications, sent after commit through `notify_send` (inbox pushed over the WebSocket, and
the school's channels): a check with findings → the school's principal and security
officers; an overload or a missing safety officer on a trip under way → also the station's
commanders; a follow-up → the inspector; a resolution or send-back → the school again.

Order of checks: the row through the actor's scope (404), the right (403), the state (409),
the input (400 by field). Every write is audited in its transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from huxiao.access.plates import clean_plate
from huxiao.audit.services import audit_create, audit_update, snapshot
from huxiao.core.names import acting_user, person_name
from huxiao.core.permissions import require
from huxiao.core.roles import POLICE_KINDS, Action
from huxiao.core.scoping import memberships_of
from huxiao.duty.duty_selectors import _id
from huxiao.hazards.hazard_services import clean_deadline
from huxiao.notify.services import notify_send
from huxiao.people import validation as v
from huxiao.security.dates import EARLIEST_DATE
from huxiao.transport import checks
from huxiao.transport import inspection_selectors as sel
from huxiao.transport.choices import FindingKind, FindingStatus, InspectionKind
from huxiao.transport.models import BusFinding, BusInspection, Driver
from huxiao.transport.notify import COMMANDERS, platform_text, told_about_one

MAX_RIDERS = 200
RIDERS_PER_SEAT = 3  # more than three children a seat is a typing mistake, not a count
MAX_SPEED = 200
# 《校车安全管理条例》 art. 35: 60 km/h off motorways (80 on them); used when no limit is given.
DEFAULT_SPEED_LIMIT = 60
MAX_DRIVING_MINUTES = 24 * 60
# 《道路交通安全法实施条例》 art. 62: four hours' driving needs a 20-minute rest.
FATIGUE_MINUTES = 240
FOLLOW_UP_DAYS = 7
MAX_OTHER_FINDINGS = 5
DETAIL_MAX = 300  # BusFinding.detail
LOCATION_MAX = 200
NOTES_MAX = 2000
ENTRY_MAX = 500  # one follow-up, send-back or resolution text
THREAD_MAX = 2000  # BusFinding.follow_up; the oldest entries give way (the audit keeps all)
# A phone's clock a little ahead of the server's is not "in the future".
CLOCK_SKEW = dt.timedelta(minutes=5)
FINDING_EVENT = "transport.bus_finding"
FOLLOW_UP_EVENT = "transport.bus_finding_follow_up"
REVIEW_EVENT = "transport.bus_finding_review"
# Findings on a trip under way that the station's commander hears about at once.
URGENT_KINDS = frozenset({FindingKind.OVERLOAD, FindingKind.NO_SAFETY_OFFICER})


class FindingRefused(ValidationError):
    """A step the finding's state does not allow (follow-up or review of a resolved
    finding, a second hazard). Pages and the API answer 409 with the message."""

    def __init__(self, message):
        super().__init__(message, code="transition")


# ------------------------------------------------------------------ field rules


def clean_inspected_at(value, *, now: dt.datetime) -> dt.datetime:
    """When the check took place: now when empty; not in the future, not before 1980."""
    if value in (None, ""):
        return now.replace(microsecond=0)
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError(
                _("Enter a date and time as YYYY-MM-DD HH:MM."), code="invalid"
            ) from None
    if not isinstance(value, dt.datetime):
        raise ValidationError(_("Enter a date and time as YYYY-MM-DD HH:MM."), code="invalid")
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > now + CLOCK_SKEW:
        raise ValidationError(_("The time of the check cannot be in the future."), code="future")
    # Compared as aware moments: no conversion, so no overflow near year 1.
    if value < timezone.make_aware(dt.datetime.combine(EARLIEST_DATE, dt.time())):
        raise ValidationError(
            _("The date cannot be before %(date)s.") % {"date": EARLIEST_DATE.isoformat()},
            code="too_early",
        )
    return value.replace(microsecond=0)


def clean_kind(value) -> str:
    if value in InspectionKind.values:
        return value
    raise ValidationError(_("Choose a scheduled inspection or a random spot check."), code="choice")


def _count(value, *, maximum: int, message) -> int | None:
    """A whole number from 0 to `maximum` (`message` outside), or None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 12 or not (text.isascii() and text.removeprefix("-").isdigit()):
            raise ValidationError(_("Enter a whole number."), code="invalid")
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(_("Enter a whole number."), code="invalid")
    if not 0 <= value <= maximum:
        raise ValidationError(message, code="range")
    return value


def clean_riders(value, *, seats: int | None) -> int | None:
    """Children counted on board: none (not counted) or 0 to 3× the seats, at most 200."""
    limit = MAX_RIDERS if seats is None else min(MAX_RIDERS, RIDERS_PER_SEAT * seats)
    return _count(
        value,
        maximum=limit,
        message=_("Count the riders again: from 0 to %(limit)s for a bus of %(seats)s seats.")
        % {"limit": limit, "seats": seats if seats is not None else "?"},
    )


def clean_speed(value) -> int | None:
    return _count(
        value,
        maximum=MAX_SPEED,
        message=_("Enter a speed from 0 to %(max)s km/h.") % {"max": MAX_SPEED},
    )


def clean_speed_limit(value) -> int | None:
    message = _("Enter a speed limit from 1 to %(max)s km/h.") % {"max": MAX_SPEED}
    limit = _count(value, maximum=MAX_SPEED, message=message)
    if limit == 0:
        raise ValidationError(message, code="range")
    return limit


def clean_minutes(value) -> int | None:
    return _count(
        value,
        maximum=MAX_DRIVING_MINUTES,
        message=_("Enter from 0 to %(max)s minutes (24 hours).") % {"max": MAX_DRIVING_MINUTES},
    )


def clean_other_findings(value) -> list[str]:
    """Findings added by hand: a list of texts or one text with one finding a line."""
    if value in (None, ""):
        return []
    items = value.splitlines() if isinstance(value, str) else list(value)
    texts = []
    for item in items:
        text = v.clean_text(item, max_length=DETAIL_MAX)
        if text and text not in texts:
            texts.append(text)
    if len(texts) > MAX_OTHER_FINDINGS:
        raise ValidationError(
            _("At most %(n)s other findings.") % {"n": MAX_OTHER_FINDINGS}, code="too_many"
        )
    return texts


def _clean_entry(value, *, required: bool) -> str:
    """One entry of the follow-up thread. A line may not pass for an entry's header."""
    text = v.clean_text(value, max_length=ENTRY_MAX, required=required)
    return "\n".join("［" + line[1:] if line.startswith("[") else line for line in text.split("\n"))


# ------------------------------------------------------------------ what was found


@dataclass(frozen=True)
class Found:
    kind: str
    detail: str

    @property
    def label(self) -> str:
        return str(FindingKind(self.kind).label)


@dataclass
class InspectionDraft:
    """A check read from the input, with its findings, before anything is written."""

    bus: object
    school: object
    trip: object
    driver: object
    station: object
    kind: str
    inspected_at: dt.datetime
    location: str
    riders_counted: int | None
    speed_kmh: int | None
    speed_limit_kmh: int | None
    driving_minutes: int | None
    safety_officer_present: bool
    markings_present: bool
    documents_ok: bool
    notes: str
    deadline: dt.date
    findings: list[Found] = field(default_factory=list)
    document_problems: list[str] = field(default_factory=list)


def document_problems(bus, driver, on: dt.date) -> list[str]:
    """What is not valid about the bus and its driver on the day (checks.py), in the
    active language."""
    problems = [message for _field, message in checks.bus_problems(bus, on)]
    if driver is not None:
        problems += [message for _field, message in checks.driver_problems(driver, on, bus=bus)]
    return [str(p) for p in problems]


def _stored_document_problems(bus, driver, on: dt.date) -> list[str]:
    """The same, in the platform's language: they go into a finding's stored text."""
    with translation.override(settings.LANGUAGE_CODE):
        return document_problems(bus, driver, on)


def derive_findings(
    *,
    seats: int,
    riders_counted: int | None = None,
    speed_kmh: int | None = None,
    speed_limit_kmh: int | None = None,
    driving_minutes: int | None = None,
    safety_officer_present: bool = True,
    markings_present: bool = True,
    documents_ok: bool = True,
    invalid_documents: list[str] = (),
    other: list[str] = (),
) -> list[Found]:
    """The findings what was seen amounts to, in a fixed order (the module's rules)."""
    with translation.override(settings.LANGUAGE_CODE):
        found = []
        if riders_counted is not None and riders_counted > seats:
            found.append(
                Found(
                    FindingKind.OVERLOAD,
                    str(_("%(seats)s seats approved, %(riders)s on board"))
                    % {"seats": seats, "riders": riders_counted},
                )
            )
        limit = speed_limit_kmh or DEFAULT_SPEED_LIMIT
        if speed_kmh is not None and speed_kmh > limit:
            found.append(
                Found(
                    FindingKind.SPEEDING,
                    str(_("%(speed)s km/h where %(limit)s km/h is allowed"))
                    % {"speed": speed_kmh, "limit": limit},
                )
            )
        if driving_minutes is not None and driving_minutes > FATIGUE_MINUTES:
            found.append(
                Found(
                    FindingKind.FATIGUE,
                    str(_("%(minutes)s minutes at the wheel without a rest (at most 240)"))
                    % {"minutes": driving_minutes},
                )
            )
        if not safety_officer_present:
            found.append(
                Found(FindingKind.NO_SAFETY_OFFICER, str(_("No safety officer on the bus.")))
            )
        if invalid_documents or not documents_ok:
            shown = list(invalid_documents) or [str(_("Documents not shown valid at the check."))]
            text = "；".join(p.rstrip("。.") for p in shown)
            found.append(Found(FindingKind.EXPIRED_DOCUMENTS, _clip(text + "。")))
        if not markings_present:
            found.append(
                Found(FindingKind.MARKINGS, str(_("No school-bus markings (GB 24315) on the bus.")))
            )
        found += [Found(FindingKind.OTHER, text) for text in other]
    return found


def _clip(text: str) -> str:
    return text if len(text) <= DETAIL_MAX else text[: DETAIL_MAX - 1] + "…"


# ------------------------------------------------------------------ reading the input


_DEFAULT = object()


def _driver(errors: v.FieldErrors, driver_id, school_id: int, default):
    """The chosen driver (of the bus's school), or the default when none is chosen."""
    if driver_id is _DEFAULT or driver_id in (None, ""):
        return default
    try:
        pk = _id(driver_id)
    except Http404:
        pk = None
    driver = Driver.objects.filter(pk=pk, school_id=school_id).first() if pk else None
    if driver is None:
        # The same words for another school's driver and an unknown id.
        errors.add("driver_id", _("Choose a driver of the bus's school."))
    return driver


def _station_of(actor, school):
    """The police organization through which the actor inspects the school."""
    for membership in memberships_of(actor):
        org = membership.organization
        if org.kind in POLICE_KINDS and org.pk in (school.police_station_id, school.police_post_id):
            return org
    return None


def _bus(errors: v.FieldErrors, actor, plate):
    bus = sel.bus_by_plate(actor=actor, plate=plate)
    if bus is None:
        try:
            clean_plate(plate)
        except ValidationError as exc:
            errors.add("plate", exc.messages[0])
        else:
            # The same words for a bus of another jurisdiction and an unknown plate.
            errors.add("plate", _("No school bus with this plate among the schools you inspect."))
    return bus


def inspection_check(
    *,
    actor,
    plate,
    kind=InspectionKind.RANDOM,
    inspected_at=None,
    driver_id=_DEFAULT,
    location="",
    riders_counted=None,
    speed_kmh=None,
    speed_limit_kmh=None,
    driving_minutes=None,
    safety_officer_present=True,
    markings_present=True,
    documents_ok=True,
    other_findings=(),
    notes="",
    deadline=None,
    now: dt.datetime | None = None,
) -> InspectionDraft:
    """Read a check and derive its findings; writes nothing. 403 without INSPECT_BUS
    anywhere; every problem with the input is a ValidationError by field."""
    now = now or timezone.now()
    if not sel.may_inspect(actor):
        raise PermissionDenied(_("Only the police of the school's jurisdiction inspect buses."))
    errors = v.FieldErrors()
    kind = errors.run("kind", clean_kind, kind)
    at = errors.run("inspected_at", clean_inspected_at, inspected_at, now=now)
    bus = _bus(errors, actor, plate)
    seats = bus.seats if bus is not None else None
    riders = errors.run("riders_counted", clean_riders, riders_counted, seats=seats)
    speed = errors.run("speed_kmh", clean_speed, speed_kmh)
    limit = errors.run("speed_limit_kmh", clean_speed_limit, speed_limit_kmh)
    minutes = errors.run("driving_minutes", clean_minutes, driving_minutes)
    flags = {
        name: errors.run(name, v.clean_required_bool, value)
        for name, value in (
            ("safety_officer_present", safety_officer_present),
            ("markings_present", markings_present),
            ("documents_ok", documents_ok),
        )
    }
    place = errors.run("location", v.clean_text, location, max_length=LOCATION_MAX)
    text = errors.run("notes", v.clean_text, notes, max_length=NOTES_MAX)
    other = errors.run("other_findings", clean_other_findings, other_findings)
    due = errors.run("deadline", clean_deadline, deadline, now=now)
    trip = driver = None
    if bus is not None:
        require(actor, Action.INSPECT_BUS, bus.school_id)
        trip = sel.trip_under_way(bus, at or now)
        driver = _driver(errors, driver_id, bus.school_id, sel.default_driver(bus, trip))
    errors.raise_if_any()
    day = timezone.localtime(at).date()
    problems = document_problems(bus, driver, day)
    return InspectionDraft(
        bus=bus,
        school=bus.school,
        trip=trip,
        driver=driver,
        station=_station_of(actor, bus.school),
        kind=kind,
        inspected_at=at,
        location=place,
        riders_counted=riders,
        speed_kmh=speed,
        speed_limit_kmh=limit,
        driving_minutes=minutes,
        notes=text,
        deadline=due or sel.local_today(now) + dt.timedelta(days=FOLLOW_UP_DAYS),
        document_problems=problems,
        findings=derive_findings(
            seats=bus.seats,
            riders_counted=riders,
            speed_kmh=speed,
            speed_limit_kmh=limit,
            driving_minutes=minutes,
            invalid_documents=_stored_document_problems(bus, driver, day),
            other=other,
            **flags,
        ),
        **flags,
    )


# ------------------------------------------------------------------ recording a check


@transaction.atomic
def inspection_record(*, actor, now: dt.datetime | None = None, **fields) -> BusInspection:
    """Record a check and its findings (see `inspection_check` for the fields) and tell the
    school (and, for an overload or a missing safety officer on a trip under way, the
    station's commanders)."""
    now = now or timezone.now()
    draft = inspection_check(actor=actor, now=now, **fields)
    inspection = BusInspection.objects.create(
        school=draft.school,
        bus=draft.bus,
        trip=draft.trip,
        driver=draft.driver,
        kind=draft.kind,
        inspected_at=draft.inspected_at,
        location=draft.location,
        inspector=acting_user(actor),
        station=draft.station,
        riders_counted=draft.riders_counted,
        seats=draft.bus.seats,
        speed_kmh=draft.speed_kmh,
        speed_limit_kmh=draft.speed_limit_kmh,
        driving_minutes=draft.driving_minutes,
        safety_officer_present=draft.safety_officer_present,
        documents_ok=draft.documents_ok and not draft.document_problems,
        notes=draft.notes,
    )
    audit_create(actor=actor, obj=inspection)
    for found in draft.findings:
        finding = BusFinding.objects.create(
            inspection=inspection, kind=found.kind, detail=found.detail, deadline=draft.deadline
        )
        audit_create(actor=actor, obj=finding, school=draft.school.pk)
    if draft.findings:
        _tell_about_findings(actor, inspection, draft)
    return inspection


def school_leads(school_id: int) -> list[int]:
    """The school's principals and security officers, who hear about findings."""
    return told_about_one(school_id, police_roles=())


def station_commanders(school) -> list[int]:
    """The commanders of the school's police station (not its campus post)."""
    return told_about_one(school, school_roles=(), police_roles=COMMANDERS, posts=False)


def _findings_text(findings) -> str:
    return "；".join(f"{f.label}：{f.detail}" if f.detail else f.label for f in findings)


def _tell_about_findings(actor, inspection: BusInspection, draft: InspectionDraft) -> None:
    school = draft.school
    params = {"plate": draft.bus.plate, "school": school.name}
    with translation.override(settings.LANGUAGE_CODE):
        body = _findings_text(draft.findings)
    payload = {
        "inspection_id": inspection.pk,
        "school_id": school.pk,
        "bus_id": draft.bus.pk,
        "kinds": [f.kind for f in draft.findings],
    }
    notify_send(
        organizations=[school.pk],
        event_type=FINDING_EVENT,
        title=platform_text(
            _("School bus %(plate)s of %(school)s: problems found at a check"), params
        ),
        body=body,
        payload=payload,
        recipients=school_leads(school.pk),
        dedupe_key=f"{FINDING_EVENT}.{inspection.pk}",
    )
    urgent = [f for f in draft.findings if f.kind in URGENT_KINDS]
    if urgent and draft.trip is not None:
        commanders = [pk for pk in station_commanders(school) if pk != getattr(actor, "pk", None)]
        if commanders:
            with translation.override(settings.LANGUAGE_CODE):
                urgent_body = _findings_text(urgent)
            notify_send(
                organizations=[school.police_station_id],
                event_type=FINDING_EVENT,
                title=platform_text(
                    _("School bus %(plate)s of %(school)s on a trip: children at risk"), params
                ),
                body=urgent_body,
                payload={**payload, "trip_id": draft.trip.pk},
                recipients=commanders,
                dedupe_key=f"{FINDING_EVENT}.{inspection.pk}.station",
            )


# ------------------------------------------------------------------ follow-up


def _render(entries) -> str:
    return "\n\n".join(
        f"[{e.kind} {e.at or '-'} #{e.user_id or ''}] {e.name}".rstrip()
        + (f"\n{e.text}" if e.text else "")
        for e in entries
    )


def _append(thread: str, *, kind: str, actor, text: str, now: dt.datetime) -> str:
    """The thread with one more entry; the oldest entries give way beyond THREAD_MAX (the
    audit trail keeps every version)."""
    user = acting_user(actor)
    entries = [
        *sel.followup_entries(thread),
        sel.FollowUpEntry(
            kind=kind,
            at=timezone.localtime(now).strftime("%Y-%m-%d %H:%M"),
            user_id=user.pk if user else None,
            name=person_name(user)[:50],
            text=text,
        ),
    ]
    rendered = _render(entries)
    while len(rendered) > THREAD_MAX and len(entries) > 1:
        entries = entries[1:]
        rendered = _render(entries)
    return rendered


def _lock_finding(actor, finding_id) -> BusFinding:
    """The finding's row, locked, if the actor may see it; otherwise "not found"."""
    finding = (
        BusFinding.objects.visible_to(actor, Action.VIEW)
        .select_for_update(of=("self",))
        .select_related("inspection__school", "inspection__bus", "inspection__inspector")
        .filter(pk=_id(finding_id))
        .first()
    )
    if finding is None:
        raise Http404
    return finding


def _begin(actor, finding_id, action: str) -> BusFinding:
    """The open finding, locked: out of scope 404, without `action` 403, resolved 409."""
    finding = _lock_finding(actor, finding_id)
    require(actor, action, finding.inspection.school_id)
    if finding.status != FindingStatus.OPEN:
        raise FindingRefused(_("This finding has already been resolved."))
    return finding


def _save(actor, finding: BusFinding, before: dict, fields: list[str]) -> None:
    finding.save(update_fields=fields)
    audit_update(actor=actor, obj=finding, before=before, school=finding.inspection.school_id)


def _tell(
    finding: BusFinding, *, event: str, title, body, recipients, actor, params: dict | None = None
) -> None:
    """An inbox message about one finding, never to the person who made the change."""
    inspection = finding.inspection
    others = [pk for pk in recipients if pk != getattr(actor, "pk", None)]
    if not others:
        return
    values = {
        "plate": inspection.bus.plate,
        "school": inspection.school.name,
        "finding": platform_text(FindingKind(finding.kind).label),
        **(params or {}),
    }
    notify_send(
        organizations=[],
        event_type=event,
        title=platform_text(title, values),
        body=platform_text(body, values),
        payload={
            "finding_id": finding.pk,
            "inspection_id": inspection.pk,
            "school_id": inspection.school_id,
        },
        recipients=others,
    )


def _police_of(finding: BusFinding) -> list[int]:
    """Who reviews a follow-up: the inspector, else the station's commanders."""
    inspection = finding.inspection
    if inspection.inspector_id is not None:
        return [inspection.inspector_id]
    return station_commanders(inspection.school)


@transaction.atomic
def finding_follow_up(*, actor, finding_id, text, now: dt.datetime | None = None) -> BusFinding:
    """The school says what it did about a finding (MANAGE_TRANSPORT); the police review."""
    now = now or timezone.now()
    finding = _begin(actor, finding_id, Action.MANAGE_TRANSPORT)
    errors = v.FieldErrors()
    cleaned = errors.run("text", _clean_entry, text, required=True)
    errors.raise_if_any()
    before = snapshot(finding)
    finding.follow_up = _append(
        finding.follow_up, kind=sel.ENTRY_SCHOOL, actor=actor, text=cleaned, now=now
    )
    _save(actor, finding, before, ["follow_up"])
    _tell(
        finding,
        event=FOLLOW_UP_EVENT,
        title=_("%(school)s followed up a finding on bus %(plate)s"),
        body=_("%(finding)s: review the follow-up, then resolve it or send it back."),
        recipients=_police_of(finding),
        actor=actor,
    )
    return finding


@transaction.atomic
def finding_resolve(*, actor, finding_id, note="", now: dt.datetime | None = None) -> BusFinding:
    """The police of the jurisdiction (INSPECT_BUS) close a finding, with an optional note."""
    now = now or timezone.now()
    finding = _begin(actor, finding_id, Action.INSPECT_BUS)
    errors = v.FieldErrors()
    cleaned = errors.run("note", _clean_entry, note, required=False)
    errors.raise_if_any()
    before = snapshot(finding)
    finding.status = FindingStatus.RESOLVED
    finding.resolved_at = now
    finding.resolved_by = acting_user(actor)
    fields = ["status", "resolved_at", "resolved_by"]
    if cleaned:
        finding.follow_up = _append(
            finding.follow_up, kind=sel.ENTRY_RESOLVED, actor=actor, text=cleaned, now=now
        )
        fields.append("follow_up")
    _save(actor, finding, before, fields)
    _tell(
        finding,
        event=REVIEW_EVENT,
        title=_("Finding on bus %(plate)s resolved"),
        body=_("%(finding)s: the police have resolved it."),
        recipients=school_leads(finding.inspection.school_id),
        actor=actor,
    )
    return finding


@transaction.atomic
def finding_send_back(
    *, actor, finding_id, reason, deadline=None, now: dt.datetime | None = None
) -> BusFinding:
    """The police find the school's follow-up not enough: back to the school with the
    reason and a deadline (the given one; else the current one if still ahead, else
    FOLLOW_UP_DAYS from today)."""
    now = now or timezone.now()
    finding = _begin(actor, finding_id, Action.INSPECT_BUS)
    if sel.finding_state(finding) != sel.AWAITING_REVIEW:
        raise FindingRefused(_("The school has not written a follow-up to send back."))
    errors = v.FieldErrors()
    cleaned = errors.run("reason", _clean_entry, reason, required=True)
    due = errors.run("deadline", clean_deadline, deadline, now=now)
    errors.raise_if_any()
    today = sel.local_today(now)
    if due is None:
        current = finding.deadline
        due = current if current and current >= today else today + dt.timedelta(FOLLOW_UP_DAYS)
    before = snapshot(finding)
    finding.follow_up = _append(
        finding.follow_up, kind=sel.ENTRY_RETURNED, actor=actor, text=cleaned, now=now
    )
    finding.deadline = due
    _save(actor, finding, before, ["follow_up", "deadline"])
    _tell(
        finding,
        event=REVIEW_EVENT,
        title=_("Finding on bus %(plate)s sent back"),
        body=_("%(finding)s: %(reason)s (correct by %(deadline)s)"),
        recipients=school_leads(finding.inspection.school_id),
        actor=actor,
        params={"reason": cleaned, "deadline": due.isoformat()},
    )
    return finding


@transaction.atomic
def finding_make_hazard(*, actor, finding_id, now: dt.datetime | None = None):
    """Register the finding as a hazard of the school (REPORT_HAZARD), once; the hazard
    follows its own rectification from there. Returns the hazard."""
    from huxiao.hazards.choices import HazardCategory, HazardLevel
    from huxiao.hazards.hazard_services import hazard_report

    now = now or timezone.now()
    finding = _lock_finding(actor, finding_id)
    inspection = finding.inspection
    require(actor, Action.REPORT_HAZARD, inspection.school_id)
    if finding.hazard_id is not None:
        raise FindingRefused(_("A hazard has already been raised from this finding."))
    today = sel.local_today(now)
    with translation.override(settings.LANGUAGE_CODE):
        title = str(_("School bus %(plate)s: %(finding)s")) % {
            "plate": inspection.bus.plate,
            "finding": FindingKind(finding.kind).label,
        }
        params = {
            "detail": finding.detail or FindingKind(finding.kind).label,
            "at": timezone.localtime(inspection.inspected_at).strftime("%Y-%m-%d %H:%M"),
            "place": inspection.location,
        }
        if inspection.location:
            description = str(_("%(detail)s (bus check at %(place)s, %(at)s)")) % params
        else:
            description = str(_("%(detail)s (bus check, %(at)s)")) % params
    hazard = hazard_report(
        actor=actor,
        school=inspection.school,
        category=HazardCategory.TRAFFIC,
        level=HazardLevel.GENERAL,
        title=title[:200],
        description=description,
        deadline=finding.deadline if finding.deadline and finding.deadline >= today else None,
        now=now,
    )
    before = snapshot(finding)
    finding.hazard = hazard
    _save(actor, finding, before, ["hazard"])
    return hazard
