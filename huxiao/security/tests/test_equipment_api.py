# ruff: noqa: F811 - pytest fixtures imported from personnel_fixtures are arguments here
"""The equipment API by role × scope: a school's stock (read, patch), issues and returns,
and the county list (county offices only); bad input is 400 by field, nothing written;
returning twice is 409."""

from __future__ import annotations

import pytest

from huxiao.security.defaults import ensure_equipment_types
from huxiao.security.models import EquipmentIssue, EquipmentType, SchoolEquipment
from huxiao.security.tests.personnel_fixtures import pworld  # noqa: F401

pytestmark = pytest.mark.django_db

READ = [
    ("principal", 200),
    ("guard", 200),
    ("teacher", 200),
    ("principal2", 404),
    ("police", 200),
    ("farpolice", 404),
    ("edu", 200),
    ("county", 200),
    ("nobody", 403),
]
WRITE = [
    ("principal", 200),
    ("security", 200),
    ("guard", 403),
    ("teacher", 403),
    ("principal2", 404),
    ("police", 403),
    ("edu", 403),
    ("county", 403),
    ("nobody", 403),
]


def item(w, key):
    return {i.key: i for i in ensure_equipment_types(w.region)}[key]


def base(w):
    return f"/api/v1/security/schools/{w.school.pk}/equipment"


def test_anonymous_is_401(api, pworld):
    assert api("get", base(pworld)).status_code == 401
    assert api("get", "/api/v1/security/equipment-types").status_code == 401


@pytest.mark.parametrize(("name", "status"), READ)
def test_list_scope(api, pworld, name, status):
    response = api("get", base(pworld), pworld.users[name])
    assert response.status_code == status
    if status == 200:
        data = response.json()
        assert data["count"] == 8 and data["missing"] == 8
        assert data["items"][0]["key"] == "helmet" and data["items"][0]["per_guard"] is True
        assert api("get", base(pworld) + "/issues", pworld.users[name]).status_code == 200


