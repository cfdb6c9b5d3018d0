"""The leading group (领导小组) and its meetings and joint meetings (联席会议): attendees,
minutes, decisions turned into action items with owners and deadlines, tracked like hazards."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from huxiao.supervision.choices import ActionStatus, GroupPosition, MeetingKind, MeetingStatus
from huxiao.supervision.model_fields import user_fk


class LeadingGroup(models.Model):
    """The leading group of a town (or of the county when `town` is empty), kept by its
    governance office."""

    name = models.CharField(_("name"), max_length=200)
    owner = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="leading_groups",
        verbose_name=_("kept by"),
    )
    region = models.ForeignKey(
        "orgs.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("county")
    )
    town = models.ForeignKey(
        "orgs.Town",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("town"),
    )
    established_on = models.DateField(_("established on"), null=True, blank=True)
    duties = models.TextField(_("duties"), blank=True, max_length=4000)
    created_by = user_fk(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("leading group")
        verbose_name_plural = _("leading groups")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class GroupMember(models.Model):
    """A member of the leading group: a user of the platform or a named person of an
    organization, with a position and duties."""

    group = models.ForeignKey(
        LeadingGroup, on_delete=models.CASCADE, related_name="members", verbose_name=_("group")
    )
    user = user_fk(_("user"))
    name = models.CharField(_("name"), max_length=100)
    organization = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organization"),
    )
    title = models.CharField(_("job title"), max_length=100, blank=True)
    position = models.CharField(
        _("position in the group"),
        max_length=15,
        choices=GroupPosition.choices,
        default=GroupPosition.MEMBER,
    )
    duties = models.CharField(_("duties"), max_length=500, blank=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("group member")
        verbose_name_plural = _("group members")
        ordering = ["group", "order", "id"]

    def __str__(self) -> str:
        return self.name


class Meeting(models.Model):
    """A leading-group meeting or a joint meeting of the agencies."""

    group = models.ForeignKey(
        LeadingGroup,
        on_delete=models.PROTECT,
        related_name="meetings",
        verbose_name=_("leading group"),
    )
    kind = models.CharField(_("kind"), max_length=15, choices=MeetingKind.choices)
    title = models.CharField(_("title"), max_length=200)
    starts_at = models.DateTimeField(_("date and time"))
    location = models.CharField(_("location"), max_length=200, blank=True)
    chair = models.CharField(_("chaired by"), max_length=100, blank=True)
    agenda = models.TextField(_("agenda"), blank=True, max_length=4000)
    minutes = models.TextField(_("minutes"), blank=True, max_length=20000)
    status = models.CharField(
        _("status"), max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.PLANNED
    )
    created_by = user_fk(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    held_recorded_by = user_fk(_("minutes recorded by"))
    held_recorded_at = models.DateTimeField(_("minutes recorded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-starts_at", "-id"]

    def __str__(self) -> str:
        return self.title


class MeetingAttendee(models.Model):
    """Someone invited to (and present at, or absent from) a meeting."""

    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="attendees", verbose_name=_("meeting")
    )
    user = user_fk(_("user"))
    name = models.CharField(_("name"), max_length=100)
    organization = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organization"),
    )
    present = models.BooleanField(_("present"), default=True)

    class Meta:
        verbose_name = _("attendee")
        verbose_name_plural = _("attendees")
        ordering = ["meeting", "id"]

    def __str__(self) -> str:
        return self.name


class ActionItem(models.Model):
    """A decision of a meeting turned into work: an owner (person and organization), a
    deadline; open → in progress → reported done → closed, or sent back; overdue items climb
    like hazards (owner → their organization's head → the group's office)."""

    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="actions", verbose_name=_("meeting")
    )
    decision = models.TextField(_("decision"), max_length=2000)
    owner_org = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("responsible organization"),
    )
    owner = user_fk(_("responsible person"), related_name="action_items_owned")
    deadline = models.DateField(_("deadline"))
    status = models.CharField(
        _("status"), max_length=12, choices=ActionStatus.choices, default=ActionStatus.OPEN
    )
    progress = models.TextField(_("latest progress"), blank=True, max_length=4000)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    escalated_at = models.DateTimeField(_("last escalated at"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("reported done at"), null=True, blank=True)
    closed_by = user_fk(_("closed by"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_by = user_fk(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        ordering = ["deadline", "id"]
        indexes = [models.Index(fields=["status", "deadline"])]

    def __str__(self) -> str:
        return self.decision[:50]


class ActionEvent(models.Model):
    """One step of an action item's history."""

    action = models.ForeignKey(
        ActionItem, on_delete=models.CASCADE, related_name="events", verbose_name=_("action item")
    )
    at = models.DateTimeField(_("at"))
    actor = user_fk(_("by"))
    actor_label = models.CharField(_("by"), max_length=150, blank=True)
    from_status = models.CharField(
        _("from"), max_length=12, choices=ActionStatus.choices, blank=True
    )
    to_status = models.CharField(_("to"), max_length=12, choices=ActionStatus.choices)
    note = models.TextField(_("note"), blank=True, max_length=2000)

    class Meta:
        verbose_name = _("action item event")
        verbose_name_plural = _("action item events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class ProgressReport(models.Model):
    """A progress report of the group to the government: the action items' state at a date,
    generated from the data and sent with a covering note."""

    group = models.ForeignKey(
        LeadingGroup, on_delete=models.CASCADE, related_name="reports", verbose_name=_("group")
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    summary = models.TextField(_("covering note"), blank=True, max_length=4000)
    snapshot = models.JSONField(_("figures at sending"), default=dict)
    sent_to = models.ManyToManyField(
        "orgs.Organization", related_name="+", verbose_name=_("sent to"), blank=True
    )
    sent_by = user_fk(_("sent by"))
    sent_at = models.DateTimeField(_("sent at"))

    class Meta:
        verbose_name = _("progress report")
        verbose_name_plural = _("progress reports")
        ordering = ["-sent_at", "-id"]

    def __str__(self) -> str:
        return f"{self.group_id} {self.period_start}–{self.period_end}"
