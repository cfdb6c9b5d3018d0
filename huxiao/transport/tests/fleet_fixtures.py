"""Fixtures of the transport tests (issue 8; ADR 0031), on top of the root `world`. Made
for the fleet tests and reused by the trip and inspection tests:

- `fleet` (pytest fixture): the world plus
  - a security officer login `security` at the kindergarten (`world.school`);
  - `world.bus` 冀AX3712, 19 seats, every document valid for 400 days, markings compliant;
  - `world.driver` 王师傅, class B1, licence, qualification and health check valid;
  - `world.route` "1号线" of the kindergarten with that bus and driver, the teacher's staff
    record 李老师 (`world.staff`) as its safety officer, and three stops
    (`world.stops`, in order: 东关村口 07:10/17:00, 北街 07:20/16:50, 幼儿园东门
    07:35/16:35);
  - riders (`world.riders`): 王小明 (`world.child`) at the first stop, two more children
    of 小一班 (`world.riding_children`) at the second and third;
  - `world.spare_child`: a child of 小一班 who rides no route;
  - `world.other_bus` / `world.other_driver`: a bus and a driver of the other school of the
    town (`world.other_school`), for "another school" cases.
- builders for more: `make_bus`, `make_driver`, `make_route`, `add_rider`; `valid_until`
  for a date relative to today (pages and the API judge documents by the real today).

Everything is written straight to the database (no services, no audit rows), so the tests
of a service start from a clean trail.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.core.roles import Role
from huxiao.orgs.tests.factories import MembershipFactory, UserFactory
from huxiao.people.tests.factories import ChildFactory
from huxiao.transport.models import Bus, Driver, Route, RouteRider, RouteStop

STOPS = (
    ("东关村口", "07:10", "17:00"),
    ("北街", "07:20", "16:50"),
    ("幼儿园东门", "07:35", "16:35"),
)


def valid_until(days: int = 400) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


def make_bus(school, plate: str = "冀AX3712", seats: int = 19, **fields) -> Bus:
    values = {
        "operator": "示范县公交公司",
        "model_name": "宇通 ZK6535DX",
        "permit_number": "冀校车2024001",
        "permit_expires_on": valid_until(),
        "insurance_expires_on": valid_until(),
        "inspection_expires_on": valid_until(),
        "markings_compliant": True,
        **fields,
    }
    return Bus.objects.create(school=school, plate=plate, seats=seats, **values)


def make_driver(school, name: str = "王师傅", licence_class: str = "B1", **fields) -> Driver:
    values = {
        "phone": "13912345678",
        "employer": "示范县公交公司",
        "licence_number": "130123197501011234",
        "licence_expires_on": valid_until(),
        "qualification_number": "冀校驾2024001",
        "qualification_expires_on": valid_until(),
        "health_checked_on": timezone.localdate() - dt.timedelta(days=30),
        "health_check_expires_on": valid_until(335),
        **fields,
    }
    return Driver.objects.create(school=school, name=name, licence_class=licence_class, **values)


def _time(text: str | None) -> dt.time | None:
    return dt.time.fromisoformat(text) if text else None


def make_route(
    school, name: str = "1号线", *, bus=None, driver=None, safety_officer=None, stops=STOPS
) -> Route:
    route = Route.objects.create(
        school=school, name=name, bus=bus, driver=driver, safety_officer=safety_officer
    )
    for order, (stop_name, morning, afternoon) in enumerate(stops, start=1):
        RouteStop.objects.create(
            route=route,
            order=order,
            name=stop_name,
            morning_time=_time(morning),
            afternoon_time=_time(afternoon),
        )
    return route


def add_rider(route, child, stop=None) -> RouteRider:
    stop = stop or route.stops.order_by("order").first()
    return RouteRider.objects.create(route=route, child=child, stop=stop)


@pytest.fixture
def fleet(world):
    world.users["security"] = UserFactory(username="security")
    MembershipFactory(
        user=world.users["security"], organization=world.school, role=Role.SECURITY_OFFICER
    )
    world.bus = make_bus(world.school)
    world.driver = make_driver(world.school)
    world.route = make_route(
        world.school, bus=world.bus, driver=world.driver, safety_officer=world.staff
    )
    world.stops = list(world.route.stops.order_by("order"))
    world.riding_children = [
        ChildFactory(school_class=world.school_class, name=name) for name in ("李小红", "赵小刚")
    ]
    world.riders = [
        add_rider(world.route, child, stop)
        for child, stop in zip([world.child, *world.riding_children], world.stops, strict=True)
    ]
    world.spare_child = ChildFactory(school_class=world.school_class, name="孙小美")
    world.other_bus = make_bus(world.other_school, plate="冀AX9999", seats=35)
    world.other_driver = make_driver(world.other_school, name="钱师傅")
    return world
