"""REST handlers of school buses, drivers and their violations, the fleet overviews and the
safety officers (issue 8 item 4; ADR 0031 "Fleet"): parse → call a selector/service →
return.

Readers: everyone with VIEW on the school (its staff, the police of the jurisdiction, the
town's offices, the county). Writers: MANAGE_TRANSPORT (principal, security officer). No
school at all → 403; out of scope → 404 exactly like a missing record; a role that may
read but not change → 403; a step the record's state does not allow (retiring a bus a
route still uses, deleting one with trips) → 409 with the reason; bad input → 400 by
field, nothing written.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema, Status
from pydantic import ConfigDict

from huxiao.core.api import DbId, ErrorOut, api
from huxiao.core.permissions import require
from huxiao.core.roles import Action
from huxiao.transport import fleet_selectors as sel
from huxiao.transport import fleet_services as services
from huxiao.transport.choices import LicenceClass

router = Router(tags=["transport"])

# ------------------------------------------------------------------ schemas


class BadgeOut(Schema):
    code: str
    level: str  # danger | warning
    label: str


class DocumentOut(Schema):
    field: str
    label: str
    expires_on: dt.date | None
    state: str  # valid | expiring | expired | missing
    days: int | None


class RouteRefOut(Schema):
    id: int
    name: str
    is_active: bool


class BusOut(Schema):
    id: int
    school_id: int
    plate: str
    seats: int
    operator: str
    model_name: str
    permit_number: str
    permit_expires_on: dt.date | None
    insurance_expires_on: dt.date | None
    inspection_expires_on: dt.date | None
    markings_compliant: bool
    is_active: bool
    notes: str
    documents: list[DocumentOut]
    badges: list[BadgeOut]


class BusDetailOut(BusOut):
    routes: list[RouteRefOut]


class BusList(Schema):
    count: int
    items: list[BusOut]


class BusIn(Schema):
    model_config = ConfigDict(extra="forbid")

    plate: str
    seats: int
    operator: str = ""
    model_name: str = ""
    permit_number: str = ""
    permit_expires_on: dt.date | None = None
    insurance_expires_on: dt.date | None = None
    inspection_expires_on: dt.date | None = None
    markings_compliant: bool = False
    notes: str = ""


class BusPatch(Schema):
    """Only the fields sent change; `is_active: false` retires the bus."""

    model_config = ConfigDict(extra="forbid")

    plate: str | None = None
    seats: int | None = None
    operator: str | None = None
    model_name: str | None = None
    permit_number: str | None = None
    permit_expires_on: dt.date | None = None
    insurance_expires_on: dt.date | None = None
    inspection_expires_on: dt.date | None = None
    markings_compliant: bool | None = None
    notes: str | None = None
    is_active: bool | None = None


class DriverOut(Schema):
    id: int
    school_id: int
    name: str
    phone: str
    employer: str
    licence_number: str
    licence_class: str
    licence_expires_on: dt.date | None
    qualification_number: str
    qualification_expires_on: dt.date | None
    health_checked_on: dt.date | None
    health_check_expires_on: dt.date | None
    is_active: bool
    points_12m: int
    documents: list[DocumentOut]
    badges: list[BadgeOut]


class ViolationOut(Schema):
    id: int
    driver_id: int
    occurred_on: dt.date
    description: str
    points: int


class DriverDetailOut(DriverOut):
    routes: list[RouteRefOut]
    violations: list[ViolationOut]


class DriverList(Schema):
    count: int
    items: list[DriverOut]


class DriverIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str
    licence_class: LicenceClass
    phone: str = ""
    employer: str = ""
    licence_number: str = ""
    licence_expires_on: dt.date | None = None
    qualification_number: str = ""
    qualification_expires_on: dt.date | None = None
    health_checked_on: dt.date | None = None
    health_check_expires_on: dt.date | None = None


class DriverPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    licence_class: LicenceClass | None = None
    phone: str | None = None
    employer: str | None = None
    licence_number: str | None = None
    licence_expires_on: dt.date | None = None
    qualification_number: str | None = None
    qualification_expires_on: dt.date | None = None
    health_checked_on: dt.date | None = None
    health_check_expires_on: dt.date | None = None
    is_active: bool | None = None


class ViolationIn(Schema):
    model_config = ConfigDict(extra="forbid")

    occurred_on: dt.date
    description: str
    points: int = 0


class ViolationList(Schema):
    count: int
    items: list[ViolationOut]


class SchoolFleetOut(Schema):
    school_id: int
    school_name: str
    town: str
    buses: int
    seats: int
    drivers: int
    routes: int
    riders: int
    problems: int  # documents expired or missing, markings, licence class
    expiring: int  # documents running out within 30 days


class OverviewOut(Schema):
    count: int
    items: list[SchoolFleetOut]
    without_fleet: int


class SafetyOfficerOut(Schema):
    staff_id: int
    name: str
    role: str
    is_active: bool
    routes: list[RouteRefOut]


class SafetyOfficerList(Schema):
    count: int
    items: list[SafetyOfficerOut]


# PATCH fields that always have a value: null is refused, not taken for "empty".
BUS_NOT_NULL = ("plate", "seats", "markings_compliant", "is_active")
DRIVER_NOT_NULL = ("name", "licence_class", "is_active")

# ------------------------------------------------------------------ helpers


def refused(request, refusal: services.FleetRefused):
    """A step the state does not allow: 409 with the reason."""
    return api.create_response(request, {"detail": refusal.messages[0], "errors": {}}, status=409)


def attempt(request, call, **kwargs):
    """Run a service step: None when it went through, the 409 response when the state of
    the record refused it."""
    try:
        call(**kwargs)
    except services.FleetRefused as refusal:
        return refused(request, refusal)
    return None


def refuse_nulls(changes: dict, names) -> None:
    nulls = sorted(name for name in names if name in changes and changes[name] is None)
    if nulls:
        raise ValidationError({name: [_("This field is required.")] for name in nulls})


def badge_payload(badges) -> list[dict]:
    return [{"code": b.code, "level": b.level, "label": b.label} for b in badges]


def _documents(documents) -> list[dict]:
    return [
        {
            "field": d.field,
            "label": d.label,
            "expires_on": d.expires_on,
            "state": d.state,
            "days": d.days,
        }
        for d in documents
    ]


def route_refs(routes) -> list[dict]:
    return [{"id": r.pk, "name": r.name, "is_active": r.is_active} for r in routes]


def bus_payload(bus, today: dt.date) -> dict:
    return {
        **{name: getattr(bus, name) for name in services.BUS_FIELDS},
        "id": bus.pk,
        "school_id": bus.school_id,
        "documents": _documents(sel.bus_documents(bus, today)),
        "badges": badge_payload(sel.bus_badges(bus, today)),
    }


def driver_payload(driver, today: dt.date) -> dict:
    return {
        **{name: getattr(driver, name) for name in services.DRIVER_FIELDS},
        "id": driver.pk,
        "school_id": driver.school_id,
        "points_12m": sel.points_in_period(driver, today),
        "documents": _documents(sel.driver_documents(driver, today)),
        "badges": badge_payload(sel.driver_badges(driver, today)),
    }


def violation_payload(violation) -> dict:
    return {
        "id": violation.pk,
        "driver_id": violation.driver_id,
        "occurred_on": violation.occurred_on,
        "description": violation.description,
        "points": violation.points,
    }


def _bus_detail(actor, bus_id: int) -> dict:
    bus = sel.bus_get(actor=actor, bus_id=bus_id)
    return {
        **bus_payload(bus, sel.today_local()),
        "routes": route_refs(sel.routes_of_bus(bus)),
    }


def _driver_detail(actor, driver_id: int) -> dict:
    driver = sel.driver_get(actor=actor, driver_id=driver_id)
    return {
        **driver_payload(driver, sel.today_local()),
        "routes": route_refs(sel.routes_of_driver(driver)),
        "violations": [violation_payload(x) for x in sel.violation_list(driver)],
    }


def figures_payload(row: sel.SchoolFleet) -> dict:
    return {
        "school_id": row.school.pk,
        "school_name": row.school.name,
        "town": row.school.town.name if row.school.town_id else "",
        "buses": row.buses,
        "seats": row.seats,
        "drivers": row.drivers,
        "routes": row.routes,
        "riders": row.riders,
        "problems": row.problems,
        "expiring": row.expiring,
    }


_READ = {200: BusDetailOut, 403: ErrorOut, 404: ErrorOut}
_WRITE = {200: BusDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}
_DELETE = {204: None, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}

# ------------------------------------------------------------------ overviews


@router.get("/transport/overview", response={200: OverviewOut, 403: ErrorOut})
def overview(request):
    """The schools in scope that keep buses, drivers or routes, with their figures;
    `without_fleet` counts the others."""
    rows = sel.fleet_figures(sel.schools_in_scope(request.auth), sel.today_local())
    items = [figures_payload(r) for r in rows if r.has_fleet]
    return {"count": len(items), "items": items, "without_fleet": len(rows) - len(items)}


@router.get(
    "/transport/schools/{school_id}/fleet",
    response={200: SchoolFleetOut, 403: ErrorOut, 404: ErrorOut},
)
def school_fleet(request, school_id: DbId):
    school = sel.school_get(actor=request.auth, school_id=school_id)
    (row,) = sel.fleet_figures([school], sel.today_local())
    return figures_payload(row)


@router.get(
    "/transport/schools/{school_id}/safety-officers",
    response={200: SafetyOfficerList, 403: ErrorOut, 404: ErrorOut},
)
def safety_officer_list(request, school_id: DbId):
    """Staff who look after a route (照管员), each with the routes."""
    school = sel.school_get(actor=request.auth, school_id=school_id)
    items = [
        {
            "staff_id": entry["staff"].pk,
            "name": entry["staff"].name,
            "role": entry["staff"].role,
            "is_active": entry["staff"].is_active,
            "routes": route_refs(entry["routes"]),
        }
        for entry in sel.safety_officers(actor=request.auth, school_id=school.pk)
    ]
    return {"count": len(items), "items": items}


# ------------------------------------------------------------------ buses


@router.get(
    "/transport/schools/{school_id}/buses",
    response={200: BusList, 403: ErrorOut, 404: ErrorOut},
)
def bus_list(request, school_id: DbId, active: bool = True):
    """The school's buses in service (`active=false`: the retired ones)."""
    school = sel.school_get(actor=request.auth, school_id=school_id)
    today = sel.today_local()
    items = [
        bus_payload(b, today)
        for b in sel.bus_list(actor=request.auth, school_id=school.pk, active=active)
    ]
    return {"count": len(items), "items": items}


