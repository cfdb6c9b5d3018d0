"""Writes of the gate's visitors (issue 5, ADR 0023): check-in with screening, check-out,
pre-registration with a QR invitation, badges, the school's blocklist, the overstay flag
and the retention purge.

Screening. A check-in is validated completely before anything is written. Then the
visitor is screened against the police register (`intel.services.screen_person`, which
records its own hits and alerts the register's station in its own transaction, *before*
ours: a later failure of the check-in must never erase the police's record) and against
the school's `BlockedVisitor` list. Either hit gives the same outcome, "hold": no badge,
the visit is not "inside", the guard is told only to wait and call the duty leader, and
the duty leaders get one silent alert that is identical for both lists. A register hit
also sends the police of the school's station the visitor's details.

Every write is atomic and audited in the same transaction; notifications and pushes go out
after commit. Services take `now=` so that tests and the periodic jobs control the clock.
"""

from __future__ import annotations

import datetime as dt
import logging
import re

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from huxiao.access import codes, gate_sql
from huxiao.access.choices import (
    HoldResolution,
    RefusalReason,
    Screening,
    VisitPurpose,
    VisitStatus,
)
from huxiao.access.models import BlockedVisitor, GateSettings, Visit
from huxiao.access.photos import seal
from huxiao.audit.models import AuditAction
from huxiao.audit.services import audit_create, audit_record, audit_update, snapshot
from huxiao.core import crypto
from huxiao.core.events import groups_for_school, publish_on_commit
from huxiao.core.idcard import validate_id_number
from huxiao.core.names import acting_user
from huxiao.core.permissions import require
from huxiao.core.roles import Action, Role
from huxiao.core.scoping import can, memberships_of
from huxiao.people import validation as v
from huxiao.people.models import Staff

logger = logging.getLogger(__name__)

# The only thing the gate is told on a hold, whatever matched (ADR 0023).
HOLD_INSTRUCTION = _("Please wait, call the duty leader")
# What the gate's lists show for a held visitor: no reason, only who decides.
HOLD_WAITING = _("Waiting for the duty leader")
# Who decides on a held visitor: the school's roles that receive the hold alert. Not the
# guard: the guard must never learn why a visitor was held (ADR 0023, addendum).
HOLD_RESOLVER_ROLES = frozenset({Role.DUTY_LEADER, Role.PRINCIPAL, Role.SECURITY_OFFICER})
HOLD_DETAILS_EVENT = "access.visit_hold_details"
# A screener whose check-ins end in a hold more than HOLD_BURST_LIMIT times within
# HOLD_BURST_SECONDS may be probing the register with made-up ID numbers (ADR 0023,
# addendum on probing): their check-ins pause for HOLD_BURST_SECONDS and the station is told.
HOLD_BURST_LIMIT = 5
HOLD_BURST_SECONDS = 600
SCREENING_UNUSUAL_EVENT = "access.screening_unusual"
SCREENING_PAUSED = _(
    "Too many of your check-ins were held in a short time: check-ins are paused for you. "
    "Please contact the police station."
)
# Notifications about gate records (their bodies name visitors, adults and children) go
# with the records at the end of the retention period.
GATE_EVENT_PREFIXES = ("access.", "pickup.")
MAX_HOLD_NOTE = 500
VISIT_CHANGED = "access.visit_changed"
MAX_INVITE_DAYS_AHEAD = 30
# Every area of the gate has a `purge_before(school, cutoff) -> int` (its rows deleted);
# the nightly purge calls each in turn, in one transaction per school.
PURGE_FUNCTIONS: list[str] = [
    "huxiao.access.visitor_services.purge_before",
    "huxiao.access.pass_retention.purge_before",
    "huxiao.access.pickup_retention.purge_before",
]


class VisitRefused(ValidationError):
    """A gate action refused for a reason the guard must read (already inside, invitation
    already used, badge unknown). `reason_code` names it."""

    def __init__(self, message, code: str, field: str = "__all__"):
        super().__init__({field: [message]})
        self.reason_code = code
        self.reason = message


# ------------------------------------------------------------------ time helpers


def local_now(now: dt.datetime | None = None) -> dt.datetime:
    return timezone.localtime(now or timezone.now())


def aware(day: dt.date, time: dt.time) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, time), timezone.get_current_timezone())


def end_of_day(day: dt.date) -> dt.datetime:
    return aware(day, dt.time(23, 59, 59))


def badge_expiry(school, now: dt.datetime) -> dt.datetime:
    """The school's closing time today; after closing, the end of the day."""
    local = local_now(now)
    closing = aware(local.date(), _closing_time(school))
    return closing if local < closing else end_of_day(local.date())


_SETTINGS_OF_SCHOOL = GateSettings._meta.get_field("school").remote_field
_DEFAULT_CLOSING_TIME = GateSettings._meta.get_field("closing_time").get_default()


def gate_settings_of(school) -> GateSettings:
    """The school's gate rules, without a query when the school was read with its rules
    (as `visitor_selectors.gate_school` does)."""
    if _SETTINGS_OF_SCHOOL.is_cached(school):
        found = _SETTINGS_OF_SCHOOL.get_cached_value(school)
        return found if found is not None else GateSettings(school=school)
    return GateSettings.for_school(school)


