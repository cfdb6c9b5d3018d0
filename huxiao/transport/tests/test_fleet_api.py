# ruff: noqa: F811 - pytest fixtures imported from fleet_fixtures are arguments here
"""The fleet API by role × scope (buses, drivers, violations, routes, stops, riders, the
overviews); bad input is 400 by field with nothing written; a state that does not allow a
step is 409; no input gives a 500."""

from __future__ import annotations

import datetime as dt

import pytest

from huxiao.transport.models import Bus, Driver, DriverViolation, Route, RouteRider, RouteStop
from huxiao.transport.tests.fleet_fixtures import fleet, make_route  # noqa: F401

pytestmark = pytest.mark.django_db
BASE = "/api/v1/transport"

# Who reads a school's fleet: its staff, the police of the jurisdiction, the town's
# offices, the county; another school and the far police station do not see it.
READ = [
    ("principal", 200),
    ("security", 200),
    ("guard", 200),
    ("teacher", 200),
    ("principal2", 404),
    ("police", 200),
    ("officer", 200),
    ("farpolice", 404),
    ("edu", 200),
    ("county", 200),
    ("nobody", 403),
]
# Who changes it: the principal and the security officer.
WRITE = [
    ("principal", None),
    ("security", None),
    ("guard", 403),
    ("teacher", 403),
    ("principal2", 404),
    ("police", 403),
    ("farpolice", 404),
    ("county", 403),
    ("nobody", 403),
]


def _reads(w) -> list[str]:
    return [
        f"{BASE}/schools/{w.school.pk}/buses",
        f"{BASE}/schools/{w.school.pk}/drivers",
        f"{BASE}/schools/{w.school.pk}/routes",
        f"{BASE}/schools/{w.school.pk}/fleet",
        f"{BASE}/schools/{w.school.pk}/safety-officers",
        f"{BASE}/buses/{w.bus.pk}",
        f"{BASE}/drivers/{w.driver.pk}",
        f"{BASE}/drivers/{w.driver.pk}/violations",
        f"{BASE}/routes/{w.route.pk}",
        f"{BASE}/routes/{w.route.pk}/riders",
    ]


def test_anonymous_is_401(api, fleet):
    for path in [*_reads(fleet), f"{BASE}/overview"]:
        assert api("get", path).status_code == 401, path
    assert api("post", f"{BASE}/schools/{fleet.school.pk}/buses", json={}).status_code == 401


@pytest.mark.parametrize(("name", "status"), READ)
def test_reads_by_role_and_scope(api, fleet, name, status):
    for path in _reads(fleet):
        assert api("get", path, fleet.users[name]).status_code == status, path


def test_read_shapes(api, fleet):
    user = fleet.users["police"]
    buses = api("get", f"{BASE}/schools/{fleet.school.pk}/buses", user).json()
    assert buses["count"] == 1
    bus = buses["items"][0]
    assert bus["plate"] == "冀AX3712" and bus["seats"] == 19 and bus["badges"] == []
    assert [d["state"] for d in bus["documents"]] == ["valid"] * 3
    detail = api("get", f"{BASE}/buses/{fleet.bus.pk}", user).json()
    assert detail["routes"] == [{"id": fleet.route.pk, "name": "1号线", "is_active": True}]
    driver = api("get", f"{BASE}/drivers/{fleet.driver.pk}", user).json()
    assert driver["name"] == "王师傅" and driver["points_12m"] == 0 and driver["violations"] == []
    route = api("get", f"{BASE}/routes/{fleet.route.pk}", user).json()
    assert route["bus"] == {"id": fleet.bus.pk, "plate": "冀AX3712", "seats": 19}
    assert route["safety_officer"] == {"id": fleet.staff.pk, "name": "李老师"}
    assert route["rider_count"] == 3 and route["stop_count"] == 3 and route["problems"] == []
    assert [s["name"] for s in route["stops"]] == ["东关村口", "北街", "幼儿园东门"]
    assert route["stops"][0]["morning_time"] == "07:10:00"
    assert [r["child_name"] for r in route["stops"][0]["riders"]] == ["王小明"]
    officers = api("get", f"{BASE}/schools/{fleet.school.pk}/safety-officers", user).json()
    assert officers["items"][0]["name"] == "李老师"
    assert officers["items"][0]["routes"][0]["name"] == "1号线"
    figures = api("get", f"{BASE}/schools/{fleet.school.pk}/fleet", user).json()
    assert (figures["buses"], figures["drivers"], figures["routes"], figures["riders"]) == (
        1,
        1,
        1,
        3,
    )


