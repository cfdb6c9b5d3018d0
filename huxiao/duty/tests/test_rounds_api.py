"""/api/v1/duty/scans and /api/v1/duty/rounds: role × scope, the same rules as the scan
page, one day of a school against the rule (ADR 0029 "Rounds")."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.duty.models import CheckpointScan, PatrolRound
from huxiao.duty.tests.rounds_fixtures import (
    KEEPERS,
    VIEWERS,
    build_rounds_world,
    expect,
    local,
    today,
    walk,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def rounds_world(world):
    return build_rounds_world(world)


SCANS = "/api/v1/duty/scans"
ROUNDS = "/api/v1/duty/rounds"


def user(w, who):
    return None if who == "anonymous" else w.users[who]


@pytest.mark.parametrize(
    ("who", "status"), expect({201: KEEPERS, 404: {"principal2"}}, anonymous=401).items()
)
def test_scan(rounds_world, api, who, status):
    w = rounds_world
    r = api("post", SCANS, user=user(w, who), json={"code": w.cps[w.school.pk]["大门"].code})
    assert r.status_code == status
    if status == 201:
        body = r.json()
        assert (body["position"], body["total"], body["duplicate"]) == (1, 3, False)
        assert [c["checkpoint"] for c in body["left"]] == ["教学楼", "食堂"]
        assert body["round"]["scans"][0]["checkpoint"] == "大门"
    else:
        assert not PatrolRound.objects.exists()
    if status == 404:
        assert r.json()["detail"] != "Not found."


def test_scan_flow(rounds_world, api):
    w = rounds_world
    g = w.users["guard"]
    cps = w.cps[w.school.pk]
    assert api("post", SCANS, user=g, json={"code": cps["大门"].code}).status_code == 201
    r = api("post", SCANS, user=g, json={"code": cps["大门"].code})
    assert r.status_code == 200 and r.json()["duplicate"]
    api("post", SCANS, user=g, json={"code": cps["教学楼"].code, "note": "正常"})
    r = api("post", SCANS, user=g, json={"code": cps["食堂"].code})
    assert r.status_code == 201 and r.json()["finished"] and r.json()["round"]["finished_at"]
    assert CheckpointScan.objects.count() == 3


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"code": 5},
        {"code": "x" * 501},
        {"code": "ok", "note": "x" * 501},
        {"code": "a", "x": 1},
    ],
)
def test_scan_bad_input(rounds_world, api, payload):
    w = rounds_world
    if payload.get("code") == "ok":
        payload = {**payload, "code": w.cps[w.school.pk]["大门"].code}
    r = api("post", SCANS, user=w.users["guard"], json=payload)
    assert r.status_code == 400
    assert not PatrolRound.objects.exists()


def test_scan_unknown_codes(rounds_world, api):
    w = rounds_world
    for code in ("", "nope", w.cps[w.other_school.pk]["校门"].code, "../../x"):
        r = api("post", SCANS, user=w.users["guard"], json={"code": code})
        assert r.status_code == 404
    assert not PatrolRound.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"),
    expect({200: VIEWERS, 404: {"principal2", "farpolice"}}, anonymous=401).items(),
)
def test_rounds_of_a_day(rounds_world, api, who, status):
    w = rounds_world
    yesterday = today() - dt.timedelta(days=1)
    walk(w, ["大门", "教学楼"], start=local(yesterday, 9))
    walk(w, ["大门"], start=local(yesterday, 11))
    r = api("get", f"{ROUNDS}?school_id={w.school.pk}&date={yesterday}", user=user(w, who))
    assert r.status_code == status
    if status == 200:
        body = r.json()
        assert (body["required"], body["day_rounds"], body["missed"]) == (5, 1, True)
        assert [x["counted"] for x in body["rounds"]] == [True, False]
        assert body["rounds"][0]["guard"] and len(body["rounds"][0]["scans"]) == 2


def test_rounds_today_by_default_and_bad_input(rounds_world, api):
    w = rounds_world
    g = w.users["guard"]
    r = api("get", f"{ROUNDS}?school_id={w.school.pk}", user=g)
    assert r.status_code == 200 and r.json()["date"] == str(timezone.localdate())
    assert not r.json()["missed"]
    assert (
        api("get", f"{ROUNDS}?school_id={w.school.pk}&date=2026-02-30", user=g).status_code == 400
    )
    assert api("get", ROUNDS, user=g).status_code == 400
    assert api("get", f"{ROUNDS}?school_id=abc", user=g).status_code == 400
    assert api("get", f"{ROUNDS}?school_id={w.station.pk}", user=g).status_code == 404


def test_finish(rounds_world, api):
    w = rounds_world
    r = api("post", SCANS, user=w.users["guard"], json={"code": w.cps[w.school.pk]["大门"].code})
    rid = r.json()["round"]["id"]
    url = f"{ROUNDS}/{rid}/finish"
    assert api("post", url, user=w.users["teacher"]).status_code == 403
    assert api("post", url, user=w.users["principal2"]).status_code == 404
    assert api("post", url, user=w.users["police"]).status_code == 403
    assert api("post", url).status_code == 401
    r = api("post", url, user=w.users["guard"])
    assert r.status_code == 200 and r.json()["finished_at"]
    r = api("post", url, user=w.users["guard"])
    assert r.status_code == 409 and r.json()["detail"]
