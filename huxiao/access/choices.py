"""Choices of the school gate (issue 5)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class VisitPurpose(models.TextChoices):
    PARENT = "parent", _("Parent or family matter")
    OFFICIAL = "official", _("Official business")
    SUPPLIER = "supplier", _("Delivery or supplier")
    REPAIR = "repair", _("Repair or construction")
    INTERVIEW = "interview", _("Interview or meeting")
    OTHER = "other", _("Other")


class VisitStatus(models.TextChoices):
    EXPECTED = "expected", _("Expected")
    INSIDE = "inside", _("Inside")
    LEFT = "left", _("Left")
    CANCELLED = "cancelled", _("Cancelled")


class Screening(models.TextChoices):
    """What the gate is told: nothing else (never which list, never why)."""

    CLEAR = "clear", _("Clear")
    HOLD = "hold", _("Hold")


class HoldResolution(models.TextChoices):
    """The duty leader's decision on a held visitor (ADR 0023, addendum)."""

    ADMITTED = "admitted", _("Admitted after checking")
    TURNED_AWAY = "turned_away", _("Turned away")


class PassKind(models.TextChoices):
    STAFF = "staff", _("Staff pass")
    VEHICLE = "vehicle", _("Vehicle pass")
    ONE_TIME = "one_time", _("One-time pass")


class PassState(models.TextChoices):
    """What the pass list and page show; the first that applies wins, in this order from
    the bottom (a revoked pass is "revoked" whatever its dates)."""

    VALID = "valid", _("Valid")
    NOT_YET_VALID = "not_yet_valid", _("Not valid yet")
    USED = "used", _("Used")
    EXPIRED = "expired", _("Expired")
    HOLDER_LEFT = "holder_left", _("Holder no longer on the staff")
    REVOKED = "revoked", _("Revoked")


class Direction(models.TextChoices):
    IN = "in", _("In")
    OUT = "out", _("Out")


class ScanResult(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    REFUSED = "refused", _("Refused")


class RefusalReason(models.TextChoices):
    """Why a pass or pick-up code was refused: shown to the guard, kept in the log."""

    MALFORMED = "malformed", _("Not a HuXiao code")
    FORGED = "forged", _("Signature does not match")
    OTHER_SCHOOL = "other_school", _("Code of another school")
    NOT_YET_VALID = "not_yet_valid", _("Not valid yet")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")
    HOLDER_LEFT = "holder_left", _("Holder no longer on the staff")
    REPLAYED = "replayed", _("Already used")
    UNKNOWN = "unknown", _("Unknown code")
    NOT_AUTHORISED = "not_authorised", _("Not authorised to pick up this child")
    ALREADY_RELEASED = "already_released", _("Child already released")
    DELEGATE_LATE = "delegate_late", _("Delegate added after the cut-off time")


class VehiclePurpose(models.TextChoices):
    STAFF = "staff", _("Staff vehicle")
    SUPPLIER = "supplier", _("Delivery or supplier")
    OFFICIAL = "official", _("Official vehicle")
    EMERGENCY = "emergency", _("Emergency service")
    SCHOOL_BUS = "school_bus", _("School bus")
    OTHER = "other", _("Other")


class ContrabandCategory(models.TextChoices):
    KNIFE = "knife", _("Controlled knife (管制刀具)")
    FLAMMABLE = "flammable", _("Flammable or explosive")
    OTHER = "other", _("Other prohibited item")


class CarrierKind(models.TextChoices):
    VISITOR = "visitor", _("Visitor")
    STUDENT = "student", _("Student")
    STAFF = "staff", _("Staff member")
    OTHER = "other", _("Other")


class Handling(models.TextChoices):
    HELD = "held", _("Held at the gate")
    RETURNED = "returned", _("Returned on leaving")
    HANDED_TO_POLICE = "handed_to_police", _("Handed to the police")
    DESTROYED = "destroyed", _("Destroyed")


class ReleaseMethod(models.TextChoices):
    QR = "qr", _("QR code")
    PIN = "pin", _("PIN")
