"""The dashboard's figures are the apps' own: each one equals the count of the selector that
owns it, called directly (no second definition of a number), for the county, a town, a
county's drill into a town and a police jurisdiction; the drill-down links lead to lists
showing the rows counted; a rate over nothing is "no data", not 0; the page costs the same
number of queries however many schools the county has."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse

from huxiao.alarms import selectors as alarms
from huxiao.core.roles import Action
from huxiao.core.scoping import visible_school_ids
from huxiao.drills import compliance_selectors as drills
from huxiao.hazards import hazard_selectors as hazards
from huxiao.hazards import listing_selectors as listings
from huxiao.hazards.choices import OPEN_HAZARD_STATUSES
from huxiao.health import case_selectors as cases
from huxiao.health import surveillance_selectors as surveillance
from huxiao.health.suspensions import suspended_class_ids_at
from huxiao.intel import selectors as register
from huxiao.intel import warnings_selectors as warnings
from huxiao.patrols import selectors as patrols
from huxiao.reports.areas import dashboard_area
from huxiao.reports.dashboard_selectors import dashboard_figures, dashboard_json, start_of
from huxiao.reports.tests.dashboard_fixtures import MONDAY, NOW, TODAY
from huxiao.security import compliance_selectors as security

SUNDAY = MONDAY + dt.timedelta(days=6)


def _figures(w, name, **where):
    user = w.users[name]
    return dashboard_figures(user, dashboard_area(user, **where), TODAY)


def _alarm_expectations(user):
    stats = alarms.response_stats(actor=user, since=start_of(TODAY), until=NOW)
    with_drills = alarms.response_stats(
        actor=user, since=start_of(TODAY), until=NOW, include_drills=True
    )
    open_alarms = alarms.alarm_list(actor=user, status="open")
    return {
        "open_now": open_alarms.filter(is_drill=False).count(),
        "open_drills": open_alarms.filter(is_drill=True).count(),
        "raised_today": stats.total.alarms,
        "drills_today": with_drills.total.alarms - stats.total.alarms,
        "not_acknowledged_today": stats.total.not_acknowledged,
        "ack_median": stats.total.ack_seconds_median,
        "ack_worst": stats.total.ack_seconds_max,
        "arrival_median": stats.total.arrival_seconds_median,
        "arrival_worst": stats.total.arrival_seconds_max,
    }


def _panel(panel, keys):
    return {key: getattr(panel, key) for key in keys}


@pytest.mark.parametrize("name", ["county", "edu", "police"])
def test_every_figure_equals_its_selector(dash_world, name):
    """The viewer's whole scope: each figure against the owning app's selector, called
    with the viewer as the app's own pages call it."""
    w = dash_world
    user = w.users[name]
    dash = _figures(w, name)

    expected = _alarm_expectations(user)
    assert _panel(dash.alarms, expected) == expected
    hourly = alarms.raised_by_hour(actor=user, since=start_of(TODAY), until=NOW)
    assert sum(hourly["alarms"]) == dash.alarms.raised_today

    open_hazards = hazards.hazard_list(actor=user).filter(status__in=OPEN_HAZARD_STATUSES)
    overdue = hazards.hazard_list(
        actor=user, filters=hazards.HazardFilters(overdue=True), today=TODAY
    )
    active = listings.listing_list(
        actor=user, filters=listings.ListingFilters(status="active")
    ).count()
    assert (dash.hazards.open, dash.hazards.overdue, dash.hazards.listed) == (
        open_hazards.count(),
        overdue.count(),
        active,
    )

    overview = (
        security.county_overview(actor=user)
        if name == "county"
        else security.schools_overview(actor=user)
    )
    assert dash.compliance.compliance_rate == float(overview.rates.compliance_rate)
    assert dash.compliance.network_rate == float(overview.rates.network_rate)
    assert dash.compliance.evaluated == overview.rates.evaluated

    coverage = patrols.coverage(actor=user, first_day=MONDAY, last_day=SUNDAY)
    week = patrols.visit_week(actor=user, week_start=MONDAY)
    assert (dash.patrols.shifts, dash.patrols.missed, dash.patrols.all_three) == (
        coverage.total.shifts,
        coverage.total.missed,
        coverage.total.all_three,
    )
    assert (dash.patrols.visit_schools, dash.patrols.visit_met) == (
        len(week),
        sum(r.met for r in week),
    )

    activity = drills.schools_overview(actor=user)
    assert dash.drills.compliance_rate == float(activity.rates.compliance_rate)
    assert {r.key: r.rate for r in dash.drills.rules} == {
        r.key: float(r.rate) for r in activity.rates.rule_list
    }

    # Not a tautology: the numbers the fixture made.
    town = {"county": False, "edu": True, "police": True}[name]
    assert dash.alarms.raised_today == (3 if town else 4)
    assert dash.alarms.drills_today == 1
    assert (dash.alarms.ack_median, dash.alarms.ack_worst, dash.alarms.arrival_worst) == (
        30.0,
        40.0,
        360.0,
    )
    assert (dash.hazards.open, dash.hazards.overdue, dash.hazards.listed) == (
        (3, 2, 1) if town else (4, 3, 1)
    )
    assert dash.patrols.shifts == 3  # Monday to Wednesday's morning posts, by 10:00
    assert dash.patrols.visit_met == 1
    assert dash.compliance.compliance_rate == (50.0 if town else 33.3)


