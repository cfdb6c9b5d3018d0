"""Roster import pages: upload, job progress and preview, confirm; templates and exports."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from huxiao.core.context import active_membership
from huxiao.core.roles import Action
from huxiao.core.scoping import can
from huxiao.imports import selectors, services
from huxiao.imports.choices import ImportKind, ImportStatus
from huxiao.imports.columns import FILE_STEMS, columns_for
from huxiao.imports.forms import UploadForm
from huxiao.orgs.selectors import school_get

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JOBS_SHOWN = 50


def _xlsx(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"  # rosters must not linger in shared caches
    return response


def _list_page(request, *, form=None, status=200):
    importable = selectors.importable_schools(actor=request.user)
    exportable = selectors.exportable_schools(actor=request.user)
    if not importable.exists() and not exportable.exists():
        raise PermissionDenied
    if form is None and importable.exists():
        membership = active_membership(request)
        initial = {}
        if membership and importable.filter(pk=membership.organization_id).exists():
            initial["school"] = membership.organization_id
        form = UploadForm(schools=importable, initial=initial)
    context = {
        "form": form,
        "jobs": selectors.import_job_list(actor=request.user)[:JOBS_SHOWN],
        "export_schools": exportable,
        "kinds": ImportKind.choices,
        "nav_active": "imports",
    }
    return render(request, "imports/job_list.html", context, status=status)


@login_required
@require_GET
def job_list(request):
    return _list_page(request)


@login_required
@require_POST
def job_create(request):
    importable = selectors.importable_schools(actor=request.user)
    if not importable.exists():
        raise PermissionDenied
    form = UploadForm(request.POST, request.FILES, schools=importable)
    if form.is_valid():
        try:
            job = services.import_job_create(
                actor=request.user,
                school=form.cleaned_data["school"],
                kind=form.cleaned_data["kind"],
                uploaded_file=form.cleaned_data["file"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("imports:job_detail", job_id=job.pk)
    return _list_page(request, form=form, status=400)


def _job_context(request, job, **extra) -> dict:
    return {
        "job": job,
        "columns": columns_for(job.kind),
        "preview": job.preview,
        "more_errors": max(job.error_count - len(job.errors), 0),
        "can_confirm": job.status == ImportStatus.READY and job.error_count == 0,
        "can_view_audit": can(request.user, Action.VIEW_AUDIT, job.school_id),
        "nav_active": "imports",
        **extra,
    }


@never_cache
@login_required
@require_GET
def job_detail(request, job_id: int):
    job = selectors.import_job_get(actor=request.user, job_id=job_id)
    # The page polls this view with htmx while the job runs and gets only the job body.
    template = "imports/_job_body.html" if request.htmx else "imports/job_detail.html"
    return render(request, template, _job_context(request, job))


@login_required
@require_POST
def job_confirm(request, job_id: int):
    job = selectors.import_job_get(actor=request.user, job_id=job_id)
    try:
        services.import_job_confirm(actor=request.user, job=job)
    except ValidationError as exc:
        job.refresh_from_db()
        context = _job_context(request, job, confirm_error=" ".join(exc.messages))
        return render(request, "imports/job_detail.html", context, status=409)
    return redirect("imports:job_detail", job_id=job.pk)


def _kind_or_404(kind: str) -> str:
    if kind not in ImportKind.values:
        raise Http404
    return kind


@login_required
@require_GET
def template_download(request, kind: str):
    _kind_or_404(kind)
    if not selectors.importable_schools(actor=request.user).exists():
        raise PermissionDenied
    return _xlsx(services.import_template(kind), f"huxiao-{FILE_STEMS[kind]}-template.xlsx")


@login_required
@require_GET
def export_download(request, school_id: int, kind: str):
    _kind_or_404(kind)
    school = school_get(actor=request.user, school_id=school_id)
    data = services.roster_export(actor=request.user, school=school, kind=kind)
    today = timezone.localdate().strftime("%Y%m%d")
    return _xlsx(data, f"huxiao-{FILE_STEMS[kind]}-{school.pk}-{today}.xlsx")
