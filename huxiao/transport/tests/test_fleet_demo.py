"""The demo fleet (huxiao.transport.fleet_demo): demo mode only, through the real
services, idempotent, with what its docstring promises."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.audit.models import AuditEvent
from huxiao.demo.township import DemoModeOff, load_demo_township
from huxiao.transport import checks
from huxiao.transport.fleet_demo import load_demo_fleet
from huxiao.transport.fleet_services import fleet_remind
from huxiao.transport.models import Bus, Driver, DriverViolation, Route, RouteRider, RouteStop

pytestmark = pytest.mark.django_db


def _counts():
    return tuple(
        m.objects.count() for m in (Bus, Driver, DriverViolation, Route, RouteStop, RouteRider)
    ) + (AuditEvent.objects.filter(object_type__startswith="transport.").count(),)


def test_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(DemoModeOff):
        load_demo_fleet()
    assert not Bus.objects.exists()


def test_does_nothing_without_the_township(settings):
    settings.DEMO_MODE = True
    assert set(load_demo_fleet().values()) == {0}


def test_loads_once_as_promised(settings):
    settings.DEMO_MODE = True
    load_demo_township()
    first = load_demo_fleet()
    assert first == {"buses": 2, "drivers": 2, "routes": 2, "stops": 9, "riders": 29}
    counts = _counts()
    assert load_demo_fleet() == {"buses": 0, "drivers": 0, "routes": 0, "stops": 0, "riders": 0}
    assert _counts() == counts

    today = timezone.localdate()
    east = Route.objects.get(name="1号线（东线）")
    west = Route.objects.get(name="2号线（西线）")
    assert east.school.name == west.school.name == "大杨树实验幼儿园"
    assert (east.bus.plate, east.bus.seats) == ("冀AX3712", 19)
    assert (west.bus.plate, west.bus.seats) == ("冀AX5820", 35)
    assert east.stops.count() == 4 and west.stops.count() == 5
    assert east.safety_officer.user.username == "teacher"
    assert east.safety_officer.name == "李静"
    assert west.safety_officer.role == "childcare"
    assert east.riders.filter(is_active=True).count() == 14
    assert west.riders.filter(is_active=True).count() == 15
    # Riders at every stop, from several classes.
    assert east.riders.values("stop").distinct().count() == 4
    assert RouteRider.objects.values("child__school_class").distinct().count() >= 5
    for bus in Bus.objects.all():
        assert checks.bus_problems(bus, today) == [] and bus.markings_compliant
    for route in (east, west):
        assert checks.driver_problems(route.driver, today, bus=route.bus) == []
    expiring = Driver.objects.get(name="孙长海").qualification_expires_on
    assert expiring == today + dt.timedelta(days=20)
    # The reminder has something to tell the kindergarten.
    told = fleet_remind(now=timezone.now())
    assert told["schools"] == [east.school_id] and told["items"] == 1
