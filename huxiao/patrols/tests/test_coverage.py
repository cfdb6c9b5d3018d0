"""Coverage (三见) on a small hand-made week, every figure checked by hand; by school,
station, period and week; scope; the week grid; and the number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from huxiao.patrols import selectors, services
from huxiao.patrols.models import PostShift
from huxiao.patrols.tests.conftest import FRIDAY, MONDAY, at

pytestmark = pytest.mark.django_db

TUE, WED, THU = (MONDAY + dt.timedelta(days=n) for n in (1, 2, 3))
END_OF_WEEK = at(FRIDAY, "18:00")


@pytest.fixture
def week(posts):
    """The kindergarten (afternoon: police planned; morning: guard and volunteer) and the
    other school of the town (afternoon, nobody planned); the far school for scope.

    kindergarten afternoon  Mon officer 16:25 car+lights · Tue officer 16:40 car (late)
                            Wed guard only · Thu nobody · Fri called off
    kindergarten morning    Mon guard 07:28 · Tue post officer 07:36 car (late) · Wed–Fri nobody
    other school afternoon  Mon commander 16:30 car+lights · Tue–Fri nobody
    far school afternoon    Mon far commander car+lights
    """
    w = posts

    def ci(who, post, day, hhmm, **kw):
        services.post_check_in(actor=w.users[who], post=post, now=at(day, hhmm), **kw)

    ci("officer", w.afternoon, MONDAY, "16:25", vehicle_present=True, lights_on=True)
    ci("officer", w.afternoon, TUE, "16:40", vehicle_present=True)
    ci("guard", w.afternoon, WED, "16:30")
    services.shift_cancel(
        actor=w.users["principal"],
        shift=PostShift.objects.get(post=w.afternoon, date=FRIDAY),
        reason="春季运动会，提前放学",
    )
    ci("guard", w.morning, MONDAY, "07:28")
    ci("postofficer", w.morning, TUE, "07:36", vehicle_present=True)
    ci("police", w.other_afternoon, MONDAY, "16:30", vehicle_present=True, lights_on=True)
    ci("farpolice", w.far_post, MONDAY, "16:31", vehicle_present=True, lights_on=True)
    return w


def figures(row) -> tuple:
    return (
        row.shifts,
        row.staffed,
        row.police,
        row.car,
        row.lights,
        row.all_three,
        row.late,
        row.missed,
    )


def report(world, who, now=END_OF_WEEK, **kwargs):
    return selectors.coverage(
        actor=world.users[who], first_day=MONDAY, last_day=FRIDAY, now=now, **kwargs
    )


def test_station_figures_by_hand(week):
    result = report(week, "police")
    by_school = {r.key: figures(r) for r in result.rows["school"]}
    assert by_school == {
        week.school.pk: (9, 5, 3, 3, 1, 1, 2, 5),
        week.other_school.pk: (5, 1, 1, 1, 1, 1, 0, 4),
    }
    assert figures(result.total) == (14, 6, 4, 4, 2, 2, 2, 9)
    assert [(r.key, figures(r)) for r in result.rows["station"]] == [
        (week.station.pk, (14, 6, 4, 4, 2, 2, 2, 9))
    ]
    assert result.rows["station"][0].name == "派出所"
    assert [(r.key, r.shifts, r.police, r.all_three) for r in result.rows["period"]] == [
        ("morning", 5, 1, 0),
        ("afternoon", 9, 3, 2),
    ]
    assert [(r.key, r.shifts) for r in result.rows["week"]] == [(MONDAY, 14)]
    assert result.total.three_rate == round(2 / 14, 4)
    assert result.total.police_rate == round(4 / 14, 4)


def test_rates_and_dict(week):
    kg = next(r for r in report(week, "police").rows["school"] if r.key == week.school.pk)
    data = kg.as_dict()
    assert data["police_rate"] == round(3 / 9, 4) and data["three_rate"] == round(1 / 9, 4)
    assert data["name"] == "本园" and data["station_name"] == "派出所"


def test_only_started_shifts_count(week):
    """Tuesday 16:45: Monday's three peaks, Tuesday's morning and its running afternoons."""
    result = report(week, "police", now=at(TUE, "16:45"))
    assert result.total.shifts == 3 + 3
    # Tuesday afternoon is running: the late officer is already counted, nothing is missed.
    kg = next(r for r in result.rows["school"] if r.key == week.school.pk)
    assert figures(kg) == (4, 4, 3, 3, 1, 1, 2, 0)


def test_scope(week):
    assert figures(report(week, "principal").total) == (9, 5, 3, 3, 1, 1, 2, 5)
    assert report(week, "guard").total.shifts == 9
    assert report(week, "principal2").total.shifts == 5
    assert figures(report(week, "farpolice").total) == (5, 1, 1, 1, 1, 1, 0, 4)
    assert report(week, "edu").total.shifts == 14
    assert report(week, "county").total.shifts == 19
    assert report(week, "teacher").total.shifts == 0
    assert report(week, "health").total.shifts == 0
    # A school outside the scope as a filter yields nothing, not its figures.
    assert report(week, "police", school_id=week.far_school.pk).total.shifts == 0


def test_one_school_filter(week):
    result = report(week, "police", school_id=week.other_school.pk)
    assert [r.key for r in result.rows["school"]] == [week.other_school.pk]


def test_report_is_a_few_queries(week):
    user = week.users["county"]
    selectors.coverage(actor=user, first_day=MONDAY, last_day=FRIDAY, now=END_OF_WEEK)
    with CaptureQueriesContext(connection) as ctx:
        selectors.coverage(actor=user, first_day=MONDAY, last_day=FRIDAY, now=END_OF_WEEK)
    assert len(ctx.captured_queries) == 3  # the counts, the posts, the schools; scope cached


def test_week_grid(week):
    grid = selectors.coverage_week(actor=week.users["police"], week_start=WED)
    assert grid.week_start == MONDAY
    assert grid.days == [MONDAY + dt.timedelta(days=n) for n in range(5)]
    assert [s.name for s in grid.schools] == ["同镇学校", "本园"]
    kg_monday_afternoon = grid.cells[(week.school.pk, MONDAY, "afternoon")]
    assert kg_monday_afternoon.all_three
    assert grid.cells[(week.school.pk, FRIDAY, "afternoon")].is_cancelled
    assert (week.far_school.pk, MONDAY, "afternoon") not in grid.cells
    rows = grid.rows()
    assert rows[1][0] == week.school and rows[1][1][0][1][2] == kg_monday_afternoon
    with CaptureQueriesContext(connection) as ctx:
        selectors.coverage_week(actor=week.users["police"], week_start=WED)
    assert len(ctx.captured_queries) <= 2
