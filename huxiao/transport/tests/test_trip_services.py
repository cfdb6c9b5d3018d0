"""Trip services (ADR 0031 "Trips"): the checks at departure (expired documents are errors
that write nothing; no safety officer or overload refuse the trip, record it and flag it in
real time to the school and the police), the tick list, the end of a trip with its
not-arrived flags, the overdue job and resolving flags."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from huxiao.audit.models import AuditEvent
from huxiao.core.roles import Role
from huxiao.orgs.tests.factories import MembershipFactory, UserFactory
from huxiao.people.tests.factories import ChildFactory, StaffFactory
from huxiao.transport import trip_services as services
from huxiao.transport.choices import Direction, LicenceClass, TripFlagKind, TripStatus
from huxiao.transport.models import Boarding, Trip, TripFlag
from huxiao.transport.tests.trip_fixtures import DAY, at, inbox, make_bus, make_driver, make_line

pytestmark = pytest.mark.django_db
TO = Direction.TO_SCHOOL
HOME = Direction.FROM_SCHOOL


def start(world, line, *, who="teacher", now=None, direction=TO, **kwargs) -> Trip:
    return services.trip_start(
        actor=world.users[who],
        route_id=line.route.pk,
        direction=direction,
        now=now or at(7),
        **kwargs,
    )


def nothing_written():
    assert not Trip.objects.exists()
    assert not TripFlag.objects.exists()
    assert not Boarding.objects.exists()
    assert inbox() == []


@pytest.fixture
def line(world):
    return make_line(world)


# ------------------------------------------------------------------ starting


def test_start_with_the_usual_bus_driver_and_safety_officer(world, line):
    trip = start(world, line)
    assert trip.status == TripStatus.UNDERWAY
    assert (trip.bus, trip.driver, trip.safety_officer) == (line.bus, line.driver, line.officer)
    assert trip.date == DAY and trip.started_at == at(7) and trip.riders_at_start == 0
    assert trip.started_by == world.users["teacher"]
    assert AuditEvent.objects.filter(object_type="transport.trip", object_id=str(trip.pk)).exists()
    assert not trip.flags.exists()


def test_start_with_children_ticked_at_departure(world, line):
    first, second = line.children[:2]
    trip = start(world, line, direction=HOME, children=[first.pk, second.pk], now=at(16, 30))
    assert trip.riders_at_start == 2
    boardings = {b.child_id: b for b in trip.boardings.all()}
    assert set(boardings) == {first.pk, second.pk}
    assert boardings[first.pk].stop == line.stops[0]
    assert boardings[first.pk].boarded_at == at(16, 30)


def test_start_with_other_bus_driver_and_officer(world, line):
    bus = make_bus(world.school, plate="冀A·T9999", seats=35)
    driver = make_driver(world.school, name="钱师傅")
    officer = StaffFactory(school=world.school, name="周老师")
    trip = start(world, line, bus_id=bus.pk, driver_id=driver.pk, safety_officer_id=officer.pk)
    assert (trip.bus, trip.driver, trip.safety_officer) == (bus, driver, officer)


@pytest.mark.parametrize(
    ("part", "documents", "fragment"),
    [
        ("driver", {"licence_expires_on": dt.date(2026, 3, 1)}, "2026-03-01"),
        ("driver", {"qualification_expires_on": dt.date(2026, 2, 2)}, "2026-02-02"),
        ("driver", {"health_check_expires_on": None}, ""),
        ("driver", {"licence_class": LicenceClass.C1}, "C1"),
        ("driver", {"is_active": False}, ""),
        ("bus", {"insurance_expires_on": dt.date(2026, 3, 10)}, "2026-03-10"),
        ("bus", {"permit_expires_on": dt.date(2025, 12, 31)}, "2025-12-31"),
        ("bus", {"inspection_expires_on": None}, ""),
        ("bus", {"is_active": False}, ""),
    ],
)
def test_a_bus_or_driver_not_fit_is_an_error_and_nothing_is_written(
    world, line, part, documents, fragment
):
    row = getattr(line, part)
    for name, value in documents.items():
        setattr(row, name, value)
    row.save()
    with pytest.raises(ValidationError) as exc:
        start(world, line)
    assert list(exc.value.message_dict) == [part]
    assert fragment in exc.value.message_dict[part][0]
    nothing_written()


def test_the_day_the_document_expires_is_still_valid(world, line):
    line.driver.licence_expires_on = DAY
    line.driver.save()
    assert start(world, line).status == TripStatus.UNDERWAY


def test_both_expired_are_both_named(world, line):
    line.bus.insurance_expires_on = dt.date(2026, 1, 1)
    line.bus.save()
    line.driver.licence_expires_on = dt.date(2026, 1, 2)
    line.driver.save()
    with pytest.raises(ValidationError) as exc:
        start(world, line, safety_officer_id=None, riders=99)
    assert set(exc.value.message_dict) == {"bus", "driver"}
    nothing_written()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("bus_id", "other"),
        ("bus_id", 10**30),
        ("bus_id", 0),
        ("bus_id", "x"),
        ("driver_id", "other"),
        ("driver_id", -3),
        ("safety_officer_id", "other"),
        ("safety_officer_id", 2**63),
        ("riders", -1),
        ("riders", 201),
        ("riders", "many"),
        ("children", ["other"]),
        ("children", [10**40]),
        ("direction", "sideways"),
        ("direction", None),
    ],
)
def test_bad_input_is_a_field_error(world, line, field, value):
    other_line = make_line(world, school=world.other_school, riders=1, name="外校线")
    others = {
        "bus_id": other_line.bus.pk,
        "driver_id": other_line.driver.pk,
        "safety_officer_id": world.other_staff.pk,
    }
    if value == "other":
        value = others[field]
    if value == ["other"]:
        value = [world.other_child.pk]
    kwargs = {field: value}
    direction = kwargs.pop("direction", TO)
    with pytest.raises(ValidationError) as exc:
        start(world, line, direction=direction, **kwargs)
    expected = {"bus_id": "bus", "driver_id": "driver", "safety_officer_id": "safety_officer"}
    assert list(exc.value.message_dict) == [expected.get(field, field)]
    nothing_written()


def test_children_at_departure_must_ride_the_route_once(world, line):
    stranger = ChildFactory(school_class=world.school_class, name="不坐车")
    for children in (
        [stranger.pk],
        [line.children[0].pk, line.children[0].pk],
    ):
        with pytest.raises(ValidationError) as exc:
            start(world, line, direction=HOME, children=children)
        assert list(exc.value.message_dict) == ["children"]
    with pytest.raises(ValidationError) as exc:
        start(world, line, direction=HOME, riders=1, children=[c.pk for c in line.children[:2]])
    assert list(exc.value.message_dict) == ["riders"]
    nothing_written()


def test_a_safety_officer_who_left_is_an_error(world, line):
    line.officer.is_active = False
    line.officer.save()
    with pytest.raises(ValidationError) as exc:
        start(world, line)
    assert list(exc.value.message_dict) == ["safety_officer"]
    nothing_written()


@pytest.mark.parametrize("route", ["other", 10**30, "x", None])
def test_a_route_of_another_school_or_none_is_a_field_error(world, line, route):
    other_line = make_line(world, school=world.other_school, riders=0, name="外校线")
    route_id = other_line.route.pk if route == "other" else route
    with pytest.raises(ValidationError) as exc:
        services.trip_start(
            actor=world.users["teacher"], route_id=route_id, direction=TO, now=at(7)
        )
    assert list(exc.value.message_dict) == ["route"]
    nothing_written()


def test_a_route_out_of_service_is_an_error(world, line):
    line.route.is_active = False
    line.route.save()
    with pytest.raises(ValidationError) as exc:
        start(world, line)
    assert list(exc.value.message_dict) == ["route"]


@pytest.mark.parametrize("who", ["police", "officer", "county", "edu", "nobody"])
def test_only_school_people_start_trips(world, line, who):
    with pytest.raises(PermissionDenied):
        start(world, line, who=who)
    nothing_written()


def test_principal_of_another_school_gets_a_route_error(world, line):
    with pytest.raises(ValidationError) as exc:
        start(world, line, who="principal2")
    assert list(exc.value.message_dict) == ["route"]


def test_a_second_trip_of_the_route_is_refused_while_under_way_and_after(world, line):
    trip = start(world, line)
    with pytest.raises(services.TripConflict):
        start(world, line, now=at(7, 5))
    services.trip_end(actor=world.users["teacher"], trip_id=trip.pk, now=at(8))
    with pytest.raises(services.TripConflict):
        start(world, line, now=at(8, 5))
    assert start(world, line, direction=HOME, now=at(16)).status == TripStatus.UNDERWAY
    tomorrow = start(world, line, now=at(7, day=DAY + dt.timedelta(days=1)))
    assert tomorrow.status == TripStatus.UNDERWAY
    assert Trip.objects.count() == 3


# ------------------------------------------------------------------ refused departures


@pytest.fixture
def security_officer(world):
    user = UserFactory(username="security")
    MembershipFactory(user=user, organization=world.school, role=Role.SECURITY_OFFICER)
    return user


FLAGGED = ["officer", "police", "postofficer", "principal", "security"]


def test_no_safety_officer_refuses_records_and_flags(world, line, security_officer):
    trip = start(world, line, safety_officer_id=None)
    assert trip.status == TripStatus.REFUSED and trip.pk
    assert trip.refuse_reason
    assert [f.kind for f in trip.flags.all()] == [TripFlagKind.NO_SAFETY_OFFICER]
    assert inbox() == FLAGGED
    assert not trip.boardings.exists()
    # Fixed, the trip may be started again.
    assert start(world, line, now=at(7, 5)).status == TripStatus.UNDERWAY


def test_a_route_without_a_usual_safety_officer_is_refused(world, line):
    line.route.safety_officer = None
    line.route.save()
    assert start(world, line).status == TripStatus.REFUSED


def test_overload_at_departure_refuses_and_flags(world, line, security_officer):
    trip = start(world, line, riders=20)
    assert trip.status == TripStatus.REFUSED and trip.riders_at_start == 20
    flag = trip.flags.get()
    assert flag.kind == TripFlagKind.OVERLOAD
    assert "20" in flag.detail and "19" in flag.detail
    assert inbox() == FLAGGED


def test_overload_counted_from_the_ticked_children(world):
    line = make_line(world, riders=3, seats=2)
    trip = start(world, line, direction=HOME, children=[c.pk for c in line.children])
    assert trip.status == TripStatus.REFUSED and trip.riders_at_start == 3
    assert not trip.boardings.exists()


def test_both_problems_give_two_flags(world, line):
    trip = start(world, line, riders=25, safety_officer_id=None)
    assert sorted(trip.flags.values_list("kind", flat=True)) == [
        TripFlagKind.NO_SAFETY_OFFICER,
        TripFlagKind.OVERLOAD,
    ]
    assert len(inbox()) == 2 * 4


def test_seats_exactly_full_may_leave(world, line):
    assert start(world, line, riders=19).status == TripStatus.UNDERWAY


def test_flags_go_to_the_police_of_the_school_only(world):
    line = make_line(world, school=world.other_school, riders=1, name="外校线")
    services.trip_start(
        actor=world.users["principal2"],
        route_id=line.route.pk,
        direction=TO,
        safety_officer_id=None,
        now=at(7),
    )
    # other_school has the station but no police post; farpolice is another station.
    assert inbox() == ["officer", "police", "principal2"]


# ------------------------------------------------------------------ the tick list


@pytest.fixture
def trip(world, line):
    return start(world, line)


def board(world, trip, child, *, who="teacher", now=None, **kwargs):
    return services.boarding_board(
        actor=world.users[who], trip_id=trip.pk, child_id=child.pk, now=now or at(7, 15), **kwargs
    )


def alight(world, trip, child, *, who="teacher", now=None):
    return services.boarding_alight(
        actor=world.users[who], trip_id=trip.pk, child_id=child.pk, now=now or at(7, 40)
    )


def test_board_and_alight(world, line, trip):
    child = line.children[1]
    b = board(world, trip, child)
    assert (b.stop, b.boarded_at, b.alighted_at) == (line.stops[1], at(7, 15), None)
    assert b.recorded_by == world.users["teacher"]
    alight(world, trip, child)
    b.refresh_from_db()
    assert b.alighted_at == at(7, 40)


def test_board_twice_alight_twice_or_before_boarding_are_errors(world, line, trip):
    child = line.children[0]
    with pytest.raises(ValidationError) as exc:
        alight(world, trip, child)
    assert list(exc.value.message_dict) == ["child"]
    board(world, trip, child)
    with pytest.raises(ValidationError) as exc:
        board(world, trip, child, now=at(7, 20))
    assert "07:15" in exc.value.message_dict["child"][0]
    with pytest.raises(ValidationError):
        alight(world, trip, child, now=at(7, 0))
    alight(world, trip, child)
    with pytest.raises(ValidationError) as exc:
        alight(world, trip, child, now=at(7, 50))
    assert "07:40" in exc.value.message_dict["child"][0]
    assert Boarding.objects.count() == 1


@pytest.mark.parametrize("child", ["other", "far", 10**30, "x", None])
def test_a_child_of_another_school_cannot_board(world, trip, child):
    child_id = {"other": world.other_child.pk, "far": world.far_child.pk}.get(child, child)
    with pytest.raises(ValidationError) as exc:
        services.boarding_board(
            actor=world.users["teacher"], trip_id=trip.pk, child_id=child_id, now=at(7, 15)
        )
    assert list(exc.value.message_dict) == ["child"]
    assert not Boarding.objects.exists()


def test_a_child_not_riding_the_route_needs_a_confirmation(world, trip):
    stranger = ChildFactory(school_class=world.school_class, name="临时乘车")
    with pytest.raises(services.OffRoute) as exc:
        board(world, trip, stranger)
    assert exc.value.error_dict["child"][0].code == "off_route"
    assert not Boarding.objects.exists()
    b = board(world, trip, stranger, confirm_off_route=True)
    assert b.stop is None
    event = AuditEvent.objects.get(object_type="transport.boarding", object_id=str(b.pk))
    assert event.changes["off_route_confirmed"] is True


def test_a_full_bus_refuses_boarding_and_flags_once(world, security_officer):
    line = make_line(world, riders=4, seats=2)
    trip = start(world, line)
    board(world, trip, line.children[0])
    board(world, trip, line.children[1])
    for child in line.children[2:]:
        with pytest.raises(services.TripConflict):
            board(world, trip, child)
    assert trip.boardings.count() == 2
    flag = trip.flags.get()
    assert flag.kind == TripFlagKind.OVERLOAD
    assert inbox() == FLAGGED
    # Someone gets off: the seat is free again.
    alight(world, trip, line.children[0])
    board(world, trip, line.children[2], now=at(7, 45))


def test_a_child_on_board_another_bus_cannot_board(world, line, trip):
    other = make_line(world, riders=0, name="2号线")
    other_trip = start(world, other)
    board(world, trip, line.children[0])
    with pytest.raises(ValidationError) as exc:
        board(world, other_trip, line.children[0], confirm_off_route=True)
    assert "1号线" in exc.value.message_dict["child"][0]


@pytest.mark.parametrize("who", ["police", "county", "edu", "health"])
def test_only_school_people_tick(world, line, trip, who):
    if who == "health":
        user = UserFactory(username="health")
        MembershipFactory(user=user, organization=world.school, role=Role.HEALTH_STAFF)
        world.users[who] = user
    with pytest.raises(PermissionDenied):
        board(world, trip, line.children[0], who=who)


@pytest.mark.parametrize("who", ["principal2", "farpolice", "nobody"])
def test_a_trip_out_of_scope_is_not_found(world, line, trip, who):
    with pytest.raises(Http404):
        board(world, trip, line.children[0], who=who)


def test_no_ticks_on_a_refused_or_finished_trip(world, line):
    refused = start(world, line, safety_officer_id=None)
    with pytest.raises(services.TripConflict):
        board(world, refused, line.children[0])
    trip = start(world, line, now=at(7, 5))
    board(world, trip, line.children[0])
    services.trip_end(actor=world.users["teacher"], trip_id=trip.pk, now=at(8))
    for action in (
        lambda: board(world, trip, line.children[1]),
        lambda: alight(world, trip, line.children[0]),
        lambda: services.trip_end(actor=world.users["teacher"], trip_id=trip.pk, now=at(9)),
        lambda: services.boarding_alight_all(actor=world.users["teacher"], trip_id=trip.pk),
    ):
        with pytest.raises(services.TripConflict):
            action()


def test_all_off_at_school(world, line, trip):
    for child in line.children[:3]:
        board(world, trip, child)
    alight(world, trip, line.children[0])
    count = services.boarding_alight_all(
        actor=world.users["teacher"], trip_id=trip.pk, now=at(7, 50)
    )
    assert count == 2
    assert not trip.boardings.filter(alighted_at__isnull=True).exists()


def test_all_off_only_on_the_way_to_school(world, line):
    trip = start(world, line, direction=HOME, now=at(16))
    with pytest.raises(services.TripConflict):
        services.boarding_alight_all(actor=world.users["teacher"], trip_id=trip.pk, now=at(17))


# ------------------------------------------------------------------ scanning


def scan(world, trip, text, now=None, **kwargs):
    return services.boarding_scan(
        actor=world.users["teacher"], trip_id=trip.pk, text=text, now=now or at(7, 15), **kwargs
    )


def test_scan_a_name_boards_then_alights(world, line, trip):
    child = line.children[2]
    action, b = scan(world, trip, f"  {child.name}\n")
    assert action == "boarded" and b.child == child
    action, b = scan(world, trip, child.name, now=at(7, 30))
    assert action == "alighted" and b.alighted_at == at(7, 30)
    with pytest.raises(ValidationError) as exc:
        scan(world, trip, child.name, now=at(7, 31))
    assert list(exc.value.message_dict) == ["child"]


def test_scan_part_of_a_name(world, line, trip):
    action, b = scan(world, trip, "小明")
    assert action == "boarded" and b.child == world.child


@pytest.mark.parametrize(
    "text", ["", "   ", "没有这个人", "乘车幼儿", "HX1.K.1.ABCD.1.AAAAAAAAAAAAAAAAAAAAAAAA"]
)
def test_scan_errors_are_on_the_code(world, line, trip, text):
    with pytest.raises(ValidationError) as exc:
        scan(world, trip, text)
    assert list(exc.value.message_dict) == ["code"]
    assert not Boarding.objects.exists()


def test_scan_a_child_of_the_school_not_on_the_route(world, trip):
    stranger = ChildFactory(school_class=world.school_class, name="临时乘车")
    with pytest.raises(services.OffRoute):
        scan(world, trip, "临时乘车")
    action, b = scan(world, trip, "临时乘车", confirm_off_route=True)
    assert action == "boarded" and b.child == stranger and b.stop is None


def test_scan_a_guardians_pick_up_card(world, line, trip):
    from huxiao.access.pickup_services import pickup_code_issue

    issued = pickup_code_issue(actor=world.users["principal"], guardian=world.guardian)
    action, b = scan(world, trip, "\n" + issued.card_text.lower() + "\r\n")
    assert action == "boarded" and b.child == world.child
    issued.code.revoked_at = at(7)
    issued.code.save()
    with pytest.raises(ValidationError) as exc:
        scan(world, trip, issued.card_text, now=at(7, 30))
    assert list(exc.value.message_dict) == ["code"]


# ------------------------------------------------------------------ the end of a trip


@pytest.fixture
def head_teacher(world):
    """`teacher` (with a login) heads world.child's class."""
    staff = StaffFactory(school=world.school, name="李静", user=world.users["teacher"])
    world.school_class.head_teacher = staff
    world.school_class.save()
    return staff