def _closing_time(school) -> dt.time:
    # A school keeping the defaults has no row: its closing time without building one.
    if _SETTINGS_OF_SCHOOL.is_cached(school) and not _SETTINGS_OF_SCHOOL.get_cached_value(school):
        return _DEFAULT_CLOSING_TIME
    return gate_settings_of(school).closing_time


# ------------------------------------------------------------------ codes of a visit


def badge_text(visit: Visit) -> str:
    """The badge's QR text (deterministic: rebuilt from the stored serial and expiry)."""
    return codes.make(
        codes.BADGE, visit.school_id, visit.badge_code, codes.expiry_stamp(visit.badge_expires_at)
    )


def invitation_text(visit: Visit) -> str:
    return codes.make(
        codes.INVITATION,
        visit.school_id,
        visit.invitation_code,
        codes.expiry_stamp(end_of_day(visit.expected_on)),
    )


def refusal_message(reason: str) -> str:
    return str(RefusalReason(reason).label)


# ------------------------------------------------------------------ validation


def _require_gate(actor, school) -> None:
    require(actor, Action.REGISTER_VISITOR, school.pk)


def _clean_purpose(value) -> str:
    text = str(value or "").strip()
    if text in VisitPurpose.values:
        return text
    for code, label in VisitPurpose.choices:
        if text == str(label):
            return code
    raise ValidationError(_("Choose the purpose of the visit."), code="choice")


HOST_REQUIRED = _("Choose a staff member of this school as host.")


def _host_pk(value) -> int:
    """The host as sent: a primary key (whether it names an active staff member of the
    school is checked against the database by the caller)."""
    try:
        pk = int(str(value or "").strip())
    except ValueError:
        pk = None
    if pk is None or not 0 < pk < 2**63:
        raise ValidationError(HOST_REQUIRED, code="host")
    return pk


def _clean_host(school, value) -> int:
    """The primary key of an active staff member of `school` (one indexed lookup, no
    ordering, no row loaded)."""
    pk = _host_pk(value)
    if not Staff.objects.filter(school=school, pk=pk, is_active=True).exists():
        raise ValidationError(HOST_REQUIRED, code="host")
    return pk


def _clean_photo(data):
    if not data:
        return "", ""
    return seal(data)


def _inside_since(school, id_hash: str) -> dt.datetime | None:
    """When the person with this ID hash checked in, if they are inside at the school
    (at most one row: the one-inside constraint; one column, no ordering)."""
    if not id_hash:
        return None
    # `~Q(id_number_hash="")` repeats the condition of the one-inside constraint's partial
    # index so that the database searches that index instead of scanning every visitor
    # inside the school (SQLite uses a partial index only when the query implies its WHERE).
    found = list(
        Visit.objects.filter(
            ~Q(id_number_hash=""), school=school, status=VisitStatus.INSIDE, id_number_hash=id_hash
        )
        .order_by()
        .values_list("checked_in_at", flat=True)[:1]
    )
    return found[0] if found else None


def _duplicate_message(checked_in_at: dt.datetime) -> str:
    return gettext("This person is already inside (checked in at %(time)s).") % {
        "time": local_now(checked_in_at).strftime("%H:%M")
    }


def _actor_label(actor) -> str:
    if getattr(actor, "is_device", False):
        return str(actor)[:150]
    return actor.get_username()[:150]


# ------------------------------------------------------------------ invitations


def invitation_visit(*, actor, school, text, now: dt.datetime | None = None) -> Visit:
    """The expected visit an invitation QR stands for, or VisitRefused with the reason
    (forged, another school, expired, not today, already used, unknown)."""
    _require_gate(actor, school)
    now = now or timezone.now()
    try:
        # Expiry is checked last: "already used" tells the guard more than "expired".
        code = codes.verify(text, kinds={codes.INVITATION}, school_id=school.pk, expires=False)
    except codes.CodeRefused as exc:
        raise VisitRefused(refusal_message(exc.reason), exc.reason, "code") from None
    visit = Visit.objects.filter(school=school, invitation_code=code.ident).first()
    if visit is None:
        raise VisitRefused(refusal_message(RefusalReason.UNKNOWN), RefusalReason.UNKNOWN, "code")
    # One-time: a screened or cancelled invitation was used.
    if visit.status != VisitStatus.EXPECTED or visit.screening:
        raise VisitRefused(refusal_message(RefusalReason.REPLAYED), RefusalReason.REPLAYED, "code")
    if code.stamp < codes.expiry_stamp(now):
        raise VisitRefused(refusal_message(RefusalReason.EXPIRED), RefusalReason.EXPIRED, "code")
    if visit.expected_on and visit.expected_on > local_now(now).date():
        raise VisitRefused(
            refusal_message(RefusalReason.NOT_YET_VALID), RefusalReason.NOT_YET_VALID, "code"
        )
    return visit


# ------------------------------------------------------------------ check-in


