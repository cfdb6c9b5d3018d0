"""REST handlers of bus routes, their stops and riders (issue 8 item 4; ADR 0031
"Fleet"). Same contract as fleet_api: VIEW reads, MANAGE_TRANSPORT writes; out of scope
404; a state that does not allow the step (a retired route, a stop with riders, a route
with trips) 409; bad input 400 by field, nothing written.
"""

from __future__ import annotations

import datetime as dt

from ninja import Router, Schema, Status
from pydantic import ConfigDict

from huxiao.core.api import DbId, ErrorOut
from huxiao.core.permissions import require
from huxiao.core.roles import Action
from huxiao.transport import fleet_selectors as fsel
from huxiao.transport import route_selectors as sel
from huxiao.transport import route_services as services
from huxiao.transport.fleet_api import (
    BadgeOut,
    attempt,
    badge_payload,
    refuse_nulls,
    refused,
)
from huxiao.transport.fleet_services import FleetRefused

router = Router(tags=["transport"])

# ------------------------------------------------------------------ schemas


class BusRefOut(Schema):
    id: int
    plate: str
    seats: int


class NamedRefOut(Schema):
    id: int
    name: str


class RiderOut(Schema):
    id: int
    route_id: int
    child_id: int
    child_name: str
    class_name: str
    stop_id: int
    stop_name: str
    is_active: bool


class StopOut(Schema):
    id: int
    route_id: int
    order: int
    name: str
    morning_time: dt.time | None
    afternoon_time: dt.time | None


class StopRidersOut(StopOut):
    riders: list[RiderOut]


class RouteOut(Schema):
    id: int
    school_id: int
    name: str
    bus: BusRefOut | None
    driver: NamedRefOut | None
    safety_officer: NamedRefOut | None
    is_active: bool
    rider_count: int
    stop_count: int
    problems: list[BadgeOut]


class RouteDetailOut(RouteOut):
    stops: list[StopRidersOut]
    former_riders: list[RiderOut]


class RouteList(Schema):
    count: int
    items: list[RouteOut]


class RiderList(Schema):
    count: int
    items: list[RiderOut]


class RouteIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str
    bus_id: DbId | None = None
    driver_id: DbId | None = None
    safety_officer_id: DbId | None = None