def test_end_flags_each_child_not_off(world, line, trip, head_teacher, security_officer):
    board(world, trip, world.child)
    board(world, trip, line.children[1])
    board(world, trip, line.children[2])
    alight(world, trip, line.children[1])
    ended = services.trip_end(actor=world.users["teacher"], trip_id=trip.pk, now=at(8))
    assert ended.status == TripStatus.FINISHED and ended.ended_at == at(8)
    flags = {f.child_id: f for f in trip.flags.all()}
    assert set(flags) == {world.child.pk, line.children[2].pk}
    assert all(f.kind == TripFlagKind.NOT_ARRIVED for f in flags.values())
    assert "07:15" in flags[world.child.pk].detail
    assert "东村口" in flags[world.child.pk].detail
    # Both are pupils of the class `teacher` heads: they hear about each.
    assert inbox() == sorted([*FLAGGED, "teacher"] * 2)
    from huxiao.notify.models import Notification

    urgent = Notification.objects.get(payload__child_id=world.child.pk)
    assert "王小明" in urgent.title


def test_end_when_everyone_got_off_flags_nothing(world, line, trip):
    board(world, trip, line.children[0])
    alight(world, trip, line.children[0])
    services.trip_end(actor=world.users["teacher"], trip_id=trip.pk, now=at(8))
    assert not TripFlag.objects.exists() and inbox() == []


