"""Choices of warning signs (school → police) and early warnings (police → schools)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SignCategory(models.TextChoices):
    THREAT = "threat", _("Threat against pupils or staff (also online)")
    DISPUTE = "dispute", _("Dispute that could turn violent")
    SUSPICIOUS_PERSON = "suspicious_person", _("Suspicious person")
    SUSPICIOUS_VEHICLE = "suspicious_vehicle", _("Suspicious vehicle")
    OTHER = "other", _("Other")


class TimeNode(models.TextChoices):
    """Special time nodes (§1 二(四)): reports in these periods are marked."""

    NEW_TERM = "new_term", _("Start of term")
    PARENT_MEETING = "parent_meeting", _("Parent meeting")
    PICKUP_TIME = "pickup_time", _("Drop-off or pick-up time")
    OTHER = "other", _("Other special time")


class SignStatus(models.TextChoices):
    REPORTED = "reported", _("Reported")
    ASSESSING = "assessing", _("Being assessed")
    ACTION_TAKEN = "action_taken", _("Action taken")
    NO_ACTION = "no_action", _("No action needed")


CLOSED_SIGN_STATUSES = frozenset({SignStatus.ACTION_TAKEN, SignStatus.NO_ACTION})
# The only allowed moves; anything else is "out of order".
SIGN_TRANSITIONS = {
    SignStatus.REPORTED: frozenset({SignStatus.ASSESSING}),
    SignStatus.ASSESSING: frozenset({SignStatus.ACTION_TAKEN, SignStatus.NO_ACTION}),
}


class WarningLevel(models.TextChoices):
    BLUE = "blue", _("Blue (general)")
    YELLOW = "yellow", _("Yellow (heightened)")
    ORANGE = "orange", _("Orange (serious)")
    RED = "red", _("Red (severe)")
