"""The "duty_gaps" indicator source (replaces the supervision placeholder): per school and
period, the share of shifts and monitored days without a gap; None without shifts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from huxiao.duty.choices import GapKind, ShiftKind
from huxiao.duty.duty_services import duty_gaps_scan
from huxiao.duty.gap_services import gap_flag
from huxiao.duty.tests.duty_fixtures import DAY, at, make_shift
from huxiao.supervision.indicators import get_source, run_source

pytestmark = pytest.mark.django_db
START, END = DAY - dt.timedelta(days=3), DAY - dt.timedelta(days=1)


def test_registered_over_the_placeholder():
    source = get_source("duty_gaps")
    assert source.available and not source.placeholder


def test_shares_of_shifts_and_monitored_days(world):
    from huxiao.security.models import DefenceProfile

    # School: 4 shifts over two days, one flagged uncovered.
    for offset in (2, 3):
        for kind in (ShiftKind.DAY, ShiftKind.NIGHT):
            make_shift(world.school, DAY - dt.timedelta(days=offset), kind)
    duty_gaps_scan(now=at(7, 30, days=-3))
    # Other school: 2 shifts, no gap, with a monitoring room: 3 days monitored, one gap.
    make_shift(world.other_school, DAY - dt.timedelta(days=2))
    make_shift(world.other_school, DAY - dt.timedelta(days=1))
    DefenceProfile.objects.create(school=world.other_school, monitoring_room=True)
    gap_flag(
        school=world.other_school,
        kind=GapKind.MONITORING,
        starts_at=at(1, days=-3),
        ends_at=at(4, days=-3),
    )
    ids = [world.school.pk, world.other_school.pk, world.far_school.pk]
    with CaptureQueriesContext(connection) as queries:
        result = run_source("duty_gaps", ids, START, END, {})
    assert len(queries) <= 6
    assert result[world.school.pk] == Decimal("75.00")
    # 2 shifts fine + 3 monitored days, 1 with a gap: 4 of 5.
    assert result[world.other_school.pk] == Decimal("80.00")
    assert world.far_school.pk not in result


def test_no_shifts_no_data(world):
    assert run_source("duty_gaps", [world.school.pk], START, END, {}) == {}