def visit_check_in(
    *,
    actor,
    school,
    name,
    id_number,
    phone,
    purpose,
    host,
    purpose_note="",
    items="",
    photo: bytes | None = None,
    invitation: str | None = None,
    now: dt.datetime | None = None,
) -> Visit:
    """Check a visitor in at `school`'s gate; returns the visit with `screening` set.

    Clear: the visit is "inside" with a badge valid until closing time. Hold: no badge,
    the visit stays at the gate (status "expected", screening "hold"), and the alerts go
    out. `invitation`: the scanned QR of a pre-registered visit, which this uses up.
    A screener whose check-ins were held too often lately is refused (`SCREENING_PAUSED`).
    """
    _require_gate(actor, school)
    if _screening_paused(actor, school):
        raise VisitRefused(SCREENING_PAUSED, "screening_paused")
    now = now or timezone.now()
    errors = v.FieldErrors()
    cleaned = {
        "name": errors.run("name", v.clean_name, name),
        "id_number": errors.run("id_number", v.clean_id_number, id_number, required=True),
        "phone": errors.run("phone", v.clean_phone, phone, required=True),
        "purpose": errors.run("purpose", _clean_purpose, purpose),
        "purpose_note": errors.run("purpose_note", v.clean_text, purpose_note, max_length=200),
        "items": errors.run("items", v.clean_text, items, max_length=200),
        "host": errors.run("host", _host_pk, host),
        "photo": errors.run("photo", _clean_photo, photo),
    }
    invited = None
    if invitation:
        try:
            invited = invitation_visit(actor=actor, school=school, text=invitation, now=now)
        except VisitRefused as exc:
            errors.add("invitation", exc.reason)
    id_hash = crypto.lookup_hash(cleaned["id_number"]) if cleaned["id_number"] else ""
    # The host, "already inside" and the blocklist in one statement (ADR 0022).
    facts = gate_sql.check_in_facts(school_id=school.pk, host_id=cleaned["host"], id_hash=id_hash)
    if cleaned["host"] is not None and not facts.host_active:
        errors.add("host", HOST_REQUIRED)
    inside_since = _inside_since(school, id_hash) if facts.inside else None
    if inside_since is not None:
        errors.add("id_number", _duplicate_message(inside_since))
    errors.raise_if_any()

    # Screening first, outside our transaction: the register's hold writes (hits, audit,
    # the police's alert) must survive whatever happens to the check-in below.
    from huxiao.intel.services import screen_person

    register_hold = screen_person(
        actor=actor, school=school, id_number=cleaned["id_number"], name=cleaned["name"], now=now
    ).is_hold
    hold = register_hold or facts.blocked

    # A new visit and its audit row are made ready before the transaction, which then holds
    # two statements (on SQLite, the write lock every other check-in waits for; ADR 0022).
    new = None
    if invited is None:
        visit = Visit(school=school)
        _fill_check_in(visit, actor=actor, school=school, cleaned=cleaned, hold=hold, now=now)
        new = gate_sql.prepare_created(actor=actor, obj=visit)
    try:
        with transaction.atomic():
            if new is not None:
                visit = gate_sql.insert_created(new)
            else:
                visit = _save_invited_check_in(
                    actor=actor, school=school, cleaned=cleaned, invited=invited, hold=hold, now=now
                )
            _publish(visit)
            if hold:
                _alert_hold(visit=visit, register_hold=register_hold, actor=actor, now=now)
    except IntegrityError:
        # Another guard checked the same person in at the same moment (the constraint).
        inside_since = _inside_since(school, id_hash)
        if inside_since is None:
            raise
        raise VisitRefused(_duplicate_message(inside_since), "duplicate", "id_number") from None
    if hold:
        try:
            _count_hold(actor=actor, school=school, now=now)
        except Exception as exc:  # noqa: BLE001 - the visit and its alerts are committed
            logger.warning("hold not counted toward the screening pause: %r", exc)
    return visit


def _save_invited_check_in(*, actor, school, cleaned, invited, hold, now) -> Visit:
    # One-time: re-read the invitation under a row lock. Screening ran between the first
    # check and now; a second guard may have used the same QR meanwhile.
    locked = Visit.objects.select_for_update().filter(pk=invited.pk).first()
    if locked is None or locked.status != VisitStatus.EXPECTED or locked.screening:
        raise VisitRefused(
            refusal_message(RefusalReason.REPLAYED), RefusalReason.REPLAYED, "invitation"
        )
    before = snapshot(locked)
    _fill_check_in(locked, actor=actor, school=school, cleaned=cleaned, hold=hold, now=now)
    locked.save()
    audit_update(actor=actor, obj=locked, before=before)
    return locked


def _fill_check_in(visit: Visit, *, actor, school, cleaned, hold, now) -> None:
    """The check-in's fields on a new visit or an invited one (which keeps its own purpose
    note when the gate gave none)."""
    visit.name = cleaned["name"]
    visit.set_id_number(cleaned["id_number"])
    visit.phone = cleaned["phone"]
    visit.purpose = cleaned["purpose"]
    visit.purpose_note = cleaned["purpose_note"] or visit.purpose_note
    visit.items = cleaned["items"]
    visit.host_id = cleaned["host"]
    if cleaned["photo"][0]:
        visit.photo_encrypted, visit.photo_content_type = cleaned["photo"]
    visit.checked_in_at = now
    visit.checked_in_by = acting_user(actor)
    visit.checked_in_by_label = _actor_label(actor)
    if hold:
        visit.screening = Screening.HOLD
        visit.status = VisitStatus.EXPECTED
        visit.badge_code = None
        visit.badge_expires_at = None
    else:
        visit.screening = Screening.CLEAR
        visit.status = VisitStatus.INSIDE
        visit.badge_code = codes.new_serial()
        visit.badge_expires_at = badge_expiry(school, now)


# ------------------------------------------------------------------ probing the register


