"""The case API (ADR 0032 "Case"): role × scope of every endpoint, the report, the steps with
their refusals, and the contacts with their reasons in the documented shape."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.audit.models import AuditAction, AuditEvent
from huxiao.health.choices import Step
from huxiao.health.models import CaseStep, HealthCase
from huxiao.health.tests.case_fixtures import attendance, make_case
from huxiao.people.tests.factories import ChildFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/health/cases"


@pytest.fixture
def case(hworld):
    return make_case(hworld, onset=timezone.localdate(), steps=[Step.VERIFIED])


def _payload(world, **overrides):
    data = {
        "class_id": world.school_class.pk,
        "child_id": world.child.pk,
        "symptoms": ["cough"],
        "temperature": "38.1",
        "onset_date": timezone.localdate().isoformat(),
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("teacher", 201),
        ("principal", 201),
        ("nurse", 201),
        ("principal2", 404),
        ("police", 403),
        ("health", 403),
        (None, 401),
    ],
)
def test_report_scope(api, hworld, who, status):
    r = api("post", BASE, hworld.users.get(who), json=_payload(hworld))
    assert r.status_code == status, r.content
    assert HealthCase.objects.count() == (1 if status == 201 else 0)
    if status == 201:
        body = r.json()
        assert body["status"] == "reported" and body["id"] == HealthCase.objects.get().pk


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"temperature": "42.9.1"}, "temperature"),
        ({"temperature": "50"}, "temperature"),
        ({"symptoms": ["bogus"]}, "symptoms"),
        ({"onset_date": "2999-01-01"}, "onset_date"),
        ({"onset_date": "not a date"}, "onset_date"),
        ({"contact_window_days": 99}, "contact_window_days"),
        ({"child_id": 0}, "child_id"),
        ({"child_id": 2**63}, "child_id"),
    ],
)
def test_bad_report_is_a_400_by_field(api, hworld, overrides, field):
    r = api("post", BASE, hworld.users["teacher"], json=_payload(hworld, **overrides))
    assert r.status_code == 400, r.content
    errors = r.json()["errors"]
    assert any(key == field or key.startswith(field) for key in errors), errors
    assert not HealthCase.objects.exists()


def test_a_child_of_another_class_is_a_400(api, hworld):
    r = api(
        "post", BASE, hworld.users["teacher"], json=_payload(hworld, child_id=hworld.other_child.pk)
    )
    assert r.status_code == 400 and "child" in r.json()["errors"]


def test_a_second_report_is_a_409_naming_the_case(api, hworld, case):
    r = api("post", BASE, hworld.users["teacher"], json=_payload(hworld))
    assert r.status_code == 409 and r.json()["case_id"] == case.pk


@pytest.mark.parametrize(
    ("who", "status", "count"),
    [
        ("principal", 200, 1),
        ("dutylead", 200, 1),
        ("health", 200, 1),
        ("countyhealth", 200, 1),
        ("principal2", 200, 0),
        ("teacher", 403, 0),
        ("police", 403, 0),
        ("edu", 403, 0),
        (None, 401, 0),
    ],
)
def test_list_scope(api, hworld, case, who, status, count):
    r = api("get", BASE, hworld.users.get(who))
    assert r.status_code == status
    if status == 200:
        assert r.json()["count"] == count


def test_list_filters(api, hworld, case):
    u = hworld.users
    assert api("get", BASE + "?status=bogus", u["health"]).status_code == 400
    assert api("get", BASE + "?status=open", u["health"]).json()["count"] == 1
    assert api("get", BASE + "?status=closed", u["health"]).json()["count"] == 0
    assert api("get", BASE + f"?school_id={hworld.far_school.pk}", u["health"]).status_code == 404


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("principal", 200),
        ("nurse", 200),
        ("health", 200),
        ("countyhealth", 200),
        ("principal2", 404),
        ("teacher", 403),
        ("police", 403),
        ("postofficer", 403),
        (None, 401),
    ],
)
@pytest.mark.parametrize("suffix", ["", "/contacts"])
def test_detail_and_contacts_scope(api, hworld, case, who, status, suffix):
    user = hworld.users.get(who)
    r = api("get", f"{BASE}/{case.pk}{suffix}", user)
    assert r.status_code == status
    reads = AuditEvent.objects.filter(action=AuditAction.READ_SENSITIVE, object_id=str(case.pk))
    assert reads.count() == (1 if status == 200 else 0)


def test_detail_has_the_steps(api, hworld, case):
    body = api("get", f"{BASE}/{case.pk}", hworld.users["health"]).json()
    assert [s["step"] for s in body["steps"]] == ["reported", "verified"]
    assert body["child_name"] == hworld.child.name and body["temperature"] == "38.5"
    assert body["groups"] == []


def test_steps_through_the_api(api, hworld, case):
    u = hworld.users
    url = f"{BASE}/{case.pk}/steps"
    r = api("post", url, u["nurse"], json={"step": "started"})
    assert r.status_code == 403 and r.json()["detail"]
    r = api("post", url, u["principal"], json={"step": "class_moved", "standby_classroom": "x"})
    assert r.status_code == 409
    r = api("post", url, u["principal"], json={"step": "started", "note": "启动"})
    assert r.status_code == 200 and "started" in [s["step"] for s in r.json()["steps"]]
    r = api("post", url, u["principal"], json={"step": "started"})
    assert r.status_code == 200
    assert CaseStep.objects.filter(case=case, step=Step.STARTED).count() == 1
    r = api("post", url, u["principal"], json={"step": "assessed"})
    assert r.status_code == 400 and "step" in r.json()["errors"]
    r = api(
        "post",
        url,
        u["principal"],
        json={"step": "groups", "members": [{"group": "coordination", "name": "刘园长"}]},
    )
    assert r.status_code == 400 and "members" in r.json()["errors"]
    members = [
        {"group": g, "name": f"{g}员"}
        for g in ("coordination", "monitoring", "treatment", "liaison", "disinfection", "publicity")
    ]
    members[0]["user_id"] = u["principal"].pk
    members[0]["is_leader"] = True
    r = api("post", url, u["principal"], json={"step": "groups", "members": members})
    assert r.status_code == 200, r.content
    assert len(r.json()["groups"]) == 6
    r = api(
        "post",
        url,
        u["dutylead"],
        json={
            "step": "isolated",
            "isolation_place": "观察室",
            "isolated_at": (timezone.now() + dt.timedelta(hours=2)).isoformat(),
        },
    )
    assert r.status_code == 400 and "isolated_at" in r.json()["errors"]
    r = api("post", url, u["dutylead"], json={"step": "isolated", "isolation_place": "观察室"})
    assert r.status_code == 200 and r.json()["isolation_place"] == "观察室"
    r = api("post", url, u["health"], json={"step": "outcome", "outcome": "cleared"})
    assert r.status_code == 200 and r.json()["status"] == "cleared"
    r = api("post", f"{BASE}/{case.pk}/close", u["dutylead"], json={})
    assert r.status_code == 403
    r = api("post", f"{BASE}/{case.pk}/close", u["health"], json={"note": "排除"})
    assert r.status_code == 200 and r.json()["status"] == "closed"
    r = api("post", url, u["principal2"], json={"step": "verified"})
    assert r.status_code == 404
    r = api("post", url, None, json={"step": "verified"})
    assert r.status_code == 401


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"])
def test_an_isolation_time_at_the_ends_of_the_calendar_is_a_400(api, hworld, case, value):
    r = api(
        "post",
        f"{BASE}/{case.pk}/steps",
        hworld.users["dutylead"],
        json={"step": "isolated", "isolation_place": "观察室", "isolated_at": value},
    )
    assert r.status_code == 400 and "isolated_at" in r.json()["errors"]
    case.refresh_from_db()
    assert case.isolated_at is None


def test_contacts_in_the_documented_shape(api, hworld, case):
    w = hworld
    mate = ChildFactory(school_class=w.school_class, name="同班甲")
    w.school_class.head_teacher = w.staff
    w.school_class.save()
    attendance(w.school_class, timezone.localdate())
    body = api("get", f"{BASE}/{case.pk}/contacts", w.users["health"]).json()
    today = timezone.localdate().isoformat()
    assert body == [
        {
            "kind": "child",
            "id": mate.pk,
            "name": "同班甲",
            "class": w.school_class.name,
            "reasons": [
                {
                    "reason": "same_class",
                    "label": body[0]["reasons"][0]["label"],
                    "dates": [today],
                    "detail": w.school_class.name,
                }
            ],
        },
        {
            "kind": "staff",
            "id": w.staff.pk,
            "name": w.staff.name,
            "class": w.school_class.name,
            "reasons": [
                {
                    "reason": "class_staff",
                    "label": body[1]["reasons"][0]["label"],
                    "dates": [today],
                    "detail": body[1]["reasons"][0]["detail"],
                }
            ],
        },
    ]
    assert body[0]["reasons"][0]["label"]
