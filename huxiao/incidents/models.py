"""Emergency incidents (§1 二(五)四): opened from an alarm, worked by four response groups of
police and school members, with tasks, a timeline and a closing report."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.core.scoping import ScopedQuerySet
from huxiao.incidents.choices import GroupKind, IncidentEventType, IncidentStatus, TaskStatus


class Incident(models.Model):
    """One emergency response at a school. An alarm opens at most one incident."""

    scope_school_field = "school"

    school = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="incidents",
        verbose_name=_("school"),
    )
    # A OneToOneField is unique: a second "open incident" on the same alarm cannot insert.
    alarm = models.OneToOneField(
        "alarms.Alarm",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incident",
        verbose_name=_("alarm"),
    )
    title = models.CharField(_("incident title"), max_length=200)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=IncidentStatus.choices,
        default=IncidentStatus.OPEN,
        db_index=True,
    )
    opened_at = models.DateTimeField(_("opened at"), db_index=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("opened by"),
    )
    commander = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("incident commander"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )
    # The closing report.
    summary = models.TextField(_("summary"), blank=True, max_length=8000)
    casualties = models.TextField(_("casualties"), blank=True, max_length=4000)
    actions_taken = models.TextField(_("actions taken"), blank=True, max_length=8000)
    lessons = models.TextField(_("lessons learned"), blank=True, max_length=8000)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["school", "status", "-opened_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == IncidentStatus.OPEN

    @property
    def is_drill(self) -> bool:
        return bool(self.alarm_id and self.alarm.is_drill)


class ResponseGroup(models.Model):
    """One of the four response groups; every incident has all four from the start."""

    scope_school_field = "incident__school"

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="groups", verbose_name=_("incident")
    )
    kind = models.CharField(_("group"), max_length=20, choices=GroupKind.choices)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("group leader"),
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("response group")
        verbose_name_plural = _("response groups")
        constraints = [
            models.UniqueConstraint(fields=["incident", "kind"], name="incident_group_unique_kind")
        ]
        ordering = ["incident_id", "id"]

    def __str__(self) -> str:
        return str(self.get_kind_display())


class GroupMember(models.Model):
    """A person in a response group, from the school or from its police station or post."""

    scope_school_field = "group__incident__school"

    group = models.ForeignKey(
        ResponseGroup, on_delete=models.CASCADE, related_name="members", verbose_name=_("group")
    )
    # PROTECT: the record of who responded outlives a deleted account.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="incident_memberships",
        verbose_name=_("person"),
    )
    organization = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organization"),
    )
    role = models.CharField(_("role in the group"), max_length=100, blank=True)
    added_at = models.DateTimeField(_("added at"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("group member")
        verbose_name_plural = _("group members")
        constraints = [
            models.UniqueConstraint(fields=["group", "user"], name="incident_member_unique_user")
        ]
        ordering = ["group_id", "id"]

    def __str__(self) -> str:
        return f"{self.user} · {self.group}"


class Task(models.Model):
    """A task with an owner and a deadline."""

    scope_school_field = "incident__school"

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("incident")
    )
    group = models.ForeignKey(
        ResponseGroup,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
        verbose_name=_("group"),
    )
    title = models.CharField(_("task"), max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="incident_tasks",
        verbose_name=_("owner"),
    )
    due_at = models.DateTimeField(_("due at"))
    status = models.CharField(
        _("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    created_at = models.DateTimeField(_("assigned at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned by"),
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("done by"),
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_at", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.status == TaskStatus.DONE

    def is_overdue(self, now=None) -> bool:
        return not self.is_done and self.due_at < (now or timezone.now())

    @property
    def overdue(self) -> bool:
        return self.is_overdue()


class IncidentEvent(models.Model):
    """One entry of the incident's timeline; every incident service writes one."""

    scope_school_field = "incident__school"

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="events", verbose_name=_("incident")
    )
    type = models.CharField(_("event"), max_length=40, choices=IncidentEventType.choices)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    actor_label = models.CharField(_("by"), max_length=150, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("incident event")
        verbose_name_plural = _("incident events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.type} incident {self.incident_id}"
