# ruff: noqa: F811 - pytest fixtures imported from activity_fixtures are arguments here
"""Services of drill records (ADR 0030): signal and all out on server time, typed times and
headcounts, the drill alarm (same path as a real alarm, marked drill, linked), problems
turned into hazards; bad input writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from huxiao.alarms.choices import AlarmKind, AlarmStatus
from huxiao.alarms.events import console_groups, groups_for_alarm
from huxiao.alarms.models import Alarm
from huxiao.audit.models import AuditEvent
from huxiao.core.scoping import memberships_of
from huxiao.drills import drill_services as services
from huxiao.drills.activity_services import ActivityRefused
from huxiao.drills.choices import ActivityKind, ActivityStatus, DrillKind
from huxiao.drills.models import Activity, DrillProblem, DrillRecord
from huxiao.drills.tests.activity_fixtures import (
    ENROLMENT,
    drill_alarm,
    local,
    make_activity,
    school,  # noqa: F401 - fixture
)
from huxiao.hazards.models import Hazard

pytestmark = pytest.mark.django_db


def errors_of(exc) -> dict:
    return exc.value.message_dict


@pytest.fixture
def drill(school):
    """This morning's whole-school fire drill, taken place, not timed yet."""
    now = timezone.localtime()
    starts = now - dt.timedelta(minutes=30) if now.hour >= 1 else now
    return make_activity(school, starts_at=starts.replace(microsecond=0), whole_school=True)


@pytest.fixture
def typed_drill(school):
    """A drill that started 30 minutes ago, on whichever local day that was: typed times
    must lie between its start and now and on its day (a "today" drill has no such window
    in the first minutes after midnight)."""
    starts = timezone.localtime() - dt.timedelta(minutes=30)
    return make_activity(school, starts_at=starts.replace(microsecond=0), whole_school=True)


# ------------------------------------------------------------------ signal and all out


def test_signal_and_all_out_give_the_duration(world, drill):
    teacher = world.users["teacher"]
    signal_at = timezone.now().replace(microsecond=0)
    record = services.drill_signal(actor=teacher, activity_id=drill.pk, now=signal_at)
    assert record.signal_at == signal_at
    assert record.expected_headcount == ENROLMENT  # whole school: the enrolment
    out = services.drill_all_out(
        actor=teacher, activity_id=drill.pk, now=signal_at + dt.timedelta(seconds=154)
    )
    assert out.duration_seconds == 154
    with pytest.raises(ActivityRefused):
        services.drill_all_out(actor=teacher, activity_id=drill.pk)
    with pytest.raises(ActivityRefused):
        services.drill_signal(actor=teacher, activity_id=drill.pk)
    assert AuditEvent.objects.filter(object_type="drills.drillrecord").count() == 3


def test_all_out_needs_the_signal(world, drill):
    with pytest.raises(ActivityRefused):
        services.drill_all_out(actor=world.users["teacher"], activity_id=drill.pk)
    # The record made for the refused step was rolled back with it.
    assert not DrillRecord.objects.exists()


def test_signal_of_a_planned_drill_makes_it_take_place_now(world, school):
    planned = make_activity(school, status=ActivityStatus.PLANNED, starts_at=local(days=2))
    now = timezone.now().replace(microsecond=0)
    services.drill_signal(actor=world.users["teacher"], activity_id=planned.pk, now=now)
    planned.refresh_from_db()
    assert planned.status == ActivityStatus.HELD
    assert planned.starts_at == now and planned.date == timezone.localdate(now)


def test_signal_of_a_past_drill_is_typed_instead(world, school):
    old = make_activity(school, starts_at=local(days=-3))
    with pytest.raises(ActivityRefused):
        services.drill_signal(actor=world.users["teacher"], activity_id=old.pk)


def test_expected_headcount_of_the_participating_classes(world, school):
    drill = make_activity(school, whole_school=False)
    drill.classes.set([world.school_class])
    record = services.drill_signal(actor=world.users["teacher"], activity_id=drill.pk)
    assert record.expected_headcount == 1  # one enrolled child in 小一班


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("police", PermissionDenied),
        ("officer", PermissionDenied),
        ("edu", PermissionDenied),
        ("guard", PermissionDenied),
        ("principal2", Http404),
        ("farpolice", Http404),
    ],
)
def test_who_may_not_keep_drill_records(world, drill, name, error):
    with pytest.raises(error):
        services.drill_signal(actor=world.users[name], activity_id=drill.pk)
    assert not DrillRecord.objects.exists()


def test_only_drills_have_records(world, school):
    talk = make_activity(school, kind=ActivityKind.SAFETY_EDUCATION, drill_kind="")
    with pytest.raises(ActivityRefused):
        services.drill_signal(actor=world.users["teacher"], activity_id=talk.pk)
    cancelled = make_activity(school, status=ActivityStatus.CANCELLED)
    with pytest.raises(ActivityRefused):
        services.drill_signal(actor=world.users["teacher"], activity_id=cancelled.pk)


