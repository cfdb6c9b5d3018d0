"""Writes of vehicle movements at the gate: entry and exit (issue 5, ADR 0024).

Recorded by the gate (`register_visitor`). A plate already inside cannot enter again (the
service answers with a message; a partial unique constraint is the backstop for two
guards pressing at once). An optional vehicle pass is scanned with the entry: the scan is
logged whatever the outcome, and a refused pass refuses the entry.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from huxiao.access import codes
from huxiao.access.choices import Direction, PassKind, RefusalReason, ScanResult, VehiclePurpose
from huxiao.access.models import GatePass, VehicleMovement
from huxiao.access.pass_services import pass_scan
from huxiao.access.plates import clean_plate
from huxiao.audit.services import audit_create, audit_update, snapshot
from huxiao.core.names import acting_user
from huxiao.core.permissions import require
from huxiao.core.roles import Action
from huxiao.people import validation as v


def _already_inside(school, plate: str) -> ValidationError:
    open_entry = VehicleMovement.objects.filter(
        school=school, plate=plate, exited_at__isnull=True
    ).first()
    when = (
        formats.time_format(timezone.localtime(open_entry.entered_at), "H:i") if open_entry else ""
    )
    return ValidationError(
        {
            "plate": [
                _("This vehicle is already inside (entered at %(time)s); record its exit first.")
                % {"time": when}
            ]
        }
    )


def _pass_for_vehicle(school, text: str, plate: str) -> None:
    """Refuse, before scanning, a pass of this school that is not this vehicle's: a staff
    pass or another plate's. Codes that are not genuine passes of this school are left to
    the scan to explain: nothing of a pass is told before its signature is checked."""
    try:
        code = codes.verify(text, kinds={codes.PASS}, school_id=school.pk, expires=False)
    except codes.CodeRefused:
        return
    gate_pass = GatePass.objects.filter(school=school, serial=code.ident).first()
    if gate_pass is None:
        return
    if gate_pass.kind != PassKind.VEHICLE:
        raise ValidationError({"pass_code": [_("This is not a vehicle pass.")]})
    if gate_pass.plate and gate_pass.plate != plate:
        raise ValidationError(
            {
                "pass_code": [
                    _("This pass is for the vehicle %(plate)s.") % {"plate": gate_pass.plate}
                ]
            }
        )


def vehicle_enter(
    *,
    actor,
    school,
    plate: str,
    purpose: str,
    driver_name: str = "",
    driver_phone: str = "",
    note: str = "",
    pass_code: str = "",
    now: dt.datetime | None = None,
) -> VehicleMovement:
    """Record a vehicle entering the school."""
    require(actor, Action.REGISTER_VISITOR, school.pk)
    now = now or timezone.now()
    errors = v.FieldErrors()
    plate = errors.run("plate", clean_plate, plate)
    if purpose not in VehiclePurpose.values:
        errors.add("purpose", _("Select a valid choice."))
    driver_name = errors.run("driver_name", v.clean_text, driver_name, max_length=50)
    driver_phone = errors.run("driver_phone", v.clean_phone, driver_phone, required=False)
    note = errors.run("note", v.clean_text, note, max_length=200)
    pass_code = str(pass_code or "").strip()
    errors.raise_if_any()
    if VehicleMovement.objects.filter(school=school, plate=plate, exited_at__isnull=True).exists():
        raise _already_inside(school, plate)
    gate_pass = None
    if pass_code:
        _pass_for_vehicle(school, pass_code, plate)
        # The scan is logged in its own transaction: a refused pass at the gate is kept
        # even though the entry is not written.
        scan = pass_scan(
            actor=actor, school=school, text=pass_code, direction=Direction.IN, now=now
        )
        if scan.result != ScanResult.ACCEPTED:
            raise ValidationError(
                {
                    "pass_code": [
                        _("Pass refused: %(reason)s") % {"reason": RefusalReason(scan.reason).label}
                    ]
                }
            )
        gate_pass = scan.gate_pass
    try:
        with transaction.atomic():
            movement = VehicleMovement.objects.create(
                school=school,
                plate=plate,
                driver_name=driver_name or "",
                driver_phone=driver_phone or "",
                purpose=purpose,
                note=note or "",
                gate_pass=gate_pass,
                entered_at=now,
                recorded_by=acting_user(actor),
            )
            audit_create(actor=actor, obj=movement)
    except IntegrityError:
        raise _already_inside(school, plate) from None
    return movement


@transaction.atomic
def vehicle_exit(*, actor, movement: VehicleMovement, now=None) -> VehicleMovement:
    """Record the vehicle leaving; a second exit is refused."""
    require(actor, Action.REGISTER_VISITOR, movement.school_id)
    now = now or timezone.now()
    locked = VehicleMovement.objects.select_for_update().get(pk=movement.pk)
    if locked.exited_at is not None:
        raise ValidationError({"__all__": [_("This vehicle has already left.")]})
    before = snapshot(locked)
    locked.exited_at = max(now, locked.entered_at)
    locked.save(update_fields=["exited_at"])
    audit_update(actor=actor, obj=locked, before=before)
    return locked
