"""Checkpoint pages: role × scope for every page, forms that fail with 400 and change
nothing, re-issuing a code, the printable plates (ADR 0029 "Rounds")."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huxiao.duty import checkpoint_services
from huxiao.duty.models import Checkpoint
from huxiao.duty.tests.rounds_fixtures import build_rounds_world, expect

pytestmark = pytest.mark.django_db


@pytest.fixture
def rounds_world(world):
    return build_rounds_world(world)


# principal2 plans duty at another school: 404; the rest plan duty nowhere: 403.
PLAN_MATRIX = expect({200: {"principal"}, 404: {"principal2"}})


def call(client, world, who, method, url, data=None):
    if who != "anonymous":
        client.force_login(world.users[who])
    if method == "get":
        return client.get(url)
    return client.post(url, data or {})


@pytest.mark.parametrize(("who", "status"), PLAN_MATRIX.items())
def test_checkpoint_list(rounds_world, client, who, status):
    w = rounds_world
    r = call(client, w, who, "get", reverse("duty:checkpoints", args=[w.school.pk]))
    assert r.status_code == status
    if status == 200:
        body = r.content.decode()
        assert "大门" in body and "宿舍" in body and "操场" not in body
        assert r["Cache-Control"] == "no-store"


@pytest.mark.parametrize(("who", "status"), PLAN_MATRIX.items())
def test_checkpoint_new_page(rounds_world, client, who, status):
    w = rounds_world
    r = call(client, w, who, "get", reverse("duty:checkpoint_new", args=[w.school.pk]))
    assert r.status_code == status


@pytest.mark.parametrize(("who", "status"), PLAN_MATRIX.items())
def test_checkpoint_edit_page(rounds_world, client, who, status):
    w = rounds_world
    cp = w.cps[w.school.pk]["大门"]
    r = call(client, w, who, "get", reverse("duty:checkpoint_edit", args=[cp.pk]))
    assert r.status_code == status


@pytest.mark.parametrize(("who", "status"), PLAN_MATRIX.items())
def test_plates(rounds_world, client, who, status):
    w = rounds_world
    r = call(client, w, who, "get", reverse("duty:checkpoint_plates", args=[w.school.pk]))
    assert r.status_code == status
    if status == 200:
        body = r.content.decode()
        assert body.count('data-testid="plate"') == 4
        assert body.count("<svg") == 4 and w.school.name in body
        # Printed in groups of four (typed by hand when the QR will not scan).
        assert checkpoint_services.code_groups(w.cps[w.school.pk]["大门"].code) in body
        assert r["Cache-Control"] == "no-store"


def test_one_plate_and_the_url_in_its_qr(rounds_world, client, settings):
    w = rounds_world
    cp = w.cps[w.school.pk]["食堂"]
    client.force_login(w.users["principal"])
    url = reverse("duty:checkpoint_plates", args=[w.school.pk])
    r = client.get(url, {"id": cp.pk})
    assert r.content.decode().count('data-testid="plate"') == 1
    # The QR carries the absolute scan URL: the configured public address when set.
    from huxiao.duty.checkpoint_views import scan_url

    settings.HUXIAO_BASE_URL = "https://hx.example.cn/"
    assert scan_url(r.wsgi_request, cp.code) == f"https://hx.example.cn/duty/scan/{cp.code}/"
    settings.HUXIAO_BASE_URL = ""
    assert scan_url(r.wsgi_request, cp.code) == f"http://testserver/duty/scan/{cp.code}/"
    # A checkpoint of another school, or a nonsense id, prints nothing.
    other = w.cps[w.other_school.pk]["校门"]
    assert 'data-testid="plate"' not in client.get(url, {"id": other.pk}).content.decode()
    assert client.get(url, {"id": "x"}).status_code == 404
    assert client.get(url, {"id": str(2**70)}).status_code == 404


def test_create_through_the_page(rounds_world, client):
    w = rounds_world
    client.force_login(w.users["principal"])
    url = reverse("duty:checkpoint_new", args=[w.school.pk])
    r = client.post(url, {"name": "围墙东侧", "location": "东墙中段", "is_key_area": "on"})
    assert r.status_code == 302 and r["Location"] == reverse("duty:checkpoints", args=[w.school.pk])
    cp = Checkpoint.objects.get(school=w.school, name="围墙东侧")
    assert cp.is_key_area and not cp.for_night and cp.order == 5
    before = Checkpoint.objects.count()
    for data in ({"name": ""}, {"name": "大门"}, {"name": "x", "order": "-3"}, {"name": "a\x00"}):
        r = client.post(url, data)
        assert r.status_code == 400
        assert 'class="hx-error"' in r.content.decode()
    assert Checkpoint.objects.count() == before


def test_create_refused_for_others(rounds_world, client):
    w = rounds_world
    for who, status in (("guard", 403), ("principal2", 404), ("police", 403)):
        r = call(
            client,
            w,
            who,
            "post",
            reverse("duty:checkpoint_new", args=[w.school.pk]),
            {"name": "新"},
        )
        assert r.status_code == status
    assert not Checkpoint.objects.filter(name="新").exists()


def test_edit_through_the_page(rounds_world, client):
    w = rounds_world
    cp = w.cps[w.school.pk]["食堂"]
    client.force_login(w.users["principal"])
    url = reverse("duty:checkpoint_edit", args=[cp.pk])
    r = client.post(url, {"name": "食堂后门", "order": "7", "is_key_area": "on"})
    assert r.status_code == 302
    cp.refresh_from_db()
    assert (cp.name, cp.order, cp.is_active) == ("食堂后门", 7, False)  # unticked: retired
    r = client.post(url, {"name": "", "is_active": "on"})
    assert r.status_code == 400
    cp.refresh_from_db()
    assert cp.name == "食堂后门"
    assert call(client, w, "principal2", "post", url, {"name": "x"}).status_code == 404


@pytest.mark.parametrize(
    ("who", "status"), expect({302: {"principal"}, 404: {"principal2"}}).items()
)
def test_reissue(rounds_world, client, who, status):
    w = rounds_world
    cp = w.cps[w.school.pk]["大门"]
    old = cp.code
    r = call(client, w, who, "post", reverse("duty:checkpoint_reissue", args=[cp.pk]))
    assert r.status_code == status
    cp.refresh_from_db()
    if who == "principal":
        assert cp.code != old
        assert r["Location"].endswith(f"?id={cp.pk}")
    else:
        assert cp.code == old


def test_reissue_is_post_only(rounds_world, client):
    w = rounds_world
    client.force_login(w.users["principal"])
    cp = w.cps[w.school.pk]["大门"]
    assert client.get(reverse("duty:checkpoint_reissue", args=[cp.pk])).status_code == 405


def test_huge_ids_are_404(rounds_world, client):
    w = rounds_world
    client.force_login(w.users["principal"])
    big = 2**63
    assert client.get(f"/duty/schools/{big}/checkpoints/").status_code == 404
    assert client.get(f"/duty/checkpoints/{big}/edit/").status_code == 404
