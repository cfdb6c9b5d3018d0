"""Phone pages of contraband interceptions (issue 5, ADR 0024): record one (with a photo
from the phone's camera), the list, one interception with its photo. Recording is the
gate's (`register_visitor`); the police of the school's station read them too."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.access import contraband_selectors, contraband_services, photos
from huxiao.access.choices import ContrabandCategory
from huxiao.access.contraband_forms import HandlingForm, InterceptionForm
from huxiao.access.pass_pages import choose_school, gate_school, school_of, submit
from huxiao.access.pass_pages import object_id as _id
from huxiao.access.pass_selectors import require_any
from huxiao.core.roles import Action
from huxiao.core.scoping import can


def _readers(user) -> frozenset[int]:
    ids = contraband_selectors.reader_school_ids(user)
    if not ids:
        require_any(user, Action.REGISTER_VISITOR)
    return ids


def list_filters(actor, query):
    """The list's reader schools, its school (None: several and none chosen) and category;
    shared by the page and its export."""
    ids = _readers(actor)
    school = school_of(query.get("school") or "", ids)
    category = query.get("category", "")
    return ids, school, category if category in ContrabandCategory.values else ""


@login_required
@require_safe
def contraband_list(request):
    ids, school, category = list_filters(request.user, request.GET)
    if school is None:
        return choose_school(request, ids, _("Prohibited items"))
    rows = contraband_selectors.interception_list(
        actor=request.user, school_id=school.pk, category=category
    )
    return render(
        request,
        "access/passes/contraband_list.html",
        {
            "school": school,
            "interceptions": rows[:500],
            "category": category,
            "categories": ContrabandCategory.choices,
            "can_record": can(request.user, Action.REGISTER_VISITOR, school.pk),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def contraband_new(request):
    ids = require_any(request.user, Action.REGISTER_VISITOR)
    school = gate_school(request, ids)
    if school is None:
        return choose_school(request, ids, _("Record a prohibited item"))
    if request.method == "POST":
        form = InterceptionForm(request.POST, request.FILES)
        created = {}

        def call(**kwargs):
            created["row"] = contraband_services.interception_record(
                actor=request.user, school=school, **kwargs
            )

        if submit(form, call):
            row = created["row"]
            if row.police_notified_at:
                messages.success(request, _("Recorded; the police station has been notified."))
            else:
                messages.warning(
                    request, _("Recorded. This school has no police station to notify.")
                )
            return redirect("access:contraband_detail", interception_id=row.pk)
        status = 400
    else:
        form = InterceptionForm(initial={"visit": request.GET.get("visit") or None})
        status = 200
    return render(
        request,
        "access/passes/contraband_form.html",
        {"form": form, "school": school},
        status=status,
    )


@login_required
@require_safe
def contraband_detail(request, interception_id: int):
    _readers(request.user)
    row = contraband_selectors.interception_get(
        actor=request.user, interception_id=_id(interception_id)
    )
    return render(
        request,
        "access/passes/contraband_detail.html",
        {
            "row": row,
            "handling_form": HandlingForm(initial={"handling": row.handling}),
            "can_record": can(request.user, Action.REGISTER_VISITOR, row.school_id),
        },
    )


@login_required
@require_POST
def contraband_handling(request, interception_id: int):
    require_any(request.user, Action.REGISTER_VISITOR)
    row = contraband_selectors.interception_get(
        actor=request.user, interception_id=_id(interception_id)
    )
    form = HandlingForm(request.POST)

    def call(**kwargs):
        contraband_services.interception_update_handling(
            actor=request.user, interception=row, **kwargs
        )

    if submit(form, call):
        messages.success(request, _("Handling saved."))
        return redirect("access:contraband_detail", interception_id=row.pk)
    return render(
        request,
        "access/passes/contraband_detail.html",
        {"row": row, "handling_form": form, "can_record": True},
        status=400,
    )


@login_required
@require_safe
def contraband_photo(request, interception_id: int):
    _readers(request.user)
    row = contraband_selectors.interception_get(
        actor=request.user, interception_id=_id(interception_id)
    )
    opened = photos.open_photo(row)
    if opened is None:
        return HttpResponse(status=404)
    data, content_type = opened
    response = HttpResponse(data, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("contraband/", contraband_list, name="contraband_list"),
    path("contraband/new/", contraband_new, name="contraband_new"),
    path("contraband/<int:interception_id>/", contraband_detail, name="contraband_detail"),
    path(
        "contraband/<int:interception_id>/handling/",
        contraband_handling,
        name="contraband_handling",
    ),
    path("contraband/<int:interception_id>/photo/", contraband_photo, name="contraband_photo"),
]
