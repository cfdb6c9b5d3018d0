"""Generated reports (issue 10 item 4, ADR 0033).

One row per document the platform generated: a monthly report of a town or the county, an
incident closing report, an inspection report, a hazard notice, or the Excel export of a
list page. Each runs in the task queue with its progress on the row, is stored (files in the
default storage, served only through the scoped download view) and records who asked for it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ReportKind(models.TextChoices):
    MONTHLY = "monthly", _("Monthly report")
    INCIDENT = "incident_report", _("Incident closing report")
    INSPECTION = "inspection_report", _("Inspection report")
    HAZARD_NOTICE = "hazard_notice", _("Hazard rectification notice")
    EXPORT = "export", _("Excel export")


class ReportStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("report status", "Waiting")
    RUNNING = "running", pgettext_lazy("report status", "Generating")
    DONE = "done", pgettext_lazy("report status", "Ready")
    FAILED = "failed", pgettext_lazy("report status", "Failed")


ACTIVE_STATUSES = (ReportStatus.QUEUED, ReportStatus.RUNNING)


class Report(models.Model):
    kind = models.CharField(_("kind"), max_length=32, choices=ReportKind.choices)
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(
        _("status"), max_length=16, choices=ReportStatus.choices, default=ReportStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    stage = models.CharField(_("stage"), max_length=200, blank=True)
    # The area a monthly report covers (county = region without town) or the school of a
    # document or export; a document also names its subject (incident, inspection, hazard).
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
    school = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("school"),
    )
    month = models.DateField(_("month"), null=True, blank=True)
    subject_id = models.PositiveBigIntegerField(_("subject"), null=True, blank=True)
    export_name = models.CharField(_("list"), max_length=64, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    # Two requests for the same thing while one is waiting or running share one job: the
    # partial unique constraint below makes the second insert fail, and the request answers
    # with the job already there.
    dedupe_key = models.CharField(_("request key"), max_length=255)
    language = models.CharField(_("language"), max_length=10, blank=True)
    pdf = models.FileField(_("PDF"), upload_to="reports/%Y/%m/", blank=True)
    xlsx = models.FileField(_("Excel"), upload_to="reports/%Y/%m/", blank=True)
    filename = models.CharField(_("file name"), max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_by_name = models.CharField(_("requested by (name)"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    audit_exclude = ("pdf", "xlsx")

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=Q(status__in=["queued", "running"]),
                name="reports_one_active_per_key",
            ),
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="reports_progress_at_most_100"
            ),
        ]
        indexes = [
            models.Index(fields=["kind", "region", "town", "-created_at"]),
            models.Index(fields=["kind", "subject_id"]),
            models.Index(fields=["requested_by", "-created_at"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES
