"""Patrol round pages: the scan page on the guard's phone, the rounds page with its code
field, one round and ending it — role × scope for each (ADR 0029 "Rounds")."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.duty import rounds_services
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


def call(client, world, who, method, url, data=None):
    if who != "anonymous":
        client.force_login(world.users[who])
    if method == "get":
        return client.get(url)
    return client.post(url, data or {})


def scan_url(world, name, school=None):
    school = school or world.school
    return reverse("duty:scan", args=[world.cps[school.pk][name].code])


# ------------------------------------------------------------------ the scan page


@pytest.mark.parametrize(("who", "status"), expect({200: KEEPERS, 404: {"principal2"}}).items())
def test_scan_page(rounds_world, client, who, status):
    w = rounds_world
    r = call(client, w, who, "get", scan_url(w, "大门"))
    assert r.status_code == status
    body = r.content.decode()
    if status == 200:
        assert 'data-testid="scan-ok"' in body and 'data-testid="finish"' in body
        assert 'data-testid="continue"' in body and "大门" in body
        assert r["Cache-Control"] == "no-store"
        assert PatrolRound.objects.get().guard == w.users[who]
    else:
        assert not PatrolRound.objects.exists()
    if status == 404:
        assert 'data-testid="scan-unknown"' in body


def test_scan_page_sends_the_anonymous_to_login_and_back(rounds_world, client):
    w = rounds_world
    url = scan_url(w, "大门")
    r = client.get(url)
    assert r.status_code == 302 and r["Location"].startswith(reverse("accounts:login"))
    assert "next=" in r["Location"] and w.cps[w.school.pk]["大门"].code in r["Location"]
    assert not PatrolRound.objects.exists()


def test_scan_walk_on_the_phone(rounds_world, client):
    w = rounds_world
    client.force_login(w.users["guard"])
    r = client.get(scan_url(w, "大门"))
    body = r.content.decode()
    assert 'data-testid="scan-position"' in body
    assert body.count('data-testid="scanned"') == 1 and body.count('data-testid="left"') == 2
    r = client.get(scan_url(w, "大门"))
    assert r.status_code == 200 and 'data-testid="scan-repeat"' in r.content.decode()
    client.get(scan_url(w, "教学楼"))
    r = client.get(scan_url(w, "食堂"))
    body = r.content.decode()
    assert 'data-testid="round-complete"' in body and 'data-testid="back-to-rounds"' in body
    assert CheckpointScan.objects.count() == 3
    assert PatrolRound.objects.get().finished_at is not None


def test_scan_unknown_retired_and_other_school_codes(rounds_world, client):
    w = rounds_world
    client.force_login(w.users["guard"])
    for url in (
        scan_url(w, "校门", w.other_school),
        scan_url(w, "外镇大门", w.far_school),
        reverse("duty:scan", args=["no-such-code"]),
        "/duty/scan/" + "x" * 40 + "/",
        "/duty/scan/%E5%A4%A7%E9%97%A8/",
    ):
        r = client.get(url)
        assert r.status_code == 404, url
        assert 'data-testid="scan-unknown"' in r.content.decode()
    assert not PatrolRound.objects.exists()
    assert client.post(scan_url(w, "大门")).status_code == 405


# ------------------------------------------------------------------ the rounds page


@pytest.mark.parametrize(
    ("who", "status"), expect({200: VIEWERS, 404: {"principal2", "farpolice"}}).items()
)
def test_rounds_page(rounds_world, client, who, status):
    w = rounds_world
    walk(w, ["大门", "教学楼"], start=timezone.now() - dt.timedelta(hours=3))
    r = call(client, w, who, "get", reverse("duty:rounds", args=[w.school.pk]))
    assert r.status_code == status
    if status == 200:
        body = r.content.decode()
        assert body.count('data-testid="day"') == 8
        assert 'data-testid="round"' in body and "大门" in body
        assert ('data-testid="code-form"' in body) == (who in KEEPERS)
        assert ('data-testid="manage-checkpoints"' in body) == (who == "principal")
        # Never a plate's code on this page.
        assert w.cps[w.school.pk]["大门"].code not in body


def test_rounds_page_highlights_missed_days(rounds_world, client):
    w = rounds_world
    yesterday = today() - dt.timedelta(days=1)
    for hour in (8, 9, 10, 11, 14):
        walk(w, ["大门", "食堂"], start=local(yesterday, hour))
    two_days = today() - dt.timedelta(days=2)
    walk(w, ["大门", "食堂"], start=local(two_days, 9))
    client.force_login(w.users["edu"])
    body = client.get(reverse("duty:rounds", args=[w.school.pk])).content.decode()
    assert f'data-day="{yesterday:%Y-%m-%d}"' in body
    chunk = body.split(f'data-day="{yesterday:%Y-%m-%d}"')[1].split('data-testid="day"')[0]
    assert "data-missed" not in chunk.split(">")[0]
    chunk = body.split(f'data-day="{two_days:%Y-%m-%d}"')[1]
    assert chunk.startswith(' data-missed="1"')
    # Today is never "missed" while it lasts.
    chunk = body.split(f'data-day="{today():%Y-%m-%d}"')[1]
    assert not chunk.startswith(' data-missed="1"')


def test_manual_code_entry(rounds_world, client):
    w = rounds_world
    client.force_login(w.users["guard"])
    url = reverse("duty:rounds", args=[w.school.pk])
    code = w.cps[w.school.pk]["大门"].code
    r = client.post(url, {"code": f"http://testserver/duty/scan/{code}/"})
    assert r.status_code == 200
    body = r.content.decode()
    assert 'data-testid="scan-ok"' in body and 'data-testid="code-form"' in body
    r = client.post(url, {"code": code})
    assert 'data-testid="scan-repeat"' in r.content.decode()
    assert CheckpointScan.objects.count() == 1
    # The open round shows on the page.
    assert 'data-testid="open-round"' in client.get(url).content.decode()
    # Unknown, another school's, empty: errors in place, nothing written.
    r = client.post(url, {"code": w.cps[w.other_school.pk]["校门"].code})
    assert r.status_code == 404 and 'class="hx-error"' in r.content.decode()
    r = client.post(url, {"code": "nope"})
    assert r.status_code == 404
    r = client.post(url, {"code": ""})
    assert r.status_code == 400
    assert CheckpointScan.objects.count() == 1


@pytest.mark.parametrize(
    ("who", "status"),
    expect({200: KEEPERS, 404: {"principal2", "farpolice"}}).items(),
)
def test_manual_code_entry_scope(rounds_world, client, who, status):
    w = rounds_world
    url = reverse("duty:rounds", args=[w.school.pk])
    r = call(client, w, who, "post", url, {"code": w.cps[w.school.pk]["大门"].code})
    assert r.status_code == status
    assert CheckpointScan.objects.count() == (1 if status == 200 else 0)


def test_rounds_home(rounds_world, client):
    w = rounds_world
    client.force_login(w.users["guard"])
    r = client.get(reverse("duty:rounds_home"))
    assert r.status_code == 302 and r["Location"] == reverse("duty:rounds", args=[w.school.pk])
    client.force_login(w.users["edu"])
    r = client.get(reverse("duty:rounds_home"))
    assert r.status_code == 200 and 'data-testid="school-list"' in r.content.decode()
    client.force_login(w.users["nobody"])
    assert client.get(reverse("duty:rounds_home")).status_code == 403


def test_bad_school_ids(rounds_world, client):
    client.force_login(rounds_world.users["county"])
    assert client.get(f"/duty/schools/{2**63}/rounds/").status_code == 404
    assert client.get("/duty/schools/999999/rounds/").status_code == 404
    # An office is no school.
    station = rounds_world.station
    assert client.get(reverse("duty:rounds", args=[station.pk])).status_code == 404


# ------------------------------------------------------------------ one round, ending it


@pytest.fixture
def open_round(rounds_world):
    w = rounds_world
    now = timezone.now()
    out = rounds_services.checkpoint_scan(
        actor=w.users["guard"],
        code=w.cps[w.school.pk]["大门"].code,
        now=now - dt.timedelta(minutes=5),
    )
    w.round = out.round
    return w


@pytest.mark.parametrize(
    ("who", "status"), expect({200: VIEWERS, 404: {"principal2", "farpolice"}}).items()
)
def test_round_detail(open_round, client, who, status):
    w = open_round
    r = call(client, w, who, "get", reverse("duty:round_detail", args=[w.round.pk]))
    assert r.status_code == status
    if status == 200:
        body = r.content.decode()
        assert ('data-testid="finish"' in body) == (who in {"guard", "principal"})
        assert body.count('data-testid="left"') == 2


@pytest.mark.parametrize(
    ("who", "status"),
    expect({302: {"guard", "principal"}, 403: {"teacher"}, 404: {"principal2"}}).items(),
)
def test_round_finish(open_round, client, who, status):
    w = open_round
    r = call(client, w, who, "post", reverse("duty:round_finish", args=[w.round.pk]))
    assert r.status_code == status
    w.round.refresh_from_db()
    assert (w.round.finished_at is not None) == (who in {"guard", "principal"})


def test_round_finish_twice_is_409(open_round, client):
    w = open_round
    client.force_login(w.users["guard"])
    url = reverse("duty:round_finish", args=[w.round.pk])
    assert client.post(url).status_code == 302
    r = client.post(url)
    assert r.status_code == 409 and 'data-testid="refusal"' in r.content.decode()
    assert client.get(url).status_code == 405
