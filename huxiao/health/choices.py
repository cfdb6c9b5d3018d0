"""Choices of the health app (issue 9; §3 1–10; ADR 0032)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Party(models.TextChoices):
    """The four parties of §3 1 (the families are reached through the guardians)."""

    HEALTH_CENTRE = "health_centre", _("Health centre")
    GOVERNMENT = "government", _("Township government")
    CENTRAL_SCHOOL = "central_school", _("Central school")
    SCHOOL = "school", pgettext_lazy("party", "The school")


class CheckSession(models.TextChoices):
    MORNING = "morning", _("Morning check")
    NOON = "noon", _("Noon check")
    EXTRA = "extra", _("Extra check")


class Symptom(models.TextChoices):
    """Symptoms of the morning check and of illness absences (WS/T 772-2020)."""

    FEVER = "fever", _("Fever")
    COUGH = "cough", _("Cough")
    RASH = "rash", _("Rash")
    VOMITING = "vomiting", _("Vomiting")
    DIARRHOEA = "diarrhoea", _("Diarrhoea")
    RED_EYES = "red_eyes", _("Red eyes")
    HFMD = "hfmd", _("Mouth/hand/foot blisters")
    OTHER = "other", _("Other symptom")


# Symptoms counted together as "similar" by the cluster rules (a respiratory, a digestive,
# a skin and an eye syndrome; "other" is its own group).
SYMPTOM_GROUPS: dict[str, str] = {
    Symptom.FEVER: "respiratory",
    Symptom.COUGH: "respiratory",
    Symptom.VOMITING: "digestive",
    Symptom.DIARRHOEA: "digestive",
    Symptom.RASH: "skin",
    Symptom.HFMD: "skin",
    Symptom.RED_EYES: "eye",
    Symptom.OTHER: "other",
}


class SymptomGroup(models.TextChoices):
    RESPIRATORY = "respiratory", _("Fever or cough")
    DIGESTIVE = "digestive", _("Vomiting or diarrhoea")
    SKIN = "skin", _("Rash or blisters")
    EYE = "eye", _("Red eyes")
    OTHER = "other", _("Other symptoms")
    ANY = "any", _("Any symptom")


class CheckAction(models.TextChoices):
    NONE = "none", _("Stays in class")
    OBSERVATION = "observation", _("To the observation room")
    SENT_HOME = "sent_home", _("Sent home")
    HOSPITAL = "hospital", _("Sent to a doctor")


class AbsenceCause(models.TextChoices):
    ILLNESS = "illness", _("Illness")
    PERSONAL = "personal", _("Personal reasons")
    UNKNOWN = "unknown", _("Cause unknown")


class SymptomSource(models.TextChoices):
    CHECK = "check", _("Health check")
    ABSENCE = "absence", _("Illness absence")
    CASE = "case", _("Suspected case")


class RuleKind(models.TextChoices):
    """Cluster-alert rules (WS/T 772-2020 in spirit; parameters are data)."""

    CLASS_CLUSTER = "class_cluster", _("Children of one class with similar symptoms")
    SCHOOL_CLUSTER = "school_cluster", _("Children of one school with similar symptoms")
    NOTIFIABLE = "notifiable", _("Any suspected notifiable disease")


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", pgettext_lazy("alert status", "Closed")


class CaseStatus(models.TextChoices):
    """Where a suspected case stands; the steps themselves are `CaseStep` rows."""

    REPORTED = "reported", _("Reported")
    ACTIVE = "active", _("Procedure under way")
    CONFIRMED = "confirmed", _("Confirmed")
    CLEARED = "cleared", _("Cleared")
    CLOSED = "closed", pgettext_lazy("case status", "Closed")


class Step(models.TextChoices):
    """The steps of §3 4–10, in order. `CaseStep` records who did each and when."""

    REPORTED = "reported", _("Class teacher reports to the duty leader")
    VERIFIED = "verified", _("Duty leader verifies and reports to the leading group")
    STARTED = "started", _("Group leader starts the procedure")
    GROUPS = "groups", _("Response groups take their posts")
    ISOLATED = "isolated", _("Child isolated in the observation room")
    CLASS_MOVED = "class_moved", _("Class moved to the standby classroom")
    CLASSROOM_DISINFECTED = "classroom_disinfected", _("Classroom disinfected")
    PARENTS_NOTIFIED = "parents_notified", _("Parents notified")
    CENTRAL_SCHOOL_REPORTED = "central_school_reported", _("Reported to the central school")
    HEALTH_CENTRE_REPORTED = "health_centre_reported", _("Reported to the health centre")
    TRANSFERRED = "transferred", _("Transferred by the health centre")
    CONTACTS_TRACED = "contacts_traced", _("Close contacts traced")
    CONTACTS_NOTIFIED = "contacts_notified", _("Contacts' families notified")
    EMERGENCY_DISINFECTION = "emergency_disinfection", _("Emergency disinfection")
    ASSESSED = "assessed", _("Suspension assessed")
    OUTCOME = "outcome", _("Confirmed or cleared")
    AFTERCARE = "aftercare", _("Aftercare arranged")


STEP_ORDER: tuple[str, ...] = tuple(Step.values)


class ResponseGroupKind(models.TextChoices):
    """The six groups of §3 4."""

    COORDINATION = "coordination", _("Coordination")
    MONITORING = "monitoring", _("Epidemic monitoring")
    TREATMENT = "treatment", _("Treatment")
    LIAISON = "liaison", _("External liaison")
    DISINFECTION = "disinfection", _("Disinfection and prevention")
    PUBLICITY = "publicity", _("Publicity and education")


class ContactReason(models.TextChoices):
    SAME_CLASS = "same_class", _("Same class")
    CLASS_STAFF = "class_staff", _("Teacher or staff of the class")
    BUS = "bus", _("Same bus trip")
    DINING = "dining", _("Same dining table or group")
    CHECK_QUEUE = "check_queue", _("Next in the check queue")
    DORMITORY = "dormitory", _("Same dormitory room")


class DisinfectionKind(models.TextChoices):
    ROUTINE = "routine", _("Routine")
    EMERGENCY = "emergency", _("Emergency")


class DisinfectionArea(models.TextChoices):
    ISOLATION = "isolation", _("Isolation / observation room")
    CLASSROOM = "classroom", _("Classroom")
    BUS = "bus", _("School bus")
    CANTEEN = "canteen", _("Canteen")
    DORMITORY = "dormitory", _("Dormitory")
    TOILET = "toilet", _("Toilets")
    PLAYGROUND = "playground", _("Playground and corridors")
    OTHER = "other", _("Other area")


class SuspensionScope(models.TextChoices):
    CLASS = "class", _("One class")
    GRADE = "grade", _("One grade")
    SCHOOL = "school", _("Whole school")


class AftercareKind(models.TextChoices):
    SUPPLIES = "supplies", _("Isolation supplies")
    FOLLOW_UP = "follow_up", _("Follow-up observation")
    PSYCHOLOGICAL = "psychological", _("Psychological support")
    RECEPTION = "reception", _("Receiving and reassuring the family")
    OTHER = "other", _("Other task")
