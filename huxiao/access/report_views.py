"""Pages of the gate reports (issue 5, item 8; ADR 0022 "Reports"): parse → call → render.

`manage_gate` only (principal, security officer): a role without it anywhere is 403, a
school out of reach is 404. A bad date range answers 400 with the message in place, on the
page and on the export alike."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_safe

from huxiao.access import report_selectors
from huxiao.access.choices import VisitPurpose
from huxiao.access.report_export import gate_report_export, summary_labels
from huxiao.access.report_forms import MAX_REPORT_DAYS, ReportRangeForm

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Rows per section on the page; the export carries them all.
PAGE_ROWS = 200


def _school_or_choice(request):
    """The report's school from `?school=`, or the only one; None means "ask"."""
    ids = report_selectors.report_school_ids(request.user)
    raw = request.GET.get("school", "")
    if not raw and len(ids) == 1:
        raw = next(iter(ids))
    if raw == "":
        return None
    return report_selectors.report_school(actor=request.user, school_id=raw)


def _choose(request):
    return render(
        request,
        "access/reports/choose_school.html",
        {"schools": report_selectors.report_schools(request.user)[:500]},
    )


def _invalid(request, school, form):
    response = render(
        request,
        "access/reports/report.html",
        {"school": school, "form": form, "report": None, "max_days": MAX_REPORT_DAYS},
        status=400,
    )
    response["Cache-Control"] = "no-store"
    return response


def _purpose_rows(report):
    labels = dict(VisitPurpose.choices)
    return [
        {"label": labels.get(row["purpose"], row["purpose"]), **row} for row in report.by_purpose
    ]


@login_required
@require_safe
def report_page(request):
    school = _school_or_choice(request)
    if school is None:
        return _choose(request)
    form = ReportRangeForm(request.GET)
    if not form.is_valid():
        return _invalid(request, school, form)
    start, end = form.range()
    report = report_selectors.gate_report(actor=request.user, school=school, start=start, end=end)
    totals = report.totals
    query = urlencode({"school": school.pk, "start": start.isoformat(), "end": end.isoformat()})
    response = render(
        request,
        "access/reports/report.html",
        {
            "school": school,
            "form": form,
            "report": report,
            "max_days": MAX_REPORT_DAYS,
            "page_rows": PAGE_ROWS,
            "summary": [(label, totals[key]) for key, label in summary_labels()],
            "by_purpose": _purpose_rows(report),
            "visits": list(report.visits[:PAGE_ROWS]),
            "vehicles": list(report.vehicles[:PAGE_ROWS]),
            "scans": list(report.scans[:PAGE_ROWS]),
            "scan_total": totals["scans_accepted"] + totals["scans_refused"],
            "interceptions": list(report.interceptions[:PAGE_ROWS]),
            "refusals": list(report.refusals[:PAGE_ROWS]),
            "not_collected": list(report.not_collected[:PAGE_ROWS]),
            "delegate_releases": list(report.delegate_releases[:PAGE_ROWS]),
            "export_url": reverse("access:report_export") + "?" + query,
        },
    )
    # Names of visitors and children: no copy in a shared cache.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET  # not HEAD: every export is audited, and a HEAD would write a row for no file
def report_export(request):
    school = _school_or_choice(request)
    if school is None:
        return redirect("access:report")
    form = ReportRangeForm(request.GET)
    if not form.is_valid():
        return _invalid(request, school, form)
    start, end = form.range()
    report = report_selectors.gate_report(actor=request.user, school=school, start=start, end=end)
    data = gate_report_export(actor=request.user, report=report)
    response = HttpResponse(data, content_type=XLSX_TYPE)
    filename = f"huxiao-gate-report-{school.pk}-{start:%Y%m%d}-{end:%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("reports/", report_page, name="report"),
    path("reports/export.xlsx", report_export, name="report_export"),
]
