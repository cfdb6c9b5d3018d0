"""Key pages under the Content-Security-Policy in real Chromium (ADR 0034): the login with
two-factor enrolment, home, the alarm console (live on its socket), the command dashboard
and its big screen (charts), and the gate kiosk. No page may report a policy violation,
and each still does its work (the console and dashboard go live, the charts draw).

Styles are as strict as scripts (`style-src 'self'`): the pages whose rules used to sit in
<style> blocks and style= attributes are visited with their data, their moved rules are
seen to apply (computed styles), the duty day's bar still places its stretches, and a chart
tooltip is shown without a violation."""

from __future__ import annotations

import datetime as dt
import io
import re
import threading
from urllib.parse import urlsplit

import pyotp
import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from tests.e2e.conftest import log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "csp-pw-11"
# Playwright's init script is not subject to the page's policy: it records every violation.
RECORDER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sourceFile || "") + ":" + e.lineNumber);
});
"""


@pytest.fixture
def live(world, live_server, asgi_port, settings):
    host = urlsplit(live_server.url).hostname
    settings.HUXIAO_WS_URL = f"ws://{host}:{asgi_port}/ws/"
    settings.ALARM_CONSOLE_TAIL_SECONDS = 0
    settings.TWO_FACTOR_ENFORCED = True
    settings.DEMO_MODE = False
    for name in ("police", "county", "guard"):
        world.users[name].set_password(PASSWORD)
        world.users[name].save()
    return world


@pytest.fixture
def watched(browser, live_server):
    contexts = []

    def open_page():
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        context.add_init_script(RECORDER)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.base_url = live_server.url
        page.problems = []
        page.on("pageerror", lambda error: page.problems.append(f"error: {error}"))
        # A stylesheet that is not there fails quietly; a page that links one must not.
        page.on(
            "response",
            lambda response: (
                page.problems.append(f"{response.status}: {response.url}")
                if "/static/" in response.url and response.status >= 400
                else None
            ),
        )
        page.on(
            "console",
            lambda msg: (
                page.problems.append(f"console: {msg.text}")
                if "Content Security Policy" in msg.text or "Refused to" in msg.text
                else None
            ),
        )
        return page

    yield open_page
    for context in contexts:
        context.close()


def _clean(page, where: str) -> None:
    violations = page.evaluate("window.__csp || []")
    assert not violations, f"{where}: {violations}"
    assert not page.problems, f"{where}: {page.problems}"


def _password(page, username: str) -> None:
    page.goto(f"{page.base_url}/accounts/login/")
    _clean(page, "login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_key_pages_have_no_csp_violation(live, watched):
    police = watched()
    _password(police, "police")
    # Police must set up two-factor authentication before the session exists.
    police.wait_for_url(re.compile(r".*/accounts/login/enrol/$"))
    police.get_by_test_id("otp-qr").locator("svg").wait_for()
    _clean(police, "two-factor enrolment")
    screenshot(police, "csp-two-factor-enrol")
    secret = police.get_by_test_id("otp-secret").inner_text().replace(" ", "")
    police.get_by_test_id("otp-code").fill(pyotp.TOTP(secret).now())
    police.get_by_test_id("enrol-submit").click()
    police.get_by_test_id("recovery-codes").wait_for()
    assert police.get_by_test_id("recovery-codes").locator("li").count() == 10
    _clean(police, "recovery codes")
    police.get_by_test_id("recovery-continue").click()
    police.wait_for_url(f"{police.base_url}/")
    _clean(police, "home")
    police.goto(f"{police.base_url}/alarms/console/")
    police.locator("[data-testid=console-connection][data-state=live]").wait_for()
    _clean(police, "alarm console")
    screenshot(police, "csp-alarm-console")

    county = watched()
    _password(county, "county")
    county.wait_for_url(re.compile(r".*/accounts/login/enrol/$"))
    secret = county.get_by_test_id("otp-secret").inner_text().replace(" ", "")
    county.get_by_test_id("otp-code").fill(pyotp.TOTP(secret).now())
    county.get_by_test_id("enrol-submit").click()
    county.get_by_test_id("recovery-continue").click()
    county.goto(f"{county.base_url}/reports/dashboard/")
    county.locator("[data-testid=dashboard-connection][data-state=live]").wait_for()
    _clean(county, "dashboard")
    county.goto(f"{county.base_url}/reports/dashboard/screen/")
    county.get_by_test_id("dashboard-screen").wait_for()
    county.locator("[data-chart] canvas").first.wait_for()
    _clean(county, "dashboard screen")

    guard = watched()
    _password(guard, "guard")  # school staff: no second step
    guard.wait_for_url(f"{guard.base_url}/")
    guard.goto(f"{guard.base_url}/gate/")
    guard.get_by_test_id("kiosk").wait_for()
    # The kiosk's script (now a static file) keeps the focus on the scan box.
    guard.locator("h1").first.click()
    assert guard.evaluate("document.activeElement.dataset.testid") == "scan-box"
    _clean(guard, "gate kiosk")

    # The recorder and the policy do catch an inline script (the check above can fail).
    guard.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.injected = 1'; document.body.appendChild(s); }"
    )
    # A function, not an expression: an expression is eval()ed, itself a violation.
    guard.wait_for_function("() => window.__csp.length > 0")
    assert guard.evaluate("window.injected") is None
    assert [v.split(" ")[:2] for v in guard.evaluate("window.__csp")] == [
        ["script-src-elem", "inline"]
    ]


# ----------------------------------------------------------------- styles (no 'unsafe-inline')


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (240, 320), (40, 90, 160)).save(out, format="PNG")
    return out.getvalue()


def _in_a_thread(work):
    """Services publish on commit through async_to_sync, which cannot run in this thread
    while Playwright's event loop does."""
    failures, result = [], {}

    def run():
        try:
            result.update(work())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            failures.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name="csp-data")
    thread.start()
    thread.join()
    if failures:
        raise failures[0]
    return result


