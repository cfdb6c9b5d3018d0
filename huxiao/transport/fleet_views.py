"""Pages of school buses and drivers and the transport overview (issue 8 item 4; ADR 0031
"Fleet"). Parse → call a selector/service → render.

Everyone with VIEW on the school reads; the principal and security officer
(MANAGE_TRANSPORT) add, edit, retire and delete. Nobody with a school in reach gets 403; a
school or record out of reach 404; a change the role does not allow 403; a step the state
does not allow (retiring a bus a route uses, deleting one with trips) 409 with the reason;
a form with errors 400 with the errors in place and nothing written; a success redirects.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.transport import fleet_selectors as sel
from huxiao.transport import fleet_services as services
from huxiao.transport import route_selectors as rsel
from huxiao.transport.fleet_forms import BusForm, DriverForm, ViolationForm

NAV = "transport_fleet"
BUS_FORM_FIELDS = tuple(f for f in services.BUS_FIELDS if f != "is_active")
DRIVER_FORM_FIELDS = tuple(f for f in services.DRIVER_FIELDS if f != "is_active")


def require_manager(request, school_id: int) -> None:
    if not sel.may_manage(request.user, school_id):
        raise PermissionDenied(_("Your role does not allow this action."))


def school_url(school_id: int) -> str:
    return f"{reverse('transport:overview')}?school={school_id}"


def refused(request, refusal: services.FleetRefused, back: str):
    """A step the state does not allow: the reason, 409."""
    return render(
        request,
        "transport/fleet_refusal.html",
        {"reason": refusal.messages[0], "back": back, "nav_active": NAV},
        status=409,
    )


def form_page(request, template: str, context: dict, form):
    """The form page: 409 with the reason when the state refused the step, 400 with the
    errors in place, else 200."""
    refusal = getattr(form, "refusal", None)
    invalid = form.is_bound and form.errors
    status = 409 if refusal else (400 if invalid else 200)
    return render(
        request,
        template,
        {**context, "form": form, "refusal": refusal, "nav_active": NAV},
        status=status,
    )


def submit(request, form, call, success: str):
    """Run `call(**form.service_kwargs())` for a valid POST; the service's errors go on
    the form, a refusal of the state into `form.refusal`. Returns what the call returned,
    or None."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        result = call(**form.service_kwargs())
    except services.FleetRefused as refusal:
        form.refusal = refusal.messages[0]
        return None
    except ValidationError as exc:
        form.add_service_errors(exc)
        return None
    messages.success(request, success)
    return result


# ------------------------------------------------------------------ overview


@login_required
@require_safe
def overview(request):
    """One school's fleet (`?school=`, or the only school in reach); otherwise the schools
    in reach that keep buses, drivers or routes, with their figures."""
    raw = request.GET.get("school")
    school_id = sel.valid_id(raw) if raw is not None else sel.overview_target(request.user)
    if school_id is not None:
        return _school_page(request, school_id)
    today = sel.today_local()
    rows = sel.fleet_figures(sel.schools_in_scope(request.user), today)
    kept = [row for row in rows if row.has_fleet]
    return render(
        request,
        "transport/fleet_overview.html",
        {
            "rows": kept,
            "without_fleet": len(rows) - len(kept),
            "nav_active": NAV,
        },
    )


def _school_page(request, school_id: int):
    school = sel.school_get(actor=request.user, school_id=school_id)
    today = sel.today_local()
    actor = request.user
    buses = list(sel.bus_list(actor=actor, school_id=school.pk, active=None))
    drivers = list(sel.driver_list(actor=actor, school_id=school.pk, active=None))
    routes = list(rsel.route_list(actor=actor, school_id=school.pk, active=None))
    (figures,) = sel.fleet_figures([school], today)
    return render(
        request,
        "transport/fleet_school.html",
        {
            "school": school,
            "figures": figures,
            "buses": sel.bus_statuses([b for b in buses if b.is_active], today),
            "retired_buses": [b for b in buses if not b.is_active],
            "drivers": sel.driver_statuses([d for d in drivers if d.is_active], today),
            "retired_drivers": [d for d in drivers if not d.is_active],
            "routes": rsel.route_statuses([r for r in routes if r.is_active], today),
            "retired_routes": [r for r in routes if not r.is_active],
            "officers": sel.safety_officers(actor=actor, school_id=school.pk),
            "can_manage": sel.may_manage(actor, school.pk),
            "many_schools": sel.overview_target(actor) is None,
            "nav_active": NAV,
        },
    )


