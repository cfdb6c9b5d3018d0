"""Alarm service and API: raising, idempotency, the response steps, scope and escalation."""

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.accounts.services import device_token_issue
from huxiao.alarms import services
from huxiao.alarms.models import Alarm, AlarmEvent
from huxiao.audit.models import AuditEvent
from huxiao.core.roles import OrgKind, Role
from huxiao.orgs.tests.factories import MembershipFactory, OrganizationFactory, UserFactory


@pytest.fixture
def health(world):
    centre = OrganizationFactory(kind=OrgKind.HEALTH_CENTRE, town=world.town, name="卫生院")
    user = UserFactory(username="healthofficer")
    MembershipFactory(user=user, organization=centre, role=Role.HEALTH_OFFICER)
    return user


@pytest.fixture
def device(world):
    _device, token = device_token_issue(
        actor=None, school=world.school, name="门卫报警箱", kind="alarm_box"
    )
    return token


def _state():
    return (Alarm.objects.count(), AlarmEvent.objects.count())


def _raise(api, user, **extra):
    body = {"kind": "intrusion", "location": "东门", "school_id": extra.pop("school_id", None)}
    body.update(extra)
    return api("post", "/api/v1/alarms", user, json=body)


# ------------------------------------------------------------------ raising


def test_device_raises_an_alarm_and_a_retry_returns_the_same_one(world, client, device):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {device}", "HTTP_IDEMPOTENCY_KEY": "press-1"}
    body = {"kind": "violence", "location": "大门", "note": "持刀", "drill": False}
    first = client.post("/api/v1/alarms", data=body, content_type="application/json", **headers)
    assert first.status_code == 201
    again = client.post("/api/v1/alarms", data=body, content_type="application/json", **headers)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Alarm.objects.count() == 1 and AlarmEvent.objects.count() == 1
    alarm = Alarm.objects.get()
    assert alarm.school == world.school and alarm.source == "device"
    assert alarm.raised_by_device is not None
    # Same key, different body: a conflict, nothing written.
    changed = client.post(
        "/api/v1/alarms", data={**body, "kind": "fire"}, content_type="application/json", **headers
    )
    assert changed.status_code == 409
    assert Alarm.objects.count() == 1


def test_device_cannot_raise_for_another_school(world, client, device):
    before = _state()
    response = client.post(
        "/api/v1/alarms",
        data={"kind": "fire", "school_id": world.other_school.pk},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {device}",
    )
    assert response.status_code == 400 and "school_id" in response.json()["errors"]
    assert _state() == before


def test_revoked_device_token_is_refused(world, client, device):
    from huxiao.accounts.models import DeviceToken

    DeviceToken.objects.update(is_active=False)
    response = client.post(
        "/api/v1/alarms",
        data={"kind": "fire"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {device}",
    )
    assert response.status_code == 401
    assert Alarm.objects.count() == 0


@pytest.mark.parametrize(
    "name, status",
    [
        (None, 401),
        ("nobody", 400),
        ("principal2", 400),
        ("farpolice", 400),
        ("police", 403),
        ("county", 403),
        ("guard", 201),
        ("teacher", 201),
        ("principal", 201),
    ],
)
def test_raise_matrix(world, api, name, status):
    user = world.users[name] if name else None
    before = _state()
    response = _raise(api, user, school_id=world.school.pk)
    assert response.status_code == status, response.content
    if status == 201:
        assert response.json()["raised_by"]
        assert AuditEvent.objects.filter(object_type="alarms.alarm", action="create").exists()
    else:
        assert _state() == before


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "alien"},
        {"kind": "fire", "location": "x" * 201},
        {"kind": "fire", "note": "\x00"},
        {"kind": "fire", "drill": "perhaps"},
        {"kind": "fire", "unexpected": 1},
        {},
    ],
)
def test_bad_alarm_bodies_are_400_and_write_nothing(world, api, body):
    before = _state()
    response = api(
        "post", "/api/v1/alarms", world.users["guard"], json={**body, "school_id": world.school.pk}
    )
    assert response.status_code == 400
    assert _state() == before


# ------------------------------------------------------------------ seeing


def test_who_sees_the_alarm(world, api, health):
    _raise(api, world.users["guard"], school_id=world.school.pk)
    seers = [
        "principal",
        "guard",
        "teacher",
        "police",
        "officer",
        "postofficer",
        "edu",
        "gov",
        "county",
    ]
    for name in seers:
        items = api("get", "/api/v1/alarms?status=open", world.users[name]).json()["items"]
        assert len(items) == 1, name
    for user in (
        world.users["principal2"],
        world.users["farpolice"],
        world.users["nobody"],
        health,
    ):
        assert api("get", "/api/v1/alarms?status=open", user).json()["items"] == []
    alarm_id = Alarm.objects.get().pk
    assert api("get", f"/api/v1/alarms/{alarm_id}", health).status_code == 404
    assert api("get", f"/api/v1/alarms/{alarm_id}", world.users["principal2"]).status_code == 404