@router.post(
    "/transport/schools/{school_id}/buses",
    response={201: BusDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def bus_create(request, school_id: DbId, payload: BusIn):
    school = sel.school_get(actor=request.auth, school_id=school_id)
    bus = services.bus_create(actor=request.auth, school=school, **payload.dict())
    return Status(201, _bus_detail(request.auth, bus.pk))


@router.get("/transport/buses/{bus_id}", response=_READ)
def bus_detail(request, bus_id: DbId):
    return _bus_detail(request.auth, bus_id)


@router.patch("/transport/buses/{bus_id}", response=_WRITE)
def bus_update(request, bus_id: DbId, payload: BusPatch):
    """Change what is sent; `is_active` retires the bus or puts it back in service."""
    bus = sel.bus_get(actor=request.auth, bus_id=bus_id)
    changes = payload.dict(exclude_unset=True)
    require(request.auth, Action.MANAGE_TRANSPORT, bus.school_id)  # 403 before 400
    refuse_nulls(changes, BUS_NOT_NULL)
    return attempt(
        request, services.bus_update, actor=request.auth, bus=bus, **changes
    ) or _bus_detail(request.auth, bus_id)


@router.delete("/transport/buses/{bus_id}", response=_DELETE)
def bus_delete(request, bus_id: DbId):
    """Delete a bus recorded by mistake (409 when it has trips, inspections or routes)."""
    bus = sel.bus_get(actor=request.auth, bus_id=bus_id)
    return attempt(request, services.bus_delete, actor=request.auth, bus=bus) or Status(204, None)


# ------------------------------------------------------------------ drivers


@router.get(
    "/transport/schools/{school_id}/drivers",
    response={200: DriverList, 403: ErrorOut, 404: ErrorOut},
)
def driver_list(request, school_id: DbId, active: bool = True):
    school = sel.school_get(actor=request.auth, school_id=school_id)
    today = sel.today_local()
    items = [
        driver_payload(d, today)
        for d in sel.driver_list(actor=request.auth, school_id=school.pk, active=active)
    ]
    return {"count": len(items), "items": items}


@router.post(
    "/transport/schools/{school_id}/drivers",
    response={201: DriverDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def driver_create(request, school_id: DbId, payload: DriverIn):
    """Add a driver. A last health check without its validity is valid for a year."""
    school = sel.school_get(actor=request.auth, school_id=school_id)
    data = payload.dict()
    data["licence_class"] = str(data["licence_class"])
    driver = services.driver_create(actor=request.auth, school=school, **data)
    return Status(201, _driver_detail(request.auth, driver.pk))


@router.get(
    "/transport/drivers/{driver_id}",
    response={200: DriverDetailOut, 403: ErrorOut, 404: ErrorOut},
)
def driver_detail(request, driver_id: DbId):
    return _driver_detail(request.auth, driver_id)


@router.patch(
    "/transport/drivers/{driver_id}",
    response={200: DriverDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def driver_update(request, driver_id: DbId, payload: DriverPatch):
    driver = sel.driver_get(actor=request.auth, driver_id=driver_id)
    changes = payload.dict(exclude_unset=True)
    require(request.auth, Action.MANAGE_TRANSPORT, driver.school_id)
    refuse_nulls(changes, DRIVER_NOT_NULL)
    if changes.get("licence_class") is not None:
        changes["licence_class"] = str(changes["licence_class"])
    return attempt(
        request, services.driver_update, actor=request.auth, driver=driver, **changes
    ) or _driver_detail(request.auth, driver_id)


@router.delete("/transport/drivers/{driver_id}", response=_DELETE)
def driver_delete(request, driver_id: DbId):
    driver = sel.driver_get(actor=request.auth, driver_id=driver_id)
    return attempt(request, services.driver_delete, actor=request.auth, driver=driver) or Status(
        204, None
    )


# ------------------------------------------------------------------ violations


@router.get(
    "/transport/drivers/{driver_id}/violations",
    response={200: ViolationList, 403: ErrorOut, 404: ErrorOut},
)
def violation_list(request, driver_id: DbId):
    driver = sel.driver_get(actor=request.auth, driver_id=driver_id)
    items = [violation_payload(x) for x in sel.violation_list(driver)]
    return {"count": len(items), "items": items}


@router.post(
    "/transport/drivers/{driver_id}/violations",
    response={201: ViolationOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def violation_create(request, driver_id: DbId, payload: ViolationIn):
    driver = sel.driver_get(actor=request.auth, driver_id=driver_id)
    violation = services.violation_add(actor=request.auth, driver=driver, **payload.dict())
    return Status(201, violation_payload(violation))


@router.delete(
    "/transport/violations/{violation_id}",
    response={204: None, 403: ErrorOut, 404: ErrorOut},
)
def violation_delete(request, violation_id: DbId):
    violation = sel.violation_get(actor=request.auth, violation_id=violation_id)
    services.violation_delete(actor=request.auth, violation=violation)
    return Status(204, None)