def test_end_before_the_start_is_an_error(world, trip):
    with pytest.raises(ValidationError):
        services.trip_end(actor=world.users["teacher"], trip_id=trip.pk, now=at(6))
    trip.refresh_from_db()
    assert trip.status == TripStatus.UNDERWAY


def test_overdue_trips_are_flagged_once(world, line, security_officer):
    late = start(world, line)
    board(world, late, line.children[0])
    other = make_line(world, riders=0, name="2号线")
    recent = start(world, other, now=at(7, 30))
    assert services.trips_overdue(now=at(8, 59)) == []
    flags = services.trips_overdue(now=at(9, 1))
    assert [f.trip_id for f in flags] == [late.pk]
    assert flags[0].kind == TripFlagKind.NOT_ARRIVED and flags[0].child is None
    assert "1" in flags[0].detail
    assert services.trips_overdue(now=at(9, 20)) == []
    assert [f.trip_id for f in services.trips_overdue(now=at(9, 31))] == [recent.pk]
    assert inbox() == sorted(FLAGGED * 2)
    services.trip_end(actor=world.users["teacher"], trip_id=late.pk, now=at(9, 40))
    assert late.flags.filter(child=line.children[0]).exists()


# ------------------------------------------------------------------ resolving flags


@pytest.fixture
def flag(world, line):
    return start(world, line, safety_officer_id=None).flags.get()