@pytest.fixture
def styled(world, live_server, asgi_port, settings):
    """`world` with a record behind each page that carried inline styles: a day of the
    monitoring-room log (an abnormal stretch inside a watched one), a suspected case, a
    timed drill, the town's leading group, a register record with a photo, a clear and a
    held visitor with photos, a bus route with a rider and a roadside check."""
    from huxiao.access import visitor_services
    from huxiao.access.tests.conftest import CLEAR_ID, REGISTER_ID, REGISTER_NAME, visitor
    from huxiao.core.roles import OrgKind
    from huxiao.drills.models import DrillRecord
    from huxiao.drills.tests.activity_fixtures import make_activity
    from huxiao.duty.models import MonitoringLogEntry
    from huxiao.health.tests.case_fixtures import make_case
    from huxiao.intel import services as intel
    from huxiao.orgs.models import Organization
    from huxiao.supervision import meeting_services
    from huxiao.supervision.choices import GroupPosition
    from huxiao.transport import inspection_services
    from huxiao.transport.tests.fleet_fixtures import add_rider, make_bus, make_driver, make_route

    host = urlsplit(live_server.url).hostname
    settings.HUXIAO_WS_URL = f"ws://{host}:{asgi_port}/ws/"
    settings.ALARM_CONSOLE_TAIL_SECONDS = 0
    settings.TWO_FACTOR_ENFORCED = False
    settings.DEMO_MODE = False
    w = world
    for name in ("principal", "guard", "police", "gov", "county"):
        w.users[name].set_password(PASSWORD)
        w.users[name].save()
    photo = _png()
    yesterday = timezone.localdate() - dt.timedelta(days=1)

    def local(day, hour, minute=0):
        return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))

    def build():
        guard, police = w.users["guard"], w.users["police"]
        for start, end, anomaly in ((9, 12, False), (10, 11, True)):
            MonitoringLogEntry.objects.create(
                school=w.school,
                watcher=guard,
                period_start=local(yesterday, start),
                period_end=local(yesterday, end),
                observations="画面正常" if not anomaly else "东门有人徘徊",
                anomaly=anomaly,
                created_by=guard,
            )
        case = make_case(w)
        drill = make_activity(w.school)
        DrillRecord.objects.create(
            activity=drill,
            signal_at=drill.starts_at,
            all_out_at=drill.starts_at + dt.timedelta(minutes=3, seconds=12),
            expected_headcount=90,
            counted_headcount=90,
        )
        gov = w.users["gov"]
        group = meeting_services.group_create(
            actor=gov,
            owner=Organization.objects.get(kind=OrgKind.GOVERNANCE_OFFICE, town=w.town),
            name="本镇护校安园工作领导小组",
            established_on=timezone.localdate() - dt.timedelta(days=30),
            duties="统筹全镇护校安园工作",
        )
        meeting_services.member_add(
            actor=gov,
            group=group,
            organization_id=w.station.pk,
            user_id=police.pk,
            title="成员",
            position=GroupPosition.DEPUTY,
        )
        person = intel.person_register(
            actor=police,
            station=w.station,
            name=REGISTER_NAME,
            id_number=REGISTER_ID,
            notes="曾在校门口扬言报复\n已约谈",
            category="revenge_threat",
            risk_level="high",
            related_schools=[w.school],
            responsible_officer=w.users["officer"],
        )
        intel.person_photo_set(actor=police, person=person, data=photo)
        clear = visitor_services.visit_check_in(
            actor=guard, school=w.school, photo=photo, **visitor(w, id_number=CLEAR_ID)
        )
        held = visitor_services.visit_check_in(
            actor=guard,
            school=w.school,
            photo=photo,
            **visitor(w, name="访客乙", id_number=REGISTER_ID, phone="13900139000"),
        )
        assert (clear.screening, held.screening) == ("clear", "hold")
        bus = make_bus(w.school)
        route = make_route(w.school, bus=bus, driver=make_driver(w.school), safety_officer=w.staff)
        add_rider(route, w.child)
        inspection = inspection_services.inspection_record(
            actor=w.users["officer"],
            plate=bus.plate,
            riders_counted=12,
            notes="车况良好\n灭火器有效",
        )
        return {
            "case": case.pk,
            "drill": drill.pk,
            "group": group.pk,
            "person": person.pk,
            "clear": clear.pk,
            "held": held.pk,
            "route": route.pk,
            "inspection": inspection.pk,
        }

    w.pk = _in_a_thread(build)
    w.yesterday = yesterday
    return w


