"""Pages of activity compliance: who gets 200, 302, 403 and 404 (anonymous, nobody, own
school, another school, police, town offices, county); what the school page and the
overviews show; the home redirect; bad query parameters (400, never 500)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from huxiao.drills.tests import compliance_fixtures as fx

pytestmark = pytest.mark.django_db

ON = "?on=2026-03-26"


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def judged(world):
    """The hand-worked term; world.school missed the week of 9 March; other_school held
    every drill so far."""
    fx.term(world.region)
    fx.drill(world.school, dt.date(2026, 3, 4))
    fx.drills(world.other_school, [dt.date(2026, 3, 4), dt.date(2026, 3, 11)])
    return world


def school_url(school):
    return reverse("drills:compliance_school", args=[school.pk])


def town_url(town):
    return reverse("drills:compliance_town", args=[town.pk])


OVERVIEW = reverse("drills:compliance_overview")
HOME = reverse("drills:compliance_home")


def test_anonymous_goes_to_login(client, judged):
    for url in (school_url(judged.school), town_url(judged.town), OVERVIEW, HOME):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response["Location"]


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
def test_school_page_role_and_scope(client, judged, name, status):
    response = login(client, judged.users[name]).get(school_url(judged.school) + ON)
    assert response.status_code == status


def test_school_page_shows_verdicts_and_what_is_missing(client, judged):
    html = login(client, judged.users["principal"]).get(school_url(judged.school) + ON)
    html = html.content.decode()
    assert html.count('data-testid="verdict"') == 5
    assert 'data-rule="weekly_drill" data-verdict="fail"' in html
    assert 'data-rule="staff_training" data-verdict="due"' in html
    # What is missing, in Chinese by default: the week without a drill is named.
    assert "2026-03-09" in html and 'data-testid="missing-list"' in html
    assert 'data-testid="compliant" data-value="0"' in html
    assert 'data-testid="calendar-link"' in html
    assert "2025—2026学年第二学期" in html


def test_school_page_on_track(client, judged):
    html = login(client, judged.users["principal2"]).get(school_url(judged.other_school) + ON)
    assert 'data-testid="compliant" data-value="1"' in html.content.decode()


def test_school_page_default_calendar_is_said(client, world):
    html = login(client, world.users["principal"]).get(school_url(world.school)).content
    assert 'data-testid="default-term"' in html.decode()


@pytest.mark.parametrize(
    "query", ["?on=2026-02-30", "?on=0202-01-01", "?on=99999-01-01", "?on=abc", "?on=%00"]
)
def test_school_page_bad_day_is_400(client, judged, query):
    response = login(client, judged.users["principal"]).get(school_url(judged.school) + query)
    assert response.status_code == 400
    assert 'data-testid="form-errors"' in response.content.decode()


def test_school_page_huge_or_foreign_ids_are_404(client, judged):
    c = login(client, judged.users["county"])
    assert c.get(reverse("drills:compliance_school", args=[2**63])).status_code == 404
    assert c.get(reverse("drills:compliance_school", args=[2**70])).status_code == 404
    assert c.get(school_url(judged.station)).status_code == 404


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("principal", 403),
        ("teacher", 403),
        ("police", 200),
        ("farpolice", 404),
        ("edu", 200),
        ("gov", 200),
        ("county", 200),
        ("nobody", 403),
    ],
)
def test_town_page_role_and_scope(client, judged, name, status):
    response = login(client, judged.users[name]).get(town_url(judged.town) + ON)
    assert response.status_code == status


def test_town_page_of_another_town_and_huge_id(client, judged):
    c = login(client, judged.users["edu"])
    assert c.get(town_url(judged.other_town)).status_code == 404
    assert c.get(reverse("drills:compliance_town", args=[2**63])).status_code == 404


def test_town_page_figures_and_drill_down(client, judged):
    c = login(client, judged.users["edu"])
    html = c.get(town_url(judged.town) + ON).content.decode()
    assert 'data-testid="rate-schools">2<' in html
    assert 'data-testid="rate-compliance">50.0%<' in html
    assert html.count('data-testid="school-row"') == 2
    assert 'data-rule="weekly_drill"' in html
    failing = c.get(town_url(judged.town) + ON + "&rule=weekly_drill&verdict=fail").content
    failing = failing.decode()
    assert failing.count('data-testid="school-row"') == 1
    assert f'data-school="{judged.school.pk}"' in failing


@pytest.mark.parametrize(
    "query", ["?rule=nope", "?verdict=maybe", "?on=2026-13-01", "?rule=%00", "?on=1900-01-01"]
)
def test_overview_bad_filters_are_400(client, judged, query):
    response = login(client, judged.users["county"]).get(OVERVIEW + query)
    assert response.status_code == 400
    assert 'data-testid="filter-errors"' in response.content.decode()


@pytest.mark.parametrize(
    ("name", "status", "schools"),
    [
        ("principal", 403, None),
        ("police", 200, 2),
        ("postofficer", 200, 1),
        ("edu", 200, 2),
        ("county", 200, 3),
        ("nobody", 403, None),
    ],
)
def test_overview_role_and_scope(client, judged, name, status, schools):
    response = login(client, judged.users[name]).get(OVERVIEW + ON)
    assert response.status_code == status
    if schools is not None:
        assert f'data-testid="rate-schools">{schools}<' in response.content.decode()


def test_overview_lists_schools_only_when_filtered(client, judged):
    c = login(client, judged.users["county"])
    html = c.get(OVERVIEW + ON).content.decode()
    assert 'data-testid="choose-filter"' in html and 'data-testid="town-rates"' in html
    # far_school held no drill: it failed; other_school is due this week.
    html = c.get(OVERVIEW + ON + "&rule=weekly_drill&verdict=due").content.decode()
    assert html.count('data-testid="school-row"') == 1
    assert f'data-school="{judged.other_school.pk}"' in html
    html = c.get(OVERVIEW + ON + "&verdict=fail").content.decode()
    assert html.count('data-testid="school-row"') == 2
    assert 'data-testid="rules-link"' in html  # the county office keeps the rules


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("principal", "school"),
        ("police", "overview"),
        ("edu", "town"),
        ("county", "overview"),
    ],
)
def test_home_redirects_to_the_widest_page(client, judged, name, target):
    expected = {
        "school": school_url(judged.school),
        "overview": OVERVIEW,
        "town": town_url(judged.town),
    }[target]
    response = login(client, judged.users[name]).get(HOME)
    assert response.status_code == 302 and response["Location"] == expected


def test_home_for_nobody_is_403(client, judged):
    assert login(client, judged.users["nobody"]).get(HOME).status_code == 403


def test_page_queries_are_bounded(client, judged, django_assert_max_num_queries):
    c = login(client, judged.users["county"])
    with django_assert_max_num_queries(25):
        assert c.get(OVERVIEW + ON + "&verdict=fail").status_code == 200