def test_the_school_resolves_a_flag(world, flag):
    resolved = services.flag_resolve(
        actor=world.users["principal"],
        flag_id=flag.pk,
        resolution="  已补派照管员  ",
        now=at(7, 30),
    )
    assert (resolved.resolved_at, resolved.resolution) == (at(7, 30), "已补派照管员")
    assert resolved.resolved_by == world.users["principal"]
    with pytest.raises(services.TripConflict):
        services.flag_resolve(actor=world.users["principal"], flag_id=flag.pk, resolution="x")


def test_the_one_who_ran_the_trip_resolves(world, flag):
    services.flag_resolve(actor=world.users["teacher"], flag_id=flag.pk, resolution="已处理")


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("guard", PermissionDenied),
        ("police", PermissionDenied),
        ("county", PermissionDenied),
        ("principal2", Http404),
        ("farpolice", Http404),
    ],
)
def test_others_may_not_resolve(world, flag, who, error):
    with pytest.raises(error):
        services.flag_resolve(actor=world.users[who], flag_id=flag.pk, resolution="x")
    flag.refresh_from_db()
    assert flag.resolved_at is None


@pytest.mark.parametrize("text", ["", "   ", "x" * 301, "坏\x00字符"])
def test_a_resolution_is_required_and_clean(world, flag, text):
    with pytest.raises(ValidationError) as exc:
        services.flag_resolve(actor=world.users["principal"], flag_id=flag.pk, resolution=text)
    assert list(exc.value.message_dict) == ["resolution"]
    flag.refresh_from_db()
    assert flag.resolved_at is None


