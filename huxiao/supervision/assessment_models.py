"""Assessment and ranking, notices, accountability and the one-vote veto (§1 二(六)三,
§2 三). Indicators are computed from the platform's own data through the indicator
interface (`supervision/indicators.py`); one whose source app is not built yet answers
"no data", never a made-up value."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from huxiao.core.scoping import ScopedQuerySet
from huxiao.supervision.choices import (
    AccountabilityKind,
    NoticeKind,
    NoticeStatus,
    PeriodKind,
    Rating,
    RunStatus,
)
from huxiao.supervision.model_fields import user_fk


class AssessmentScheme(models.Model):
    """Indicators with weights and rules, owned by an education or governance office."""

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True, max_length=4000)
    owner = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="assessment_schemes",
        verbose_name=_("owner"),
    )
    period_kind = models.CharField(
        _("period"), max_length=10, choices=PeriodKind.choices, default=PeriodKind.MONTH
    )
    excellent_from = models.DecimalField(
        _("excellent from"), max_digits=5, decimal_places=1, default=Decimal("90")
    )
    good_from = models.DecimalField(
        _("good from"), max_digits=5, decimal_places=1, default=Decimal("80")
    )
    pass_from = models.DecimalField(
        _("pass from"), max_digits=5, decimal_places=1, default=Decimal("60")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_by = user_fk(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("assessment scheme")
        verbose_name_plural = _("assessment schemes")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Indicator(models.Model):
    """One indicator of a scheme: a computed source (a key of the indicator registry) or
    `manual`, its weight (points out of the scheme's total) and its rule's parameters."""

    scheme = models.ForeignKey(
        AssessmentScheme,
        on_delete=models.CASCADE,
        related_name="indicators",
        verbose_name=_("scheme"),
    )
    order = models.PositiveIntegerField(_("order"), default=0)
    name = models.CharField(_("name"), max_length=200)
    source = models.CharField(_("source"), max_length=50)
    weight = models.DecimalField(
        _("weight"),
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    params = models.JSONField(_("rule parameters"), default=dict, blank=True)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["scheme", "order", "id"]

    def __str__(self) -> str:
        return self.name


class ManualScore(models.Model):
    """A manually scored indicator for one school and period, as a fraction 0–100 % of the
    indicator's weight."""

    scope_school_field = "school"

    indicator = models.ForeignKey(
        Indicator,
        on_delete=models.CASCADE,
        related_name="manual_scores",
        verbose_name=_("indicator"),
    )
    school = models.ForeignKey(
        "orgs.Organization", on_delete=models.PROTECT, related_name="+", verbose_name=_("school")
    )
    period_start = models.DateField(_("period start"))
    percent = models.DecimalField(
        _("score (%)"),
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    note = models.CharField(_("note"), max_length=1000, blank=True)
    scored_by = user_fk(_("scored by"))
    scored_at = models.DateTimeField(_("scored at"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("manual score")
        verbose_name_plural = _("manual scores")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "school", "period_start"], name="manual_score_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id}/{self.school_id}: {self.percent}"


class AssessmentRun(models.Model):
    """The computed assessment of a scheme's schools for one period; published runs are
    frozen (recomputing makes a new run)."""

    scheme = models.ForeignKey(
        AssessmentScheme, on_delete=models.PROTECT, related_name="runs", verbose_name=_("scheme")
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.DRAFT
    )
    computed_by = user_fk(_("computed by"))
    computed_at = models.DateTimeField(_("computed at"))
    published_by = user_fk(_("published by"))
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("computation time (ms)"), default=0)

    class Meta:
        verbose_name = _("assessment run")
        verbose_name_plural = _("assessment runs")
        ordering = ["-period_start", "-computed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.scheme_id} {self.period_start}"


class AssessmentResult(models.Model):
    """One school's result in a run: total, rank, rating, the veto, per-indicator details
    (`{"<indicator id>": {"value":…, "score":…, "no_data": bool}}`)."""

    scope_school_field = "school"

    run = models.ForeignKey(
        AssessmentRun, on_delete=models.CASCADE, related_name="results", verbose_name=_("run")
    )
    school = models.ForeignKey(
        "orgs.Organization", on_delete=models.PROTECT, related_name="+", verbose_name=_("school")
    )
    town = models.ForeignKey(
        "orgs.Town",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("town"),
    )
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2, null=True, blank=True)
    max_score = models.DecimalField(
        _("maximum with data"), max_digits=6, decimal_places=2, default=Decimal(0)
    )
    rank = models.PositiveIntegerField(_("rank"), null=True, blank=True)
    rating = models.CharField(_("rating"), max_length=10, choices=Rating.choices, blank=True)
    vetoed = models.BooleanField(_("one-vote veto"), default=False)
    details = models.JSONField(_("details"), default=dict)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("assessment result")
        verbose_name_plural = _("assessment results")
        ordering = ["run", "rank", "school_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "school"], name="assessment_result_once"),
        ]

    def __str__(self) -> str:
        return f"{self.school_id}: {self.score}"


class TownResult(models.Model):
    """A town's result in a run: the mean of its schools' scores, and its rank."""

    run = models.ForeignKey(
        AssessmentRun, on_delete=models.CASCADE, related_name="town_results", verbose_name=_("run")
    )
    town = models.ForeignKey(
        "orgs.Town", on_delete=models.PROTECT, related_name="+", verbose_name=_("town")
    )
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2, null=True, blank=True)
    rank = models.PositiveIntegerField(_("rank"), null=True, blank=True)
    schools = models.PositiveIntegerField(_("schools"), default=0)
    vetoed_schools = models.PositiveIntegerField(_("schools vetoed"), default=0)

    class Meta:
        verbose_name = _("town result")
        verbose_name_plural = _("town results")
        ordering = ["run", "rank", "town_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "town"], name="town_result_once"),
        ]

    def __str__(self) -> str:
        return f"{self.town_id}: {self.score}"


class Veto(models.Model):
    """一票否决: a serious failure caps the school's rating for the period, whatever its score."""

    scope_school_field = "school"

    school = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="vetoes",
        verbose_name=_("school"),
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    reason = models.TextField(_("reason"), max_length=2000)
    decided_by_org = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_by = user_fk(_("recorded by"))
    decided_at = models.DateTimeField(_("decided at"))
    revoked_by = user_fk(_("revoked by"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoke_reason = models.TextField(_("reason for revoking"), blank=True, max_length=2000)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("one-vote veto")
        verbose_name_plural = _("one-vote vetoes")
        ordering = ["-decided_at", "-id"]
        constraints = [
            # One veto in force per school and period (a revoked one may be followed by a
            # new one); veto_record checks first under the school's row lock.
            models.UniqueConstraint(
                fields=["school", "period_start", "period_end"],
                condition=models.Q(revoked_at__isnull=True),
                name="veto_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.school_id} {self.period_start}"


class Notice(models.Model):
    """A commendation or public criticism, published to chosen organizations; a criticism
    carries a deadline to turn things round."""

    kind = models.CharField(_("kind"), max_length=15, choices=NoticeKind.choices)
    reference = models.CharField(_("reference number"), max_length=60, blank=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), max_length=10000)
    issuer = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="notices_issued",
        verbose_name=_("issued by"),
    )
    run = models.ForeignKey(
        AssessmentRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notices",
        verbose_name=_("assessment"),
    )
    subjects = models.ManyToManyField(
        "orgs.Organization", related_name="notices_about", verbose_name=_("about"), blank=True
    )
    recipients = models.ManyToManyField(
        "orgs.Organization",
        through="NoticeReceipt",
        related_name="notices_received",
        verbose_name=_("published to"),
    )
    improve_by = models.DateField(
        _("to be turned round by"),
        null=True,
        blank=True,
        help_text=_("Public criticism only: the date by which things must be put right."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=NoticeStatus.choices, default=NoticeStatus.DRAFT
    )
    created_by = user_fk(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    published_by = user_fk(_("published by"))
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    # A public criticism is followed until the issuer records that things were turned round;
    # the text above stays as published (ADR 0027, "Notices and accountability").
    resolved_by = user_fk(_("resolved by"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = models.TextField(_("how it was turned round"), blank=True, max_length=2000)
    # The last day the daily job told the issuer that the deadline had passed unresolved.
    reminded_on = models.DateField(_("overdue reminder sent on"), null=True, blank=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-published_at", "-created_at", "-id"]
        constraints = [
            # One reference number (文号) per issuer among its published notices.
            models.UniqueConstraint(
                fields=["issuer", "reference"],
                condition=models.Q(status="published") & ~models.Q(reference=""),
                name="notice_reference_once",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class NoticeReceipt(models.Model):
    """A notice published to one organization, and when someone there read it."""

    notice = models.ForeignKey(
        Notice, on_delete=models.CASCADE, related_name="receipts", verbose_name=_("notice")
    )
    organization = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organization"),
    )
    read_by = user_fk(_("read by"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notice receipt")
        verbose_name_plural = _("notice receipts")
        constraints = [
            models.UniqueConstraint(fields=["notice", "organization"], name="notice_receipt_once"),
        ]

    def __str__(self) -> str:
        return f"{self.notice_id} → {self.organization_id}"


class Accountability(models.Model):
    """An interview (约谈), written warning or referral, tied to a school or organization."""

    kind = models.CharField(_("kind"), max_length=20, choices=AccountabilityKind.choices)
    subject = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="accountabilities",
        verbose_name=_("school or organization"),
    )
    person_name = models.CharField(_("person"), max_length=100, blank=True)
    person_position = models.CharField(_("position"), max_length=100, blank=True)
    reason = models.TextField(_("reason"), max_length=4000)
    decided_on = models.DateField(_("date"))
    decided_by_org = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    follow_up = models.TextField(_("follow-up"), blank=True, max_length=4000)
    follow_up_by = user_fk(_("follow-up written by"))
    follow_up_at = models.DateTimeField(_("follow-up written at"), null=True, blank=True)
    hazard = models.ForeignKey(
        "hazards.Hazard",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("hazard"),
    )
    notice = models.ForeignKey(
        Notice,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("notice"),
    )
    created_by = user_fk(_("recorded by"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("accountability record")
        verbose_name_plural = _("accountability records")
        ordering = ["-decided_on", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject_id}"
