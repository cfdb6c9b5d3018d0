"""The school gate of the demo kindergarten in real Chromium, on a tablet held upright
(800×1280, touch), with the demo data of `make run` (township, register, warnings, gate) and the demo
logins.

(a) Morning. The officer of the kindergarten's police station has the alarm console open.
    The `guard` types a clear visitor's ID number into the kiosk's scan box as a scanner
    does (ending with Enter), completes the form and gets the badge; then checks in the
    register's 马德福 (the demo's "test visitor who will be held") and sees only
    "请稍候，联系值班领导" — nothing that tells why. The officer's console shows the silent
    alert live, without a reload.
(b) Afternoon. The guard releases three children of 小一班 by their demo PINs typed into the
    kiosk's scan box; the kiosk's pick-up queue and the class's waiting list show who
    collected them; a fourth attempt, with the other guardian's PIN of a child already
    released, is refused with the reason.

WebSockets come from the shared in-process daphne (`asgi_port` in conftest)."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import pytest
from django.db import connections
from django.utils import timezone

from huxiao.access.choices import Screening, VisitStatus
from huxiao.access.demo import (
    CLEAR_VISITOR_ID,
    CLEAR_VISITOR_NAME,
    CLEAR_VISITOR_PHONE,
    HELD_VISITOR_ID,
    HELD_VISITOR_NAME,
    SCHOOL_NAME,
    demo_pins,
    load_demo_gate,
)
from huxiao.access.models import PickupRefusal, Release, Visit
from huxiao.demo.township import DEMO_PASSWORD, load_demo_township
from huxiao.intel.demo import load_demo_register
from huxiao.intel.warnings_demo import load_demo_warnings
from huxiao.orgs.models import Organization
from huxiao.people.models import SchoolClass, Staff
from tests.e2e.conftest import log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

TABLET = {"width": 800, "height": 1280}
DESKTOP = {"width": 1280, "height": 900}
HOLD_TEXT = "请稍候，联系值班领导"
POLICE_ALERT_TITLE = f"门岗暂缓访客信息：{SCHOOL_NAME}"
# Words that would tell the guard why a visitor is held: the register, its hit, the demo
# record of 马德福 (category, notes, address, officer), the school's blocklist.
REVEALING = ("登记册", "高危", "重点人员", "比中", "命中", "精神", "红星村", "陈伟", "黑名单")


def _load_demo() -> None:
    load_demo_township()
    load_demo_register()
    load_demo_warnings()
    load_demo_gate()


@pytest.fixture
def demo_gate(settings, browser):
    """The demo as `make run` loads it (the parts the gate needs). Loaded in a thread of its
    own: the services publish events after commit through async_to_sync, which cannot run
    in this thread while Playwright's event loop does."""
    settings.DEMO_MODE = True
    failures = []

    def run():
        try:
            _load_demo()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            failures.append(exc)
        finally:
            connections.close_all()

    loader = threading.Thread(target=run, name="demo-loader")
    loader.start()
    loader.join()
    if failures:
        raise failures[0]
    return Organization.objects.get(name=SCHOOL_NAME)


