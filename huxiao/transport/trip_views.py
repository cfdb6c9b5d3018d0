"""Pages of bus trips (ADR 0031 "Trips"), phone first for the bus safety officer: start a
trip, the boarding tick list with its scan box, end the trip; a trip's page with its
timeline, riders, flags and bus contacts; a school's trips of a day; the open flags of the
schools in scope. Parse → call a selector/service → render.

Nobody with the needed action anywhere gets 403; a school or trip out of reach 404; a step
the role does not allow 403; a step the state does not allow 409 with the reason; a form
with errors 400 with the errors in place; a success redirects.

- `transport:trip_home` /transport/trips/: one's school's trips, or the schools in scope
- `transport:trips` /transport/schools/<id>/trips/?date=: a school's trips of a day
- `transport:trip_start` /transport/schools/<id>/trips/start/?route=&direction=
- `transport:trip` /transport/trips/<id>/: timeline, riders, flags, bus contacts
- `transport:trip_board` /transport/trips/<id>/board/?q=: the tick list (+ POST actions)
- `transport:trip_flags` /transport/trip-flags/?school=&state=: flags in scope
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.core.permissions import require
from huxiao.core.roles import Action
from huxiao.core.scoping import can, visible_school_ids
from huxiao.duty.duty_selectors import parse_date, require_any, school_get, schools_in_scope
from huxiao.duty.duty_views import service_errors
from huxiao.people.models import Staff
from huxiao.transport import fleet_selectors
from huxiao.transport import trip_selectors as sel
from huxiao.transport import trip_services as services
from huxiao.transport.choices import Direction, TripStatus
from huxiao.transport.models import RouteRider, Trip
from huxiao.transport.trip_forms import ContactsForm, ResolveFlagForm, ScanForm, StartForm

NAV = "trips"
FLAGS_NAV = "trip_flags"
PAGE_SIZE = 30
CONTACT_DAYS = 14


# ------------------------------------------------------------------ a school's trips


@login_required
@require_safe
def trip_home(request):
    ids = require_any(request.user, Action.VIEW)
    runs = visible_school_ids(request.user, Action.RUN_TRIP)
    if len(runs) == 1 or len(ids) == 1:
        return redirect("transport:trips", next(iter(runs or ids)))
    schools = list(schools_in_scope(request.user)[:500])
    today = timezone.localdate()
    counts: dict[int, int] = {}
    for trip in Trip.objects.filter(school_id__in=[s.pk for s in schools], date=today):
        counts[trip.school_id] = counts.get(trip.school_id, 0) + 1
    flags = sel.open_flag_counts([s.pk for s in schools])
    rows = [
        {"school": s, "trips": counts.get(s.pk, 0), "open_flags": flags.get(s.pk, 0)}
        for s in schools
    ]
    return render(request, "transport/trip_home.html", {"rows": rows, "nav_active": NAV})


def trips_filters(actor, school_id, params):
    """A school's trips page (page and export): the school (404 out of scope) and the day
    (`date`, else today)."""
    require_any(actor, Action.VIEW)
    school = school_get(actor=actor, school_id=school_id)
    return school, parse_date(params.get("date")) or timezone.localdate()


@login_required
@require_safe
def school_trips(request, school_id: int):
    school, day = trips_filters(request.user, school_id, request.GET)
    today = timezone.localdate()
    trips = list(sel.trip_list(actor=request.user, school_id=school.pk, date=day))
    may_run = can(request.user, Action.RUN_TRIP, school.pk) and day == today
    return render(
        request,
        "transport/trip_list.html",
        {
            "school": school,
            "day": day,
            "today": today,
            "previous_day": day - dt.timedelta(days=1),
            "next_day": day + dt.timedelta(days=1) if day < today else None,
            "trips": trips,
            "starts": _start_buttons(school.pk, today) if may_run else [],
            "open_flags": sel.open_flag_counts([school.pk]).get(school.pk, 0),
            "nav_active": NAV,
        },
    )


def _start_buttons(school_id: int, today: dt.date) -> list[dict]:
    """Each route in service with, per direction, today's trip or a start button."""
    runs = sel.runs_of_day(school_id, today)
    return [
        {
            "route": route,
            "directions": [
                {"value": value, "label": label, "trip": runs.get((route.pk, value))}
                for value, label in Direction.choices
            ],
        }
        for route in sel.routes_of(school_id)
    ]


