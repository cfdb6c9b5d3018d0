"""Choices of inspections and hazards (issue 6)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TemplateKind(models.TextChoices):
    SIX_MEASURES = "six_measures", _("The six measures (§1 二)")
    POLICY_ITEMS = "policy_items", _("Items 3–18 of the long-term mechanism (§2)")
    KEY_AREAS = "key_areas", _("Key areas (GB/T 29315-2022)")
    MONTHLY_SELF_CHECK = "monthly_self_check", _("Monthly self-check")
    SURROUNDINGS = "surroundings", _("Surroundings check")
    CUSTOM = "custom", _("Custom")


class InspectionKind(models.TextChoices):
    SELF_CHECK = "self_check", _("School self-check")
    POLICE = "police", _("Police inspection")
    CENTRAL_SCHOOL = "central_school", _("Central school inspection")
    GOVERNANCE = "governance", _("Governance office inspection")
    JOINT = "joint", _("Joint inspection")


class InspectionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    SIGNED_OFF = "signed_off", _("Signed off")


class AnswerResult(models.TextChoices):
    PASS = "pass", _("Meets the requirement")
    FAIL = "fail", _("Does not meet it")
    NOT_APPLICABLE = "na", _("Not applicable")


class HazardCategory(models.TextChoices):
    STAFFING = "staffing", _("Staffing")
    EQUIPMENT = "equipment", _("Equipment")
    TECHNICAL = "technical", _("Technical defence")
    PHYSICAL = "physical", _("Physical defence")
    RULES = "rules", _("Rules and duty")
    CANTEEN = "canteen", _("Canteen and food")
    DORMITORY = "dormitory", _("Dormitory")
    TRAFFIC = "traffic", _("Traffic")
    SURROUNDINGS = "surroundings", _("Surroundings")
    OTHER = "other", _("Other")


class HazardLevel(models.TextChoices):
    GENERAL = "general", _("General")
    MAJOR = "major", _("Major")


class HazardStatus(models.TextChoices):
    REPORTED = "reported", _("Reported")
    ASSIGNED = "assigned", _("Assigned")
    RECTIFYING = "rectifying", _("Rectifying")
    SUBMITTED = "submitted", _("Submitted for verification")
    CLOSED = "closed", _("Verified and closed")


OPEN_HAZARD_STATUSES = (
    HazardStatus.REPORTED,
    HazardStatus.ASSIGNED,
    HazardStatus.RECTIFYING,
    HazardStatus.SUBMITTED,
)


class PhotoKind(models.TextChoices):
    FINDING = "finding", _("Finding")
    EVIDENCE = "evidence", _("Rectification evidence")


class ListingStatus(models.TextChoices):
    """A listed supervision (挂牌督办) is active until the supervising organization lifts it
    (摘牌), normally once the hazard is verified and closed."""

    ACTIVE = "active", _("Under listed supervision")
    LIFTED = "lifted", _("Lifted")


class TaskStatus(models.TextChoices):
    """A surroundings task given to a department: the department accepts it, works on it and
    reports back; the office that gave it confirms or returns it."""

    ASSIGNED = "assigned", _("Assigned")
    ACCEPTED = "accepted", _("Accepted")
    REPORTED = "reported", _("Feedback given")
    CONFIRMED = "confirmed", _("Confirmed done")


class DepartmentKind(models.TextChoices):
    """The departments a surroundings task goes to (§2 13)."""

    MARKET_REGULATION = "market_regulation", _("Market regulation")
    CULTURE = "culture", _("Culture")
    HEALTH = "health", _("Health")
    FOOD_AND_DRUG = "food_and_drug", _("Food and drug")
    TRAFFIC_POLICE = "traffic_police", _("Traffic police")
    URBAN_MANAGEMENT = "urban_management", _("Urban management")
    OTHER = "other", _("Other")
