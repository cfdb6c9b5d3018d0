from django.db import models
from django.utils.translation import gettext_lazy as _


class IncidentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class GroupKind(models.TextChoices):
    """The four response groups of §1 二(五)四: 案事件处置、伤员救治、秩序维护、现场控制."""

    HANDLING = "handling", _("Incident handling group")
    CASUALTY = "casualty", _("Casualty treatment group")
    ORDER = "order", _("Order maintenance group")
    SCENE = "scene", _("Scene control group")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Not completed")
    DONE = "done", _("Done")


class IncidentEventType(models.TextChoices):
    OPENED = "incident.opened", _("Incident opened")
    COMMANDER_SET = "incident.commander_set", _("Commander assigned")
    MEMBER_ADDED = "incident.member_added", _("Member added")
    MEMBER_REMOVED = "incident.member_removed", _("Member removed")
    LEADER_SET = "incident.leader_set", _("Group leader assigned")
    TASK_ADDED = "incident.task_added", _("Task assigned")
    TASK_COMPLETED = "incident.task_completed", _("Task done")
    NOTE = "incident.note", _("Note")
    CLOSED = "incident.closed", _("Incident closed")