def test_drilling_into_a_town_equals_the_apps_town_filters(dash_world):
    """The county's view of one town: the hazard list's town filter, the town overviews."""
    w = dash_world
    county = w.users["county"]
    dash = _figures(w, "county", town_id=w.town.pk)
    assert dash.area.school_ids == {w.school.pk, w.other_school.pk}
    in_town = hazards.HazardFilters(town_id=w.town.pk)
    assert dash.hazards.open == (
        hazards.hazard_list(actor=county, filters=in_town)
        .filter(status__in=OPEN_HAZARD_STATUSES)
        .count()
    )
    overdue = hazards.HazardFilters(town_id=w.town.pk, overdue=True)
    assert (
        dash.hazards.overdue
        == hazards.hazard_list(actor=county, filters=overdue, today=TODAY).count()
        == 2
    )
    town = security.town_overview(actor=county, town_id=w.town.pk)
    assert dash.compliance.compliance_rate == float(town.rates.compliance_rate) == 50.0
    activity = drills.town_overview(actor=county, town_id=w.town.pk)
    assert dash.drills.compliance_rate == float(activity.rates.compliance_rate)
    assert dash.alarms.raised_today == 3  # not the far school's
    rows = {row.pk for row in dash.breakdown.rows}
    assert dash.breakdown.kind == "schools" and rows == {w.school.pk, w.other_school.pk}


def test_health_warnings_gate_and_register_equal_their_selectors(dash_world):
    w = dash_world
    health = w.users["health"]
    dash = _figures(w, "health")
    assert dash.health.open_alerts == surveillance.alert_list(actor=health, status="open").count()
    assert dash.health.open_cases == cases.case_list(actor=health, status="open").count()
    suspended = suspended_class_ids_at(visible_school_ids(health, Action.VIEW_SUSPENSION), TODAY)
    assert dash.health.suspended_classes == len(suspended)
    assert (dash.health.open_alerts, dash.health.open_cases, dash.health.suspended_classes) == (
        1,
        1,
        1,
    )

    police = w.users["police"]
    dash = _figures(w, "police")
    receipts = [
        r
        for view in warnings.early_warning_views(
            police, warnings.early_warning_queryset(actor=police)
        )
        for r in view.recipients
    ]
    assert dash.warnings.receipts == len(receipts) == 2
    assert dash.warnings.acknowledged == sum(1 for r in receipts if r.acknowledged_at) == 1
    assert dash.warnings.signs_open == warnings.warning_sign_list(actor=police).count() == 1

    from huxiao.access.report_selectors import report_totals

    visitors = sum(
        report_totals(school=s, start=TODAY, end=TODAY)["visits"]
        for s in (w.school, w.other_school)
    )
    stopped = sum(
        report_totals(school=s, start=MONDAY, end=TODAY)["interceptions"]
        for s in (w.school, w.other_school)
    )
    assert (dash.gate.visitors, dash.gate.interceptions, dash.gate.vehicles) == (
        visitors,
        stopped,
        1,
    )
    assert (visitors, stopped) == (2, 1)

    active = register.person_list(actor=police, status="active")
    assert dash.register.active == active.count() == 2
    assert dash.register.by_level == {
        "high": active.filter(risk_level="high").count(),
        "medium": 1,
        "low": 0,
    }
    assert (
        dash.register.reviews_week
        == register.person_list(actor=police, review="week", today=TODAY).count()
    )
    assert (
        dash.register.reviews_due
        == register.person_list(actor=police, review="due", today=TODAY).count()
    )


