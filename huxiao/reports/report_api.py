"""Reports over the API: a report's status and progress (ADR 0033)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from ninja import Router, Schema

from huxiao.reports import selectors as sel

router = Router(tags=["reports"])


class ReportOut(Schema):
    id: int
    kind: str
    title: str
    status: str
    progress: int
    stage: str
    error: str
    requested_by: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    pdf_url: str | None
    xlsx_url: str | None


def report_out(report) -> dict:
    done = report.status == "done"
    return {
        "id": report.pk,
        "kind": report.kind,
        "title": report.title,
        "status": report.status,
        "progress": report.progress,
        "stage": report.stage,
        "error": report.error,
        "requested_by": report.requested_by_name,
        "created_at": report.created_at,
        "finished_at": report.finished_at,
        "pdf_url": reverse("reports:download", args=[report.pk, "pdf"])
        if done and report.pdf
        else None,
        "xlsx_url": reverse("reports:download", args=[report.pk, "xlsx"])
        if done and report.xlsx
        else None,
    }


@router.get("/reports", response=list[ReportOut])
def list_reports(request):
    """The reports the caller may see, newest first (their own and the monthly reports of
    the areas they may report on)."""
    return [report_out(r) for r in sel.report_list(actor=request.auth)]


@router.get("/reports/{int:report_id}", response=ReportOut)
def get_report(request, report_id: int):
    """One report: status, progress and, when ready, where to download it (404 out of
    scope)."""
    return report_out(sel.report_get(actor=request.auth, report_id=report_id))
