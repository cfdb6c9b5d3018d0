"""Choices of the duty app (issue 7, items 5–7; ADR 0029)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ShiftKind(models.TextChoices):
    DAY = "day", _("Day shift")
    NIGHT = "night", _("Night shift")


class DutyRole(models.TextChoices):
    LEADER = "leader", _("Leader on duty")
    STAFF = "staff", _("Staff on duty")
    GUARD = "guard", _("Guard")


class LogKind(models.TextChoices):
    ROUTINE = "routine", _("Routine")
    INCIDENT = "incident", _("Incident")
    VISITOR = "visitor", _("Visitor")
    FACILITY = "facility", _("Facilities and equipment")
    OTHER = "other", _("Other")


class GapKind(models.TextChoices):
    SHIFT_UNCOVERED = "shift_uncovered", _("Nobody checked in for a shift")
    MONITORING = "monitoring", _("Monitoring room log gap")
    ROUNDS_MISSED = "rounds_missed", _("Patrol rounds missed")
    NIGHT_ROUND_MISSED = "night_round_missed", _("Night round missed")
