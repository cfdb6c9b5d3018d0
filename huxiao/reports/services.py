"""Requesting and building reports (ADR 0033).

- `report_request`: one job per request key while it waits or runs. Two requests for the
  same report (a double click, two browsers, two supervisors at once) get the same job: the
  partial unique constraint on `dedupe_key` makes the second insert fail, and the second
  caller is answered with the first job. Once a job is done or failed, a new request makes a
  new report (the data may have changed); older ones stay downloadable.
- `report_build`: run by the task queue. Claims the job (queued → running) with one UPDATE,
  so a task delivered twice builds once; builds in the language the requester used; stores
  the files; a failure leaves the job failed with a message the user can act on, never a
  half-stored report.
- `reports_fail_stale`: a build running longer than `STALE_AFTER` (its worker died) or a
  job waiting longer than `QUEUE_STALE_AFTER` is failed, with a message to request it again.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from huxiao.audit.services import audit_create
from huxiao.core.names import person_name
from huxiao.reports import registry
from huxiao.reports.models import ACTIVE_STATUSES, Report, ReportStatus

logger = logging.getLogger(__name__)
# A build that has run this long lost its worker; a job waiting this long, its queue.
STALE_AFTER = dt.timedelta(minutes=30)
QUEUE_STALE_AFTER = dt.timedelta(hours=6)
GENERIC_FAILURE = _(
    "The report could not be generated. Try again; if it fails again, tell the administrator."
)


def _display_name(user) -> str:
    return person_name(user)[:150]


def _active(key: str) -> Report | None:
    return Report.objects.filter(dedupe_key=key, status__in=ACTIVE_STATUSES).first()


def report_request(
    *,
    actor,
    kind: str,
    title: str,
    region_id: int,
    dedupe_key: str,
    town_id: int | None = None,
    school_id: int | None = None,
    month: dt.date | None = None,
    subject_id: int | None = None,
    export_name: str = "",
    params: dict | None = None,
) -> tuple[Report, bool]:
    """Queue a report; returns (report, created). The caller has checked that `actor` may
    request it. `dedupe_key` names what is asked for (area and month, subject, list and
    filters…); the kind is prefixed here."""
    if registry.get(kind) is None:
        raise ValueError(f"no builder registered for report kind {kind!r}")
    key = f"{kind}:{dedupe_key}"[:255]
    existing = _active(key)
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            report = Report.objects.create(
                kind=kind,
                title=str(title)[:200],
                region_id=region_id,
                town_id=town_id,
                school_id=school_id,
                month=month,
                subject_id=subject_id,
                export_name=export_name,
                params=params or {},
                dedupe_key=key,
                language=translation.get_language() or "",
                requested_by=actor,
                requested_by_name=_display_name(actor),
            )
            audit_create(actor=actor, obj=report, school=report.school)
    except IntegrityError:
        existing = _active(key)
        if existing is None:
            raise
        return existing, False
    transaction.on_commit(lambda: _enqueue(report.pk))
    return report, True


def _enqueue(report_id: int) -> None:
    from huxiao.reports.tasks import report_build_task

    report_build_task(report_id)


class Progress:
    """Writes a job's progress (0–99 while running; 100 only when stored)."""

    def __init__(self, report_id: int):
        self.report_id = report_id

    def __call__(self, percent: float, stage="") -> None:
        Report.objects.filter(pk=self.report_id, status=ReportStatus.RUNNING).update(
            progress=max(1, min(99, int(percent))), stage=str(stage)[:200]
        )


def _fail(report_id: int, message) -> None:
    Report.objects.filter(pk=report_id).update(
        status=ReportStatus.FAILED, error=str(message), finished_at=timezone.now()
    )


def report_build(report_id: int) -> Report | None:
    now = timezone.now()
    claimed = Report.objects.filter(pk=report_id, status=ReportStatus.QUEUED).update(
        status=ReportStatus.RUNNING, started_at=now, progress=1
    )
    if not claimed:
        return None
    report = Report.objects.select_related("requested_by", "region", "town", "school").get(
        pk=report_id
    )
    spec = registry.get(report.kind)
    language = report.language or None
    try:
        with translation.override(language):
            if spec is None:
                raise registry.ReportFailed(GENERIC_FAILURE)
            built = spec.build(report, Progress(report.pk))
            _store(report, built)
    except registry.ReportFailed as exc:
        _fail(report.pk, exc.message)
    except Exception:
        logger.exception("report %s (%s) failed", report.pk, report.kind)
        with translation.override(language):
            _fail(report.pk, GENERIC_FAILURE)
    report.refresh_from_db()
    return report


def _store(report: Report, built: registry.Built) -> None:
    stem = (built.filename or report.title or "report").replace("/", "-")[:150]
    if built.pdf is not None:
        report.pdf.save(f"{stem}.pdf", ContentFile(built.pdf), save=False)
    if built.xlsx is not None:
        report.xlsx.save(f"{stem}.xlsx", ContentFile(built.xlsx), save=False)
    report.filename = stem
    report.rows = built.rows
    report.status = ReportStatus.DONE
    report.progress = 100
    report.stage = ""
    report.finished_at = timezone.now()
    updated = Report.objects.filter(pk=report.pk, status=ReportStatus.RUNNING).update(
        pdf=report.pdf.name or "",
        xlsx=report.xlsx.name or "",
        filename=report.filename,
        rows=report.rows,
        status=report.status,
        progress=100,
        stage="",
        finished_at=report.finished_at,
    )
    if not updated:  # failed as stale meanwhile: drop the files, keep the failure
        for field in (report.pdf, report.xlsx):
            if field:
                field.delete(save=False)


def reports_fail_stale(now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    with translation.override(None):
        return Report.objects.filter(
            Q(status=ReportStatus.RUNNING, started_at__lt=now - STALE_AFTER)
            | Q(status=ReportStatus.QUEUED, created_at__lt=now - QUEUE_STALE_AFTER)
        ).update(
            status=ReportStatus.FAILED,
            error=str(_("The task queue stopped while generating this report. Request it again.")),
            finished_at=now,
        )
