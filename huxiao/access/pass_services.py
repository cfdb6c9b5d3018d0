"""Writes of gate passes: issue, revoke, scan (issue 5, ADR 0024).

A pass is a signed code (`access.codes`, kind PASS) bound to one school; its holder, its
validity window, revocation and one-time use live in the `GatePass` row. Issuing and
revoking is `manage_gate`; scanning at the gate is `register_visitor`. Every scan is logged
(`PassScan`), accepted or refused with the reason, and a refused code never raises: the
gate shows the reason and carries on.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.access import codes
from huxiao.access.choices import Direction, PassKind, RefusalReason, ScanResult
from huxiao.access.models import GatePass, PassScan
from huxiao.access.plates import clean_plate
from huxiao.audit.services import audit_create, audit_update, snapshot
from huxiao.core.names import acting_user, actor_label
from huxiao.core.permissions import require
from huxiao.core.roles import Action
from huxiao.people import validation as v
from huxiao.people.models import Staff

# The longest a pass may run: a school year and a bit for staff and vehicles, a week for a
# one-time pass (a pass meant for one entry should not linger on a phone for months).
MAX_VALIDITY = {
    PassKind.STAFF: dt.timedelta(days=400),
    PassKind.VEHICLE: dt.timedelta(days=400),
    PassKind.ONE_TIME: dt.timedelta(days=7),
}
# A pass may be issued to start a little in the past (printed this morning, valid since 7:00).
MAX_BACKDATE = dt.timedelta(days=1)
MAX_LEAD = dt.timedelta(days=366)


def pass_code(gate_pass: GatePass) -> str:
    """The text of the pass's QR code."""
    return codes.make(
        codes.PASS,
        gate_pass.school_id,
        gate_pass.serial,
        codes.expiry_stamp(gate_pass.valid_until),
    )


def _aware(value):
    if value is None or not isinstance(value, dt.datetime):
        return value
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _staff_of(school, staff) -> Staff | None:
    if staff in (None, ""):
        return None
    staff_id = getattr(staff, "pk", staff)
    try:
        staff_id = int(staff_id)
    except (TypeError, ValueError):
        return None
    return Staff.objects.filter(school=school, pk=staff_id, is_active=True).first()


@transaction.atomic
def pass_issue(
    *,
    actor,
    school,
    kind: str,
    valid_until,
    valid_from=None,
    staff=None,
    holder_name: str = "",
    plate: str = "",
    note: str = "",
    now: dt.datetime | None = None,
) -> GatePass:
    """Issue a staff pass (bound to an active staff member of the school), a vehicle pass
    (with its plate) or a one-time pass, valid from `valid_from` (default now) until
    `valid_until`."""
    require(actor, Action.MANAGE_GATE, school.pk)
    now = now or timezone.now()
    errors = v.FieldErrors()
    if kind not in PassKind.values:
        errors.add("kind", _("Select a valid choice."))
    member = _staff_of(school, staff)
    if staff not in (None, "") and member is None:
        errors.add("staff", _("Choose an active staff member of this school."))
    if kind == PassKind.STAFF and staff in (None, ""):
        errors.add("staff", _("A staff pass belongs to a staff member of the school."))
    holder = errors.run("holder_name", v.clean_text, holder_name, max_length=50)
    if member is not None and not holder:
        holder = member.name
    if kind in (PassKind.VEHICLE, PassKind.ONE_TIME) and not holder and member is None:
        errors.add("holder_name", _("This field is required."))
    cleaned_plate = errors.run("plate", clean_plate, plate, required=kind == PassKind.VEHICLE)
    note = errors.run("note", v.clean_text, note, max_length=200)
    valid_from = _aware(valid_from) or now
    valid_until = _aware(valid_until)
    if not isinstance(valid_from, dt.datetime):
        errors.add("valid_from", _("Enter a valid date and time."))
    if not isinstance(valid_until, dt.datetime):
        errors.add("valid_until", _("Enter a valid date and time."))
    elif isinstance(valid_from, dt.datetime):
        if valid_from < now - MAX_BACKDATE:
            errors.add("valid_from", _("A pass cannot start more than a day in the past."))
        elif valid_from > now + MAX_LEAD:
            errors.add("valid_from", _("A pass cannot start more than a year from now."))
        if valid_until <= max(valid_from, now):
            errors.add("valid_until", _("The end must be later than the start and than now."))
        elif kind in MAX_VALIDITY and valid_until - valid_from > MAX_VALIDITY[kind]:
            errors.add(
                "valid_until",
                _("This kind of pass may be valid for at most %(days)s days.")
                % {"days": MAX_VALIDITY[kind].days},
            )
    errors.raise_if_any()
    gate_pass = GatePass.objects.create(
        school=school,
        kind=kind,
        staff=member,
        holder_name=holder,
        plate=cleaned_plate or "",
        note=note or "",
        serial=codes.new_serial(),
        valid_from=valid_from,
        valid_until=valid_until,
        issued_by=acting_user(actor),
    )
    audit_create(actor=actor, obj=gate_pass)
    return gate_pass


@transaction.atomic
def pass_revoke(*, actor, gate_pass: GatePass, reason: str, now=None) -> GatePass:
    """Revoke a pass for good (a lost card, a staff member who left); audited."""
    require(actor, Action.MANAGE_GATE, gate_pass.school_id)
    errors = v.FieldErrors()
    reason = errors.run("reason", v.clean_text, reason, max_length=200, required=True)
    errors.raise_if_any()
    locked = GatePass.objects.select_for_update().get(pk=gate_pass.pk)
    if locked.revoked_at is not None:
        raise ValidationError({"reason": [_("This pass has already been revoked.")]})
    before = snapshot(locked)
    locked.revoked_at = now or timezone.now()
    locked.revoked_by = acting_user(actor)
    locked.revoke_reason = reason
    locked.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    audit_update(actor=actor, obj=locked, before=before)
    return locked


def _refusal(gate_pass: GatePass, code: codes.Code, now: dt.datetime, direction: str) -> str:
    """Why a genuine code of this school is refused ("" when it is accepted)."""
    if gate_pass.revoked_at is not None:
        return RefusalReason.REVOKED
    if gate_pass.holder_left:
        # Someone who left keeps the card in a pocket: it stops with the staff record,
        # whether or not the pass was revoked by hand.
        return RefusalReason.HOLDER_LEFT
    if now < gate_pass.valid_from:
        return RefusalReason.NOT_YET_VALID
    if now > gate_pass.valid_until or code.stamp < int(now.timestamp()):
        return RefusalReason.EXPIRED
    if gate_pass.kind == PassKind.ONE_TIME and direction == Direction.IN:
        # Conditional UPDATE: of two scans racing with the same code only one finds the
        # pass unused; the other is refused as a replay.
        consumed = GatePass.objects.filter(pk=gate_pass.pk, used_at__isnull=True).update(
            used_at=now
        )
        if not consumed:
            return RefusalReason.REPLAYED
        gate_pass.used_at = now
    return ""


@transaction.atomic
def pass_scan(*, actor, school, text, direction="in", now=None) -> PassScan:
    """Check a scanned pass at `school` and log the scan. Never raises for a refused code:
    the returned PassScan carries result and reason. A one-time pass is consumed by its
    first accepted entry; leaving with it is accepted while it is valid."""
    require(actor, Action.REGISTER_VISITOR, school.pk)
    if direction not in Direction.values:
        raise ValidationError({"direction": [_("Select a valid choice.")]})
    now = now or timezone.now()
    gate_pass = None
    try:
        # The signed stamp is the expiry at issue; the row's window is checked below.
        code = codes.verify(text, kinds={codes.PASS}, school_id=school.pk, now=now, expires=False)
        gate_pass = (
            GatePass.objects.filter(school=school, serial=code.ident)
            .select_related("staff")
            .first()
        )
        reason = (
            RefusalReason.UNKNOWN
            if gate_pass is None
            else _refusal(gate_pass, code, now, direction)
        )
    except codes.CodeRefused as refused:
        reason = refused.reason
    return PassScan.objects.create(
        school=school,
        gate_pass=gate_pass,
        at=now,
        direction=direction,
        result=ScanResult.REFUSED if reason else ScanResult.ACCEPTED,
        reason=reason,
        scanned_by=acting_user(actor),
        scanned_by_label=actor_label(actor),
    )