def _screener_key(actor, school) -> str:
    who = f"d{actor.device_id}" if getattr(actor, "is_device", False) else f"u{actor.pk}"
    return f"access:holds:{school.pk}:{who}"


def _screening_paused(actor, school) -> bool:
    # The pause keeps one screener from probing the register; every check-in is screened
    # and held whatever the cache says, so with the cache away (scale mode's Redis
    # restarting) the gate goes on without the pause rather than stopping.
    try:
        return bool(cache.get(_screener_key(actor, school) + ":paused"))
    except Exception as exc:  # noqa: BLE001 - any cache failure
        logger.warning("screening pause unreadable, check-in goes on: %r", exc)
        return False


def _count_hold(*, actor, school, now: dt.datetime) -> None:
    """Count a hold of this screener; past the limit, pause their check-ins and tell the
    school's station once. Both lists count alike: the pause says nothing of which matched."""
    key = _screener_key(actor, school)
    held = 1
    for _attempt in range(3):
        # add + incr: atomic in LocMem and Redis, so concurrent check-ins lose no count.
        cache.add(key, 0, HOLD_BURST_SECONDS)
        try:
            held = cache.incr(key)
            break
        except ValueError:  # expired between add and incr: count again
            continue
    if held <= HOLD_BURST_LIMIT:
        return
    if cache.add(key + ":paused", 1, HOLD_BURST_SECONDS):
        _alert_unusual_screening(actor=actor, school=school, held=held, now=now)


def _alert_unusual_screening(*, actor, school, held: int, now: dt.datetime) -> None:
    """The station's register users (and its duty channels: the police are the intended
    readers) learn who screened so many held visitors; never the school's channels."""
    from huxiao.core.names import actor_label
    from huxiao.intel import rules
    from huxiao.notify.services import notify_send

    station_id = school.police_station_id
    if not station_id:
        logger.warning("unusual screening at school %s: no police station to tell", school.pk)
        return
    details = {
        "school": school.name,
        "by": actor_label(actor),
        "count": held,
        "minutes": HOLD_BURST_SECONDS // 60,
        "time": local_now(now).strftime("%H:%M"),
    }

    def build():
        return (
            gettext("Unusual screening at the gate: %(school)s") % details,
            gettext(
                "By %(time)s, %(by)s of %(school)s had checked in %(count)s visitors who were "
                "held within %(minutes)s minutes. Their check-ins are paused for "
                "%(minutes)s minutes. Someone may be testing ID numbers against the register."
            )
            % details,
        )

    title, body = _in_default_language(build)
    notify_send(
        organizations=[station_id],
        event_type=SCREENING_UNUSUAL_EVENT,
        title=title,
        body=body,
        payload={"school_id": school.pk, "by": details["by"]},
        recipients=list(rules.register_members(station_id).values_list("pk", flat=True)),
        dedupe_key=f"access.screening.unusual:{_screener_key(actor, school)}:"
        f"{now.timestamp() // HOLD_BURST_SECONDS:.0f}",
    )


def _publish(visit: Visit) -> None:
    # Ids only: a page refreshes from the database; the screening is not in the event.
    publish_on_commit(
        groups_for_school(visit.school),
        VISIT_CHANGED,
        {"visit_id": visit.pk, "school_id": visit.school_id},
    )


# ------------------------------------------------------------------ alerts


def duty_leaders(school) -> list:
    """The school's duty leaders; without any, its principal and security officers (a hold
    must reach someone who can walk to the gate)."""
    from django.contrib.auth import get_user_model

    from huxiao.orgs.models import Membership

    def users(roles):
        memberships = Membership.objects.filter(
            organization=school, role__in=roles, is_active=True
        ).values("user_id")
        return list(get_user_model().objects.filter(pk__in=memberships, is_active=True))

    return users([Role.DUTY_LEADER]) or users([Role.PRINCIPAL, Role.SECURITY_OFFICER])


def _in_default_language(build):
    with translation.override(settings.LANGUAGE_CODE):
        return build()


def _visitor_line(visit: Visit, now: dt.datetime) -> dict:
    return {
        "name": visit.name,
        "phone": visit.phone,
        "id": visit.id_number_masked,
        "time": local_now(now).strftime("%H:%M"),
        "school": visit.school.name,
    }