@pytest.mark.parametrize(
    ("name", "schools"),
    [
        ("principal", ["本园"]),
        ("police", ["本园", "同镇学校"]),
        ("county", ["本园", "同镇学校"]),
        ("farpolice", []),
    ],
)
def test_overview_lists_schools_with_a_fleet(api, fleet, name, schools):
    data = api("get", f"{BASE}/overview", fleet.users[name]).json()
    assert sorted(row["school_name"] for row in data["items"]) == sorted(schools)


def test_overview_nobody_is_403(api, fleet):
    assert api("get", f"{BASE}/overview", fleet.users["nobody"]).status_code == 403


# ------------------------------------------------------------------ writes by role

NEW_BUS = {"plate": "冀A·X5820", "seats": 35, "markings_compliant": True}
NEW_DRIVER = {"name": "刘师傅", "licence_class": "A1", "licence_expires_on": "2030-01-01"}


@pytest.mark.parametrize(("name", "status"), WRITE)
def test_bus_create_by_role(api, fleet, name, status):
    r = api("post", f"{BASE}/schools/{fleet.school.pk}/buses", fleet.users[name], json=NEW_BUS)
    assert r.status_code == (status or 201)
    assert Bus.objects.filter(plate="冀AX5820").exists() == (status is None)
    if status is None:
        assert r.json()["plate"] == "冀AX5820"
        assert {b["code"] for b in r.json()["badges"]} == {
            "missing-permit_expires_on",
            "missing-insurance_expires_on",
            "missing-inspection_expires_on",
        }


@pytest.mark.parametrize(("name", "status"), WRITE)
def test_patches_by_role(api, fleet, name, status):
    user = fleet.users[name]
    calls = [
        (f"{BASE}/buses/{fleet.bus.pk}", {"seats": 20}),
        (f"{BASE}/drivers/{fleet.driver.pk}", {"phone": "13700001111"}),
        (f"{BASE}/routes/{fleet.route.pk}", {"name": "1号线（东线）"}),
        (f"{BASE}/stops/{fleet.stops[0].pk}", {"name": "东关"}),
        (f"{BASE}/riders/{fleet.riders[0].pk}", {"stop_id": fleet.stops[1].pk}),
    ]
    for path, body in calls:
        assert api("patch", path, user, json=body).status_code == (status or 200), path
    changed = status is None
    assert (Bus.objects.get(pk=fleet.bus.pk).seats == 20) == changed
    assert (Driver.objects.get(pk=fleet.driver.pk).phone == "13700001111") == changed
    assert (Route.objects.get(pk=fleet.route.pk).name == "1号线（东线）") == changed
    assert (RouteStop.objects.get(pk=fleet.stops[0].pk).name == "东关") == changed
    assert (RouteRider.objects.get(pk=fleet.riders[0].pk).stop_id == fleet.stops[1].pk) == changed


@pytest.mark.parametrize(("name", "status"), WRITE)
def test_creates_by_role(api, fleet, name, status):
    user = fleet.users[name]
    school = fleet.school.pk
    calls = [
        (f"{BASE}/schools/{school}/drivers", NEW_DRIVER),
        (f"{BASE}/schools/{school}/routes", {"name": "2号线"}),
        (f"{BASE}/routes/{fleet.route.pk}/stops", {"name": "新站", "morning_time": "07:40"}),
        (
            f"{BASE}/routes/{fleet.route.pk}/riders",
            {"stop_id": fleet.stops[0].pk, "child_ids": [fleet.spare_child.pk]},
        ),
        (
            f"{BASE}/drivers/{fleet.driver.pk}/violations",
            {"occurred_on": "2026-01-05", "description": "超速", "points": 3},
        ),
    ]
    for path, body in calls:
        assert api("post", path, user, json=body).status_code == (status or 201), path
    created = status is None
    assert Driver.objects.filter(name="刘师傅").exists() == created
    assert Route.objects.filter(name="2号线").exists() == created
    assert RouteStop.objects.filter(name="新站").exists() == created
    assert RouteRider.objects.filter(child=fleet.spare_child).exists() == created
    assert DriverViolation.objects.exists() == created


