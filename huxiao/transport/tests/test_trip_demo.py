"""The trips demo (huxiao.transport.trip_demo): demo mode only, nothing without the fleet's
routes, through the real services with a clock, idempotent. Loading the township takes a
few seconds, so the loaded demo is checked in one test."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.demo.township import DemoModeOff, load_demo_township
from huxiao.people.models import Child, Staff
from huxiao.transport.choices import Direction, TripFlagKind, TripStatus
from huxiao.transport.fleet_demo import KINDERGARTEN, ROUTE_EAST, ROUTE_WEST
from huxiao.transport.models import Boarding, Route, RouteRider, RouteStop, Trip, TripFlag
from huxiao.transport.tests.trip_fixtures import make_bus, make_driver
from huxiao.transport.trip_demo import RESOLUTION, load_demo_trips

pytestmark = pytest.mark.django_db


def _counts() -> tuple:
    return (
        Trip.objects.count(),
        Boarding.objects.count(),
        Boarding.objects.filter(alighted_at__isnull=True).count(),
        TripFlag.objects.count(),
        TripFlag.objects.filter(resolved_at__isnull=True).count(),
    )


def test_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(DemoModeOff):
        load_demo_trips()


def test_does_nothing_without_the_township(settings):
    settings.DEMO_MODE = True
    assert load_demo_trips() == {"trips": 0, "boardings": 0, "flags": 0}


def _minimal_fleet(school) -> None:
    """The fleet demo's two routes, as little of them as the trips need."""
    teacher = Staff.objects.get(school=school, user__username="teacher")
    carer = Staff.objects.filter(school=school, user__isnull=True).order_by("pk").first()
    children = list(Child.objects.filter(school=school, is_active=True).order_by("pk"))
    for n, (name, officer, seats) in enumerate(
        ((ROUTE_EAST, teacher, 19), (ROUTE_WEST, carer, 35))
    ):
        route = Route.objects.create(
            school=school,
            name=name,
            bus=make_bus(school, plate=f"冀A·X{n}000", seats=seats),
            driver=make_driver(school, name=f"司机{n}"),
            safety_officer=officer,
        )
        stops = [
            RouteStop.objects.create(
                route=route,
                order=i,
                name=f"{name}站{i}",
                morning_time=dt.time(7, 10 * i),
                afternoon_time=dt.time(17, 30 - 10 * i),
            )
            for i in (1, 2, 3)
        ]
        for i, child in enumerate(children[n * 12 : n * 12 + 12]):
            RouteRider.objects.create(route=route, child=child, stop=stops[i % 3])


def test_the_demo_runs_a_week_of_trips(settings):
    settings.DEMO_MODE = True
    load_demo_township()
    school_name = KINDERGARTEN
    from huxiao.orgs.models import Organization

    school = Organization.objects.get(name=school_name)
    assert load_demo_trips()["trips"] == 0  # no routes yet
    _minimal_fleet(school)
    now = timezone.make_aware(dt.datetime(2026, 3, 11, 10, 0))  # a Wednesday morning
    result = load_demo_trips(now=now)
    # Five school days before today (Wed..Fri, Mon, Tue) both ways, and this morning's.
    assert result["trips"] == 5 * 2 * 2 + 2
    assert result["flags"] == 1
    assert Trip.objects.filter(status=TripStatus.FINISHED).count() == 22
    assert not Trip.objects.exclude(status=TripStatus.FINISHED).exists()
    dates = sorted(set(Trip.objects.values_list("date", flat=True)))
    assert dates[0] == dt.date(2026, 3, 4) and dates[-1] == dt.date(2026, 3, 11)
    assert dt.date(2026, 3, 7) not in dates  # Saturday
    today = Trip.objects.filter(date=dt.date(2026, 3, 11))
    assert set(today.values_list("direction", flat=True)) == {Direction.TO_SCHOOL}
    # Most riders rode: 12 riders a route, one in eleven absent.
    per_trip = Boarding.objects.filter(trip__date=dt.date(2026, 3, 10)).count() / 4
    assert 10 <= per_trip < 12
    flag = TripFlag.objects.get()
    assert flag.kind == TripFlagKind.NOT_ARRIVED and flag.child is not None
    assert flag.resolution == RESOLUTION and flag.resolved_by.username == "principal"
    assert flag.trip.route.name == ROUTE_WEST and flag.trip.date == dt.date(2026, 3, 6)
    assert Boarding.objects.filter(alighted_at__isnull=True).count() == 1
    east = Trip.objects.filter(route__name=ROUTE_EAST).first()
    assert east.started_by.username == "teacher"
    assert Trip.objects.filter(route__name=ROUTE_WEST).first().started_by.username == "guard"
    before = _counts()
    assert load_demo_trips(now=now) == {"trips": 0, "boardings": 0, "flags": 0}
    assert load_demo_trips(now=now + dt.timedelta(hours=9)) == {
        "trips": 0,
        "boardings": 0,
        "flags": 0,
    }
    assert _counts() == before