# ------------------------------------------------------------------ responding


def test_full_response_with_timeline_and_response_times(world, api):
    raised = _raise(api, world.users["guard"], school_id=world.school.pk).json()
    path = f"/api/v1/alarms/{raised['id']}"
    police = world.users["police"]
    ack = api("post", f"{path}/acknowledge", police)
    assert ack.status_code == 200 and ack.json()["acknowledged_by"] == "police"
    # First one wins: the officer sees who was first.
    second = api("post", f"{path}/acknowledge", world.users["officer"])
    assert second.status_code == 409 and "police" in second.json()["detail"]
    assert (
        api(
            "post", f"{path}/dispatch", police, json={"units": "巡逻车 1 辆，民警 2 名"}
        ).status_code
        == 200
    )
    assert api("post", f"{path}/arrive", world.users["officer"]).status_code == 200
    assert api("post", f"{path}/resolve", police, json={"outcome": ""}).status_code == 400
    done = api("post", f"{path}/resolve", police, json={"outcome": "嫌疑人已控制"})
    assert done.status_code == 200
    body = done.json()
    assert body["status"] == "resolved"
    assert body["ack_seconds"] is not None and body["arrival_seconds"] is not None
    timeline = [e["type"] for e in api("get", path, police).json()["timeline"]]
    assert timeline == [
        "alarm.raised",
        "alarm.acknowledged",
        "alarm.dispatched",
        "alarm.arrived",
        "alarm.resolved",
    ]
    assert api("post", f"{path}/arrive", police).status_code == 400  # closed


@pytest.mark.parametrize(
    "name, status", [("guard", 403), ("county", 403), ("principal2", 404), ("farpolice", 404)]
)
def test_only_police_of_the_jurisdiction_respond(world, api, name, status):
    raised = _raise(api, world.users["guard"], school_id=world.school.pk).json()
    response = api("post", f"/api/v1/alarms/{raised['id']}/acknowledge", world.users[name])
    assert response.status_code == status
    assert Alarm.objects.get().acknowledged_at is None


def test_cancel_window_then_false_alarm_needs_a_reason(world, api):
    guard = world.users["guard"]
    quick = _raise(api, guard, school_id=world.school.pk).json()
    cancelled = api("post", f"/api/v1/alarms/{quick['id']}/cancel", guard, json={})
    assert cancelled.status_code == 200
    assert cancelled.json()["is_false_alarm"] is False

    late = _raise(api, guard, school_id=world.school.pk).json()
    Alarm.objects.filter(pk=late["id"]).update(
        cancel_window_ends_at=timezone.now() - dt.timedelta(seconds=1)
    )
    path = f"/api/v1/alarms/{late['id']}/cancel"
    assert api("post", path, guard, json={}).status_code == 400
    assert api("post", path, world.users["teacher"], json={"reason": "x"}).status_code == 403
    assert api("post", path, world.users["police"], json={"reason": "x"}).status_code == 403
    ok = api("post", path, world.users["principal"], json={"reason": "学生误触"})
    assert ok.status_code == 200 and ok.json()["is_false_alarm"] is True


# ------------------------------------------------------------------ escalation


def test_escalation_with_a_controllable_clock(world):
    t0 = timezone.now()
    alarm, _ = services.alarm_raise(
        actor=world.users["guard"], school=world.school, kind="intrusion", now=t0
    )
    drill, _ = services.alarm_raise(
        actor=world.users["guard"], school=world.school, kind="fire", drill=True, now=t0
    )
    assert services.alarms_escalate_due(now=t0 + dt.timedelta(seconds=29)) == []
    first = services.alarms_escalate_due(now=t0 + dt.timedelta(seconds=30))
    assert {a.pk for a in first} == {alarm.pk, drill.pk}
    # Not again until the repeat interval has passed.
    assert services.alarms_escalate_due(now=t0 + dt.timedelta(seconds=60)) == []
    second = services.alarms_escalate_due(now=t0 + dt.timedelta(seconds=90))
    assert len(second) == 2
    alarm.refresh_from_db()
    assert alarm.escalation_level == 2
    services.alarm_acknowledge(
        actor=world.users["police"], alarm=alarm, now=t0 + dt.timedelta(seconds=95)
    )
    third = services.alarms_escalate_due(now=t0 + dt.timedelta(seconds=200))
    assert [a.pk for a in third] == [drill.pk]
    escalations = AlarmEvent.objects.filter(alarm=drill, type="alarm.escalated")
    assert all(e.data["drill"] for e in escalations)


