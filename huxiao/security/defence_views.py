"""Pages of technical and physical defence (技防物防; issue 7 item 3): the schools in scope
with their key figures, one school's page, its edit form and the forms of its technical
systems. Parse → call a selector/service → render.

A role that views no school is 403; a school or system out of scope is 404; an edit by a
role without MANAGE_SECURITY is 403; a step the state does not allow is 409 with the reason;
a form with errors is 400 with the errors in place; a success redirects to the school's page.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.accounts.services import DeviceRefused, device_token_issue, device_token_revoke
from huxiao.core.permissions import require
from huxiao.core.roles import Action
from huxiao.security import defence_selectors as selectors
from huxiao.security import defence_services as services
from huxiao.security.defence_forms import DefenceProfileForm, DeviceForm, TechnicalSystemForm

MAX_ID = 2**63 - 1
NAV = "security_defence"
MAX_LIST = 2000


def _id(value: int) -> int:
    if value > MAX_ID:
        raise Http404
    return value


def _submit(form, call) -> bool:
    """Valid form → service; the service's field errors go back onto the form."""
    if not form.is_valid():
        return False
    try:
        call(**form.service_kwargs())
    except services.DefenceRefused:
        raise
    except ValidationError as exc:
        form.add_service_errors(exc)
        return False
    return True


# ------------------------------------------------------------------ schools in scope


@login_required
@require_safe
def defence_schools(request):
    """The schools in scope with their defence figures; a school's own staff go straight
    to their school's page."""
    schools = list(selectors.defence_schools(actor=request.user)[: MAX_LIST + 1])
    if len(schools) == 1:
        return redirect("security:defence", school_id=schools[0].pk)
    truncated = len(schools) > MAX_LIST
    schools = schools[:MAX_LIST]
    facts = selectors.defence_facts([s.pk for s in schools])
    return render(
        request,
        "security/defence/school_list.html",
        {
            "rows": [{"school": s, "facts": facts[s.pk]} for s in schools],
            "truncated": truncated,
            "nav_active": NAV,
        },
    )


# ------------------------------------------------------------------ one school


def _render_page(request, school_id: int, *, refusal: str = "", status: int = 200):
    page = selectors.defence_page(actor=request.user, school_id=school_id)
    return render(
        request,
        "security/defence/school_detail.html",
        {"page": page, "school": page.school, "refusal": refusal, "nav_active": NAV},
        status=status,
    )


@login_required
@require_safe
def defence(request, school_id: int):
    return _render_page(request, _id(school_id))


@login_required
@require_http_methods(["GET", "POST"])
def defence_edit(request, school_id: int):
    school = selectors.defence_school_get(actor=request.user, school_id=_id(school_id))
    require(request.user, Action.MANAGE_SECURITY, school.pk)
    profile = selectors.defence_profile_get(actor=request.user, school=school)
    if request.method == "POST":
        form = DefenceProfileForm(request.POST)

        def call(**kwargs):
            services.defence_profile_save(actor=request.user, school=school, **kwargs)

        if _submit(form, call):
            messages.success(request, _("Defences saved."))
            return redirect("security:defence", school_id=school.pk)
        status = 400
    else:
        form = DefenceProfileForm(profile=profile)
        status = 200
    return render(
        request,
        "security/defence/profile_form.html",
        {"form": form, "school": school, "nav_active": NAV},
        status=status,
    )


# ------------------------------------------------------------------ technical systems


