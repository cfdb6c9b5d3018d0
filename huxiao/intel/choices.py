from django.db import models
from django.utils.translation import gettext_lazy as _


class RiskCategory(models.TextChoices):
    """The kinds of high-risk person the policy names (§1 二(四), §2 13)."""

    MENTAL_ILLNESS = "mental_illness", _("Mentally ill with a tendency to violence")
    PERSONALITY_DEFECT = "personality_defect", _("Severe personality defect")
    REVENGE_THREAT = "revenge_threat", _("Threatened revenge over a school dispute")
    NO_LIVELIHOOD = "no_livelihood", _("No means of livelihood or heavily in debt")
    PETITIONER = "petitioner", _("Key petitioner")
    DRUG_USER = "drug_user", _("Drug user")
    HOSTILE_TO_SOCIETY = "hostile_to_society", _("Psychologically unbalanced, hostile to society")
    OTHER = "other", _("Other")


class RiskLevel(models.TextChoices):
    HIGH = "high", _("High risk")
    MEDIUM = "medium", _("Medium risk")
    LOW = "low", _("Low risk")


# Days from a follow-up (or from registration) to the next review when none is given.
REVIEW_INTERVAL_DAYS = {RiskLevel.HIGH: 7, RiskLevel.MEDIUM: 30, RiskLevel.LOW: 90}


class PersonStatus(models.TextChoices):
    ACTIVE = "active", _("Under control")
    CLOSED = "closed", _("Control ended")


class CloseReason(models.TextChoices):
    RISK_RESOLVED = "risk_resolved", _("Risk resolved")
    MOVED_AWAY = "moved_away", _("Moved out of the jurisdiction")
    LONG_TERM_CUSTODY = "long_term_custody", _("In long-term custody or care")
    DECEASED = "deceased", _("Deceased")
    REGISTERED_IN_ERROR = "registered_in_error", _("Registered in error")
    OTHER = "other", _("Other")


class MeasureKind(models.TextChoices):
    """Control measures (§1 二(四): 疏导、稳控 … 逐一落实管控措施)."""

    COUNSELLING = "counselling", _("Counselling")
    STABILISATION = "stabilisation", _("Stabilisation")
    CUSTODY = "custody", _("Custody or compulsory care")
    MONITORING = "monitoring", _("Monitoring")


class FollowUpMethod(models.TextChoices):
    HOME_VISIT = "home_visit", _("Home visit")
    PHONE = "phone", _("Phone call")
    VIA_CONTACTS = "via_contacts", _("Through family or village cadres")
    OTHER = "other", _("Other")


class Assessment(models.TextChoices):
    STABLE = "stable", _("Stable")
    ATTENTION = "attention", _("Needs close attention")
    WHEREABOUTS_UNKNOWN = "whereabouts_unknown", _("Whereabouts unknown")


class MatchKind(models.TextChoices):
    ID_NUMBER = "id_number", _("Resident ID number")
    NAME_BIRTH_DATE = "name_birth_date", _("Name and birth date")


class ScreeningOutcome(models.TextChoices):
    CLEAR = "clear", _("Screened clear")
    HOLD = "hold", _("Hold for the police")
