# ruff: noqa: F811 - pytest fixtures imported from personnel_fixtures are arguments here
"""Pages of protective equipment by role × scope: a school's list and item page, recording
stock, issuing and returning; the county list for county offices only (town offices 403)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huxiao.security.defaults import ensure_equipment_types
from huxiao.security.models import EquipmentIssue, EquipmentType, SchoolEquipment
from huxiao.security.tests.personnel_fixtures import pworld  # noqa: F401

pytestmark = pytest.mark.django_db

READ = [
    ("principal", 200),
    ("security", 200),
    ("guard", 200),
    ("teacher", 200),
    ("principal2", 404),
    ("police", 200),
    ("farpolice", 404),
    ("edu", 200),
    ("gov", 200),
    ("county", 200),
    ("nobody", 403),
]
WRITE = [
    ("principal", 302),
    ("security", 302),
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


def item_url(w, key, name="security:equipment_item"):
    return reverse(name, args=[w.school.pk, item(w, key).pk])


@pytest.mark.parametrize(("name", "status"), READ)
def test_list_and_item_scope(client, pworld, name, status):
    client.force_login(pworld.users[name])
    response = client.get(reverse("security:equipment", args=[pworld.school.pk]))
    assert response.status_code == status
    assert client.get(item_url(pworld, "shield")).status_code == status
    if status == 200:
        page = response.content.decode()
        assert 'data-testid="equipment-shield"' in page and "盾牌" in page
        assert page.count('data-missing="1"') == 8  # nothing recorded yet


def test_anonymous_goes_to_login(client, pworld):
    response = client.get(reverse("security:equipment", args=[pworld.school.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_item_of_another_county_is_not_found(client, pworld):
    from huxiao.orgs.tests.factories import RegionFactory

    foreign = ensure_equipment_types(RegionFactory())[0]
    client.force_login(pworld.users["principal"])
    url = reverse("security:equipment_item", args=[pworld.school.pk, foreign.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"quantity": 1, "condition": "good"}).status_code == 404


@pytest.mark.parametrize(("name", "status"), WRITE)
def test_record_stock_scope(client, pworld, name, status):
    client.force_login(pworld.users[name])
    response = client.post(item_url(pworld, "shield"), {"quantity": "2", "condition": "good"})
    assert response.status_code == status
    assert SchoolEquipment.objects.exists() == (status == 302)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"quantity": "-1", "condition": "good"}, "quantity"),
        (
            {"quantity": "1", "condition": "good", "last_checked_on": "2999-01-01"},
            "last_checked_on",
        ),
        ({"quantity": "x", "condition": "good"}, "quantity"),
        ({"quantity": "1", "condition": "gone"}, "condition"),
    ],
)
def test_record_stock_bad_input(client, pworld, data, field):
    client.force_login(pworld.users["principal"])
    response = client.post(item_url(pworld, "shield"), data)
    assert response.status_code == 400
    assert response.context["stock_form"].errors.get(field)
    assert not SchoolEquipment.objects.exists()


def test_missing_highlight_goes_when_stocked(client, pworld):
    client.force_login(pworld.users["principal"])
    client.post(item_url(pworld, "shield"), {"quantity": "2", "condition": "good"})
    client.post(item_url(pworld, "steel_fork"), {"quantity": "2", "condition": "broken"})
    page = client.get(reverse("security:equipment", args=[pworld.school.pk])).content.decode()
    assert page.count('data-missing="1"') == 7


def test_issue_and_return(client, pworld):
    w = pworld
    client.force_login(w.users["principal"])
    client.post(item_url(w, "helmet"), {"quantity": "1", "condition": "good"})
    url = item_url(w, "helmet", "security:equipment_issue")
    assert client.post(url, {"staff_id": w.guard_staff.pk, "quantity": "1"}).status_code == 302
    issue = EquipmentIssue.objects.get()
    # Not more than is in stock; not to another school's guard; not a shared item.
    too_many = client.post(url, {"staff_id": w.guard_staff.pk, "quantity": "1"})
    assert too_many.status_code == 400 and too_many.context["issue_form"].errors.get("quantity")
    other = client.post(url, {"staff_id": w.other_guard.pk, "quantity": "1"})
    assert other.status_code == 400 and other.context["issue_form"].errors.get("staff_id")
    shield = item_url(w, "shield", "security:equipment_issue")
    assert client.post(shield, {"staff_id": w.guard_staff.pk, "quantity": "1"}).status_code == 400
    assert EquipmentIssue.objects.count() == 1

    back = reverse("security:equipment_return", args=[issue.pk])
    client.force_login(w.users["guard"])
    assert client.post(back).status_code == 403
    client.force_login(w.users["principal2"])
    assert client.post(back).status_code == 404
    client.force_login(w.users["security"])
    assert client.post(back, {"returned_on": "2999-01-01"}).status_code == 400
    assert client.post(back).status_code == 302
    twice = client.post(back)
    assert twice.status_code == 409 and 'data-testid="refusal"' in twice.content.decode()
    issue.refresh_from_db()
    assert issue.returned_on is not None


def test_issue_form_offered_for_per_guard_items_only(client, pworld):
    client.force_login(pworld.users["principal"])
    assert client.get(item_url(pworld, "helmet")).context["issue_form"] is not None
    assert client.get(item_url(pworld, "shield")).context["issue_form"] is None
    client.force_login(pworld.users["police"])
    context = client.get(item_url(pworld, "helmet")).context
    assert context["issue_form"] is None and context["stock_form"] is None


# ------------------------------------------------------------------ the county list

TYPES = [
    ("county", 200),
    ("edu", 403),  # a town-level office
    ("gov", 403),
    ("principal", 403),
    ("police", 403),
    ("nobody", 403),
]


@pytest.mark.parametrize(("name", "status"), TYPES)
def test_county_list_scope(client, pworld, name, status):
    client.force_login(pworld.users[name])
    response = client.get(reverse("security:equipment_types"))
    assert response.status_code == status
    if status == 200:
        assert response.context["region"] == pworld.region
        assert 'data-testid="type-helmet"' in response.content.decode()
    shield = item(pworld, "shield")
    for url in (
        reverse("security:equipment_type_edit", args=[shield.pk]),
        reverse("security:equipment_type_move", args=[shield.pk]),
        reverse("security:equipment_type_remove", args=[shield.pk]),
    ):
        assert client.post(
            url, {"name": "x", "min_quantity": 1, "direction": "up"}
        ).status_code in ((302,) if status == 200 else (403,))


def test_county_list_edits(client, pworld):
    client.force_login(pworld.users["county"])
    url = reverse("security:equipment_types")
    added = client.post(url, {"name": "防爆毯", "min_quantity": "1", "is_required": "on"})
    assert added.status_code == 302
    blanket = EquipmentType.objects.get(name="防爆毯")
    assert blanket.is_required and not blanket.per_guard
    bad = client.post(url, {"name": "盾牌", "min_quantity": "1"})
    assert bad.status_code == 400 and bad.context["form"].errors.get("name")
    assert client.post(url, {"name": "新", "min_quantity": "-2"}).status_code == 400
    edit = reverse("security:equipment_type_edit", args=[blanket.pk])
    assert (
        client.post(edit, {"name": "防爆毯", "min_quantity": "2", "per_guard": "on"}).status_code
        == 302
    )
    blanket.refresh_from_db()
    assert blanket.min_quantity == 2 and blanket.per_guard and not blanket.is_required
    move = reverse("security:equipment_type_move", args=[blanket.pk])
    assert client.post(move, {"direction": "up"}).status_code == 302
    assert client.post(move, {"direction": "sideways"}).status_code == 400
    remove = reverse("security:equipment_type_remove", args=[blanket.pk])
    assert client.post(remove).status_code == 302
    assert not EquipmentType.objects.filter(pk=blanket.pk).exists()


def test_county_list_of_another_county_is_not_found(client, pworld):
    from huxiao.orgs.tests.factories import RegionFactory

    foreign = ensure_equipment_types(RegionFactory())[0]
    client.force_login(pworld.users["county"])
    assert client.get(reverse("security:equipment_type_edit", args=[foreign.pk])).status_code == 404
    assert (
        client.get(reverse("security:equipment_types") + f"?region={foreign.region_id}").status_code
        == 404
    )
