"""Pages of inspections (phone first): list, plan, the checklist filled item by item with
notes and photos, sign-off, a failed item to a hazard, and the printable report.

A page whose action the user's role allows nowhere is 403; an inspection outside the user's
scope (or an unannounced one not yet started, for the school) is 404; a refused write
answers 400 with the page and the message in place; a successful post redirects.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.core.roles import Action
from huxiao.core.scoping import can, visible_school_ids
from huxiao.hazards import inspection_selectors as selectors
from huxiao.hazards import inspection_services as services
from huxiao.hazards.choices import AnswerResult
from huxiao.hazards.inspection_forms import (
    AnswerForm,
    FindingHazardForm,
    InspectionFilterForm,
    InspectionPlanForm,
    SignOffForm,
)
from huxiao.hazards.models import TemplateItem
from huxiao.orgs.models import Organization

MAX_ID = 2**63 - 1
NAV = "hazards_inspections"


def _id(value: int) -> int:
    if value > MAX_ID:
        raise Http404
    return value


def _inspection(request, inspection_id):
    selectors.require_any(request.user, Action.VIEW)
    return selectors.inspection_get(actor=request.user, inspection_id=_id(inspection_id))


def _detail_context(request, inspection, **extra) -> dict:
    progress = services.inspection_progress(inspection)
    context = {
        "inspection": inspection,
        "sections": selectors.inspection_sections(inspection),
        "progress": progress,
        "answered": len(progress["items"]) - len(progress["unanswered"]),
        "is_inspector": services.is_inspector_of(request.user, inspection)
        and can(request.user, Action.INSPECT, inspection.school_id),
        "can_report": can(request.user, Action.REPORT_HAZARD, inspection.school_id)
        and services.may_raise_findings(request.user, inspection),
        "sign_off_form": SignOffForm(),
        "nav_active": NAV,
    }
    context.update(extra)
    return context


def list_filters(actor, query):
    """The list's filter form and the selector's filters (the page and its export); 403
    for a user who sees no school; a bad filter filters nothing."""
    ids = selectors.require_any(actor, Action.VIEW)
    schools = Organization.objects.filter(pk__in=ids).order_by("name")
    form = InspectionFilterForm(query or None, schools=schools)
    cleaned = form.cleaned_data if form.is_valid() else {}
    school = cleaned.get("school")
    return form, {
        "school_id": school.pk if school else None,
        "kind": cleaned.get("kind") or None,
        "status": cleaned.get("status") or None,
    }


@login_required
@require_safe
def inspection_list(request):
    form, filters = list_filters(request.user, request.GET)
    inspections = selectors.inspection_list(actor=request.user, **filters)[:200]
    return render(
        request,
        "hazards/inspections/list.html",
        {
            "form": form,
            "inspections": inspections,
            "can_plan": bool(visible_school_ids(request.user, Action.INSPECT)),
            "nav_active": NAV,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def inspection_plan(request):
    selectors.require_any(request.user, Action.INSPECT)
    form = InspectionPlanForm(
        request.POST or None,
        schools=selectors.plannable_schools(request.user),
        templates=selectors.usable_templates(),
        initial={"planned_on": timezone.localdate()},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                inspection = services.inspection_plan(actor=request.user, **form.service_kwargs())
            except ValidationError as exc:
                form.add_service_errors(exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Inspection planned."))
                return redirect("hazards:inspection_detail", inspection.pk)
        status = 400
    return render(
        request, "hazards/inspections/plan.html", {"form": form, "nav_active": NAV}, status=status
    )


@login_required
@require_safe
def inspection_detail(request, inspection_id: int):
    inspection = _inspection(request, inspection_id)
    return render(request, "hazards/inspections/detail.html", _detail_context(request, inspection))


def _refused(request, inspection, exc, **extra):
    message = "；".join(str(m) for m in getattr(exc, "messages", [str(exc)]))
    context = _detail_context(request, inspection, error=message, **extra)
    return render(request, "hazards/inspections/detail.html", context, status=400)


@login_required
@require_POST
def inspection_start(request, inspection_id: int):
    inspection = _inspection(request, inspection_id)
    try:
        services.inspection_start(actor=request.user, inspection=inspection)
    except ValidationError as exc:
        return _refused(request, inspection, exc)
    first = services.inspection_progress(inspection)["items"][:1]
    if first:
        return redirect("hazards:inspection_item", inspection.pk, first[0].pk)
    return redirect("hazards:inspection_detail", inspection.pk)


@login_required
@require_http_methods(["GET", "POST"])
def inspection_item(request, inspection_id: int, item_id: int):
    """One item of the checklist, big buttons, note, score and a photo from the camera."""
    inspection = _inspection(request, inspection_id)
    item = get_object_or_404(
        TemplateItem.objects.select_related("section"),
        pk=_id(item_id),
        section__template_id=inspection.template_id,
    )
    progress = services.inspection_progress(inspection)
    items = progress["items"]
    index = next(i for i, it in enumerate(items) if it.pk == item.pk)
    answer = progress["answers"].get(item.pk)
    initial = (
        {"result": answer.result, "note": answer.note, "score": answer.score} if answer else {}
    )
    data = (request.POST, request.FILES) if request.method == "POST" else ()
    form = AnswerForm(*data, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.inspection_answer(
                    actor=request.user, inspection=inspection, item=item, **form.service_kwargs()
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                if "stay" in request.POST:
                    return redirect("hazards:inspection_item", inspection.pk, item.pk)
                answered = set(services.inspection_progress(inspection)["answers"])
                following = [
                    it for it in items[index + 1 :] + items[:index] if it.pk not in answered
                ]
                if following:
                    return redirect("hazards:inspection_item", inspection.pk, following[0].pk)
                messages.success(request, _("All items answered. Check and sign off."))
                return redirect("hazards:inspection_detail", inspection.pk)
        status = 400
    return render(
        request,
        "hazards/inspections/item.html",
        {
            "inspection": inspection,
            "item": item,
            "answer": answer,
            "photos": list(answer.photos.all()) if answer else [],
            "form": form,
            "results": AnswerResult.choices,
            "position": index + 1,
            "total": len(items),
            "previous": items[index - 1] if index > 0 else None,
            "next": items[index + 1] if index + 1 < len(items) else None,
            "is_inspector": services.is_inspector_of(request.user, inspection),
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_POST
def inspection_photo_delete(request, inspection_id: int, photo_id: int):
    inspection = _inspection(request, inspection_id)
    photo = selectors.photo_get(actor=request.user, photo_id=_id(photo_id))
    if photo.answer.inspection_id != inspection.pk:
        raise Http404
    try:
        services.inspection_photo_delete(actor=request.user, photo=photo)
    except ValidationError as exc:
        return _refused(request, inspection, exc)
    return redirect("hazards:inspection_item", inspection.pk, photo.answer.item_id)


@login_required
@require_POST
def inspection_sign_off(request, inspection_id: int):
    inspection = _inspection(request, inspection_id)
    form = SignOffForm(request.POST)
    if not form.is_valid():
        return _refused(request, inspection, ValidationError(_("Check the summary.")))
    try:
        services.inspection_sign_off(
            actor=request.user, inspection=inspection, summary=form.cleaned_data["summary"]
        )
    except ValidationError as exc:
        return _refused(request, inspection, exc, sign_off_form=form)
    messages.success(request, _("Inspection signed off."))
    return redirect("hazards:inspection_detail", inspection.pk)


@login_required
@require_POST
def inspection_finding_hazard(request, inspection_id: int, answer_id: int):
    """生成隐患: a failed item becomes a hazard in one step."""
    inspection = _inspection(request, inspection_id)
    answer = selectors.answer_get(
        actor=request.user, inspection=inspection, answer_id=_id(answer_id)
    )
    form = FindingHazardForm(request.POST)
    if not form.is_valid():
        errors = [str(e) for errs in form.errors.values() for e in errs]
        return _refused(request, inspection, ValidationError(errors))
    try:
        hazard = services.finding_to_hazard(
            actor=request.user, answer=answer, **form.service_kwargs()
        )
    except ValidationError as exc:
        return _refused(request, inspection, exc)
    messages.success(request, _("Hazard registered: %(title)s") % {"title": hazard.title})
    return redirect("hazards:inspection_detail", inspection.pk)


@login_required
@require_safe
def inspection_photo(request, photo_id: int):
    photo = selectors.photo_get(actor=request.user, photo_id=_id(photo_id))
    try:
        response = FileResponse(photo.file.open("rb"))
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_safe
def inspection_report(request, inspection_id: int):
    """The printable inspection report (A4, huxiao/print.css)."""
    inspection = _inspection(request, inspection_id)
    return render(request, "hazards/inspections/report.html", inspection_report_context(inspection))


def inspection_report_context(inspection) -> dict:
    """What the inspection report shows; the printable page and its PDF (reports app) share
    it."""
    sections = selectors.inspection_sections(inspection)
    findings = [
        item
        for section in sections
        for item in section.item_rows
        if item.answer and item.answer.result == AnswerResult.FAIL
    ]
    return {
        "inspection": inspection,
        "sections": sections,
        "findings": findings,
        "inspectors": list(inspection.inspectors.all()),
        "progress": services.inspection_progress(inspection),
        "printed_at": timezone.now(),
    }


def _url(suffix, view, name):
    return path(f"inspections/{suffix}", view, name=name)


urlpatterns = [
    _url("", inspection_list, "inspection_list"),
    _url("new/", inspection_plan, "inspection_plan"),
    _url("<int:inspection_id>/", inspection_detail, "inspection_detail"),
    _url("<int:inspection_id>/start/", inspection_start, "inspection_start"),
    _url("<int:inspection_id>/items/<int:item_id>/", inspection_item, "inspection_item"),
    _url(
        "<int:inspection_id>/photos/<int:photo_id>/delete/",
        inspection_photo_delete,
        "inspection_photo_delete",
    ),
    _url("<int:inspection_id>/sign-off/", inspection_sign_off, "inspection_sign_off"),
    _url(
        "<int:inspection_id>/answers/<int:answer_id>/hazard/",
        inspection_finding_hazard,
        "inspection_finding_hazard",
    ),
    _url("<int:inspection_id>/report/", inspection_report, "inspection_report"),
    _url("photos/<int:photo_id>/", inspection_photo, "inspection_photo"),
]
