# ruff: noqa: F811 - the `buses` fixture imported from inspection_fixtures is an argument here
"""The inspection API (ADR 0031 "Inspections"): role × scope for every endpoint, the shape
of the answers, bad input as 400 by field with nothing written, 409 for a step the finding's
state does not allow."""

from __future__ import annotations

import pytest

from huxiao.notify.models import Notification
from huxiao.transport import inspection_services as services
from huxiao.transport.choices import FindingStatus
from huxiao.transport.models import BusFinding, BusInspection
from huxiao.transport.tests.inspection_fixtures import (
    READERS,
    buses,  # noqa: F401 - a fixture
    make_trip,
)

pytestmark = pytest.mark.django_db
BASE = "/api/v1/transport"
CHECK = {"plate": "冀A·X3712", "kind": "random", "riders_counted": 23, "location": "G107"}


@pytest.fixture
def inspection(buses):
    return services.inspection_record(actor=buses.users["officer"], **CHECK)


@pytest.fixture
def finding(inspection):
    return inspection.findings.get()


# ------------------------------------------------------------------ scope matrix


@pytest.mark.parametrize(("name", "status"), READERS)
def test_reading_a_check_and_a_finding(api, buses, inspection, finding, name, status):
    user = buses.users[name]
    assert api("get", f"{BASE}/inspections/{inspection.pk}", user).status_code == status
    assert api("get", f"{BASE}/findings/{finding.pk}", user).status_code == status


@pytest.mark.parametrize(
    ("name", "status", "count"),
    [
        ("principal", 200, 1),
        ("principal2", 200, 0),
        ("officer", 200, 1),
        ("farpolice", 200, 0),
        ("county", 200, 1),
        ("nobody", 403, 0),
    ],
)
def test_lists_are_scoped(api, buses, inspection, name, status, count):
    for path in ("inspections", "findings"):
        r = api("get", f"{BASE}/{path}", buses.users[name])
        assert r.status_code == status, path
        if status == 200:
            assert r.json()["count"] == count, path


def test_anonymous_is_401(api, buses, inspection, finding):
    assert api("get", f"{BASE}/inspections").status_code == 401
    assert api("post", f"{BASE}/inspections", json=CHECK).status_code == 401
    r = api("post", f"{BASE}/findings/{finding.pk}/resolve", json={})
    assert r.status_code == 401
    assert BusInspection.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("officer", 201),
        ("police", 201),
        ("postofficer", 201),
        ("farpolice", 400),
        ("principal", 403),
        ("security", 403),
        ("county", 403),
        ("nobody", 403),
    ],
)
def test_recording_a_check(api, buses, name, status):
    r = api("post", f"{BASE}/inspections", buses.users[name], json=CHECK)
    assert r.status_code == status
    if status == 201:
        body = r.json()
        assert body["plate"] == "冀AX3712" and body["seats"] == 19
        assert [f["kind"] for f in body["findings"]] == ["overload"]
        assert body["findings"][0]["detail"] == "核载19人，实载23人"
        assert body["findings"][0]["state"] == "follow_up"
        assert body["no_problem_found"] is False
    else:
        assert not BusInspection.objects.exists()
    if status == 400:
        # Another jurisdiction's bus reads as an unknown plate.
        assert r.json()["errors"] == {"plate": ["您检查范围内的学校没有这个车牌的校车。"]}


def test_preview_writes_nothing(api, buses):
    make_trip(buses)
    r = api("post", f"{BASE}/inspections/preview", buses.users["officer"], json=CHECK)
    assert r.status_code == 200
    body = r.json()
    assert body["school_name"] == "本园" and body["trip_id"] is not None
    assert body["driver_name"] == "王师傅"
    assert [f["kind_label"] for f in body["findings"]] == ["超员"]
    assert not BusInspection.objects.exists() and not Notification.objects.exists()


def test_a_check_without_findings(api, buses):
    r = api(
        "post",
        f"{BASE}/inspections",
        buses.users["officer"],
        json={"plate": "冀AX3712", "kind": "scheduled", "riders_counted": 10},
    )
    assert r.status_code == 201
    assert r.json()["no_problem_found"] is True and r.json()["findings"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"riders_counted": 70}, "riders_counted"),
        ({"riders_counted": 10**30}, "riders_counted"),
        ({"speed_kmh": 201}, "speed_kmh"),
        ({"driving_minutes": 1441}, "driving_minutes"),
        ({"inspected_at": "2999-01-01T08:00:00+08:00"}, "inspected_at"),
        ({"inspected_at": "1970-01-01T08:00:00+08:00"}, "inspected_at"),
        ({"inspected_at": "0001-01-01T00:00:00+08:00"}, "inspected_at"),
        ({"kind": "daily"}, "kind"),
        ({"plate": "冀AX9999"}, "plate"),
        ({"driver_id": 2**63 - 1}, "driver_id"),
        ({"driver_id": 2**63}, "driver_id"),
        ({"riders_counted": "many"}, "riders_counted"),
        ({"surprise": 1}, "surprise"),
        ({"deadline": "0001-01-01"}, "deadline"),
    ],
)
def test_bad_input_is_400_by_field(api, buses, body, field):
    r = api("post", f"{BASE}/inspections", buses.users["officer"], json={**CHECK, **body})
    assert r.status_code == 400
    assert field in r.json()["errors"]
    assert not BusInspection.objects.exists()


