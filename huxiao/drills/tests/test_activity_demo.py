"""The activities demo (huxiao.drills.activity_demo): demo mode only; a term of weekly drills
with gaps at two schools, sessions, trainings, the officer's lecture and parent meeting,
the kindergarten's drill alarm (resolved) with a problem turned hazard, two plans for next
week; a second run changes nothing. Loading the township takes a few seconds, so the loaded
demo is checked in one test per clock."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.alarms.choices import OPEN_STATUSES
from huxiao.alarms.models import Alarm
from huxiao.audit.models import AuditEvent
from huxiao.demo.township import DemoModeOff, load_demo_township
from huxiao.drills.activity_demo import PROBLEM, current_term, drill_weeks, load_demo_activities
from huxiao.drills.choices import ActivityKind, ActivityStatus
from huxiao.drills.models import Activity, DrillProblem, DrillRecord
from huxiao.hazards.models import Hazard
from huxiao.orgs.models import Organization
from huxiao.people.models import SchoolClass

pytestmark = pytest.mark.django_db
KG = "大杨树实验幼儿园"
VILLAGE = "红星村小学"


def _counts() -> tuple:
    return (
        Activity.objects.count(),
        Activity.classes.through.objects.count(),
        DrillRecord.objects.count(),
        DrillProblem.objects.count(),
        Alarm.objects.count(),
        Hazard.objects.count(),
        AuditEvent.objects.count(),
    )


def test_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(DemoModeOff):
        load_demo_activities()
    assert not Activity.objects.exists()


def test_does_nothing_without_the_township(settings):
    settings.DEMO_MODE = True
    assert load_demo_activities() == {"activities": 0, "drills": 0, "alarms": 0, "hazards": 0}


@pytest.mark.parametrize(
    "local",
    [
        dt.datetime(2026, 11, 30, 11, 0),  # a Monday in the autumn term
        dt.datetime(2026, 8, 10, 9, 0),  # the summer holiday: the spring term before
    ],
)
def test_the_demo_term(settings, local):
    settings.DEMO_MODE = True
    load_demo_township()
    now = timezone.make_aware(local)
    today = local.date()
    result = load_demo_activities(now=now)
    kg = Organization.objects.get(name=KG)
    term = current_term(kg.region_id, today)
    weeks = drill_weeks(term, today)
    assert result["alarms"] == 1 and result["hazards"] == 1

    # Weekly drills to last week; the kindergarten misses last week, the village two weeks.
    drills = Activity.objects.filter(kind=ActivityKind.DRILL, status=ActivityStatus.HELD)
    kg_days = set(drills.filter(school=kg).values_list("date", flat=True))
    last_week = weeks[-1]
    assert not any(last_week <= d < last_week + dt.timedelta(days=7) for d in kg_days)
    assert len(kg_days) == len(weeks) - 1
    village = drills.filter(school__name=VILLAGE).count()
    assert village == len(weeks) - 2
    assert DrillRecord.objects.filter(all_out_at__isnull=False).count() == drills.count()
    assert all(d.duration_seconds > 0 for d in DrillRecord.objects.all())

    # The drill alarm: raised as a drill, resolved, linked; its problem is a hazard.
    alarm = Alarm.objects.get()
    assert alarm.is_drill and alarm.status not in OPEN_STATUSES
    assert alarm.acknowledged_at and alarm.arrived_at
    record = DrillRecord.objects.get(alarm=alarm)
    assert record.signal_at == alarm.raised_at and record.activity.school == kg
    problem = DrillProblem.objects.get(description=PROBLEM)
    assert problem.hazard is not None and problem.hazard.school == kg

    # The officer's lecture and the parent meeting, both confirmed.
    lecture = Activity.objects.get(kind=ActivityKind.LEGAL_LECTURE)
    assert lecture.police_officer.username == "officer" and lecture.police_confirmed_at
    meeting = Activity.objects.get(kind=ActivityKind.PARENT_MEETING)
    assert meeting.police_officer.username == "officer" and meeting.police_confirmed_at

    # Safety education covers every class but one at the kindergarten.
    sessions = Activity.objects.filter(school=kg, kind=ActivityKind.SAFETY_EDUCATION)
    covered = set(
        Activity.classes.through.objects.filter(
            activity__in=sessions.filter(status=ActivityStatus.HELD)
        ).values_list("schoolclass_id", flat=True)
    )
    assert len(covered) == SchoolClass.objects.filter(school=kg).count() - 1
    assert Activity.objects.filter(kind=ActivityKind.STAFF_TRAINING).count() == 7

    # Two plans next week.
    planned = Activity.objects.filter(status=ActivityStatus.PLANNED)
    monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=7)
    assert planned.count() == 2
    assert all(monday <= a.date < monday + dt.timedelta(days=7) for a in planned)

    before = _counts()
    assert load_demo_activities(now=now)["activities"] == 0
    assert _counts() == before
