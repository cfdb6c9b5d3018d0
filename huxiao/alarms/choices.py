from django.db import models
from django.utils.translation import gettext_lazy as _


class AlarmKind(models.TextChoices):
    INTRUSION = "intrusion", _("Intrusion")
    VIOLENCE = "violence", _("Violence")
    MEDICAL = "medical", _("Medical emergency")
    FIRE = "fire", _("Fire")
    SUSPICIOUS = "suspicious", _("Suspicious person")
    FIGHT = "fight", _("Fight")
    OTHER = "other", _("Other")


class AlarmStatus(models.TextChoices):
    RAISED = "raised", _("Raised, not acknowledged")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    DISPATCHED = "dispatched", _("Units dispatched")
    ARRIVED = "arrived", _("Police on scene")
    RESOLVED = "resolved", _("Resolved")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = (
    AlarmStatus.RAISED,
    AlarmStatus.ACKNOWLEDGED,
    AlarmStatus.DISPATCHED,
    AlarmStatus.ARRIVED,
)


class AlarmSource(models.TextChoices):
    BUTTON = "button", _("Alarm button on the school page")
    DEVICE = "device", _("Alarm box or gate terminal")
    API = "api", _("API")
    MQTT = "mqtt", _("MQTT alarm box")


class AlarmEventType(models.TextChoices):
    RAISED = "alarm.raised", _("Raised")
    ACKNOWLEDGED = "alarm.acknowledged", _("Acknowledged")
    DISPATCHED = "alarm.dispatched", _("Dispatched")
    ARRIVED = "alarm.arrived", _("Arrived on scene")
    RESOLVED = "alarm.resolved", _("Resolved")
    CANCELLED = "alarm.cancelled", _("Cancelled")
    ESCALATED = "alarm.escalated", _("Escalated")
