"""Who sees which dashboard and which panels: anonymous, school roles and users without an
office get nothing; a town office never sees another town's schools; a police station
never sees another jurisdiction's; only the police holding the register see its counts
(page, fragments and API); the police never see health figures; bad ids are a 404 with a
message, never a 500."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.urls import reverse

from huxiao.reports.areas import dashboard_area
from huxiao.reports.dashboard_selectors import dashboard_figures
from huxiao.reports.tests.dashboard_fixtures import TODAY

API = "/api/v1/reports/dashboard"
PAGES = ("reports:dashboard", "reports:dashboard_screen", "reports:dashboard_panels")
SCHOOL_ROLES = ("principal", "guard", "teacher", "principal2")
NOT_POLICE = ("county", "countyedu", "edu", "gov", "faredu", "health", "liaison")
POLICE = ("police", "officer", "postofficer", "farpolice")


def test_anonymous_is_sent_to_log_in(rworld, client, api):
    for name in PAGES:
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert api("get", API).status_code == 401


@pytest.mark.parametrize("name", [*SCHOOL_ROLES, "nobody"])
def test_school_roles_and_users_without_an_office_get_403(rworld, client, api, name):
    user = rworld.users[name]
    client.force_login(user)
    for page in PAGES:
        assert client.get(reverse(page)).status_code == 403
    assert client.get(reverse("reports:dashboard"), {"town": rworld.town.pk}).status_code == 403
    assert api("get", API, user=user).status_code == 403


def _page(client, user, **query):
    client.force_login(user)
    response = client.get(reverse("reports:dashboard"), query)
    assert response.status_code == 200
    return response.content.decode()


def test_a_town_office_never_sees_the_other_towns_schools(dash_world, client, api):
    w = dash_world
    edu = w.users["edu"]
    area = dashboard_area(edu)
    assert area.kind == "town" and area.school_ids == {w.school.pk, w.other_school.pk}
    dash = dashboard_figures(edu, area, TODAY)
    assert dash.hazards.open == 3  # the far school's hazard is not counted
    assert dash.alarms.open_now == 4  # nor its alarm
    assert dash.gate.visitors == 2  # nor its visitor
    page = _page(client, edu)
    assert "外镇学校" not in page and "同镇学校" in page
    # The other town: 404 with a message, on the page, its fragments and the API.
    client.force_login(edu)
    for name in ("reports:dashboard", "reports:dashboard_panels"):
        response = client.get(reverse(name), {"town": w.other_town.pk})
        assert response.status_code == 404
        # The page speaks the user's language (Chinese by default), not the browser's.
        assert "该镇不在您的管辖范围内。" in response.content.decode()
    response = api("get", f"{API}?town={w.other_town.pk}", user=edu, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response.json()["detail"] == "该镇不在您的管辖范围内。"
    # The other town's own office sees its school and nothing of this town.
    far = dashboard_figures(w.users["faredu"], dashboard_area(w.users["faredu"]), TODAY)
    assert far.area.school_ids == {w.far_school.pk} and far.hazards.open == 1


def test_another_jurisdiction_never_sees_the_stations_schools(dash_world, client, api):
    w = dash_world
    far = w.users["farpolice"]
    dash = dashboard_figures(far, dashboard_area(far), TODAY)
    assert dash.area.kind == "station" and dash.area.school_ids == {w.far_school.pk}
    assert (dash.hazards.open, dash.alarms.open_now, dash.alarms.raised_today) == (1, 1, 1)
    # Their own station's register: none of the town station's two persons.
    assert dash.register.active == 0
    page = _page(client, far)
    assert "本园" not in page and "同镇学校" not in page
    for query in ({"station": w.station.pk}, {"town": w.town.pk}):
        assert client.get(reverse("reports:dashboard"), query).status_code == 404
    assert api("get", f"{API}?station={w.station.pk}", user=far).status_code == 404


def test_the_county_drills_into_each_town(dash_world, client):
    w = dash_world
    county = w.users["county"]
    assert dashboard_area(county).school_ids == {w.school.pk, w.other_school.pk, w.far_school.pk}
    far_town = dashboard_area(county, town_id=w.other_town.pk)
    assert far_town.kind == "town" and far_town.school_ids == {w.far_school.pk}
    page = _page(client, county, town=w.other_town.pk)
    assert "外镇学校" in page and "同镇学校" not in page
    assert 'data-testid="dashboard-up"' in page  # back to the whole county


@pytest.mark.parametrize("name", POLICE[:3])
def test_the_register_counts_are_for_the_police_of_the_jurisdiction(dash_world, client, api, name):
    w = dash_world
    user = w.users[name]
    page = _page(client, user)
    assert 'data-testid="panel-register"' in page
    data = api("get", API, user=user).json()
    assert data["panels"]["register"]["active"] == 2
    fragment = client.get(reverse("reports:dashboard_panels"), {"panel": "register"})
    assert 'data-testid="panel-register"' in fragment.content.decode()


@pytest.mark.parametrize("name", NOT_POLICE)
def test_nobody_else_sees_the_register(dash_world, client, api, name):
    w = dash_world
    user = w.users[name]
    page = _page(client, user)
    assert "panel-register" not in page and "/intel/register/" not in page
    response = api("get", API, user=user)
    assert response.status_code == 200
    assert "register" not in response.json()["panels"]
    assert "reviews_due" not in response.content.decode()
    client.force_login(user)
    fragment = client.get(reverse("reports:dashboard_panels"), {"panel": "register"})
    assert fragment.status_code == 200 and "panel-register" not in fragment.content.decode()


@pytest.mark.parametrize("name", POLICE)
def test_the_police_never_see_health_figures(dash_world, client, api, name):
    w = dash_world
    user = w.users[name]
    page = _page(client, user)
    assert "panel-health" not in page and "/health/" not in page
    data = api("get", API, user=user).json()
    assert "health" not in data["panels"]
    client.force_login(user)
    fragment = client.get(reverse("reports:dashboard_panels"), {"panel": "health"})
    assert "panel-health" not in fragment.content.decode()
    assert dashboard_figures(user, dashboard_area(user), TODAY).health is None


def test_health_figures_follow_the_health_actions(dash_world, client):
    """The health centre sees alerts and cases; an office that only follows suspensions
    sees the suspended classes and nothing else of health."""
    w = dash_world
    page = _page(client, w.users["health"])
    assert 'data-testid="fig-health-alerts"' in page and 'data-testid="fig-health-cases"' in page
    page = _page(client, w.users["edu"])
    assert 'data-testid="fig-health-suspended"' in page
    assert "fig-health-alerts" not in page and "fig-health-cases" not in page
    dash = dashboard_figures(w.users["edu"], dashboard_area(w.users["edu"]), TODAY)
    assert (dash.health.open_alerts, dash.health.open_cases, dash.health.suspended_classes) == (
        None,
        None,
        1,
    )
    # The health centre has no alarm, patrol or warning panel (not its actions).
    health = dashboard_figures(w.users["health"], dashboard_area(w.users["health"]), TODAY)
    assert health.alarms is None and health.patrols is None and health.warnings is None


def test_offices_see_warning_counts_without_the_police_lists(dash_world, client):
    w = dash_world
    page = _page(client, w.users["edu"])
    assert 'data-testid="panel-warnings"' in page
    assert "/intel/warnings/" not in page  # the lists are the police's and the schools'
    page = _page(client, w.users["police"])
    assert "/intel/warnings/early/" in page


JUNK = ["abc", "0", "-1", str(2**70), "1.5", "9" * 40, "<script>", "1e3"]


@pytest.mark.parametrize("value", JUNK)
def test_junk_ids_are_a_404_with_a_message(rworld, client, api, value):
    county = rworld.users["county"]
    client.force_login(county)
    for key in ("town", "station"):
        for name in PAGES:
            response = client.get(reverse(name), {key: value}, HTTP_ACCEPT_LANGUAGE="en")
            assert response.status_code == 404, (name, key, value)
            assert 'data-testid="dashboard-error"' in response.content.decode()
        response = api("get", f"{API}?{urlencode({key: value})}", user=county)
        assert response.status_code in (400, 404)
        assert response.json()["detail"]


def test_unknown_panels_are_ignored(dash_world, client):
    w = dash_world
    client.force_login(w.users["edu"])
    response = client.get(reverse("reports:dashboard_panels"), {"panel": ["nope", "hazards"]})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-panel="hazards"' in body and 'data-panel="alarms"' not in body
    response = client.get(reverse("reports:dashboard_panels"), {"panel": "x" * 5000})
    assert response.status_code == 200 and 'data-panel="alarms"' in response.content.decode()


def test_the_script_is_told_what_to_listen_to(dash_world, client):
    w = dash_world
    client.force_login(w.users["county"])
    config = client.get(reverse("reports:dashboard")).context["config"]
    assert config["alarms_live"] and not config["health_live"]  # county: suspensions only
    assert config["school_ids"] == sorted([w.school.pk, w.other_school.pk, w.far_school.pk])
    client.force_login(w.users["health"])
    config = client.get(reverse("reports:dashboard_screen")).context["config"]
    assert config["health_live"] and not config["alarms_live"] and config["screen"]
    assert config["refresh_seconds"] == 60
    client.force_login(w.users["police"])
    config = client.get(reverse("reports:dashboard")).context["config"]
    assert config["fragment_url"].endswith(f"?station={w.station.pk}")