class RoutePatch(Schema):
    """Only the fields sent change; null clears the bus, driver or safety officer;
    `is_active: false` retires the route (its riders stop riding it)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    bus_id: DbId | None = None
    driver_id: DbId | None = None
    safety_officer_id: DbId | None = None
    is_active: bool | None = None


class StopIn(Schema):
    model_config = ConfigDict(extra="forbid")

    id: DbId | None = None  # a stop kept; none for a new one
    name: str
    morning_time: dt.time | None = None
    afternoon_time: dt.time | None = None


class StopsIn(Schema):
    model_config = ConfigDict(extra="forbid")

    stops: list[StopIn]


class StopAddIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str
    morning_time: dt.time | None = None
    afternoon_time: dt.time | None = None
    position: int | None = None  # 1 = first; the end when none


class StopPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    morning_time: dt.time | None = None
    afternoon_time: dt.time | None = None


class RidersIn(Schema):
    model_config = ConfigDict(extra="forbid")

    stop_id: DbId
    child_ids: list[DbId]


class RiderPatch(Schema):
    """Move the rider to `stop_id`, of `route_id` when another route of the school."""

    model_config = ConfigDict(extra="forbid")

    stop_id: DbId
    route_id: DbId | None = None


# ------------------------------------------------------------------ payloads

REFS = {"bus_id": "bus", "driver_id": "driver", "safety_officer_id": "safety_officer"}


def _service_changes(data: dict) -> dict:
    """API names (bus_id…) → service names (bus…)."""
    return {REFS.get(key, key): value for key, value in data.items()}


def rider_payload(rider) -> dict:
    return {
        "id": rider.pk,
        "route_id": rider.route_id,
        "child_id": rider.child_id,
        "child_name": rider.child.name,
        "class_name": rider.child.school_class.name,
        "stop_id": rider.stop_id,
        "stop_name": rider.stop.name,
        "is_active": rider.is_active,
    }


def stop_payload(stop) -> dict:
    return {
        "id": stop.pk,
        "route_id": stop.route_id,
        "order": stop.order,
        "name": stop.name,
        "morning_time": stop.morning_time,
        "afternoon_time": stop.afternoon_time,
    }


def route_payload(route, today: dt.date) -> dict:
    bus, driver, officer = route.bus, route.driver, route.safety_officer
    return {
        "id": route.pk,
        "school_id": route.school_id,
        "name": route.name,
        "bus": {"id": bus.pk, "plate": bus.plate, "seats": bus.seats} if bus else None,
        "driver": {"id": driver.pk, "name": driver.name} if driver else None,
        "safety_officer": {"id": officer.pk, "name": officer.name} if officer else None,
        "is_active": route.is_active,
        "rider_count": route.rider_count,
        "stop_count": route.stop_count,
        "problems": badge_payload(
            sel.route_problems(route, route.rider_count, today) if route.is_active else []
        ),
    }


def _route_detail(actor, route_id: int) -> dict:
    base = sel.route_get(actor=actor, route_id=route_id)
    route = sel.route_list(actor=actor, school_id=base.school_id, active=None).get(pk=base.pk)
    data = route_payload(route, fsel.today_local())
    data["stops"] = [
        {**stop_payload(row.stop), "riders": [rider_payload(r) for r in row.riders]}
        for row in sel.riders_by_stop(route)
    ]
    data["former_riders"] = [rider_payload(r) for r in sel.rider_list(route, active=False)]
    return data


_DETAIL = {200: RouteDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}
_DELETE = {204: None, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}

# ------------------------------------------------------------------ routes


@router.get(
    "/transport/schools/{school_id}/routes",
    response={200: RouteList, 403: ErrorOut, 404: ErrorOut},
)
def route_list(request, school_id: DbId, active: bool = True):
    """The school's routes in service (`active=false`: the retired ones) with riders,
    stops and what stands in the way of their trips today."""
    school = fsel.school_get(actor=request.auth, school_id=school_id)
    today = fsel.today_local()
    items = [
        route_payload(r, today)
        for r in sel.route_list(actor=request.auth, school_id=school.pk, active=active)
    ]
    return {"count": len(items), "items": items}


@router.post(
    "/transport/schools/{school_id}/routes",
    response={201: RouteDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def route_create(request, school_id: DbId, payload: RouteIn):
    school = fsel.school_get(actor=request.auth, school_id=school_id)
    route = services.route_create(
        actor=request.auth, school=school, **_service_changes(payload.dict())
    )
    return Status(201, _route_detail(request.auth, route.pk))


@router.get(
    "/transport/routes/{route_id}",
    response={200: RouteDetailOut, 403: ErrorOut, 404: ErrorOut},
)
def route_detail(request, route_id: DbId):
    """The route with its stops in order, the riders of each stop and former riders."""
    return _route_detail(request.auth, route_id)


@router.patch("/transport/routes/{route_id}", response=_DETAIL)
def route_update(request, route_id: DbId, payload: RoutePatch):
    route = sel.route_get(actor=request.auth, route_id=route_id)
    changes = payload.dict(exclude_unset=True)
    require(request.auth, Action.MANAGE_TRANSPORT, route.school_id)
    refuse_nulls(changes, ("name", "is_active"))
    return attempt(
        request, services.route_update, actor=request.auth, route=route, **_service_changes(changes)
    ) or _route_detail(request.auth, route_id)


@router.delete("/transport/routes/{route_id}", response=_DELETE)
def route_delete(request, route_id: DbId):
    """Delete a route recorded by mistake (409 when it has riders or trips)."""
    route = sel.route_get(actor=request.auth, route_id=route_id)
    return attempt(request, services.route_delete, actor=request.auth, route=route) or Status(
        204, None
    )


# ------------------------------------------------------------------ stops


@router.put("/transport/routes/{route_id}/stops", response=_DETAIL)
def stops_replace(request, route_id: DbId, payload: StopsIn):
    """The route's stops, exactly these in this order (a kept stop carries its id; one
    left out is removed — 409 while children ride from it)."""
    route = sel.route_get(actor=request.auth, route_id=route_id)
    stops = [stop.dict() for stop in payload.stops]
    return attempt(
        request, services.stops_save, actor=request.auth, route=route, stops=stops
    ) or _route_detail(request.auth, route_id)


@router.post(
    "/transport/routes/{route_id}/stops",
    response={201: StopOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def stop_create(request, route_id: DbId, payload: StopAddIn):
    route = sel.route_get(actor=request.auth, route_id=route_id)
    try:
        stop = services.stop_add(actor=request.auth, route=route, **payload.dict())
    except FleetRefused as refusal:
        return refused(request, refusal)
    return Status(201, stop_payload(stop))


@router.patch(
    "/transport/stops/{stop_id}",
    response={200: StopOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def stop_update(request, stop_id: DbId, payload: StopPatch):
    stop = sel.stop_get(actor=request.auth, stop_id=stop_id)
    changes = payload.dict(exclude_unset=True)
    require(request.auth, Action.MANAGE_TRANSPORT, stop.route.school_id)
    refuse_nulls(changes, ("name",))
    try:
        stop = services.stop_update(actor=request.auth, stop=stop, **changes)
    except FleetRefused as refusal:
        return refused(request, refusal)
    return stop_payload(stop)


@router.delete(
    "/transport/stops/{stop_id}",
    response={204: None, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def stop_delete(request, stop_id: DbId):
    stop = sel.stop_get(actor=request.auth, stop_id=stop_id)
    return attempt(request, services.stop_remove, actor=request.auth, stop=stop) or Status(
        204, None
    )


# ------------------------------------------------------------------ riders


@router.get(
    "/transport/routes/{route_id}/riders",
    response={200: RiderList, 403: ErrorOut, 404: ErrorOut},
)
def rider_list(request, route_id: DbId, active: bool = True):
    route = sel.route_get(actor=request.auth, route_id=route_id)
    items = [rider_payload(r) for r in sel.rider_list(route, active=active)]
    return {"count": len(items), "items": items}


@router.post(
    "/transport/routes/{route_id}/riders",
    response={201: RiderList, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def riders_create(request, route_id: DbId, payload: RidersIn):
    """Put children on the route at a stop, all or none. A child riding another route in
    service is an error naming it."""
    route = sel.route_get(actor=request.auth, route_id=route_id)
    try:
        riders = services.riders_add(
            actor=request.auth, route=route, stop=payload.stop_id, children=payload.child_ids
        )
    except FleetRefused as refusal:
        return refused(request, refusal)
    items = [rider_payload(r) for r in riders]
    return Status(201, {"count": len(items), "items": items})


@router.patch(
    "/transport/riders/{rider_id}",
    response={200: RiderOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def rider_update(request, rider_id: DbId, payload: RiderPatch):
    rider = sel.rider_get(actor=request.auth, rider_id=rider_id)
    return attempt(
        request,
        services.rider_move,
        actor=request.auth,
        rider=rider,
        stop=payload.stop_id,
        route=payload.route_id,
    ) or rider_payload(sel.rider_get(actor=request.auth, rider_id=rider_id))


@router.delete("/transport/riders/{rider_id}", response=_DELETE)
def rider_delete(request, rider_id: DbId):
    rider = sel.rider_get(actor=request.auth, rider_id=rider_id)
    return attempt(request, services.rider_remove, actor=request.auth, rider=rider) or Status(
        204, None
    )
