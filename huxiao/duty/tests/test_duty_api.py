"""The duty API: scope of the shift list and detail; check-in/out (404 another school, 403
not on the roster, 409 too early); log, handover, receive, open items; plan, weeks and
assignments; bad input is 400 with fields and writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.duty.choices import DutyRole, ShiftKind
from huxiao.duty.models import (
    DutyAssignment,
    DutyHandover,
    DutyLogEntry,
    DutyOpenItem,
    DutyPlan,
    DutyShift,
)
from huxiao.duty.tests.duty_fixtures import live_shift, put_on

pytestmark = pytest.mark.django_db
SHIFTS = "/api/v1/duty/shifts"


@pytest.fixture
def shift(world):
    s = live_shift(world.school)
    put_on(s, world.users["guard"], DutyRole.GUARD)
    return s


@pytest.fixture
def night(world, shift):
    n = live_shift(world.school, ShiftKind.NIGHT, start_minutes=300, hours=12)
    put_on(n, world.users["teacher"], DutyRole.STAFF)
    return n


@pytest.mark.parametrize(
    ("name", "count", "detail"),
    [
        ("principal", 1, 200),
        ("guard", 1, 200),
        ("principal2", 1, 404),
        ("police", 2, 200),
        ("farpolice", 1, 404),
        ("gov", 2, 200),
        ("county", 3, 200),
    ],
)
def test_list_and_detail_scope(api, world, shift, name, count, detail):
    live_shift(world.other_school)
    live_shift(world.far_school)
    response = api("get", SHIFTS, world.users[name])
    assert response.status_code == 200
    assert response.json()["count"] == count
    assert api("get", f"{SHIFTS}/{shift.pk}", world.users[name]).status_code == detail


def test_list_filters_and_errors(api, world, shift):
    p = world.users["principal"]
    today = timezone.localdate()
    body = api("get", f"{SHIFTS}?school_id={world.school.pk}&date={today}", p).json()
    assert [s["id"] for s in body["items"]] == [shift.pk]
    assert body["items"][0]["assignments"][0]["role"] == "guard"
    assert api("get", f"{SHIFTS}?school_id={world.other_school.pk}", p).status_code == 404
    assert api("get", f"{SHIFTS}?date=tomorrow", p).status_code == 400
    far = today + dt.timedelta(days=40)
    assert api("get", f"{SHIFTS}?date={today}&date_to={far}", p).status_code == 400
    assert api("get", SHIFTS, world.users["nobody"]).status_code == 403
    assert api("get", SHIFTS).status_code == 401


def test_check_in_and_out(api, world, shift):
    g = world.users["guard"]
    assert api("post", f"{SHIFTS}/{shift.pk}/check-out", g).status_code == 409
    response = api("post", f"{SHIFTS}/{shift.pk}/check-in", g)
    assert response.status_code == 200 and response.json()["checked_in_at"]
    response = api("post", f"{SHIFTS}/{shift.pk}/check-out", g)
    assert response.status_code == 200 and response.json()["checked_out_at"]


@pytest.mark.parametrize(
    ("name", "status"),
    [("teacher", 403), ("principal", 403), ("principal2", 404), ("police", 403), ("nobody", 404)],
)
def test_check_in_refusals(api, world, shift, name, status):
    response = api("post", f"{SHIFTS}/{shift.pk}/check-in", world.users[name])
    assert response.status_code == status
    assert not DutyAssignment.objects.filter(checked_in_at__isnull=False).exists()


def test_check_in_another_school_shift_is_404(api, world):
    other = live_shift(world.other_school)
    put_on(other, world.users["principal2"])
    response = api("post", f"{SHIFTS}/{other.pk}/check-in", world.users["guard"])
    assert response.status_code == 404
    assert not DutyAssignment.objects.filter(checked_in_at__isnull=False).exists()


def test_check_in_too_early_is_409(api, world):
    later = live_shift(world.school, start_minutes=120)
    put_on(later, world.users["guard"])
    response = api("post", f"{SHIFTS}/{later.pk}/check-in", world.users["guard"])
    assert response.status_code == 409 and response.json()["detail"]


def test_log_handover_receive_close(api, world, shift, night):
    g, t = world.users["guard"], world.users["teacher"]
    bad = api("post", f"{SHIFTS}/{shift.pk}/log", g, json={"text": "", "kind": "routine"})
    assert bad.status_code == 400 and "text" in bad.json()["errors"]
    assert (
        api("post", f"{SHIFTS}/{shift.pk}/log", g, json={"text": "x", "kind": "?"}).status_code
        == 400
    )
    future = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    bad = api("post", f"{SHIFTS}/{shift.pk}/log", g, json={"text": "x", "at": future})
    assert bad.status_code == 400 and "at" in bad.json()["errors"]
    ok = api("post", f"{SHIFTS}/{shift.pk}/log", g, json={"text": "门岗正常", "kind": "routine"})
    assert ok.status_code == 201 and ok.json()["author"]
    assert api("post", f"{SHIFTS}/{shift.pk}/log", t, json={"text": "x"}).status_code == 403
    assert DutyLogEntry.objects.count() == 1

    bad = api("post", f"{SHIFTS}/{shift.pk}/handover", g, json={"open_items": ["x" * 600]})
    assert bad.status_code == 400 and "open_items" in bad.json()["errors"]
    assert not DutyHandover.objects.exists()
    response = api(
        "post", f"{SHIFTS}/{shift.pk}/handover", g, json={"notes": "正常", "open_items": ["报修"]}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["to_shift_id"] == night.pk and body["open_items"][0]["text"] == "报修"
    assert api("post", f"{SHIFTS}/{shift.pk}/handover", g, json={}).status_code == 409
    detail = api("get", f"{SHIFTS}/{night.pk}", t).json()
    assert detail["handovers_in"][0]["id"] == body["id"]
    assert [i["text"] for i in detail["open_items"]] == ["报修"]

    receive = f"/api/v1/duty/handovers/{body['id']}/receive"
    assert api("post", receive, g).status_code == 403
    assert api("post", receive, world.users["principal2"]).status_code == 404
    assert api("post", receive, t).status_code == 200
    assert api("post", receive, t).status_code == 409

    item = DutyOpenItem.objects.get()
    close = f"/api/v1/duty/open-items/{item.pk}/close"
    assert api("post", close, t, json={"note": " "}).status_code == 400
    assert api("post", close, world.users["principal2"], json={"note": "x"}).status_code == 404
    assert api("post", close, t, json={"note": "已修好"}).status_code == 200
    assert api("post", close, t, json={"note": "again"}).status_code == 409


def test_plan_week_assignments(api, world):
    p, g = world.users["principal"], world.users["guard"]
    plan_url = f"/api/v1/duty/schools/{world.school.pk}/plan"
    assert api("get", plan_url, p).json()["day_starts"] == "07:00:00"
    assert api("get", plan_url, world.users["principal2"]).status_code == 404
    data = {
        "day_starts": "07:30",
        "night_starts": "19:30",
        "check_in_grace_minutes": 10,
        "monitoring_max_gap_minutes": 60,
        "night_round_from": "22:00",
        "night_round_until": "04:00",
    }
    assert api("put", plan_url, g, json=data).status_code == 403
    bad = api("put", plan_url, p, json={**data, "check_in_grace_minutes": 100000})
    assert bad.status_code == 400 and "check_in_grace_minutes" in bad.json()["errors"]
    assert not DutyPlan.objects.exists()
    assert api("put", plan_url, p, json=data).status_code == 200

    weeks = f"/api/v1/duty/schools/{world.school.pk}/weeks"
    monday = timezone.localdate() + dt.timedelta(days=7)
    response = api("post", weeks, p, json={"week_start": monday.isoformat()})
    assert response.status_code == 200 and response.json()["count"] == 14
    assert api("post", weeks, p, json={"week_start": monday.isoformat()}).json()["count"] == 0
    assert api("post", weeks, g, json={"week_start": monday.isoformat()}).status_code == 403
    assert api("post", weeks, p, json={"week_start": "x"}).status_code == 400
    assert DutyShift.objects.count() == 14

    shift = DutyShift.objects.order_by("starts_at").first()
    assert shift.starts_at.astimezone(timezone.get_current_timezone()).hour == 7
    add = f"{SHIFTS}/{shift.pk}/assignments"
    response = api("post", add, p, json={"user_id": g.pk, "role": "guard"})
    assert response.status_code == 201
    other = api("post", add, p, json={"user_id": world.users["principal2"].pk, "role": "guard"})
    assert other.status_code == 400 and "user" in other.json()["errors"]
    assert api("post", add, p, json={"user_id": g.pk, "role": "boss"}).status_code == 400
    assert api("post", add, g, json={"user_id": g.pk, "role": "guard"}).status_code == 403
    remove = f"/api/v1/duty/assignments/{response.json()['id']}"
    assert api("delete", remove, world.users["principal2"]).status_code == 404
    assert api("delete", remove, g).status_code == 403
    assert api("delete", remove, p).status_code == 204
    assert not DutyAssignment.objects.exists()
