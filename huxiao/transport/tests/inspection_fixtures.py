"""Fixtures of the inspection tests (issue 8 item 6; ADR 0031 "Inspections"), on top of the
root `world`, written straight to the database (no services, no audit rows):

- a security officer login `security` at the kindergarten (`world.school`);
- `world.bus` 冀AX3712 (19 seats, documents valid, markings compliant) and
  `world.driver` 王师傅 (class B1, documents valid) of the kindergarten, on the route
  "1号线" (`world.route`) as its usual bus and driver;
- `world.other_bus` 冀AX5820 of the other school of the same station's jurisdiction and
  `world.far_bus` 冀BF1234 of the school of the other town (another station);
- `world.relief_driver` 赵师傅, a second driver of the kindergarten.

`make_trip` puts a trip of the route under way (started `minutes_ago`), `inbox(event)`
lists who got an inbox message of an event.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.core.roles import Role
from huxiao.orgs.tests.factories import MembershipFactory, UserFactory
from huxiao.transport.choices import Direction, TripStatus
from huxiao.transport.models import Bus, Driver, Route, Trip

# Who reads a check of the kindergarten's bus (VIEW on it) and who gets 404.
READERS = [
    ("principal", 200),
    ("security", 200),
    ("teacher", 200),
    ("guard", 200),
    ("principal2", 404),
    ("officer", 200),
    ("police", 200),
    ("postofficer", 200),
    ("farpolice", 404),
    ("edu", 200),
    ("gov", 200),
    ("county", 200),
    ("nobody", 404),
]


def valid_until(days: int = 400) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


def make_bus(school, plate="冀AX3712", seats=19, **fields) -> Bus:
    values = {
        "permit_expires_on": valid_until(),
        "insurance_expires_on": valid_until(),
        "inspection_expires_on": valid_until(),
        "markings_compliant": True,
        **fields,
    }
    return Bus.objects.create(school=school, plate=plate, seats=seats, **values)


def make_driver(school, name="王师傅", licence_class="B1", **fields) -> Driver:
    values = {
        "licence_expires_on": valid_until(),
        "qualification_expires_on": valid_until(),
        "health_check_expires_on": valid_until(),
        **fields,
    }
    return Driver.objects.create(school=school, name=name, licence_class=licence_class, **values)


def make_trip(world, *, minutes_ago=20, driver=None, status=TripStatus.UNDERWAY, **fields) -> Trip:
    started = timezone.now() - dt.timedelta(minutes=minutes_ago)
    return Trip.objects.create(
        school=world.school,
        route=world.route,
        date=timezone.localtime(started).date(),
        direction=fields.pop("direction", Direction.TO_SCHOOL),
        bus=world.bus,
        driver=driver or world.driver,
        safety_officer=world.staff,
        status=status,
        started_at=started,
        riders_at_start=fields.pop("riders_at_start", 15),
        **fields,
    )


def inbox(event_type: str) -> list[str]:
    from huxiao.notify.models import Delivery

    return sorted(
        Delivery.objects.filter(notification__event_type=event_type, channel="inbox").values_list(
            "recipient__username", flat=True
        )
    )


@pytest.fixture
def buses(world):
    security = UserFactory(username="security")
    MembershipFactory(user=security, organization=world.school, role=Role.SECURITY_OFFICER)
    world.users["security"] = security
    world.bus = make_bus(world.school)
    world.driver = make_driver(world.school)
    world.relief_driver = make_driver(world.school, name="赵师傅", licence_class="A1")
    world.route = Route.objects.create(
        school=world.school, name="1号线", bus=world.bus, driver=world.driver
    )
    world.other_bus = make_bus(world.other_school, plate="冀AX5820", seats=35)
    world.far_bus = make_bus(world.far_school, plate="冀BF1234", seats=35)
    return world
