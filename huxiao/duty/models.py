"""Duty (issue 7, items 5–7; §2 5–6; ADR 0029): rosters of day and night shifts with
check-in and check-out, the duty log, handovers that carry open items over, the 24-hour
monitoring-room log, on-campus patrol rounds at QR checkpoints, and the gaps found in any of
them (`DutyGap`: a shift nobody checked in for, a stretch of the monitoring log without an
entry, a day with too few rounds, a boarding school's night without a night round)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from huxiao.core.model_fields import school_fk, user_fk
from huxiao.core.scoping import ScopedQuerySet
from huxiao.duty.choices import DutyRole, GapKind, LogKind, ShiftKind


class DutyPlan(models.Model):
    """A school's duty times and thresholds (one row per school; defaults when missing)."""

    school = models.OneToOneField(
        "orgs.Organization",
        on_delete=models.CASCADE,
        related_name="duty_plan",
        verbose_name=_("school"),
    )
    day_starts = models.TimeField(_("day shift starts"), default="07:00")
    night_starts = models.TimeField(_("night shift starts"), default="19:00")
    check_in_grace_minutes = models.PositiveSmallIntegerField(
        _("minutes before an empty shift is flagged"), default=15
    )
    monitoring_max_gap_minutes = models.PositiveSmallIntegerField(
        _("longest stretch without a monitoring-room entry (minutes)"), default=120
    )
    night_round_from = models.TimeField(_("night rounds from"), default="21:00")
    night_round_until = models.TimeField(_("night rounds until"), default="05:00")
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = user_fk(_("updated by"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("duty plan")
        verbose_name_plural = _("duty plans")

    def __str__(self) -> str:
        return str(self.school)


# ------------------------------------------------------------------ rosters (item 5)


class DutyShift(models.Model):
    """One day or night shift of a school's roster."""

    school = school_fk("duty_shifts")
    date = models.DateField(_("date"))
    kind = models.CharField(_("shift"), max_length=5, choices=ShiftKind.choices)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    # Set when the shift was flagged as uncovered (nobody checked in after the grace time).
    gap_flagged_at = models.DateTimeField(_("flagged uncovered at"), null=True, blank=True)
    created_by = user_fk(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("duty shift")
        verbose_name_plural = _("duty shifts")
        ordering = ["school_id", "starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["school", "date", "kind"], name="duty_shift_once"),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="duty_shift_order"
            ),
        ]
        indexes = [
            models.Index(fields=["school", "starts_at"]),
            models.Index(fields=["starts_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"


class DutyAssignment(models.Model):
    """A person on a shift, with their check-in and check-out."""

    scope_school_field = "shift__school"

    shift = models.ForeignKey(
        DutyShift, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("shift")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="duty_assignments",
        verbose_name=_("person on duty"),
    )
    role = models.CharField(_("duty role"), max_length=10, choices=DutyRole.choices)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("duty assignment")
        verbose_name_plural = _("duty assignments")
        ordering = ["shift_id", "role", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shift", "user"], name="duty_assignment_once")
        ]
        indexes = [models.Index(fields=["user", "shift"])]

    def __str__(self) -> str:
        return f"{self.shift} {self.user}"


class DutyLogEntry(models.Model):
    """One entry of a shift's duty log (值班记录)."""

    scope_school_field = "shift__school"

    shift = models.ForeignKey(
        DutyShift, on_delete=models.CASCADE, related_name="log_entries", verbose_name=_("shift")
    )
    at = models.DateTimeField(_("at"))
    kind = models.CharField(
        _("kind"), max_length=10, choices=LogKind.choices, default=LogKind.ROUTINE
    )
    text = models.TextField(_("entry"), max_length=2000)
    author = user_fk(_("written by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("duty log entry")
        verbose_name_plural = _("duty log entries")
        ordering = ["shift_id", "at", "id"]

    def __str__(self) -> str:
        return self.text[:40]


class DutyHandover(models.Model):
    """The handover at the end of a shift to the next one (交接班)."""

    scope_school_field = "from_shift__school"

    from_shift = models.OneToOneField(
        DutyShift,
        on_delete=models.CASCADE,
        related_name="handover_out",
        verbose_name=_("handed over from"),
    )
    to_shift = models.ForeignKey(
        DutyShift,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="handovers_in",
        verbose_name=_("handed over to"),
    )
    notes = models.TextField(_("notes"), blank=True, max_length=2000)
    handed_over_by = user_fk(_("handed over by"))
    handed_over_at = models.DateTimeField(_("handed over at"))
    received_by = user_fk(_("received by"))
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")
        ordering = ["-handed_over_at", "-id"]

    def __str__(self) -> str:
        return f"{self.from_shift} → {self.to_shift}"


class DutyOpenItem(models.Model):
    """Something a shift could not finish; carried over at each handover until closed."""

    school = school_fk("duty_open_items")
    text = models.CharField(_("open item"), max_length=500)
    raised_in = models.ForeignKey(
        DutyShift,
        on_delete=models.CASCADE,
        related_name="items_raised",
        verbose_name=_("raised in"),
    )
    current_shift = models.ForeignKey(
        DutyShift,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="items_held",
        verbose_name=_("held by shift"),
    )
    raised_by = user_fk(_("raised by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = user_fk(_("closed by"))
    closing_note = models.CharField(_("closing note"), max_length=500, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("open item")
        verbose_name_plural = _("open items")
        ordering = ["school_id", "created_at", "id"]
        indexes = [models.Index(fields=["school", "closed_at"])]

    def __str__(self) -> str:
        return self.text[:40]


# ------------------------------------------------------------------ monitoring room (item 6)


class MonitoringLogEntry(models.Model):
    """One stretch of watching in the monitoring room: who watched, what was seen, what was
    done. Stretches are [period_start, period_end]; uncovered time longer than the school's
    `monitoring_max_gap_minutes` is a gap."""

    school = school_fk("monitoring_log")
    watcher = user_fk(_("watched by"), related_name="monitoring_entries")
    watcher_name = models.CharField(_("watcher (name)"), max_length=50, blank=True)
    period_start = models.DateTimeField(_("from"))
    period_end = models.DateTimeField(_("until"))
    observations = models.TextField(_("what was seen"), max_length=2000)
    actions = models.TextField(_("actions taken"), blank=True, max_length=2000)
    anomaly = models.BooleanField(_("anything abnormal"), default=False)
    created_by = user_fk(_("written by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("monitoring-room log entry")
        verbose_name_plural = _("monitoring-room log")
        ordering = ["school_id", "period_start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="duty_monitoring_order",
            )
        ]
        indexes = [models.Index(fields=["school", "period_start"])]

    def __str__(self) -> str:
        return f"{self.period_start:%Y-%m-%d %H:%M}"


# ------------------------------------------------------------------ patrol rounds (item 7)


class Checkpoint(models.Model):
    """A QR plate at a key area of a school; `code` is the secret the QR carries."""

    school = school_fk("checkpoints")
    name = models.CharField(_("name"), max_length=100)
    location = models.CharField(_("location"), max_length=200, blank=True)
    code = models.CharField(_("QR code"), max_length=32, unique=True)
    is_key_area = models.BooleanField(_("key area"), default=True)
    for_night = models.BooleanField(_("on the night round (dormitories)"), default=False)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    audit_exclude = ("code",)

    class Meta:
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        ordering = ["school_id", "order", "id"]

    def __str__(self) -> str:
        return self.name


class PatrolRound(models.Model):
    """One round by a guard: checkpoints scanned one after another."""

    school = school_fk("patrol_rounds")
    guard = user_fk(_("guard"), related_name="patrol_rounds")
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    is_night = models.BooleanField(_("night round"), default=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("patrol round")
        verbose_name_plural = _("patrol rounds")
        ordering = ["school_id", "-started_at", "-id"]
        indexes = [models.Index(fields=["school", "started_at"])]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M}"


class CheckpointScan(models.Model):
    """One checkpoint scanned on a round."""

    scope_school_field = "round__school"

    round = models.ForeignKey(
        PatrolRound, on_delete=models.CASCADE, related_name="scans", verbose_name=_("round")
    )
    checkpoint = models.ForeignKey(
        Checkpoint, on_delete=models.PROTECT, related_name="scans", verbose_name=_("checkpoint")
    )
    scanned_at = models.DateTimeField(_("scanned at"))
    note = models.CharField(_("note"), max_length=500, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("checkpoint scan")
        verbose_name_plural = _("checkpoint scans")
        ordering = ["round_id", "scanned_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["round", "checkpoint"], name="duty_scan_once")
        ]

    def __str__(self) -> str:
        return f"{self.checkpoint} {self.scanned_at:%H:%M}"


# ------------------------------------------------------------------ gaps


class DutyGap(models.Model):
    """A gap found in duty, the monitoring log or patrol rounds; flagged in real time to the
    duty leader and the principal, resolved with a note."""

    school = school_fk("duty_gaps")
    kind = models.CharField(_("kind"), max_length=20, choices=GapKind.choices)
    shift = models.ForeignKey(
        DutyShift,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="gaps",
        verbose_name=_("shift"),
    )
    day = models.DateField(_("day"), null=True, blank=True)
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"), null=True, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    flagged_at = models.DateTimeField(_("flagged at"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = user_fk(_("resolved by"))
    note = models.CharField(_("note"), max_length=500, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("duty gap")
        verbose_name_plural = _("duty gaps")
        ordering = ["-starts_at", "-id"]
        constraints = [
            # One gap per shift and kind, one per school, kind and start (the periodic
            # checks run again and again; a gap is flagged once).
            models.UniqueConstraint(fields=["school", "kind", "starts_at"], name="duty_gap_once"),
        ]
        indexes = [models.Index(fields=["school", "resolved_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.starts_at:%Y-%m-%d %H:%M}"
