"""Pages of bus routes, their stops and riders (issue 8 item 4; ADR 0031 "Fleet"). Same
contract as fleet_views: VIEW reads, MANAGE_TRANSPORT changes; 404 out of reach, 403 for a
role that may not, 409 with the reason for a step the state does not allow, 400 with the
errors in place for bad input, a redirect on success.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.transport import fleet_selectors
from huxiao.transport import fleet_selectors as fsel
from huxiao.transport import route_selectors as sel
from huxiao.transport import route_services as services
from huxiao.transport.fleet_forms import (
    ClassPickForm,
    RiderMoveForm,
    RidersAddForm,
    RouteForm,
    StopFormSet,
)
from huxiao.transport.fleet_services import FleetRefused
from huxiao.transport.fleet_views import (
    NAV,
    create_view,
    delete_view,
    form_page,
    refused,
    require_manager,
    service_view,
    submit,
)


def _route_form(request, school_id: int, route=None) -> RouteForm:
    """The form with the school's buses and drivers in service and its active staff
    (plus the route's current ones, so that an edit shows what is set)."""
    buses, drivers = (list(rows) for rows in fleet_selectors.in_service(school_id))
    staff = list(sel.staff_choices(school_id))
    initial = None
    if route is not None:
        for current, rows in ((route.bus, buses), (route.driver, drivers)):
            if current is not None and current not in rows:
                rows.append(current)
        initial = {
            "name": route.name,
            "bus": route.bus_id,
            "driver": route.driver_id,
            "safety_officer": route.safety_officer_id,
        }
    return RouteForm(
        request.POST or None, initial=initial, buses=buses, drivers=drivers, staff=staff
    )


def _route_url(route) -> str:
    return reverse("transport:route_detail", args=[route.pk])


route_new = create_view(
    lambda request, school: _route_form(request, school.pk),
    services.route_create,
    "transport/fleet_route_form.html",
    gettext_lazy("Route added. Now enter its stops."),
    "transport:route_stops",
)


@login_required
@require_safe
def route_detail(request, route_id: int):
    base = sel.route_get(actor=request.user, route_id=route_id)
    route = sel.route_list(actor=request.user, school_id=base.school_id, active=None).get(
        pk=base.pk
    )
    today = fsel.today_local()
    return render(
        request,
        "transport/fleet_route.html",
        {
            "school": base.school,
            "route": route,
            "problems": sel.route_problems(route, route.rider_count, today)
            if route.is_active
            else [],
            "stops": sel.riders_by_stop(route),
            "former": list(sel.rider_list(route, active=False)),
            "can_manage": fsel.may_manage(request.user, route.school_id),
            "nav_active": NAV,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def route_edit(request, route_id: int):
    route = sel.route_get(actor=request.user, route_id=route_id)
    require_manager(request, route.school_id)
    form = _route_form(request, route.school_id, route)
    done = submit(
        request,
        form,
        lambda **data: services.route_update(actor=request.user, route=route, **data),
        _("Saved."),
    )
    if done is not None:
        return redirect(_route_url(route))
    return form_page(
        request, "transport/fleet_route_form.html", {"school": route.school, "route": route}, form
    )


def _route(actor, pk):
    return sel.route_get(actor=actor, route_id=pk)


route_retire = service_view(
    _route,
    lambda actor, route, **c: services.route_update(actor=actor, route=route, **c),
    "transport:route_detail",
)
route_delete = delete_view(
    _route,
    lambda actor, route: services.route_delete(actor=actor, route=route),
    "transport:route_detail",
)


# ------------------------------------------------------------------ stops


def _stop_entries(formset) -> list[dict]:
    """The rows kept, ordered by their order field (rows without one keep their place)."""
    rows = []
    for index, form in enumerate(formset.forms):
        entry = form.entry()
        if entry is not None:
            position = form.cleaned_data.get("position")
            rows.append((position if position is not None else index + 1, index, entry))
    return [entry for _position, _index, entry in sorted(rows, key=lambda r: (r[0], r[1]))]


@login_required
@require_http_methods(["GET", "POST"])
def route_stops(request, route_id: int):
    """All stops of the route in one form: order, names and times, new stops in the
    empty rows, "remove" ticks. Checked and saved as a whole."""
    route = sel.route_get(actor=request.user, route_id=route_id)
    require_manager(request, route.school_id)
    initial = [
        {
            "id": s.pk,
            "position": s.order,
            "name": s.name,
            "morning_time": s.morning_time,
            "afternoon_time": s.afternoon_time,
        }
        for s in sel.stop_list(route)
    ]
    formset = StopFormSet(request.POST or None, initial=initial, prefix="stops")
    errors: list[str] = []
    if request.method == "POST" and formset.is_valid():
        try:
            services.stops_save(actor=request.user, route=route, stops=_stop_entries(formset))
        except FleetRefused as refusal:
            return refused(request, refusal, reverse("transport:route_stops", args=[route.pk]))
        except ValidationError as exc:
            errors = [m for messages_ in exc.message_dict.values() for m in messages_]
        else:
            messages.success(request, _("Stops saved."))
            return redirect(_route_url(route))
    elif request.method == "POST":
        errors = [str(e) for e in formset.non_form_errors()]
    return render(
        request,
        "transport/fleet_stops.html",
        {
            "school": route.school,
            "route": route,
            "formset": formset,
            "errors": errors,
            "nav_active": NAV,
        },
        status=400 if request.method == "POST" else 200,
    )


# ------------------------------------------------------------------ riders


@login_required
@require_http_methods(["GET", "POST"])
def riders_add(request, route_id: int):
    """Tick children of a class (`?school_class=`) and the stop they ride from."""
    route = sel.route_get(actor=request.user, route_id=route_id)
    require_manager(request, route.school_id)
    if not route.is_active:
        return refused(
            request,
            FleetRefused(_("The route is out of service: put it back in service first.")),
            _route_url(route),
        )
    classes = list(sel.classes_of(route.school_id))
    query = request.GET.copy()
    if "school_class" not in query and classes:
        # A first visit offers the first class, not the whole school at once.
        query["school_class"] = str(classes[0].pk)
    picker = ClassPickForm(query, classes=classes)
    class_id = picker.cleaned_data.get("school_class") if picker.is_valid() else None
    children = sel.children_for_picking(school_id=route.school_id, class_id=class_id)
    form = RidersAddForm(request.POST or None, stops=sel.stop_list(route), children=children)
    added = submit(
        request,
        form,
        lambda **data: services.riders_add(actor=request.user, route=route, **data),
        _("Riders added."),
    )
    if added is not None:
        return redirect(_route_url(route))
    return form_page(
        request,
        "transport/fleet_riders_add.html",
        {"school": route.school, "route": route, "picker": picker},
        form,
    )


@login_required
@require_http_methods(["GET", "POST"])
def rider_move(request, rider_id: int):
    rider = sel.rider_get(actor=request.user, rider_id=rider_id)
    route = rider.route
    require_manager(request, route.school_id)
    stops = list(sel.stop_choices(route.school_id))
    form = RiderMoveForm(request.POST or None, stops=stops, initial={"stop": rider.stop_id})
    by_id = {stop.pk: stop for stop in stops}

    def move(stop):
        target = by_id.get(stop)
        return services.rider_move(
            actor=request.user,
            rider=rider,
            stop=stop,
            route=target.route_id if target else None,
        )

    moved = submit(request, form, move, _("Rider moved."))
    if moved is not None:
        return redirect(_route_url(route))
    return form_page(
        request,
        "transport/fleet_rider_move.html",
        {"school": route.school, "route": route, "rider": rider},
        form,
    )


@login_required
@require_POST
def rider_remove(request, rider_id: int):
    rider = sel.rider_get(actor=request.user, rider_id=rider_id)
    require_manager(request, rider.route.school_id)
    try:
        services.rider_remove(actor=request.user, rider=rider)
    except FleetRefused as refusal:
        return refused(request, refusal, _route_url(rider.route))
    messages.success(
        request, _("%(child)s no longer rides this route.") % {"child": rider.child.name}
    )
    return redirect(_route_url(rider.route))


urlpatterns = [
    path("schools/<int:school_id>/routes/new/", route_new, name="route_new"),
    path("routes/<int:route_id>/", route_detail, name="route_detail"),
    path("routes/<int:route_id>/edit/", route_edit, name="route_edit"),
    path("routes/<int:pk>/service/", route_retire, name="route_retire"),
    path("routes/<int:pk>/delete/", route_delete, name="route_delete"),
    path("routes/<int:route_id>/stops/", route_stops, name="route_stops"),
    path("routes/<int:route_id>/riders/add/", riders_add, name="route_riders_add"),
    path("riders/<int:rider_id>/move/", rider_move, name="rider_move"),
    path("riders/<int:rider_id>/remove/", rider_remove, name="rider_remove"),
]
