"""The school buses of the demo township (issue 8 item 4; ADR 0031 "Fleet").

`load_demo_fleet()` runs after `load_demo_township()` (it needs 大杨树实验幼儿园, its
children and staff, and the login `principal`, who records everything through the real
services, so the audit rows are the real ones). Demo mode only. Dates are relative to
today (local time).

What a visitor of `make run` finds under /transport/?school=<kindergarten>:
- two school buses for small children, every document valid, markings compliant:
  冀A·X3712 (19 seats) and 冀A·X5820 (35 seats);
- two drivers: 赵德明 (B1), and 孙长海 (A1) whose school-bus driver qualification runs out
  in 20 days — the daily reminder (`fleet_remind`) tells the principal and the security
  officer — with one violation on record;
- two routes, "1号线（东线）" (冀A·X3712, 赵德明, 4 stops, safety officer 李静 — the
  staff record of the login `teacher`) and "2号线（西线）" (冀A·X5820, 孙长海, 5 stops,
  a childcare worker of the kindergarten as safety officer), each with 14 and 15 children
  of the kindergarten spread over its stops (no child on both).

The trip and inspection demos find these by the exact plates and route names below.
Idempotent: a bus whose plate is in service, a driver of that name and a route of that
name are left alone (a route that exists keeps its stops and riders), so a second run
adds nothing and changes nothing. Everything is fictional.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from huxiao.access.plates import normalise_plate
from huxiao.demo.township import DemoModeOff
from huxiao.orgs.models import Organization
from huxiao.people.choices import StaffRole
from huxiao.people.models import Child, Staff
from huxiao.transport import fleet_services, route_services
from huxiao.transport.models import Bus, Driver, Route

KINDERGARTEN = "大杨树实验幼儿园"
PRINCIPAL = "principal"
TEACHER = "teacher"
# Plates as the kindergarten writes them; stored normalised (冀AX3712).
PLATE_EAST, PLATE_WEST = "冀A·X3712", "冀A·X5820"
ROUTE_EAST, ROUTE_WEST = "1号线（东线）", "2号线（西线）"
DRIVER_EAST, DRIVER_WEST = "赵德明", "孙长海"

# plate → (seats, make and model, permit number, days until permit/insurance/inspection end)
BUSES = {
    PLATE_EAST: (19, "宇通 ZK6535DX 幼儿专用校车", "冀校车(2024)0137", (420, 230, 160)),
    PLATE_WEST: (35, "宇通 ZK6729DX 幼儿专用校车", "冀校车(2024)0138", (420, 230, 190)),
}
OPERATOR = "示范县顺安校车服务有限公司"
# name → (licence class, licence number, days until licence/qualification end, phone)
DRIVERS = {
    DRIVER_EAST: ("B1", "130123197304152617", (1300, 600), "13831152760"),
    DRIVER_WEST: ("A1", "130123196911084413", (900, 20), "13931187425"),
}
# route → (plate, driver, stops: (name, morning pick-up, afternoon drop-off), riders)
ROUTES = {
    ROUTE_EAST: (
        PLATE_EAST,
        DRIVER_EAST,
        (
            ("东关村口", "07:00", "17:05"),
            ("杨树屯", "07:10", "16:55"),
            ("幸福小区北门", "07:20", "16:45"),
            ("新华街口", "07:30", "16:35"),
        ),
        14,
    ),
    ROUTE_WEST: (
        PLATE_WEST,
        DRIVER_WEST,
        (
            ("西环路口", "06:55", "17:15"),
            ("红星村村委会", "07:05", "17:05"),
            ("柳树营", "07:12", "16:58"),
            ("王家庄", "07:20", "16:50"),
            ("育才路口", "07:28", "16:40"),
        ),
        15,
    ),
}
# Every so many children of the kindergarten (by record) one rides a bus, the two routes
# taking turns: riders come from every class.
RIDER_STEP = 8


def load_demo_fleet(stdout=None, *, today: dt.date | None = None) -> dict:
    """Record what is missing of the demo fleet; return what this run created."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    created = {"buses": 0, "drivers": 0, "routes": 0, "stops": 0, "riders": 0}
    school = Organization.objects.schools().filter(name=KINDERGARTEN, is_active=True).first()
    principal = get_user_model().objects.filter(username=PRINCIPAL, is_active=True).first()
    if school is None or principal is None:
        return created
    today = today or timezone.localdate()
    with transaction.atomic():
        buses = _buses(school, principal, today, created)
        drivers = _drivers(school, principal, today, created)
        _routes(school, principal, buses, drivers, created)
    if stdout is not None:
        stdout.write(
            f"  fleet: +{created['buses']} buses, +{created['drivers']} drivers, "
            f"+{created['routes']} routes, {created['stops']} stops, "
            f"{created['riders']} riders\n"
        )
    return created


