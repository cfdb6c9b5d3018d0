"""Duty services with a fixed clock: the plan, the week's roster from the plan, people on
shifts, check-in/out windows and refusals, the log, handovers carrying open items."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from huxiao.audit.models import AuditEvent
from huxiao.duty import duty_services as s
from huxiao.duty.choices import DutyRole, LogKind, ShiftKind
from huxiao.duty.gap_services import DutyRefused
from huxiao.duty.models import (
    DutyAssignment,
    DutyHandover,
    DutyLogEntry,
    DutyOpenItem,
    DutyPlan,
    DutyShift,
)
from huxiao.duty.tests.duty_fixtures import DAY, add_leader, at, inbox, make_shift, put_on

pytestmark = pytest.mark.django_db
MONDAY = DAY - dt.timedelta(days=DAY.weekday())


# ------------------------------------------------------------------ plan


def test_plan_save_creates_then_updates(world):
    p = world.users["principal"]
    values = dict(
        day_starts="07:30",
        night_starts="18:30",
        check_in_grace_minutes="20",
        monitoring_max_gap_minutes=90,
        night_round_from="22:00",
        night_round_until="04:00",
    )
    plan = s.plan_save(actor=p, school_id=world.school.pk, **values)
    assert plan.day_starts == dt.time(7, 30) and plan.check_in_grace_minutes == 20
    s.plan_save(actor=p, school_id=world.school.pk, **{**values, "check_in_grace_minutes": 5})
    assert DutyPlan.objects.get().check_in_grace_minutes == 5
    assert AuditEvent.objects.filter(object_type="duty.dutyplan").count() == 2


def test_plan_rejects_bad_input_by_field(world):
    with pytest.raises(ValidationError) as exc:
        s.plan_save(
            actor=world.users["principal"],
            school_id=world.school.pk,
            day_starts="19:00",
            night_starts="07:00",
            check_in_grace_minutes=-1,
            monitoring_max_gap_minutes="x",
            night_round_from="25:00",
            night_round_until="05:00",
        )
    assert set(exc.value.message_dict) == {
        "night_starts",
        "check_in_grace_minutes",
        "monitoring_max_gap_minutes",
        "night_round_from",
    }
    assert not DutyPlan.objects.exists()


@pytest.mark.parametrize(("name", "error"), [("guard", PermissionDenied), ("principal2", Http404)])
def test_plan_rights(world, name, error):
    with pytest.raises(error):
        s.plan_save(
            actor=world.users[name],
            school_id=world.school.pk,
            day_starts="07:00",
            night_starts="19:00",
            check_in_grace_minutes=15,
            monitoring_max_gap_minutes=120,
            night_round_from="21:00",
            night_round_until="05:00",
        )


# ------------------------------------------------------------------ roster


def test_week_create_from_the_plan_in_local_time(world):
    DutyPlan.objects.create(school=world.school, day_starts="07:30", night_starts="19:30")
    created = s.week_create(
        actor=world.users["principal"],
        school_id=world.school.pk,
        week_start=DAY,
        now=at(0, 0, day=MONDAY),
    )
    assert len(created) == 14
    assert {x.date for x in created} == {MONDAY + dt.timedelta(days=i) for i in range(7)}
    night = DutyShift.objects.get(date=DAY, kind=ShiftKind.NIGHT)
    assert night.starts_at == at(19, 30) and night.ends_at == at(7, 30, days=1)
    day = DutyShift.objects.get(date=DAY, kind=ShiftKind.DAY)
    assert day.starts_at == at(7, 30) and day.ends_at == at(19, 30)
    assert AuditEvent.objects.filter(object_type="duty.dutyshift").count() == 14


def test_week_create_is_idempotent_and_skips_ended_shifts(world):
    p = world.users["principal"]
    first = s.week_create(actor=p, school_id=world.school.pk, week_start=DAY, now=at(12))
    # Monday–Tuesday are over, Wednesday's day shift runs until 19:00.
    assert len(first) == 10
    assert s.week_create(actor=p, school_id=world.school.pk, week_start=DAY, now=at(12)) == []
    assert DutyShift.objects.count() == 10


def test_week_create_rights_and_input(world):
    with pytest.raises(PermissionDenied):
        s.week_create(actor=world.users["guard"], school_id=world.school.pk, week_start=DAY)
    with pytest.raises(Http404):
        s.week_create(actor=world.users["principal2"], school_id=world.school.pk, week_start=DAY)
    with pytest.raises(Http404):
        s.week_create(actor=world.users["police"], school_id=world.far_school.pk, week_start=DAY)
    with pytest.raises(ValidationError):
        s.week_create(actor=world.users["principal"], school_id=world.school.pk, week_start="x")
    with pytest.raises(ValidationError):
        s.week_create(
            actor=world.users["principal"],
            school_id=world.school.pk,
            week_start=DAY + dt.timedelta(weeks=60),
            now=at(8),
        )
    assert not DutyShift.objects.exists()


def test_assign_member_only(world):
    shift = make_shift(world.school)
    p = world.users["principal"]
    a = s.assignment_add(
        actor=p, shift_id=shift.pk, user=world.users["guard"], role=DutyRole.GUARD, now=at(6)
    )
    assert a.user == world.users["guard"]
    with pytest.raises(ValidationError) as exc:
        s.assignment_add(
            actor=p,
            shift_id=shift.pk,
            user=world.users["principal2"].pk,
            role=DutyRole.STAFF,
            now=at(6),
        )
    assert "user" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        s.assignment_add(actor=p, shift_id=shift.pk, user="abc", role="boss", now=at(6))
    assert set(exc.value.message_dict) == {"user", "role"}
    with pytest.raises(ValidationError):
        s.assignment_add(
            actor=p, shift_id=shift.pk, user=world.users["guard"], role="staff", now=at(6)
        )
    with pytest.raises(DutyRefused):
        s.assignment_add(
            actor=p, shift_id=shift.pk, user=world.users["teacher"], role="staff", now=at(20)
        )
    with pytest.raises(PermissionDenied):
        s.assignment_add(
            actor=world.users["guard"],
            shift_id=shift.pk,
            user=world.users["teacher"],
            role="staff",
            now=at(6),
        )
    assert DutyAssignment.objects.count() == 1


def test_remove_until_checked_in(world):
    shift = make_shift(world.school)
    a = put_on(shift, world.users["guard"])
    b = put_on(shift, world.users["teacher"])
    s.assignment_remove(actor=world.users["principal"], assignment_id=b.pk)
    s.shift_check_in(actor=world.users["guard"], shift_id=shift.pk, now=at(7))
    with pytest.raises(DutyRefused):
        s.assignment_remove(actor=world.users["principal"], assignment_id=a.pk)
    with pytest.raises(Http404):
        s.assignment_remove(actor=world.users["principal2"], assignment_id=a.pk)
    assert list(DutyAssignment.objects.values_list("pk", flat=True)) == [a.pk]


# ------------------------------------------------------------------ check-in


@pytest.fixture
def shift(world):
    shift = make_shift(world.school)
    put_on(shift, world.users["guard"])
    return shift


def test_check_in_window(world, shift):
    guard = world.users["guard"]
    with pytest.raises(DutyRefused):
        s.shift_check_in(actor=guard, shift_id=shift.pk, now=at(5, 59))
    a = s.shift_check_in(actor=guard, shift_id=shift.pk, now=at(6, 0))
    assert a.checked_in_at == at(6, 0)
    # A second tap changes nothing.
    again = s.shift_check_in(actor=guard, shift_id=shift.pk, now=at(6, 5))
    assert again.checked_in_at == at(6, 0)
    assert AuditEvent.objects.filter(object_type="duty.dutyassignment").count() == 1


def test_check_in_after_the_end_is_refused(world, shift):
    with pytest.raises(DutyRefused):
        s.shift_check_in(actor=world.users["guard"], shift_id=shift.pk, now=at(19, 0))


def test_check_in_to_another_school_is_404_and_writes_nothing(world):
    other = make_shift(world.other_school)
    put_on(other, world.users["principal2"])
    with pytest.raises(Http404):
        s.shift_check_in(actor=world.users["guard"], shift_id=other.pk, now=at(8))
    assert not DutyAssignment.objects.filter(checked_in_at__isnull=False).exists()


def test_check_in_not_on_the_roster_is_403(world, shift):
    with pytest.raises(PermissionDenied):
        s.shift_check_in(actor=world.users["teacher"], shift_id=shift.pk, now=at(8))
    # Police see the school but keep no duty there.
    with pytest.raises(PermissionDenied):
        s.shift_check_in(actor=world.users["police"], shift_id=shift.pk, now=at(8))


def test_check_out_only_after_check_in(world, shift):
    guard = world.users["guard"]
    with pytest.raises(DutyRefused):
        s.shift_check_out(actor=guard, shift_id=shift.pk, now=at(8))
    s.shift_check_in(actor=guard, shift_id=shift.pk, now=at(7))
    a = s.shift_check_out(actor=guard, shift_id=shift.pk, now=at(20))
    assert a.checked_out_at == at(20)


# ------------------------------------------------------------------ log


def test_log_by_people_on_the_shift_and_planners(world, shift):
    e = s.log_add(
        actor=world.users["guard"], shift_id=shift.pk, text=" 巡查正常 ", kind="routine", now=at(8)
    )
    assert e.text == "巡查正常" and e.at == at(8)
    s.log_add(
        actor=world.users["principal"],
        shift_id=shift.pk,
        text="来访登记",
        kind=LogKind.VISITOR,
        at=at(7, 30),
        now=at(8),
    )
    with pytest.raises(PermissionDenied):
        s.log_add(actor=world.users["teacher"], shift_id=shift.pk, text="x", now=at(8))
    with pytest.raises(Http404):
        s.log_add(actor=world.users["principal2"], shift_id=shift.pk, text="x", now=at(8))
    assert DutyLogEntry.objects.count() == 2


def test_log_bad_input(world, shift):
    with pytest.raises(ValidationError) as exc:
        s.log_add(
            actor=world.users["guard"],
            shift_id=shift.pk,
            text="",
            kind="party",
            at=at(9),
            now=at(8),
        )
    assert set(exc.value.message_dict) == {"text", "kind", "at"}
    with pytest.raises(ValidationError):
        s.log_add(actor=world.users["guard"], shift_id=shift.pk, text="a\x00b", now=at(8))
    with pytest.raises(DutyRefused):
        s.log_add(actor=world.users["guard"], shift_id=shift.pk, text="x", now=at(5))
    assert not DutyLogEntry.objects.exists()


# ------------------------------------------------------------------ handover


@pytest.fixture
def two(world, shift):
    night = make_shift(world.school, kind=ShiftKind.NIGHT)
    put_on(night, world.users["teacher"], DutyRole.STAFF)
    return shift, night


def test_handover_carries_open_items_to_the_next_shift(world, two):
    day, night = two
    guard = world.users["guard"]
    handover = s.handover_create(
        actor=guard,
        shift_id=day.pk,
        notes="东门升降柱遥控失灵",
        open_items="联系维修\n\n联系维修\n 补登访客 ",
        now=at(18, 50),
    )
    assert handover.to_shift == night
    items = list(DutyOpenItem.objects.order_by("id"))
    assert [i.text for i in items] == ["联系维修", "补登访客"]
    assert all(i.current_shift == night and i.raised_in == day for i in items)
    assert inbox("duty.handover") == ["teacher"]
    # The night closes one and hands the other on to the next day.
    s.open_item_close(actor=world.users["teacher"], item_id=items[0].pk, note="已修好", now=at(20))
    tomorrow = make_shift(world.school, day=DAY + dt.timedelta(days=1))
    s.handover_create(actor=world.users["teacher"], shift_id=night.pk, now=at(6, 55, days=1))
    items[1].refresh_from_db()
    assert items[1].current_shift == tomorrow
    items[0].refresh_from_db()
    assert items[0].current_shift == night and items[0].closed_at == at(20)


def test_handover_once_and_not_before_the_start(world, two):
    day, _night = two
    with pytest.raises(DutyRefused):
        s.handover_create(actor=world.users["guard"], shift_id=day.pk, now=at(6, 30))
    s.handover_create(actor=world.users["guard"], shift_id=day.pk, now=at(19))
    with pytest.raises(DutyRefused):
        s.handover_create(actor=world.users["guard"], shift_id=day.pk, now=at(19, 1))
    with pytest.raises(DutyRefused):
        s.log_add(actor=world.users["guard"], shift_id=day.pk, text="late", now=at(19, 2))
    assert DutyHandover.objects.count() == 1


def test_handover_bad_input_writes_nothing(world, two):
    day, _night = two
    with pytest.raises(ValidationError) as exc:
        s.handover_create(
            actor=world.users["guard"],
            shift_id=day.pk,
            notes="n" * 2001,
            open_items=["x" * 501],
            now=at(19),
        )
    assert set(exc.value.message_dict) == {"notes", "open_items"}
    assert not DutyHandover.objects.exists() and not DutyOpenItem.objects.exists()


def test_handover_rights(world, two):
    day, _night = two
    with pytest.raises(PermissionDenied):
        s.handover_create(actor=world.users["teacher"], shift_id=day.pk, now=at(19))
    with pytest.raises(Http404):
        s.handover_create(actor=world.users["principal2"], shift_id=day.pk, now=at(19))


def test_receive_by_the_next_shift_once(world, two):
    day, _night = two
    h = s.handover_create(actor=world.users["guard"], shift_id=day.pk, now=at(19))
    with pytest.raises(PermissionDenied):
        s.handover_receive(actor=world.users["guard"], handover_id=h.pk, now=at(19, 5))
    with pytest.raises(Http404):
        s.handover_receive(actor=world.users["principal2"], handover_id=h.pk)
    r = s.handover_receive(actor=world.users["teacher"], handover_id=h.pk, now=at(19, 5))
    assert r.received_by == world.users["teacher"] and r.received_at == at(19, 5)
    with pytest.raises(DutyRefused):
        s.handover_receive(actor=world.users["teacher"], handover_id=h.pk, now=at(19, 6))


def test_handover_without_a_next_shift_waits_for_the_roster(world, shift):
    h = s.handover_create(
        actor=world.users["guard"], shift_id=shift.pk, open_items=["补登访客"], now=at(19)
    )
    assert h.to_shift is None
    item = DutyOpenItem.objects.get()
    assert item.current_shift is None
    with pytest.raises(DutyRefused):
        s.handover_receive(actor=world.users["guard"], handover_id=h.pk)
    created = s.week_create(
        actor=world.users["principal"], school_id=world.school.pk, week_start=DAY, now=at(19)
    )
    night = next(x for x in created if x.date == DAY and x.kind == ShiftKind.NIGHT)
    h.refresh_from_db()
    item.refresh_from_db()
    assert h.to_shift == night and item.current_shift == night


def test_close_item_rights_state_input(world, two):
    day, night = two
    s.handover_create(actor=world.users["guard"], shift_id=day.pk, open_items=["a"], now=at(19))
    item = DutyOpenItem.objects.get()
    with pytest.raises(PermissionDenied):
        s.open_item_close(actor=world.users["guard"], item_id=item.pk, note="x")
    with pytest.raises(ValidationError):
        s.open_item_close(actor=world.users["teacher"], item_id=item.pk, note=" ")
    s.open_item_close(actor=world.users["principal"], item_id=item.pk, note="ok")
    with pytest.raises(DutyRefused):
        s.open_item_close(actor=world.users["teacher"], item_id=item.pk, note="again")


def test_duty_leader_plans_and_is_flagged(world):
    leader = add_leader(world)
    shift = make_shift(world.school)
    s.assignment_add(
        actor=leader, shift_id=shift.pk, user=world.users["guard"], role="guard", now=at(6)
    )
    assert DutyAssignment.objects.count() == 1