def _alert_hold(*, visit: Visit, register_hold: bool, actor, now: dt.datetime) -> None:
    """Silent alerts (inbox + live push, after commit). The duty leader's is the same for
    both lists: a school role never learns that the register matched.

    Silent means to the people named, never to the school's channels (a WeCom robot of all
    teachers would copy the visitor's name, phone and ID to everyone). The police alert
    also goes to the station's own channels (its duty phone, its robot): the police are
    the intended readers; it names the screener, so probing the register is never silent."""
    from huxiao.core.names import actor_label
    from huxiao.intel import rules
    from huxiao.notify.services import notify_send

    details = _visitor_line(visit, now)
    url = reverse("access:visit_detail", args=[visit.pk])
    # The duty leader's link opens the page where they decide (admit or turn away).
    leader_url = reverse("access:visit_hold", args=[visit.pk])

    def leader_text():
        return (
            gettext("Visitor held at the gate: %(school)s") % details,
            gettext(
                "At %(time)s the gate of %(school)s was told to hold visitor %(name)s "
                "(phone %(phone)s, ID %(id)s) and call you. Go to the gate now."
            )
            % details,
        )

    title, body = _in_default_language(leader_text)
    notify_send(
        organizations=[],
        event_type="access.visit_hold",
        title=title,
        body=body,
        payload={"url": leader_url, "visit_id": visit.pk, "school_id": visit.school_id},
        recipients=duty_leaders(visit.school),
        dedupe_key=f"access.hold:{visit.pk}:{now.timestamp():.0f}",
    )
    station_id = visit.school.police_station_id
    if not register_hold or not station_id:
        return

    police_details = {**details, "by": actor_label(actor)}

    def police_text():
        return (
            gettext("Held visitor's details: %(school)s") % details,
            gettext(
                "The visitor held at %(time)s at the gate of %(school)s: %(name)s, phone "
                "%(phone)s, resident ID %(id)s. Checked in by %(by)s. The school's duty "
                "leader has been called."
            )
            % police_details,
        )

    title, body = _in_default_language(police_text)
    notify_send(
        organizations=[station_id],
        event_type=HOLD_DETAILS_EVENT,
        title=title,
        body=body,
        payload={"url": url, "visit_id": visit.pk, "school_id": visit.school_id},
        recipients=list(rules.register_members(station_id).values_list("pk", flat=True)),
        dedupe_key=f"access.hold.police:{visit.pk}:{now.timestamp():.0f}",
    )


# ------------------------------------------------------------------ the hold's decision


def can_resolve_hold(actor, school_id: int) -> bool:
    """A duty leader, principal or security officer of the school itself (a person, never
    a device; never the guard role alone)."""
    if getattr(actor, "is_device", False):
        return False
    return any(
        m.organization_id == school_id and m.role in HOLD_RESOLVER_ROLES
        for m in memberships_of(actor)
    )


def is_waiting(visit: Visit) -> bool:
    """Held at the gate and not decided yet."""
    return (
        visit.screening == Screening.HOLD
        and visit.status == VisitStatus.EXPECTED
        and not visit.hold_resolution
    )


def hold_blocklist_entry(*, actor, visit: Visit) -> BlockedVisitor | None:
    """The school's own blocklist entry behind a hold, for those who keep the list
    (MANAGE_GATE) only; None for anyone else. The register's data is never looked up."""
    if not visit.id_number_hash or not can(actor, Action.MANAGE_GATE, visit.school_id):
        return None
    return (
        BlockedVisitor.objects.filter(
            school_id=visit.school_id, is_active=True, id_number_hash=visit.id_number_hash
        )
        .order_by("-created_at")
        .first()
    )


def _clean_decision(value) -> str:
    text = str(value or "").strip()
    aliases = {"admit": HoldResolution.ADMITTED, "turn_away": HoldResolution.TURNED_AWAY}
    decision = aliases.get(text, text)
    if decision not in HoldResolution.values:
        raise ValidationError(_("Choose: admit or turn away."), code="choice")
    return decision


def visit_hold_resolve(
    *, actor, visit: Visit, decision, note="", now: dt.datetime | None = None
) -> Visit:
    """The duty leader's decision on a held visitor, after checking.

    "admit": the visit becomes "inside" with a badge (the gate then sees it as any checked-in
    visitor); only on the day of the hold. "turn_away": the visit is closed (cancelled) with
    a note, which is required. Audited; the police station that received the visitor's
    details (a register hit) is told the outcome. The guard role cannot decide."""
    if not can_resolve_hold(actor, visit.school_id):
        raise PermissionDenied(_("Your role does not allow this action."))
    now = now or timezone.now()
    errors = v.FieldErrors()
    decision = errors.run("decision", _clean_decision, decision)
    note = errors.run("note", v.clean_text, note, max_length=MAX_HOLD_NOTE)
    if decision == HoldResolution.TURNED_AWAY and not note and "note" not in errors.errors:
        errors.add("note", _("Say briefly why the visitor is turned away."))
    errors.raise_if_any()
    try:
        with transaction.atomic():
            locked = Visit.objects.select_for_update().select_related("school").get(pk=visit.pk)
            if not is_waiting(locked):
                raise VisitRefused(
                    _("This visitor is no longer waiting: someone has already decided."),
                    "not_waiting",
                )
            before = snapshot(locked)
            if decision == HoldResolution.ADMITTED:
                held_on = local_now(locked.checked_in_at).date()
                if held_on != local_now(now).date():
                    raise VisitRefused(
                        _(
                            "This visitor was held on an earlier day. Turn the visit away; "
                            "if they come back, check them in again."
                        ),
                        "stale_hold",
                    )
                locked.status = VisitStatus.INSIDE
                locked.badge_code = codes.new_serial()
                locked.badge_expires_at = badge_expiry(locked.school, now)
            else:
                locked.status = VisitStatus.CANCELLED
            locked.hold_resolution = decision
            locked.hold_resolved_at = now
            locked.hold_resolved_by = acting_user(actor)
            locked.hold_note = note or ""
            locked.save()
            audit_update(actor=actor, obj=locked, before=before)
            _publish(locked)
            _tell_police_the_outcome(visit=locked, actor=actor, now=now)
    except IntegrityError:
        # The same person was checked in again and is inside (the one-inside constraint).
        inside_since = _inside_since(visit.school, visit.id_number_hash)
        if inside_since is None:
            raise
        raise VisitRefused(_duplicate_message(inside_since), "duplicate") from None
    return locked


