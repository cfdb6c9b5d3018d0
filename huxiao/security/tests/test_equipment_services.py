# ruff: noqa: F811 - pytest fixtures imported from personnel_fixtures are arguments here
"""Services of protective equipment: the county's default list, a school's stock (no
negative quantity, no future check), what is missing, per-guard issue and return (not more
than in stock, not to another school's staff, not twice), and the county list (keepers
only; an item in use is kept as not required; changes re-evaluate the county)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from huxiao.audit.models import AuditEvent
from huxiao.core.roles import OrgKind, Role
from huxiao.orgs.tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    RegionFactory,
    UserFactory,
)
from huxiao.security import compliance
from huxiao.security import equipment_selectors as sel
from huxiao.security import equipment_services as es
from huxiao.security.defaults import DEFAULT_EQUIPMENT, ensure_equipment_types, required_quantity
from huxiao.security.models import EquipmentIssue, EquipmentType, SchoolEquipment
from huxiao.security.tests.personnel_fixtures import T, day, pworld  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(monkeypatch):
    seen = {"schools": [], "regions": []}
    monkeypatch.setattr(
        compliance, "reevaluate_on_commit", lambda ids: seen["schools"].append(list(ids))
    )
    monkeypatch.setattr(
        compliance, "evaluate_region", lambda rid, **kw: seen["regions"].append(rid)
    )
    return seen


def items(w) -> dict[str, EquipmentType]:
    return {i.key: i for i in ensure_equipment_types(w.region)}


def stock(w, key, actor="principal", **changes):
    changes.setdefault("today", T)
    return es.stock_set(
        actor=w.users[actor], school=w.school, equipment_type=items(w)[key], **changes
    )


# ------------------------------------------------------------------ the default list


def test_default_list_created_once_per_county(pworld):
    first = ensure_equipment_types(pworld.region)
    assert [i.key for i in first] == [d.key for d in DEFAULT_EQUIPMENT]
    assert [i.name for i in first] == [
        "头盔",
        "盾牌",
        "钢叉",
        "防刺服",
        "防割手套",
        "橡胶警棍",
        "强光手电",
        "防暴喷雾",
    ]
    assert {i.key for i in first if i.per_guard} == {"helmet", "stab_vest", "cut_gloves"}
    assert ensure_equipment_types(pworld.region.pk) == first
    other = ensure_equipment_types(RegionFactory())
    assert len(other) == 8 and EquipmentType.objects.count() == 16


def test_required_quantity():
    helmet = EquipmentType(min_quantity=1, per_guard=True)
    shield = EquipmentType(min_quantity=2, per_guard=False)
    assert required_quantity(helmet, 3) == 3 and required_quantity(helmet, 0) == 1
    assert required_quantity(shield, 5) == 2


# ------------------------------------------------------------------ stock


def test_stock_set_creates_then_updates_audited(pworld, calls):
    w = pworld
    row = stock(w, "shield", quantity=2, condition="good", last_checked_on=day(-1))
    assert row.quantity == 2 and row.updated_by == w.users["principal"]
    row = stock(w, "shield", actor="security", condition="worn")
    assert row.quantity == 2 and row.condition == "worn"
    assert (
        AuditEvent.objects.filter(
            object_type="security.schoolequipment", school_id=w.school.pk
        ).count()
        == 2
    )
    assert calls["schools"] == [[w.school.pk], [w.school.pk]]
    before = AuditEvent.objects.count()
    stock(w, "shield", condition="worn")
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"quantity": -1}, "quantity"),
        ({"quantity": "-3"}, "quantity"),
        ({"quantity": "2.5"}, "quantity"),
        ({"quantity": 1.5}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"quantity": None}, "quantity"),
        ({"quantity": 100_000}, "quantity"),
        ({"quantity": "1e3"}, "quantity"),
        ({"condition": "lost"}, "condition"),
        ({"last_checked_on": day(1)}, "last_checked_on"),
        ({"last_checked_on": "yesterday"}, "last_checked_on"),
        ({"notes": "x" * 501}, "notes"),
    ],
)
def test_stock_bad_input_writes_nothing(pworld, calls, changes, field):
    with pytest.raises(ValidationError) as exc:
        stock(pworld, "shield", **changes)
    assert field in exc.value.message_dict
    assert not SchoolEquipment.objects.exists() and calls["schools"] == []


def test_stock_needs_manage_security_at_that_school(pworld):
    w = pworld
    for name in ("guard", "teacher", "police", "county", "principal2"):
        with pytest.raises(PermissionDenied):
            stock(w, "shield", actor=name, quantity=1)
    with pytest.raises(PermissionDenied):
        es.stock_set(
            actor=w.users["principal"],
            school=w.other_school,
            equipment_type=items(w)["shield"],
            quantity=1,
        )
    assert not SchoolEquipment.objects.exists()


def test_item_of_another_county_refused(pworld):
    foreign = ensure_equipment_types(RegionFactory())[0]
    with pytest.raises(ValidationError) as exc:
        es.stock_set(
            actor=pworld.users["principal"],
            school=pworld.school,
            equipment_type=foreign,
            quantity=1,
        )
    assert "equipment_type_id" in exc.value.message_dict
    with pytest.raises(Http404):
        sel.stock_row(actor=pworld.users["principal"], school=pworld.school, type_id=foreign.pk)


def test_missing_items(pworld):
    w = pworld
    stock(w, "shield", quantity=2)
    stock(w, "steel_fork", quantity=2, condition="broken")
    stock(w, "flashlight", quantity=1)
    rows = {r.item.key: r for r in sel.stock_rows(actor=w.users["police"], school=w.school)}
    assert not rows["shield"].missing
    assert rows["steel_fork"].missing and rows["steel_fork"].broken
    assert rows["flashlight"].missing and rows["flashlight"].short == 1
    assert rows["helmet"].missing and rows["helmet"].required == 1  # nothing recorded
    # An item the county no longer requires is never missing.
    EquipmentType.objects.filter(pk=rows["helmet"].item.pk).update(is_required=False)
    rows = {r.item.key: r for r in sel.stock_rows(actor=w.users["police"], school=w.school)}
    assert not rows["helmet"].missing and rows["helmet"].required == 0


def test_per_guard_need_follows_the_county_rule(pworld, monkeypatch):
    w = pworld
    stock(w, "helmet", quantity=1)
    monkeypatch.setattr(sel, "rule_params", lambda region_id, key: {"per_guard": 1})
    from huxiao.people.models import Staff

    Staff.objects.create(school=w.school, name="第二门卫", role="guard")
    rows = {r.item.key: r for r in sel.stock_rows(actor=w.users["principal"], school=w.school)}
    assert rows["helmet"].required == 2 and rows["helmet"].missing
    assert rows["shield"].required == 2
    monkeypatch.setattr(sel, "rule_params", lambda region_id, key: {"per_guard": 0})
    rows = {r.item.key: r for r in sel.stock_rows(actor=w.users["principal"], school=w.school)}
    assert rows["helmet"].required == 1 and not rows["helmet"].missing


# ------------------------------------------------------------------ issue and return


def issue(w, key="helmet", staff=None, actor="principal", **kwargs):
    kwargs.setdefault("today", T)
    return es.equipment_issue(
        actor=w.users[actor],
        school=w.school,
        equipment_type=items(w)[key],
        staff=staff if staff is not None else w.guard_staff,
        **kwargs,
    )


def test_issue_and_return(pworld, calls):
    w = pworld
    stock(w, "helmet", quantity=2)
    given = issue(w, quantity=2, issued_on=day(-5))
    assert given.issued_on == day(-5) and given.created_by == w.users["principal"]
    row = sel.stock_row(actor=w.users["principal"], school=w.school, type_id=items(w)["helmet"].pk)
    assert row.issued == 2 and row.available == 0
    with pytest.raises(ValidationError) as exc:
        issue(w)
    assert "quantity" in exc.value.message_dict
    # The stock cannot drop below what is out with guards.
    with pytest.raises(ValidationError) as exc:
        stock(w, "helmet", quantity=1)
    assert "quantity" in exc.value.message_dict
    returned = es.equipment_return(actor=w.users["security"], issue=given, today=T)
    assert returned.returned_on == T
    with pytest.raises(es.EquipmentStateRefused):
        es.equipment_return(actor=w.users["security"], issue=given, today=T)
    assert stock(w, "helmet", quantity=1).quantity == 1
    assert (
        AuditEvent.objects.filter(
            object_type="security.equipmentissue", school_id=w.school.pk
        ).count()
        == 2
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": -1}, "quantity"),
        ({"quantity": 3}, "quantity"),  # only 2 in stock
        ({"issued_on": day(1)}, "issued_on"),
        ({"key": "shield"}, "equipment_type_id"),  # not issued per guard
    ],
)
def test_issue_refused(pworld, kwargs, field):
    w = pworld
    stock(w, "helmet", quantity=2)
    stock(w, "shield", quantity=2)
    with pytest.raises(ValidationError) as exc:
        issue(w, **kwargs)
    assert field in exc.value.message_dict
    assert not EquipmentIssue.objects.exists()


def test_issue_to_someone_else_refused(pworld):
    w = pworld
    stock(w, "helmet", quantity=2)
    for staff in (w.other_guard, w.staff):  # another school's guard, a teacher
        with pytest.raises(ValidationError) as exc:
            issue(w, staff=staff)
        assert "staff_id" in exc.value.message_dict
    w.guard_staff.is_active = False
    w.guard_staff.save()
    with pytest.raises(ValidationError):
        issue(w)
    assert not EquipmentIssue.objects.exists()


def test_issue_without_stock_refused(pworld):
    with pytest.raises(ValidationError) as exc:
        issue(pworld)
    assert "quantity" in exc.value.message_dict


def test_return_dates(pworld):
    w = pworld
    stock(w, "helmet", quantity=1)
    given = issue(w, issued_on=day(-5))
    for bad in (day(-6), day(1)):
        with pytest.raises(ValidationError) as exc:
            es.equipment_return(actor=w.users["principal"], issue=given, returned_on=bad, today=T)
        assert "returned_on" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        es.equipment_return(actor=w.users["guard"], issue=given, today=T)
    given.refresh_from_db()
    assert given.returned_on is None


def test_issue_selectors_scope(pworld):
    w = pworld
    stock(w, "helmet", quantity=1)
    given = issue(w)
    assert sel.issue_get(actor=w.users["police"], issue_id=given.pk) == given
    with pytest.raises(Http404):
        sel.issue_get(actor=w.users["principal2"], issue_id=given.pk)
    with pytest.raises(PermissionDenied):
        sel.issue_get(actor=w.users["nobody"], issue_id=given.pk)


# ------------------------------------------------------------------ the county list


@pytest.fixture
def keepers(pworld):
    """A county education office and its supervisor `county_edu`."""
    office = OrganizationFactory(
        kind=OrgKind.EDUCATION_OFFICE, town=None, region=pworld.region, name="县教体局"
    )
    pworld.users["county_edu"] = UserFactory(username="county_edu")
    MembershipFactory(
        user=pworld.users["county_edu"], organization=office, role=Role.EDUCATION_SUPERVISOR
    )
    return pworld


def test_keepers(keepers):
    w = keepers
    assert [r.pk for r in sel.keeper_regions(w.users["county"])] == [w.region.pk]
    assert [r.pk for r in sel.keeper_regions(w.users["county_edu"])] == [w.region.pk]
    for name in ("edu", "gov", "principal", "police", "nobody"):
        assert sel.keeper_regions(w.users[name]) == [], name
        with pytest.raises(PermissionDenied):
            sel.require_keeper(w.users[name])
    with pytest.raises(Http404):
        sel.require_keeper(w.users["county"], RegionFactory().pk)


def test_add_rename_reorder(keepers, calls):
    w = keepers
    county = w.users["county"]
    added = es.equipment_type_create(
        actor=county, region=w.region, name="防爆毯", min_quantity=1, per_guard=False
    )
    assert added.key == "item-9" and added.order == 8
    assert calls["regions"] == []  # only after commit
    es.equipment_type_update(
        actor=county, equipment_type=added, name="防爆毯（新）", min_quantity=3
    )
    added.refresh_from_db()
    assert added.name == "防爆毯（新）" and added.min_quantity == 3
    es.equipment_type_move(actor=county, equipment_type=added, direction="up")
    order = [i.key for i in sel.county_list(w.region)]
    assert order[-2:] == ["item-9", "pepper_spray"]
    es.equipment_type_move(
        actor=w.users["county_edu"], equipment_type=items(w)["helmet"], direction="up"
    )
    assert [i.key for i in sel.county_list(w.region)][0] == "helmet"  # already first
    assert AuditEvent.objects.filter(object_type="security.equipmenttype").count() >= 3


def test_changes_reevaluate_the_county_after_commit(
    keepers, calls, django_capture_on_commit_callbacks
):
    w = keepers
    with django_capture_on_commit_callbacks(execute=True):
        es.equipment_type_update(
            actor=w.users["county"], equipment_type=items(w)["shield"], min_quantity=4
        )
    assert calls["regions"] == [w.region.pk]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "盾牌"}, "name"),  # already on the list
        ({"name": "x" * 51}, "name"),
        ({"min_quantity": -1}, "min_quantity"),
        ({"min_quantity": 1000}, "min_quantity"),
        ({"key": "Bad Key"}, "key"),
        ({"key": "shield"}, "key"),
        ({"per_guard": "maybe"}, "per_guard"),
    ],
)
def test_add_bad_input(keepers, kwargs, field):
    w = keepers
    values = {"name": "防爆毯", **kwargs}
    ensure_equipment_types(w.region)
    with pytest.raises(ValidationError) as exc:
        es.equipment_type_create(actor=w.users["county"], region=w.region, **values)
    assert field in exc.value.message_dict
    assert EquipmentType.objects.filter(region=w.region).count() == 8


def test_town_offices_and_schools_may_not_change_the_list(keepers):
    w = keepers
    shield = items(w)["shield"]
    for name in ("edu", "gov", "principal", "police"):
        with pytest.raises(PermissionDenied):
            es.equipment_type_update(actor=w.users[name], equipment_type=shield, min_quantity=9)
        with pytest.raises(PermissionDenied):
            es.equipment_type_create(actor=w.users[name], region=w.region, name="新")
        with pytest.raises(PermissionDenied):
            es.equipment_type_remove(actor=w.users[name], equipment_type=shield)
    shield.refresh_from_db()
    assert shield.min_quantity == 2


def test_remove_unused_deletes_in_use_is_kept_not_required(keepers, calls):
    w = keepers
    stock(w, "shield", quantity=2)
    listed = items(w)
    assert (
        es.equipment_type_remove(actor=w.users["county"], equipment_type=listed["shield"]) is False
    )
    shield = EquipmentType.objects.get(pk=listed["shield"].pk)
    assert not shield.is_required and SchoolEquipment.objects.filter(equipment_type=shield).exists()
    assert (
        es.equipment_type_remove(actor=w.users["county"], equipment_type=listed["steel_fork"])
        is True
    )
    assert not EquipmentType.objects.filter(pk=listed["steel_fork"].pk).exists()
    assert (
        AuditEvent.objects.filter(object_type="security.equipmenttype", action="delete").count()
        == 1
    )


def test_move_direction_checked(keepers):
    with pytest.raises(ValidationError):
        es.equipment_type_move(
            actor=keepers.users["county"], equipment_type=items(keepers)["shield"], direction="left"
        )
