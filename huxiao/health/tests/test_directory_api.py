"""The directory API by role × scope: GET/POST /api/v1/health/directory?school_id=,
POST …/directory/fill, PATCH/DELETE …/directory/{id}; bad input 400 by field, nothing
written."""

from __future__ import annotations

import pytest

from huxiao.audit.models import AuditEvent
from huxiao.health.choices import Party
from huxiao.health.models import HealthContact

pytestmark = pytest.mark.django_db
BASE = "/api/v1/health/directory"

READ = [
    ("principal", 200),
    ("teacher", 200),
    ("guard", 200),
    ("nurse", 200),
    ("principal2", 404),
    ("police", 403),
    ("officer", 403),
    ("postofficer", 403),
    ("health", 200),
    ("countyhealth", 200),
    ("edu", 200),
    ("liaison", 200),
    ("county", 200),
    ("nobody", 403),
]
WRITE = [
    ("principal", 201),
    ("nurse", 201),
    ("teacher", 403),
    ("dutylead", 403),
    ("principal2", 404),
    ("police", 403),
    ("edu", 403),
    ("nobody", 403),
]


def _contact(w, party=Party.SCHOOL, **fields) -> HealthContact:
    data = {"name": "刘芳", "title": "园长", "phone": "13812345678", "is_primary": True}
    return HealthContact.objects.create(school=w.school, party=party, **{**data, **fields})


def _url(w) -> str:
    return f"{BASE}?school_id={w.school.pk}"


def test_anonymous_is_401(api, hworld):
    w = hworld
    contact = _contact(w)
    assert api("get", _url(w)).status_code == 401
    assert (
        api("post", _url(w), json={"party": "school", "name": "x", "phone": "1"}).status_code == 401
    )
    assert api("patch", f"{BASE}/{contact.pk}", json={"name": "y"}).status_code == 401
    assert api("delete", f"{BASE}/{contact.pk}").status_code == 401
    assert HealthContact.objects.get().name == "刘芳"


@pytest.mark.parametrize(("name", "status"), READ)
def test_read_scope(api, hworld, name, status):
    w = hworld
    contact = _contact(w)
    response = api("get", _url(w), user=w.users[name])
    assert response.status_code == status
    if status != 200:
        return
    body = response.json()
    assert body["school_id"] == w.school.pk and body["count"] == 1
    item = body["items"][0]
    assert item["id"] == contact.pk and item["tel"] == "tel:13812345678"
    assert item["editable"] == (name in ("principal", "nurse"))
    parties = [e["party"] for e in body["entries"]]
    assert parties[:2] == [Party.HEALTH_CENTRE, Party.GOVERNMENT]
    assert body["entries"][0]["is_switchboard"] is True
    expected = {"principal": list(Party.values), "nurse": list(Party.values)}
    expected |= {"health": [Party.HEALTH_CENTRE], "countyhealth": [Party.HEALTH_CENTRE]}
    assert body["editable_parties"] == expected.get(name, [])


def test_read_bad_school_ids(api, hworld):
    w = hworld
    user = w.users["principal"]
    assert api("get", BASE, user=user).status_code == 400
    assert api("get", f"{BASE}?school_id=abc", user=user).status_code == 400
    assert api("get", f"{BASE}?school_id=0", user=user).status_code == 400
    assert api("get", f"{BASE}?school_id={w.far_school.pk}", user=user).status_code == 404
    assert api("get", f"{BASE}?school_id={w.station.pk}", user=user).status_code == 404
    assert (
        api("get", f"{BASE}?school_id={w.far_school.pk}", user=w.users["police"]).status_code == 403
    )


@pytest.mark.parametrize(("name", "status"), WRITE)
def test_create_scope(api, hworld, name, status):
    w = hworld
    payload = {
        "party": "government",
        "name": "孙建民",
        "title": "分管副镇长",
        "phone": "0311-85213000",
    }
    response = api("post", _url(w), user=w.users[name], json=payload)
    assert response.status_code == status
    if status == 201:
        body = response.json()
        assert body["organization_id"] == w.government.pk and body["is_primary"] is True
        assert body["phone"] == "0311-85213000"
        assert HealthContact.objects.count() == 1
    else:
        assert not HealthContact.objects.exists()
        assert not AuditEvent.objects.filter(object_type="health.healthcontact").exists()


