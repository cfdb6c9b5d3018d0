"""The duty and monitoring-room demos (huxiao.duty.duty_demo, monitoring_demo): demo mode
only, through the real services with a clock, idempotent. Loading the township takes a few
seconds, so the loaded demo is checked in one test per clock."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.demo.township import DemoModeOff, load_demo_township
from huxiao.duty.choices import GapKind, ShiftKind
from huxiao.duty.duty_demo import KINDERGARTEN, OPEN_ITEM, load_demo_duty
from huxiao.duty.models import (
    DutyAssignment,
    DutyGap,
    DutyHandover,
    DutyLogEntry,
    DutyOpenItem,
    DutyShift,
    MonitoringLogEntry,
)
from huxiao.duty.monitoring_demo import load_demo_monitoring
from huxiao.orgs.models import Organization

pytestmark = pytest.mark.django_db


def _counts() -> tuple:
    return (
        DutyShift.objects.count(),
        DutyAssignment.objects.filter(checked_in_at__isnull=False).count(),
        DutyLogEntry.objects.count(),
        DutyHandover.objects.count(),
        DutyOpenItem.objects.count(),
        DutyGap.objects.count(),
        MonitoringLogEntry.objects.count(),
    )


def test_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(DemoModeOff):
        load_demo_duty()
    with pytest.raises(DemoModeOff):
        load_demo_monitoring()
    assert not DutyShift.objects.exists()


def test_does_nothing_without_the_township(settings):
    settings.DEMO_MODE = True
    assert load_demo_duty()["shifts"] == 0
    assert load_demo_monitoring() == {"entries": 0, "gaps": 0}


@pytest.mark.parametrize(
    "local",
    [
        dt.datetime(2026, 3, 11, 10, 0),  # a Wednesday morning
        dt.datetime(2026, 3, 9, 6, 30),  # a Monday before the day shift
    ],
)
def test_the_demo_runs_a_few_days(settings, local):
    from huxiao.security.models import DefenceProfile

    settings.DEMO_MODE = True
    load_demo_township()
    school = Organization.objects.get(name=KINDERGARTEN)
    DefenceProfile.objects.update_or_create(school=school, defaults={"monitoring_room": True})
    now = timezone.make_aware(local)
    today = local.date()
    result = load_demo_duty(now=now)
    monitoring = load_demo_monitoring(now=now)
    assert result["shifts"] > 0 and result["handovers"] > 0
    assert monitoring["entries"] == 10 and monitoring["gaps"] == 1

    yesterday = today - dt.timedelta(days=1)
    y_day = DutyShift.objects.get(school=school, date=yesterday, kind=ShiftKind.DAY)
    assert y_day.log_entries.count() == 4
    assert y_day.handover_out.received_at is not None
    item = DutyOpenItem.objects.get(text=OPEN_ITEM)
    assert item.raised_in == y_day and item.closed_at is None
    uncovered = DutyGap.objects.get(kind=GapKind.SHIFT_UNCOVERED)
    assert uncovered.shift.date == today - dt.timedelta(days=2)
    assert uncovered.shift.kind == ShiftKind.NIGHT and uncovered.ends_at is not None
    assert DutyGap.objects.filter(kind=GapKind.MONITORING).count() == 1
    today_day = DutyShift.objects.get(school=school, date=today, kind=ShiftKind.DAY)
    checked_in = today_day.assignments.filter(checked_in_at__isnull=False).count()
    if local.hour >= 10:
        assert checked_in == today_day.assignments.count() >= 2
        # The night handed over to today's day shift, carrying the open item.
        item.refresh_from_db()
        assert item.current_shift == today_day
    else:
        assert checked_in == 0  # 06:30: the first arrives at 06:50
        assert item.current_shift.kind == ShiftKind.NIGHT  # last night holds it
    # The week is on the roster.
    monday = today - dt.timedelta(days=today.weekday())
    assert DutyShift.objects.filter(
        school=school, date=monday + dt.timedelta(days=6), kind=ShiftKind.NIGHT
    ).exists()

    before = _counts()
    load_demo_duty(now=now)
    load_demo_monitoring(now=now)
    assert _counts() == before
