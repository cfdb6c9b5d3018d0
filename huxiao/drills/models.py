"""Safety education, evacuation drills, legal lectures, parent meetings and staff trainings
(issue 8 items 1–3; §1 二(五)二, §2 7; ADR 0030).

- `Activity` is one planned or held activity of a school: kind, time, organiser, classes and
  headcount, the police officer present (the legal vice-principal for lectures and parent
  meetings), content; files are `ActivityAttachment` rows served by a scoped view.
- `DrillRecord` is the timed record of an evacuation drill (one per drill activity): signal,
  all-out, expected and counted headcount, missing persons resolved; it may link to the
  drill alarm it was started with (`alarms.Alarm(is_drill=True)`). `DrillProblem` rows are
  the problems found, each of which can become a hazard in one step.
- `Term` is a county's school term (the period that per-term rules count in); `ActivityRule`
  a county's rule of a kind from `drills.rules.RULES` with parameters; `ActivityFlag` the
  reminder or flag sent for one school, rule and period (so none is sent twice).
- `ActivityStanding` is a school's stored compliance of one day (a memo of
  `compliance.evaluate_schools`, `drills.standings`), so an overview of a county reads rows.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from huxiao.core.model_fields import school_fk, user_fk
from huxiao.core.scoping import ScopedQuerySet
from huxiao.drills.choices import ActivityKind, ActivityStatus, DrillKind, FlagState


class Term(models.Model):
    """A school term of a county (学期). `breaks` lists holidays inside the term as
    [[first_day, last_day], ...] (ISO dates): weeks wholly inside a break need no drill."""

    region = models.ForeignKey(
        "orgs.Region", on_delete=models.CASCADE, related_name="terms", verbose_name=_("county")
    )
    name = models.CharField(_("term"), max_length=50)
    starts_on = models.DateField(_("term starts on"))
    ends_on = models.DateField(_("term ends on"))
    breaks = models.JSONField(_("holidays in the term"), default=list, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = user_fk(_("updated by"))

    class Meta:
        verbose_name = _("school term")
        verbose_name_plural = _("school terms")
        ordering = ["region_id", "-starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["region", "starts_on"], name="drills_term_start"),
            models.CheckConstraint(
                condition=Q(ends_on__gt=models.F("starts_on")), name="drills_term_order"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Activity(models.Model):
    """One safety activity of a school, planned or held."""

    school = school_fk("safety_activities")
    kind = models.CharField(_("kind"), max_length=20, choices=ActivityKind.choices)
    drill_kind = models.CharField(
        _("drill scenario"), max_length=12, choices=DrillKind.choices, blank=True
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ActivityStatus.choices, default=ActivityStatus.PLANNED
    )
    title = models.CharField(_("title"), max_length=200)
    # Local date the activity is (or was) on; `starts_at`/`ends_at` are the exact times.
    date = models.DateField(_("date"))
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    location = models.CharField(_("place"), max_length=200, blank=True)
    organiser = user_fk(_("organiser"), related_name="activities_organised")
    organiser_name = models.CharField(_("organiser"), max_length=100, blank=True)
    # Empty: the whole school took part.
    classes = models.ManyToManyField(
        "people.SchoolClass",
        blank=True,
        related_name="safety_activities",
        verbose_name=_("classes"),
    )
    whole_school = models.BooleanField(_("whole school"), default=False)
    headcount = models.PositiveIntegerField(_("participants"), null=True, blank=True)
    police_officer = user_fk(_("police officer present"), related_name="activities_attended")
    police_confirmed_at = models.DateTimeField(
        _("presence confirmed by the officer at"), null=True, blank=True
    )
    content = models.TextField(_("content"), blank=True, max_length=4000)
    outcome = models.TextField(_("summary"), blank=True, max_length=4000)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)
    created_by = user_fk(_("recorded by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("safety activity")
        verbose_name_plural = _("safety activities")
        ordering = ["-date", "-starts_at", "-id"]
        indexes = [
            models.Index(fields=["school", "kind", "status", "date"], name="drills_act_school"),
            models.Index(fields=["school", "date"], name="drills_act_calendar"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gte=models.F("starts_at")),
                name="drills_activity_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.title}"


class ActivityAttachment(models.Model):
    """A photo or file of an activity; served only through a scoped view, never /media/."""

    scope_school_field = "activity__school"

    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("activity")
    )
    file = models.FileField(_("file"), upload_to="drills/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = user_fk(_("uploaded by"))
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("activity attachment")
        verbose_name_plural = _("activity attachments")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name


class DrillRecord(models.Model):
    """The timed record of one evacuation drill."""

    scope_school_field = "activity__school"

    activity = models.OneToOneField(
        Activity, on_delete=models.CASCADE, related_name="drill", verbose_name=_("activity")
    )
    alarm = models.ForeignKey(
        "alarms.Alarm",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="drill_records",
        verbose_name=_("drill alarm"),
    )
    signal_at = models.DateTimeField(_("signal given at"), null=True, blank=True)
    all_out_at = models.DateTimeField(_("all out at"), null=True, blank=True)
    expected_headcount = models.PositiveIntegerField(_("expected headcount"), null=True, blank=True)
    counted_headcount = models.PositiveIntegerField(_("counted headcount"), null=True, blank=True)
    missing_resolved = models.BooleanField(_("missing persons accounted for"), default=False)
    missing_note = models.CharField(_("missing persons"), max_length=500, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = user_fk(_("updated by"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("drill record")
        verbose_name_plural = _("drill records")
        constraints = [
            models.CheckConstraint(
                condition=Q(all_out_at__isnull=True)
                | Q(signal_at__isnull=True)
                | Q(all_out_at__gte=models.F("signal_at")),
                name="drills_record_order",
            ),
        ]

    def __str__(self) -> str:
        return f"drill record of activity {self.activity_id}"

    @property
    def duration_seconds(self) -> int | None:
        if self.signal_at is None or self.all_out_at is None:
            return None
        return int((self.all_out_at - self.signal_at).total_seconds())

    @property
    def missing(self) -> int | None:
        if self.expected_headcount is None or self.counted_headcount is None:
            return None
        return max(self.expected_headcount - self.counted_headcount, 0)


class DrillProblem(models.Model):
    """A problem found in a drill; `hazard` is set once it was turned into a hazard."""

    scope_school_field = "record__activity__school"

    record = models.ForeignKey(
        DrillRecord, on_delete=models.CASCADE, related_name="problems", verbose_name=_("drill")
    )
    description = models.CharField(_("problem"), max_length=500)
    hazard = models.ForeignKey(
        "hazards.Hazard",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="drill_problems",
        verbose_name=_("hazard"),
    )
    created_by = user_fk(_("recorded by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("drill problem")
        verbose_name_plural = _("drill problems")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.description


class ActivityRule(models.Model):
    """One rule of a county's activity rule set: a kind from `drills.rules.RULES` with its
    parameters (the kind's defaults overlaid with these values)."""

    region = models.ForeignKey(
        "orgs.Region",
        on_delete=models.CASCADE,
        related_name="activity_rules",
        verbose_name=_("county"),
    )
    key = models.SlugField(_("rule"), max_length=40)
    enabled = models.BooleanField(_("in force"), default=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = user_fk(_("updated by"))

    class Meta:
        verbose_name = _("activity rule")
        verbose_name_plural = _("activity rules")
        ordering = ["region_id", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["region", "key"], name="drills_rule_key")]

    def __str__(self) -> str:
        return self.key


class ActivityFlag(models.Model):
    """A reminder (before a rule's deadline) or flag (after it) sent for one school, rule and
    period; the unique key makes a second run of the job send nothing twice."""

    school = school_fk("activity_flags")
    rule = models.SlugField(_("rule"), max_length=40)
    # The period the rule counts in: "2026-W48" for a week, "term:<id>" for a term.
    period = models.CharField(_("period"), max_length=40)
    state = models.CharField(_("state"), max_length=10, choices=FlagState.choices)
    missing = models.CharField(_("what is missing"), max_length=500, blank=True)
    at = models.DateTimeField(_("at"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("activity reminder or flag")
        verbose_name_plural = _("activity reminders and flags")
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "rule", "period", "state"], name="drills_flag_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.state} {self.rule} {self.period}"


class ActivityStanding(models.Model):
    """A school's activity compliance as judged on `evaluated_on` (`drills.standings`): the
    verdicts `compliance.evaluate_schools` gave, kept so an overview of a thousand schools
    reads rows instead of judging every school again (ADR 0030 addendum).

    `version` is bumped after every committed change of what the verdicts read (the school's
    activities and their classes, its classes, its legal vice-principals); the verdicts
    count only while `computed_version` equals it and the day, the county, its term and its
    rules are still those they were judged with. Nothing here is ever shown unless it would
    be judged the same again."""

    school = models.OneToOneField(
        "orgs.Organization",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="activity_standing",
        verbose_name=_("school"),
    )
    version = models.BigIntegerField(_("version"), default=0)
    computed_version = models.BigIntegerField(_("version judged"), default=-1)
    evaluated_on = models.DateField(_("judged on"), null=True)
    region_id_judged = models.BigIntegerField(_("county judged"), null=True)
    term_key = models.CharField(_("term judged"), max_length=80, blank=True)
    rules_key = models.CharField(_("rules judged"), max_length=64, blank=True)
    # The verdicts as JSON text, decoded only when a page lists what a school lacks, and
    # "rule=verdict;…" for the rates (a county's overview reads only these).
    verdicts = models.TextField(_("verdicts"), blank=True)
    outcomes = models.TextField(_("outcomes"), blank=True)
    computed_at = models.DateTimeField(_("judged at"), null=True)

    class Meta:
        verbose_name = _("stored activity compliance")
        verbose_name_plural = _("stored activity compliance")

    def __str__(self) -> str:
        return f"{self.school_id} {self.evaluated_on}"
