"""The response API (ADR 0032 "Response"): role × scope for every endpoint, a class of
another school refused through the API too, bad input 400 by field with nothing written,
refusals 409, the shapes of the answers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.health import response_services as services
from huxiao.health.choices import Step
from huxiao.health.models import (
    AftercareTask,
    CaseStep,
    ClassSuspension,
    Disinfection,
    MonitoringPlan,
    OfficialStatement,
)
from huxiao.health.tests.response_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

BASE = "/api/v1/health"
NO_HEALTH = ("police", "officer", "postofficer", "farpolice", "nobody")


def _done_at(delta=dt.timedelta(minutes=-15)) -> str:
    return (timezone.localtime() + delta).isoformat()


def _today() -> dt.date:
    return timezone.localdate()


def _disinfection(w, **extra) -> dict:
    body = {
        "school_id": w.school.pk,
        "area": "canteen",
        "method": "紫外线灯照射30分钟",
        "done_by_name": "郭秀兰",
        "done_at": _done_at(),
    }
    body.update(extra)
    return body


def _suspension(w, **extra) -> dict:
    body = {
        "school_id": w.school.pk,
        "scope": "class",
        "school_class_id": w.school_class.pk,
        "starts_on": _today().isoformat(),
        "ends_on": (_today() + dt.timedelta(days=6)).isoformat(),
        "reason": "疑似流感",
        "health_centre_opinion": "建议停课",
        "education_office_opinion": "同意",
    }
    body.update(extra)
    return body


# ------------------------------------------------------------------ disinfection


@pytest.mark.parametrize(
    ("who", "get", "post"),
    [
        ("principal", 200, 201),
        ("teacher", 200, 201),
        ("nurse", 200, 201),
        ("health", 200, 403),
        ("countyhealth", 200, 403),
        ("principal2", 404, 404),
        ("guard", 403, 403),
        ("edu", 403, 403),
        *[(who, 403, 403) for who in NO_HEALTH],
    ],
)
def test_disinfection_scope(api, hworld, who, get, post):
    w = hworld
    r = api("get", f"{BASE}/disinfections?school_id={w.school.pk}", w.users[who])
    assert r.status_code == get
    r = api("post", f"{BASE}/disinfections", w.users[who], json=_disinfection(w))
    assert r.status_code == post
    assert Disinfection.objects.count() == (1 if post == 201 else 0)


def test_anonymous_gets_401(api, hworld, case):
    for method, path in (
        ("get", "/disinfections"),
        ("post", "/disinfections"),
        ("get", "/suspensions"),
        ("post", "/suspensions"),
        ("get", "/statements"),
        ("get", "/aftercare"),
        ("get", "/monitoring-plans"),
        ("get", f"/cases/{case.pk}/response"),
    ):
        r = api(method, BASE + path, json={} if method == "post" else None)
        assert r.status_code == 401, path


def test_disinfection_list_filters(api, hworld, case):
    w = hworld
    nurse = w.users["nurse"]
    assert api("post", f"{BASE}/disinfections", nurse, json=_disinfection(w)).status_code == 201
    r = api(
        "post",
        f"{BASE}/disinfections",
        nurse,
        json=_disinfection(w, case_id=case.pk, area="classroom"),
    )
    assert r.status_code == 201 and r.json()["kind"] == "emergency"
    assert CaseStep.objects.filter(case=case, step=Step.CLASSROOM_DISINFECTED).exists()
    r = api("get", f"{BASE}/disinfections?kind=emergency", nurse)
    assert [i["case_id"] for i in r.json()["items"]] == [case.pk]
    month = _today().strftime("%Y-%m")
    r = api("get", f"{BASE}/disinfections?month={month}&school_id={w.school.pk}", w.users["health"])
    assert r.json()["count"] == 2
    r = api("get", f"{BASE}/disinfections?month=2026-13", nurse)
    assert r.status_code == 400 and "month" in r.json()["errors"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"done_at": "tomorrow"}, "done_at"),
        ({"area": "roof"}, "area"),
        ({"method": ""}, "method"),
        ({"school_id": 0}, "school_id"),
        ({"case_id": 2**64}, "case_id"),
    ],
)
def test_disinfection_bad_input(api, hworld, changes, field):
    r = api(
        "post",
        f"{BASE}/disinfections",
        hworld.users["nurse"],
        json=_disinfection(hworld, **changes),
    )
    assert r.status_code == 400
    assert field in r.json()["errors"]
    assert not Disinfection.objects.exists()


def test_disinfection_in_the_future_and_other_schools_case(api, hworld, other_case):
    w = hworld
    body = _disinfection(w, done_at=_done_at(dt.timedelta(hours=2)))
    r = api("post", f"{BASE}/disinfections", w.users["nurse"], json=body)
    assert r.status_code == 400 and set(r.json()["errors"]) == {"done_at"}
    r = api(
        "post",
        f"{BASE}/disinfections",
        w.users["health"],
        json=_disinfection(w, case_id=other_case.pk),
    )
    assert r.status_code == 400 and set(r.json()["errors"]) == {"case"}
    assert not Disinfection.objects.exists()


# ------------------------------------------------------------------ suspensions


@pytest.mark.parametrize(
    ("who", "get", "post"),
    [
        ("principal", 200, 201),
        ("teacher", 200, 403),
        ("guard", 200, 403),
        ("nurse", 200, 403),
        ("health", 200, 403),
        ("countyhealth", 200, 403),
        ("edu", 200, 403),
        ("liaison", 200, 403),
        ("principal2", 404, 404),
        *[(who, 403, 403) for who in NO_HEALTH],
    ],
)
def test_suspension_scope(api, hworld, who, get, post):
    w = hworld
    r = api("get", f"{BASE}/suspensions?school_id={w.school.pk}", w.users[who])
    assert r.status_code == get
    r = api("post", f"{BASE}/suspensions", w.users[who], json=_suspension(w))
    assert r.status_code == post
    assert ClassSuspension.objects.count() == (1 if post == 201 else 0)


def test_suspending_a_class_of_another_school_through_the_api(api, hworld):
    w = hworld
    body = _suspension(w, school_class_id=w.other_class.pk)
    r = api("post", f"{BASE}/suspensions", w.users["principal"], json=body)
    assert r.status_code == 400 and set(r.json()["errors"]) == {"school_class"}
    assert not ClassSuspension.objects.exists()


def test_suspension_lifecycle(api, hworld, case):
    w = hworld
    principal = w.users["principal"]
    r = api("post", f"{BASE}/suspensions", principal, json=_suspension(w, case_id=case.pk))
    assert r.status_code == 201
    body = r.json()
    assert body["in_force"] is True and body["school_class_name"] == "小一班"
    assert body["case_id"] == case.pk and body["decided_by"]
    sid = body["id"]
    r = api("get", f"{BASE}/suspensions?state=current", w.users["liaison"])
    assert [i["id"] for i in r.json()["items"]] == [sid]
    r = api("get", f"{BASE}/suspensions?state=past", w.users["liaison"])
    assert r.json()["count"] == 0
    r = api("post", f"{BASE}/suspensions", principal, json=_suspension(w))
    assert r.status_code == 400  # already suspended
    r = api(
        "post",
        f"{BASE}/suspensions/{sid}/resume",
        w.users["nurse"],
        json={"resumed_on": _today().isoformat()},
    )
    assert r.status_code == 403
    r = api(
        "post",
        f"{BASE}/suspensions/{sid}/resume",
        w.users["principal2"],
        json={"resumed_on": _today().isoformat()},
    )
    assert r.status_code == 404
    r = api(
        "post", f"{BASE}/suspensions/{sid}/resume", principal, json={"resumed_on": "2020-01-01"}
    )
    assert r.status_code == 400 and "resumed_on" in r.json()["errors"]
    day = (_today() + dt.timedelta(days=3)).isoformat()
    r = api(
        "post",
        f"{BASE}/suspensions/{sid}/resume",
        principal,
        json={"resumed_on": day, "note": "好转"},
    )
    assert r.status_code == 200 and r.json()["resumed_on"] == day
    r = api("post", f"{BASE}/suspensions/{sid}/resume", principal, json={"resumed_on": day})
    assert r.status_code == 409 and r.json()["detail"]


def test_no_suspension_endpoint(api, hworld, case, other_case):
    w = hworld
    url = f"{BASE}/cases/{case.pk}/no-suspension"
    assert api("post", url, w.users["police"], json={"note": "x"}).status_code == 403
    assert api("post", url, w.users["nurse"], json={"note": "x"}).status_code == 403
    other = f"{BASE}/cases/{other_case.pk}/no-suspension"
    assert api("post", other, w.users["principal"], json={"note": "x"}).status_code == 404
    r = api("post", url, w.users["principal"], json={"note": ""})
    assert r.status_code == 400 and "note" in r.json()["errors"]
    r = api("post", url, w.users["principal"], json={"note": "无需停课"})
    assert r.status_code == 200 and r.json()["step"] == "assessed"
    assert api("post", url, w.users["principal"], json={"note": "again"}).status_code == 409


# ------------------------------------------------------------------ statements


@pytest.mark.parametrize(
    ("who", "get", "post"),
    [
        ("principal", 200, 201),
        ("nurse", 200, 201),
        ("health", 200, 201),
        ("countyhealth", 200, 201),
        ("teacher", 200, 403),
        ("guard", 200, 403),
        ("edu", 200, 403),
        ("principal2", 404, 404),
        *[(who, 403, 403) for who in NO_HEALTH],
    ],
)
def test_statement_scope(api, hworld, who, get, post):
    w = hworld
    r = api("get", f"{BASE}/statements?school_id={w.school.pk}", w.users[who])
    assert r.status_code == get
    body = {
        "school_id": w.school.pk,
        "text": "官方说明",
        "published_at": _done_at(),
        "approved_by": "园长",
    }
    r = api("post", f"{BASE}/statements", w.users[who], json=body)
    assert r.status_code == post
    assert OfficialStatement.objects.count() == (1 if post == 201 else 0)


# ------------------------------------------------------------------ aftercare


@pytest.mark.parametrize(
    ("who", "get", "post"),
    [
        ("principal", 200, 201),
        ("nurse", 200, 201),
        ("health", 200, 201),
        ("countyhealth", 200, 201),
        ("dutylead", 200, 403),
        ("teacher", 403, 403),
        ("principal2", 404, 404),
        *[(who, 403, 403) for who in NO_HEALTH],
    ],
)
def test_aftercare_scope(api, hworld, case, who, get, post):
    w = hworld
    r = api("get", f"{BASE}/aftercare?school_id={w.school.pk}", w.users[who])
    assert r.status_code == get
    body = {"case_id": case.pk, "kind": "supplies", "description": "隔离用品"}
    r = api("post", f"{BASE}/aftercare", w.users[who], json=body)
    # principal2 has MANAGE_HEALTH at their school but not this case: 404.
    assert r.status_code == post
    assert AftercareTask.objects.count() == (1 if post == 201 else 0)


def test_aftercare_done_by_the_assignee(api, hworld, case):
    w = hworld
    body = {
        "case_id": case.pk,
        "kind": "psychological",
        "description": "心理疏导",
        "assignee_id": w.users["teacher"].pk,
        "due_on": (_today() + dt.timedelta(days=2)).isoformat(),
    }
    r = api("post", f"{BASE}/aftercare", w.users["nurse"], json=body)
    assert r.status_code == 201 and r.json()["assignee_id"] == w.users["teacher"].pk
    tid = r.json()["id"]
    r = api(
        "post",
        f"{BASE}/aftercare",
        w.users["nurse"],
        json={**body, "assignee_id": w.users["principal2"].pk},
    )
    assert r.status_code == 400 and "assignee" in r.json()["errors"]
    done = f"{BASE}/aftercare/{tid}/done"
    assert api("post", done, w.users["guard"], json={"note": "x"}).status_code == 404
    assert api("post", done, w.users["police"], json={"note": "x"}).status_code == 403
    r = api("post", done, w.users["teacher"], json={"note": ""})
    assert r.status_code == 400 and "note" in r.json()["errors"]
    r = api("post", done, w.users["teacher"], json={"note": "情绪稳定"})
    assert r.status_code == 200 and r.json()["done_at"]
    assert api("post", done, w.users["nurse"], json={"note": "x"}).status_code == 409


# ------------------------------------------------------------------ monitoring plans


@pytest.mark.parametrize(
    ("who", "get", "post"),
    [
        ("principal", 200, 201),
        ("nurse", 200, 201),
        ("health", 200, 201),
        ("countyhealth", 200, 201),
        ("teacher", 200, 403),
        ("principal2", 404, 404),
        ("guard", 403, 403),
        *[(who, 403, 403) for who in NO_HEALTH],
    ],
)
def test_plan_scope(api, hworld, who, get, post):
    w = hworld
    r = api("get", f"{BASE}/monitoring-plans?school_id={w.school.pk}", w.users[who])
    assert r.status_code == get
    body = {
        "school_id": w.school.pk,
        "school_class_id": w.school_class.pk,
        "starts_on": _today().isoformat(),
        "ends_on": (_today() + dt.timedelta(days=13)).isoformat(),
    }
    r = api("post", f"{BASE}/monitoring-plans", w.users[who], json=body)
    assert r.status_code == post
    assert MonitoringPlan.objects.count() == (1 if post == 201 else 0)


def test_plan_of_another_schools_class_and_end(api, hworld):
    w = hworld
    body = {
        "school_id": w.school.pk,
        "school_class_id": w.other_class.pk,
        "starts_on": _today().isoformat(),
        "ends_on": _today().isoformat(),
        "checks_per_day": 9,
    }
    r = api("post", f"{BASE}/monitoring-plans", w.users["nurse"], json=body)
    assert r.status_code == 400 and set(r.json()["errors"]) == {"school_class", "checks_per_day"}
    body.update(school_class_id=w.school_class.pk, checks_per_day=2)
    pid = api("post", f"{BASE}/monitoring-plans", w.users["nurse"], json=body).json()["id"]
    end = f"{BASE}/monitoring-plans/{pid}/end"
    assert (
        api("post", end, w.users["teacher"], json={"ends_on": body["ends_on"]}).status_code == 403
    )
    assert (
        api("post", end, w.users["principal2"], json={"ends_on": body["ends_on"]}).status_code
        == 404
    )
    r = api("post", end, w.users["nurse"], json={"ends_on": body["ends_on"]})
    assert r.status_code == 200


# ------------------------------------------------------------------ a case's response


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("principal", 200),
        ("nurse", 200),
        ("health", 200),
        ("countyhealth", 200),
        ("principal2", 404),
        ("teacher", 403),
        *[(who, 403) for who in NO_HEALTH],
    ],
)
def test_case_response_scope(api, hworld, case, who, status):
    w = hworld
    services.monitoring_plan_for_case(actor=w.users["principal"], case=case)
    r = api("get", f"{BASE}/cases/{case.pk}/response", w.users[who])
    assert r.status_code == status
    if status == 200:
        body = r.json()
        assert body["case_id"] == case.pk
        assert [p["checks_per_day"] for p in body["monitoring_plans"]] == [2]
        assert body["disinfections"] == [] and body["suspensions"] == []


def test_an_assignee_lists_their_own_tasks(api, hworld, case):
    """ADR 0032: each assignee sees their own tasks without reading health records, in the
    API as on /health/aftercare/ (`mine=true`); the other tasks stay out of reach."""
    w = hworld
    mine = services.aftercare_create(
        actor=w.users["nurse"],
        case_id=case.pk,
        kind="follow_up",
        description="每日电话随访",
        assignee_id=w.users["guard"].pk,
    )
    services.aftercare_create(
        actor=w.users["nurse"], case_id=case.pk, kind="supplies", description="隔离用品"
    )
    guard = w.users["guard"]
    assert api("GET", f"{BASE}/aftercare", guard).status_code == 403
    response = api("GET", f"{BASE}/aftercare?mine=true&state=open", guard)
    assert response.status_code == 200
    assert [t["id"] for t in response.json()["items"]] == [mine.pk]
    done = api("POST", f"{BASE}/aftercare/{mine.pk}/done", guard, json={"note": "已随访"})
    assert done.status_code == 200
    assert api("GET", f"{BASE}/aftercare?mine=true&state=open", guard).json()["count"] == 0
    assert api("GET", f"{BASE}/aftercare?mine=true&state=done", guard).json()["count"] == 1
    assert (
        api("GET", f"{BASE}/aftercare?mine=true&school_id={w.other_school.pk}", guard).status_code
        == 404
    )
    for who in ("police", "officer", "postofficer"):
        assert api("GET", f"{BASE}/aftercare?mine=true", w.users[who]).status_code == 403
    assert api("GET", f"{BASE}/aftercare?mine=true").status_code == 401


def test_a_plan_of_four_checks_a_day_is_refused(api, hworld):
    w = hworld
    body = {
        "school_id": w.school.pk,
        "school_class_id": w.school_class.pk,
        "starts_on": _today().isoformat(),
        "ends_on": (_today() + dt.timedelta(days=6)).isoformat(),
        "checks_per_day": 4,
    }
    response = api("POST", f"{BASE}/monitoring-plans", w.users["nurse"], json=body)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"checks_per_day"}
    assert not MonitoringPlan.objects.exists()
