"""Duty gaps with a controllable clock (issue 7 tests: "duty-gap detection with a
controllable clock"): the uncovered-shift scan, gap_flag's idempotence and recipients,
resolving with a note."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from huxiao.audit.models import AuditEvent
from huxiao.duty.choices import DutyRole, GapKind, ShiftKind
from huxiao.duty.duty_services import duty_gaps_scan, shift_check_in
from huxiao.duty.gap_services import DutyRefused, gap_flag, gap_resolve
from huxiao.duty.models import DutyGap, DutyPlan
from huxiao.duty.tests.duty_fixtures import DAY, add_leader, at, inbox, make_shift, put_on

pytestmark = pytest.mark.django_db
EVENT = "duty.gap"


@pytest.fixture
def shift(world):
    add_leader(world)
    s = make_shift(world.school)
    put_on(s, world.users["guard"], DutyRole.GUARD)
    put_on(s, world.users["teacher"], DutyRole.LEADER)
    return s


def test_before_grace_no_gap(world, shift):
    assert duty_gaps_scan(now=at(7, 14)) == []
    assert not DutyGap.objects.exists()
    shift.refresh_from_db()
    assert shift.gap_flagged_at is None


def test_after_grace_one_gap_and_one_notification_per_recipient(world, shift):
    flagged = duty_gaps_scan(now=at(7, 16))
    assert len(flagged) == 1
    gap = DutyGap.objects.get()
    assert gap.kind == GapKind.SHIFT_UNCOVERED
    assert gap.shift_id == shift.pk and gap.school_id == world.school.pk
    assert gap.starts_at == shift.starts_at and gap.day == DAY
    assert gap.flagged_at == at(7, 16)
    shift.refresh_from_db()
    assert shift.gap_flagged_at == at(7, 16)
    # The leader on duty (teacher), the duty leader and the principal; not the guard.
    assert inbox(EVENT) == ["leader", "principal", "teacher"]
    assert AuditEvent.objects.filter(object_type="duty.dutygap", action="create").count() == 1


def test_second_run_no_duplicate(world, shift):
    duty_gaps_scan(now=at(7, 16))
    assert duty_gaps_scan(now=at(7, 17)) == []
    assert duty_gaps_scan(now=at(12, 0)) == []
    assert DutyGap.objects.count() == 1
    assert len(inbox(EVENT)) == 3


def test_checked_in_shift_is_not_a_gap(world, shift):
    shift_check_in(actor=world.users["guard"], shift_id=shift.pk, now=at(6, 55))
    assert duty_gaps_scan(now=at(7, 30)) == []


def test_ended_or_future_shifts_are_not_scanned(world, shift):
    night = make_shift(world.school, kind=ShiftKind.NIGHT)
    assert duty_gaps_scan(now=at(19, 5)) == []  # the night is within its grace
    assert [g.shift_id for g in DutyGap.objects.all()] == []
    assert len(duty_gaps_scan(now=at(19, 20))) == 1
    assert DutyGap.objects.get().shift_id == night.pk


def test_grace_from_the_plan(world, shift):
    DutyPlan.objects.create(school=world.school, check_in_grace_minutes=40)
    assert duty_gaps_scan(now=at(7, 30)) == []
    assert len(duty_gaps_scan(now=at(7, 41))) == 1


def test_shift_without_anyone_on_it_is_a_gap(world):
    make_shift(world.school)
    assert len(duty_gaps_scan(now=at(8, 0))) == 1
    assert inbox(EVENT) == ["principal"]


def test_all_schools_in_one_run(world, shift):
    make_shift(world.other_school)
    make_shift(world.far_school)
    assert len(duty_gaps_scan(now=at(8, 0))) == 3
    assert "principal2" in inbox(EVENT)


def test_late_check_in_keeps_the_gap_and_records_cover(world, shift):
    duty_gaps_scan(now=at(7, 20))
    shift_check_in(actor=world.users["guard"], shift_id=shift.pk, now=at(7, 50))
    gap = DutyGap.objects.get()
    assert gap.resolved_at is None
    assert gap.ends_at == at(7, 50)
    assert duty_gaps_scan(now=at(8, 0)) == []


# ------------------------------------------------------------------ gap_flag


def test_gap_flag_is_idempotent(world):
    first = gap_flag(school=world.school, kind=GapKind.ROUNDS_MISSED, starts_at=at(0), day=DAY)
    assert first is not None
    again = gap_flag(school=world.school.pk, kind=GapKind.ROUNDS_MISSED, starts_at=at(0), day=DAY)
    assert again is None
    assert DutyGap.objects.count() == 1
    assert inbox(EVENT) == ["principal"]


def test_gap_flag_rejects_an_unknown_kind(world):
    with pytest.raises(ValueError):
        gap_flag(school=world.school, kind="nonsense", starts_at=at(0))
    assert not DutyGap.objects.exists()


# ------------------------------------------------------------------ gap_resolve


@pytest.fixture
def gap(world, shift):
    duty_gaps_scan(now=at(7, 20))
    return DutyGap.objects.get()


def test_resolve_with_note(world, gap):
    resolved = gap_resolve(actor=world.users["principal"], gap_id=gap.pk, note=" 门卫迟到，已批评 ")
    assert resolved.resolved_at is not None and resolved.note == "门卫迟到，已批评"
    assert resolved.resolved_by == world.users["principal"]
    assert AuditEvent.objects.filter(object_type="duty.dutygap", action="update").exists()


def test_duty_leader_resolves(world, gap):
    gap_resolve(actor=world.users["leader"], gap_id=gap.pk, note="ok")


@pytest.mark.parametrize("name", ["guard", "teacher"])
def test_resolve_needs_plan_duty(world, gap, name):
    with pytest.raises(PermissionDenied):
        gap_resolve(actor=world.users[name], gap_id=gap.pk, note="x")
    gap.refresh_from_db()
    assert gap.resolved_at is None


@pytest.mark.parametrize("name", ["principal2", "farpolice", "nobody"])
def test_resolve_out_of_scope_is_404(world, gap, name):
    with pytest.raises(Http404):
        gap_resolve(actor=world.users[name], gap_id=gap.pk, note="x")


@pytest.mark.parametrize("name", ["police", "gov", "county"])
def test_resolve_by_readers_is_403(world, gap, name):
    with pytest.raises(PermissionDenied):
        gap_resolve(actor=world.users[name], gap_id=gap.pk, note="x")


def test_resolve_needs_a_note_and_only_once(world, gap):
    with pytest.raises(ValidationError) as exc:
        gap_resolve(actor=world.users["principal"], gap_id=gap.pk, note="   ")
    assert "note" in exc.value.message_dict
    with pytest.raises(ValidationError):
        gap_resolve(actor=world.users["principal"], gap_id=gap.pk, note="x" * 501)
    gap_resolve(actor=world.users["principal"], gap_id=gap.pk, note="done")
    with pytest.raises(DutyRefused):
        gap_resolve(actor=world.users["principal"], gap_id=gap.pk, note="again")