def _tell_police_the_outcome(*, visit: Visit, actor, now: dt.datetime) -> None:
    """The stations that received the held visitor's details learn the decision (inbox,
    after commit). A blocklist-only hold alerted no station: nobody to tell."""
    from huxiao.core.names import actor_label
    from huxiao.intel import rules
    from huxiao.notify.models import Notification
    from huxiao.notify.services import notify_send

    station_ids = sorted(
        {
            pk
            for pk in Notification.objects.filter(
                event_type=HOLD_DETAILS_EVENT, payload__visit_id=visit.pk
            ).values_list("organization_id", flat=True)
            if pk
        }
    )
    if not station_ids:
        return
    details = {
        **_visitor_line(visit, visit.checked_in_at),
        "decided": local_now(now).strftime("%H:%M"),
        "by": actor_label(actor),
        "note": visit.hold_note or "—",
    }

    def build():
        if visit.hold_resolution == HoldResolution.ADMITTED:
            title = gettext("Held visitor admitted: %(school)s") % details
            body = gettext(
                "At %(decided)s %(by)s of %(school)s admitted the visitor held at %(time)s: "
                "%(name)s, phone %(phone)s, ID %(id)s. Note: %(note)s"
            )
        else:
            title = gettext("Held visitor turned away: %(school)s") % details
            body = gettext(
                "At %(decided)s %(by)s of %(school)s turned away the visitor held at "
                "%(time)s: %(name)s, phone %(phone)s, ID %(id)s. Note: %(note)s"
            )
        return title, body % details

    title, body = _in_default_language(build)
    url = reverse("access:visit_detail", args=[visit.pk])
    for station_id in station_ids:
        # The station's police and its own channels (the police are the intended readers);
        # never the school's channels.
        notify_send(
            organizations=[station_id],
            event_type="access.visit_hold_resolved",
            title=title,
            body=body,
            payload={
                "url": url,
                "visit_id": visit.pk,
                "school_id": visit.school_id,
                "resolution": visit.hold_resolution,
            },
            recipients=list(rules.register_members(station_id).values_list("pk", flat=True)),
            dedupe_key=f"access.hold.resolved:{visit.pk}:{station_id}",
        )


# ------------------------------------------------------------------ check-out


def visit_check_out(*, actor, visit: Visit, now: dt.datetime | None = None) -> Visit:
    _require_gate(actor, visit.school)
    now = now or timezone.now()
    with transaction.atomic():
        locked = Visit.objects.select_for_update().get(pk=visit.pk)
        if locked.status != VisitStatus.INSIDE:
            raise VisitRefused(_("This visitor is not inside."), "not_inside")
        before = snapshot(locked)
        locked.status = VisitStatus.LEFT
        locked.checked_out_at = now
        locked.checked_out_by = acting_user(actor)
        locked.save()
        audit_update(actor=actor, obj=locked, before=before)
        _publish(locked)
    return locked


def visit_by_badge(*, actor, school, text) -> Visit:
    """The visit of a scanned badge; an expired badge still checks its visitor out."""
    _require_gate(actor, school)
    try:
        code = codes.verify(text, kinds={codes.BADGE}, school_id=school.pk, expires=False)
    except codes.CodeRefused as exc:
        raise VisitRefused(refusal_message(exc.reason), exc.reason, "code") from None
    visit = Visit.objects.filter(school=school, badge_code=code.ident).first()
    if visit is None:
        raise VisitRefused(refusal_message(RefusalReason.UNKNOWN), RefusalReason.UNKNOWN, "code")
    return visit


def visit_check_out_by_badge(*, actor, school, text, now: dt.datetime | None = None) -> Visit:
    visit = visit_by_badge(actor=actor, school=school, text=text)
    if visit.status != VisitStatus.INSIDE:
        raise VisitRefused(_("This visitor has already left."), "left", "code")
    return visit_check_out(actor=actor, visit=visit, now=now)


# ------------------------------------------------------------------ pre-registration


def can_pre_register(actor, school) -> bool:
    """The gate, or a staff member of the school with a login (who invites for themself)."""
    if can(actor, Action.REGISTER_VISITOR, school.pk):
        return True
    return can(actor, Action.VIEW, school.pk) and _own_staff(actor, school) is not None


def _own_staff(actor, school) -> Staff | None:
    user = acting_user(actor)
    if user is None:
        return None
    return Staff.objects.filter(school=school, user=user, is_active=True).first()