def _style(page, selector: str, prop: str) -> str:
    return page.evaluate(
        "([s, p]) => getComputedStyle(document.querySelector(s))[p]", [selector, prop]
    )


def _rems(page, selector: str, prop: str) -> float:
    """A computed length in rem (Pico scales the root font with the viewport)."""
    return page.evaluate(
        "([s, p]) => parseFloat(getComputedStyle(document.querySelector(s))[p])"
        " / parseFloat(getComputedStyle(document.documentElement).fontSize)",
        [selector, prop],
    )


def _visit(page, url: str, ready: str) -> None:
    response = page.goto(f"{page.base_url}{url}")
    assert response.ok, f"{url}: {response.status}"
    page.locator(ready).first.wait_for()
    _clean(page, url)


def _hover_tooltip(page, chart: str) -> str:
    """Point at the middle of a drawn chart; the tooltip's text (built as elements)."""
    page.locator(f"{chart} canvas").first.wait_for()
    page.locator(chart).first.hover()  # scrolled into view, the pointer on its middle
    tip = page.locator(f"{chart} .hx-chart-tip").first
    tip.wait_for()
    assert tip.locator(".hx-chart-tip-row").count() >= 1
    return tip.inner_text()


def test_pages_that_carried_styles_have_no_csp_violation(styled, watched):
    w, pk = styled, styled.pk
    principal = watched()
    log_in(principal, "principal", PASSWORD)

    # The duty day: the bar's stretches are SVG rects placed by their own x and width.
    day = reverse("duty:monitoring", args=[w.school.pk])
    _visit(principal, f"{day}?date={w.yesterday:%Y-%m-%d}", "[data-testid=segment-anomaly]")
    covered = principal.locator("[data-testid=segment-covered]").first
    assert covered.get_attribute("x") == "37.500%"  # 09:00 of 24 h
    bar = principal.get_by_test_id("coverage-bar").bounding_box()
    box = covered.bounding_box()
    assert abs((box["x"] - bar["x"]) / bar["width"] - 0.375) < 0.01
    assert abs(box["width"] / bar["width"] - 3 / 24) < 0.01  # 09:00–12:00
    assert _style(principal, "[data-testid=segment-covered]", "fill") == "rgb(46, 158, 91)"
    # The abnormal hour is drawn over the watched stretch around it (it comes last).
    anomaly = principal.locator("[data-testid=segment-anomaly]").bounding_box()
    on_top = principal.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).dataset.testid",
        [anomaly["x"] + anomaly["width"] / 2, anomaly["y"] + anomaly["height"] / 2],
    )
    assert on_top == "segment-anomaly"
    screenshot(principal, "csp-duty-day")
    _visit(principal, day, "[data-testid=segment-future]")

    _visit(
        principal, reverse("health:case", args=[pk["case"]]), "[data-testid=four-party-directory]"
    )
    assert _rems(principal, ".hx-health-directory", "borderTopLeftRadius") == pytest.approx(
        0.5, abs=0.01
    )

    _visit(
        principal,
        reverse("drills:drill_record", args=[pk["drill"]]),
        "[data-testid=drill-duration]",
    )
    assert _style(principal, ".hx-act-center", "textAlign") == "center"

    _visit(principal, reverse("access:visit_hold", args=[pk["held"]]), "[data-testid=visit-photo]")
    assert _rems(principal, "[data-testid=visit-photo]", "maxWidth") == pytest.approx(12, abs=0.01)

    _visit(principal, reverse("transport:route_detail", args=[pk["route"]]), ".hx-fl-flush")
    assert _style(principal, ".hx-fl-flush", "marginBottom") == "0px"
    _visit(
        principal,
        reverse("transport:route_riders_add", args=[pk["route"]]),
        "[data-testid=class-pick]",
    )
    assert _rems(principal, ".hx-fl-pick label", "flexBasis") == pytest.approx(12, abs=0.01)
    assert _style(principal, ".hx-fl-pick button", "alignSelf") == "end"
    _visit(
        principal,
        reverse("transport:inspection_detail", args=[pk["inspection"]]),
        ".hx-insp-note",
    )
    assert _style(principal, ".hx-insp-note", "whiteSpace") == "pre-line"

    _visit(principal, reverse("security:defence", args=[w.school.pk]), "main h1")
    _visit(principal, reverse("health:checks", args=[w.school.pk]), "main h1")

    # The scorecard's trend chart, with its tooltip shown.
    _visit(principal, reverse("reports:scorecard", args=[w.school.pk]), "#scorecard-chart")
    assert _rems(principal, "#scorecard-chart", "height") == pytest.approx(22, abs=0.01)
    assert _hover_tooltip(principal, "#scorecard-chart")
    _clean(principal, "scorecard tooltip")
    screenshot(principal, "csp-scorecard-tooltip")

    guard = watched()
    log_in(guard, "guard", PASSWORD)
    _visit(guard, reverse("access:visit_detail", args=[pk["clear"]]), "[data-testid=visit-photo]")
    assert _rems(guard, "[data-testid=visit-photo]", "maxWidth") == pytest.approx(12, abs=0.01)

    police = watched()
    log_in(police, "police", PASSWORD)
    _visit(
        police, reverse("intel:register_detail", args=[pk["person"]]), "[data-testid=person-photo]"
    )
    assert _rems(police, "[data-testid=person-photo]", "maxHeight") == pytest.approx(16, abs=0.01)
    assert _style(police, ".hx-reg-text", "whiteSpace") == "pre-wrap"
    police.goto(f"{police.base_url}/alarms/console/")
    police.locator("[data-testid=console-connection][data-state=live]").wait_for()
    assert _style(police, ".hx-console-head", "display") == "flex"
    assert (
        _style(police, "[data-testid=console-connection]", "backgroundColor")
        == "rgb(227, 243, 228)"
    )
    _clean(police, "alarm console")

    gov = watched()
    log_in(gov, "gov", PASSWORD)
    _visit(
        gov,
        reverse("supervision:meetings_group_detail", args=[pk["group"]]),
        "[data-testid=member-row]",
    )
    assert _rems(gov, ".hx-lg-member", "paddingLeft") == pytest.approx(1, abs=0.01)
    assert _style(gov, ".hx-lg-inline", "display") == "inline"

    county = watched()
    log_in(county, "county", PASSWORD)
    _visit(county, "/reports/dashboard/", "[data-chart=hours]")
    county.locator("[data-testid=dashboard-connection][data-state=live]").wait_for()
    assert _hover_tooltip(county, "[data-chart=hours]")
    _clean(county, "dashboard tooltip")
    screenshot(county, "csp-dashboard-tooltip")

    # The policy and the recorder do catch an inline style, as an attribute and as an element.
    county.evaluate(
        "() => { const d = document.createElement('div');"
        " d.innerHTML = '<p style=\"color: red\">x</p><style>main { display: none }</style>';"
        " document.body.appendChild(d); }"
    )
    county.wait_for_function("() => window.__csp.length >= 2")
    assert sorted({v.split(" ")[0] for v in county.evaluate("window.__csp")}) == [
        "style-src-attr",
        "style-src-elem",
    ]
    assert _style(county, "main", "display") != "none"
