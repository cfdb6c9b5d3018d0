"""Incident API: role × scope for every endpoint, the shape of the answer, field errors, and
that a refused write changes nothing."""

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.alarms import services as alarm_services
from huxiao.incidents import services
from huxiao.incidents.choices import GroupKind, IncidentStatus, TaskStatus
from huxiao.incidents.models import GroupMember, Incident, Task
from huxiao.incidents.tests.conftest import EDITORS, HIDDEN, VIEW_ONLY, db_state

pytestmark = pytest.mark.django_db

BASE = "/api/v1/incidents"
WRITE_MATRIX = {
    **{who: "ok" for who in EDITORS},
    **{who: 403 for who in VIEW_ONLY},
    **{who: 404 for who in HIDDEN},
    "anonymous": 401,
}


def _due(hours=1):
    return (timezone.now() + dt.timedelta(hours=hours)).isoformat()


def _caller(api, world, who):
    """Calls the API as `who`; the token is issued first because issuing it writes its own
    audit row, which must not count as a change made by the call under test."""
    user = None if who == "anonymous" else world.users[who]
    if user is not None:
        api.token_for(user)
    return lambda method, path, json=None: api(method, path, user, json=json)


@pytest.fixture
def task(world, incident):
    return services.task_add(
        actor=world.users["principal"],
        incident=incident,
        title="封锁东门",
        owner=world.users["guard"],
        due_at=timezone.now() + dt.timedelta(hours=1),
    )


# ------------------------------------------------------------------ reading


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        *((w, 200) for w in EDITORS + VIEW_ONLY),
        *((w, 404) for w in HIDDEN),
        ("anonymous", 401),
    ],
)
def test_detail_role_scope(api, world, incident, who, expected):
    response = _caller(api, world, who)("get", f"{BASE}/{incident.pk}")
    assert response.status_code == expected
    if expected == 200:
        body = response.json()
        assert body["id"] == incident.pk and body["alarm_id"] == incident.alarm_id
        assert body["can_manage"] is (who in EDITORS)


def test_detail_shape(api, world, incident, task):
    services.incident_member_add(
        actor=world.users["police"],
        incident=incident,
        group_kind=GroupKind.HANDLING,
        user=world.users["officer"],
        leader=True,
    )
    body = api("get", f"{BASE}/{incident.pk}", world.users["teacher"]).json()
    assert [g["kind"] for g in body["groups"]] == GroupKind.values
    handling = body["groups"][0]
    assert handling["leader"]["id"] == world.users["officer"].pk
    assert handling["members"][0]["organization_id"] == world.station.pk
    assert handling["members"][0]["is_leader"] is True
    assert body["tasks"][0]["owner"]["id"] == world.users["guard"].pk
    assert body["tasks"][0]["overdue"] is False
    sources = [(e["source"], e["type"]) for e in body["timeline"]]
    assert sources[0] == ("alarm", "alarm.raised")
    assert ("incident", "incident.opened") in sources


def test_list_is_scoped(api, world, incident):
    assert [i["id"] for i in api("get", BASE, world.users["county"]).json()["items"]] == [
        incident.pk
    ]
    assert api("get", BASE, world.users["farpolice"]).json() == {"count": 0, "items": []}
    assert api("get", f"{BASE}?status=closed", world.users["police"]).json()["count"] == 0
    assert api("get", BASE).status_code == 401


# ------------------------------------------------------------------ opening


@pytest.mark.parametrize("who", WRITE_MATRIX)
def test_open_role_scope(api, world, alarm, who):
    call = _caller(api, world, who)
    before = db_state()
    response = call("post", BASE, json={"alarm_id": alarm.pk})
    expected = WRITE_MATRIX[who]
    if expected == "ok":
        assert response.status_code == 201
        assert Incident.objects.get().alarm_id == alarm.pk
    else:
        assert response.status_code == expected
        assert db_state() == before


def test_open_is_idempotent(api, world, alarm):
    first = api("post", BASE, world.users["police"], json={"alarm_id": alarm.pk})
    again = api("post", BASE, world.users["officer"], json={"alarm_id": alarm.pk})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Incident.objects.count() == 1