def test_escalation_groups_for_drills_stay_at_the_station(world):
    from huxiao.alarms.events import groups_for_alarm

    alarm, _ = services.alarm_raise(
        actor=world.users["guard"], school=world.school, kind="fire", drill=True
    )
    station_only = groups_for_alarm(alarm, station_only=True)
    assert station_only == [f"alarms.station.{world.station.pk}", f"alarms.post.{world.post.pk}"]
    assert f"alarms.county.{world.region.pk}" in groups_for_alarm(alarm)


def test_catch_up_endpoint(world, api):
    first = _raise(api, world.users["guard"], school_id=world.school.pk).json()
    police = world.users["police"]
    everything = api("get", "/api/v1/alarms/events?since=0", police).json()
    last = everything["events"][-1]["event_id"]
    api("post", f"/api/v1/alarms/{first['id']}/acknowledge", police)
    missed = api("get", f"/api/v1/alarms/events?since={last}", police).json()
    assert [e["type"] for e in missed["events"]] == ["alarm.acknowledged"]
    assert [a["id"] for a in missed["open"]] == [first["id"]]
    assert missed["open_total"] == 1
    assert api("get", "/api/v1/alarms/events?since=0", world.users["principal2"]).json() == {
        "events": [],
        "open": [],
        "open_total": 0,
    }


@pytest.mark.django_db
def test_the_idempotency_lookup_uses_its_index_not_a_scan():
    """Every alarm POST looks its key up: on SQLite that must be an index search."""
    from django.db import connection

    from huxiao.alarms.services import idempotency_lookup

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL plans small tables as scans whatever the index")
    plan = idempotency_lookup("device:1", "k").values_list("pk").explain()
    assert "alarm_unique_idempotency_key" in plan, plan


# ------------------------------------------------------------------ found in review (2026-12-01)


def test_an_escalation_message_gives_the_local_time(world):
    from huxiao.notify.models import Notification

    t0 = timezone.make_aware(dt.datetime(2026, 3, 2, 9, 15, 0))  # Asia/Shanghai
    services.alarm_raise(actor=world.users["guard"], school=world.school, kind="fire", now=t0)
    services.alarms_escalate_due(now=t0 + dt.timedelta(seconds=31))
    body = Notification.objects.get(event_type="alarm.escalated").body
    assert "09:15:00" in body and "01:15:00" not in body