def visit_pre_register(
    *,
    actor,
    school,
    name,
    phone,
    purpose,
    expected_on,
    host=None,
    purpose_note="",
    now: dt.datetime | None = None,
) -> Visit:
    """An expected visit with a one-time invitation QR, valid on `expected_on`."""
    if not can_pre_register(actor, school):
        raise PermissionDenied(_("Your role does not allow this action."))
    now = now or timezone.now()
    today = local_now(now).date()
    errors = v.FieldErrors()
    if not can(actor, Action.REGISTER_VISITOR, school.pk):
        # A host invites their own visitors only.
        own = _own_staff(actor, school)
        if host not in (None, "", own.pk, str(own.pk)):
            errors.add("host", _("You can only invite your own visitors."))
        host = own.pk
    cleaned = {
        "name": errors.run("name", v.clean_name, name),
        "phone": errors.run("phone", v.clean_phone, phone, required=True),
        "purpose": errors.run("purpose", _clean_purpose, purpose),
        "purpose_note": errors.run("purpose_note", v.clean_text, purpose_note, max_length=200),
        "host": errors.run("host", _clean_host, school, host),
        "expected_on": errors.run("expected_on", v.clean_date, expected_on, required=True),
    }
    day = cleaned["expected_on"]
    if day is not None and not today <= day <= today + dt.timedelta(days=MAX_INVITE_DAYS_AHEAD):
        errors.add(
            "expected_on",
            gettext("Choose a day from today to %(days)s days ahead.")
            % {"days": MAX_INVITE_DAYS_AHEAD},
        )
    errors.raise_if_any()
    with transaction.atomic():
        visit = Visit.objects.create(
            school=school,
            name=cleaned["name"],
            phone=cleaned["phone"],
            purpose=cleaned["purpose"],
            purpose_note=cleaned["purpose_note"],
            host_id=cleaned["host"],
            expected_on=day,
            status=VisitStatus.EXPECTED,
            invitation_code=codes.new_serial(),
            invited_by=acting_user(actor),
        )
        audit_create(actor=actor, obj=visit)
        _publish(visit)
    return visit


def visit_cancel(*, actor, visit: Visit) -> Visit:
    """Cancel an expected visit (its invitation stops working)."""
    if not can_pre_register(actor, visit.school):
        raise PermissionDenied(_("Your role does not allow this action."))
    with transaction.atomic():
        locked = Visit.objects.select_for_update().get(pk=visit.pk)
        if locked.status != VisitStatus.EXPECTED or locked.screening:
            raise VisitRefused(_("Only an expected visit can be cancelled."), "not_expected")
        before = snapshot(locked)
        locked.status = VisitStatus.CANCELLED
        locked.save()
        audit_update(actor=actor, obj=locked, before=before)
        _publish(locked)
    return locked


# ------------------------------------------------------------------ the blocklist


def blocked_visitor_add(*, actor, school, name, id_number, reason) -> BlockedVisitor:
    require(actor, Action.MANAGE_GATE, school.pk)
    errors = v.FieldErrors()
    name = errors.run("name", v.clean_name, name)
    number = errors.run("id_number", v.clean_id_number, id_number, required=True)
    reason = errors.run("reason", v.clean_text, reason, max_length=200, required=True)
    if (
        number
        and BlockedVisitor.objects.filter(
            school=school, is_active=True, id_number_hash=crypto.lookup_hash(number)
        ).exists()
    ):
        errors.add("id_number", _("This person is already on the blocklist."))
    errors.raise_if_any()
    with transaction.atomic():
        entry = BlockedVisitor(school=school, name=name, reason=reason, added_by=acting_user(actor))
        entry.set_id_number(number)
        entry.save()
        audit_create(actor=actor, obj=entry)
    return entry


def blocked_visitor_remove(*, actor, entry: BlockedVisitor) -> BlockedVisitor:
    require(actor, Action.MANAGE_GATE, entry.school_id)
    with transaction.atomic():
        before = snapshot(entry)
        entry.is_active = False
        entry.save(update_fields=["is_active"])
        audit_update(actor=actor, obj=entry, before=before)
    return entry


# ------------------------------------------------------------------ periodic jobs


def visits_flag_overstays(*, now: dt.datetime | None = None) -> list[int]:
    """Flag, once, every visitor still inside when their badge ran out (the school's
    closing time) and tell the duty leaders. Idempotent: the flag is set by a conditional
    update, so two workers flag and notify once."""
    from huxiao.notify.services import notify_send

    now = now or timezone.now()
    flagged: list[int] = []
    due = (
        Visit.objects.filter(
            status=VisitStatus.INSIDE,
            overstay_flagged_at__isnull=True,
            badge_expires_at__lte=now,
        )
        .select_related("school")
        .order_by("school_id", "checked_in_at")
    )
    for visit in due:
        with transaction.atomic():
            won = Visit.objects.filter(pk=visit.pk, overstay_flagged_at__isnull=True).update(
                overstay_flagged_at=now
            )
            if not won:
                continue
            audit_record(
                actor=None,
                action=AuditAction.UPDATE,
                obj=visit,
                changes={"fields": {"overstay_flagged_at": [None, now.isoformat()]}},
            )
            details = _visitor_line(visit, visit.checked_in_at)

            def build(details=details):
                return (
                    gettext("Visitor still inside after closing: %(school)s") % details,
                    gettext(
                        "%(name)s (phone %(phone)s), checked in at %(time)s, has not checked "
                        "out at %(school)s's closing time."
                    )
                    % details,
                )

            title, body = _in_default_language(build)
            # The duty leaders only: not the school's channels (the body names the visitor).
            notify_send(
                organizations=[],
                event_type="access.visit_overstay",
                title=title,
                body=body,
                payload={
                    "url": reverse("access:visit_detail", args=[visit.pk]),
                    "visit_id": visit.pk,
                    "school_id": visit.school_id,
                },
                recipients=duty_leaders(visit.school),
                dedupe_key=f"access.overstay:{visit.pk}",
            )
            flagged.append(visit.pk)
    return flagged


