"""Helpers of the trip tests (ADR 0031 "Trips"): a bus, a driver and a route with stops and
riders built with the ORM at the `world` school, a fixed clock and the trip-flag inbox."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from huxiao.people.tests.factories import ChildFactory, StaffFactory
from huxiao.transport.choices import LicenceClass
from huxiao.transport.models import Bus, Driver, Route, RouteRider, RouteStop
from huxiao.transport.trip_services import TRIP_FLAG_EVENT

# A Wednesday; every clock in these tests is local time (Asia/Shanghai).
DAY = dt.date(2026, 3, 11)
VALID_UNTIL = dt.date(2030, 1, 1)


def at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def make_bus(school, *, plate="冀A·T0001", seats=19, **documents) -> Bus:
    values = {
        "permit_expires_on": VALID_UNTIL,
        "insurance_expires_on": VALID_UNTIL,
        "inspection_expires_on": VALID_UNTIL,
        "markings_compliant": True,
        **documents,
    }
    return Bus.objects.create(school=school, plate=plate, seats=seats, **values)


def make_driver(school, *, name="赵师傅", **documents) -> Driver:
    values = {
        "licence_class": LicenceClass.A1,
        "licence_expires_on": VALID_UNTIL,
        "qualification_expires_on": VALID_UNTIL,
        "health_check_expires_on": VALID_UNTIL,
        **documents,
    }
    return Driver.objects.create(school=school, name=name, **values)


@dataclass
class Line:
    """A route with its bus, driver, safety officer, stops and riders (children)."""

    route: Route
    bus: Bus
    driver: Driver
    officer: object
    stops: list[RouteStop]
    children: list = field(default_factory=list)


def make_line(world, *, school=None, riders=4, seats=19, name="1号线", plate=None) -> Line:
    """A route of three stops at the school (default `world.school`) with `riders` children
    (the first is `world.child` at the world school), spread over the stops."""
    school = school or world.school
    bus = make_bus(school, seats=seats, plate=plate or f"冀A·T{Bus.objects.count() + 1:04d}")
    driver = make_driver(school)
    officer = world.staff if school == world.school else StaffFactory(school=school, name="照管员")
    route = Route.objects.create(
        school=school, name=name, bus=bus, driver=driver, safety_officer=officer
    )
    stops = [
        RouteStop.objects.create(
            route=route,
            order=i,
            name=stop,
            morning_time=dt.time(7, 10 + 5 * i),
            afternoon_time=dt.time(16, 40 - 5 * i),
        )
        for i, stop in enumerate(("东村口", "小桥", "卫生院"), start=1)
    ]
    line = Line(route=route, bus=bus, driver=driver, officer=officer, stops=stops)
    klass = world.school_class if school == world.school else None
    for i in range(riders):
        if (
            i == 0
            and school == world.school
            and not RouteRider.objects.filter(child=world.child).exists()
        ):
            child = world.child
        elif klass is not None:
            child = ChildFactory(school_class=klass, name=f"乘车幼儿{route.pk}-{i}")
        else:
            child = ChildFactory(school_class__school=school, name=f"乘车幼儿{route.pk}-{i}")
        RouteRider.objects.create(route=route, child=child, stop=stops[i % len(stops)])
        line.children.append(child)
    return line


def inbox() -> list[str]:
    """Usernames that got a trip flag in their inbox (one per notification)."""
    from huxiao.notify.models import Delivery

    return sorted(
        Delivery.objects.filter(
            notification__event_type=TRIP_FLAG_EVENT, channel="inbox"
        ).values_list("recipient__username", flat=True)
    )
