"""The page keeps the dashboard's slow panels (hazards, compliance, posts, drills, warnings,
gate, register) for DASHBOARD_CACHE_SECONDS per viewer and area; alarms and health alerts
are read on every request, the breakdown's alarm column with them. Nobody is ever shown
what was read for another viewer, another area or in another language; the API and the
reports always read afresh."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation

from huxiao.alarms import services as alarms
from huxiao.hazards import hazard_services as hazards
from huxiao.reports.areas import dashboard_area
from huxiao.reports.dashboard_selectors import dashboard_figures
from huxiao.reports.tests.dashboard_fixtures import NOW, TODAY


@pytest.fixture
def kept(settings):
    settings.DASHBOARD_CACHE_SECONDS = 60
    cache.clear()
    yield settings
    cache.clear()


def _report_hazard(w):
    hazards.hazard_report(
        actor=w.users["police"],
        school=w.school,
        category="physical",
        level="general",
        title="楼梯扶手松动",
        description="二楼东侧",
        now=NOW,
    )


def _raise_alarm(w):
    alarms.alarm_raise(actor=w.users["guard"], school=w.school, kind="fight", now=NOW)


def _town_row(dash, town_id):
    return next(row for row in dash.breakdown.rows if row.pk == town_id)


def test_within_the_window_the_slow_panels_are_kept_and_alarms_stay_live(dash_world, kept):
    w = dash_world
    county = w.users["county"]
    area = dashboard_area(county)
    first = dashboard_figures(county, area, TODAY, cached=True)

    _report_hazard(w)
    _raise_alarm(w)
    again = dashboard_figures(county, area, TODAY, cached=True)
    assert again.hazards.open == first.hazards.open  # kept
    assert _town_row(again, w.town.pk).open_hazards == _town_row(first, w.town.pk).open_hazards
    assert again.alarms.open_now == first.alarms.open_now + 1  # live
    assert _town_row(again, w.town.pk).open_alarms == _town_row(first, w.town.pk).open_alarms + 1
    # The far town's row has its own alarms, not the new one.
    far = [row for row in again.breakdown.rows if row.pk != w.town.pk]
    assert [row.open_alarms for row in far] == [
        row.open_alarms for row in first.breakdown.rows if row.pk != w.town.pk
    ]

    fresh = dashboard_figures(county, area, TODAY)  # the API and the reports
    assert fresh.hazards.open == first.hazards.open + 1
    assert _town_row(fresh, w.town.pk).open_hazards == _town_row(first, w.town.pk).open_hazards + 1
    assert fresh.alarms.open_now == again.alarms.open_now


def test_the_window_ends(dash_world, kept):
    kept.DASHBOARD_CACHE_SECONDS = 1
    w = dash_world
    county = w.users["county"]
    area = dashboard_area(county)
    first = dashboard_figures(county, area, TODAY, cached=True)
    _report_hazard(w)
    time.sleep(1.2)
    assert dashboard_figures(county, area, TODAY, cached=True).hazards.open == (
        first.hazards.open + 1
    )


def test_off_when_zero(dash_world, settings):
    settings.DASHBOARD_CACHE_SECONDS = 0
    cache.clear()
    w = dash_world
    county = w.users["county"]
    area = dashboard_area(county)
    first = dashboard_figures(county, area, TODAY, cached=True)
    _report_hazard(w)
    assert dashboard_figures(county, area, TODAY, cached=True).hazards.open == (
        first.hazards.open + 1
    )


def test_never_shared_between_viewers_areas_or_languages(dash_world, kept):
    w = dash_world
    county, countyedu = w.users["county"], w.users["countyedu"]
    whole = dashboard_area(county)
    town = dashboard_area(county, town_id=w.town.pk)
    first = dashboard_figures(county, whole, TODAY, cached=True)
    first_town = dashboard_figures(county, town, TODAY, cached=True)
    _report_hazard(w)
    # Another viewer of the same county reads for themselves.
    other = dashboard_figures(countyedu, dashboard_area(countyedu), TODAY, cached=True)
    assert other.hazards.open == first.hazards.open + 1
    # The town the county drills into is kept apart from the whole county.
    assert dashboard_figures(county, town, TODAY, cached=True).hazards.open == (
        first_town.hazards.open
    )
    assert first_town.hazards.open < first.hazards.open
    # Labels are read in the viewer's language: another language is read afresh.
    with translation.override("en"):
        english = dashboard_figures(county, whole, TODAY, cached=True)
    assert english.hazards.open == first.hazards.open + 1
    # A town office gets its own town's figures, never the county's kept ones.
    edu = w.users["edu"]
    own = dashboard_figures(edu, dashboard_area(edu), TODAY, cached=True)
    assert own.hazards.open == dashboard_figures(edu, dashboard_area(edu), TODAY).hazards.open
    assert own.hazards.open != first.hazards.open + 1  # what the county's read would say


def test_the_page_shows_when_the_kept_figures_were_read(dash_world, kept, client):
    w = dash_world
    client.force_login(w.users["county"])
    page = client.get(reverse("reports:dashboard")).content.decode()
    assert 'data-testid="figures-at"' in page
    assert "数据截至 10:00:00" in page  # NOW, local time
    _report_hazard(w)
    again = client.get(reverse("reports:dashboard")).content.decode()
    first_open = page.split('data-testid="fig-hazards-open"', 1)[1][:120]
    again_open = again.split('data-testid="fig-hazards-open"', 1)[1][:120]
    assert first_open == again_open


class _BrokenCache:
    def get(self, *args, **kwargs):
        raise ConnectionError("redis restarting")

    set = get


def test_a_broken_cache_costs_a_read_not_an_error(dash_world, kept, client, monkeypatch):
    """Scale mode keeps the panels in Redis; while it restarts the page reads afresh."""
    from huxiao.reports import dashboard_selectors

    monkeypatch.setattr(dashboard_selectors, "cache", _BrokenCache())
    w = dash_world
    county = w.users["county"]
    first = dashboard_figures(county, dashboard_area(county), TODAY, cached=True)
    _report_hazard(w)
    again = dashboard_figures(county, dashboard_area(county), TODAY, cached=True)
    assert again.hazards.open == first.hazards.open + 1
    client.force_login(county)
    assert client.get(reverse("reports:dashboard")).status_code == 200


def test_a_fragment_with_kept_panels_says_when_they_were_read(dash_world, kept, client):
    """The live refresh swaps panels in; the header's time follows the kept panels only."""
    client.force_login(dash_world.users["county"])
    url = reverse("reports:dashboard_panels")
    everything = client.get(url).content.decode()
    assert "<template data-figures-at>数据截至 10:00:00</template>" in everything
    alarms_only = client.get(url, {"panel": "alarms"}).content.decode()
    assert 'data-panel="alarms"' in alarms_only and "data-figures-at" not in alarms_only