def test_open_refuses_a_cancelled_alarm_and_unknown_ids(api, world, alarm):
    alarm_services.alarm_cancel(actor=world.users["guard"], alarm=alarm)
    response = api("post", BASE, world.users["principal"], json={"alarm_id": alarm.pk})
    assert response.status_code == 400 and "alarm_id" in response.json()["errors"]
    assert api("post", BASE, world.users["police"], json={"alarm_id": 10**12}).status_code == 404
    assert api("post", BASE, world.users["police"], json={"alarm_id": 0}).status_code == 400
    assert (
        api("post", BASE, world.users["police"], json={"alarm_id": alarm.pk, "x": 1}).status_code
        == 400
    )
    assert Incident.objects.count() == 0


# ------------------------------------------------------------------ writes


def _member_body(world):
    return {"group": "casualty", "user_id": world.users["teacher"].pk, "role": "急救"}


@pytest.mark.parametrize("who", WRITE_MATRIX)
def test_member_add_role_scope(api, world, incident, who):
    call = _caller(api, world, who)
    before = db_state()
    response = call("post", f"{BASE}/{incident.pk}/members", json=_member_body(world))
    expected = WRITE_MATRIX[who]
    if expected == "ok":
        assert response.status_code == 201
        casualty = next(g for g in response.json()["groups"] if g["kind"] == "casualty")
        assert casualty["members"][0]["user"]["id"] == world.users["teacher"].pk
    else:
        assert response.status_code == expected
        assert db_state() == before


