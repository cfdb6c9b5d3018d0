"""The alarm journey in real Chromium, two browsers side by side: `police` watches the
console; `guard` raises an alarm by pressing and holding on the raise page; the alarm appears
on the console without a reload; police acknowledge; the guard's page shows who did; police
resolve and the alarm moves to "recently closed" with its full timeline.

HTTP comes from pytest-django's live server (a WSGI-style test server). WebSockets need an
ASGI server: daphne runs in a thread of this process (not a subprocess), so it shares the
in-memory SQLite test database and the in-memory channel layer with the live server — a
subprocess would need a file database and could not receive the in-process pushes. The
pages find the socket through HUXIAO_WS_URL, on the same host name as the pages so the
session cookie goes with it (cookies ignore the port; ADR 0002).
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from huxiao.alarms.models import Alarm
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, _missing_browser, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "journey-pw-2"


@pytest.fixture(scope="module")
def alarm_browser(request):
    """Chromium for this module, stopped when the module ends: while Playwright's sync API
    runs it keeps an event loop running in the main thread, and any later test on the same
    worker that calls async_to_sync (the socket tests) would fail. If the shared session
    browser is already running here, use it (a second Playwright cannot start)."""
    if _playwright_running():
        yield request.getfixturevalue("browser")
        return
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _missing_browser("not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _playwright_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@pytest.fixture
def two_browsers(alarm_browser, live_server, asgi_port, settings):
    host = urlsplit(live_server.url).hostname
    settings.HUXIAO_WS_URL = f"ws://{host}:{asgi_port}/ws/"
    # The in-thread ASGI server shares the channel layer with the live server, so pushes
    # arrive directly; the database tail would outlive the test and touch a torn-down DB.
    settings.ALARM_CONSOLE_TAIL_SECONDS = 0
    contexts = []

    def open_page(viewport=(1280, 900)):
        context = alarm_browser.new_context(
            locale="zh-CN", viewport={"width": viewport[0], "height": viewport[1]}
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        return page

    yield live_server.url, open_page
    for context in contexts:
        context.close()


def log_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")


def hold(page, test_id, milliseconds):
    button = page.get_by_test_id(test_id)
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.wait_for_timeout(milliseconds)
    page.mouse.up()


def test_guard_raises_police_see_it_live_acknowledge_and_the_guard_sees_who(world, two_browsers):
    base, open_page = two_browsers
    for name in ("police", "guard"):
        world.users[name].set_password(PASSWORD)
        world.users[name].save()

    # Police: the console, connected.
    police = open_page()
    log_in(police, base, "police")
    police.goto(f"{base}/alarms/console/")
    police.locator("[data-testid=console-connection][data-state=live]").wait_for()
    assert police.get_by_test_id("open-count").inner_text() == "0"
    police.evaluate("window.__sameDocument = true")
    quiet_title = police.title()

    # Guard, on a phone: the button is on the school's home page and on the raise page.
    guard = open_page(viewport=(390, 844))
    log_in(guard, base, "guard")
    guard.get_by_test_id("alarm-button").wait_for()
    screenshot(guard, "alarm-guard-home")
    # A short press raises nothing.
    guard.goto(f"{base}/alarms/raise/")
    guard.get_by_test_id("alarm-kind-intrusion").click()
    guard.get_by_test_id("alarm-location").fill("东门")
    hold(guard, "alarm-hold", 600)
    guard.wait_for_timeout(500)
    assert not Alarm.objects.exists()
    assert guard.get_by_test_id("alarm-raised").is_hidden()

    # Press and hold about 2 s: the alarm is raised, once, and the cancel countdown runs.
    hold(guard, "alarm-hold", 2400)
    guard.get_by_test_id("alarm-raised").wait_for()
    cancel = guard.get_by_test_id("alarm-cancel")
    cancel.wait_for()
    assert cancel.get_attribute("data-window") == "open"
    alarm = Alarm.objects.get()
    assert (alarm.school, alarm.kind, alarm.location) == (world.school, "intrusion", "东门")
    assert alarm.raised_by == world.users["guard"]
    assert alarm.idempotency_key  # the browser sent one
    screenshot(guard, "alarm-guard-raised")

    # The console shows it without a reload: red, loud, with the school and place.
    card = police.locator(f"[data-testid=alarm-card][data-alarm-id='{alarm.pk}']")
    card.wait_for(timeout=10_000)
    assert police.evaluate("window.__sameDocument") is True
    assert card.get_attribute("data-status") == "raised"
    assert card.get_by_test_id("alarm-school").inner_text() == world.school.name
    assert "东门" in card.inner_text()
    assert police.get_by_test_id("open-count").inner_text() == "1"
    # A function, not an expression: an expression is eval()ed, which the CSP forbids.
    police.wait_for_function(f"() => document.title !== {quiet_title!r}")
    screenshot(police, "alarm-console-raised")

    # Police acknowledge; the guard's page says who.
    card.get_by_test_id("alarm-ack").click()
    police.wait_for_function(
        "id => document.querySelector(`[data-alarm-id='${id}']`).dataset.status === 'acknowledged'",
        arg=alarm.pk,
    )
    assert "police" in card.get_by_test_id("alarm-acked-by").inner_text()
    guard.get_by_test_id("alarm-acked-by").filter(has_text="police").wait_for()
    screenshot(guard, "alarm-guard-acknowledged")
    alarm.refresh_from_db()
    assert alarm.acknowledged_by == world.users["police"]

    # Dispatch, arrival, resolution: the alarm leaves the live list for "recently closed".
    card.get_by_test_id("alarm-units").fill("巡逻车1号")
    card.get_by_test_id("alarm-dispatch").click()
    card.locator("[data-field=dispatch]").filter(has_text="巡逻车1号").wait_for()
    card.get_by_test_id("alarm-arrive").click()
    card.locator("[data-field=arrived]:not([hidden])").wait_for()
    card.get_by_test_id("alarm-outcome").fill("可疑人员已带离，无人受伤")
    card.get_by_test_id("alarm-resolve").click()
    card.wait_for(state="detached")
    closed = police.locator(f"[data-testid=closed-alarm][data-alarm-id='{alarm.pk}']")
    closed.wait_for()
    assert "可疑人员已带离" in closed.inner_text()
    assert police.get_by_test_id("open-count").inner_text() == "0"
    police.wait_for_function(f"() => document.title === {quiet_title!r}")
    screenshot(police, "alarm-console-closed")

    # The guard's page follows the alarm to its end.
    guard.get_by_test_id("alarm-reset").wait_for()
    assert guard.get_by_test_id("alarm-cancel").is_hidden()

    # The detail page: every step, who and when.
    police.goto(f"{base}/alarms/{alarm.pk}/")
    rows = police.get_by_test_id("alarm-timeline").locator("tbody tr")
    assert rows.count() == 5
    assert [rows.nth(i).get_attribute("data-event-type") for i in range(5)] == [
        "alarm.raised",
        "alarm.acknowledged",
        "alarm.dispatched",
        "alarm.arrived",
        "alarm.resolved",
    ]
    screenshot(police, "alarm-detail")
    assert Alarm.objects.count() == 1
    assert police.errors == [] and guard.errors == []


def test_guard_cancels_an_accident_at_once_and_a_late_one_with_a_reason(
    world, two_browsers, settings
):
    base, open_page = two_browsers
    world.users["guard"].set_password(PASSWORD)
    world.users["guard"].save()
    guard = open_page(viewport=(390, 844))
    log_in(guard, base, "guard")
    guard.goto(f"{base}/alarms/raise/")

    # Keyboard: hold Space on the button. Within the window, cancelling asks nothing.
    guard.get_by_test_id("alarm-kind-fire").click()
    guard.get_by_test_id("alarm-hold").focus()
    guard.keyboard.down("Space")
    guard.wait_for_timeout(2400)
    guard.keyboard.up("Space")
    guard.get_by_test_id("alarm-raised").wait_for()
    first = Alarm.objects.get()
    assert first.kind == "fire"
    guard.get_by_test_id("alarm-cancel").click()
    guard.get_by_test_id("alarm-reset").wait_for()
    first.refresh_from_db()
    assert first.status == "cancelled" and not first.is_false_alarm

    # After the window a reason is required and the alarm is recorded as a false alarm.
    settings.ALARM_CANCEL_WINDOW_SECONDS = 1
    guard.get_by_test_id("alarm-reset").click()
    hold(guard, "alarm-hold", 2400)
    guard.get_by_test_id("alarm-raised").wait_for()
    guard.locator("[data-testid=alarm-cancel][data-window=closed]").wait_for()
    guard.get_by_test_id("alarm-cancel").click()
    guard.get_by_test_id("alarm-cancel-reason").fill("门卫误触")
    screenshot(guard, "alarm-guard-cancel-reason")
    guard.get_by_test_id("alarm-cancel-confirm").click()
    guard.get_by_test_id("alarm-reset").wait_for()
    second = Alarm.objects.exclude(pk=first.pk).get()
    assert second.kind == "other"  # no kind chosen
    assert second.status == "cancelled" and second.is_false_alarm
    assert second.cancel_reason == "门卫误触"
    assert guard.errors == []


def test_a_console_past_its_limit_says_how_many_are_open(world, two_browsers, monkeypatch):
    """A county-wide drill can leave more open alarms than the console is sent: it shows the
    most urgent, counts them all and says so; an alarm raised meanwhile still appears."""
    from huxiao.alarms import consumers, selectors, services
    from huxiao.alarms.choices import AlarmSource

    base, open_page = two_browsers
    world.users["police"].set_password(PASSWORD)
    world.users["police"].save()

    def raised(**kwargs):
        alarm, _ = services.alarm_raise(
            actor=world.users["guard"],
            school=world.school,
            kind="intrusion",
            location="操场",
            source=AlarmSource.BUTTON,
            **kwargs,
        )
        return alarm

    drills = [raised(drill=True) for _ in range(2)]
    real = raised()
    monkeypatch.setattr(selectors, "CONSOLE_OPEN_LIMIT", 2)
    # Else the socket's first catch-up sends again the events of the last seconds (the
    # late-commit window), which brings the third alarm to the page as well.
    monkeypatch.setattr(consumers, "LATE_COMMIT_SECONDS", 0)
    police = open_page()
    log_in(police, base, "police")
    police.goto(f"{base}/alarms/console/")
    police.locator("[data-testid=console-connection][data-state=live]").wait_for()
    cards = police.locator("[data-testid=open-alarms] [data-alarm-id]")
    assert police.get_by_test_id("open-count").inner_text() == "3"
    assert cards.count() == 2
    shown = {int(cards.nth(i).get_attribute("data-alarm-id")) for i in range(2)}
    assert shown == {real.pk, drills[0].pk}  # the real one, then the longest-waiting drill
    notice = police.get_by_test_id("open-more")
    assert notice.is_visible()
    assert "共有 3 条未结束的报警" in notice.inner_text() and "最紧急的 2 条" in notice.inner_text()

    later = raised()
    police.locator(f"[data-testid=open-alarms] [data-alarm-id='{later.pk}']").wait_for()
    assert police.get_by_test_id("open-count").inner_text() == "4"
    assert "共有 4 条" in notice.inner_text()
    assert police.errors == []


def test_a_push_lost_while_connected_is_shown_by_the_periodic_catch_up(
    world, two_browsers, settings, monkeypatch
):
    """Delivery never depends on the push alone: with the push gone (a full channel, a
    Redis blip) and no database tail (scale mode), a connected console still shows the
    alarm within its catch-up interval, without a reconnect."""
    from huxiao.alarms import events, services
    from huxiao.alarms.choices import AlarmSource

    base, open_page = two_browsers
    settings.ALARM_CONSOLE_CATCH_UP_SECONDS = 1
    world.users["police"].set_password(PASSWORD)
    world.users["police"].save()
    police = open_page()
    log_in(police, base, "police")
    police.goto(f"{base}/alarms/console/")
    police.locator("[data-testid=console-connection][data-state=live]").wait_for()
    police.evaluate("window.__sameDocument = true")
    monkeypatch.setattr(events, "publish_on_commit", lambda *args, **kwargs: None)
    alarm, _ = services.alarm_raise(
        actor=world.users["guard"],
        school=world.school,
        kind="fire",
        location="食堂",
        source=AlarmSource.BUTTON,
    )
    police.locator(f"[data-testid=open-alarms] [data-alarm-id='{alarm.pk}']").wait_for(
        timeout=5_000
    )
    assert police.evaluate("window.__sameDocument") is True  # no reload
    assert police.get_by_test_id("open-count").inner_text() == "1"
    assert police.errors == []
