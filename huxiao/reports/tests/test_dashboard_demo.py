"""The demo township (`manage.py demo`): the county's dashboard shows the figures the apps'
own selectors give for it — no second definition of a number — and every user the issue
names (`county`, `police`, `edu`) opens theirs. One test: loading the demo is the slow part."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from huxiao.alarms import selectors as alarms
from huxiao.drills import compliance_selectors as drills
from huxiao.hazards import hazard_selectors as hazards
from huxiao.hazards import listing_selectors as listings
from huxiao.hazards.choices import OPEN_HAZARD_STATUSES
from huxiao.intel import selectors as register
from huxiao.patrols import selectors as patrols
from huxiao.reports.areas import dashboard_area
from huxiao.reports.dashboard_selectors import dashboard_figures, day_window, monday_of
from huxiao.security import compliance_selectors as security


@pytest.mark.django_db
def test_demo_dashboards_show_the_selectors_figures(settings, client):
    settings.DEMO_MODE = True
    call_command("demo", stdout=io.StringIO())
    names = ["county", "police", "edu", "health", "principal"]
    users = {u.username: u for u in get_user_model().objects.filter(username__in=names)}
    today = timezone.localdate()
    county = users["county"]
    dash = dashboard_figures(county, dashboard_area(county), today)

    since, until = day_window(today)
    stats = alarms.response_stats(actor=county, since=since, until=until)
    assert dash.alarms.raised_today == stats.total.alarms
    assert dash.alarms.open_now == (
        alarms.alarm_list(actor=county, status="open").filter(is_drill=False).count()
    )
    open_hazards = hazards.hazard_list(actor=county).filter(status__in=OPEN_HAZARD_STATUSES)
    overdue = hazards.hazard_list(
        actor=county, filters=hazards.HazardFilters(overdue=True), today=today
    )
    active = listings.listing_list(actor=county, filters=listings.ListingFilters(status="active"))
    assert (dash.hazards.open, dash.hazards.overdue, dash.hazards.listed) == (
        open_hazards.count(),
        overdue.count(),
        active.count(),
    )
    assert dash.hazards.open > 0 and dash.hazards.listed > 0  # the demo has both
    rates = security.county_overview(actor=county).rates
    assert rates.evaluated > 0
    assert dash.compliance.compliance_rate == float(rates.compliance_rate)
    assert dash.compliance.network_rate == float(rates.network_rate)
    by_town = {t.town_id: t for t in security.county_overview(actor=county).towns}
    for town in dash.compliance.towns:
        expected = by_town[town.town_id]
        rate = float(expected.compliance_rate) if expected.evaluated else None
        assert town.compliance_rate == rate, town.name
    monday = monday_of(today)
    coverage = patrols.coverage(
        actor=county, first_day=monday, last_day=monday + dt.timedelta(days=6)
    )
    assert (dash.patrols.shifts, dash.patrols.all_three) == (
        coverage.total.shifts,
        coverage.total.all_three,
    )
    week = patrols.visit_week(actor=county, week_start=monday)
    assert dash.patrols.visit_met == sum(r.met for r in week)
    activity = drills.schools_overview(actor=county).rates
    assert dash.drills.compliance_rate == float(activity.compliance_rate)
    assert dash.register is None and dash.health is not None

    police = users["police"]
    station = dashboard_figures(police, dashboard_area(police), today)
    assert station.register.active == register.person_list(actor=police, status="active").count()
    assert station.register.active > 0 and station.health is None

    for name in ("county", "police", "edu", "health"):
        client.force_login(users[name])
        assert client.get(reverse("reports:dashboard")).status_code == 200, name
    client.force_login(users["principal"])
    assert client.get(reverse("reports:dashboard")).status_code == 403