def test_health_officer_creates_health_centre_entries_only(api, hworld):
    w = hworld
    user = w.users["health"]
    body = {"party": "school", "name": "x", "phone": "13812345678"}
    assert api("post", _url(w), user=user, json=body).status_code == 403
    body["party"] = "health_centre"
    response = api("post", _url(w), user=user, json=body)
    assert response.status_code == 201
    assert response.json()["organization_id"] == w.health_centre.pk
    far = f"{BASE}?school_id={w.far_school.pk}"
    assert api("post", far, user=user, json=body).status_code == 404
    response = api("post", far, user=w.users["countyhealth"], json=body)
    assert response.status_code == 201 and response.json()["organization_id"] is None


def test_create_bad_input(api, hworld):
    w = hworld
    user = w.users["principal"]
    response = api(
        "post",
        _url(w),
        user=user,
        json={"party": "police", "name": "", "phone": "85213120", "sort_order": 5000},
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"party", "name", "phone", "sort_order"}
    response = api("post", _url(w), user=user, json={"party": "school", "name": "x"})
    assert response.status_code == 400 and "phone" in response.json()["errors"]
    response = api(
        "post", _url(w), user=user, json={"party": "school", "name": "x", "phone": "1", "extra": 1}
    )
    assert response.status_code == 400
    response = api(
        "post",
        _url(w),
        user=user,
        json={
            "party": "school",
            "name": "x",
            "phone": "13812345678",
            "organization_id": w.station.pk,
        },
    )
    assert response.status_code == 400 and set(response.json()["errors"]) == {"organization_id"}
    assert not HealthContact.objects.exists()


def test_explicit_null_organization_links_none(api, hworld):
    w = hworld
    response = api(
        "post",
        _url(w),
        user=w.users["principal"],
        json={
            "party": "health_centre",
            "name": "村医",
            "phone": "13812345678",
            "organization_id": None,
        },
    )
    assert response.status_code == 201 and response.json()["organization_id"] is None


def test_patch(api, hworld):
    w = hworld
    contact = _contact(w)
    url = f"{BASE}/{contact.pk}"
    for name, status in (("teacher", 403), ("principal2", 404), ("police", 403), ("health", 403)):
        assert api("patch", url, user=w.users[name], json={"name": "改"}).status_code == status
    user = w.users["principal"]
    response = api("patch", url, user=user, json={"phone": "0311 85213301", "sort_order": 3})
    assert response.status_code == 200
    assert response.json()["phone"] == "0311-85213301" and response.json()["sort_order"] == 3
    response = api("patch", url, user=user, json={"name": None})
    assert response.status_code == 400 and set(response.json()["errors"]) == {"name"}
    response = api("patch", url, user=user, json={"phone": "12"})
    assert response.status_code == 400 and set(response.json()["errors"]) == {"phone"}
    contact.refresh_from_db()
    assert contact.name == "刘芳" and contact.phone == "0311-85213301"
    assert api("patch", f"{BASE}/999999", user=user, json={"name": "x"}).status_code == 404


def test_delete(api, hworld):
    w = hworld
    contact = _contact(w)
    url = f"{BASE}/{contact.pk}"
    for name, status in (("teacher", 403), ("principal2", 404), ("police", 403), ("health", 403)):
        assert api("delete", url, user=w.users[name]).status_code == status
    assert HealthContact.objects.filter(pk=contact.pk).exists()
    assert api("delete", url, user=w.users["nurse"]).status_code == 204
    assert not HealthContact.objects.filter(pk=contact.pk).exists()
    assert api("delete", url, user=w.users["nurse"]).status_code == 404


def test_fill(api, hworld):
    w = hworld
    url = f"{BASE}/fill?school_id={w.school.pk}"
    for name, status in (("teacher", 403), ("principal2", 404), ("police", 403)):
        assert api("post", url, user=w.users[name]).status_code == status
    assert not HealthContact.objects.exists()
    response = api("post", url, user=w.users["health"])
    assert response.status_code == 200
    assert [c["party"] for c in response.json()["items"]] == [Party.HEALTH_CENTRE]
    response = api("post", url, user=w.users["principal"])
    parties = {c["party"] for c in response.json()["items"]}
    assert Party.GOVERNMENT in parties and Party.HEALTH_CENTRE not in parties
    assert api("post", url, user=w.users["principal"]).json()["count"] == 0