# ------------------------------------------------------------------ typed times and counts


def save(world, drill, **changes):
    return services.drill_record_save(actor=world.users["teacher"], activity_id=drill.pk, **changes)


def test_typed_times_and_headcount(world, typed_drill):
    drill = typed_drill
    signal = drill.starts_at + dt.timedelta(minutes=2)
    record = save(
        world,
        drill,
        signal_at=signal,
        all_out_at=signal + dt.timedelta(minutes=3, seconds=5),
        expected_headcount=88,
        counted_headcount=87,
        missing_resolved=True,
        missing_note="1人病假在家，已电话确认",
    )
    assert record.duration_seconds == 185
    assert record.missing == 1
    # A subset changes only itself.
    record = save(world, drill, counted_headcount=88)
    assert record.counted_headcount == 88 and record.duration_seconds == 185


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"signal_at": "10:00"}, "signal_at"),
        ({"signal_at": dt.datetime(9999, 12, 31, 23, 59)}, "signal_at"),
        ({"signal_at": dt.datetime(1, 1, 1)}, "signal_at"),
        ({"all_out_at": "2026-01-01T10:00"}, "all_out_at"),  # no signal
        ({"expected_headcount": ENROLMENT + 1}, "expected_headcount"),
        ({"counted_headcount": ENROLMENT + 1}, "counted_headcount"),
        ({"counted_headcount": -3}, "counted_headcount"),
        ({"counted_headcount": True}, "counted_headcount"),
        ({"missing_note": "x" * 501}, "missing_note"),
        ({"missing_resolved": "maybe"}, "missing_resolved"),
        (
            {"expected_headcount": 10, "counted_headcount": 8, "missing_resolved": True},
            "missing_note",
        ),
    ],
)
def test_bad_record_input_writes_nothing(world, drill, changes, field):
    with pytest.raises(ValidationError) as exc:
        save(world, drill, **changes)
    assert field in errors_of(exc)
    assert not DrillRecord.objects.exists()


def test_drill_end_before_its_start(world, drill):
    signal = drill.starts_at + dt.timedelta(minutes=5)
    with pytest.raises(ValidationError) as exc:
        save(world, drill, signal_at=signal, all_out_at=signal - dt.timedelta(seconds=1))
    assert "all_out_at" in errors_of(exc)
    with pytest.raises(ValidationError) as exc:
        save(world, drill, signal_at=signal, all_out_at=signal + dt.timedelta(hours=3))
    assert "all_out_at" in errors_of(exc)
    assert not DrillRecord.objects.exists()


def test_times_in_the_future_or_on_another_day(world, drill):
    with pytest.raises(ValidationError) as exc:
        save(world, drill, signal_at=timezone.now() + dt.timedelta(hours=1))
    assert "signal_at" in errors_of(exc)
    with pytest.raises(ValidationError) as exc:
        save(world, drill, signal_at=local(days=-2, hour=10))
    assert "signal_at" in errors_of(exc)


def test_typed_signal_of_a_planned_drill_holds_it(world, school):
    planned = make_activity(school, status=ActivityStatus.PLANNED, starts_at=local(days=-1))
    signal = local(days=-1, hour=10, minute=1)
    save(world, planned, signal_at=signal, all_out_at=signal + dt.timedelta(seconds=90))
    planned.refresh_from_db()
    assert planned.status == ActivityStatus.HELD and planned.starts_at == signal


def test_unknown_fields_are_a_programming_error(world, drill):
    with pytest.raises(TypeError):
        save(world, drill, colour="red")


# ------------------------------------------------------------------ the drill alarm


def test_start_with_a_drill_alarm(world, school):
    principal = world.users["principal"]
    now = timezone.now().replace(microsecond=0)
    activity = services.drill_start(
        actor=principal,
        school_id=school.pk,
        drill_kind=DrillKind.INTRUSION,
        location="教学楼",
        with_alarm=True,
        now=now,
    )
    record = DrillRecord.objects.get(activity=activity)
    alarm = record.alarm
    assert alarm.is_drill and alarm.kind == AlarmKind.INTRUSION
    assert alarm.status == AlarmStatus.RAISED and alarm.location == "教学楼"
    assert record.signal_at == alarm.raised_at == now
    assert activity.status == ActivityStatus.HELD and activity.whole_school
    # The same path as a real alarm: the police console's groups receive it, as a drill.
    police_groups = console_groups(memberships_of(world.users["police"]))
    assert set(police_groups) & set(groups_for_alarm(alarm))
    assert alarm.events.filter(type="alarm.raised").exists()


def test_start_without_the_alarm_leaves_the_signal_to_the_phone(world, school):
    activity = services.drill_start(
        actor=world.users["teacher"], school_id=school.pk, drill_kind=DrillKind.EARTHQUAKE
    )
    assert activity.kind == ActivityKind.DRILL and activity.status == ActivityStatus.HELD
    assert not DrillRecord.objects.exists()
    assert not Alarm.objects.exists()


