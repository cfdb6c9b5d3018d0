"""Pass API: role × scope for every endpoint, the shape of a scan's answer, bad input."""

from __future__ import annotations

import datetime as dt

import pytest

from huxiao.access import pass_services
from huxiao.access.choices import PassKind
from huxiao.access.models import GatePass, PassScan
from huxiao.access.tests.pass_fixtures import (
    ELSEWHERE,
    GATE,
    MANAGERS,
    add_gate_users,
    expect,
    issue,
    now,
    user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def gate(world):
    return add_gate_users(world)


def _new_pass(world):
    return {
        "school_id": world.school.pk,
        "kind": "vehicle",
        "holder_name": "配送公司",
        "plate": "京a·12345",
        "valid_until": (now() + dt.timedelta(days=10)).isoformat(),
    }


@pytest.mark.parametrize(("who", "status"), expect({201: MANAGERS, 404: {"principal2"}}).items())
def test_issue_matrix(gate, api, who, status):
    r = api("post", "/api/v1/passes", user(gate, who), json=_new_pass(gate))
    assert r.status_code == status, r.content
    assert GatePass.objects.count() == (1 if status == 201 else 0)
    if status == 201:
        body = r.json()
        assert body["plate"] == "京A12345"
        assert body["code"] == pass_services.pass_code(GatePass.objects.get())


def test_issue_without_school_uses_the_only_one(gate, api):
    data = _new_pass(gate)
    del data["school_id"]
    r = api("post", "/api/v1/passes", gate.users["principal"], json=data)
    assert r.status_code == 201
    assert r.json()["school_id"] == gate.school.pk


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"plate": "京AI2345"}, "plate"),
        ({"kind": "gold"}, "kind"),
        ({"valid_until": "not a date"}, "valid_until"),
        ({"staff_id": 0}, "staff_id"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_issue_bad_input_is_400_with_the_field(gate, api, change, field):
    r = api("post", "/api/v1/passes", gate.users["principal"], json={**_new_pass(gate), **change})
    assert r.status_code == 400, r.content
    assert field in r.json()["errors"]
    assert not GatePass.objects.exists()


@pytest.mark.parametrize(("who", "status"), expect({200: MANAGERS, 404: {"principal2"}}).items())
def test_detail_matrix(gate, api, who, status):
    gate_pass = issue(gate)
    r = api("get", f"/api/v1/passes/{gate_pass.pk}", user(gate, who))
    assert r.status_code == status
    if status != 200:
        assert "code" not in r.json()


@pytest.mark.parametrize(("who", "status"), expect({200: MANAGERS | {"principal2"}}).items())
def test_list_matrix(gate, api, who, status):
    mine = issue(gate)
    r = api("get", "/api/v1/passes", user(gate, who))
    assert r.status_code == status
    if status == 200:
        ids = {p["id"] for p in r.json()["items"]}
        assert (mine.pk in ids) == (who in MANAGERS)


@pytest.mark.parametrize(("who", "status"), expect({200: MANAGERS, 404: {"principal2"}}).items())
def test_revoke_matrix(gate, api, who, status):
    gate_pass = issue(gate)
    r = api(
        "post", f"/api/v1/passes/{gate_pass.pk}/revoke", user(gate, who), json={"reason": "丢失"}
    )
    assert r.status_code == status
    gate_pass.refresh_from_db()
    assert (gate_pass.revoked_at is not None) == (status == 200)


def test_revoke_needs_a_reason(gate, api):
    gate_pass = issue(gate)
    r = api(
        "post",
        f"/api/v1/passes/{gate_pass.pk}/revoke",
        gate.users["principal"],
        json={"reason": ""},
    )
    assert r.status_code == 400 and "reason" in r.json()["errors"]


@pytest.mark.parametrize(("who", "status"), expect({200: GATE, 404: ELSEWHERE}).items())
def test_scan_matrix(gate, api, who, status):
    code = pass_services.pass_code(issue(gate))
    r = api(
        "post",
        "/api/v1/passes/scan",
        user(gate, who),
        json={"school_id": gate.school.pk, "code": code},
    )
    assert r.status_code == status
    assert PassScan.objects.count() == (1 if status == 200 else 0)


def test_scan_answers_accepted_with_the_holder(gate, api):
    code = pass_services.pass_code(issue(gate))
    body = api("post", "/api/v1/passes/scan", gate.users["guard"], json={"code": code}).json()
    assert body["result"] == "accepted"
    assert body["holder_name"] == gate.staff.name and body["kind"] == "staff"


def test_refused_scan_is_200_with_reason_and_no_holder(gate, api):
    foreign = issue(gate, school=gate.other_school)
    r = api(
        "post",
        "/api/v1/passes/scan",
        gate.users["guard"],
        json={"code": pass_services.pass_code(foreign)},
    )
    assert r.status_code == 200
    body = r.json()
    assert (body["result"], body["reason"]) == ("refused", "other_school")
    assert body["holder_name"] == "" and body["pass_id"] is None
    assert foreign.holder_name not in r.content.decode()


def test_replayed_one_time_over_the_api(gate, api):
    code = pass_services.pass_code(issue(gate, PassKind.ONE_TIME))
    first = api("post", "/api/v1/passes/scan", gate.users["guard"], json={"code": code}).json()
    second = api("post", "/api/v1/passes/scan", gate.users["guard"], json={"code": code}).json()
    assert first["result"] == "accepted"
    assert (second["result"], second["reason"]) == ("refused", "replayed")


def test_scan_bad_direction_is_400(gate, api):
    r = api(
        "post", "/api/v1/passes/scan", gate.users["guard"], json={"code": "x", "direction": "up"}
    )
    assert r.status_code == 400 and "direction" in r.json()["errors"]
    assert not PassScan.objects.exists()


@pytest.mark.parametrize(("who", "status"), expect({200: GATE | ELSEWHERE}).items())
def test_scan_log_matrix(gate, api, who, status):
    pass_services.pass_scan(actor=gate.users["guard"], school=gate.school, text="noise")
    r = api("get", "/api/v1/passes/scans", user(gate, who))
    assert r.status_code == status
    if status == 200:
        assert r.json()["count"] == (1 if who in GATE else 0)