@pytest.mark.parametrize(("name", "status"), WRITE)
def test_deletes_by_role(api, fleet, name, status):
    user = fleet.users[name]
    spare_route = make_route(fleet.school, "空线")
    violation = DriverViolation.objects.create(
        driver=fleet.driver, occurred_on=dt.date(2026, 1, 5), description="超速", points=3
    )
    calls = [
        f"{BASE}/riders/{fleet.riders[0].pk}",
        f"{BASE}/violations/{violation.pk}",
        f"{BASE}/routes/{spare_route.pk}",
    ]
    for path in calls:
        assert api("delete", path, user).status_code == (status or 204), path
    gone = status is None
    assert (not RouteRider.objects.filter(pk=fleet.riders[0].pk).exists()) == gone
    assert (not DriverViolation.objects.exists()) == gone
    assert (not Route.objects.filter(pk=spare_route.pk).exists()) == gone


# ------------------------------------------------------------------ 409 and 400


def test_state_refusals_are_409(api, fleet):
    user = fleet.users["principal"]
    r = api("patch", f"{BASE}/buses/{fleet.bus.pk}", user, json={"is_active": False})
    assert r.status_code == 409 and "1号线" in r.json()["detail"]
    assert api("delete", f"{BASE}/buses/{fleet.bus.pk}", user).status_code == 409
    assert api("delete", f"{BASE}/drivers/{fleet.driver.pk}", user).status_code == 409
    assert api("delete", f"{BASE}/routes/{fleet.route.pk}", user).status_code == 409
    assert api("delete", f"{BASE}/stops/{fleet.stops[0].pk}", user).status_code == 409
    assert Bus.objects.get(pk=fleet.bus.pk).is_active
    assert RouteStop.objects.filter(pk=fleet.stops[0].pk).exists()


def test_retired_route_takes_no_riders(api, fleet):
    user = fleet.users["principal"]
    r = api("patch", f"{BASE}/routes/{fleet.route.pk}", user, json={"is_active": False})
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert len(r.json()["former_riders"]) == 3
    r = api(
        "post",
        f"{BASE}/routes/{fleet.route.pk}/riders",
        user,
        json={"stop_id": fleet.stops[0].pk, "child_ids": [fleet.spare_child.pk]},
    )
    assert r.status_code == 409


@pytest.mark.parametrize(
    ("path", "method", "body", "field"),
    [
        ("buses", "post", {"plate": "AX5820", "seats": 35}, "plate"),
        ("buses", "post", {"plate": "冀AX5820", "seats": 0}, "seats"),
        ("buses", "post", {"plate": "冀AX5820", "seats": 10**30}, "seats"),
        ("buses", "post", {"plate": "冀AX5820", "seats": "多"}, "seats"),
        ("buses", "post", {"plate": "冀AX5820", "seats": 19, "color": "黄"}, "color"),
        (
            "buses",
            "post",
            {"plate": "冀AX5820", "seats": 19, "insurance_expires_on": "9999-12-31"},
            "insurance_expires_on",
        ),
        (
            "buses",
            "post",
            {"plate": "冀AX5820", "seats": 19, "insurance_expires_on": "0001-01-01"},
            "insurance_expires_on",
        ),
        (
            "buses",
            "post",
            {"plate": "冀AX5820", "seats": 19, "insurance_expires_on": "2026-02-30"},
            "insurance_expires_on",
        ),
        ("buses", "post", {"plate": "冀AX3712", "seats": 19}, "plate"),
        ("drivers", "post", {"name": "刘", "licence_class": "Z"}, "licence_class"),
        ("drivers", "post", {"name": "", "licence_class": "A1"}, "name"),
        ("routes", "post", {"name": "1号线"}, "name"),
        ("routes", "post", {"name": "新线", "bus_id": 2**63}, "bus_id"),
        ("routes", "post", {"name": "新线", "driver_id": 0}, "driver_id"),
    ],
)
def test_bad_input_is_400_by_field(api, fleet, path, method, body, field):
    before = (Bus.objects.count(), Driver.objects.count(), Route.objects.count())
    r = api(method, f"{BASE}/schools/{fleet.school.pk}/{path}", fleet.users["principal"], json=body)
    assert r.status_code == 400
    errors = r.json()["errors"]
    assert field in errors or field.removesuffix("_id") in errors, errors
    assert (Bus.objects.count(), Driver.objects.count(), Route.objects.count()) == before