def test_start_refused_writes_nothing(world, school):
    with pytest.raises(ValidationError) as exc:
        services.drill_start(actor=world.users["teacher"], school_id=school.pk, drill_kind="x")
    assert "drill_kind" in errors_of(exc)
    with pytest.raises(PermissionDenied):
        services.drill_start(
            actor=world.users["officer"], school_id=school.pk, drill_kind="fire", with_alarm=True
        )
    with pytest.raises(Http404):
        services.drill_start(
            actor=world.users["principal2"], school_id=school.pk, drill_kind="fire"
        )
    assert not Activity.objects.exists() and not Alarm.objects.exists()


def test_signal_with_the_alarm_on_the_phone(world, drill):
    record = services.drill_signal(
        actor=world.users["teacher"], activity_id=drill.pk, with_alarm=True
    )
    assert record.alarm.is_drill and record.signal_at == record.alarm.raised_at


def test_link_a_drill_alarm_of_that_day(world, school, drill):
    principal = world.users["principal"]
    real = Alarm.objects.create(
        school=school,
        kind="fire",
        raised_at=timezone.now(),
        cancel_window_ends_at=timezone.now(),
        source="button",
    )
    other_day = drill_alarm(school, principal, now=local(days=-2))
    elsewhere = drill_alarm(world.other_school, world.users["principal2"])
    alarm = drill_alarm(school, principal)
    for wrong in (real.pk, other_day.pk, elsewhere.pk, 10**30, "x"):
        with pytest.raises(ValidationError) as exc:
            services.drill_link_alarm(actor=principal, activity_id=drill.pk, alarm_id=wrong)
        assert "alarm" in errors_of(exc)
    record = services.drill_link_alarm(actor=principal, activity_id=drill.pk, alarm_id=alarm.pk)
    assert record.alarm == alarm and record.signal_at == alarm.raised_at
    with pytest.raises(ActivityRefused):
        services.drill_link_alarm(actor=principal, activity_id=drill.pk, alarm_id=alarm.pk)
    # Another drill of that day cannot take the same alarm.
    second = make_activity(school, starts_at=drill.starts_at)
    with pytest.raises(ValidationError):
        services.drill_link_alarm(actor=principal, activity_id=second.pk, alarm_id=alarm.pk)


# ------------------------------------------------------------------ problems


def test_problem_becomes_a_hazard(world, drill):
    teacher = world.users["teacher"]
    problem = services.drill_problem_add(
        actor=teacher, activity_id=drill.pk, description="二楼东侧安全出口被杂物堵塞"
    )
    hazard = services.drill_problem_to_hazard(
        actor=teacher, problem_id=problem.pk, category="physical", level="general"
    )
    problem.refresh_from_db()
    assert problem.hazard == hazard
    assert hazard.school_id == drill.school_id and hazard.title == "二楼东侧安全出口被杂物堵塞"
    assert drill.title in hazard.description
    with pytest.raises(ActivityRefused):
        services.drill_problem_to_hazard(actor=teacher, problem_id=problem.pk)
    with pytest.raises(ActivityRefused):
        services.drill_problem_delete(actor=teacher, problem_id=problem.pk)


def test_bad_hazard_input_leaves_the_problem(world, drill):
    teacher = world.users["teacher"]
    problem = services.drill_problem_add(
        actor=teacher, activity_id=drill.pk, description="灭火器过期"
    )
    with pytest.raises(ValidationError) as exc:
        services.drill_problem_to_hazard(actor=teacher, problem_id=problem.pk, category="nope")
    assert "category" in errors_of(exc)
    with pytest.raises(ValidationError) as exc:
        services.drill_problem_to_hazard(
            actor=teacher, problem_id=problem.pk, deadline=dt.date(2200, 1, 1)
        )
    assert "deadline" in errors_of(exc)
    problem.refresh_from_db()
    assert problem.hazard is None and not Hazard.objects.exists()


def test_problem_rules(world, school, drill):
    teacher = world.users["teacher"]
    with pytest.raises(ValidationError) as exc:
        services.drill_problem_add(actor=teacher, activity_id=drill.pk, description="  ")
    assert "description" in errors_of(exc)
    planned = make_activity(school, status=ActivityStatus.PLANNED, starts_at=local(days=2))
    with pytest.raises(ActivityRefused):
        services.drill_problem_add(actor=teacher, activity_id=planned.pk, description="x")
    problem = services.drill_problem_add(actor=teacher, activity_id=drill.pk, description="x")
    with pytest.raises(PermissionDenied):
        services.drill_problem_delete(actor=world.users["police"], problem_id=problem.pk)
    with pytest.raises(Http404):
        services.drill_problem_delete(actor=world.users["principal2"], problem_id=problem.pk)
    services.drill_problem_delete(actor=teacher, problem_id=problem.pk)
    assert not DrillProblem.objects.exists()
