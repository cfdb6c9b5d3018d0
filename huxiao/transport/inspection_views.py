"""Pages of police bus inspections (issue 8 item 6; ADR 0031 "Inspections"). Parse → call a
selector/service → render.

- `transport:inspection_new`: the check form on a phone (INSPECT_BUS somewhere, else 403).
  The findings are derived and shown before saving: live through HTMX
  (`transport:inspection_preview`, a partial) and with the "Check" button without script;
  the save button comes with the preview.
- `transport:inspection_list`: checks and open findings in scope (VIEW): the jurisdiction's
  for the police, the school's own for a school, the town's or county's for offices;
  overdue findings marked. `?school=` narrows to one school, `?kind=` to one kind.
- `transport:inspection_detail`: one check with its findings and their follow-up thread;
  forms for the school (follow-up), the police (resolve, send back) and "make a hazard".
Out of scope is 404; a form with errors 400 with nothing written; a step the finding's
state does not allow 409 with the reason.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.core.roles import Action
from huxiao.duty.duty_views import service_errors
from huxiao.hazards.hazard_views import _id_param
from huxiao.transport import inspection_selectors as sel
from huxiao.transport import inspection_services as services
from huxiao.transport.choices import InspectionKind
from huxiao.transport.inspection_forms import (
    DriverForm,
    FollowUpForm,
    InspectionForm,
    ResolveForm,
    SendBackForm,
)

NAV = "bus_checks"
PAGE_SIZE = 30
CHECK_FIELDS = (
    "kind",
    "plate",
    "inspected_at",
    "location",
    "riders_counted",
    "speed_kmh",
    "speed_limit_kmh",
    "driving_minutes",
    "safety_officer_present",
    "markings_present",
    "documents_ok",
    "other_findings",
    "notes",
    "deadline",
)


# ------------------------------------------------------------------ the check form


def _check_input(request) -> dict:
    """The raw fields for the service (the one judge of them). The driver chosen for
    another bus than the plate's now (the plate was changed) falls back to the default."""
    data = {name: request.POST.get(name, "") for name in CHECK_FIELDS}
    bus = sel.bus_by_plate(actor=request.user, plate=data["plate"])
    chosen = request.POST.get("driver_id", "")
    fresh = bus is not None and request.POST.get("driver_for", "") == str(bus.pk)
    data["driver_id"] = chosen if fresh else None
    return data


def _driver_form(draft, request=None) -> DriverForm:
    drivers = list(sel.driver_choices(draft.school.pk))
    if draft.driver is not None and draft.driver not in drivers:
        drivers.insert(0, draft.driver)
    default = sel.default_driver(draft.bus, draft.trip)
    return DriverForm(
        initial={
            "driver_id": str(draft.driver.pk) if draft.driver else "",
            "driver_for": str(draft.bus.pk),
        },
        drivers=drivers,
        blank=default is None,
    )


def _preview_context(request, *, draft=None, error=None) -> dict:
    return {
        "draft": draft,
        "driver_form": _driver_form(draft) if draft is not None else None,
        "preview_error": error,
    }


