"""Choices of school-related cases (涉校涉园案件, ADR 0021)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseCategory(models.TextChoices):
    VIOLENCE = "violence", _("Violence against pupils or staff")
    INTRUSION = "intrusion", _("Intrusion into the school")
    BULLYING_INJURY = "bullying_injury", _("Fight or bullying with injury")
    THEFT = "theft", _("Theft")
    TRAFFIC = "traffic", _("Traffic")
    FRAUD = "fraud", _("Fraud targeting parents or pupils")
    OTHER = "other", _("Other")


class CaseStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    INVESTIGATING = "investigating", _("Investigating")
    SOLVED = "solved", _("Solved")
    REFERRED = "referred", _("Referred")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = frozenset({CaseStatus.REGISTERED, CaseStatus.INVESTIGATING})
# One step at a time; a case may be closed without being solved (e.g. no crime found).
CASE_TRANSITIONS: dict[str, frozenset[str]] = {
    CaseStatus.REGISTERED: frozenset({CaseStatus.INVESTIGATING}),
    CaseStatus.INVESTIGATING: frozenset({CaseStatus.SOLVED, CaseStatus.CLOSED}),
    CaseStatus.SOLVED: frozenset({CaseStatus.REFERRED, CaseStatus.CLOSED}),
    CaseStatus.REFERRED: frozenset(),
    CaseStatus.CLOSED: frozenset(),
}
# The model field that records when a case entered each state.
STATUS_TIMESTAMP = {
    CaseStatus.REGISTERED: "registered_at",
    CaseStatus.INVESTIGATING: "investigating_at",
    CaseStatus.SOLVED: "solved_at",
    CaseStatus.REFERRED: "referred_at",
    CaseStatus.CLOSED: "closed_at",
}
