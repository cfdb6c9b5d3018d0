"""The leading-group API: role × scope, groups and members, planning and recording
meetings, the action items' moves (409 when the state does not allow them), progress
reports, and bad input as 400 with nothing written."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.supervision.choices import ActionStatus
from huxiao.supervision.meeting_models import ActionItem, LeadingGroup, Meeting, ProgressReport
from huxiao.supervision.meeting_selectors import local_today
from huxiao.supervision.tests.meeting_fixtures import (  # noqa: F401
    group_fixture,
    key_of,
    mworld_fixture,
    plan,
    record,
    row,
)

pytestmark = pytest.mark.django_db

G = "/api/v1/supervision/groups"
M = "/api/v1/supervision/meetings"
A = "/api/v1/supervision/actions"


@pytest.fixture
def live(mworld, group):
    w = mworld
    now = timezone.now()
    meeting = plan(w, group, starts_at=now - dt.timedelta(hours=1), now=now - dt.timedelta(days=1))
    deadline = local_today() + dt.timedelta(days=5)
    record(
        w,
        meeting,
        now=now,
        actions=[
            row(w.station, w.users["police"], deadline),
            row(w.school, w.users["principal"], deadline),
        ],
    )
    meeting.station_item, meeting.school_item = meeting.actions.order_by("id")
    return meeting


@pytest.mark.parametrize(
    ("name", "status", "count"),
    [
        (None, 401, None),
        ("nobody", 403, None),
        ("principal", 403, None),
        ("gov", 200, 1),
        ("liaison", 200, 1),
        ("county", 200, 1),
        ("fargov", 200, 0),
    ],
)
def test_group_list_scope(api, mworld, group, name, status, count):
    response = api("get", G, mworld.users[name] if name else None)
    assert response.status_code == status
    if count is not None:
        assert response.json()["count"] == count


@pytest.mark.parametrize(
    ("name", "actions"),
    [("gov", 2), ("police", 2), ("teacher", 1), ("principal2", 0), ("nobody", None)],
)
def test_action_list_scope(api, mworld, live, name, actions):
    response = api("get", A, mworld.users[name])
    if actions is None:
        assert response.status_code == 403
        return
    assert response.status_code == 200 and response.json()["count"] == actions


def test_group_create_and_members(api, mworld):
    w = mworld
    assert api("post", G, w.users["edu"], json={"name": "x"}).status_code == 403
    response = api("post", G, w.users["gov"], json={"name": "领导小组", "duties": "职责"})
    assert response.status_code == 201
    group_id = response.json()["id"]
    assert response.json()["town_id"] == w.town.pk and response.json()["may_keep"]
    again = api("post", G, w.users["gov2"], json={"name": "第二个"})
    assert again.status_code == 409 and LeadingGroup.objects.count() == 1
    assert api("post", G, w.users["gov"], json={"name": " "}).status_code == 400

    members = f"{G}/{group_id}/members"
    bad = {"organization_id": w.station.pk, "user_id": w.users["edu"].pk}
    response = api("post", members, w.users["gov"], json=bad)
    assert response.status_code == 400 and "user" in response.json()["errors"]
    good = {"organization_id": w.station.pk, "user_id": w.users["police"].pk, "position": "deputy"}
    response = api("post", members, w.users["gov"], json=good)
    assert response.status_code == 201
    member_id = response.json()["id"]
    assert api("post", members, w.users["police"], json=good).status_code == 403
    response = api(
        "patch",
        f"{members}/{member_id}",
        w.users["gov"],
        json={"position": "member", "title": "所长"},
    )
    assert response.status_code == 200 and response.json()["title"] == "所长"
    deactivate = f"{members}/{member_id}/deactivate"
    assert api("post", deactivate, w.users["gov"]).status_code == 200
    assert api("post", deactivate, w.users["gov"]).status_code == 409
    detail = api("get", f"{G}/{group_id}", w.users["liaison"]).json()
    assert detail["members"][0]["is_active"] is False and detail["may_keep"] is False
    assert api("get", f"{G}/{group_id}", w.users["fargov"]).status_code == 404
    assert api("patch", f"{G}/{group_id}", w.users["edu"], json={"name": "x"}).status_code == 403


def test_plan_and_record(api, mworld, group):
    w = mworld
    invitees = api("get", f"{G}/{group.pk}/invitees", w.users["gov"]).json()
    keys = [
        c["key"]
        for c in invitees
        if c["user_id"] in (w.users["police"].pk, w.users["principal"].pk)
    ]
    assert len(keys) == 2
    starts = (timezone.now() - dt.timedelta(minutes=10)).isoformat()
    payload = {"group_id": group.pk, "kind": "joint", "title": "会议", "starts_at": starts}
    response = api("post", M, w.users["gov"], json={**payload, "invitees": []})
    assert response.status_code == 400 and "invitees" in response.json()["errors"]
    assert api("post", M, w.users["edu"], json={**payload, "invitees": keys}).status_code == 403
    response = api("post", M, w.users["gov"], json={**payload, "invitees": keys})
    assert response.status_code == 201
    meeting = response.json()
    assert len(meeting["attendees"]) == 2 and meeting["status"] == "planned"

    deadline = (local_today() + dt.timedelta(days=7)).isoformat()
    recording = f"{M}/{meeting['id']}/record"
    absent = [meeting["attendees"][0]["id"]]
    bad = {
        "minutes": "纪要",
        "absent": absent,
        "actions": [
            {"decision": "a", "owner_org_id": w.station.pk, "deadline": deadline},
            {"decision": "b", "owner_org_id": w.station.pk, "deadline": "2000-01-01"},
        ],
    }
    response = api("post", recording, w.users["gov"], json=bad)
    assert response.status_code == 400 and "actions.1.deadline" in response.json()["errors"]
    assert not ActionItem.objects.exists()
    response = api("post", recording, w.users["gov"], json={**bad, "minutes": ""})
    assert response.status_code == 400 and "minutes" in response.json()["errors"]
    good = {**bad, "actions": bad["actions"][:1]}
    response = api("post", recording, w.users["gov"], json=good)
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "held" and len(data["actions"]) == 1 and data["minutes_editable"]
    assert [a["present"] for a in data["attendees"]] == [False, True]
    assert api("post", recording, w.users["gov"], json=good).status_code == 409
    minutes = api("put", f"{M}/{meeting['id']}/minutes", w.users["gov"], json={"minutes": "更正"})
    assert minutes.status_code == 200 and minutes.json()["minutes"] == "更正"
    Meeting.objects.filter(pk=meeting["id"]).update(
        held_recorded_at=timezone.now() - dt.timedelta(days=8)
    )
    late = api("put", f"{M}/{meeting['id']}/minutes", w.users["gov"], json={"minutes": "太晚"})
    assert late.status_code == 409 and late.json()["detail"]
    extra = {"decision": "c", "owner_org_id": w.station.pk, "deadline": deadline}
    assert (
        api("post", f"{M}/{meeting['id']}/actions", w.users["gov"], json=extra).status_code == 409
    )
    patch = {"kind": "joint", "title": "x", "starts_at": starts}
    assert api("patch", f"{M}/{meeting['id']}", w.users["gov"], json=patch).status_code == 409


def test_meeting_scope(api, mworld, live):
    w = mworld
    assert api("get", f"{M}/{live.pk}", w.users["principal"]).status_code == 200  # invited
    assert api("get", f"{M}/{live.pk}", w.users["teacher"]).status_code == 404
    assert api("get", M, w.users["liaison"]).json()["count"] == 1
    assert api("get", f"{M}?status=bogus", w.users["gov"]).status_code == 400
    assert api("get", f"{M}/{2**63}", w.users["gov"]).status_code in (400, 404)


def test_action_moves(api, mworld, live):
    w = mworld
    item = live.school_item
    path = f"{A}/{item.pk}"
    detail = api("get", path, w.users["principal"]).json()
    assert detail["allowed_moves"] == ["start"] and detail["status"] == "open"
    assert api("post", f"{path}/start", w.users["teacher"], json={}).status_code == 403
    assert (
        api("post", f"{path}/submit", w.users["principal"], json={"note": "x"}).status_code == 409
    )
    response = api("post", f"{path}/start", w.users["principal"], json={"note": "开始"})
    assert response.status_code == 200 and response.json()["status"] == "in_progress"
    response = api("post", f"{path}/progress", w.users["principal"], json={"note": ""})
    assert response.status_code == 400 and "note" in response.json()["errors"]
    assert (
        api("post", f"{path}/progress", w.users["principal"], json={"note": "一半"}).status_code
        == 200
    )
    assert (
        api("post", f"{path}/submit", w.users["principal"], json={"note": "完成"}).status_code
        == 200
    )
    assert api("post", f"{path}/close", w.users["principal"], json={}).status_code == 403
    assert api("post", f"{path}/send-back", w.users["gov"], json={}).status_code == 400
    response = api("post", f"{path}/send-back", w.users["gov"], json={"reason": "缺材料"})
    assert response.status_code == 200 and response.json()["status"] == "in_progress"
    api("post", f"{path}/submit", w.users["principal"], json={"note": "已补"})
    response = api("post", f"{path}/close", w.users["gov"], json={})
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "closed" and len(data["events"]) == 7
    assert api("get", f"{A}/{live.station_item.pk}", w.users["teacher"]).status_code == 404
    assert (
        api("post", f"{A}/{live.station_item.pk}/start", w.users["teacher"], json={}).status_code
        == 404
    )
    item.refresh_from_db()
    assert item.status == ActionStatus.CLOSED


def test_action_filters(api, mworld, live):
    w = mworld
    ActionItem.objects.filter(pk=live.station_item.pk).update(
        deadline=local_today() - dt.timedelta(days=2)
    )
    overdue = api("get", f"{A}?overdue=true", w.users["gov"]).json()
    assert [i["id"] for i in overdue["items"]] == [live.station_item.pk]
    assert overdue["items"][0]["overdue"] is True
    mine = api("get", f"{A}?mine=true", w.users["principal"]).json()
    assert [i["id"] for i in mine["items"]] == [live.school_item.pk]
    org = api("get", f"{A}?owner_org_id={w.school.pk}", w.users["gov"]).json()
    assert org["count"] == 1
    assert api("get", f"{A}?status=zzz", w.users["gov"]).status_code == 400
    assert len(api("get", f"{A}?limit=1", w.users["gov"]).json()["items"]) == 1


def test_reports(api, mworld, live):
    w = mworld
    today = local_today()
    start = today.replace(day=1).isoformat()
    reports = f"{G}/{live.group_id}/reports"
    preview = api(
        "get", f"{reports}/preview?period_start={start}&period_end={today}", w.users["gov"]
    )
    assert preview.status_code == 200 and preview.json()["totals"]["total"] == 2
    assert (
        api(
            "get", f"{reports}/preview?period_start={start}&period_end={today}", w.users["liaison"]
        ).status_code
        == 403
    )
    bad = {"period_start": today.isoformat(), "period_end": start}
    if start != today.isoformat():
        assert api("post", reports, w.users["gov"], json=bad).status_code == 400
    response = api(
        "post",
        reports,
        w.users["gov"],
        json={"period_start": start, "period_end": today.isoformat(), "summary": "报告"},
    )
    assert response.status_code == 201
    data = response.json()
    assert data["sent_to"] == ["镇政府"] and data["figures"]["totals"]["open"] == 2
    assert api("get", reports, w.users["liaison"]).json()["count"] == 1
    assert api("get", f"{reports}/{data['id']}", w.users["liaison"]).status_code == 200
    assert api("get", f"{reports}/{data['id']}", w.users["fargov"]).status_code == 404
    assert ProgressReport.objects.count() == 1
