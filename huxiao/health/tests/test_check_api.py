"""The check API (issue 9 items 2–3): role × scope of every endpoint, a check posted with its
exceptions only, a second post editing it, attendance, absences listed and filtered, an
unknown cause established, and bad input answered 400 by field with nothing written."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.health.models import Absence, AttendanceDay, ChildCheck, HealthCheck
from huxiao.health.tests.check_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db
CHECKS = "/api/v1/health/checks"
ATTENDANCE = "/api/v1/health/attendance"
ABSENCES = "/api/v1/health/absences"


def post_check(api, klass, who="teacher", **body):
    payload = {"class_id": klass.school_class.pk, "session": "morning", **body}
    return api("post", CHECKS, klass.world.users[who], json=payload)


def post_attendance(api, klass, who="teacher", **body):
    payload = {"class_id": klass.school_class.pk, **body}
    return api("post", ATTENDANCE, klass.world.users[who], json=payload)


def test_post_a_check_with_the_exceptions_only(api, klass):
    sick = klass.children[0]
    r = post_check(
        api,
        klass,
        checkpoint="大门",
        results=[
            {
                "child_id": sick.pk,
                "temperature": 38.1,
                "symptoms": ["cough"],
                "action": "observation",
            }
        ],
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["expected"], body["checked"], body["unwell"]) == (4, 4, 1)
    assert body["date"] == timezone.localdate().isoformat() and body["checkpoint"] == "大门"
    [result] = body["unwell_results"]
    assert result["child_name"] == "王小明" and result["symptoms"] == ["fever", "cough"]
    assert result["temperature"] == 38.1
    r = post_check(api, klass, checkpoint="大门", results=[])
    assert r.status_code == 201 and r.json()["id"] == body["id"] and r.json()["unwell"] == 0
    assert HealthCheck.objects.count() == 1 and ChildCheck.objects.count() == 4


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"results": [{"child_id": 0, "temperature": 45}]}, "results.0.child_id"),
        ({"session": "midnight"}, "session"),
        ({"class_id": 0}, "class_id"),
        ({"date": "2999-01-01"}, "date"),
        ({"results": [{"child_id": "abc"}]}, "results.0.child_id"),
    ],
)
def test_bad_check_input_is_400_by_field(api, klass, body, field):
    r = post_check(api, klass, **body)
    assert r.status_code == 400, r.content
    assert field in r.json()["errors"], r.json()
    assert not HealthCheck.objects.exists()


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"])
def test_a_tick_time_at_the_ends_of_the_calendar_is_400(api, klass, moment):
    child = klass.children[0]
    r = post_check(api, klass, results=[{"child_id": child.pk, "checked_at": moment}])
    assert r.status_code == 400, r.content
    assert f"results.{child.pk}.checked_at" in r.json()["errors"]
    assert not HealthCheck.objects.exists()


def test_temperature_error_names_the_child(api, klass):
    child = klass.children[2]
    r = post_check(api, klass, results=[{"child_id": child.pk, "temperature": "33"}])
    assert r.status_code == 400
    assert child.name in r.json()["errors"][f"results.{child.pk}.temperature"][0]
    r = post_check(api, klass, results=[{"child_id": klass.world.other_child.pk}])
    assert r.status_code == 400
    assert f"results.{klass.world.other_child.pk}.child_id" in r.json()["errors"]
    assert not HealthCheck.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("teacher", 201),
        ("nurse", 201),
        ("health", 403),
        ("countyhealth", 403),
        ("police", 403),
        ("officer", 403),
        ("principal2", 404),
        ("nobody", 403),
    ],
)
def test_who_posts_a_check(api, klass, who, status):
    assert post_check(api, klass, who=who).status_code == status


def test_anonymous_is_401(api, klass):
    assert api("post", CHECKS, None, json={}).status_code == 401
    assert api("get", CHECKS).status_code == 401
    assert api("get", ABSENCES).status_code == 401
    assert api("post", ATTENDANCE, None, json={}).status_code == 401


@pytest.mark.parametrize(
    ("who", "status", "count"),
    [
        ("principal", 200, 1),
        ("teacher", 200, 1),
        ("health", 200, 1),
        ("countyhealth", 200, 1),
        ("principal2", 404, 0),
        ("police", 403, 0),
        ("nobody", 403, 0),
    ],
)
def test_get_checks_scope(api, klass, who, status, count):
    post_check(api, klass, results=[{"child_id": klass.children[0].pk, "symptoms": ["rash"]}])
    r = api("get", f"{CHECKS}?class_id={klass.school_class.pk}", klass.world.users[who])
    assert r.status_code == status
    if status == 200:
        body = r.json()
        assert body["count"] == count and len(body["items"][0]["unwell_results"]) == 1


def test_get_checks_lists_only_the_schools_in_scope(api, klass):
    post_check(api, klass)
    r = api("get", CHECKS, klass.world.users["principal2"])
    assert r.status_code == 200 and r.json()["count"] == 0
    day = timezone.localdate()
    r = api(
        "get",
        f"{CHECKS}?date={(day - dt.timedelta(days=1)).isoformat()}",
        klass.world.users["principal"],
    )
    assert r.json()["count"] == 0
    r = api(
        "get",
        f"{CHECKS}?school_id={klass.world.school.pk}&session=morning",
        klass.world.users["health"],
    )
    assert r.json()["count"] == 1
    assert (
        api("get", f"{CHECKS}?date=0001-01-01", klass.world.users["principal"]).status_code == 400
    )


def test_attendance_and_absences(api, klass):
    ill, away, unknown = klass.children[:3]
    r = post_attendance(
        api,
        klass,
        absences=[
            {"child_id": ill.pk, "cause": "illness", "symptoms": ["fever"], "diagnosis": "流感?"},
            {"child_id": away.pk, "cause": "personal"},
            {"child_id": unknown.pk, "cause": "unknown"},
        ],
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["enrolled"], body["absent"]) == (4, 3) and len(body["absences"]) == 3
    assert AttendanceDay.objects.count() == 1
    user = klass.world.users["health"]
    r = api("get", f"{ABSENCES}?school_id={klass.world.school.pk}&cause=unknown", user)
    assert r.status_code == 200 and [a["child_id"] for a in r.json()["items"]] == [unknown.pk]
    r = api("get", f"{ABSENCES}?cause=illness", user)
    assert r.json()["items"][0]["follow_up_id"] is not None
    absence = Absence.objects.get(child=unknown)
    url = f"{ABSENCES}/{absence.pk}/cause"
    r = api("post", url, klass.world.users["teacher"], json={"cause": "personal", "note": "走亲戚"})
    assert r.status_code == 200 and r.json()["chased_by"] and r.json()["cause"] == "personal"
    r = api("post", url, klass.world.users["teacher"], json={"cause": "personal"})
    assert r.status_code == 400 and "cause" in r.json()["errors"]
    assert (
        api("post", url, klass.world.users["principal2"], json={"cause": "personal"}).status_code
        == 404
    )
    assert (
        api("post", url, klass.world.users["police"], json={"cause": "personal"}).status_code == 403
    )


def test_bad_attendance_is_400_and_writes_nothing(api, klass):
    child = klass.children[0]
    r = post_attendance(api, klass, absences=[{"child_id": child.pk, "cause": "illness"}])
    assert r.status_code == 400 and f"absences.{child.pk}.symptoms" in r.json()["errors"]
    r = post_attendance(api, klass, absences=[{"child_id": child.pk}])
    assert r.status_code == 400
    assert not AttendanceDay.objects.exists() and not Absence.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("principal", 200),
        ("health", 200),
        ("countyhealth", 200),
        ("principal2", 404),
        ("police", 403),
    ],
)
def test_absences_scope(api, klass, who, status):
    post_attendance(api, klass, absences=[{"child_id": klass.children[0].pk, "cause": "unknown"}])
    r = api("get", f"{ABSENCES}?school_id={klass.world.school.pk}", klass.world.users[who])
    assert r.status_code == status
    if status == 200:
        assert r.json()["count"] == 1
