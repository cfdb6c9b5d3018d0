"""Checkpoints: who may add and change them, bad input refused with nothing written, codes
random and never in the audit trail (checkpoint_services; ADR 0029 "Rounds")."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from huxiao.audit.models import AuditEvent
from huxiao.duty import checkpoint_services as services
from huxiao.duty.models import Checkpoint
from huxiao.duty.tests.rounds_fixtures import build_rounds_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def rounds_world(world):
    return build_rounds_world(world)


def test_create_draws_a_random_code_and_orders_last(world):
    p = world.users["principal"]
    a = services.checkpoint_create(actor=p, school=world.school, name=" 大门 ", location="东门")
    b = services.checkpoint_create(actor=p, school=world.school, name="操场", for_night=False)
    assert a.name == "大门" and a.is_active and a.is_key_area and not a.for_night
    assert 20 <= len(a.code) <= 32 and a.code != b.code
    assert (a.order, b.order) == (1, 2)
    c = services.checkpoint_create(
        actor=p, school=world.school, name="宿舍", order=0, for_night=True
    )
    assert c.order == 0 and c.for_night
    created = AuditEvent.objects.filter(object_type="duty.checkpoint", action="create")
    assert created.count() == 3
    for event in AuditEvent.objects.all():
        assert a.code not in str(event.changes) and "code" not in event.changes.get("after", {})


@pytest.mark.parametrize("who", ["guard", "teacher", "police", "edu", "county", "nobody"])
def test_only_duty_planners_create(world, who):
    with pytest.raises(PermissionDenied):
        services.checkpoint_create(actor=world.users[who], school=world.school, name="大门")
    assert not Checkpoint.objects.exists()


def test_not_at_another_school(world):
    with pytest.raises(PermissionDenied):
        services.checkpoint_create(
            actor=world.users["principal2"], school=world.school, name="大门"
        )
    assert not Checkpoint.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "门" * 101}, "name"),
        ({"name": "大\n门"}, "name"),
        ({"name": "大\x00门"}, "name"),
        ({"name": "大门", "location": "x" * 201}, "location"),
        ({"name": "大门", "order": -1}, "order"),
        ({"name": "大门", "order": 40000}, "order"),
        ({"name": "大门", "order": "abc"}, "order"),
        ({"name": "大门", "order": True}, "order"),
        ({"name": "大门", "is_key_area": "yes"}, "is_key_area"),
        ({"name": "大门", "for_night": None}, "for_night"),
    ],
)
def test_bad_input_writes_nothing(world, data, field):
    with pytest.raises(ValidationError) as exc:
        services.checkpoint_create(actor=world.users["principal"], school=world.school, **data)
    assert field in exc.value.message_dict
    assert not Checkpoint.objects.exists() and not AuditEvent.objects.exists()


def test_names_are_unique_among_checkpoints_in_use(rounds_world):
    w = rounds_world
    p = w.users["principal"]
    with pytest.raises(ValidationError) as exc:
        services.checkpoint_create(actor=p, school=w.school, name="大门")
    assert "name" in exc.value.message_dict
    # Another school may use the name; a retired checkpoint frees it.
    services.checkpoint_create(actor=w.users["principal2"], school=w.other_school, name="大门")
    gate = w.cps[w.school.pk]["大门"]
    services.checkpoint_update(actor=p, checkpoint=gate, is_active=False)
    new_gate = services.checkpoint_create(actor=p, school=w.school, name="大门")
    # ... and putting the old one back in use clashes.
    with pytest.raises(ValidationError) as exc:
        services.checkpoint_update(actor=p, checkpoint=gate, is_active=True)
    assert "name" in exc.value.message_dict
    hall = w.cps[w.school.pk]["教学楼"]
    with pytest.raises(ValidationError):
        services.checkpoint_update(actor=p, checkpoint=hall, name="大门")
    assert new_gate.is_active


def test_update(rounds_world):
    w = rounds_world
    p = w.users["principal"]
    hall = w.cps[w.school.pk]["教学楼"]
    code = hall.code
    hall = services.checkpoint_update(
        actor=p, checkpoint=hall, name="教学楼北门", location="一楼", for_night=True, order=9
    )
    hall.refresh_from_db()
    assert (hall.name, hall.location, hall.for_night, hall.order) == ("教学楼北门", "一楼", True, 9)
    assert hall.code == code
    event = AuditEvent.objects.filter(object_type="duty.checkpoint", action="update").last()
    assert event.changes["fields"]["name"] == ["教学楼", "教学楼北门"]
    with pytest.raises(ValidationError) as exc:
        services.checkpoint_update(actor=p, checkpoint=hall, code="mine", school=1)
    assert {"code", "school"} <= set(exc.value.message_dict)
    with pytest.raises(PermissionDenied):
        services.checkpoint_update(actor=w.users["guard"], checkpoint=hall, name="x")
    with pytest.raises(PermissionDenied):
        services.checkpoint_update(actor=w.users["principal2"], checkpoint=hall, name="x")


def test_reissue_code(rounds_world):
    w = rounds_world
    gate = w.cps[w.school.pk]["大门"]
    old = gate.code
    gate = services.checkpoint_reissue_code(actor=w.users["principal"], checkpoint=gate)
    gate.refresh_from_db()
    assert gate.code != old and len(gate.code) <= 32
    event = AuditEvent.objects.filter(object_type="duty.checkpoint", action="update").last()
    assert "code" in event.changes["fields"]
    assert old not in str(event.changes) and gate.code not in str(event.changes)
    with pytest.raises(PermissionDenied):
        services.checkpoint_reissue_code(actor=w.users["guard"], checkpoint=gate)


def test_at_most_so_many_in_use(world, monkeypatch):
    monkeypatch.setattr(services, "MAX_ACTIVE", 2)
    p = world.users["principal"]
    services.checkpoint_create(actor=p, school=world.school, name="一")
    b = services.checkpoint_create(actor=p, school=world.school, name="二")
    with pytest.raises(ValidationError):
        services.checkpoint_create(actor=p, school=world.school, name="三")
    services.checkpoint_update(actor=p, checkpoint=b, is_active=False)
    c = services.checkpoint_create(actor=p, school=world.school, name="三")
    with pytest.raises(ValidationError) as exc:
        services.checkpoint_update(actor=p, checkpoint=b, is_active=True)
    assert "is_active" in exc.value.message_dict
    assert c.is_active
