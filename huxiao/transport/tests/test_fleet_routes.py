# ruff: noqa: F811 - pytest fixtures imported from fleet_fixtures are arguments here
"""Services of routes, stops and riders (issue 8 item 4): a driver with an expired
licence, a child of another school, a child on two routes, a stop of another route, stop
times out of order — clear errors and nothing written."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from huxiao.audit.models import AuditEvent
from huxiao.people.tests.factories import StaffFactory
from huxiao.transport import route_services as services
from huxiao.transport.fleet_services import FleetRefused
from huxiao.transport.models import Route, RouteRider, RouteStop
from huxiao.transport.tests.fleet_fixtures import (  # noqa: F401
    add_rider,
    fleet,
    make_bus,
    make_driver,
    make_route,
    valid_until,
)

pytestmark = pytest.mark.django_db


def _errors(exc) -> dict:
    return exc.value.message_dict


def _state():
    return (
        list(Route.objects.values_list("pk", "name", "bus_id", "driver_id", "is_active")),
        list(RouteStop.objects.values_list("pk", "order", "name", "morning_time")),
        list(RouteRider.objects.values_list("pk", "route_id", "stop_id", "is_active")),
        AuditEvent.objects.count(),
    )


# ------------------------------------------------------------------ routes


def test_route_create_with_bus_driver_and_safety_officer(fleet):
    bus = make_bus(fleet.school, plate="冀AX5820", seats=35)
    driver = make_driver(fleet.school, name="刘师傅", licence_class="A1")
    route = services.route_create(
        actor=fleet.users["security"],
        school=fleet.school,
        name=" 2号线（西线） ",
        bus=bus.pk,
        driver=str(driver.pk),
        safety_officer=fleet.staff,
    )
    assert route.name == "2号线（西线）"
    assert (route.bus, route.driver, route.safety_officer) == (bus, driver, fleet.staff)
    assert AuditEvent.objects.filter(object_type="transport.route", action="create").count() == 1


def test_driver_with_expired_licence_is_refused_naming_what_expired(fleet):
    expired = make_driver(
        fleet.school, name="过期师傅", licence_expires_on=dt.date.today() - dt.timedelta(days=1)
    )
    before = _state()
    with pytest.raises(ValidationError) as exc:
        services.route_update(actor=fleet.users["principal"], route=fleet.route, driver=expired)
    message = _errors(exc)["driver"][0]
    assert "过期师傅" in message
    assert expired.licence_expires_on.isoformat() in message
    assert _state() == before


def test_driver_with_expired_qualification_is_refused_on_a_new_route(fleet):
    expired = make_driver(
        fleet.school, name="资格过期", qualification_expires_on=dt.date(2020, 1, 1)
    )
    with pytest.raises(ValidationError) as exc:
        services.route_create(
            actor=fleet.users["principal"], school=fleet.school, name="3号线", driver=expired
        )
    assert "2020-01-01" in _errors(exc)["driver"][0]
    assert not Route.objects.filter(name="3号线").exists()


def test_licence_class_is_checked_against_the_bus(fleet):
    c1 = make_driver(fleet.school, name="小车司机", licence_class="C1")
    small = make_bus(fleet.school, plate="冀AX1234", seats=9)
    route = services.route_create(
        actor=fleet.users["principal"], school=fleet.school, name="小车线", bus=small, driver=c1
    )
    assert route.driver == c1
    # The 19-seat bus needs A1, A3 or B1: changing the bus re-checks the driver.
    with pytest.raises(ValidationError) as exc:
        services.route_update(actor=fleet.users["principal"], route=route, bus=fleet.bus)
    assert set(_errors(exc)) == {"driver"}


def test_bus_with_expired_insurance_is_refused(fleet):
    old = make_bus(fleet.school, plate="冀AX1111", insurance_expires_on=dt.date(2021, 5, 1))
    with pytest.raises(ValidationError) as exc:
        services.route_update(actor=fleet.users["principal"], route=fleet.route, bus=old)
    assert "冀AX1111" in _errors(exc)["bus"][0] and "2021-05-01" in _errors(exc)["bus"][0]


def test_editing_the_name_does_not_recheck_a_driver_expired_since(fleet):
    fleet.driver.licence_expires_on = dt.date(2020, 1, 1)
    fleet.driver.save()
    services.route_update(actor=fleet.users["principal"], route=fleet.route, name="1号线（东线）")
    assert Route.objects.get(pk=fleet.route.pk).name == "1号线（东线）"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("bus", "other_bus"),
        ("driver", "other_driver"),
        ("safety_officer", "other_staff"),
        ("bus", 10**30),
        ("driver", -3),
        ("safety_officer", "abc"),
        ("name", ""),
        ("name", "x" * 101),
    ],
)
def test_route_references_of_another_school_or_garbage(fleet, field, value):
    value = getattr(fleet, value) if isinstance(value, str) and value.startswith("other") else value
    before = _state()
    with pytest.raises(ValidationError) as exc:
        services.route_update(actor=fleet.users["principal"], route=fleet.route, **{field: value})
    assert set(_errors(exc)) == {field}
    assert _state() == before


def test_departed_staff_is_not_a_safety_officer(fleet):
    gone = StaffFactory(school=fleet.school, name="离职员工", is_active=False)
    with pytest.raises(ValidationError) as exc:
        services.route_update(
            actor=fleet.users["principal"], route=fleet.route, safety_officer=gone
        )
    assert set(_errors(exc)) == {"safety_officer"}


def test_route_name_unique_in_the_school(fleet):
    with pytest.raises(ValidationError) as exc:
        services.route_create(actor=fleet.users["principal"], school=fleet.school, name="1号线")
    assert set(_errors(exc)) == {"name"}
    # Another school may use the name.
    route = services.route_create(
        actor=fleet.users["principal2"], school=fleet.other_school, name="1号线"
    )
    assert route.school == fleet.other_school


def test_route_writes_need_manage_transport(fleet):
    for name in ("teacher", "guard", "officer", "edu", "principal2"):
        with pytest.raises(PermissionDenied):
            services.route_update(actor=fleet.users[name], route=fleet.route, name="x")
        with pytest.raises(PermissionDenied):
            services.riders_add(
                actor=fleet.users[name],
                route=fleet.route,
                stop=fleet.stops[0],
                children=[fleet.spare_child],
            )
    assert Route.objects.get(pk=fleet.route.pk).name == "1号线"


def test_retiring_a_route_frees_its_riders(fleet):
    services.route_update(actor=fleet.users["principal"], route=fleet.route, is_active=False)
    assert not RouteRider.objects.filter(is_active=True).exists()
    other = make_route(fleet.school, "2号线")
    services.riders_add(
        actor=fleet.users["principal"],
        route=other,
        stop=other.stops.first(),
        children=[fleet.child],
    )
    # A retired route changes only by being put back in service.
    with pytest.raises(FleetRefused):
        services.route_update(actor=fleet.users["principal"], route=fleet.route, name="改名")
    with pytest.raises(FleetRefused):
        services.stop_add(actor=fleet.users["principal"], route=fleet.route, name="新站")
    services.route_update(actor=fleet.users["principal"], route=fleet.route, is_active=True)
    assert Route.objects.get(pk=fleet.route.pk).is_active
    assert RouteRider.objects.filter(route=fleet.route, is_active=True).count() == 0


def test_route_delete_only_without_riders_or_trips(fleet):
    with pytest.raises(FleetRefused):
        services.route_delete(actor=fleet.users["principal"], route=fleet.route)
    empty = make_route(fleet.school, "空线")
    services.route_delete(actor=fleet.users["principal"], route=empty)
    assert not Route.objects.filter(pk=empty.pk).exists()
    assert not RouteStop.objects.filter(route_id=empty.pk).exists()


# ------------------------------------------------------------------ stops


def _entries(route):
    return [
        {
            "id": s.pk,
            "name": s.name,
            "morning_time": s.morning_time,
            "afternoon_time": s.afternoon_time,
        }
        for s in route.stops.order_by("order")
    ]


def test_stops_save_reorders_adds_and_removes(fleet):
    route = make_route(fleet.school, "2号线")
    first, second, third = _entries(route)
    # Reverse the order: the morning times must follow, afternoon times may run either way.
    new = [
        {**third, "morning_time": "07:00", "afternoon_time": "17:10"},
        {**second, "morning_time": "07:15"},
        {"name": "新村", "morning_time": "07:25", "afternoon_time": "16:40"},
    ]
    stops = services.stops_save(actor=fleet.users["principal"], route=route, stops=new)
    assert [s.name for s in stops] == ["幼儿园东门", "北街", "新村"]
    assert [s.order for s in stops] == [1, 2, 3]
    assert not RouteStop.objects.filter(pk=first["id"]).exists()


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: [e[1], e[0], e[2]],  # the morning times no longer increase
        lambda e: [{**e[0], "morning_time": "07:20"}, e[1], e[2]],  # two at 07:20
        lambda e: [e[0], {**e[1], "afternoon_time": "17:30"}, e[2]],  # afternoon both ways
        lambda e: [e[0], {**e[1], "name": ""}, e[2]],
        lambda e: [e[0], {**e[1], "name": "东关村口"}, e[2]],
        lambda e: [e[0], {**e[1], "morning_time": "25:00"}, e[2]],
        lambda e: [e[0], e[0], e[2]],  # the same stop twice
        lambda e: [],
        lambda e: [{"name": f"站{i}"} for i in range(51)],
    ],
)
def test_stops_save_bad_lists_write_nothing(fleet, mutate):
    route = make_route(fleet.school, "2号线")
    before = _state()
    with pytest.raises(ValidationError) as exc:
        services.stops_save(
            actor=fleet.users["principal"], route=route, stops=mutate(_entries(route))
        )
    assert set(_errors(exc)) == {"stops"}
    assert _state() == before


def test_stop_of_another_route_is_refused(fleet):
    other = make_route(fleet.school, "2号线")
    entries = _entries(fleet.route)
    entries[0]["id"] = other.stops.first().pk
    with pytest.raises(ValidationError) as exc:
        services.stops_save(actor=fleet.users["principal"], route=fleet.route, stops=entries)
    assert set(_errors(exc)) == {"stops"}
    with pytest.raises(ValidationError) as exc:
        services.riders_add(
            actor=fleet.users["principal"],
            route=fleet.route,
            stop=other.stops.first(),
            children=[fleet.spare_child],
        )
    assert set(_errors(exc)) == {"stop"}


def test_stop_with_riders_is_not_removed(fleet):
    with pytest.raises(FleetRefused) as exc:
        services.stop_remove(actor=fleet.users["principal"], stop=fleet.stops[0])
    assert "东关村口" in exc.value.messages[0]
    assert RouteStop.objects.filter(pk=fleet.stops[0].pk).exists()


def test_stop_add_update_remove_one_at_a_time(fleet):
    route = make_route(fleet.school, "2号线")
    stop = services.stop_add(
        actor=fleet.users["principal"], route=route, name="南关", morning_time="07:05", position=1
    )
    assert [s.name for s in route.stops.order_by("order")][:2] == ["南关", "东关村口"]
    # A time that breaks the order is an error on that field.
    with pytest.raises(ValidationError) as exc:
        services.stop_update(actor=fleet.users["principal"], stop=stop, morning_time="07:30")
    assert set(_errors(exc)) == {"morning_time"}
    services.stop_update(actor=fleet.users["principal"], stop=stop, name="南关村")
    assert RouteStop.objects.get(pk=stop.pk).name == "南关村"
    services.stop_remove(actor=fleet.users["principal"], stop=stop)
    assert route.stops.count() == 3
    with pytest.raises(ValidationError) as exc:
        services.stop_add(actor=fleet.users["principal"], route=route, name="")
    assert set(_errors(exc)) == {"name"}


def test_last_stop_is_kept(fleet):
    route = make_route(fleet.school, "单站线", stops=(("唯一站", "07:00", None),))
    with pytest.raises(ValidationError):
        services.stop_remove(actor=fleet.users["principal"], stop=route.stops.get())
    assert route.stops.count() == 1


# ------------------------------------------------------------------ riders


def test_riders_add_several_at_once(fleet):
    more = make_route(fleet.school, "2号线")
    riders = services.riders_add(
        actor=fleet.users["security"],
        route=more,
        stop=more.stops.last().pk,
        children=[fleet.spare_child.pk],
    )
    assert [r.child for r in riders] == [fleet.spare_child]
    assert AuditEvent.objects.filter(object_type="transport.routerider").count() == 1


def test_child_on_two_routes_is_an_error_naming_the_first(fleet):
    other = make_route(fleet.school, "2号线（西线）")
    before = _state()
    with pytest.raises(ValidationError) as exc:
        services.riders_add(
            actor=fleet.users["principal"],
            route=other,
            stop=other.stops.first(),
            children=[fleet.spare_child, fleet.child],
        )
    (message,) = _errors(exc)["children"]
    assert "王小明" in message and "1号线" in message
    assert _state() == before  # not even the spare child was added


def test_the_database_constraint_backs_one_route_per_child(fleet):
    other = make_route(fleet.school, "2号线")
    with pytest.raises(IntegrityError), transaction.atomic():
        RouteRider.objects.create(route=other, child=fleet.child, stop=other.stops.first())


@pytest.mark.parametrize(
    "children", ["other_child", "far_child", [10**30], ["abc"], [], None, list(range(1, 202))]
)
def test_children_of_another_school_or_garbage(fleet, children):
    if isinstance(children, str):
        children = [getattr(fleet, children)]
    before = _state()
    with pytest.raises(ValidationError) as exc:
        services.riders_add(
            actor=fleet.users["principal"],
            route=fleet.route,
            stop=fleet.stops[0],
            children=children,
        )
    assert set(_errors(exc)) == {"children"}
    assert _state() == before


def test_left_child_is_not_added(fleet):
    fleet.spare_child.is_active = False
    fleet.spare_child.save()
    with pytest.raises(ValidationError):
        services.riders_add(
            actor=fleet.users["principal"],
            route=fleet.route,
            stop=fleet.stops[0],
            children=[fleet.spare_child],
        )


def test_rider_move_within_and_across_routes(fleet):
    rider = fleet.riders[0]
    services.rider_move(actor=fleet.users["principal"], rider=rider, stop=fleet.stops[2])
    assert RouteRider.objects.get(pk=rider.pk).stop == fleet.stops[2]
    other = make_route(fleet.school, "2号线")
    target = other.stops.order_by("order").first()
    services.rider_move(actor=fleet.users["principal"], rider=rider, route=other, stop=target)
    moved = RouteRider.objects.get(pk=rider.pk)
    assert (moved.route, moved.stop) == (other, target)
    # A stop of the route it leaves is not a stop of the target.
    with pytest.raises(ValidationError) as exc:
        services.rider_move(
            actor=fleet.users["principal"], rider=rider, route=fleet.route, stop=target
        )
    assert set(_errors(exc)) == {"stop"}


def test_rider_move_to_a_route_of_another_school(fleet):
    elsewhere = make_route(fleet.other_school, "外校线")
    with pytest.raises(ValidationError) as exc:
        services.rider_move(
            actor=fleet.users["principal"],
            rider=fleet.riders[0],
            route=elsewhere,
            stop=elsewhere.stops.first(),
        )
    assert set(_errors(exc)) == {"route"}


def test_rider_remove(fleet):
    services.rider_remove(actor=fleet.users["principal"], rider=fleet.riders[0])
    assert not RouteRider.objects.filter(pk=fleet.riders[0].pk).exists()
    # The child may now join another route.
    other = make_route(fleet.school, "2号线")
    add_rider(other, fleet.child)
