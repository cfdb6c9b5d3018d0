"""Choices of the transport app (issue 8; ADR 0031)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class LicenceClass(models.TextChoices):
    """Driving licence classes (GB 1589 / 《机动车驾驶证申领和使用规定》); school buses need
    A1, A3 or B1 (B2 and C1 only for the smaller vehicles the rules allow)."""

    A1 = "A1", "A1"
    A3 = "A3", "A3"
    B1 = "B1", "B1"
    B2 = "B2", "B2"
    C1 = "C1", "C1"


class Direction(models.TextChoices):
    TO_SCHOOL = "to_school", _("To school (morning)")
    FROM_SCHOOL = "from_school", _("Home (afternoon)")


class TripStatus(models.TextChoices):
    UNDERWAY = "underway", _("Under way")
    FINISHED = "finished", _("Finished")
    REFUSED = "refused", pgettext_lazy("trip status", "Refused")


class InspectionKind(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled inspection")
    RANDOM = "random", _("Random spot check")


class FindingKind(models.TextChoices):
    OVERLOAD = "overload", _("Overloading")
    SPEEDING = "speeding", _("Speeding")
    FATIGUE = "fatigue", _("Fatigue driving")
    NO_SAFETY_OFFICER = "no_safety_officer", _("No safety officer on board")
    EXPIRED_DOCUMENTS = "expired_documents", _("Expired documents")
    MARKINGS = "markings", _("School-bus markings missing")
    OTHER = "other", _("Other")


class FindingStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")


class TripFlagKind(models.TextChoices):
    OVERLOAD = "overload", _("More riders than seats")
    NO_SAFETY_OFFICER = "no_safety_officer", _("No safety officer")
    EXPIRED_DRIVER = "expired_driver", _("Driver's licence or qualification expired")
    EXPIRED_BUS = "expired_bus", _("Bus permit, insurance or inspection expired")
    NOT_ARRIVED = "not_arrived", _("Boarded but never arrived")
