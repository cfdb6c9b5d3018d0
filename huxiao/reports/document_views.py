"""Pages of the document area of the reports app (issue 10, ADR 0033): the "Generate PDF"
button of an incident, an inspection or a hazard posts here; the answer is the report's
page, where its progress and then its download are shown."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from huxiao.reports import document_builders


@login_required
@require_POST
def document_request(request, kind: str, subject_id: str):
    report, created = document_builders.document_request(
        actor=request.user, slug=kind, subject_id=subject_id
    )
    if not created:
        messages.info(request, _("This document is already being generated; here it is."))
    return redirect("reports:detail", report.pk)


urlpatterns = [
    path(
        "documents/<str:kind>/<str:subject_id>/",
        document_request,
        name="document_request",
    ),
]