@pytest.mark.parametrize("body", [None, "", "[]", "{", '{"plate": null}'])
def test_empty_or_broken_bodies_are_400(api, buses, body):
    kwargs = {"data": body, "content_type": "application/json"} if body is not None else {}
    token = api.token_for(buses.users["officer"])
    r = api.client.post(f"{BASE}/inspections", HTTP_AUTHORIZATION=f"Bearer {token}", **kwargs)
    assert r.status_code == 400
    assert not BusInspection.objects.exists()


def test_huge_ids_and_offsets(api, buses, inspection):
    officer = buses.users["officer"]
    for path in (f"inspections/{2**63}", f"inspections/{10**30}", f"findings/{2**63}"):
        assert api("get", f"{BASE}/{path}", officer).status_code in (400, 404), path
    for path in ("inspections", "findings"):
        r = api("get", f"{BASE}/{path}?offset={10**20}&limit={10**20}", officer)
        assert r.status_code == 200, path
        assert r.json()["items"] == []
    assert api(
        "get", f"{BASE}/inspections?school_id={buses.far_school.pk}", officer
    ).status_code == (404)


# ------------------------------------------------------------------ the follow-up steps


def test_follow_up_flow(api, buses, finding):
    url = f"{BASE}/findings/{finding.pk}"
    r = api("post", f"{url}/follow-up", buses.users["principal"], json={"text": "已改乘"})
    assert r.status_code == 200 and r.json()["state"] == "review"
    r = api("get", f"{BASE}/findings?state=review", buses.users["officer"])
    assert [f["id"] for f in r.json()["items"]] == [finding.pk]
    r = api("post", f"{url}/send-back", buses.users["officer"], json={"reason": "请附名单"})
    assert r.status_code == 200 and r.json()["sent_back"] is True
    assert [e["label"] for e in r.json()["entries"]] == ["学校整改情况", "民警退回"]
    api("post", f"{url}/follow-up", buses.users["security"], json={"text": "名单已附"})
    r = api("post", f"{url}/resolve", buses.users["police"], json={"note": "核实"})
    assert r.status_code == 200 and r.json()["state"] == "resolved"
    r = api("post", f"{url}/follow-up", buses.users["principal"], json={"text": "再补充"})
    assert r.status_code == 409
    assert r.json()["detail"] == "该问题已办结。"


@pytest.mark.parametrize(
    ("step", "body", "name", "status"),
    [
        ("follow-up", {"text": "x"}, "principal", 200),
        ("follow-up", {"text": "x"}, "security", 200),
        ("follow-up", {"text": "x"}, "teacher", 403),
        ("follow-up", {"text": "x"}, "officer", 403),
        ("follow-up", {"text": "x"}, "principal2", 404),
        ("resolve", {}, "officer", 200),
        ("resolve", {}, "postofficer", 200),
        ("resolve", {}, "principal", 403),
        ("resolve", {}, "county", 403),
        ("resolve", {}, "farpolice", 404),
        ("send-back", {"reason": "x"}, "officer", 409),
        ("send-back", {"reason": "x"}, "principal", 403),
        ("hazard", None, "officer", 201),
        ("hazard", None, "principal", 201),
        ("hazard", None, "farpolice", 404),
    ],
)
def test_steps_role_and_scope(api, buses, finding, step, body, name, status):
    r = api("post", f"{BASE}/findings/{finding.pk}/{step}", buses.users[name], json=body or {})
    assert r.status_code == status
    finding.refresh_from_db()
    if status >= 400:
        assert finding.status == FindingStatus.OPEN and finding.hazard_id is None
        assert finding.follow_up == ""


@pytest.mark.parametrize(
    ("step", "body", "field"),
    [
        ("follow-up", {"text": ""}, "text"),
        ("follow-up", {"text": "x" * 501}, "text"),
        ("follow-up", {}, "text"),
        ("follow-up", {"text": "x", "extra": 1}, "extra"),
        ("resolve", {"note": "y" * 501}, "note"),
    ],
)
def test_bad_step_input(api, buses, finding, step, body, field):
    user = buses.users["principal" if step == "follow-up" else "officer"]
    r = api("post", f"{BASE}/findings/{finding.pk}/{step}", user, json=body)
    assert r.status_code == 400
    assert field in r.json()["errors"]
    assert BusFinding.objects.get(pk=finding.pk).follow_up == ""


def test_send_back_bad_deadline(api, buses, finding):
    api(
        "post",
        f"{BASE}/findings/{finding.pk}/follow-up",
        buses.users["principal"],
        json={"text": "x"},
    )
    r = api(
        "post",
        f"{BASE}/findings/{finding.pk}/send-back",
        buses.users["officer"],
        json={"reason": "y", "deadline": "2001-01-01"},
    )
    assert r.status_code == 400 and "deadline" in r.json()["errors"]
    assert r.json()["errors"]["deadline"] == ["整改期限不能早于今天。"]


def test_lists_do_not_grow_a_query_a_row(api, buses, inspection):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    officer = buses.users["officer"]
    api.token_for(officer)

    def count(path):
        with CaptureQueriesContext(connection) as queries:
            assert api("get", f"{BASE}/{path}", officer).status_code == 200
        return len(queries)

    count("inspections")  # the token's first use writes once
    before = {path: count(path) for path in ("inspections", "findings")}
    for riders in range(40, 45):
        services.inspection_record(actor=officer, plate="冀AX5820", riders_counted=riders)
    assert {path: count(path) for path in ("inspections", "findings")} == before
