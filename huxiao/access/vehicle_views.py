"""Phone pages of vehicles at the gate (issue 5, ADR 0024): the vehicles inside with a big
exit button each, and the entry form. For the gate (`register_visitor`); the gate's
managers (`manage_gate`) may read the list."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.access import vehicle_selectors, vehicle_services
from huxiao.access.pass_pages import choose_school, gate_school, school_of, submit
from huxiao.access.pass_pages import object_id as _id
from huxiao.access.pass_selectors import require_any
from huxiao.access.vehicle_forms import VehicleEntryForm
from huxiao.core.roles import Action
from huxiao.core.scoping import can


def _list_url() -> str:
    return reverse("access:vehicle_list")


def _readers(user) -> frozenset[int]:
    ids = vehicle_selectors.reader_school_ids(user)
    if not ids:
        require_any(user, Action.REGISTER_VISITOR)
    return ids


def list_school(actor, query):
    """The reader schools and the school of the vehicle list (None: several and none
    chosen); shared by the page and its export."""
    ids = _readers(actor)
    return ids, school_of(query.get("school") or "", ids)


def movements(actor, school):
    """The vehicles inside, then those that left (newest first): the page and its export."""
    return (
        vehicle_selectors.movement_list(actor=actor, school_id=school.pk, inside=True),
        vehicle_selectors.movement_list(actor=actor, school_id=school.pk, inside=False),
    )


@login_required
@require_safe
def vehicle_list(request):
    """Vehicles inside now, then today's and earlier movements."""
    ids, school = list_school(request.user, request.GET)
    if school is None:
        return choose_school(request, ids, _("Vehicles"))
    inside, left = movements(request.user, school)
    return render(
        request,
        "access/passes/vehicle_list.html",
        {
            "school": school,
            "inside": inside[:500],
            "left": left[:50],
            "can_record": can(request.user, Action.REGISTER_VISITOR, school.pk),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def vehicle_enter(request):
    ids = require_any(request.user, Action.REGISTER_VISITOR)
    school = gate_school(request, ids)
    if school is None:
        return choose_school(request, ids, _("Vehicle entry"))
    if request.method == "POST":
        form = VehicleEntryForm(request.POST)
        created = {}

        def call(**kwargs):
            created["movement"] = vehicle_services.vehicle_enter(
                actor=request.user, school=school, **kwargs
            )

        if submit(form, call):
            messages.success(
                request, _("Entry of %(plate)s recorded.") % {"plate": created["movement"].plate}
            )
            return redirect(f"{_list_url()}?school={school.pk}")
        status = 400
    else:
        form = VehicleEntryForm()
        status = 200
    return render(
        request,
        "access/passes/vehicle_form.html",
        {"form": form, "school": school},
        status=status,
    )


@login_required
@require_POST
def vehicle_exit(request, movement_id: int):
    require_any(request.user, Action.REGISTER_VISITOR)
    movement = vehicle_selectors.movement_get(actor=request.user, movement_id=_id(movement_id))
    try:
        vehicle_services.vehicle_exit(actor=request.user, movement=movement)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Exit of %(plate)s recorded.") % {"plate": movement.plate})
    return redirect(f"{_list_url()}?school={movement.school_id}")


urlpatterns = [
    path("vehicles/", vehicle_list, name="vehicle_list"),
    path("vehicles/enter/", vehicle_enter, name="vehicle_enter"),
    path("vehicles/<int:movement_id>/exit/", vehicle_exit, name="vehicle_exit"),
]
