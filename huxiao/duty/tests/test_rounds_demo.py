"""The demo checkpoints and rounds (huxiao.duty.rounds_demo): demo mode only, through the
real services, idempotent. Loading the township takes a few seconds, so the loaded demo is
checked in one test."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from huxiao.audit.models import AuditEvent
from huxiao.demo.township import DemoModeOff, load_demo_township
from huxiao.duty import rounds_selectors
from huxiao.duty.choices import GapKind
from huxiao.duty.models import Checkpoint, CheckpointScan, DutyGap, PatrolRound
from huxiao.duty.rounds_counts import round_counts
from huxiao.duty.rounds_demo import KINDERGARTEN, MIDDLE, PRIMARY, PRIVATE_KG, load_demo_rounds
from huxiao.notify.models import Notification
from huxiao.orgs.models import Organization

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(DemoModeOff):
        load_demo_rounds()
    assert not Checkpoint.objects.exists()


def test_does_nothing_without_the_township(settings):
    settings.DEMO_MODE = True
    assert load_demo_rounds() == {"checkpoints": 0, "rounds": 0, "scans": 0, "gaps": 0}


@pytest.mark.parametrize("hour", [9, 15])
def test_the_demo_rounds(settings, hour):
    settings.DEMO_MODE = True
    load_demo_township()
    today = timezone.localdate()
    now = timezone.make_aware(dt.datetime.combine(today, dt.time(hour, 0)))
    result = load_demo_rounds(now=now)
    assert result["checkpoints"] == 5 + 5 + 7 + 4
    assert result["rounds"] > 100 and result["gaps"] == 5
    schools = {s.name: s for s in Organization.objects.schools()}
    kg, primary, middle = schools[KINDERGARTEN], schools[PRIMARY], schools[MIDDLE]
    week = round_counts(
        [s.pk for s in schools.values()], today - dt.timedelta(days=7), today - dt.timedelta(days=1)
    )
    assert all(day >= 5 for day, _night in week[kg.pk].values()) and len(week[kg.pk]) == 7
    assert week[primary.pk][today - dt.timedelta(days=1)] == (3, 0)
    assert week[schools[PRIVATE_KG].pk][today - dt.timedelta(days=1)] == (5, 0)
    assert sum(night for _day, night in week[middle.pk].values()) == 6
    guard = User.objects.get(username="guard")
    assert set(PatrolRound.objects.filter(school=kg).values_list("guard_id", flat=True)) == {
        guard.pk
    }
    # The gaps of the daily check.
    missed = {g.school.name: g for g in DutyGap.objects.filter(kind=GapKind.ROUNDS_MISSED)}
    assert set(missed) == {PRIMARY, "大杨树第二小学", "红星村小学", "柳河镇中心小学"}
    assert missed[PRIMARY].detail == {"required": 5, "done": 3, "checkpoints": 5}
    night = DutyGap.objects.get(kind=GapKind.NIGHT_ROUND_MISSED)
    assert night.school == middle
    assert night.day == today - dt.timedelta(days=1 if hour >= 12 else 2)
    # As the demo users see it.
    days = rounds_selectors.school_days(actor=guard, school=kg, now=now)
    assert not any(d.missed for d in days)
    principal2 = User.objects.get(username="principal2")
    days = rounds_selectors.school_days(actor=principal2, school=primary, now=now)
    assert days[1].missed and not days[2].missed
    assert Notification.objects.filter(event_type="duty.gap").exists()

    # Idempotent: a second run writes nothing.
    counts = (
        Checkpoint.objects.count(),
        PatrolRound.objects.count(),
        CheckpointScan.objects.count(),
        DutyGap.objects.count(),
        AuditEvent.objects.count(),
        Notification.objects.count(),
    )
    assert load_demo_rounds(now=now) == {"checkpoints": 0, "rounds": 0, "scans": 0, "gaps": 0}
    assert (
        Checkpoint.objects.count(),
        PatrolRound.objects.count(),
        CheckpointScan.objects.count(),
        DutyGap.objects.count(),
        AuditEvent.objects.count(),
        Notification.objects.count(),
    ) == counts
