"""Reads of a school's bus routes (issue 8 item 4; ADR 0031 "Fleet"): routes with their
ordered stops, riders per stop, the usual bus, driver and safety officer (照管员), and
what is wrong with a route today (documents, seats, no safety officer).

Scope as in fleet_selectors: VIEW reads, out of scope is "not found".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, OuterRef, Q, Subquery
from django.utils.translation import gettext_lazy as _

from huxiao.core.roles import Action
from huxiao.people.models import Child, SchoolClass, Staff
from huxiao.transport import fleet_selectors as fsel
from huxiao.transport.models import Route, RouteRider, RouteStop


def route_get(*, actor, route_id) -> Route:
    return fsel.scoped_get(
        Route.objects.select_related("school", "bus", "driver", "safety_officer"),
        actor,
        route_id,
    )


def stop_get(*, actor, stop_id) -> RouteStop:
    return fsel.scoped_get(
        RouteStop.objects.select_related("route", "route__school"), actor, stop_id
    )


def rider_get(*, actor, rider_id) -> RouteRider:
    return fsel.scoped_get(
        RouteRider.objects.select_related(
            "route", "route__school", "child", "child__school_class", "stop"
        ),
        actor,
        rider_id,
    )


def route_list(*, actor, school_id: int, active: bool | None = True):
    """The school's routes by name, with `rider_count` and `stop_count`."""
    qs = Route.objects.visible_to(actor, Action.VIEW).filter(school_id=school_id)
    if active is not None:
        qs = qs.filter(is_active=active)
    return (
        qs.select_related("bus", "driver", "safety_officer")
        .annotate(
            rider_count=Count("riders", filter=Q(riders__is_active=True), distinct=True),
            stop_count=Count("stops", distinct=True),
        )
        .order_by("-is_active", "name", "pk")
    )


def stop_list(route: Route):
    return RouteStop.objects.filter(route=route).order_by("order", "pk")


def rider_list(route: Route, *, active: bool = True):
    return (
        RouteRider.objects.filter(route=route, is_active=active)
        .select_related("child", "child__school_class", "stop")
        .order_by("stop__order", "child__school_class__name", "child__name", "pk")
    )


@dataclass
class StopRiders:
    stop: RouteStop
    riders: list = field(default_factory=list)


def riders_by_stop(route: Route) -> list[StopRiders]:
    """Each stop of the route in order with its riders."""
    rows = {stop.pk: StopRiders(stop) for stop in stop_list(route)}
    for rider in rider_list(route):
        rows[rider.stop_id].riders.append(rider)
    return list(rows.values())


# ------------------------------------------------------------------ problems


def _prefixed(prefix: str, badges) -> list[fsel.Badge]:
    return [
        fsel.Badge(b.code, b.level, f"{prefix}: {b.label}") for b in badges if b.code != "points"
    ]


def route_problems(route: Route, riders: int, today: dt.date) -> list[fsel.Badge]:
    """What stands in the way of the route's trips today: the usual bus's and driver's
    documents (via transport.checks), more riders than seats, a missing or departed safety
    officer, no stops."""
    badges: list[fsel.Badge] = []
    if route.bus is None:
        badges.append(fsel.Badge("no_bus", "warning", str(_("No usual bus."))))
    else:
        badges += _prefixed(route.bus.plate, fsel.bus_badges(route.bus, today))
        if riders > route.bus.seats:
            label = _("%(riders)s riders for %(seats)s approved seats.") % {
                "riders": riders,
                "seats": route.bus.seats,
            }
            badges.append(fsel.Badge("overload", "danger", str(label)))
    if route.driver is None:
        badges.append(fsel.Badge("no_driver", "warning", str(_("No usual driver."))))
    else:
        badges += _prefixed(
            route.driver.name, fsel.driver_badges(route.driver, today, bus=route.bus)
        )
    officer = route.safety_officer
    if officer is None:
        badges.append(
            fsel.Badge("no_safety_officer", "danger", str(_("No safety officer on the route.")))
        )
    elif not officer.is_active:
        label = _("%(name)s has left the school's staff.") % {"name": officer.name}
        badges.append(fsel.Badge("safety_officer_left", "danger", str(label)))
    if getattr(route, "stop_count", None) == 0:
        badges.append(fsel.Badge("no_stops", "warning", str(_("No stops yet."))))
    return badges


def route_statuses(routes, today: dt.date) -> list[fsel.Status]:
    return [
        fsel.Status(
            route, route_problems(route, route.rider_count, today) if route.is_active else []
        )
        for route in routes
    ]


# ------------------------------------------------------------------ choices for the pages


def classes_of(school_id: int):
    return SchoolClass.objects.filter(school_id=school_id).order_by("grade", "name", "pk")


def children_for_picking(*, school_id: int, class_id: int | None):
    """Enrolled children of the school (of one class when given), each with
    `riding_route` — the name of the route they ride, if any."""
    qs = Child.objects.filter(school_id=school_id, is_active=True)
    if class_id is not None:
        qs = qs.filter(school_class_id=class_id)
    riding = RouteRider.objects.filter(child=OuterRef("pk"), is_active=True).values("route__name")
    return (
        qs.select_related("school_class")
        .annotate(riding_route=Subquery(riding[:1]))
        .order_by("school_class__name", "name", "pk")
    )


def staff_choices(school_id: int):
    """Who may look after a route: any active staff member of the school."""
    return Staff.objects.filter(school_id=school_id, is_active=True).order_by("name", "pk")


def stop_choices(school_id: int):
    """The stops of the school's routes in service, by route and order."""
    return (
        RouteStop.objects.filter(route__school_id=school_id, route__is_active=True)
        .select_related("route")
        .order_by("route__name", "order", "pk")
    )
