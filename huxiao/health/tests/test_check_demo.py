"""The checks demo (huxiao.health.check_demo): demo mode only, nothing without the township,
a month of consistent data for the kindergarten and the primary school, the planted cluster
of 小一班 with the suspected case's check, dormitory rooms, idempotent. Loading the township
takes a few seconds, so the loaded demo is checked in one test."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.db.models import Count

from huxiao.demo.township import DemoModeOff, load_demo_township
from huxiao.health.check_demo import (
    DEMO_CASE_CHILD_NAME,
    DEMO_CASE_CLASS_NAME,
    demo_case_check,
    demo_case_child,
    load_demo_check,
)
from huxiao.health.choices import AbsenceCause, CheckAction
from huxiao.health.models import (
    Absence,
    AttendanceDay,
    ChildCheck,
    ClassStaff,
    DiningSeat,
    DormAssignment,
    HealthCheck,
    IllnessFollowUp,
    SymptomEvent,
)
from huxiao.orgs.models import Organization
from huxiao.people.models import SchoolClass

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 11)  # a Wednesday


def _counts() -> tuple:
    return tuple(
        model.objects.count()
        for model in (
            HealthCheck,
            ChildCheck,
            AttendanceDay,
            Absence,
            IllnessFollowUp,
            SymptomEvent,
            DiningSeat,
            DormAssignment,
            ClassStaff,
        )
    )


def test_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(DemoModeOff):
        load_demo_check()


def test_does_nothing_without_the_township(settings):
    settings.DEMO_MODE = True
    assert not any(load_demo_check(today=TODAY).values())
    assert _counts() == (0,) * 9


def test_the_demo_month(settings):
    settings.DEMO_MODE = True
    load_demo_township()
    result = load_demo_check(today=TODAY)
    kg = Organization.objects.get(name="大杨树实验幼儿园")
    primary = Organization.objects.get(name="大杨树中心小学")
    days = [
        TODAY - dt.timedelta(days=n)
        for n in range(30)
        if (TODAY - dt.timedelta(days=n)).weekday() < 5
    ]
    classes = SchoolClass.objects.filter(school__in=[kg, primary]).count()
    assert result["checks"] == HealthCheck.objects.count() == classes * len(days)
    assert AttendanceDay.objects.count() == classes * len(days)
    assert set(HealthCheck.objects.values_list("date", flat=True)) == set(days)

    # Consistent: every result of a child present; counts as written; the line list.
    assert (
        not ChildCheck.objects.filter(child__absences__date=dt.date(2026, 3, 10))
        .filter(date=dt.date(2026, 3, 10))
        .exists()
    )
    for check in HealthCheck.objects.annotate(n=Count("results")).filter(date=TODAY):
        assert check.n == check.checked
        absent = Absence.objects.filter(school_class=check.school_class, date=TODAY).count()
        assert check.expected - absent == check.checked
    for row in ChildCheck.objects.filter(is_well=False):
        assert SymptomEvent.objects.filter(child_check=row).count() == len(row.symptoms)
    for absence in Absence.objects.filter(cause=AbsenceCause.ILLNESS):
        assert absence.follow_up_id is not None
        assert SymptomEvent.objects.filter(absence=absence).count() == len(absence.symptoms)
    assert SymptomEvent.objects.count() == result["symptom_events"]
    assert result["results"] == ChildCheck.objects.count() > 15000
    assert DiningSeat.objects.count() == ChildCheck.objects.count()
    tables = Counter(DiningSeat.objects.filter(date=TODAY).values_list("table", flat=True))
    assert max(tables.values()) == 6

    # Most illness follow-ups closed on the return, with a note.
    closed = IllnessFollowUp.objects.filter(returned_on__isnull=False)
    assert closed.count() > IllnessFollowUp.objects.filter(returned_on__isnull=True).count()
    assert not closed.filter(return_note="").exists()
    # Unknown causes chased the same morning, but one of today.
    chased = Absence.objects.filter(chased_at__isnull=False)
    assert chased.exists() and all(a.chased_at.date() == a.date for a in chased)
    [unknown] = Absence.objects.filter(cause=AbsenceCause.UNKNOWN)
    assert unknown.date == TODAY and unknown.school_class.name == DEMO_CASE_CLASS_NAME

    # The planted cluster: three children of 小一班 with fever or cough within three days,
    # and nobody else of the kindergarten with symptoms in the last week.
    recent = SymptomEvent.objects.filter(school=kg, date__gte=TODAY - dt.timedelta(days=2))
    cluster = set(
        recent.filter(
            school_class__name=DEMO_CASE_CLASS_NAME, symptom__in=["fever", "cough"]
        ).values_list("child_id", flat=True)
    )
    assert len(cluster) == 3
    week = SymptomEvent.objects.filter(school=kg, date__gte=TODAY - dt.timedelta(days=6))
    assert set(week.values_list("child_id", flat=True)) == cluster
    case = demo_case_child()
    assert case.name == DEMO_CASE_CHILD_NAME and case.pk in cluster
    found = demo_case_check()
    assert found.date == TODAY and found.child == case and found.action == CheckAction.OBSERVATION
    assert found.symptoms == ["fever", "cough"] and found.health_check.recorded_by.username == (
        "teacher"
    )
    assert found.checkpoint == "小班晨检台"
    queue = ChildCheck.objects.filter(date=TODAY, checkpoint="小班晨检台")
    assert queue.values("health_check__school_class").distinct().count() == 3

    # Class staff and dormitory rooms.
    assert ClassStaff.objects.filter(school_class__school=kg).count() == 9
    middle = Organization.objects.get(name="大杨树镇中学")
    rooms = Counter(DormAssignment.objects.filter(school=middle).values_list("room", flat=True))
    assert rooms and max(rooms.values()) <= 8

    before = _counts()
    assert not any(load_demo_check(today=TODAY).values())
    assert not any(load_demo_check(today=TODAY + dt.timedelta(days=1)).values())
    assert _counts() == before
