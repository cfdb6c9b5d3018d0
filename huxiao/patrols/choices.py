"""Choices of the patrols app: peak periods, who staffs a gate post, patrol modes."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Period(models.TextChoices):
    """The peaks of a school day at the gate (§2 10: 上学放学时段)."""

    MORNING = "morning", _("Morning drop-off")
    NOON = "noon", _("Noon")
    AFTERNOON = "afternoon", _("Afternoon pick-up")


# The order in which peaks happen during the day, for tables and grids.
PERIOD_ORDER = (Period.MORNING, Period.NOON, Period.AFTERNOON)


class StaffKind(models.TextChoices):
    """Who stands at a gate post (§1 二(三): police, and the mass prevention forces)."""

    POLICE = "police", _("Police officer")
    AUXILIARY_POLICE = "auxiliary_police", _("Auxiliary police")
    GUARD = "guard", _("School guard")
    SCHOOL_STAFF = "school_staff", _("School staff on duty")
    PARENT_VOLUNTEER = "parent_volunteer", _("Parent volunteer")
    COMMUNITY_VOLUNTEER = "community_volunteer", _("Community volunteer")
    MILITIA = "militia", _("Militia")


# Police force at the gate: "见警察". A police car and its lights are recorded only for them.
POLICE_STAFF_KINDS = frozenset({StaffKind.POLICE, StaffKind.AUXILIARY_POLICE})
# Kinds that need an account of a police organization when a user is named.
SCHOOL_STAFF_KINDS = frozenset({StaffKind.GUARD, StaffKind.SCHOOL_STAFF})
# Kinds that usually have no account: their check-in is recorded by someone at the gate.
VOLUNTEER_KINDS = frozenset(
    {StaffKind.PARENT_VOLUNTEER, StaffKind.COMMUNITY_VOLUNTEER, StaffKind.MILITIA}
)


class PatrolMode(models.TextChoices):
    CAR = "car", _("By car")
    FOOT = "foot", _("On foot")
    MIXED = "mixed", _("Car and foot")


class Dress(models.TextChoices):
    UNIFORM = "uniform", _("Uniform")
    PLAIN_CLOTHES = "plain_clothes", _("Plain clothes")
    MIXED = "mixed", _("Uniform and plain clothes")


class FlagKind(models.TextChoices):
    LATE = "late", _("Nobody at the post after the start")
    MISSED = "missed", _("Post missed")


WEEKDAY_LABELS = (
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
)
WEEKDAY_SHORT = (_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun"))
