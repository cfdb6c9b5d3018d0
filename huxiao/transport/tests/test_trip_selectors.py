"""Trip reads (ADR 0031 "Trips"): bus contacts from hand-built boardings, the tick list
grouped by stop in the direction's order, the timeline, lists in scope."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from huxiao.people.tests.factories import ChildFactory
from huxiao.transport import trip_selectors as sel
from huxiao.transport.choices import Direction, TripStatus
from huxiao.transport.models import Boarding, Trip
from huxiao.transport.tests.trip_fixtures import DAY, at, make_line

pytestmark = pytest.mark.django_db
D1, D2, D3 = DAY, DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=2)


def trip_on(line, day, direction=Direction.TO_SCHOOL, status=TripStatus.FINISHED) -> Trip:
    return Trip.objects.create(
        school=line.route.school,
        route=line.route,
        date=day,
        direction=direction,
        bus=line.bus,
        driver=line.driver,
        safety_officer=line.officer,
        status=status,
        started_at=at(7, day=day),
    )


def ride(trip, child, minute=10, off=40):
    day = trip.date
    return Boarding.objects.create(
        trip=trip, child=child, boarded_at=at(7, minute, day), alighted_at=at(7, off, day)
    )


@pytest.fixture
def rides(world):
    """A, B on line 1 on D1 (to school); A, C on line 1 on D2 (home); D alone on D3; E on
    line 2 on D1 (another bus the same morning)."""
    one = make_line(world, riders=5)
    two = make_line(world, riders=1, name="2号线")
    a, b, c, d, _e = one.children
    e = two.children[0]
    t1 = trip_on(one, D1)
    t2 = trip_on(one, D2, Direction.FROM_SCHOOL)
    t3 = trip_on(one, D3)
    t4 = trip_on(two, D1)
    ride(t1, a), ride(t1, b), ride(t2, a), ride(t2, c), ride(t3, d), ride(t4, e)
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "t1": t1, "t2": t2, "one": one}


def names(contacts):
    return [(c.child.name, [(t.date, t.direction) for t in c.trips]) for c in contacts]


def test_bus_contacts_are_the_children_on_the_same_trips(world, rides):
    a, b, c = rides["a"], rides["b"], rides["c"]
    contacts = sel.bus_contacts(actor=world.users["principal"], child_id=a.pk, start=D1, end=D3)
    assert names(contacts) == [
        (b.name, [(D1, Direction.TO_SCHOOL)]),
        (c.name, [(D2, Direction.FROM_SCHOOL)]),
    ]
    shared = contacts[0].trips[0]
    assert (shared.trip_id, shared.route_name) == (rides["t1"].pk, "1号线")
    assert shared.direction_label


def test_bus_contacts_within_the_period(world, rides):
    a, b = rides["a"], rides["b"]
    contacts = sel.bus_contacts(actor=world.users["police"], child_id=a.pk, start=D1, end=D1)
    assert [c.child for c in contacts] == [b]
    assert sel.bus_contacts(actor=world.users["county"], child_id=a.pk, start=D3, end=D3) == []
    alone = sel.bus_contacts(actor=world.users["gov"], child_id=rides["d"].pk, start=D1, end=D3)
    assert alone == []


def test_a_child_sharing_several_trips_is_listed_once(world, rides):
    t3 = trip_on(rides["one"], D3 + dt.timedelta(days=1))
    ride(t3, rides["a"]), ride(t3, rides["b"])
    contacts = sel.bus_contacts(
        actor=world.users["principal"], child_id=rides["b"].pk, start=D1, end=D3 + dt.timedelta(5)
    )
    assert names(contacts) == [(rides["a"].name, [(D1, "to_school"), (t3.date, "to_school")])]


@pytest.mark.parametrize("who", ["principal2", "farpolice", "nobody"])
def test_bus_contacts_out_of_scope_is_not_found(world, rides, who):
    with pytest.raises(Http404):
        sel.bus_contacts(actor=world.users[who], child_id=rides["a"].pk, start=D1, end=D3)


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (D2, D1, "end"),
        (D1 - dt.timedelta(days=366), D1, "end"),
        (dt.date(1999, 12, 31), D1, "start"),
        (D1, dt.date(2101, 1, 1), "end"),
        ("2026-03-01", D1, "start"),
        (None, D1, "start"),
    ],
)
def test_bus_contacts_bad_periods(world, rides, start, end, field):
    with pytest.raises(ValidationError) as exc:
        sel.bus_contacts(
            actor=world.users["principal"], child_id=rides["a"].pk, start=start, end=end
        )
    assert field in exc.value.message_dict


def test_a_whole_year_is_allowed(world, rides):
    start = D1 - dt.timedelta(days=365)
    assert sel.bus_contacts(
        actor=world.users["principal"], child_id=rides["a"].pk, start=start, end=D1
    )


# ------------------------------------------------------------------ the tick list


def test_the_sheet_in_stop_order_to_school_and_reversed_home(world):
    line = make_line(world, riders=5)
    morning = trip_on(line, D1, status=TripStatus.UNDERWAY)
    evening = trip_on(line, D1, Direction.FROM_SCHOOL, status=TripStatus.UNDERWAY)
    sheet = sel.rider_sheet(morning)
    assert [g.stop.name for g in sheet.groups] == ["东村口", "小桥", "卫生院"]
    assert [g.time for g in sheet.groups] == [dt.time(7, 15), dt.time(7, 20), dt.time(7, 25)]
    assert [len(g.rows) for g in sheet.groups] == [2, 2, 1]
    home = sel.rider_sheet(evening)
    assert [g.stop.name for g in home.groups] == ["卫生院", "小桥", "东村口"]
    assert home.groups[0].time == dt.time(16, 25)


def test_the_sheet_states_counters_and_children_off_the_route(world):
    line = make_line(world, riders=3, seats=19)
    trip = trip_on(line, D1, status=TripStatus.UNDERWAY)
    Boarding.objects.create(trip=trip, child=line.children[0], boarded_at=at(7, 10))
    ride(trip, line.children[1])
    stranger = ChildFactory(school_class=world.school_class, name="临时乘车")
    Boarding.objects.create(trip=trip, child=stranger, boarded_at=at(7, 12))
    sheet = sel.rider_sheet(trip)
    assert (sheet.on_board, sheet.got_off, sheet.waiting, sheet.seats) == (2, 1, 1, 19)
    assert sheet.seats_left == 17
    extra = sheet.groups[-1]
    assert extra.stop is None and [r.child for r in extra.rows] == [stranger]
    assert not extra.rows[0].on_route
    states = {r.child.pk: r.state for g in sheet.groups for r in g.rows}
    assert states[line.children[0].pk] == "on"
    assert states[line.children[1].pk] == "off"
    assert states[line.children[2].pk] == "waiting"
    found = sel.rider_sheet(trip, query="临时")
    assert [r.child for g in found.groups for r in g.rows] == [stranger]
    assert found.on_board == 2


def test_the_timeline_in_order(world):
    line = make_line(world, riders=1)
    trip = trip_on(line, D1)
    trip.ended_at = at(8, day=D1)
    trip.save()
    ride(trip, line.children[0])
    kinds = [e.kind for e in sel.trip_timeline(trip, [])]
    assert kinds == ["started", "boarded", "alighted", "ended"]


# ------------------------------------------------------------------ lists


def test_trip_list_in_scope_with_counts(world):
    mine = make_line(world, riders=2)
    other = make_line(world, school=world.other_school, riders=1, name="外校线")
    far = make_line(world, school=world.far_school, riders=1, name="外镇线")
    t = trip_on(mine, D1, status=TripStatus.UNDERWAY)
    ride(t, mine.children[0]), ride(t, mine.children[1])
    trip_on(other, D1), trip_on(far, D1)
    counts = {
        who: sel.trip_list(actor=world.users[who]).count()
        for who in (
            "principal",
            "teacher",
            "principal2",
            "police",
            "postofficer",
            "county",
            "farpolice",
            "nobody",
        )
    }
    assert counts == {
        "principal": 1,
        "teacher": 1,
        "principal2": 1,
        "police": 2,
        "postofficer": 1,
        "county": 3,
        "farpolice": 1,
        "nobody": 0,
    }
    row = sel.trip_list(actor=world.users["principal"]).get()
    assert (row.boarded, row.open_flags) == (2, 0)