def test_drill_down_links_show_the_rows_counted(dash_world, client):
    w = dash_world
    client.force_login(w.users["county"])
    dash = _figures(w, "county", town_id=w.town.pk)
    page = client.get(dash.hazards.links["overdue"])
    assert page.status_code == 200
    assert page.content.decode().count('data-testid="hazard-row"') == dash.hazards.overdue == 2
    page = client.get(dash.hazards.links["status_reported"]).content.decode()
    assert page.count('data-testid="hazard-row"') == dash.hazards.by_status["reported"]

    stats = client.get(dash.alarms.links["raised_today"])
    assert stats.context["by_school"].total.alarms == 4  # the stats page: the county's
    county = _figures(w, "county")
    assert stats.context["by_school"].total.alarms == county.alarms.raised_today

    client.force_login(w.users["health"])
    dash = _figures(w, "health")
    page = client.get(dash.health.links["open_alerts"]).content.decode()
    assert page.count('data-testid="alert"') == dash.health.open_alerts == 1

    client.force_login(w.users["police"])
    dash = _figures(w, "police")
    page = client.get(dash.patrols.links["visits"])
    met = [r for r in page.context["rows"] if r.met]
    assert len(met) == dash.patrols.visit_met


def test_the_page_and_the_api_show_the_figures(dash_world, client, api):
    w = dash_world
    county = w.users["county"]
    client.force_login(county)
    page = client.get(reverse("reports:dashboard")).content.decode()
    dash = _figures(w, "county")
    assert 'data-testid="fig-hazards-overdue"' in page
    assert f'data-value="{dash.hazards.overdue}"' in page
    assert page.count('data-testid="breakdown-row"') == 2  # two towns
    assert f"?town={w.town.pk}" in page

    data = api("get", "/api/v1/reports/dashboard", user=county).json()
    expected = json.loads(json.dumps(dashboard_json(dash)))
    data.pop("generated_at"), expected.pop("generated_at")
    assert data == expected


def test_no_data_is_not_zero(rworld, clock, client):
    """Nothing evaluated, no gate post held, no alarm answered: the rates are "no data", and
    the page says so rather than showing 0 %."""
    w = rworld
    dash = _figures(w, "county")
    assert dash.compliance.compliance_rate is None and dash.compliance.evaluated == 0
    assert dash.patrols.three_rate is None and dash.patrols.shifts == 0
    assert dash.alarms.ack_median is None and dash.alarms.raised_today == 0
    client.force_login(w.users["county"])
    page = client.get(reverse("reports:dashboard")).content.decode()
    rate = page.split('data-testid="fig-compliance-rate"', 1)[1][:200]
    assert 'data-value=""' in rate and "hx-dash-nodata" in rate


def _more_schools(w, n):
    """`n` more schools in a third town, each with an open alarm, an overdue hazard and a
    stored compliance row."""
    from huxiao.alarms.models import Alarm
    from huxiao.hazards.models import Hazard
    from huxiao.orgs.tests.factories import SchoolFactory, TownFactory
    from huxiao.security.models import SchoolCompliance

    town = TownFactory(region=w.region)
    for i in range(n):
        school = SchoolFactory(town=town, police_station=w.station, name=f"新校{i}")
        Alarm.objects.create(
            school=school,
            kind="intrusion",
            source="api",
            raised_at=NOW,
            cancel_window_ends_at=NOW,
        )
        Hazard.objects.create(
            school=school,
            category="physical",
            level="general",
            title="隐患",
            description="隐患",
            reported_at=NOW,
            deadline=TODAY - dt.timedelta(days=1),
        )
        SchoolCompliance.objects.create(school=school, evaluated_at=NOW, is_compliant=True)


def test_queries_do_not_grow_with_the_schools(
    dash_world, client, django_assert_max_num_queries, django_assert_num_queries
):
    w = dash_world
    client.force_login(w.users["county"])
    url = reverse("reports:dashboard")
    client.get(url)  # warm: sessions, translations, content types
    with django_assert_max_num_queries(70) as before:
        assert client.get(url).status_code == 200
    _more_schools(w, 6)
    # The first page after judges the new schools' activity compliance once (a fixed
    # number of grouped queries and one upsert, drills.standings); then it reads rows.
    with django_assert_max_num_queries(len(before.captured_queries) + 12):
        assert client.get(url).status_code == 200
    with django_assert_num_queries(len(before.captured_queries)):
        page = client.get(url)
    assert page.content.decode().count('data-testid="breakdown-row"') == 3
    assert _figures(w, "county").hazards.overdue == 3 + 6
