"""The trips API (ADR 0031 "Trips"): role × scope for every endpoint, the start's refusals
(409 with the recorded trip), the tick list, the end, flags and bus contacts, bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.transport.choices import TripFlagKind, TripStatus
from huxiao.transport.models import Boarding, Trip, TripFlag
from huxiao.transport.tests.trip_fixtures import inbox, make_line

pytestmark = pytest.mark.django_db
URL = "/api/v1/transport/trips"
FLAGS = "/api/v1/transport/trip-flags"


@pytest.fixture
def line(world):
    return make_line(world)


def start(api, world, line, who="teacher", **body):
    return api(
        "post",
        URL,
        world.users[who],
        json={"route_id": line.route.pk, "direction": "to_school", **body},
    )


@pytest.fixture
def trip(api, world, line):
    response = start(api, world, line)
    assert response.status_code == 201, response.content
    return Trip.objects.get(pk=response.json()["id"])


# ------------------------------------------------------------------ start


def test_start_answers_the_trip(api, world, line):
    response = start(api, world, line, children=[line.children[0].pk], riders=3)
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "underway" and body["riders_at_start"] == 3
    assert body["bus_plate"] == line.bus.plate and body["safety_officer_name"] == "李老师"
    assert [b["child_name"] for b in body["boardings"]] == ["王小明"]
    assert body["boardings"][0]["stop_name"] == "东村口"
    assert body["date"] == timezone.localdate().isoformat()


def test_start_without_safety_officer_is_409_and_recorded(api, world, line):
    response = start(api, world, line, safety_officer_id=None)
    assert response.status_code == 409
    body = response.json()
    trip = Trip.objects.get(pk=body["trip_id"])
    assert trip.status == TripStatus.REFUSED and body["detail"] == trip.refuse_reason
    assert trip.flags.get().kind == TripFlagKind.NO_SAFETY_OFFICER
    assert "principal" in inbox() and "police" in inbox()


def test_start_left_out_safety_officer_means_the_usual_one(api, world, line):
    assert start(api, world, line).json()["safety_officer_id"] == line.officer.pk


def test_start_overloaded_is_409(api, world, line):
    response = start(api, world, line, riders=20)
    assert response.status_code == 409
    assert Trip.objects.get(pk=response.json()["trip_id"]).flags.get().kind == "overload"


def test_start_twice_is_409_without_trip(api, world, line, trip):
    response = start(api, world, line)
    assert response.status_code == 409 and response.json().get("trip_id") is None
    assert Trip.objects.count() == 1


def test_start_with_an_expired_driver_is_400_naming_it(api, world, line):
    line.driver.licence_expires_on = dt.date(2020, 5, 6)
    line.driver.save()
    response = start(api, world, line)
    assert response.status_code == 400
    assert "驾驶证已于 2020-05-06 过期" in response.json()["errors"]["driver"][0]
    assert not Trip.objects.exists() and not TripFlag.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"direction": "up"}, "direction"),
        ({"bus_id": 10**30}, "bus"),
        ({"driver_id": 2**63}, "driver"),
        ({"safety_officer_id": -1}, "safety_officer"),
        ({"riders": 10**12}, "riders"),
        ({"children": [10**25]}, "children"),
        ({"route_id": 10**30}, "route"),
        ({"route_id": "abc"}, "route_id"),
        ({"children": "x"}, "children"),
    ],
)
def test_start_bad_input_is_400(api, world, line, body, field):
    response = start(api, world, line, **body)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not Trip.objects.exists()


def test_start_empty_body_is_400(api, world):
    response = api("post", URL, world.users["teacher"], json={})
    assert response.status_code == 400
    assert {"route_id", "direction"} <= set(response.json()["errors"])


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("principal", 201),
        ("guard", 201),
        ("principal2", 400),
        ("police", 403),
        ("officer", 403),
        ("county", 403),
        ("nobody", 403),
        (None, 401),
    ],
)
def test_start_matrix(api, world, line, who, status):
    user = world.users[who] if who else None
    response = api("post", URL, user, json={"route_id": line.route.pk, "direction": "to_school"})
    assert response.status_code == status
    assert Trip.objects.count() == (1 if status == 201 else 0)


# ------------------------------------------------------------------ reads


@pytest.mark.parametrize(
    ("who", "count", "detail"),
    [
        ("principal", 1, 200),
        ("teacher", 1, 200),
        ("principal2", 0, 404),
        ("police", 1, 200),
        ("postofficer", 1, 200),
        ("gov", 1, 200),
        ("county", 1, 200),
        ("farpolice", 0, 404),
    ],
)
def test_read_matrix(api, world, trip, who, count, detail):
    user = world.users[who]
    assert api("get", URL, user).json()["count"] == count
    assert api("get", f"{URL}/{trip.pk}", user).status_code == detail


def test_read_without_a_role_or_login(api, world, trip):
    assert api("get", URL, world.users["nobody"]).status_code == 403
    assert api("get", URL).status_code == 401
    assert api("get", f"{URL}/{trip.pk}").status_code == 401


@pytest.mark.parametrize(
    "query",
    [
        "date=9999-12-31",
        "date=0001-01-01",
        "date=2026-02-30",
        "status=flying",
        "school_id=0",
        f"school_id={10**30}",
    ],
)
def test_list_bad_queries_are_400(api, world, trip, query):
    assert api("get", f"{URL}?{query}", world.users["principal"]).status_code == 400


def test_list_filters_and_huge_offsets(api, world, trip):
    p = world.users["principal"]
    today = timezone.localdate().isoformat()
    assert api("get", f"{URL}?date={today}&status=underway", p).json()["count"] == 1
    assert api("get", f"{URL}?status=finished", p).json()["count"] == 0
    assert api("get", f"{URL}?offset={10**20}", p).json() == {"count": 1, "items": []}
    other = world.other_school.pk
    assert api("get", f"{URL}?school_id={other}", p).status_code == 404
    assert api("get", f"{URL}/{10**30}", p).status_code == 400


# ------------------------------------------------------------------ the tick list


def test_board_alight_scan_end(api, world, line, trip):
    t = world.users["teacher"]
    first, second, third = line.children[:3]
    r = api("post", f"{URL}/{trip.pk}/boardings", t, json={"child_id": first.pk})
    assert r.status_code == 201 and r.json()["child_id"] == first.pk
    r = api("post", f"{URL}/{trip.pk}/boardings", t, json={"child_id": first.pk})
    assert r.status_code == 400 and "child" in r.json()["errors"]
    r = api("post", f"{URL}/{trip.pk}/scan", t, json={"text": second.name})
    assert r.status_code == 200 and r.json()["action"] == "boarded"
    r = api("post", f"{URL}/{trip.pk}/scan", t, json={"text": second.name})
    assert r.json()["action"] == "alighted" and r.json()["boarding"]["alighted_at"]
    r = api("post", f"{URL}/{trip.pk}/alightings", t, json={"child_id": third.pk})
    assert r.status_code == 400 and "child" in r.json()["errors"]
    r = api("post", f"{URL}/{trip.pk}/end", t)
    assert r.status_code == 200 and r.json()["status"] == "finished"
    flags = r.json()["flags"]
    assert [(f["kind"], f["child_id"]) for f in flags] == [("not_arrived", first.pk)]
    assert api("post", f"{URL}/{trip.pk}/end", t).status_code == 409
    r = api("post", f"{URL}/{trip.pk}/boardings", t, json={"child_id": third.pk})
    assert r.status_code == 409 and r.json()["detail"]


def test_off_route_needs_the_confirmation(api, world, trip):
    from huxiao.people.tests.factories import ChildFactory

    stranger = ChildFactory(school_class=world.school_class)
    url = f"{URL}/{trip.pk}/boardings"
    t = world.users["teacher"]
    r = api("post", url, t, json={"child_id": stranger.pk})
    assert r.status_code == 400 and "child" in r.json()["errors"]
    r = api("post", url, t, json={"child_id": stranger.pk, "confirm_off_route": True})
    assert r.status_code == 201 and r.json()["stop_id"] is None


def test_full_bus_is_409(api, world):
    line = make_line(world, riders=2, seats=1)
    trip = start(api, world, line).json()
    url = f"{URL}/{trip['id']}/boardings"
    t = world.users["teacher"]
    assert api("post", url, t, json={"child_id": line.children[0].pk}).status_code == 201
    r = api("post", url, t, json={"child_id": line.children[1].pk})
    assert r.status_code == 409 and r.json()["detail"]
    assert TripFlag.objects.get().kind == "overload"


def test_alight_all_only_to_school(api, world, line, trip):
    t = world.users["teacher"]
    api("post", f"{URL}/{trip.pk}/boardings", t, json={"child_id": line.children[0].pk})
    r = api("post", f"{URL}/{trip.pk}/alight-all", t)
    assert r.status_code == 200 and r.json() == {"count": 1}
    home = start(api, world, line, direction="from_school").json()
    assert api("post", f"{URL}/{home['id']}/alight-all", t).status_code == 409


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("teacher", 201),
        ("guard", 201),
        ("police", 403),
        ("county", 403),
        ("principal2", 404),
        ("farpolice", 404),
        ("nobody", 404),
        (None, 401),
    ],
)
def test_tick_matrix(api, world, line, trip, who, status):
    user = world.users[who] if who else None
    r = api("post", f"{URL}/{trip.pk}/boardings", user, json={"child_id": line.children[0].pk})
    assert r.status_code == status
    assert Boarding.objects.count() == (1 if status == 201 else 0)
    if status != 201:
        for path in ("end", "alight-all"):
            assert api("post", f"{URL}/{trip.pk}/{path}", user).status_code == status
        trip.refresh_from_db()
        assert trip.status == TripStatus.UNDERWAY


@pytest.mark.parametrize(
    "body",
    [{}, {"child_id": "x"}, {"child_id": 10**30}, {"text": "x" * 1001}, {"text": None}],
)
def test_tick_bad_bodies_are_400(api, world, trip, body):
    t = world.users["teacher"]
    for path in ("boardings", "alightings", "scan"):
        r = api("post", f"{URL}/{trip.pk}/{path}", t, json=body)
        assert r.status_code == 400, (path, body, r.content)
    assert not Boarding.objects.exists()


# ------------------------------------------------------------------ flags


@pytest.fixture
def flag(api, world, line):
    start(api, world, line, safety_officer_id=None)
    return TripFlag.objects.get()


@pytest.mark.parametrize(
    ("who", "count"),
    [
        ("principal", 1),
        ("guard", 1),
        ("principal2", 0),
        ("police", 1),
        ("postofficer", 1),
        ("county", 1),
        ("farpolice", 0),
    ],
)
def test_flag_list_matrix(api, world, flag, who, count):
    assert api("get", FLAGS, world.users[who]).json()["count"] == count


def test_flag_list_filters(api, world, flag):
    c = world.users["county"]
    assert api("get", f"{FLAGS}?state=open&kind=no_safety_officer", c).json()["count"] == 1
    assert api("get", f"{FLAGS}?state=resolved", c).json()["count"] == 0
    assert api("get", f"{FLAGS}?state=nope", c).status_code == 400
    assert api("get", f"{FLAGS}?kind=nope", c).status_code == 400
    assert api("get", FLAGS, world.users["nobody"]).status_code == 403
    assert api("get", FLAGS).status_code == 401
    item = api("get", FLAGS, c).json()["items"][0]
    assert item["route_name"] == "1号线" and item["kind_label"]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("guard", 403),
        ("police", 403),
        ("county", 403),
        ("principal2", 404),
        ("nobody", 404),
        (None, 401),
    ],
)
def test_resolve_refused(api, world, flag, who, status):
    user = world.users[who] if who else None
    r = api("post", f"{FLAGS}/{flag.pk}/resolve", user, json={"resolution": "x"})
    assert r.status_code == status
    flag.refresh_from_db()
    assert flag.resolved_at is None


def test_resolve(api, world, flag):
    url = f"{FLAGS}/{flag.pk}/resolve"
    p = world.users["principal"]
    r = api("post", url, p, json={"resolution": ""})
    assert r.status_code == 400 and "resolution" in r.json()["errors"]
    assert api("post", url, p, json={}).status_code == 400
    r = api("post", url, world.users["teacher"], json={"resolution": "已补派照管员"})
    assert r.status_code == 200 and r.json()["resolution"] == "已补派照管员"
    assert r.json()["resolved_by"]
    assert api("post", url, p, json={"resolution": "again"}).status_code == 409
    assert api("post", f"{FLAGS}/{10**30}/resolve", p, json={"resolution": "x"}).status_code == 400


# ------------------------------------------------------------------ bus contacts


@pytest.fixture
def shared(api, world, line, trip):
    t = world.users["teacher"]
    for child in line.children[:3]:
        api("post", f"{URL}/{trip.pk}/boardings", t, json={"child_id": child.pk})
    return line.children


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("principal", 200),
        ("teacher", 200),
        ("police", 200),
        ("county", 200),
        ("principal2", 404),
        ("farpolice", 404),
        ("nobody", 403),
        (None, 401),
    ],
)
def test_bus_contacts_matrix(api, world, shared, who, status):
    user = world.users[who] if who else None
    r = api("get", f"/api/v1/transport/children/{shared[0].pk}/bus-contacts", user)
    assert r.status_code == status
    if status == 200:
        body = r.json()
        assert [c["child_id"] for c in body["contacts"]] == sorted(
            [shared[1].pk, shared[2].pk], key=lambda pk: next(c.name for c in shared if c.pk == pk)
        )
        assert body["contacts"][0]["trips"][0]["route_name"] == "1号线"


@pytest.mark.parametrize(
    "query",
    [
        "start=2026-03-10&end=2026-03-01",
        "start=2000-01-01&end=2026-03-01",
        "end=0001-01-01",
        "end=9999-12-31",
        "start=0001-01-01",
        "start=garbage",
    ],
)
def test_bus_contacts_bad_dates(api, world, shared, query):
    r = api(
        "get",
        f"/api/v1/transport/children/{shared[0].pk}/bus-contacts?{query}",
        world.users["principal"],
    )
    assert r.status_code == 400, r.content
    assert r.json()["errors"]


def test_lists_take_the_same_queries_for_many_rows(api, client, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from huxiao.transport import trip_services as services

    def counts():
        p = world.users["principal"]
        api.token_for(p)
        client.force_login(p)
        result = []
        for call in (
            lambda: api("get", URL, p),
            lambda: api("get", FLAGS, p),
            lambda: client.get(f"/transport/schools/{world.school.pk}/trips/"),
            lambda: client.get("/transport/trip-flags/"),
        ):
            with CaptureQueriesContext(connection) as ctx:
                assert call().status_code == 200
            result.append(len(ctx.captured_queries))
        return result

    def refused_trip(name):
        line = make_line(world, riders=1, name=name)
        services.trip_start(
            actor=world.users["teacher"],
            route_id=line.route.pk,
            direction="to_school",
            safety_officer_id=None,
        )

    refused_trip("甲线")
    counts()  # the first call of a token also records its use
    one = counts()
    for name in ("乙线", "丙线", "丁线", "戊线", "己线"):
        refused_trip(name)
    assert counts() == one
