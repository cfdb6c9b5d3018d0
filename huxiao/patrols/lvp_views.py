"""Pages of legal vice-principal assignments (ADR 0020): parse → call → render. Reading
needs `view`, appointing and ending `assign_lvp`; out of scope is 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.core.permissions import require
from huxiao.core.roles import Action
from huxiao.core.scoping import visible_school_ids
from huxiao.orgs.models import Organization
from huxiao.patrols import lvp_selectors, lvp_services
from huxiao.patrols.selectors import require_any
from huxiao.patrols.video_forms import LvpEndForm, LvpForm
from huxiao.patrols.video_views import _submit
from huxiao.patrols.views import _id, school_param


def lvp_filters(actor, params) -> dict:
    """The assignment list's filters (page and export): active ones unless `ended=1`."""
    ids = require_any(actor, Action.VIEW)
    show_ended = params.get("ended") == "1"
    return {"school_id": school_param(params, ids), "active": None if show_ended else True}


@login_required
@require_safe
def lvp_list(request):
    """Assignments per station; active ones first."""
    filters = lvp_filters(request.user, request.GET)
    show_ended = filters["active"] is None
    assignments = lvp_selectors.lvp_list(actor=request.user, **filters)
    return render(
        request,
        "patrols/lvp/list.html",
        {
            "assignments": assignments[:500],
            "show_ended": show_ended,
            "can_assign": bool(visible_school_ids(request.user, Action.ASSIGN_LVP)),
            "assign_ids": visible_school_ids(request.user, Action.ASSIGN_LVP),
            "nav_active": "patrols_lvp",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def lvp_new(request):
    require_any(request.user, Action.ASSIGN_LVP)
    schools = (
        Organization.objects.visible_to(request.user, Action.ASSIGN_LVP).schools().order_by("name")
    )
    officers = lvp_selectors.lvp_officer_choices(actor=request.user)
    initial = {}
    if request.GET.get("school", "").isdigit():
        initial["school"] = int(request.GET["school"])
    if request.method == "POST":
        form = LvpForm(request.POST, schools=schools, officers=officers)

        def call(**kwargs):
            lvp_services.lvp_assign(actor=request.user, **kwargs)

        if _submit(form, call):
            messages.success(request, _("Legal vice-principal appointed."))
            return redirect("patrols:lvp_list")
        status = 400
    else:
        form = LvpForm(schools=schools, officers=officers, initial=initial)
        status = 200
    return render(
        request,
        "patrols/lvp/form.html",
        {"form": form, "nav_active": "patrols_lvp"},
        status=status,
    )


@login_required
@require_POST
def lvp_end(request, assignment_id: int):
    require_any(request.user, Action.VIEW)
    assignment = lvp_selectors.lvp_get(actor=request.user, assignment_id=_id(assignment_id))
    require(request.user, Action.ASSIGN_LVP, assignment.school_id)
    form = LvpEndForm(request.POST)

    def call(**kwargs):
        lvp_services.lvp_end(actor=request.user, assignment=assignment, **kwargs)

    if _submit(form, call):
        messages.success(request, _("Assignment ended."))
    else:
        messages.error(
            request,
            " ".join(str(e) for errors in form.errors.values() for e in errors),
        )
    return redirect("patrols:lvp_list")
