"""The monthly report's request page (issue 10 item 4, ADR 0033): choose the county or a
town and the month, see the area's earlier monthly reports (re-downloadable, with who
generated them). Posting queues the report and leads to its progress page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from huxiao.reports import selectors as report_selectors
from huxiao.reports.models import ReportKind
from huxiao.reports.monthly_builders import monthly_request
from huxiao.reports.monthly_forms import MonthlyRequestForm

NAV = "reports"


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def monthly_request_page(request):
    # 403 for someone who may report on no area (the form refuses to be built for them).
    if request.method == "POST":
        form = MonthlyRequestForm(request.POST, user=request.user)
        if form.is_valid():
            report, created = monthly_request(
                actor=request.user,
                area=form.cleaned_data["area"],
                month=form.cleaned_data["month"],
                today=form.today,
            )
            if not created:
                messages.info(request, _("This report is already being generated; here it is."))
            return redirect("reports:detail", report.pk)
        # A town outside the user's area answers like a record out of scope (404), with
        # the form and its message; any other bad input is a 400.
        status = 404 if form.out_of_scope else 400
    else:
        form = MonthlyRequestForm(user=request.user)
        status = 200
    context = {
        "form": form,
        "reports": report_selectors.report_list(actor=request.user, kind=ReportKind.MONTHLY),
        "nav": NAV,
    }
    return render(request, "reports/monthly_request.html", context, status=status)


urlpatterns = [
    path("monthly/", monthly_request_page, name="monthly_request"),
]
