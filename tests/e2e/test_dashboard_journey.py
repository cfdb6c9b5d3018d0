"""The command dashboard in real Chromium (issue 10): `county` opens the dashboard, which
goes live on the console socket; an alarm raised at a school (through the service, as a
press would) appears without a reload — flashed in the banner, counted in the alarms panel;
clicking the number of open alarms leads to the alarm console showing the same alarms; the
big screen draws its charts. Screenshots are saved as artifacts (var/screenshots/).

HTTP comes from the live server, WebSockets from daphne in a thread of this process (see
test_alarm_journey.py). The service runs in a thread of its own: it publishes through
async_to_sync, which cannot run in this thread while Playwright's loop does
(test_health_journey.py)."""

from __future__ import annotations

import datetime as dt
import threading
from urllib.parse import urlsplit

import pytest
from django.db import connections
from django.urls import reverse

from huxiao.alarms import services as alarm_services
from huxiao.alarms.choices import AlarmSource
from huxiao.hazards import hazard_services
from tests.e2e.conftest import log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "journey-pw-10"


@pytest.fixture
def live(world, live_server, asgi_port, settings):
    host = urlsplit(live_server.url).hostname
    settings.HUXIAO_WS_URL = f"ws://{host}:{asgi_port}/ws/"
    # Pushes arrive directly (one process); the database tail would outlive the test.
    settings.ALARM_CONSOLE_TAIL_SECONDS = 0
    world.users["county"].set_password(PASSWORD)
    world.users["county"].save()
    return world


def _in_a_thread(work) -> None:
    failures = []

    def run():
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            failures.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name="elsewhere")
    thread.start()
    thread.join()
    if failures:
        raise failures[0]


def _value(page, testid: str) -> str:
    return page.get_by_test_id(testid).locator("[data-value]").get_attribute("data-value")


def test_county_sees_an_alarm_arrive_and_drills_down(live, page):
    w = live
    base = page.base_url
    _in_a_thread(
        lambda: hazard_services.hazard_report(
            actor=w.users["police"],
            school=w.school,
            category="physical",
            level="general",
            title="消防通道堵塞",
            description="一楼东侧通道堆放杂物",
        )
    )
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, "county", PASSWORD)
    page.goto(f"{base}{reverse('reports:dashboard')}")
    page.locator("[data-testid=dashboard-connection][data-state=live]").wait_for()
    assert _value(page, "fig-alarms-open") == "0"
    assert _value(page, "fig-hazards-open") == "1"
    assert page.locator("[data-testid=panel-alarms] [data-chart] canvas").count() == 1
    page.evaluate("window.__sameDocument = true")

    # Elsewhere, the guard's press: the alarm reaches the dashboard without a reload.
    _in_a_thread(
        lambda: alarm_services.alarm_raise(
            actor=w.users["guard"],
            school=w.school,
            kind="intrusion",
            location="东门",
            source=AlarmSource.BUTTON,
        )
    )
    banner = page.get_by_test_id("live-banner")
    banner.wait_for(state="visible")
    assert "本园" in banner.inner_text()
    page.locator("[data-testid=fig-alarms-open] [data-value='1']").wait_for()
    assert _value(page, "fig-alarms-today") == "1"
    town = page.locator(f"[data-testid=breakdown-row][data-id='{w.town.pk}']")
    assert town.locator("[data-col=open_alarms]").inner_text() == "1"
    assert page.evaluate("window.__sameDocument") is True
    path = screenshot(page, "dashboard")
    print(f"dashboard screenshot: {path}")
    assert not errors, errors

    # The number leads to the list behind it: the console with that open alarm.
    page.get_by_test_id("fig-alarms-open").locator("a").click()
    page.wait_for_url(f"{base}{reverse('alarms:console')}")
    page.locator("[data-testid=open-count]", has_text="1").wait_for()
    assert "本园" in page.get_by_test_id("open-alarms").inner_text()

    # The big screen of the command centre: no navigation, the charts drawn.
    page.goto(f"{base}{reverse('reports:dashboard_screen')}")
    page.get_by_test_id("dashboard-screen").wait_for()
    assert page.locator(".hx-topbar").is_hidden()
    page.locator("[data-testid=panel-hazards] [data-chart] canvas").wait_for()
    assert _value(page, "fig-alarms-open") == "1"
    print(f"big screen screenshot: {screenshot(page, 'dashboard-screen')}")
    assert not errors, errors


def test_the_health_centre_sees_a_cluster_alert_arrive(live, page):
    """The health centre's dashboard listens on the events socket: a cluster alert raised
    by the evaluation appears without a reload — counted, flashed, no child named."""
    from huxiao.core.roles import OrgKind, Role
    from huxiao.health import surveillance_services
    from huxiao.health.tests.surveillance_fixtures import kids, sick
    from huxiao.orgs.tests.factories import MembershipFactory, OrganizationFactory, UserFactory

    w = live
    centre = OrganizationFactory(kind=OrgKind.HEALTH_CENTRE, town=w.town, name="卫生院")
    health = UserFactory(username="health")
    MembershipFactory(user=health, organization=centre, role=Role.HEALTH_OFFICER)
    health.set_password(PASSWORD)
    health.save()
    base = page.base_url
    log_in(page, "health", PASSWORD)
    page.goto(f"{base}{reverse('reports:dashboard')}")
    page.locator("[data-testid=dashboard-connection][data-state=live]").wait_for()
    assert _value(page, "fig-health-alerts") == "0"

    def raise_alert():
        from django.utils import timezone

        today = timezone.localdate()
        for n, child in enumerate(kids(w.school_class, 3, prefix="小红")):
            sick(child, today - dt.timedelta(days=n))
        surveillance_services.clusters_evaluate(today=today)

    _in_a_thread(raise_alert)
    banner = page.get_by_test_id("live-banner")
    banner.wait_for(state="visible")
    assert "小红" not in banner.inner_text()
    page.locator("[data-testid=fig-health-alerts] [data-value='1']").wait_for()
    screenshot(page, "dashboard-health")
