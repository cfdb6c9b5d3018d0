# ruff: noqa: F811 - pytest fixtures imported from fleet_fixtures are arguments here
"""Services of buses, drivers and violations (issue 8 item 4): the field rules, the
retire/delete rules, audit rows, and bad input leaving nothing written."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from huxiao.audit.models import AuditEvent
from huxiao.transport import fleet_services as services
from huxiao.transport.models import Bus, Driver, DriverViolation, Route
from huxiao.transport.tests.fleet_fixtures import fleet, make_route, valid_until  # noqa: F401

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 16)
BUS = {
    "plate": "冀a·x5820 ",
    "seats": 35,
    "operator": "示范县公交公司",
    "model_name": "宇通 ZK6609DX",
    "permit_number": "冀校车 2024002",
    "permit_expires_on": "2027-01-31",
    "insurance_expires_on": dt.date(2026, 12, 31),
    "inspection_expires_on": "2026-09-30",
    "markings_compliant": True,
}
DRIVER = {
    "name": "刘师傅",
    "licence_class": "a1",
    "phone": "13812345678",
    "licence_number": "130123197802021234",
    "licence_expires_on": "2030-05-01",
    "qualification_number": "冀校驾2024009",
    "qualification_expires_on": "2028-05-01",
    "health_checked_on": "2026-02-01",
}


def _errors(exc) -> dict:
    return exc.value.message_dict


# ------------------------------------------------------------------ buses


def test_bus_create_normalises_and_audits(fleet):
    bus = services.bus_create(actor=fleet.users["security"], school=fleet.school, **BUS)
    assert bus.plate == "冀AX5820" and bus.seats == 35 and bus.is_active
    assert bus.permit_number == "冀校车2024002"
    assert bus.permit_expires_on == dt.date(2027, 1, 31)
    assert bus.updated_by == fleet.users["security"]
    assert (
        AuditEvent.objects.filter(object_type="transport.bus", object_id=str(bus.pk)).count() == 1
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"plate": ""}, "plate"),
        ({"plate": "AX5820"}, "plate"),
        ({"plate": "冀AX3712"}, "plate"),  # the fixture's bus is in service with it
        ({"seats": 0}, "seats"),
        ({"seats": 81}, "seats"),
        ({"seats": 10**30}, "seats"),
        ({"seats": "abc"}, "seats"),
        ({"seats": True}, "seats"),
        ({"seats": 2.5}, "seats"),
        ({"permit_expires_on": "1979-12-31"}, "permit_expires_on"),
        ({"insurance_expires_on": "2101-01-01"}, "insurance_expires_on"),
        ({"inspection_expires_on": "9999-12-31"}, "inspection_expires_on"),
        ({"inspection_expires_on": "31.02.2026"}, "inspection_expires_on"),
        ({"operator": "x" * 201}, "operator"),
        ({"notes": "a\x00b"}, "notes"),
        ({"permit_number": "x" * 51}, "permit_number"),
        ({"markings_compliant": None}, "markings_compliant"),
    ],
)
def test_bus_create_bad_input_writes_nothing(fleet, change, field):
    before = (Bus.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationError) as exc:
        services.bus_create(
            actor=fleet.users["principal"], school=fleet.school, **{**BUS, **change}
        )
    assert set(_errors(exc)) == {field}
    assert (Bus.objects.count(), AuditEvent.objects.count()) == before


def test_bus_create_reports_every_bad_field_at_once(fleet):
    with pytest.raises(ValidationError) as exc:
        services.bus_create(actor=fleet.users["principal"], school=fleet.school, plate="x", seats=0)
    assert set(_errors(exc)) == {"plate", "seats"}


def test_plate_of_a_retired_bus_may_be_reused_not_of_one_in_service(fleet):
    fleet.other_bus.is_active = False
    fleet.other_bus.save()
    bus = services.bus_create(
        actor=fleet.users["principal"], school=fleet.school, plate="冀AX9999", seats=19
    )
    assert bus.plate == "冀AX9999"
    # Putting the retired one back in service now clashes.
    with pytest.raises(ValidationError) as exc:
        services.bus_update(actor=fleet.users["principal2"], bus=fleet.other_bus, is_active=True)
    assert set(_errors(exc)) == {"plate"}


@pytest.mark.parametrize("name", ["teacher", "guard", "police", "county", "principal2"])
def test_bus_writes_need_manage_transport_at_the_school(fleet, name):
    with pytest.raises(PermissionDenied):
        services.bus_create(actor=fleet.users[name], school=fleet.school, **BUS)
    with pytest.raises(PermissionDenied):
        services.bus_update(actor=fleet.users[name], bus=fleet.bus, seats=20)
    assert not Bus.objects.filter(plate="冀AX5820").exists()
    fleet.bus.refresh_from_db()
    assert fleet.bus.seats == 19


def test_bus_update_changes_only_what_is_given(fleet):
    bus = services.bus_update(
        actor=fleet.users["principal"], bus=fleet.bus, seats="22", markings_compliant=False
    )
    bus.refresh_from_db()
    assert bus.seats == 22 and not bus.markings_compliant and bus.plate == "冀AX3712"
    event = AuditEvent.objects.get(object_type="transport.bus", action="update")
    assert set(event.changes["fields"]) >= {"seats", "markings_compliant"}
    # The same values again: nothing written.
    services.bus_update(actor=fleet.users["principal"], bus=fleet.bus, seats=22)
    assert AuditEvent.objects.filter(object_type="transport.bus", action="update").count() == 1


def test_bus_on_a_route_in_service_is_not_retired(fleet):
    with pytest.raises(services.FleetRefused) as exc:
        services.bus_update(actor=fleet.users["principal"], bus=fleet.bus, is_active=False)
    assert "1号线" in exc.value.messages[0]
    fleet.bus.refresh_from_db()
    assert fleet.bus.is_active


def test_bus_retired_once_its_route_has_another(fleet):
    Route.objects.filter(pk=fleet.route.pk).update(bus=None)
    services.bus_update(actor=fleet.users["principal"], bus=fleet.bus, is_active=False)
    fleet.bus.refresh_from_db()
    assert not fleet.bus.is_active


def test_bus_delete_only_without_a_record(fleet):
    with pytest.raises(services.FleetRefused):
        services.bus_delete(actor=fleet.users["principal"], bus=fleet.bus)
    bus = services.bus_create(actor=fleet.users["principal"], school=fleet.school, **BUS)
    services.bus_delete(actor=fleet.users["principal"], bus=bus)
    assert not Bus.objects.filter(pk=bus.pk).exists()
    assert AuditEvent.objects.filter(object_type="transport.bus", action="delete").count() == 1


# ------------------------------------------------------------------ drivers


def test_driver_create_health_check_valid_a_year(fleet):
    driver = services.driver_create(
        actor=fleet.users["principal"], school=fleet.school, today=TODAY, **DRIVER
    )
    assert driver.licence_class == "A1"
    assert driver.health_check_expires_on == dt.date(2027, 2, 1)
    assert driver.phone == "13812345678"


def test_driver_health_check_on_29_february(fleet):
    driver = services.driver_create(
        actor=fleet.users["principal"],
        school=fleet.school,
        today=dt.date(2028, 3, 1),
        **{**DRIVER, "health_checked_on": "2028-02-29"},
    )
    assert driver.health_check_expires_on == dt.date(2029, 2, 28)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"licence_class": "Z9"}, "licence_class"),
        ({"licence_class": ""}, "licence_class"),
        ({"phone": "12"}, "phone"),
        ({"licence_number": "12-34"}, "licence_number"),
        ({"licence_expires_on": "1900-01-01"}, "licence_expires_on"),
        ({"qualification_expires_on": "2200-01-01"}, "qualification_expires_on"),
        ({"health_checked_on": "2026-04-01"}, "health_checked_on"),  # after TODAY
        (
            {"health_checked_on": "2026-02-01", "health_check_expires_on": "2026-01-01"},
            "health_check_expires_on",
        ),
    ],
)
def test_driver_create_bad_input_writes_nothing(fleet, change, field):
    before = (Driver.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationError) as exc:
        services.driver_create(
            actor=fleet.users["principal"], school=fleet.school, today=TODAY, **{**DRIVER, **change}
        )
    assert set(_errors(exc)) == {field}
    assert (Driver.objects.count(), AuditEvent.objects.count()) == before


def test_driver_update_new_check_moves_the_validity(fleet):
    services.driver_update(
        actor=fleet.users["security"], driver=fleet.driver, health_checked_on="2026-03-01"
    )
    fleet.driver.refresh_from_db()
    assert fleet.driver.health_check_expires_on == dt.date(2027, 3, 1)


def test_driver_update_validity_before_the_stored_check_is_refused(fleet):
    with pytest.raises(ValidationError) as exc:
        services.driver_update(
            actor=fleet.users["security"],
            driver=fleet.driver,
            health_check_expires_on=fleet.driver.health_checked_on,
        )
    assert set(_errors(exc)) == {"health_check_expires_on"}


def test_driver_on_a_route_is_not_retired_nor_deleted(fleet):
    with pytest.raises(services.FleetRefused) as exc:
        services.driver_update(actor=fleet.users["principal"], driver=fleet.driver, is_active=False)
    assert "1号线" in exc.value.messages[0]
    with pytest.raises(services.FleetRefused):
        services.driver_delete(actor=fleet.users["principal"], driver=fleet.driver)
    assert Driver.objects.get(pk=fleet.driver.pk).is_active


def test_driver_retired_and_back(fleet):
    route = make_route(fleet.school, "2号线")
    assert route.driver is None
    Route.objects.filter(pk=fleet.route.pk).update(driver=None)
    services.driver_update(actor=fleet.users["principal"], driver=fleet.driver, is_active=False)
    assert not Driver.objects.get(pk=fleet.driver.pk).is_active
    services.driver_update(actor=fleet.users["principal"], driver=fleet.driver, is_active=True)
    assert Driver.objects.get(pk=fleet.driver.pk).is_active


def test_driver_unknown_field_is_a_programming_error(fleet):
    with pytest.raises(TypeError):
        services.driver_update(actor=fleet.users["principal"], driver=fleet.driver, school=1)


# ------------------------------------------------------------------ violations


def test_violations_add_and_delete(fleet):
    violation = services.violation_add(
        actor=fleet.users["principal"],
        driver=fleet.driver,
        occurred_on="2026-03-01",
        description="超速10%以下",
        points="3",
        today=TODAY,
    )
    assert violation.points == 3 and violation.created_by == fleet.users["principal"]
    services.violation_delete(actor=fleet.users["principal"], violation=violation)
    assert not DriverViolation.objects.exists()
    assert AuditEvent.objects.filter(object_type="transport.driverviolation").count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"occurred_on": ""}, "occurred_on"),
        ({"occurred_on": "2026-03-17"}, "occurred_on"),
        ({"occurred_on": "1970-01-01"}, "occurred_on"),
        ({"description": "  "}, "description"),
        ({"points": 13}, "points"),
        ({"points": -1}, "points"),
        ({"points": "x"}, "points"),
    ],
)
def test_violation_bad_input(fleet, change, field):
    values = {"occurred_on": "2026-03-01", "description": "闯红灯", "points": 6, **change}
    with pytest.raises(ValidationError) as exc:
        services.violation_add(
            actor=fleet.users["principal"], driver=fleet.driver, today=TODAY, **values
        )
    assert set(_errors(exc)) == {field}
    assert not DriverViolation.objects.exists()


def test_violation_needs_manage_transport(fleet):
    with pytest.raises(PermissionDenied):
        services.violation_add(
            actor=fleet.users["police"],
            driver=fleet.driver,
            occurred_on="2026-03-01",
            description="闯红灯",
        )


# ------------------------------------------------------------------ dates edge


@pytest.mark.parametrize("day", ["1980-01-01", "2100-12-31"])
def test_edge_dates_are_accepted(fleet, day):
    bus = services.bus_update(actor=fleet.users["principal"], bus=fleet.bus, permit_expires_on=day)
    assert bus.permit_expires_on.isoformat() == day


def test_today_default_is_local(fleet):
    # No `today`: the local date decides whether the health check is in the future.
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(ValidationError):
        services.driver_update(
            actor=fleet.users["principal"], driver=fleet.driver, health_checked_on=tomorrow
        )
    assert valid_until(1) == tomorrow
