"""The gaps page and API: read in scope (school, police, town, county), resolve with a
note (PLAN_DUTY: principal, duty leader), 409 twice, 400 without a note."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huxiao.duty.choices import GapKind
from huxiao.duty.gap_services import gap_flag
from huxiao.duty.models import DutyGap
from huxiao.duty.tests.duty_fixtures import DAY, add_leader, at

pytestmark = pytest.mark.django_db
URL = "/api/v1/duty/gaps"


@pytest.fixture
def gaps(world):
    mine = gap_flag(school=world.school, kind=GapKind.MONITORING, starts_at=at(2), ends_at=at(5))
    gap_flag(school=world.other_school, kind=GapKind.ROUNDS_MISSED, starts_at=at(0), day=DAY)
    gap_flag(school=world.far_school, kind=GapKind.ROUNDS_MISSED, starts_at=at(0), day=DAY)
    return mine


@pytest.mark.parametrize(
    ("name", "count", "page"),
    [
        ("principal", 1, 200),
        ("guard", 1, 200),
        ("principal2", 1, 404),
        ("police", 2, 200),
        ("gov", 2, 200),
        ("county", 3, 200),
        ("farpolice", 1, 404),
    ],
)
def test_read_scope(api, client, world, gaps, name, count, page):
    user = world.users[name]
    assert api("get", URL, user).json()["count"] == count
    client.force_login(user)
    response = client.get(reverse("duty:gaps", args=[world.school.pk]))
    assert response.status_code == page
    if page == 200:
        assert response.content.decode().count('data-testid="open-gap"') == 1


def test_filters(api, world, gaps):
    c = world.users["county"]
    assert api("get", f"{URL}?kind=monitoring", c).json()["count"] == 1
    assert api("get", f"{URL}?state=resolved", c).json()["count"] == 0
    assert api("get", f"{URL}?state=bogus", c).status_code == 400
    assert (
        api("get", f"{URL}?school_id={world.school.pk}", world.users["principal2"]).status_code
        == 404
    )
    assert api("get", URL, world.users["nobody"]).status_code == 403
    assert api("get", URL).status_code == 401


@pytest.mark.parametrize(
    ("name", "status"),
    [("guard", 403), ("teacher", 403), ("police", 403), ("county", 403), ("principal2", 404)],
)
def test_resolve_refused(api, world, gaps, name, status):
    response = api("post", f"{URL}/{gaps.pk}/resolve", world.users[name], json={"note": "x"})
    assert response.status_code == status
    assert DutyGap.objects.get(pk=gaps.pk).resolved_at is None


def test_resolve_api(api, world, gaps):
    leader = add_leader(world)
    url = f"{URL}/{gaps.pk}/resolve"
    bad = api("post", url, leader, json={"note": ""})
    assert bad.status_code == 400 and "note" in bad.json()["errors"]
    ok = api("post", url, leader, json={"note": "已补记录"})
    assert ok.status_code == 200 and ok.json()["note"] == "已补记录"
    assert api("post", url, world.users["principal"], json={"note": "again"}).status_code == 409


def test_resolve_page(client, world, gaps):
    client.force_login(world.users["principal"])
    url = reverse("duty:gap_resolve", args=[gaps.pk])
    page = client.get(reverse("duty:gaps", args=[world.school.pk])).content.decode()
    assert f'data-testid="resolve-{gaps.pk}"' in page
    bad = client.post(url, {f"resolve-{gaps.pk}-note": ""})
    assert bad.status_code == 400 and 'data-testid="error-note"' in bad.content.decode()
    assert client.post(url, {f"resolve-{gaps.pk}-note": "已处理"}).status_code == 302
    assert client.post(url, {f"resolve-{gaps.pk}-note": "x"}).status_code == 409
    page = client.get(reverse("duty:gaps", args=[world.school.pk])).content.decode()
    assert 'data-testid="resolved-gap"' in page
    client.force_login(world.users["guard"])
    assert client.post(url, {f"resolve-{gaps.pk}-note": "x"}).status_code == 403
    client.force_login(world.users["principal2"])
    assert client.post(url, {f"resolve-{gaps.pk}-note": "x"}).status_code == 404