def _render_new(request, form, *, draft=None, status=200):
    return render(
        request,
        "transport/inspection_new.html",
        {"form": form, "nav_active": NAV, **_preview_context(request, draft=draft)},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def inspection_new(request):
    sel.require_any(request.user, Action.INSPECT_BUS)
    if request.method == "GET":
        now = timezone.localtime().replace(second=0, microsecond=0)
        form = InspectionForm(initial={"inspected_at": now.replace(tzinfo=None)})
        return _render_new(request, form)
    form = InspectionForm(request.POST)
    data = _check_input(request)
    try:
        if request.POST.get("step") == "save":
            inspection = services.inspection_record(actor=request.user, **data)
        else:
            draft = services.inspection_check(actor=request.user, **data)
            return _render_new(request, form, draft=draft)
    except ValidationError as exc:
        return _render_new(request, service_errors(form, exc), status=400)
    messages.success(request, _("Check recorded."))
    return redirect("transport:inspection_detail", inspection.pk)


def _error_lines(exc: ValidationError) -> list[str]:
    """The service's errors as "label: message" lines for the preview box."""
    if not hasattr(exc, "error_dict"):
        return list(exc.messages)
    labels = {**InspectionForm.base_fields, **DriverForm.base_fields}
    lines = []
    for name, messages_ in exc.message_dict.items():
        label = labels[name].label if name in labels else ""
        lines += [f"{label}：{m}" if label else m for m in messages_]
    return lines


@login_required
@require_POST
def inspection_preview(request):
    """The preview partial (HTMX): the bus, its trip and driver, the findings so far."""
    sel.require_any(request.user, Action.INSPECT_BUS)
    try:
        draft = services.inspection_check(actor=request.user, **_check_input(request))
    except ValidationError as exc:
        context = _preview_context(request, error=_error_lines(exc))
    else:
        context = _preview_context(request, draft=draft)
    return render(request, "transport/inspection_preview.html", context)


# ------------------------------------------------------------------ lists and detail


def inspection_filters(actor, params):
    """The check list's schools, chosen school and kind of check (page and export): a
    school out of scope or an unknown kind is no filter. 403 for those who see no school."""
    sel.require_any(actor, Action.VIEW)
    school_id = _id_param(params.get("school"))
    schools = list(sel.schools_in_scope(actor))
    school = next((s for s in schools if s.pk == school_id), None)
    kind = params.get("kind", "")
    kind = kind if kind in InspectionKind.values else ""
    return schools, school, kind


@login_required
@require_safe
def inspection_list(request):
    schools, school, kind = inspection_filters(request.user, request.GET)
    school_id = school.pk if school else None
    today = sel.local_today()
    findings = sel.finding_list(actor=request.user, school_id=school_id, today=today)
    for finding in findings:
        finding.state = sel.finding_state(finding)
        finding.overdue = sel.is_overdue(finding, today)
    checks = Paginator(
        sel.inspection_list(actor=request.user, school_id=school_id, kind=kind), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "transport/inspection_list.html",
        {
            "schools": schools if len(schools) > 1 else [],
            "school": school,
            "kind": kind,
            "kinds": InspectionKind.choices,
            "findings": findings,
            "overdue_count": sum(1 for f in findings if f.overdue),
            "checks": checks,
            "may_inspect": sel.may_inspect(request.user),
            "nav_active": NAV,
        },
    )


def _finding_forms(request, finding, bound=None):
    """The forms the user may use on one finding (a bound one kept with its errors)."""
    school_id = finding.inspection.school_id
    state = finding.state
    forms = {}
    if state != sel.RESOLVED:
        if sel.may_follow_up(request.user, school_id):
            forms["follow_up"] = FollowUpForm(prefix=f"f{finding.pk}")
        if sel.may_inspect(request.user, school_id):
            forms["resolve"] = ResolveForm(prefix=f"r{finding.pk}")
            if state == sel.AWAITING_REVIEW:
                forms["send_back"] = SendBackForm(prefix=f"s{finding.pk}")
    if bound is not None and bound[0] == finding.pk and bound[1] in forms:
        forms[bound[1]] = bound[2]
    return forms


def _render_detail(request, inspection, *, bound=None, refusal=None, status=200):
    today = sel.local_today()
    findings = sel.findings_of(inspection)
    for finding in findings:
        finding.inspection = inspection
        finding.state = sel.finding_state(finding)
        finding.overdue = sel.is_overdue(finding, today)
        finding.sent_back = sel.was_sent_back(finding)
        finding.entries = sel.followup_entries(finding.follow_up)
        finding.forms = _finding_forms(request, finding, bound)
        finding.may_make_hazard = sel.may_make_hazard(request.user, finding)
    return render(
        request,
        "transport/inspection_detail.html",
        {
            "inspection": inspection,
            "findings": findings,
            "markings_missing": any(f.kind == "markings" for f in findings),
            "refusal": refusal,
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_safe
def inspection_detail(request, inspection_id: int):
    inspection = sel.inspection_get(actor=request.user, inspection_id=inspection_id)
    return _render_detail(request, inspection)


# ------------------------------------------------------------------ follow-up steps

# step (in the URL) → (form, prefix letter, the service, the name of its text argument)
STEPS = {
    "follow-up": (FollowUpForm, "f", services.finding_follow_up, "text"),
    "resolve": (ResolveForm, "r", services.finding_resolve, "note"),
    "send-back": (SendBackForm, "s", services.finding_send_back, "reason"),
}
STEP_MESSAGES = {
    "follow-up": gettext_lazy("Follow-up sent to the police."),
    "resolve": gettext_lazy("Finding resolved."),
    "send-back": gettext_lazy("Finding sent back to the school."),
}


@login_required
@require_POST
def finding_step(request, finding_id: int, step: str):
    """The school's follow-up, the police's resolution or send-back of one finding."""
    if step not in STEPS:
        raise Http404
    finding = sel.finding_get(actor=request.user, finding_id=finding_id)
    inspection = finding.inspection
    form_class, letter, service, text_arg = STEPS[step]
    prefix = f"{letter}{finding.pk}"
    form = form_class(request.POST, prefix=prefix)
    kwargs = {text_arg: request.POST.get(f"{prefix}-{text_arg}", "")}
    if step == "send-back":
        kwargs["deadline"] = request.POST.get(f"{prefix}-deadline", "")
    try:
        service(actor=request.user, finding_id=finding.pk, **kwargs)
    except services.FindingRefused as refused:
        return _render_detail(request, inspection, refusal=refused.messages[0], status=409)
    except ValidationError as exc:
        bound = (finding.pk, step.replace("-", "_"), service_errors(form, exc))
        return _render_detail(request, inspection, bound=bound, status=400)
    messages.success(request, str(STEP_MESSAGES[step]))
    return redirect("transport:inspection_detail", inspection.pk)


@login_required
@require_POST
def finding_hazard(request, finding_id: int):
    finding = sel.finding_get(actor=request.user, finding_id=finding_id)
    try:
        hazard = services.finding_make_hazard(actor=request.user, finding_id=finding.pk)
    except services.FindingRefused as refused:
        return _render_detail(request, finding.inspection, refusal=refused.messages[0], status=409)
    except ValidationError as exc:
        refusal = " ".join(exc.messages)
        return _render_detail(request, finding.inspection, refusal=refusal, status=400)
    messages.success(request, _("Hazard registered from the finding."))
    return redirect("hazards:hazard_detail", hazard.pk)


urlpatterns = [
    path("inspections/", inspection_list, name="inspection_list"),
    path("inspections/new/", inspection_new, name="inspection_new"),
    path("inspections/preview/", inspection_preview, name="inspection_preview"),
    path("inspections/<int:inspection_id>/", inspection_detail, name="inspection_detail"),
    path("findings/<int:finding_id>/hazard/", finding_hazard, name="finding_hazard"),
    path("findings/<int:finding_id>/<slug:step>/", finding_step, name="finding_step"),
]