# ------------------------------------------------------------------ starting a trip


def _start_form(route, data=None, direction=None):
    school_id = route.school_id
    buses, drivers = fleet_selectors.in_service(school_id)
    return StartForm(
        data,
        route=route,
        initial={"direction": direction} if direction in Direction.values else {},
        buses=buses,
        drivers=drivers,
        staff=Staff.objects.filter(school_id=school_id, is_active=True).order_by("name"),
        riders=RouteRider.objects.filter(route_id=route.pk, is_active=True)
        .select_related("child", "stop")
        .order_by("stop__order", "child__name"),
    )


def _render_start(request, school, route, form=None, *, refusal=None, status=200):
    return render(
        request,
        "transport/trip_start.html",
        {
            "school": school,
            "route": route,
            "routes": sel.routes_of(school.pk) if route is None else [],
            "form": form,
            "refusal": refusal,
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def trip_start(request, school_id: int):
    require_any(request.user, Action.RUN_TRIP)
    school = school_get(actor=request.user, school_id=school_id)
    require(request.user, Action.RUN_TRIP, school.pk)
    data = request.POST if request.method == "POST" else request.GET
    route = sel.route_of_school(school_id=school.pk, route_id=data.get("route"))
    if route is None or not route.is_active:
        return _render_start(request, school, None, status=400 if request.method == "POST" else 200)
    if request.method != "POST":
        return _render_start(
            request, school, route, _start_form(route, None, data.get("direction"))
        )
    form = _start_form(route, request.POST)
    if not form.is_valid():
        return _render_start(request, school, route, form, status=400)
    values = form.cleaned_data
    try:
        trip = services.trip_start(
            actor=request.user,
            school_id=school.pk,
            route_id=route.pk,
            direction=values["direction"],
            bus_id=values["bus"],
            driver_id=values["driver"],
            safety_officer_id=values["safety_officer"],
            riders=values["riders"],
            children=values["children"],
        )
    except services.TripConflict as conflict:
        return _render_start(request, school, route, form, refusal=conflict.messages[0], status=409)
    except ValidationError as exc:
        return _render_start(request, school, route, service_errors(form, exc), status=400)
    if trip.status == TripStatus.REFUSED:
        messages.error(request, _("Departure refused: %(reason)s") % {"reason": trip.refuse_reason})
        return redirect("transport:trip", trip.pk)
    messages.success(request, _("Trip started."))
    return redirect("transport:trip_board", trip.pk)


# ------------------------------------------------------------------ the tick list


def _board_url(trip_id: int, query: str = "", child_id: int | None = None) -> str:
    url = reverse("transport:trip_board", args=[trip_id])
    if query:
        url += "?" + urlencode({"q": query})
    return url + (f"#c{child_id}" if child_id else "")


def _render_board(request, trip, *, form=None, refusal=None, off_route=None, status=200):
    query = (request.POST.get("q") or request.GET.get("q") or "").strip()[:50]
    may_tick = trip.status == TripStatus.UNDERWAY and can(
        request.user, Action.RUN_TRIP, trip.school_id
    )
    return render(
        request,
        "transport/trip_board.html",
        {
            "trip": trip,
            "sheet": sel.rider_sheet(trip, query=query),
            "query": query,
            "may_tick": may_tick,
            "form": (form or ScanForm()) if may_tick else None,
            "refusal": refusal,
            "off_route": off_route,
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_safe
def trip_board(request, trip_id: int):
    require_any(request.user, Action.VIEW)
    return _render_board(request, sel.trip_get(actor=request.user, trip_id=trip_id))


def _tick(request, trip_id: int, action):
    """Run a tick-list action; re-render the list with its refusal or error."""
    require_any(request.user, Action.RUN_TRIP)
    trip = sel.trip_get(actor=request.user, trip_id=trip_id)
    query = (request.POST.get("q") or "").strip()[:50]
    try:
        child_id = action(trip)
    except services.TripConflict as conflict:
        return _render_board(request, trip, refusal=conflict.messages[0], status=409)
    except services.OffRoute as off:
        return _render_board(request, trip, off_route=off.child, status=400)
    except ValidationError as exc:
        if "code" in getattr(exc, "error_dict", {}):
            form = service_errors(ScanForm(request.POST), exc)
            return _render_board(request, trip, form=form, status=400)
        return _render_board(request, trip, refusal=_first(exc), status=400)
    return redirect(_board_url(trip.pk, query, child_id))


def _first(exc: ValidationError) -> str:
    return exc.messages[0] if exc.messages else ""


@login_required
@require_POST
def trip_board_child(request, trip_id: int, child_id: int):
    def board(trip):
        services.boarding_board(
            actor=request.user,
            trip_id=trip.pk,
            child_id=child_id,
            confirm_off_route=request.POST.get("confirm") == "1",
        )
        return child_id

    return _tick(request, trip_id, board)


@login_required
@require_POST
def trip_alight_child(request, trip_id: int, child_id: int):
    def alight(trip):
        services.boarding_alight(actor=request.user, trip_id=trip.pk, child_id=child_id)
        return child_id

    return _tick(request, trip_id, alight)


@login_required
@require_POST
def trip_scan(request, trip_id: int):
    def scan(trip):
        action, boarding = services.boarding_scan(
            actor=request.user, trip_id=trip.pk, text=request.POST.get("code", "")
        )
        name = boarding.child.name
        if action == "boarded":
            messages.success(request, _("%(name)s is on board.") % {"name": name})
        else:
            messages.success(request, _("%(name)s got off.") % {"name": name})
        return boarding.child_id

    return _tick(request, trip_id, scan)


@login_required
@require_POST
def trip_alight_all(request, trip_id: int):
    def alight_all(trip):
        count = services.boarding_alight_all(actor=request.user, trip_id=trip.pk)
        messages.success(request, _("%(n)s children got off at school.") % {"n": count})
        return None

    return _tick(request, trip_id, alight_all)


# ------------------------------------------------------------------ a trip's page


def _resolve_forms(request, flags, bound=None) -> None:
    """Give each open flag the user may resolve its form (`bound`, posted with errors, in
    place of a fresh one)."""
    for flag in flags:
        prefix = f"resolve-{flag.pk}"
        flag.resolve_form = None
        if flag.resolved_at is None and sel.may_resolve(request.user, flag):
            flag.resolve_form = (
                bound
                if bound is not None and bound.prefix == prefix
                else ResolveFlagForm(prefix=prefix)
            )


def _render_trip(request, trip, *, refusal=None, bound=None, status=200):
    flags = list(trip.flags.select_related("child", "resolved_by").order_by("at", "id"))
    for flag in flags:
        flag.trip = trip
    _resolve_forms(request, flags, bound)
    children = sel.children_of_trip(trip)
    contacts_form, contacts = _contacts(request, trip, children)
    return render(
        request,
        "transport/trip_detail.html",
        {
            "trip": trip,
            "flags": flags,
            "timeline": sel.trip_timeline(trip, flags),
            "sheet": sel.rider_sheet(trip),
            "may_tick": trip.status == TripStatus.UNDERWAY
            and can(request.user, Action.RUN_TRIP, trip.school_id),
            "contacts_form": contacts_form,
            "contacts": contacts,
            "refusal": refusal,
            "nav_active": NAV,
        },
        status=status,
    )


def _contacts(request, trip, children):
    """The bus-contacts section: empty until a child is chosen (GET contact_child)."""
    if not children:
        return None, None
    initial = {"start": trip.date - dt.timedelta(days=CONTACT_DAYS - 1), "end": trip.date}
    if "contact_child" not in request.GET:
        return ContactsForm(initial=initial, children=children), None
    form = ContactsForm(request.GET, children=children)
    if not form.is_valid():
        return form, None
    values = form.cleaned_data
    try:
        contacts = sel.bus_contacts(
            actor=request.user,
            child_id=values["contact_child"],
            start=values["start"],
            end=values["end"],
        )
    except ValidationError as exc:
        return service_errors(ContactsForm(request.GET, children=children), exc), None
    return form, contacts


@login_required
@require_safe
def trip_detail(request, trip_id: int):
    require_any(request.user, Action.VIEW)
    return _render_trip(request, sel.trip_get(actor=request.user, trip_id=trip_id))


@login_required
@require_POST
def trip_end(request, trip_id: int):
    require_any(request.user, Action.RUN_TRIP)
    trip = sel.trip_get(actor=request.user, trip_id=trip_id)
    try:
        trip = services.trip_end(actor=request.user, trip_id=trip.pk)
    except services.TripConflict as conflict:
        return _render_trip(request, trip, refusal=conflict.messages[0], status=409)
    except ValidationError as exc:
        return _render_trip(request, trip, refusal=_first(exc), status=400)
    flagged = trip.flags.count()
    if flagged:
        messages.error(
            request,
            _(
                "Trip ended. %(n)s children were not ticked off: the school and the police have "
                "been told."
            )
            % {"n": flagged},
        )
    else:
        messages.success(request, _("Trip ended: every child got off."))
    return redirect("transport:trip", trip.pk)


# ------------------------------------------------------------------ flags


def flag_filters(actor, params):
    """The trip flags page's schools in scope and `school` filter (page and export); a
    school out of scope is 404."""
    ids = require_any(actor, Action.VIEW)
    raw = params.get("school")
    return ids, (school_get(actor=actor, school_id=raw).pk if raw else None)


def _render_flags(request, *, refusal=None, bound=None, status=200):
    ids, school_id = flag_filters(request.user, request.GET)
    open_flags = list(sel.flag_list(actor=request.user, school_id=school_id, state="open")[:200])
    _resolve_forms(request, open_flags, bound)
    resolved = Paginator(
        sel.flag_list(actor=request.user, school_id=school_id, state="resolved"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "transport/trip_flags.html",
        {
            "open_flags": open_flags,
            "resolved": resolved,
            "school_id": school_id,
            "several_schools": len(ids) > 1,
            "refusal": refusal,
            "nav_active": FLAGS_NAV,
        },
        status=status,
    )


@login_required
@require_safe
def trip_flags(request):
    return _render_flags(request)


@login_required
@require_POST
def flag_resolve(request, flag_id: int):
    require_any(request.user, Action.VIEW)
    flag = sel.flag_get(actor=request.user, flag_id=flag_id)
    prefix = f"resolve-{flag.pk}"
    from_trip = request.POST.get("back") == "trip"
    trip = sel.trip_get(actor=request.user, trip_id=flag.trip_id)
    try:
        services.flag_resolve(
            actor=request.user,
            flag_id=flag.pk,
            resolution=request.POST.get(f"{prefix}-resolution", ""),
        )
    except services.TripConflict as conflict:
        if from_trip:
            return _render_trip(request, trip, refusal=conflict.messages[0], status=409)
        return _render_flags(request, refusal=conflict.messages[0], status=409)
    except ValidationError as exc:
        form = service_errors(ResolveFlagForm(request.POST, prefix=prefix), exc)
        if from_trip:
            return _render_trip(request, trip, bound=form, status=400)
        return _render_flags(request, bound=form, status=400)
    messages.success(request, _("Flag resolved."))
    if from_trip:
        return redirect("transport:trip", trip.pk)
    return redirect("transport:trip_flags")


urlpatterns = [
    path("trips/", trip_home, name="trip_home"),
    path("schools/<int:school_id>/trips/", school_trips, name="trips"),
    path("schools/<int:school_id>/trips/start/", trip_start, name="trip_start"),
    path("trips/<int:trip_id>/", trip_detail, name="trip"),
    path("trips/<int:trip_id>/board/", trip_board, name="trip_board"),
    path("trips/<int:trip_id>/board/<int:child_id>/", trip_board_child, name="trip_board_child"),
    path("trips/<int:trip_id>/alight/<int:child_id>/", trip_alight_child, name="trip_alight_child"),
    path("trips/<int:trip_id>/scan/", trip_scan, name="trip_scan"),
    path("trips/<int:trip_id>/alight-all/", trip_alight_all, name="trip_alight_all"),
    path("trips/<int:trip_id>/end/", trip_end, name="trip_end"),
    path("trip-flags/", trip_flags, name="trip_flags"),
    path("trip-flags/<int:flag_id>/resolve/", flag_resolve, name="trip_flag_resolve"),
]