def purge_before(school, cutoff: dt.datetime) -> int:
    """Delete the school's visits whose last trace is before `cutoff` (not those still
    inside) and blocklist entries removed before it. Returns how many rows went.

    A visit's retention runs from the last thing that happened to it, not from when it was
    written: an invitation made weeks ahead and used yesterday is yesterday's record."""
    recent = (
        Q(created_at__gte=cutoff)
        | Q(checked_in_at__gte=cutoff)
        | Q(checked_out_at__gte=cutoff)
        | Q(hold_resolved_at__gte=cutoff)
        | Q(expected_on__gte=timezone.localdate(cutoff))
    )
    visits, _unused = (
        Visit.objects.filter(school=school)
        .exclude(recent)
        .exclude(status=VisitStatus.INSIDE)
        .delete()
    )
    blocked, _unused = BlockedVisitor.objects.filter(
        school=school, is_active=False, created_at__lt=cutoff
    ).delete()
    return visits + blocked


def gate_notifications_purge(school, cutoff: dt.datetime) -> int:
    """Delete the notifications about the school's gate records sent before `cutoff`
    (holds, overstays, unusual screening, interceptions, pick-up refusals, children not
    collected, pick-up codes; their deliveries go with them): their bodies name visitors,
    adults and children, who must not outlive the records. Returns how many went."""
    from huxiao.notify.models import Notification

    kinds = Q()
    for prefix in GATE_EVENT_PREFIXES:
        kinds |= Q(event_type__startswith=prefix)
    # Most carry the school in their payload; a pick-up code's SMS is addressed to it.
    about_school = Q(payload__school_id=school.pk) | Q(
        event_type__startswith="pickup.", organization_id=school.pk
    )
    _total, by_model = Notification.objects.filter(
        kinds, about_school, created_at__lt=cutoff
    ).delete()
    return by_model.get(Notification._meta.label, 0)


def gate_records_purge(*, now: dt.datetime | None = None) -> dict[int, int]:
    """Each school's gate records older than its retention period (default 180 days),
    deleted by every function of PURGE_FUNCTIONS, and the notifications about them sent
    before the same cutoff; each purge that deleted anything is an audit row (school,
    cutoff, counts). Returns {school id: count of records}."""
    from huxiao.core.roles import SCHOOL_KINDS
    from huxiao.orgs.models import Organization

    now = now or timezone.now()
    purgers = [import_string(path) for path in PURGE_FUNCTIONS]
    result: dict[int, int] = {}
    failed: list[int] = []
    schools = Organization.objects.filter(kind__in=SCHOOL_KINDS).select_related("gate_settings")
    for school in schools.order_by("pk"):
        try:
            count = _purge_school(school, now, purgers)
        except Exception:  # noqa: BLE001 - one school's failure must not spare the others
            logger.exception("gate records purge failed for school %s", school.pk)
            failed.append(school.pk)
            continue
        if count:
            result[school.pk] = count
    if failed:
        # The others are purged; the task fails so that the failure is seen (logs, metrics).
        raise RuntimeError(f"gate records purge failed for schools {failed}")
    return result


def _purge_school(school, now: dt.datetime, purgers) -> int:
    """One school's purge in one transaction, with its audit row; the number of records."""
    days = gate_settings_of(school).retention_days
    cutoff = now - dt.timedelta(days=days)
    with transaction.atomic():
        count = sum(purger(school, cutoff) for purger in purgers)
        notifications = gate_notifications_purge(school, cutoff)
        if count or notifications:
            audit_record(
                actor=None,
                action=AuditAction.DELETE,
                object_type="access.purge",
                object_id=str(school.pk),
                object_repr=f"gate records before {cutoff:%Y-%m-%d}",
                school=school,
                changes={
                    "count": count,
                    "notifications": notifications,
                    "cutoff": cutoff.isoformat(),
                    "days": days,
                },
            )
    return count


_ID_RUN_RE = re.compile(r"[0-9]{17}[0-9X]*")
_PIN_RE = re.compile(r"[0-9]{6}")


def classify_scan(text) -> tuple[str, str]:
    """What the kiosk's scan box received: ("pass" | "pickup" | "badge" | "invitation",
    code), ("pin", pin), ("id_number", number) or ("malformed", "")."""
    raw = str(text or "")[: codes.MAX_INPUT]
    try:
        code, _body, _sig = codes.parse(raw)
    except codes.CodeRefused:
        code = None
    if code is not None:
        kind = {
            codes.PASS: "pass",
            codes.PICKUP_CARD: "pickup",
            codes.PICKUP_ROTATING: "pickup",
            codes.BADGE: "badge",
            codes.INVITATION: "invitation",
        }[code.kind]
        return kind, codes.extract(raw)
    cleaned = re.sub(r"\s+", "", raw).upper()
    if _PIN_RE.fullmatch(cleaned):
        return "pin", cleaned
    number = _id_number_in(cleaned)
    if number:
        return "id_number", number
    return "malformed", ""


def _id_number_in(cleaned: str) -> str:
    """An 18-character ID number inside a run of digits: a scanner's prefix of digits
    (e.g. "]Q1") makes the run longer, so each window is tried, the one with a valid check
    digit wins; none valid → the last window (its message names the check digit)."""
    for run in _ID_RUN_RE.findall(cleaned):
        windows = [run[i : i + 18] for i in range(len(run) - 17)]
        windows = [w for w in windows if "X" not in w[:17]]
        for window in reversed(windows):
            try:
                return validate_id_number(window)
            except ValidationError:
                continue
        if windows:
            return windows[-1]
    return ""
