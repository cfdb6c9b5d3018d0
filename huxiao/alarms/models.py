"""One-click alarms and their timeline."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from huxiao.alarms.choices import (
    OPEN_STATUSES,
    AlarmEventType,
    AlarmKind,
    AlarmSource,
    AlarmStatus,
)
from huxiao.core.scoping import ScopedQuerySet


class AlarmQuerySet(ScopedQuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)


class Alarm(models.Model):
    """An alarm raised at a school; every step of its handling is timestamped here and in
    its timeline (AlarmEvent)."""

    school = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="alarms",
        verbose_name=_("school"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=AlarmKind.choices)
    location = models.CharField(_("location"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=2000)
    is_drill = models.BooleanField(_("drill"), default=False)
    source = models.CharField(_("source"), max_length=10, choices=AlarmSource.choices)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=AlarmStatus.choices,
        default=AlarmStatus.RAISED,
        db_index=True,
    )
    raised_at = models.DateTimeField(_("raised at"), db_index=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("raised by"),
    )
    raised_by_device = models.ForeignKey(
        "accounts.DeviceToken",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("device"),
    )
    # Until then the raiser may cancel without a reason (an accidental press).
    cancel_window_ends_at = models.DateTimeField(_("free cancel until"))

    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    dispatch_note = models.CharField(_("units dispatched"), max_length=300, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True, max_length=4000)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("cancel reason"), max_length=300, blank=True)
    is_false_alarm = models.BooleanField(_("false alarm"), default=False)

    escalation_level = models.PositiveSmallIntegerField(_("escalations"), default=0)
    last_escalated_at = models.DateTimeField(_("last escalated at"), null=True, blank=True)

    # A retried device request must not raise a second alarm (ADR 0011).
    idempotency_scope = models.CharField(max_length=40, blank=True)
    idempotency_key = models.CharField(max_length=200, blank=True)
    request_fingerprint = models.CharField(max_length=64, blank=True)

    objects = AlarmQuerySet.as_manager()

    class Meta:
        verbose_name = _("alarm")
        verbose_name_plural = _("alarms")
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_scope", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="alarm_unique_idempotency_key",
            )
        ]
        indexes = [models.Index(fields=["school", "status", "-raised_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} @ {self.school_id} {self.raised_at:%Y-%m-%d %H:%M:%S}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def seconds_between(self, start: str, end: str) -> float | None:
        a, b = getattr(self, start), getattr(self, end)
        if a is None or b is None:
            return None
        return round((b - a).total_seconds(), 1)

    @property
    def ack_seconds(self) -> float | None:
        return self.seconds_between("raised_at", "acknowledged_at")

    @property
    def arrival_seconds(self) -> float | None:
        return self.seconds_between("raised_at", "arrived_at")


class AlarmEvent(models.Model):
    """One step of an alarm's handling. Its id is the console's `event_id`: consoles that
    reconnect ask for everything after the last id they saw."""

    scope_school_field = "alarm__school"

    alarm = models.ForeignKey(
        Alarm, on_delete=models.CASCADE, related_name="events", verbose_name=_("alarm")
    )
    type = models.CharField(_("event"), max_length=30, choices=AlarmEventType.choices)
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
        verbose_name = _("alarm event")
        verbose_name_plural = _("alarm events")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.type} alarm {self.alarm_id}"
