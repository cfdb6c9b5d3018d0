"""The hazards API: role × scope, filters and the pagination clamp, the moves (409 when the
state does not allow them), bad input as 400, and multipart evidence."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.hazards.models import Hazard
from huxiao.hazards.tests.hazard_fixtures import (
    MONDAY,
    advance,
    photo,
    report,
)

pytestmark = pytest.mark.django_db

BASE = "/api/v1/hazards"


@pytest.mark.parametrize(
    ("name", "status", "count"),
    [
        (None, 401, None),
        ("nobody", 403, None),
        ("principal", 200, 1),
        ("guard", 200, 1),
        ("police", 200, 1),
        ("edu", 200, 1),
        ("county", 200, 1),
        ("principal2", 200, 0),
        ("farpolice", 200, 0),
    ],
)
def test_list_role_and_scope(api, hworld, hazard, name, status, count):
    response = api("get", BASE, hworld.users[name] if name else None)
    assert response.status_code == status
    if count is not None:
        assert response.json()["count"] == count


def test_list_filters_and_clamp(api, hworld, media):
    w = hworld
    for i in range(3):
        report(w, title=f"h{i}")
    major = report(w, title="major", level="major")
    late = report(w, title="late")
    Hazard.objects.filter(pk=late.pk).update(deadline=MONDAY)
    edu = w.users["edu"]
    assert api("get", f"{BASE}?level=major", edu).json()["items"][0]["id"] == major.pk
    overdue = api("get", f"{BASE}?overdue=true", edu).json()
    assert [h["id"] for h in overdue["items"]] == [late.pk] and overdue["items"][0]["overdue"]
    page = api("get", f"{BASE}?limit=0&offset=-5", edu).json()
    assert page["count"] == 5 and len(page["items"]) == 1
    assert len(api("get", f"{BASE}?limit=100000", edu).json()["items"]) == 5
    assert api("get", f"{BASE}?status=bogus", edu).status_code == 400
    assert api("get", f"{BASE}?school_id={w.far_school.pk}", edu).json()["count"] == 0


def test_detail_scope(api, hworld, hazard):
    w = hworld
    data = api("get", f"{BASE}/{hazard.pk}", w.users["principal"]).json()
    assert data["allowed_moves"] == ["assign"] and data["events"][0]["to_status"] == "reported"
    assert api("get", f"{BASE}/{hazard.pk}", w.users["farpolice"]).status_code == 404
    assert api("get", f"{BASE}/{2**63}", w.users["principal"]).status_code == 400


def test_report(api, hworld, media):
    w = hworld
    body = {
        "school_id": w.school.pk,
        "category": "canteen",
        "title": "后厨无防鼠网",
        "description": "排水口无防鼠网",
    }
    response = api("post", BASE, w.users["officer"], json=body)
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "reported"
    past = api("post", BASE, w.users["officer"], json={**body, "deadline": "2000-01-01"})
    assert past.status_code == 400 and "deadline" in past.json()["errors"]
    assert api("post", BASE, w.users["farpolice"], json=body).status_code == 404
    assert api("post", BASE, w.users["nobody"], json=body).status_code == 403
    bad = api("post", BASE, w.users["officer"], json={**body, "category": "x", "title": ""})
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"category", "title"}
    assert Hazard.objects.count() == 1


def test_moves(api, hworld, client, media):
    w = hworld
    h = report(w)
    url = f"{BASE}/{h.pk}"
    owner = w.users["security"]
    soon = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    r = api(
        "post",
        f"{url}/assign",
        w.users["principal"],
        json={"owner_id": owner.pk, "deadline": soon},
    )
    assert r.status_code == 200 and r.json()["owner_id"] == owner.pk
    bad = api(
        "post",
        f"{url}/assign",
        w.users["principal"],
        json={"owner_id": w.users["edu"].pk, "deadline": soon},
    )
    assert bad.status_code == 400 and "owner" in bad.json()["errors"]
    assert (
        api(
            "post",
            f"{url}/assign",
            w.users["teacher"],
            json={"owner_id": owner.pk, "deadline": soon},
        ).status_code
        == 403
    )
    assert api("post", f"{url}/verify", w.users["edu"], json={}).status_code == 409
    assert api("post", f"{url}/start", owner, json={}).status_code == 200
    token = api.token_for(owner)
    no_photo = client.post(f"{url}/submit", {"note": "完成"}, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert no_photo.status_code == 400 and "photos" in no_photo.json()["errors"]
    ok = client.post(
        f"{url}/submit", {"note": "完成", "photos": [photo()]}, HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert ok.status_code == 200 and ok.json()["status"] == "submitted"
    assert api("post", f"{url}/verify", owner, json={}).status_code == 403
    assert api("post", f"{url}/reject", w.users["police"], json={"reason": ""}).status_code == 400
    assert (
        api("post", f"{url}/reject", w.users["police"], json={"reason": "不合格"}).json()["status"]
        == "rectifying"
    )
    assert api("post", f"{url}/verify", w.users["farpolice"], json={}).status_code == 404


def test_verify_and_reopen(api, hworld, media):
    w = hworld
    h = advance(w, report(w), "submitted")
    url = f"{BASE}/{h.pk}"
    data = api("post", f"{url}/verify", w.users["gov"], json={"note": "ok"}).json()
    assert data["status"] == "closed" and data["closed_at"]
    assert (
        api(
            "post",
            f"{url}/reopen",
            w.users["gov"],
            json={"reason": "复发", "deadline": timezone.localdate().isoformat()},
        ).json()["status"]
        == "rectifying"
    )


def test_list_town_filter_and_deep_offsets(api, hworld, media):
    """`town_id` keeps one town's schools (within the scope: another town's is empty), and
    an offset deep in the list returns the same rows as the ordered list (rows by id)."""
    w = hworld
    near = [report(w, title=f"近{i}") for i in range(4)]
    far = report(w, school=w.far_school, actor=w.users["county"], title="外镇")
    county, edu = w.users["county"], w.users["edu"]
    town = api("get", f"{BASE}?town_id={w.other_town.pk}", county).json()
    assert [h["id"] for h in town["items"]] == [far.pk] and town["count"] == 1
    assert api("get", f"{BASE}?town_id={w.other_town.pk}", edu).json()["count"] == 0
    assert api("get", f"{BASE}?town_id={w.town.pk}", county).json()["count"] == 4
    assert api("get", f"{BASE}?town_id=abc", county).status_code == 400
    newest_first = [h.pk for h in sorted([*near, far], key=lambda h: (h.reported_at, h.pk))][::-1]
    page = api("get", f"{BASE}?limit=2&offset=3", county).json()
    assert [h["id"] for h in page["items"]] == newest_first[3:5] and page["count"] == 5