@pytest.mark.parametrize(("name", "status"), WRITE)
def test_patch_scope(api, pworld, name, status):
    url = f"{base(pworld)}/{item(pworld, 'shield').pk}"
    response = api("patch", url, pworld.users[name], {"quantity": 2, "condition": "worn"})
    assert response.status_code == status
    if status == 200:
        data = response.json()
        assert data["quantity"] == 2 and data["condition"] == "worn" and not data["missing"]
    else:
        assert not SchoolEquipment.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"quantity": -1}, "quantity"),
        ({"quantity": None}, "quantity"),
        ({"quantity": "abc"}, "quantity"),
        ({"condition": "lost"}, "condition"),
        ({"last_checked_on": "2999-01-01"}, "last_checked_on"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_patch_bad_input(api, pworld, body, field):
    url = f"{base(pworld)}/{item(pworld, 'shield').pk}"
    response = api("patch", url, pworld.users["principal"], body)
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert not SchoolEquipment.objects.exists()


def test_patch_unknown_item_is_404(api, pworld):
    from huxiao.orgs.tests.factories import RegionFactory

    foreign = ensure_equipment_types(RegionFactory())[0]
    response = api(
        "patch", f"{base(pworld)}/{foreign.pk}", pworld.users["principal"], {"quantity": 1}
    )
    assert response.status_code == 404


def test_issue_and_return(api, pworld):
    w = pworld
    principal = w.users["principal"]
    helmet = item(w, "helmet")
    api("patch", f"{base(w)}/{helmet.pk}", principal, {"quantity": 1})
    url = f"{base(w)}/{helmet.pk}/issues"
    refused = [
        (w.users["guard"], {"staff_id": w.guard_staff.pk}, 403),
        (w.users["principal2"], {"staff_id": w.guard_staff.pk}, 404),
        (principal, {"staff_id": w.other_guard.pk}, 400),  # another school's guard
        (principal, {"staff_id": 2**62}, 400),
        (principal, {"staff_id": w.guard_staff.pk, "quantity": 2}, 400),
        (principal, {"staff_id": w.guard_staff.pk, "issued_on": "2999-01-01"}, 400),
    ]
    for user, body, status in refused:
        assert api("post", url, user, body).status_code == status, body
    assert not EquipmentIssue.objects.exists()
    shield = item(w, "shield")
    api("patch", f"{base(w)}/{shield.pk}", principal, {"quantity": 2})
    response = api(
        "post", f"{base(w)}/{shield.pk}/issues", principal, {"staff_id": w.guard_staff.pk}
    )
    assert response.status_code == 400 and "equipment_type_id" in response.json()["errors"]

    created = api("post", url, principal, {"staff_id": w.guard_staff.pk})
    assert created.status_code == 201
    data = created.json()
    assert data["staff_name"] == "张保安" and data["returned_on"] is None
    listed = api("get", base(w) + "/issues?open=true", w.users["police"]).json()
    assert listed["count"] == 1

    back = f"/api/v1/security/equipment/issues/{data['id']}/return"
    assert api("post", back, w.users["teacher"], {}).status_code == 403
    assert api("post", back, w.users["principal2"], {}).status_code == 404
    assert api("post", back, principal, {"returned_on": "2999-01-01"}).status_code == 400
    assert api("post", back, principal, {}).status_code == 200
    twice = api("post", back, principal, {})
    assert twice.status_code == 409 and twice.json()["detail"]


# ------------------------------------------------------------------ the county list


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("county", 200),
        ("edu", 403),
        ("gov", 403),
        ("principal", 403),
        ("police", 403),
        ("nobody", 403),
    ],
)
def test_county_list_scope(api, pworld, name, status):
    user = pworld.users[name]
    response = api("get", "/api/v1/security/equipment-types", user)
    assert response.status_code == status
    created = api("post", "/api/v1/security/equipment-types", user, {"name": "防爆毯"})
    assert created.status_code == (201 if status == 200 else 403)
    shield = item(pworld, "shield")
    patched = api(
        "patch", f"/api/v1/security/equipment-types/{shield.pk}", user, {"min_quantity": 3}
    )
    assert patched.status_code == status
    shield.refresh_from_db()
    assert shield.min_quantity == (3 if status == 200 else 2)


def test_county_list_edits(api, pworld):
    county = pworld.users["county"]
    url = "/api/v1/security/equipment-types"
    data = api("get", url, county).json()
    assert data["count"] == 8 and data["region_id"] == pworld.region.pk
    created = api("post", url, county, {"name": "防爆毯", "min_quantity": 1, "key": "blanket"})
    assert created.status_code == 201 and created.json()["key"] == "blanket"
    for body, field in (
        ({"name": "盾牌"}, "name"),
        ({"name": "新", "min_quantity": -1}, "min_quantity"),
        ({"name": "新", "key": "Not A Key"}, "key"),
    ):
        response = api("post", url, county, body)
        assert response.status_code == 400 and field in response.json()["errors"]
    blanket_id = created.json()["id"]
    moved = api("post", f"{url}/{blanket_id}/move", county, {"direction": "up"})
    assert moved.status_code == 200 and moved.json()["items"][7]["key"] == "blanket"
    assert api("post", f"{url}/{blanket_id}/move", county, {"direction": "left"}).status_code == 400
    shield = item(pworld, "shield")
    api("patch", f"{base(pworld)}/{shield.pk}", pworld.users["principal"], {"quantity": 2})
    kept = api("delete", f"{url}/{shield.pk}", county)
    assert kept.status_code == 200 and kept.json() == {"deleted": False}
    assert not EquipmentType.objects.get(pk=shield.pk).is_required
    gone = api("delete", f"{url}/{blanket_id}", county)
    assert gone.json() == {"deleted": True}
    assert api("delete", f"{url}/{blanket_id}", county).status_code == 404