@pytest.mark.parametrize("who", ["principal2", "farpolice", "county"])
def test_member_from_another_school_or_far_police_is_refused(api, world, incident, who):
    api.token_for(world.users["police"])
    before = db_state()
    response = api(
        "post",
        f"{BASE}/{incident.pk}/members",
        world.users["police"],
        json={"group": "handling", "user_id": world.users[who].pk},
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["user_id"]
    assert db_state() == before


def test_unknown_person_gets_the_same_answer_as_an_ineligible_one(api, world, incident):
    url = f"{BASE}/{incident.pk}/members"
    unknown = api("post", url, world.users["police"], json={"group": "order", "user_id": 10**9})
    foreign = api(
        "post",
        url,
        world.users["police"],
        json={"group": "order", "user_id": world.users["farpolice"].pk},
    )
    assert unknown.status_code == foreign.status_code == 400
    assert unknown.json()["errors"] == foreign.json()["errors"]


def test_member_remove_and_leader(api, world, incident):
    member = services.incident_member_add(
        actor=world.users["police"],
        incident=incident,
        group_kind=GroupKind.ORDER,
        user=world.users["guard"],
    )
    url = f"{BASE}/{incident.pk}/groups/order/leader"
    assert (
        api("post", url, world.users["teacher"], json={"user_id": member.user_id}).status_code
        == 403
    )
    response = api("post", url, world.users["principal"], json={"user_id": member.user_id})
    assert response.status_code == 200
    order = next(g for g in response.json()["groups"] if g["kind"] == "order")
    assert order["leader"]["id"] == world.users["guard"].pk
    member_url = f"{BASE}/{incident.pk}/members/{member.pk}"
    assert api("delete", member_url, world.users["principal2"]).status_code == 404
    assert api("delete", member_url, world.users["guard"]).status_code == 403
    assert GroupMember.objects.count() == 1
    assert api("delete", member_url, world.users["officer"]).status_code == 200
    assert GroupMember.objects.count() == 0
    assert api("delete", member_url, world.users["officer"]).status_code == 404


def test_commander(api, world, incident):
    url = f"{BASE}/{incident.pk}/commander"
    response = api(
        "post", url, world.users["principal"], json={"user_id": world.users["officer"].pk}
    )
    assert response.status_code == 200
    assert response.json()["commander"]["id"] == world.users["officer"].pk
    refused = api("post", url, world.users["principal"], json={"user_id": world.users["gov"].pk})
    assert refused.status_code == 400 and "user_id" in refused.json()["errors"]


@pytest.mark.parametrize("who", WRITE_MATRIX)
def test_task_add_role_scope(api, world, incident, who):
    call = _caller(api, world, who)
    before = db_state()
    body = {"title": "清点学生", "owner_id": world.users["teacher"].pk, "due_at": _due()}
    response = call("post", f"{BASE}/{incident.pk}/tasks", json=body)
    expected = WRITE_MATRIX[who]
    if expected == "ok":
        assert response.status_code == 201
        assert response.json()["tasks"][0]["title"] == "清点学生"
    else:
        assert response.status_code == expected
        assert db_state() == before


def test_task_field_errors(api, world, incident):
    url = f"{BASE}/{incident.pk}/tasks"
    response = api(
        "post",
        url,
        world.users["police"],
        json={
            "title": "",
            "owner_id": world.users["principal2"].pk,
            "due_at": (incident.opened_at - dt.timedelta(hours=1)).isoformat(),
            "group": "nope",
        },
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"title", "owner_id", "due_at", "group"}
    bad_date = api(
        "post",
        url,
        world.users["police"],
        json={"title": "x", "owner_id": world.users["guard"].pk, "due_at": "tomorrow"},
    )
    assert bad_date.status_code == 400 and "due_at" in bad_date.json()["errors"]
    assert Task.objects.count() == 0


COMPLETE_MATRIX = {
    **{who: 200 for who in EDITORS},
    "guard": 200,  # the owner
    "teacher": 403,
    "edu": 403,
    "county": 403,
    "principal2": 404,
    "farpolice": 404,
    "anonymous": 401,
}


@pytest.mark.parametrize("who", COMPLETE_MATRIX)
def test_task_complete_role_scope(api, world, incident, task, who):
    call = _caller(api, world, who)
    before = db_state()
    response = call("post", f"{BASE}/{incident.pk}/tasks/{task.pk}/complete")
    assert response.status_code == COMPLETE_MATRIX[who]
    task.refresh_from_db()
    if response.status_code == 200:
        assert task.status == TaskStatus.DONE
        assert response.json()["tasks"][0]["status"] == "done"
    else:
        assert task.status == TaskStatus.OPEN
        assert db_state() == before


def test_task_of_another_incident_is_not_found(api, world, incident, task):
    other_alarm, _ = alarm_services.alarm_raise(
        actor=world.users["guard"], school=world.school, kind="fight"
    )
    other, _ = services.incident_open_from_alarm(actor=world.users["police"], alarm=other_alarm)
    url = f"{BASE}/{other.pk}/tasks/{task.pk}/complete"
    assert api("post", url, world.users["police"]).status_code == 404


@pytest.mark.parametrize("who", WRITE_MATRIX)
def test_note_role_scope(api, world, incident, who):
    call = _caller(api, world, who)
    before = db_state()
    response = call("post", f"{BASE}/{incident.pk}/notes", json={"text": "已到场"})
    expected = WRITE_MATRIX[who]
    if expected == "ok":
        assert response.status_code == 201
        assert response.json()["timeline"][-1]["text"] == "已到场"
    else:
        assert response.status_code == expected
        assert db_state() == before


@pytest.mark.parametrize("who", WRITE_MATRIX)
def test_close_role_scope(api, world, incident, who):
    call = _caller(api, world, who)
    before = db_state()
    response = call("post", f"{BASE}/{incident.pk}/close", json={"summary": "处置完毕"})
    expected = WRITE_MATRIX[who]
    incident.refresh_from_db()
    if expected == "ok":
        assert response.status_code == 200 and response.json()["status"] == "closed"
        assert incident.status == IncidentStatus.CLOSED
    else:
        assert response.status_code == expected
        assert incident.status == IncidentStatus.OPEN
        assert db_state() == before


def test_close_requires_a_summary_and_then_refuses_changes(api, world, incident, task):
    url = f"{BASE}/{incident.pk}/close"
    missing = api("post", url, world.users["police"], json={"summary": "   "})
    assert missing.status_code == 400 and list(missing.json()["errors"]) == ["summary"]
    absent = api("post", url, world.users["police"], json={})
    assert absent.status_code == 400 and "summary" in absent.json()["errors"]
    closed = api(
        "post", url, world.users["police"], json={"summary": "处置完毕", "lessons": "加强巡逻"}
    )
    assert closed.status_code == 200
    assert closed.json()["tasks"][0]["status"] == "open"  # listed as not done
    before = db_state()
    again = api("post", f"{BASE}/{incident.pk}/notes", world.users["police"], json={"text": "x"})
    assert again.status_code == 400 and "status" in again.json()["errors"]
    assert db_state() == before