@pytest.fixture
def open_page(browser, live_server, asgi_port, settings):
    """open_page(username, viewport, touch) → a logged-in page of its own browser context."""
    host = urlsplit(live_server.url).hostname
    settings.HUXIAO_WS_URL = f"ws://{host}:{asgi_port}/ws/"
    # Pushes arrive directly (shared channel layer); no database tail outliving the test.
    settings.ALARM_CONSOLE_TAIL_SECONDS = 0
    contexts = []

    def open_(username, viewport=TABLET, touch=True):
        context = browser.new_context(
            locale="zh-CN", viewport=viewport, is_mobile=touch, has_touch=touch
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.base_url = live_server.url
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        log_in(page, username, DEMO_PASSWORD)
        return page

    yield open_
    for context in contexts:
        context.close()


def _kiosk(page, school):
    page.goto(f"{page.base_url}/gate/")
    page.wait_for_url(f"{page.base_url}/gate/{school.pk}/")
    page.get_by_test_id("kiosk").wait_for()


def _scan(page, text: str) -> None:
    """What a keyboard-wedge scanner does: types into the focused box and presses Enter."""
    box = page.get_by_test_id("scan-box")
    box.tap()
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def _fill_visitor(page, *, name, phone, host) -> None:
    form = page.get_by_test_id("check-in-form")
    form.wait_for()
    form.locator("#name").fill(name)
    form.locator("#phone").fill(phone)
    form.locator("#purpose").select_option("interview")
    form.locator("#host").select_option(str(host.pk))
    form.locator("#items").fill("手提包")
    page.get_by_test_id("check-in-submit").tap()


def test_morning_clear_visitor_badge_then_a_silent_hold_reaches_the_police(demo_gate, open_page):
    school = demo_gate
    host = Staff.objects.get(school=school, user__username="teacher")

    # The officer of the station: the console, connected.
    officer = open_page("officer", viewport=DESKTOP, touch=False)
    officer.goto(f"{officer.base_url}/alarms/console/")
    officer.locator("[data-testid=console-connection][data-state=live]").wait_for()
    officer.evaluate("window.__sameDocument = true")
    police_alert = officer.get_by_test_id("console-inbox").get_by_test_id("inbox-alert")
    assert police_alert.filter(has_text=POLICE_ALERT_TITLE).count() == 0

    # The guard's tablet: the kiosk with today's expected visitors of the demo.
    guard = open_page("guard")
    _kiosk(guard, school)
    assert "校门" in guard.get_by_test_id("kiosk").locator("h1").inner_text()
    expected = guard.get_by_test_id("expected")
    assert "今日预约访客 (3)" in expected.inner_text()
    for name in ("孙晓燕", "钱卫东", "马金山"):
        assert name in expected.inner_text()
    # The police's early warnings in force for the kindergarten are on the kiosk too.
    assert "在逃人员协查：驾驶灰色轿车男子" in guard.get_by_test_id("kiosk").inner_text()
    screenshot(guard, "gate-kiosk-morning")

    # A clear visitor: the scanner types the ID number, the form opens with it.
    _scan(guard, CLEAR_VISITOR_ID)
    guard.get_by_test_id("check-in-form").wait_for()
    assert guard.locator("#id_number").input_value() == CLEAR_VISITOR_ID
    _fill_visitor(guard, name=CLEAR_VISITOR_NAME, phone=CLEAR_VISITOR_PHONE, host=host)
    result = guard.locator("[data-testid=visit-result][data-state=inside]")
    result.wait_for()
    assert "登记完成" in result.inner_text() and CLEAR_VISITOR_NAME in result.inner_text()
    assert "访客证有效期至" in result.inner_text()
    guard.get_by_test_id("badge-qr").locator("svg").wait_for()
    guard.get_by_test_id("print-badge").tap()
    badge = guard.get_by_test_id("badge")
    badge.wait_for()
    assert "访客" in badge.inner_text() and CLEAR_VISITOR_NAME in badge.inner_text()
    badge.locator("svg").wait_for()
    screenshot(guard, "gate-badge")
    clear = Visit.objects.get(school=school, name=CLEAR_VISITOR_NAME)
    assert (clear.status, clear.screening) == (VisitStatus.INSIDE, Screening.CLEAR)

    # The register's test visitor: the guard is told only to wait and call the duty leader.
    _kiosk(guard, school)
    _scan(guard, HELD_VISITOR_ID)
    _fill_visitor(guard, name=HELD_VISITOR_NAME, phone="13812345678", host=host)
    wait = guard.locator("[data-testid=visit-result][data-state=wait]")
    wait.wait_for()
    assert wait.locator("h1").inner_text() == HOLD_TEXT
    assert HELD_VISITOR_NAME in wait.inner_text()
    html = guard.content()
    for word in REVEALING:
        assert word not in html, word
    assert HELD_VISITOR_ID not in html and HELD_VISITOR_ID[-4:] not in html
    assert guard.get_by_test_id("badge-qr").count() == 0
    assert guard.get_by_test_id("print-badge").count() == 0
    screenshot(guard, "gate-hold")
    held = Visit.objects.get(school=school, name=HELD_VISITOR_NAME)
    assert (held.status, held.screening, held.badge_code) == (
        VisitStatus.EXPECTED,
        Screening.HOLD,
        None,
    )
    # Back at the kiosk the held visitor is "waiting" at the gate, and still nothing says why.
    guard.get_by_test_id("back-to-gate").tap()
    waiting = guard.get_by_test_id("waiting")
    waiting.wait_for()
    assert HELD_VISITOR_NAME in waiting.inner_text()
    html = guard.content()
    for word in REVEALING:
        assert word not in html, word

    # The officer's console: the silent alert, live (same document, no reload).
    police_alert.filter(has_text=POLICE_ALERT_TITLE).first.wait_for(timeout=10_000)
    assert officer.evaluate("window.__sameDocument") is True
    screenshot(officer, "gate-hold-console")
    assert guard.errors == [] and officer.errors == []


def test_afternoon_three_children_released_by_pin_and_a_fourth_refused(demo_gate, open_page):
    school = demo_gate
    small_one = SchoolClass.objects.get(school=school, name="小一班")
    pins = demo_pins(school)
    by_child: dict[str, list] = {}
    for child, adult, _relationship, pin in pins:
        by_child.setdefault(child, []).append((adult, pin))
    # Three children with two authorised adults each (the second's PIN is the 4th attempt).
    chosen = [child for child, adults in by_child.items() if len(adults) >= 2][:3]
    assert len(chosen) == 3

    guard = open_page("guard")
    for child in chosen:
        adult, pin = by_child[child][0]
        _kiosk(guard, school)
        _scan(guard, pin)
        confirm = guard.get_by_test_id("pickup-confirm")
        confirm.wait_for()
        assert "请对照照片核对接送人" in confirm.inner_text()
        assert child in confirm.inner_text() and adult in confirm.inner_text()
        assert "小一班" in confirm.inner_text()
        if child == chosen[0]:
            screenshot(guard, "gate-pickup-confirm")
        guard.get_by_test_id("pickup-release").tap()
        released = guard.get_by_test_id("pickup-released")
        released.wait_for()
        assert child in released.inner_text() and adult in released.inner_text()
        assert "交给" in released.inner_text()

    today = timezone.localdate()
    assert set(
        Release.objects.filter(school=school, on_date=today).values_list("child__name", flat=True)
    ) == set(chosen)

    # The kiosk's pick-up queue lists them as released.
    _kiosk(guard, school)
    panel = guard.get_by_test_id("pickup-panel")
    assert "最近放行" in panel.inner_text()
    for child in chosen:
        assert f"{child} → {by_child[child][0][0]}" in panel.inner_text()
    screenshot(guard, "gate-pickup-kiosk")

    # The class view: who is still waiting, who collected whom.
    guard.goto(f"{guard.base_url}/gate/pickup/classes/{small_one.pk}/waiting/")
    waiting = guard.get_by_test_id("pickup-waiting")
    waiting.wait_for()
    total = small_one.children.filter(is_active=True).count()
    assert f"仍在等待的孩子：{total - 3}" in guard.locator("h1").inner_text()
    for child in chosen:
        row = waiting.locator("li").filter(has_text=child)
        assert f"由 {by_child[child][0][0]} 接走" in row.inner_text()
    assert waiting.locator("li").filter(has_text="等待中").count() == total - 3
    screenshot(guard, "gate-pickup-class")

    # A fourth attempt: the other adult of a child already released — refused, with why.
    _kiosk(guard, school)
    _scan(guard, by_child[chosen[0]][1][1])
    refused = guard.get_by_test_id("pickup-refused")
    refused.wait_for()
    assert "不得放行" in refused.inner_text() and "孩子已被接走" in refused.inner_text()
    assert "已通知班主任和值班领导" in refused.inner_text()
    screenshot(guard, "gate-pickup-refused")
    assert Release.objects.filter(school=school, on_date=today).count() == 3
    assert PickupRefusal.objects.filter(reason="already_released").count() == 1
    assert guard.errors == []
