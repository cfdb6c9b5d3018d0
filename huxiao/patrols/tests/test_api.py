"""The patrols API: role × scope for every endpoint, refusals with their reasons, bad
input as field errors, denied writes change nothing.

The clock is Monday 16:40 local time (the kindergarten's afternoon post is under way)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from huxiao.patrols import services
from huxiao.patrols.models import (
    GatePost,
    GatePostStaff,
    PatrolLog,
    PoliceVisit,
    PostCheckIn,
    PostShift,
)
from huxiao.patrols.tests.conftest import MONDAY, at

pytestmark = pytest.mark.django_db

NOW = at(MONDAY, "16:40")
EVERYONE = (
    "anonymous",
    "nobody",
    "police",
    "officer",
    "postofficer",
    "farpolice",
    "principal",
    "guard",
    "teacher",
    "principal2",
    "edu",
    "gov",
    "county",
    "health",
)
# Who may see the kindergarten's posts and coverage (view_coverage on it).
VIEWERS = {"police", "officer", "postofficer", "principal", "guard", "edu", "gov", "county"}
# Who has view_coverage somewhere else only: the kindergarten's records are 404 for them.
ELSEWHERE = {"farpolice", "principal2"}


def expect(ok: int, *, viewers=VIEWERS, elsewhere=ELSEWHERE, other=403, elsewhere_status=404):
    table = {}
    for who in EVERYONE:
        if who == "anonymous":
            table[who] = 401
        elif who in viewers:
            table[who] = ok
        elif who in elsewhere:
            table[who] = elsewhere_status
        else:
            table[who] = other
    return table


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return NOW


@pytest.fixture
def data(posts, clock, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    w = posts
    w.check_in = services.post_check_in(
        actor=w.users["officer"], post=w.afternoon, now=at(MONDAY, "16:25")
    )
    w.shift = w.check_in.shift
    w.visit = services.police_visit_create(
        actor=w.users["officer"], school=w.school, arrived_at=at(MONDAY, "09:00"), now=NOW
    )
    w.log = services.patrol_log_create(
        actor=w.users["officer"],
        started_at=at(MONDAY, "07:00"),
        ended_at=at(MONDAY, "08:30"),
        mode="car",
        dress="uniform",
        route="幸福路—建设路",
        school_ids=[w.school.pk],
        now=NOW,
    )
    return w


def call(api, world, who, method, path, json=None, **extra):
    user = None if who == "anonymous" else world.users[who]
    return api(method, f"/api/v1{path}", user, json=json, **extra)


# ------------------------------------------------------------------ reads

READS = {
    "posts": (
        "/patrols/posts",
        expect(200, elsewhere={"farpolice", "principal2"}, elsewhere_status=200),
    ),
    "post": ("/patrols/posts/{afternoon}", expect(200)),
    "shifts": ("/patrols/shifts?date=2025-03-03", expect(200, elsewhere_status=200)),
    "shift": ("/patrols/shifts/{shift}", expect(200)),
    "checkins": ("/patrols/checkins", expect(200, elsewhere_status=200)),
    "coverage": (
        "/patrols/coverage?since=2025-03-03&until=2025-03-09",
        expect(200, elsewhere_status=200),
    ),
    "week": ("/patrols/coverage/week?week=2025-03-05", expect(200, elsewhere_status=200)),
    "visits": ("/patrols/visits", expect(200, elsewhere_status=200)),
    "visit_week": ("/patrols/visits/week", expect(200, elsewhere_status=200)),
    "visit": ("/patrols/visits/{visit}", expect(200)),
}
POLICE_HERE = {"police", "officer", "postofficer"}
LOG_READS = {
    "logs": ("/patrols/logs", expect(200, viewers=POLICE_HERE | {"farpolice"}, elsewhere=set())),
    "log": ("/patrols/logs/{log}", expect(200, viewers=POLICE_HERE, elsewhere={"farpolice"})),
}


def _path(template, w):
    return template.format(
        afternoon=w.afternoon.pk, shift=w.shift.pk, visit=w.visit.pk, log=w.log.pk
    )


@pytest.mark.parametrize("who", EVERYONE)
@pytest.mark.parametrize("name", [*READS, *LOG_READS])
def test_read_matrix(api, data, name, who):
    template, table = {**READS, **LOG_READS}[name]
    response = call(api, data, who, "get", _path(template, data))
    assert response.status_code == table[who], (name, who, response.content)


@pytest.mark.parametrize("who", sorted(VIEWERS | ELSEWHERE))
def test_lists_hold_only_the_scope(api, data, who):
    posts = call(api, data, who, "get", "/patrols/posts").json()["items"]
    school_ids = {p["school_id"] for p in posts}
    visible = {
        "principal": {data.school.pk},
        "guard": {data.school.pk},
        "postofficer": {data.school.pk},  # the campus post covers the kindergarten only
        "principal2": {data.other_school.pk},
        "farpolice": {data.far_school.pk},
    }.get(who, {data.school.pk, data.other_school.pk})
    if who == "county":
        visible = {data.school.pk, data.other_school.pk, data.far_school.pk}
    assert school_ids == visible
    check_ins = call(api, data, who, "get", "/patrols/checkins").json()
    assert check_ins["count"] == (1 if data.school.pk in visible else 0)
    coverage = call(api, data, who, "get", "/patrols/coverage").json()
    assert {r["key"] for r in coverage["groups"]["school"]} <= visible
    week = call(api, data, who, "get", "/patrols/visits/week").json()
    assert {r["school_id"] for r in week["rows"]} == visible


def test_post_payload(api, data):
    body = call(api, data, "principal", "get", f"/patrols/posts/{data.afternoon.pk}").json()
    assert body["period"] == "afternoon" and body["location"] == "正门"
    assert body["windows"][0] == {"weekday": 0, "starts": "16:30", "ends": "17:10"}
    assert body["staff"][0]["kind"] == "police" and body["staff"][0]["name"] == "officer"


def test_shift_detail_has_the_check_ins(api, data):
    body = call(api, data, "police", "get", f"/patrols/shifts/{data.shift.pk}").json()
    assert body["police_present"] and not body["police_car"]
    assert [c["person_name"] for c in body["check_ins"]] == ["officer"]


def test_coverage_payload(api, data):
    body = call(api, data, "police", "get", "/patrols/coverage?since=2025-03-03").json()
    assert body["since"] == "2025-03-03" and body["until"] == "2025-03-03"
    assert set(body["groups"]) == {"school", "station", "week", "period"}
    # Morning (missed), kindergarten afternoon (police), other school's afternoon (running).
    assert body["total"]["shifts"] == 3 and body["total"]["police"] == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=2025-02-30", "since"),
        ("since=2025-03-09&until=2025-03-01", "until"),
        ("since=1999-12-31", "since"),
        ("since=2024-01-01&until=2025-03-01", "until"),  # more than 400 days
    ],
)
def test_coverage_bad_dates_are_400(api, data, query, field):
    response = call(api, data, "police", "get", f"/patrols/coverage?{query}")
    assert response.status_code == 400
    assert field in response.json()["errors"]


@pytest.mark.parametrize(
    "path",
    [
        "/patrols/shifts?date=nope",
        "/patrols/checkins?date=2025-13-01",
        "/patrols/coverage/week?week=x",
        "/patrols/visits?week=2025-02-30",
        "/patrols/visits/week?week=0001-01-01",
        f"/patrols/posts/{2**63}",
    ],
)
def test_bad_query_is_400_not_500(api, data, path):
    assert call(api, data, "police", "get", path).status_code == 400


# ------------------------------------------------------------------ writes

PLANNERS = {"police", "principal"}


def post_body(w, **extra):
    return {
        "school_id": w.school.pk,
        "period": "noon",
        "location": "正门",
        "windows": [{"weekday": 0, "starts": "11:40", "ends": "12:20"}],
        **extra,
    }


@pytest.mark.parametrize("who", EVERYONE)
def test_post_create_matrix(api, data, who):
    before = GatePost.objects.count()
    response = call(api, data, who, "post", "/patrols/posts", json=post_body(data))
    expected = expect(
        201, viewers=PLANNERS, elsewhere={"farpolice", "principal2"}, elsewhere_status=400
    )[who]
    assert response.status_code == expected, response.content
    assert GatePost.objects.count() == before + (1 if expected == 201 else 0)


def test_post_create_bad_input(api, data):
    response = call(
        api,
        data,
        "principal",
        "post",
        "/patrols/posts",
        json=post_body(
            data, period="evening", windows=[{"weekday": 0, "starts": "12", "ends": "x"}]
        ),
    )
    assert response.status_code == 400
    assert {"period", "windows"} <= set(response.json()["errors"])
    response = call(api, data, "principal", "post", "/patrols/posts", json={"school_id": 0})
    assert response.status_code == 400
    response = call(api, data, "principal", "post", "/patrols/posts", json=post_body(data, extra=1))
    assert response.status_code == 400


WRITE_ON_POST = expect(200, viewers=PLANNERS)


@pytest.mark.parametrize("who", EVERYONE)
def test_post_update_matrix(api, data, who):
    body = {
        "location": "东门",
        "windows": [{"weekday": 1, "starts": "16:30", "ends": "17:00"}],
    }
    response = call(api, data, who, "put", f"/patrols/posts/{data.afternoon.pk}", json=body)
    assert response.status_code == WRITE_ON_POST[who], response.content
    location = GatePost.objects.get(pk=data.afternoon.pk).location
    assert location == ("东门" if response.status_code == 200 else "正门")


@pytest.mark.parametrize("who", EVERYONE)
def test_staff_add_and_remove_matrix(api, data, who):
    body = {"kind": "community_volunteer", "name": "社区志愿者赵六", "weekdays": [0, 2]}
    path = f"/patrols/posts/{data.afternoon.pk}/staff"
    response = call(api, data, who, "post", path, json=body)
    expected = {**WRITE_ON_POST, **({who: 201} if WRITE_ON_POST[who] == 200 else {})}[who]
    assert response.status_code == expected, response.content
    assert GatePostStaff.objects.filter(name="社区志愿者赵六").exists() == (expected == 201)
    officer_row = data.afternoon.staff.get(user=data.users["officer"])
    response = call(api, data, who, "delete", f"{path}/{officer_row.pk}")
    deleted = {**WRITE_ON_POST, **({who: 204} if WRITE_ON_POST[who] == 200 else {})}[who]
    assert response.status_code == deleted
    officer_row.refresh_from_db()
    assert officer_row.is_active == (deleted != 204)


def test_staff_add_with_a_user_of_another_station_is_400(api, data):
    body = {"kind": "police", "user_id": data.users["farpolice"].pk}
    path = f"/patrols/posts/{data.afternoon.pk}/staff"
    response = call(api, data, "police", "post", path, json=body)
    assert response.status_code == 400 and "user_id" in response.json()["errors"]
    body["user_id"] = 2**62
    assert call(api, data, "police", "post", path, json=body).status_code == 400


@pytest.mark.parametrize("who", EVERYONE)
def test_shift_cancel_matrix(api, data, who):
    response = call(
        api, data, who, "post", f"/patrols/shifts/{data.shift.pk}/cancel", json={"reason": "放假"}
    )
    assert response.status_code == WRITE_ON_POST[who]
    cancelled = PostShift.objects.get(pk=data.shift.pk).cancelled_at is not None
    assert cancelled == (response.status_code == 200)


STAFFERS = {"police", "officer", "postofficer", "principal", "guard"}


@pytest.mark.parametrize("who", EVERYONE)
def test_check_in_matrix(api, data, who):
    """At the other school's afternoon post (nobody checked in yet): the station's police
    and the school's own gate staff may; the kindergarten's staff and another station's
    police find no such post; offices have no right to check in."""
    body = {"post_id": data.other_afternoon.pk}
    response = call(api, data, who, "post", "/patrols/checkins", json=body)
    table = expect(
        201,
        viewers={"police", "officer", "principal2"},
        elsewhere={"farpolice", "principal", "guard", "postofficer"},
    )
    assert response.status_code == table[who], (who, response.content)
    created = PostCheckIn.objects.filter(shift__post=data.other_afternoon).count()
    assert created == (1 if table[who] == 201 else 0)


def test_check_in_payload_and_three(api, data):
    body = {
        "post_id": data.afternoon.pk,
        "vehicle_present": True,
        "lights_on": True,
        "latitude": 39.1,
        "longitude": 116.2,
        "accuracy_m": 15,
    }
    response = call(api, data, "postofficer", "post", "/patrols/checkins", json=body)
    assert response.status_code == 201, response.content
    out = response.json()
    assert out["kind"] == "police" and out["vehicle_present"] and out["latitude"] == 39.1
    assert PostShift.objects.get(pk=data.shift.pk).police_lights


def test_refusals_are_409_with_reason_and_code(api, data, monkeypatch):
    response = call(
        api, data, "officer", "post", "/patrols/checkins", json={"post_id": data.afternoon.pk}
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "duplicate" and "16:25" in body["detail"]
    response = call(
        api, data, "guard", "post", "/patrols/checkins", json={"post_id": data.morning.pk}
    )
    assert response.status_code == 409 and response.json()["code"] == "too_late"
    assert "08:00" in response.json()["detail"]


def test_refusal_reason_is_in_chinese_by_default(api, data):
    response = call(
        api, data, "guard", "post", "/patrols/checkins", json={"post_id": data.morning.pk}
    )
    assert response.headers["Content-Language"] == settings.LANGUAGE_CODE


def test_check_in_bad_input(api, data):
    body = {"post_id": data.afternoon.pk, "latitude": 200, "longitude": 0}
    response = call(api, data, "postofficer", "post", "/patrols/checkins", json=body)
    assert response.status_code == 400 and "latitude" in response.json()["errors"]
    body = {"post_id": data.afternoon.pk, "lights_on": True}
    response = call(api, data, "postofficer", "post", "/patrols/checkins", json=body)
    assert response.status_code == 400 and "lights_on" in response.json()["errors"]
    body = {"post_id": data.afternoon.pk, "staff_id": 2**62}
    response = call(api, data, "postofficer", "post", "/patrols/checkins", json=body)
    assert response.status_code == 400
    body = {"post_id": 2**62}
    response = call(api, data, "postofficer", "post", "/patrols/checkins", json=body)
    assert response.status_code == 404
    assert not PostCheckIn.objects.filter(user=data.users["postofficer"]).exists()


OWN = expect(
    200,
    viewers={"officer"},
    elsewhere={"farpolice", "principal2"},
)


@pytest.mark.parametrize("who", EVERYONE)
def test_check_out_matrix(api, data, who):
    path = f"/patrols/checkins/{data.check_in.pk}/checkout"
    response = call(api, data, who, "post", path)
    assert response.status_code == OWN[who], (who, response.content)
    out = PostCheckIn.objects.get(pk=data.check_in.pk).checked_out_at
    assert (out is not None) == (OWN[who] == 200)


@pytest.mark.parametrize("who", EVERYONE)
def test_check_in_update_matrix(api, data, who):
    path = f"/patrols/checkins/{data.check_in.pk}"
    response = call(
        api, data, who, "patch", path, json={"vehicle_present": True, "lights_on": False}
    )
    assert response.status_code == OWN[who]
    assert PostShift.objects.get(pk=data.shift.pk).police_car == (OWN[who] == 200)


@pytest.mark.parametrize("who", ["officer", "police", "farpolice", "teacher"])
def test_check_in_photo_matrix(api, data, who):
    user = data.users[who]
    photo = SimpleUploadedFile("p.jpg", b"\xff\xd8\xff\xe0" + b"1" * 64, content_type="image/jpeg")
    response = api.client.post(
        f"/api/v1/patrols/checkins/{data.check_in.pk}/photo",
        {"photo": photo},
        HTTP_AUTHORIZATION=f"Bearer {api.token_for(user)}",
    )
    assert response.status_code == OWN[who], response.content
    assert bool(PostCheckIn.objects.get(pk=data.check_in.pk).photo) == (OWN[who] == 200)


def test_check_in_photo_must_be_an_image(api, data):
    photo = SimpleUploadedFile("p.jpg", b"%PDF-1.4", content_type="image/jpeg")
    response = api.client.post(
        f"/api/v1/patrols/checkins/{data.check_in.pk}/photo",
        {"photo": photo},
        HTTP_AUTHORIZATION=f"Bearer {api.token_for(data.users['officer'])}",
    )
    assert response.status_code == 400 and "photo" in response.json()["errors"]


@pytest.mark.parametrize("who", EVERYONE)
def test_patrol_log_create_matrix(api, data, who):
    body = {
        "started_at": "2025-03-03T15:00:00+08:00",
        "ended_at": "2025-03-03T16:00:00+08:00",
        "mode": "foot",
        "dress": "plain_clothes",
        "route": "幸福路",
        "school_ids": [data.school.pk],
        "suspicious_checked": 1,
        "suspicious_notes": "盘查一名徘徊男子，系接孩子家长",
    }
    response = call(api, data, who, "post", "/patrols/logs", json=body)
    table = expect(201, viewers=POLICE_HERE, elsewhere={"farpolice"}, elsewhere_status=400)
    assert response.status_code == table[who], response.content
    assert PatrolLog.objects.count() == (2 if table[who] == 201 else 1)


def test_patrol_log_bad_input(api, data):
    body = {
        "started_at": "2025-03-03T18:00:00+08:00",
        "ended_at": "2025-03-03T17:00:00+08:00",
        "mode": "bike",
        "dress": "uniform",
        "route": "",
        "school_ids": [],
        "suspicious_checked": 2,
    }
    response = call(api, data, "officer", "post", "/patrols/logs", json=body)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "school_ids" in errors


def test_patrol_log_field_errors(api, data):
    body = {
        "started_at": "2025-03-03T18:00:00+08:00",
        "ended_at": "2025-03-03T17:00:00+08:00",
        "mode": "bike",
        "dress": "uniform",
        "route": "",
        "school_ids": [data.school.pk],
        "suspicious_checked": 2,
    }
    errors = call(api, data, "officer", "post", "/patrols/logs", json=body).json()["errors"]
    assert {"mode", "route", "suspicious_notes", "started_at"} <= set(errors)


@pytest.mark.parametrize("who", EVERYONE)
def test_visit_create_matrix(api, data, who):
    body = {
        "school_id": data.school.pk,
        "arrived_at": "2025-03-03T14:00:00+08:00",
        "left_at": "2025-03-03T14:40:00+08:00",
        "guidance_given": "指导门卫规范登记外来人员",
    }
    response = call(api, data, who, "post", "/patrols/visits", json=body)
    table = expect(201, viewers=POLICE_HERE, elsewhere={"farpolice"}, elsewhere_status=400)
    assert response.status_code == table[who], response.content
    assert PoliceVisit.objects.count() == (2 if table[who] == 201 else 1)


def test_visit_bad_input(api, data):
    body = {
        "school_id": data.school.pk,
        "arrived_at": "2025-03-04T14:00:00+08:00",  # tomorrow
        "left_at": "2025-03-03T14:40:00+08:00",
    }
    errors = call(api, data, "postofficer", "post", "/patrols/visits", json=body).json()["errors"]
    assert "arrived_at" in errors
    body = {"school_id": data.school.pk, "left_at": "2025-03-03T16:39:00+08:00"}
    errors = call(api, data, "postofficer", "post", "/patrols/visits", json=body).json()["errors"]
    assert "information_collected" in errors  # a finished visit says what was done
    # The officer's visit of the morning is still open.
    body = {"school_id": data.school.pk}
    errors = call(api, data, "officer", "post", "/patrols/visits", json=body).json()["errors"]
    assert "school_id" in errors


@pytest.mark.parametrize("who", EVERYONE)
def test_visit_complete_matrix(api, data, who):
    body = {"information_collected": "了解到校门口有摆摊人员", "problems_found": "门前无减速带"}
    response = call(api, data, who, "post", f"/patrols/visits/{data.visit.pk}/complete", json=body)
    table = expect(
        200,
        viewers={"officer"},
        elsewhere={"farpolice"},
    )
    assert response.status_code == table[who], (who, response.content)
    left = PoliceVisit.objects.get(pk=data.visit.pk).left_at
    assert (left is not None) == (table[who] == 200)


def test_visit_week_counts(api, data):
    services.police_visit_complete(
        actor=data.users["officer"], visit=data.visit, information_collected="x", now=NOW
    )
    body = call(api, data, "police", "get", "/patrols/visits/week?week=2025-03-05").json()
    assert body["week_start"] == "2025-03-03"
    rows = {r["school_id"]: r for r in body["rows"]}
    assert rows[data.school.pk]["visits"] == 1 and not rows[data.school.pk]["met"]
    assert rows[data.other_school.pk]["visits"] == 0


def test_api_does_not_leak_between_days(api, data):
    body = call(api, data, "police", "get", "/patrols/shifts?date=2025-03-04").json()
    assert all(s["date"] == "2025-03-04" for s in body["items"])
    assert dt.date(2025, 3, 4).weekday() == 1
