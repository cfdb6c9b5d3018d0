# ruff: noqa: F811 - pytest fixtures imported from activity_fixtures are arguments here
"""The activities and drill-record API (ADR 0030): role × scope of every endpoint
(anonymous, wrong role, another school, own school, police station, town office, county);
bad input is 400 with fields and writes nothing; refused steps 409; huge ids and offsets,
dates out of range, wrong types and empty bodies never a 500."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.alarms.models import Alarm
from huxiao.drills.choices import ActivityKind, ActivityStatus
from huxiao.drills.models import Activity, ActivityAttachment, DrillProblem, DrillRecord
from huxiao.drills.tests.activity_fixtures import (
    ENROLMENT,
    JPEG,
    local,
    make_activity,
    school,  # noqa: F401 - fixture
    upload,
)
from huxiao.hazards.models import Hazard

pytestmark = pytest.mark.django_db
BASE = "/api/v1/drills"


@pytest.fixture
def drill(school):
    now = timezone.localtime()
    starts = now - dt.timedelta(minutes=20) if now.hour >= 1 else now
    return make_activity(school, starts_at=starts.replace(microsecond=0), whole_school=True)


def body(school_obj, **overrides) -> dict:
    data = {
        "school_id": school_obj.pk,
        "status": "held",
        "kind": "drill",
        "drill_kind": "fire",
        "starts_at": local(days=-1, hour=9).isoformat(),
        "whole_school": True,
        "headcount": 80,
    }
    data.update(overrides)
    return data


# ------------------------------------------------------------------ reads

READERS = [
    ("principal", 200, 1),
    ("teacher", 200, 1),
    ("guard", 200, 1),
    ("principal2", 404, 1),
    ("police", 200, 2),
    ("postofficer", 200, 1),
    ("farpolice", 404, 1),
    ("edu", 200, 2),
    ("county", 200, 3),
]


@pytest.mark.parametrize(("name", "detail", "count"), READERS)
def test_list_and_detail_scope(api, world, drill, name, detail, count):
    make_activity(world.other_school)
    make_activity(world.far_school)
    user = world.users[name]
    r = api("get", f"{BASE}/activities", user)
    assert r.status_code == 200 and r.json()["count"] == count
    assert api("get", f"{BASE}/activities/{drill.pk}", user).status_code == detail
    assert api("get", f"{BASE}/activities/{drill.pk}/drill", user).status_code == detail
    r = api("get", f"{BASE}/activities?school_id={world.school.pk}", user)
    assert r.status_code == detail


def test_anonymous_and_nobody(api, world, drill):
    assert api("get", f"{BASE}/activities").status_code == 401
    assert api("get", f"{BASE}/activities/{drill.pk}").status_code == 401
    assert api("post", f"{BASE}/activities", json=body(world.school)).status_code == 401
    assert api("get", f"{BASE}/activities", world.users["nobody"]).status_code == 403
    assert api("get", f"{BASE}/activities/{drill.pk}", world.users["nobody"]).status_code == 404
    assert Activity.objects.count() == 1


def test_list_filters_and_shape(api, world, school, drill):
    make_activity(
        school,
        kind=ActivityKind.LEGAL_LECTURE,
        status=ActivityStatus.PLANNED,
        starts_at=local(days=5),
        police_officer=world.users["officer"],
    )
    user = world.users["principal"]
    r = api("get", f"{BASE}/activities?kind=legal_lecture", user)
    [row] = r.json()["items"]
    assert row["status"] == "planned" and row["police_officer"]["id"] == world.users["officer"].pk
    assert row["drill"] is None and row["classes"] == []
    r = api("get", f"{BASE}/activities?status=held", user)
    assert [a["id"] for a in r.json()["items"]] == [drill.pk]
    day = drill.date.isoformat()
    r = api("get", f"{BASE}/activities?date_from={day}&date_to={day}", user)
    assert r.json()["count"] == 1


def test_officer_lists_what_to_confirm(api, world, school):
    held = make_activity(
        school,
        kind=ActivityKind.PARENT_MEETING,
        drill_kind="",
        police_officer=world.users["officer"],
        starts_at=local(days=-1),
    )
    officer = world.users["officer"]
    r = api("get", f"{BASE}/activities?police_officer_id={officer.pk}&unconfirmed=true", officer)
    assert [a["id"] for a in r.json()["items"]] == [held.pk]
    r = api("post", f"{BASE}/activities/{held.pk}/confirm-presence", officer)
    assert r.status_code == 200 and r.json()["police_confirmed_at"]
    r = api("post", f"{BASE}/activities/{held.pk}/confirm-presence", world.users["police"])
    assert r.status_code == 403


@pytest.mark.parametrize(
    "query",
    [
        f"offset={10**20}",
        f"limit={10**20}",
        "date_from=0001-01-01",
        "date_to=9999-12-31",
        "date_from=1979-12-31",
        "date_from=banana",
        f"school_id={10**30}",
        "school_id=0",
        f"police_officer_id={2**63}",
        "kind=" + "x" * 500,
    ],
)
def test_list_bad_queries_never_500(api, world, drill, query):
    r = api("get", f"{BASE}/activities?{query}", world.users["principal"])
    assert r.status_code in (200, 400, 404), r.content
    if query.startswith("offset"):
        assert r.json() == {"count": 1, "items": []}
    if query.startswith("date_"):
        assert r.status_code == 400 and r.json()["errors"]


@pytest.mark.parametrize("path", ["activities/{big}", "activities/{big}/drill", "problems/{big}"])
def test_huge_ids_are_400_or_404(api, world, path):
    for big in (10**30, 2**63, 0, -1):
        r = api("get", f"{BASE}/{path.format(big=big)}", world.users["principal"])
        assert r.status_code in (400, 404, 405)


# ------------------------------------------------------------------ writes


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("principal", 201),
        ("teacher", 201),
        ("guard", 403),
        ("principal2", 404),
        ("police", 400),  # police record legal lectures only: a field error on kind
        ("farpolice", 404),
        ("edu", 403),
        ("county", 403),
    ],
)
def test_create_scope(api, world, school, name, status):
    r = api("post", f"{BASE}/activities", world.users[name], json=body(school))
    assert r.status_code == status, r.content
    assert Activity.objects.count() == (1 if status == 201 else 0)
    if status == 201:
        data = r.json()
        assert data["status"] == "held" and data["date"] == local(days=-1).date().isoformat()
        assert data["kind_label"] and data["attachments"] == []


def test_police_create_their_lecture(api, world, school):
    r = api(
        "post",
        f"{BASE}/activities",
        world.users["officer"],
        json=body(school, kind="legal_lecture", drill_kind="", whole_school=True),
    )
    assert r.status_code == 201
    assert r.json()["police_officer"]["id"] == world.users["officer"].pk
    assert r.json()["police_confirmed_at"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"headcount": ENROLMENT + 1}, "headcount"),
        ({"headcount": 10**40}, "headcount"),
        ({"drill_kind": ""}, "drill_kind"),
        ({"starts_at": "0001-01-01T00:00:00"}, "starts_at"),
        ({"starts_at": "9999-12-31T23:59:59"}, "starts_at"),
        ({"starts_at": "yesterday"}, "starts_at"),
        ({"ends_at": local(days=-2).isoformat()}, "ends_at"),
        ({"classes": [10**30]}, "classes"),
        ({"whole_school": False, "classes": ["x"]}, "classes"),
        ({"police_officer": 2**63}, "police_officer"),
        ({"status": "held", "starts_at": local(days=3).isoformat()}, "starts_at"),
        ({"kind": 5}, "kind"),
        ({"whole_school": "perhaps"}, "whole_school"),
    ],
)
def test_create_bad_input_is_400(api, world, school, overrides, field):
    r = api("post", f"{BASE}/activities", world.users["principal"], json=body(school, **overrides))
    assert r.status_code == 400, r.content
    # Schema errors name the item ("classes.0"); the service's the field.
    assert field in {key.split(".")[0] for key in r.json()["errors"]}, r.json()
    assert not Activity.objects.exists()


def test_create_other_schools_class(api, world, school):
    r = api(
        "post",
        f"{BASE}/activities",
        world.users["principal"],
        json=body(school, whole_school=False, classes=[world.other_class.pk]),
    )
    assert r.status_code == 400 and "classes" in r.json()["errors"]


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b'{"school_id": "x"}', b"null"])
def test_empty_or_broken_bodies(api, world, school, raw):
    token = api.token_for(world.users["principal"])
    r = api.client.post(
        f"{BASE}/activities",
        data=raw,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert r.status_code == 400
    assert not Activity.objects.exists()


def test_update_cancel_and_refusals(api, world, school):
    planned = make_activity(school, status=ActivityStatus.PLANNED, starts_at=local(days=2))
    user = world.users["teacher"]
    data = body(school, status="planned", starts_at=local(days=3, hour=10).isoformat())
    data.pop("school_id")
    r = api("put", f"{BASE}/activities/{planned.pk}", user, json=data)
    assert r.status_code == 200 and r.json()["date"] == local(days=3).date().isoformat()
    r = api("put", f"{BASE}/activities/{planned.pk}", world.users["police"], json=data)
    assert r.status_code == 403
    r = api("put", f"{BASE}/activities/{planned.pk}", world.users["principal2"], json=data)
    assert r.status_code == 404
    r = api("post", f"{BASE}/activities/{planned.pk}/cancel", user, json={"reason": ""})
    assert r.status_code == 400 and "reason" in r.json()["errors"]
    r = api("post", f"{BASE}/activities/{planned.pk}/cancel", user, json={"reason": "暴雨"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    r = api("post", f"{BASE}/activities/{planned.pk}/cancel", user, json={"reason": "暴雨"})
    assert r.status_code == 409 and r.json()["detail"]
    r = api("put", f"{BASE}/activities/{planned.pk}", user, json=data)
    assert r.status_code == 409


def test_files_over_the_api(api, world, school, drill):
    user = world.users["principal"]
    token = api.token_for(user)
    r = api.client.post(
        f"{BASE}/activities/{drill.pk}/attachments",
        data={"files": [upload()]},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert r.status_code == 201, r.content
    [meta] = r.json()["attachments"]
    r = api("get", meta["url"], user)
    assert r.status_code == 200 and b"".join(r.streaming_content) == JPEG
    assert r["Cache-Control"] == "private, no-store"
    assert api("get", meta["url"], world.users["police"]).status_code == 200
    assert api("get", meta["url"], world.users["principal2"]).status_code == 404
    r = api(
        "delete", f"{BASE}/activities/{drill.pk}/attachments/{meta['id']}", world.users["police"]
    )
    assert r.status_code == 403
    r = api("delete", f"{BASE}/activities/{drill.pk}/attachments/{meta['id']}", user)
    assert r.status_code == 204 and not ActivityAttachment.objects.exists()
    r = api.client.post(
        f"{BASE}/activities/{drill.pk}/attachments",
        data={"files": [upload("a.txt", b"text", "text/plain")]},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert r.status_code == 400 and "attachments" in r.json()["errors"]


def test_police_officers_of_a_school(api, world, school):
    r = api("get", f"{BASE}/schools/{school.pk}/police-officers", world.users["teacher"])
    ids = {o["id"] for o in r.json()}
    assert ids == {world.users[n].pk for n in ("police", "officer", "postofficer")}
    r = api("get", f"{BASE}/schools/{school.pk}/police-officers", world.users["principal2"])
    assert r.status_code == 404


# ------------------------------------------------------------------ drill records


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("teacher", 200),
        ("principal", 200),
        ("guard", 403),
        ("police", 403),
        ("county", 403),
        ("principal2", 404),
        ("farpolice", 404),
    ],
)
def test_signal_scope(api, world, drill, name, status):
    r = api("post", f"{BASE}/activities/{drill.pk}/drill/signal", world.users[name], json={})
    assert r.status_code == status, r.content
    assert DrillRecord.objects.filter(signal_at__isnull=False).count() == (status == 200)


def test_timing_headcount_and_refusals(api, world, drill):
    user = world.users["teacher"]
    path = f"{BASE}/activities/{drill.pk}/drill"
    assert api("post", f"{path}/all-out", user).status_code == 409
    r = api("post", f"{path}/signal", user, json={})
    assert r.json()["signal_at"] and r.json()["expected_headcount"] == ENROLMENT
    r = api("post", f"{path}/all-out", user)
    assert r.status_code == 200 and r.json()["duration_seconds"] is not None
    r = api("patch", path, user, json={"counted_headcount": ENROLMENT + 1})
    assert r.status_code == 400 and "counted_headcount" in r.json()["errors"]
    r = api("patch", path, user, json={"counted_headcount": ENROLMENT})
    assert r.status_code == 200 and r.json()["counted_headcount"] == ENROLMENT
    signal = r.json()["signal_at"]
    r = api("patch", path, user, json={"all_out_at": "2000-01-01T00:00:00+08:00"})
    assert r.status_code == 400 and "all_out_at" in r.json()["errors"]
    r = api("patch", path, user, json={"signal_at": "9999-12-31T23:59:59"})
    assert r.status_code == 400
    assert api("get", path, user).json()["signal_at"] == signal
    assert api("patch", path, user, json={"expected_headcount": "lots"}).status_code == 400


def test_drill_of_a_non_drill_is_404(api, world, school):
    talk = make_activity(school, kind=ActivityKind.SAFETY_EDUCATION, drill_kind="")
    assert (
        api("get", f"{BASE}/activities/{talk.pk}/drill", world.users["teacher"]).status_code == 404
    )


def test_start_with_alarm_over_the_api(api, world, school):
    r = api(
        "post",
        f"{BASE}/schools/{school.pk}/drills",
        world.users["teacher"],
        json={"drill_kind": "fire", "with_alarm": True},
    )
    assert r.status_code == 201, r.content
    assert r.json()["drill"]["alarm_id"] == Alarm.objects.get(is_drill=True).pk
    r = api(
        "post",
        f"{BASE}/schools/{school.pk}/drills",
        world.users["police"],
        json={"drill_kind": "fire", "with_alarm": True},
    )
    assert r.status_code == 403
    assert Alarm.objects.count() == 1


def test_link_alarm_over_the_api(api, world, school, drill):
    from huxiao.drills.tests.activity_fixtures import drill_alarm

    alarm = drill_alarm(school, world.users["principal"])
    path = f"{BASE}/activities/{drill.pk}/drill"
    assert api("get", path, world.users["teacher"]).json()["linkable_alarms"][0]["id"] == alarm.pk
    r = api("post", f"{path}/link-alarm", world.users["teacher"], json={"alarm_id": 2**63 - 1})
    assert r.status_code == 400 and "alarm" in r.json()["errors"]
    r = api("post", f"{path}/link-alarm", world.users["teacher"], json={"alarm_id": alarm.pk})
    assert r.status_code == 200 and r.json()["alarm"]["id"] == alarm.pk


def test_problems_and_hazard_over_the_api(api, world, drill):
    user = world.users["teacher"]
    path = f"{BASE}/activities/{drill.pk}/drill/problems"
    assert api("post", path, user, json={"description": ""}).status_code == 400
    r = api("post", path, user, json={"description": "疏散通道照明不足"})
    assert r.status_code == 201
    problem_id = r.json()["id"]
    r = api("post", f"{BASE}/problems/{problem_id}/hazard", world.users["principal2"], json={})
    assert r.status_code == 404
    r = api("post", f"{BASE}/problems/{problem_id}/hazard", user, json={"level": "huge"})
    assert r.status_code == 400 and "level" in r.json()["errors"]
    r = api("post", f"{BASE}/problems/{problem_id}/hazard", user, json={})
    assert r.status_code == 201
    hazard = Hazard.objects.get(pk=r.json()["hazard_id"])
    assert DrillProblem.objects.get(pk=problem_id).hazard == hazard
    assert api("post", f"{BASE}/problems/{problem_id}/hazard", user, json={}).status_code == 409
    assert api("delete", f"{BASE}/problems/{problem_id}", user).status_code == 409


def _queries(api, user, path) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api("get", path, user)  # the token and the scope, once
    with CaptureQueriesContext(connection) as ctx:
        assert api("get", path, user).status_code == 200
    return len(ctx.captured_queries)


def _rows(world, school, n: int) -> None:
    for day in range(n):
        activity = make_activity(
            school, starts_at=local(days=-day - 1), police_officer=world.users["officer"]
        )
        activity.classes.set([world.school_class])
        DrillRecord.objects.create(activity=activity, signal_at=activity.starts_at)


def test_list_queries_do_not_grow_with_rows(api, world, school):
    from django.test import Client

    user = world.users["principal"]
    _rows(world, school, 2)
    few_api = _queries(api, user, f"{BASE}/activities")
    client = Client()  # its own cookies: the API calls stay token-only
    client.force_login(user)
    few_page = _queries(lambda m, p, u: client.get(p), user, "/drills/activities/")
    _rows(world, school, 40)
    assert _queries(api, user, f"{BASE}/activities") == few_api
    assert _queries(lambda m, p, u: client.get(p), user, "/drills/activities/") == few_page