@login_required
@require_http_methods(["GET", "POST"])
def system_new(request, school_id: int):
    school = selectors.defence_school_get(actor=request.user, school_id=_id(school_id))
    require(request.user, Action.MANAGE_SECURITY, school.pk)
    if request.method == "POST":
        form = TechnicalSystemForm(request.POST)

        def call(**kwargs):
            services.technical_system_add(actor=request.user, school=school, **kwargs)

        if _submit(form, call):
            messages.success(request, _("Technical system added."))
            return redirect("security:defence", school_id=school.pk)
        status = 400
    else:
        form = TechnicalSystemForm()
        status = 200
    return render(
        request,
        "security/defence/system_form.html",
        {"form": form, "school": school, "nav_active": NAV},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def system_edit(request, system_id: int):
    system = selectors.technical_system_get(actor=request.user, system_id=_id(system_id))
    require(request.user, Action.MANAGE_SECURITY, system.school_id)
    if request.method == "POST":
        form = TechnicalSystemForm(request.POST, system=system)

        def call(**kwargs):
            services.technical_system_update(actor=request.user, system=system, **kwargs)

        if _submit(form, call):
            messages.success(request, _("Technical system saved."))
            return redirect("security:defence", school_id=system.school_id)
        status = 400
    else:
        form = TechnicalSystemForm(system=system)
        status = 200
    return render(
        request,
        "security/defence/system_form.html",
        {"form": form, "school": system.school, "system": system, "nav_active": NAV},
        status=status,
    )


@login_required
@require_POST
def system_retire(request, system_id: int):
    system = selectors.technical_system_get(actor=request.user, system_id=_id(system_id))
    try:
        services.technical_system_retire(actor=request.user, system=system)
    except services.DefenceRefused as refused:
        return _render_page(request, system.school_id, refusal=refused.messages[0], status=409)
    messages.success(request, _("Technical system retired."))
    return redirect("security:defence", school_id=system.school_id)


# ------------------------------------------------------------------ devices (HuXiao's own)


@login_required
@require_http_methods(["GET", "POST"])
def device_new(request, school_id: int):
    """Issue a token for a gate terminal or alarm box. The token is in this response only
    (never stored, never redirected through the session's messages)."""
    school = selectors.defence_school_get(actor=request.user, school_id=_id(school_id))
    require(request.user, Action.MANAGE_SECURITY, school.pk)
    if request.method == "POST":
        form = DeviceForm(request.POST)
        issued = {}

        def call(**kwargs):
            issued["device"], issued["token"] = device_token_issue(
                actor=request.user, school=school, **kwargs
            )

        try:
            issued_now = _submit(form, call)
        except DeviceRefused as refused:
            return _render_page(request, school.pk, refusal=str(refused), status=409)
        if issued_now:
            response = render(
                request,
                "security/defence/device_issued.html",
                {"school": school, "nav_active": NAV, **issued},
                status=201,
            )
            response["Cache-Control"] = "no-store"
            return response
        status = 400
    else:
        form = DeviceForm()
        status = 200
    return render(
        request,
        "security/defence/device_form.html",
        {"form": form, "school": school, "nav_active": NAV},
        status=status,
    )


@login_required
@require_POST
def device_revoke(request, device_id: int):
    try:
        device = device_token_revoke(actor=request.user, device=_id(device_id))
    except DeviceRefused as refused:
        device = selectors.device_get(actor=request.user, device_id=device_id)
        return _render_page(request, device.school_id, refusal=str(refused), status=409)
    messages.success(request, _("The device's token is revoked; it no longer works."))
    return redirect("security:defence", school_id=device.school_id)


urlpatterns = [
    path("defence/", defence_schools, name="defence_schools"),
    path("schools/<int:school_id>/defence/", defence, name="defence"),
    path("schools/<int:school_id>/defence/edit/", defence_edit, name="defence_edit"),
    path("schools/<int:school_id>/defence/systems/new/", system_new, name="defence_system_new"),
    path("defence/systems/<int:system_id>/edit/", system_edit, name="defence_system_edit"),
    path("defence/systems/<int:system_id>/retire/", system_retire, name="defence_system_retire"),
    path("schools/<int:school_id>/defence/devices/new/", device_new, name="defence_device_new"),
    path("defence/devices/<int:device_id>/revoke/", device_revoke, name="defence_device_revoke"),
]
