"""The school's activity calendar: role × scope, the month of the hand-worked term (drills on
their days, each week held / missing / due / no school week, term start and holidays, plan
links), bad parameters (400, never 500) and the bounded number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.drills.tests import compliance_fixtures as fx

pytestmark = pytest.mark.django_db

CALENDAR = reverse("drills:calendar")


def login(client, user):
    client.force_login(user)
    return client


def month_url(school, month="2026-03"):
    return f"{CALENDAR}?school={school.pk}&month={month}"


@pytest.fixture
def cal(world):
    fx.term(world.region)
    fx.drill(world.school, dt.date(2026, 3, 4))
    fx.activity(world.school, "safety_education", dt.date(2026, 3, 5), status="planned")
    fx.activity(world.school, "parent_meeting", dt.date(2026, 3, 6), status="cancelled")
    return world


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("principal", 200),
        ("guard", 200),
        ("teacher", 200),
        ("principal2", 404),
        ("police", 200),
        ("postofficer", 200),
        ("farpolice", 404),
        ("edu", 200),
        ("gov", 200),
        ("county", 200),
        ("nobody", 403),
    ],
)
def test_calendar_role_and_scope(client, cal, name, status):
    assert login(client, cal.users[name]).get(month_url(cal.school)).status_code == status


def test_anonymous_goes_to_login(client, cal):
    response = client.get(month_url(cal.school))
    assert response.status_code == 302 and "/login" in response["Location"]


def test_month_of_the_hand_worked_term(client, cal):
    html = login(client, cal.users["principal"]).get(month_url(cal.school)).content.decode()
    # The grid runs from Monday 23 February to Sunday 5 April.
    assert 'data-testid="day" data-date="2026-02-23"' in html
    assert 'data-testid="day" data-date="2026-04-05"' in html
    assert html.count('data-testid="week"') == 6
    assert 'data-week="2026-W10" data-state="held"' in html
    assert 'data-week="2026-W11" data-state="missing"' in html
    assert 'data-week="2026-W12" data-state=""' in html  # the holiday week
    assert 'data-testid="term-start"' in html and 'data-testid="holiday"' in html
    assert 'data-kind="drill" data-status="held"' in html
    assert 'data-kind="safety_education" data-status="planned"' in html
    assert 'data-kind="parent_meeting" data-status="cancelled"' in html
    assert "2025—2026学年第二学期" in html
    assert 'data-testid="prev-month"' in html and "month=2026-02" in html
    assert "month=2026-04" in html


def test_running_week_is_due(client, world):
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    fx.term(
        world.region,
        start=monday - dt.timedelta(days=28),
        end=monday + dt.timedelta(days=60),
        breaks=[],
    )
    html = (
        login(client, world.users["principal"])
        .get(f"{CALENDAR}?school={world.school.pk}")
        .content.decode()
    )
    from huxiao.drills.terms import week_key

    assert f'data-week="{week_key(monday)}" data-state="due"' in html


def test_plan_links_only_for_those_who_record(client, cal):
    html = login(client, cal.users["principal"]).get(month_url(cal.school)).content.decode()
    assert html.count('data-testid="plan-day"') in (0, 31)  # 0 while the activity pages wait
    html = login(client, cal.users["edu"]).get(month_url(cal.school)).content.decode()
    assert 'data-testid="plan-day"' not in html


def test_default_school_and_month(client, cal):
    response = login(client, cal.users["teacher"]).get(CALENDAR)
    assert response.status_code == 200
    html = response.content.decode()
    assert cal.school.name in html
    assert f'data-month="{timezone.localdate():%Y-%m}"' in html


def test_police_pick_among_their_schools(client, cal):
    html = login(client, cal.users["police"]).get(month_url(cal.school)).content.decode()
    assert 'data-testid="school-picker"' in html and cal.other_school.name in html
    assert cal.far_school.name not in html


@pytest.mark.parametrize(
    "query",
    [
        "?month=2026-13",
        "?month=2026-00",
        "?month=1700-01",
        "?month=march",
        "?month=2026-3",
        "?school=abc",
        "?school=0",
        "?school=99999999999999999999999",
        "?month=%00",
    ],
)
def test_bad_parameters_are_400(client, cal, query):
    response = login(client, cal.users["principal"]).get(CALENDAR + query)
    assert response.status_code == 400
    assert 'data-testid="form-errors"' in response.content.decode()


def test_school_out_of_range_or_not_a_school_is_404(client, cal):
    c = login(client, cal.users["county"])
    assert c.get(f"{CALENDAR}?school={cal.station.pk}").status_code == 404
    assert c.get(f"{CALENDAR}?school=9223372036854775807").status_code == 404


def test_queries_do_not_grow_with_history(client, cal, django_assert_max_num_queries):
    for year in (2023, 2024, 2025):
        fx.drills(cal.school, [dt.date(year, 3, 2) + dt.timedelta(weeks=n) for n in range(30)])
    c = login(client, cal.users["principal"])
    with django_assert_max_num_queries(12):
        assert c.get(month_url(cal.school)).status_code == 200
