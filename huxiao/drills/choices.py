"""Choices of the drills app (issue 8; ADR 0030)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ActivityKind(models.TextChoices):
    SAFETY_EDUCATION = "safety_education", _("Safety education session")
    DRILL = "drill", _("Evacuation drill")
    LEGAL_LECTURE = "legal_lecture", _("Legal lecture")
    PARENT_MEETING = "parent_meeting", _("Parent meeting")
    STAFF_TRAINING = "staff_training", _("Staff training")


class DrillKind(models.TextChoices):
    FIRE = "fire", _("Fire")
    EARTHQUAKE = "earthquake", _("Earthquake")
    INTRUSION = "intrusion", _("Intrusion / lockdown")
    OTHER = "other", _("Other emergency")


class ActivityStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    HELD = "held", pgettext_lazy("activity status", "Held")
    CANCELLED = "cancelled", _("Cancelled")


class FlagState(models.TextChoices):
    """A rule's state for one school and period: reminded before the deadline, flagged
    after it (each at most once per school, rule and period)."""

    REMINDED = "reminded", _("Reminded")
    FLAGGED = "flagged", _("Flagged")
