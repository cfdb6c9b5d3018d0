"""The "drills_held" assessment indicator against hand-worked calendars: the share of the
school weeks ended in the period with a held drill; holidays and weeks outside the period
left out; no due week → no data; grouped queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from huxiao.drills.tests import compliance_fixtures as fx
from huxiao.orgs.tests.factories import SchoolFactory
from huxiao.supervision import indicators as registry

pytestmark = pytest.mark.django_db


def run(school_ids, start, end, **params):
    return registry.run_source("drills_held", list(school_ids), start, end, params)


def test_the_real_source_replaces_the_placeholder():
    source = registry.get_source("drills_held")
    assert source.available and source.app == "drills" and not source.placeholder


def test_four_weeks_three_with_a_drill_is_75(world):
    fx.term(world.region)
    # 1 March – 5 April: the school weeks ending in it are those of 2, 9, 23 and 30 March
    # (the week of 23 February is before the term, that of 16 March a holiday). Drills in
    # three of them: 3 of 4.
    fx.drills(world.school, [dt.date(2026, 3, 3), dt.date(2026, 3, 24), dt.date(2026, 4, 1)])
    result = run([world.school.pk], dt.date(2026, 3, 1), dt.date(2026, 4, 5))
    assert result[world.school.pk] == Decimal("75.00")


def test_weeks_belong_to_the_period_their_sunday_falls_in(world):
    fx.term(world.region)
    fx.drills(world.school, [dt.date(2026, 3, 3), dt.date(2026, 4, 1)])
    # March: weeks of 2, 9 and 23 March end in March; one of three has a drill.
    march = run([world.school.pk], dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert march[world.school.pk] == Decimal("33.33")
    # April: the weeks of 30 March, 6, 13 and 20 April; one of four.
    april = run([world.school.pk], dt.date(2026, 4, 1), dt.date(2026, 4, 30))
    assert april[world.school.pk] == Decimal("25.00")


def test_two_drills_a_week_parameter(world):
    fx.term(world.region)
    fx.drills(world.school, [dt.date(2026, 3, 2), dt.date(2026, 3, 6), dt.date(2026, 3, 10)])
    result = run([world.school.pk], dt.date(2026, 3, 1), dt.date(2026, 3, 15), min_per_week=2)
    assert result[world.school.pk] == Decimal("50.00")


def test_planned_and_cancelled_drills_do_not_count(world):
    fx.term(world.region)
    fx.drill(world.school, dt.date(2026, 3, 3), status="planned")
    fx.drill(world.school, dt.date(2026, 3, 10), status="cancelled")
    result = run([world.school.pk], dt.date(2026, 3, 1), dt.date(2026, 3, 15))
    assert result[world.school.pk] == Decimal("0.00")


def test_no_due_week_is_no_data(world):
    fx.term(world.region)
    # The holiday week alone, and a summer month of the default calendar.
    assert run([world.school.pk], dt.date(2026, 3, 16), dt.date(2026, 3, 22)) == {}
    assert run([world.school.pk], dt.date(2025, 8, 1), dt.date(2025, 8, 31)) == {}
    # A period not over yet: its weeks are not due.
    assert run([world.school.pk], dt.date(2099, 3, 1), dt.date(2099, 3, 31)) == {}


def test_default_calendar_applies_without_terms(world):
    # October 2025: default autumn term; National Day 1–7 October is a holiday. The weeks
    # ending in October: those of 29 Sep (Mon 29, Tue 30 in term), 6 Oct (Wed 8 – Fri 10),
    # 13, 20 Oct → four.
    fx.drills(world.school, [dt.date(2025, 10, 9), dt.date(2025, 10, 14)])
    result = run([world.school.pk], dt.date(2025, 10, 1), dt.date(2025, 10, 31))
    assert result[world.school.pk] == Decimal("50.00")


def test_grouped_queries(world):
    fx.term(world.region)
    ids = [world.school.pk]
    with CaptureQueriesContext(connection) as few:
        run(ids, dt.date(2026, 3, 1), dt.date(2026, 4, 30))
    for _ in range(5):
        school = SchoolFactory(town=world.town, region=world.region)
        fx.drill(school, dt.date(2026, 3, 3))
        ids.append(school.pk)
    with CaptureQueriesContext(connection) as many:
        result = run(ids, dt.date(2026, 3, 1), dt.date(2026, 4, 30))
    assert len(result) == 6 and len(many) == len(few) <= 3