def test_other_schools_references_are_400(api, fleet):
    user = fleet.users["principal"]
    r = api("patch", f"{BASE}/routes/{fleet.route.pk}", user, json={"bus_id": fleet.other_bus.pk})
    assert r.status_code == 400 and set(r.json()["errors"]) == {"bus"}
    r = api(
        "post",
        f"{BASE}/routes/{fleet.route.pk}/riders",
        user,
        json={"stop_id": fleet.stops[0].pk, "child_ids": [fleet.other_child.pk]},
    )
    assert r.status_code == 400 and set(r.json()["errors"]) == {"children"}
    other_route = make_route(fleet.school, "2号线")
    r = api(
        "post",
        f"{BASE}/routes/{other_route.pk}/riders",
        user,
        json={"stop_id": other_route.stops.first().pk, "child_ids": [fleet.child.pk]},
    )
    assert r.status_code == 400
    assert "王小明 已在乘坐 1号线" in r.json()["errors"]["children"][0]
    assert RouteRider.objects.filter(route=other_route).count() == 0


def test_nulls_for_required_fields_are_400(api, fleet):
    user = fleet.users["principal"]
    for path, body in (
        (f"buses/{fleet.bus.pk}", {"seats": None}),
        (f"drivers/{fleet.driver.pk}", {"licence_class": None}),
        (f"routes/{fleet.route.pk}", {"name": None}),
        (f"stops/{fleet.stops[0].pk}", {"name": None}),
    ):
        r = api("patch", f"{BASE}/{path}", user, json=body)
        assert r.status_code == 400, path
    # Null clears a route's usual bus.
    r = api("patch", f"{BASE}/routes/{fleet.route.pk}", user, json={"bus_id": None})
    assert r.status_code == 200 and r.json()["bus"] is None
    assert "no_bus" in {p["code"] for p in r.json()["problems"]}


def test_stops_replace(api, fleet):
    user = fleet.users["principal"]
    route = make_route(fleet.school, "2号线")
    ids = list(route.stops.order_by("order").values_list("pk", flat=True))
    body = {
        "stops": [
            {"id": ids[2], "name": "幼儿园东门", "morning_time": "07:00"},
            {"id": ids[1], "name": "北街", "morning_time": "07:10"},
            {"name": "新村", "morning_time": "07:20", "afternoon_time": "16:30"},
        ]
    }
    r = api("put", f"{BASE}/routes/{route.pk}/stops", user, json=body)
    assert r.status_code == 200
    assert [s["name"] for s in r.json()["stops"]] == ["幼儿园东门", "北街", "新村"]
    body["stops"][2]["morning_time"] = "06:00"
    r = api("put", f"{BASE}/routes/{route.pk}/stops", user, json=body)
    assert r.status_code == 400 and set(r.json()["errors"]) == {"stops"}
    r = api(
        "put",
        f"{BASE}/routes/{route.pk}/stops",
        user,
        json={"stops": [{"name": "x", "morning_time": "25:00"}]},
    )
    assert r.status_code == 400


@pytest.mark.parametrize("body", [None, "", "[]", "{", '{"seats": null}', "null"])
def test_empty_or_broken_bodies_are_400(api, fleet, body):
    kwargs = {"data": body, "content_type": "application/json"} if body is not None else {}
    token = api.token_for(fleet.users["principal"])
    r = api.client.post(
        f"{BASE}/schools/{fleet.school.pk}/buses", HTTP_AUTHORIZATION=f"Bearer {token}", **kwargs
    )
    assert r.status_code == 400
    assert Bus.objects.count() == 2


def test_huge_ids_are_404(api, fleet):
    user = fleet.users["principal"]
    for path in ("buses", "drivers", "routes", "stops", "riders", "violations"):
        for value in (2**63, 10**30, 0, -1):
            r = api("get", f"{BASE}/{path}/{value}", user)
            assert r.status_code in (400, 404, 405), (path, value)
    for value in (2**63 - 1, 10**30):
        r = api("get", f"{BASE}/schools/{value}/buses", user)
        assert r.status_code in (400, 404)
    r = api("get", f"{BASE}/buses/{2**63 - 1}", user)
    assert r.status_code == 404
