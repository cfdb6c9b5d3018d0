"""REST handlers of bus trips, boarding, trip flags and bus contacts (ADR 0031 "Trips").

- GET  /transport/trips?school_id=&date=&status=             trips in scope (VIEW)
- POST /transport/trips {route_id, direction, bus_id?, driver_id?, safety_officer_id?,
       riders?, children?}                                   RUN_TRIP; 201 started;
       409 refused at departure (recorded: `trip_id`) or already run
- GET  /transport/trips/{id}                                 with boardings and flags
- POST /transport/trips/{id}/boardings {child_id, confirm_off_route}   201
- POST /transport/trips/{id}/alightings {child_id}
- POST /transport/trips/{id}/alight-all                      trips to school only
- POST /transport/trips/{id}/scan {text, confirm_off_route}  on when off, off when on
- POST /transport/trips/{id}/end                             NOT_ARRIVED flags, sent
- GET  /transport/trip-flags?school_id=&state=&kind=         flags in scope
- POST /transport/trip-flags/{id}/resolve {resolution}       MANAGE_TRANSPORT or the runner
- GET  /transport/children/{id}/bus-contacts?start=&end=     the other children on the
       same trips (default: the last 14 days)

`safety_officer_id` left out means the route's usual one; null means nobody is on board
(the trip is then refused). Out of scope is 404; the wrong role 403; a state refusal 409
with the sentence; bad input 400 with `errors` by field.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from functools import wraps
from typing import Literal

from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import Field

from huxiao.core.api import DbId, ErrorOut, api, paginate
from huxiao.core.names import person_name
from huxiao.core.roles import Action
from huxiao.duty.duty_selectors import check_date, require_any, school_get
from huxiao.transport import trip_selectors as sel
from huxiao.transport import trip_services as services
from huxiao.transport.choices import TripFlagKind, TripStatus

router = Router(tags=["transport: trips"])
# The bus-contacts period when none is given: two weeks up to today.
CONTACT_DAYS = 14
WRITE = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


class FlagOut(Schema):
    id: int
    trip_id: int
    school_id: int
    school_name: str
    route_name: str
    direction: str
    date: dt.date
    kind: str
    kind_label: str
    detail: str
    child_id: int | None
    child_name: str
    at: dt.datetime
    resolved_at: dt.datetime | None
    resolved_by: str
    resolution: str


class BoardingOut(Schema):
    id: int
    trip_id: int
    child_id: int
    child_name: str
    class_name: str
    stop_id: int | None
    stop_name: str
    boarded_at: dt.datetime
    alighted_at: dt.datetime | None


class TripOut(Schema):
    id: int
    school_id: int
    school_name: str
    route_id: int
    route_name: str
    date: dt.date
    direction: str
    direction_label: str
    bus_id: int
    bus_plate: str
    bus_seats: int
    driver_id: int
    driver_name: str
    safety_officer_id: int | None
    safety_officer_name: str
    status: str
    status_label: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    riders_at_start: int
    refuse_reason: str
    started_by: str


class TripList(Schema):
    count: int
    items: list[TripOut]


class TripDetailOut(TripOut):
    boardings: list[BoardingOut]
    flags: list[FlagOut]


class FlagList(Schema):
    count: int
    items: list[FlagOut]


class RefusedOut(ErrorOut):
    trip_id: int | None = None


class StartIn(Schema):
    route_id: int
    direction: str = Field(max_length=20)
    bus_id: int | None = None
    driver_id: int | None = None
    safety_officer_id: int | None = None
    riders: int | None = None
    children: list[int] = []


class BoardIn(Schema):
    child_id: int
    confirm_off_route: bool = False


class AlightIn(Schema):
    child_id: int


class ScanIn(Schema):
    text: str = Field(max_length=1000)
    confirm_off_route: bool = False


class ScanOut(Schema):
    action: Literal["boarded", "alighted"]
    boarding: BoardingOut


class CountOut(Schema):
    count: int


class ResolveIn(Schema):
    resolution: str = Field(max_length=5000)


class SharedTripOut(Schema):
    trip_id: int
    date: dt.date
    direction: str
    direction_label: str
    route_id: int
    route_name: str


class ContactOut(Schema):
    child_id: int
    child_name: str
    class_name: str
    trips: list[SharedTripOut]


class ContactsOut(Schema):
    child_id: int
    start: dt.date
    end: dt.date
    contacts: list[ContactOut]


# ------------------------------------------------------------------ payloads


def trip_payload(t) -> dict:
    return {
        "id": t.pk,
        "school_id": t.school_id,
        "school_name": t.school.name,
        "route_id": t.route_id,
        "route_name": t.route.name,
        "date": t.date,
        "direction": t.direction,
        "direction_label": str(t.get_direction_display()),
        "bus_id": t.bus_id,
        "bus_plate": t.bus.plate,
        "bus_seats": t.bus.seats,
        "driver_id": t.driver_id,
        "driver_name": t.driver.name,
        "safety_officer_id": t.safety_officer_id,
        "safety_officer_name": t.safety_officer.name if t.safety_officer_id else "",
        "status": t.status,
        "status_label": str(t.get_status_display()),
        "started_at": t.started_at,
        "ended_at": t.ended_at,
        "riders_at_start": t.riders_at_start,
        "refuse_reason": t.refuse_reason,
        "started_by": person_name(t.started_by) if t.started_by_id else "",
    }


def boarding_payload(b) -> dict:
    return {
        "id": b.pk,
        "trip_id": b.trip_id,
        "child_id": b.child_id,
        "child_name": b.child.name,
        "class_name": b.child.school_class.name,
        "stop_id": b.stop_id,
        "stop_name": b.stop.name if b.stop_id else "",
        "boarded_at": b.boarded_at,
        "alighted_at": b.alighted_at,
    }


def flag_payload(f) -> dict:
    trip = f.trip
    return {
        "id": f.pk,
        "trip_id": f.trip_id,
        "school_id": trip.school_id,
        "school_name": trip.school.name,
        "route_name": trip.route.name,
        "direction": trip.direction,
        "date": trip.date,
        "kind": f.kind,
        "kind_label": str(f.get_kind_display()),
        "detail": f.detail,
        "child_id": f.child_id,
        "child_name": f.child.name if f.child_id else "",
        "at": f.at,
        "resolved_at": f.resolved_at,
        "resolved_by": person_name(f.resolved_by) if f.resolved_by_id else "",
        "resolution": f.resolution,
    }


def _detail(actor, trip_id: int) -> dict:
    trip = sel.trip_get(actor=actor, trip_id=trip_id)
    boardings = trip.boardings.select_related("child__school_class", "stop").order_by(
        "boarded_at", "id"
    )
    flags = trip.flags.select_related("child", "resolved_by").order_by("at", "id")
    for flag in flags:
        flag.trip = trip
    return {
        **trip_payload(trip),
        "boardings": [boarding_payload(b) for b in boardings],
        "flags": [flag_payload(f) for f in flags],
    }


def _boarding(actor, boarding) -> dict:
    b = (
        sel.trip_get(actor=actor, trip_id=boarding.trip_id)
        .boardings.select_related("child__school_class", "stop")
        .get(pk=boarding.pk)
    )
    return boarding_payload(b)


def conflicts_as_409(handler):
    """A state refusal (TripConflict) answers 409 with its sentence."""

    @wraps(handler)
    def wrapper(request, *args, **kwargs):
        try:
            return handler(request, *args, **kwargs)
        except services.TripConflict as exc:
            return api.create_response(
                request, {"detail": exc.messages[0], "errors": {}}, status=409
            )

    return wrapper


# ------------------------------------------------------------------ trips


@router.get(
    "/transport/trips", response={200: TripList, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
)
def trip_list(
    request,
    school_id: DbId | None = None,
    date: dt.date | None = None,
    status: TripStatus | None = None,
    limit: int = 50,
    offset: int = 0,
):
    require_any(request.auth, Action.VIEW)
    if school_id is not None:
        school_get(actor=request.auth, school_id=school_id)
    check_date(date)
    qs = sel.trip_list(actor=request.auth, school_id=school_id, date=date, status=status or "")
    return paginate(qs, limit=limit, offset=offset, row=trip_payload)


@router.post(
    "/transport/trips",
    response={
        201: TripDetailOut,
        400: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: RefusedOut,
    },
)
@conflicts_as_409
def trip_start(request, payload: StartIn):
    given = payload.model_fields_set
    trip = services.trip_start(
        actor=request.auth,
        route_id=payload.route_id,
        direction=payload.direction,
        bus_id=payload.bus_id if payload.bus_id is not None else services.USUAL,
        driver_id=payload.driver_id if payload.driver_id is not None else services.USUAL,
        safety_officer_id=payload.safety_officer_id
        if "safety_officer_id" in given
        else services.USUAL,
        riders=payload.riders,
        children=payload.children,
    )
    if trip.status == TripStatus.REFUSED:
        return api.create_response(
            request,
            {"detail": trip.refuse_reason, "errors": {}, "trip_id": trip.pk},
            status=409,
        )
    return Status(201, _detail(request.auth, trip.pk))


@router.get(
    "/transport/trips/{trip_id}", response={200: TripDetailOut, 400: ErrorOut, 404: ErrorOut}
)
def trip_detail(request, trip_id: DbId):
    return _detail(request.auth, trip_id)


@router.post("/transport/trips/{trip_id}/boardings", response={**WRITE, 201: BoardingOut})
@conflicts_as_409
def trip_board(request, trip_id: DbId, payload: BoardIn):
    boarding = services.boarding_board(
        actor=request.auth,
        trip_id=trip_id,
        child_id=payload.child_id,
        confirm_off_route=payload.confirm_off_route,
    )
    return Status(201, _boarding(request.auth, boarding))


@router.post("/transport/trips/{trip_id}/alightings", response={**WRITE, 200: BoardingOut})
@conflicts_as_409
def trip_alight(request, trip_id: DbId, payload: AlightIn):
    boarding = services.boarding_alight(
        actor=request.auth, trip_id=trip_id, child_id=payload.child_id
    )
    return _boarding(request.auth, boarding)


@router.post("/transport/trips/{trip_id}/alight-all", response={**WRITE, 200: CountOut})
@conflicts_as_409
def trip_alight_all(request, trip_id: DbId):
    return {"count": services.boarding_alight_all(actor=request.auth, trip_id=trip_id)}


@router.post("/transport/trips/{trip_id}/scan", response={**WRITE, 200: ScanOut})
@conflicts_as_409
def trip_scan(request, trip_id: DbId, payload: ScanIn):
    action, boarding = services.boarding_scan(
        actor=request.auth,
        trip_id=trip_id,
        text=payload.text,
        confirm_off_route=payload.confirm_off_route,
    )
    return {"action": action, "boarding": _boarding(request.auth, boarding)}


@router.post("/transport/trips/{trip_id}/end", response={**WRITE, 200: TripDetailOut})
@conflicts_as_409
def trip_end(request, trip_id: DbId):
    trip = services.trip_end(actor=request.auth, trip_id=trip_id)
    return _detail(request.auth, trip.pk)


# ------------------------------------------------------------------ flags


@router.get(
    "/transport/trip-flags", response={200: FlagList, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
)
def flag_list(
    request,
    school_id: DbId | None = None,
    state: Literal["open", "resolved"] | None = None,
    kind: TripFlagKind | None = None,
    limit: int = 50,
    offset: int = 0,
):
    require_any(request.auth, Action.VIEW)
    if school_id is not None:
        school_get(actor=request.auth, school_id=school_id)
    qs = sel.flag_list(actor=request.auth, school_id=school_id, state=state or "", kind=kind or "")
    return paginate(qs, limit=limit, offset=offset, row=flag_payload)


@router.post("/transport/trip-flags/{flag_id}/resolve", response={**WRITE, 200: FlagOut})
@conflicts_as_409
def flag_resolve(request, flag_id: DbId, payload: ResolveIn):
    flag = services.flag_resolve(actor=request.auth, flag_id=flag_id, resolution=payload.resolution)
    return flag_payload(sel.flag_get(actor=request.auth, flag_id=flag.pk))


# ------------------------------------------------------------------ bus contacts


@router.get(
    "/transport/children/{child_id}/bus-contacts",
    response={200: ContactsOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def bus_contacts(request, child_id: DbId, start: dt.date | None = None, end: dt.date | None = None):
    require_any(request.auth, Action.VIEW)
    end = check_date(end or timezone.localdate(), "end")
    start = start or end - dt.timedelta(days=CONTACT_DAYS - 1)
    contacts = sel.bus_contacts(actor=request.auth, child_id=child_id, start=start, end=end)
    return {
        "child_id": child_id,
        "start": start,
        "end": end,
        "contacts": [
            {
                "child_id": c.child.pk,
                "child_name": c.child.name,
                "class_name": c.child.school_class.name,
                "trips": [asdict(t) for t in c.trips],
            }
            for c in contacts
        ],
    }
