"""The response demo (huxiao.health.response_demo): demo mode only, a month of routine
disinfection at 大杨树实验幼儿园 and the response to the demo case, through the real
services, idempotent. Loading the township takes a few seconds, so the loaded demo is
checked in one test (the case is made here, as the case demo would, so this test does not
depend on the case area's services)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from huxiao.demo.township import DemoModeOff, load_demo_township
from huxiao.health.case_demo import demo_child
from huxiao.health.choices import Step
from huxiao.health.models import (
    AftercareTask,
    CaseStep,
    ClassSuspension,
    Disinfection,
    HealthCase,
    MonitoringPlan,
    OfficialStatement,
)
from huxiao.health.response_demo import KINDERGARTEN, load_demo_response
from huxiao.health.suspensions import suspended_class_ids

pytestmark = pytest.mark.django_db

EMPTY = {
    "disinfections": 0,
    "emergency": 0,
    "suspensions": 0,
    "statements": 0,
    "tasks": 0,
    "plans": 0,
}


def _counts() -> tuple:
    return tuple(
        model.objects.count()
        for model in (
            Disinfection,
            ClassSuspension,
            OfficialStatement,
            AftercareTask,
            MonitoringPlan,
            CaseStep,
        )
    )


def test_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(DemoModeOff):
        load_demo_response()


def test_does_nothing_without_the_township(settings):
    settings.DEMO_MODE = True
    assert load_demo_response() == EMPTY


def _school_days_before(today: dt.date, count: int) -> dt.date:
    day = today
    while count:
        day -= dt.timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def test_the_demo_disinfects_and_responds_to_the_case(settings):
    settings.DEMO_MODE = True
    load_demo_township()
    from huxiao.orgs.models import Organization

    school = Organization.objects.get(name=KINDERGARTEN)
    # Without a case: the routine month only.
    today = timezone.localdate()
    first = load_demo_response()
    assert first["disinfections"] > 100 and first["emergency"] == 0
    routine = Disinfection.objects.filter(school=school, kind="routine")
    assert routine.count() == first["disinfections"]
    areas = set(routine.values_list("area", flat=True))
    assert {"classroom", "canteen", "bus"} <= areas
    teacher_rows = routine.filter(recorded_by__username="teacher")
    assert set(teacher_rows.values_list("area_detail", flat=True)) == {"小一班教室"}
    oldest = timezone.localdate(routine.order_by("done_at").first().done_at)
    assert today - dt.timedelta(days=29) <= oldest
    assert load_demo_response() == EMPTY
    # The case demo's case, two school days ago.
    child = demo_child()
    day = _school_days_before(today, 2)
    reported = timezone.make_aware(dt.datetime.combine(day, dt.time(8, 20)))
    case = HealthCase.objects.create(
        school=school,
        school_class=child.school_class,
        child=child,
        symptoms=["fever", "hfmd"],
        temperature=Decimal("38.5"),
        onset_date=day,
        reported_at=reported,
        suspected_disease="手足口病",
    )
    second = load_demo_response()
    assert second == {
        **EMPTY,
        "emergency": 2,
        "suspensions": 1,
        "statements": 1,
        "tasks": 4,
        "plans": 1,
    }
    steps = {s.step: s for s in case.steps.all()}
    assert set(steps) == {
        Step.EMERGENCY_DISINFECTION,
        Step.CLASSROOM_DISINFECTED,
        Step.ASSESSED,
        Step.AFTERCARE,
    }
    assert timezone.localtime(steps[Step.CLASSROOM_DISINFECTED].done_at).time() == dt.time(9, 10)
    suspension = ClassSuspension.objects.get(case=case)
    assert suspension.decided_by.username == "principal"
    assert suspension.health_centre_opinion and suspension.education_office_opinion
    assert (suspension.ends_on - suspension.starts_on).days == 6
    assert suspended_class_ids(school.pk, suspension.starts_on) == {child.school_class_id}
    assert OfficialStatement.objects.get(case=case).approved_by.startswith("刘芳")
    tasks = list(AftercareTask.objects.filter(case=case))
    done = [t for t in tasks if t.done_at]
    assert len(tasks) == 4 and [t.kind for t in done] == ["psychological"]
    assert done[0].note and done[0].done_by.username == "teacher"
    plan = MonitoringPlan.objects.get(case=case)
    assert (plan.starts_on, plan.checks_per_day) == (day, 2)
    assert (plan.ends_on - plan.starts_on).days == 13
    before = _counts()
    assert load_demo_response() == EMPTY
    assert _counts() == before