# ------------------------------------------------------------------ buses


def create_view(make_form, create, template: str, success, detail: str):
    """A page adding a record to a school: the form (GET), the record (POST, then its page
    `detail`)."""

    @login_required
    @require_http_methods(["GET", "POST"])
    def view(request, school_id: int):
        school = sel.school_get(actor=request.user, school_id=school_id)
        require_manager(request, school.pk)
        form = make_form(request, school)
        obj = submit(
            request,
            form,
            lambda **data: create(actor=request.user, school=school, **data),
            str(success),
        )
        if obj is not None:
            return redirect(detail, obj.pk)
        return form_page(request, template, {"school": school}, form)

    return view


bus_new = create_view(
    lambda request, school: BusForm(request.POST or None, initial={"markings_compliant": True}),
    services.bus_create,
    "transport/fleet_bus_form.html",
    gettext_lazy("School bus added."),
    "transport:bus_detail",
)


@login_required
@require_safe
def bus_detail(request, bus_id: int):
    bus = sel.bus_get(actor=request.user, bus_id=bus_id)
    today = sel.today_local()
    return render(
        request,
        "transport/fleet_bus.html",
        {
            "school": bus.school,
            "bus": bus,
            "badges": sel.bus_badges(bus, today),
            "documents": sel.bus_documents(bus, today),
            "routes": list(sel.routes_of_bus(bus)),
            "can_manage": sel.may_manage(request.user, bus.school_id),
            "nav_active": NAV,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def bus_edit(request, bus_id: int):
    bus = sel.bus_get(actor=request.user, bus_id=bus_id)
    require_manager(request, bus.school_id)
    initial = {name: getattr(bus, name) for name in BUS_FORM_FIELDS}
    form = BusForm(request.POST or None, initial=initial)
    done = submit(
        request,
        form,
        lambda **data: services.bus_update(actor=request.user, bus=bus, **data),
        _("Saved."),
    )
    if done is not None:
        return redirect("transport:bus_detail", bus.pk)
    return form_page(
        request, "transport/fleet_bus_form.html", {"school": bus.school, "bus": bus}, form
    )


def service_view(get, update, detail: str):
    """A POST view: `in_service=1` puts the record back in service, anything else retires
    it (409 with the reason when the state does not allow it)."""

    @login_required
    @require_POST
    def view(request, pk: int):
        obj = get(request.user, pk)
        require_manager(request, obj.school_id)
        active = request.POST.get("in_service") == "1"
        back = reverse(detail, args=[obj.pk])
        try:
            update(request.user, obj, is_active=active)
        except services.FleetRefused as refusal:
            return refused(request, refusal, back)
        messages.success(request, _("Back in service.") if active else _("Retired."))
        return redirect(back)

    return view


def delete_view(get, delete, detail: str):
    """A POST view deleting a record recorded by mistake (409 when it is on record)."""

    @login_required
    @require_POST
    def view(request, pk: int):
        obj = get(request.user, pk)
        require_manager(request, obj.school_id)
        try:
            delete(request.user, obj)
        except services.FleetRefused as refusal:
            return refused(request, refusal, reverse(detail, args=[obj.pk]))
        messages.success(request, _("Deleted."))
        return redirect(school_url(obj.school_id))

    return view


def _bus(actor, pk):
    return sel.bus_get(actor=actor, bus_id=pk)


bus_retire = service_view(
    _bus,
    lambda actor, bus, **c: services.bus_update(actor=actor, bus=bus, **c),
    "transport:bus_detail",
)
bus_delete = delete_view(
    _bus,
    lambda actor, bus: services.bus_delete(actor=actor, bus=bus),
    "transport:bus_detail",
)


# ------------------------------------------------------------------ drivers


driver_new = create_view(
    lambda request, school: DriverForm(request.POST or None, initial={"licence_class": "B1"}),
    services.driver_create,
    "transport/fleet_driver_form.html",
    gettext_lazy("Driver added."),
    "transport:driver_detail",
)


def _driver_page(request, driver, *, violation_form=None, status=200):
    today = sel.today_local()
    can_manage = sel.may_manage(request.user, driver.school_id)
    return render(
        request,
        "transport/fleet_driver.html",
        {
            "school": driver.school,
            "driver": driver,
            "badges": sel.driver_badges(driver, today),
            "documents": sel.driver_documents(driver, today),
            "points": sel.points_in_period(driver, today),
            "violations": list(sel.violation_list(driver)),
            "routes": list(sel.routes_of_driver(driver)),
            "can_manage": can_manage,
            "violation_form": (violation_form or ViolationForm(initial={"occurred_on": today}))
            if can_manage
            else None,
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_safe
def driver_detail(request, driver_id: int):
    return _driver_page(request, sel.driver_get(actor=request.user, driver_id=driver_id))


@login_required
@require_http_methods(["GET", "POST"])
def driver_edit(request, driver_id: int):
    driver = sel.driver_get(actor=request.user, driver_id=driver_id)
    require_manager(request, driver.school_id)
    initial = {name: getattr(driver, name) for name in DRIVER_FORM_FIELDS}
    form = DriverForm(request.POST or None, initial=initial)
    done = submit(
        request,
        form,
        lambda **data: services.driver_update(actor=request.user, driver=driver, **data),
        _("Saved."),
    )
    if done is not None:
        return redirect("transport:driver_detail", driver.pk)
    return form_page(
        request,
        "transport/fleet_driver_form.html",
        {"school": driver.school, "driver": driver},
        form,
    )


def _driver(actor, pk):
    return sel.driver_get(actor=actor, driver_id=pk)


driver_retire = service_view(
    _driver,
    lambda actor, driver, **c: services.driver_update(actor=actor, driver=driver, **c),
    "transport:driver_detail",
)
driver_delete = delete_view(
    _driver,
    lambda actor, driver: services.driver_delete(actor=actor, driver=driver),
    "transport:driver_detail",
)


@login_required
@require_POST
def violation_add(request, driver_id: int):
    driver = sel.driver_get(actor=request.user, driver_id=driver_id)
    require_manager(request, driver.school_id)
    form = ViolationForm(request.POST)
    done = submit(
        request,
        form,
        lambda **data: services.violation_add(actor=request.user, driver=driver, **data),
        _("Violation recorded."),
    )
    if done is not None:
        return redirect("transport:driver_detail", driver.pk)
    return _driver_page(request, driver, violation_form=form, status=400)


@login_required
@require_POST
def violation_delete(request, violation_id: int):
    violation = sel.violation_get(actor=request.user, violation_id=violation_id)
    require_manager(request, violation.driver.school_id)
    services.violation_delete(actor=request.user, violation=violation)
    messages.success(request, _("Deleted."))
    return redirect("transport:driver_detail", violation.driver_id)


urlpatterns = [
    path("", overview, name="overview"),
    path("schools/<int:school_id>/buses/new/", bus_new, name="bus_new"),
    path("buses/<int:bus_id>/", bus_detail, name="bus_detail"),
    path("buses/<int:bus_id>/edit/", bus_edit, name="bus_edit"),
    path("buses/<int:pk>/service/", bus_retire, name="bus_retire"),
    path("buses/<int:pk>/delete/", bus_delete, name="bus_delete"),
    path("schools/<int:school_id>/drivers/new/", driver_new, name="driver_new"),
    path("drivers/<int:driver_id>/", driver_detail, name="driver_detail"),
    path("drivers/<int:driver_id>/edit/", driver_edit, name="driver_edit"),
    path("drivers/<int:pk>/service/", driver_retire, name="driver_retire"),
    path("drivers/<int:pk>/delete/", driver_delete, name="driver_delete"),
    path("drivers/<int:driver_id>/violations/", violation_add, name="violation_add"),
    path("violations/<int:violation_id>/delete/", violation_delete, name="violation_delete"),
]