@pytest.mark.parametrize("flag_id", [10**30, 0, -1, "x"])
def test_resolving_an_unknown_flag_is_not_found(world, flag_id):
    with pytest.raises(Http404):
        services.flag_resolve(actor=world.users["principal"], flag_id=flag_id, resolution="x")


def test_the_overdue_job(world, line):
    from django.utils import timezone

    from huxiao.transport import tasks

    start(world, line, now=timezone.now() - dt.timedelta(hours=3))
    assert tasks.trips_overdue_every_5_minutes.call_local() == 1
    assert tasks.trips_overdue_every_5_minutes.call_local() == 0


def test_flag_recipients(world, head_teacher, security_officer):
    from django.contrib.auth import get_user_model

    from huxiao.people.tests.factories import SchoolClassFactory

    def names(ids):
        users = get_user_model().objects.filter(pk__in=ids)
        return sorted(users.values_list("username", flat=True))

    other = ChildFactory(school_class=SchoolClassFactory(school=world.school, name="大一班"))
    assert names(services.flag_recipients(world.school)) == FLAGGED
    assert names(services.flag_recipients(world.school, world.child)) == sorted(
        [*FLAGGED, "teacher"]
    )
    assert names(services.flag_recipients(world.school, other)) == FLAGGED
    assert names(services.flag_recipients(world.far_school)) == ["farpolice"]