def test_repeats_come_every_interval_not_every_other_minute(
    world, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """The minute sweep starts a little early or late; a strict test skipped a whole
    minute. Each escalation also schedules the next check itself."""
    from huxiao.alarms import tasks

    t0 = timezone.make_aware(dt.datetime(2026, 3, 2, 12, 0, 29, 600000))
    alarm, _ = services.alarm_raise(
        actor=world.users["guard"], school=world.school, kind="intrusion", now=t0
    )
    assert [a.pk for a in services.alarms_escalate_due(now=t0 + dt.timedelta(seconds=30.1))] == [
        alarm.pk
    ]
    # A sweep 0.15 s before the repeat interval has passed still escalates.
    again = t0 + dt.timedelta(seconds=30.1 + 59.85)
    assert [a.pk for a in services.alarms_escalate_due(now=again)] == [alarm.pk]
    assert services.alarms_escalate_due(now=again + dt.timedelta(seconds=50)) == []

    settings.HUEY_IMMEDIATE = False
    delays = []
    monkeypatch.setattr(tasks.escalation_check, "schedule", lambda delay: delays.append(delay))
    with django_capture_on_commit_callbacks(execute=True):
        services.alarms_escalate_due(now=again + dt.timedelta(seconds=60))
    assert delays == [settings.ALARM_ESCALATE_REPEAT_SECONDS]


def test_the_school_cannot_cancel_once_the_police_are_on_the_scene(world, api):
    guard, police = world.users["guard"], world.users["police"]
    alarm = _raise(api, guard, school_id=world.school.pk).json()
    api("post", f"/api/v1/alarms/{alarm['id']}/arrive", police)
    before = _state()
    refused = api("post", f"/api/v1/alarms/{alarm['id']}/cancel", guard, json={"reason": "误触"})
    assert refused.status_code == 400
    assert "民警已到达现场" in refused.json()["errors"]["status"][0]
    assert _state() == before and Alarm.objects.get().status == "arrived"
    resolved = api(
        "post", f"/api/v1/alarms/{alarm['id']}/resolve", police, json={"outcome": "误报，已核实"}
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"


def test_cancelling_an_answered_alarm_needs_a_reason_even_within_the_window(world, api):
    guard, police = world.users["guard"], world.users["police"]
    alarm = _raise(api, guard, school_id=world.school.pk).json()
    api("post", f"/api/v1/alarms/{alarm['id']}/acknowledge", police)
    path = f"/api/v1/alarms/{alarm['id']}/cancel"
    assert api("post", path, guard, json={}).status_code == 400
    assert Alarm.objects.get().status == "acknowledged"
    ok = api("post", path, guard, json={"reason": "学生误触"})
    assert ok.status_code == 200 and ok.json()["is_false_alarm"] is True


@pytest.mark.parametrize("step", ["dispatch", "arrive", "resolve"])
def test_answering_without_acknowledging_writes_and_pushes_the_acknowledgement(
    world, api, step, monkeypatch, django_capture_on_commit_callbacks
):
    from huxiao.alarms import events

    pushed = []
    monkeypatch.setattr(
        events, "publish_on_commit", lambda event, alarm, **kw: pushed.append(event.type)
    )
    alarm = _raise(api, world.users["guard"], school_id=world.school.pk).json()
    body = {"dispatch": {"units": "巡逻车1"}, "resolve": {"outcome": "已处置"}}.get(step, {})
    answer = api("post", f"/api/v1/alarms/{alarm['id']}/{step}", world.users["police"], json=body)
    assert answer.status_code == 200
    timeline = list(AlarmEvent.objects.order_by("pk").values_list("type", flat=True))
    done = {"dispatch": "alarm.dispatched", "arrive": "alarm.arrived", "resolve": "alarm.resolved"}
    assert timeline == ["alarm.raised", "alarm.acknowledged", done[step]]
    assert pushed == timeline
    acknowledged = AlarmEvent.objects.get(type="alarm.acknowledged")
    assert acknowledged.actor == world.users["police"] and "ack_seconds" in acknowledged.data


def test_a_drills_escalation_is_caught_up_only_at_the_station(world, api):
    t0 = timezone.now() - dt.timedelta(seconds=45)
    services.alarm_raise(
        actor=world.users["guard"], school=world.school, kind="fire", drill=True, now=t0
    )
    assert len(services.alarms_escalate_due()) == 1
    hearers = {"police": True, "postofficer": True, "county": False, "gov": False}
    for name, hears in {**hearers, "principal": False}.items():
        data = api("get", "/api/v1/alarms/events?since=0", world.users[name]).json()
        types = [e["type"] for e in data["events"]]
        assert ("alarm.escalated" in types) is hears, name
        assert "alarm.raised" in types


def test_escalation_checks_go_ahead_of_outbound_deliveries_in_the_queue():
    """A delivery to an unreachable robot takes seconds; escalations must not queue behind
    them (the embedded queue takes the highest priority first)."""
    from huey.contrib.djhuey import HUEY

    from huxiao.alarms import tasks
    from huxiao.notify.tasks import DELIVERY_PRIORITY

    if not HUEY.storage.priority:
        pytest.skip("this queue's storage has no priorities (plain Redis)")
    assert tasks.escalation_check.s().priority > DELIVERY_PRIORITY
    assert tasks.escalation_sweep.s().priority > DELIVERY_PRIORITY


def test_a_school_without_a_police_station_is_told_to_call_110(world, client):
    """Its alarms reach no police and nobody on a console can answer them: the button, the
    escalation message and the school's page say so."""
    from django.urls import reverse

    from huxiao.notify.models import Notification
    from huxiao.orgs.tests.factories import SchoolFactory

    lonely = SchoolFactory(town=world.town, police_station=None, police_post=None, name="无所园")
    guard = UserFactory(username="lonelyguard")
    MembershipFactory(user=guard, organization=lonely, role=Role.GUARD)
    principal = UserFactory(username="lonelyprincipal")
    MembershipFactory(user=principal, organization=lonely, role=Role.PRINCIPAL)
    client.force_login(guard)
    assert 'data-testid="alarm-no-police"' in client.get(reverse("alarms:raise")).content.decode()
    client.force_login(world.users["guard"])  # a school with its station: no warning
    assert (
        'data-testid="alarm-no-police"' not in client.get(reverse("alarms:raise")).content.decode()
    )
    client.force_login(principal)
    page = client.get(reverse("orgs:school_detail", args=[lonely.pk])).content.decode()
    assert 'data-testid="no-police"' in page and "请在“编辑信息”中选择所属派出所" in page

    t0 = timezone.make_aware(dt.datetime(2026, 3, 2, 9, 15, 0))
    services.alarm_raise(actor=guard, school=lonely, kind="fire", now=t0)
    services.alarm_raise(actor=world.users["guard"], school=world.school, kind="fire", now=t0)
    services.alarms_escalate_due(now=t0 + dt.timedelta(seconds=31))
    bodies = {n.title: n.body for n in Notification.objects.filter(event_type="alarm.escalated")}
    lonely_body = next(body for title, body in bodies.items() if "无所园" in title)
    other_body = next(body for title, body in bodies.items() if "本园" in title)
    assert "110" in lonely_body and "110" not in other_body
