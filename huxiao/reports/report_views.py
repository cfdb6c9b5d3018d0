"""Report pages: the list of generated reports, one report's progress and downloads, and
the export button's endpoint (ADR 0033)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from huxiao.reports import exports
from huxiao.reports import selectors as sel
from huxiao.reports.models import ReportStatus

NAV = "reports"
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@login_required
@require_safe
def report_list(request):
    from django.urls import NoReverseMatch, reverse

    from huxiao.reports.areas import report_areas

    rows = sel.report_list(actor=request.user)
    monthly_url = None
    if report_areas(request.user):
        try:
            monthly_url = reverse("reports:monthly_request")
        except NoReverseMatch:
            monthly_url = None
    context = {"reports": rows, "nav": NAV, "monthly_url": monthly_url}
    return render(request, "reports/report_list.html", context)


@login_required
@require_safe
def report_detail(request, report_id: int):
    report = sel.report_get(actor=request.user, report_id=report_id)
    context = {"report": report, "nav": NAV}
    if request.htmx:
        return render(request, "reports/_report_status.html", context)
    return render(request, "reports/report_detail.html", context)


@login_required
@require_safe
def report_download(request, report_id: int, fmt: str):
    report = sel.report_get(actor=request.user, report_id=report_id)
    field = {"pdf": report.pdf, "xlsx": report.xlsx}.get(fmt)
    if report.status != ReportStatus.DONE or not field:
        raise Http404
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    name = f"{report.filename or report.title}.{fmt}"
    return FileResponse(handle, as_attachment=True, filename=name, content_type=CONTENT_TYPES[fmt])


@login_required
@require_POST
def export_request(request, name: str):
    query = request.POST.get("query", "")
    try:
        report, created = exports.export_request(actor=request.user, name=name, query=query)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(request.META.get("HTTP_REFERER") or "reports:list")
    except PermissionDenied:
        raise
    if not created:
        messages.info(request, _("This export is already being prepared; here it is."))
    return redirect("reports:detail", report.pk)


urlpatterns = [
    path("", report_list, name="list"),
    path("<int:report_id>/", report_detail, name="detail"),
    path("<int:report_id>/download/<str:fmt>/", report_download, name="download"),
    path("exports/<str:name>/", export_request, name="export_request"),
]