def _day(today: dt.date, days: int) -> dt.date:
    return today + dt.timedelta(days=days)


def _buses(school, actor, today: dt.date, created: dict) -> dict:
    buses = {}
    for plate, (seats, model_name, permit, (permit_days, insurance, inspection)) in BUSES.items():
        bus = Bus.objects.filter(plate=normalise_plate(plate), is_active=True).first()
        if bus is None:
            bus = fleet_services.bus_create(
                actor=actor,
                school=school,
                plate=plate,
                seats=seats,
                operator=OPERATOR,
                model_name=model_name,
                permit_number=permit,
                permit_expires_on=_day(today, permit_days),
                insurance_expires_on=_day(today, insurance),
                inspection_expires_on=_day(today, inspection),
                markings_compliant=True,
            )
            created["buses"] += 1
        buses[plate] = bus
    return buses


def _drivers(school, actor, today: dt.date, created: dict) -> dict:
    drivers = {}
    for name, (licence_class, number, (licence, qualification), phone) in DRIVERS.items():
        driver = Driver.objects.filter(school=school, name=name).first()
        if driver is None:
            driver = fleet_services.driver_create(
                actor=actor,
                school=school,
                name=name,
                licence_class=licence_class,
                phone=phone,
                employer=OPERATOR,
                licence_number=number,
                licence_expires_on=_day(today, licence),
                qualification_number=f"冀校驾{number[-6:]}",
                qualification_expires_on=_day(today, qualification),
                health_checked_on=_day(today, -75),
                today=today,
            )
            created["drivers"] += 1
            if name == DRIVER_WEST:
                fleet_services.violation_add(
                    actor=actor,
                    driver=driver,
                    occurred_on=_day(today, -150),
                    description="驾驶校车未按规定让行（非接送时段）",
                    points=3,
                    today=today,
                )
        drivers[name] = driver
    return drivers


def _safety_officers(school) -> dict:
    """李静 (the login `teacher`) on the east route; a childcare worker on the west."""
    teacher = Staff.objects.filter(school=school, user__username=TEACHER, is_active=True).first()
    carer = (
        Staff.objects.filter(school=school, role=StaffRole.CHILDCARE, is_active=True)
        .order_by("name", "pk")
        .first()
    )
    return {ROUTE_EAST: teacher, ROUTE_WEST: carer}


def _free_children(school) -> list[Child]:
    """Enrolled children riding no route, every RIDER_STEP-th by record."""
    children = Child.objects.filter(school=school, is_active=True).exclude(
        bus_rides__is_active=True
    )
    return list(children.order_by("pk"))[::RIDER_STEP]


def _routes(school, actor, buses: dict, drivers: dict, created: dict) -> None:
    officers = _safety_officers(school)
    existing = set(Route.objects.filter(school=school).values_list("name", flat=True))
    pool = _free_children(school)
    # The two routes take turns, so each gets children of every class.
    turns = {ROUTE_EAST: pool[0::2], ROUTE_WEST: pool[1::2]}
    for name, (plate, driver, stops, riders) in ROUTES.items():
        if name in existing:
            continue
        route = route_services.route_create(
            actor=actor,
            school=school,
            name=name,
            bus=buses[plate],
            driver=drivers[driver],
            safety_officer=officers[name],
        )
        saved = route_services.stops_save(
            actor=actor,
            route=route,
            stops=[{"name": n, "morning_time": m, "afternoon_time": a} for n, m, a in stops],
        )
        created["routes"] += 1
        created["stops"] += len(saved)
        children = turns[name][:riders]
        for index, stop in enumerate(saved):
            group = children[index :: len(saved)]
            if group:
                route_services.riders_add(actor=actor, route=route, stop=stop, children=group)
                created["riders"] += len(group)
