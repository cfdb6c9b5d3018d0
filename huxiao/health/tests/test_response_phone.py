"""The response pages on a phone held upright (390 px), in real Chromium: nothing wider
than the screen, buttons and the "open a form" rows at least 44 px high, and every link
and choice (radio label) at least 44 × 44 px — the case's response panel with its forms
open, the suspension decision, the suspensions list (with pages of past suspensions), the
disinfection log, statements, monitoring plans and the aftercare tasks. Skipped (with the reason) where Chromium
is missing, like the project's other browser tests."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from huxiao.health import response_services as services
from huxiao.health.models import ClassSuspension
from huxiao.health.response_views import PAGE_SIZE
from huxiao.health.tests.response_fixtures import make_case

pytestmark = pytest.mark.django_db(transaction=True)

CHROMIUM = os.environ.get("HUXIAO_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic"]
PHONE = {"width": 390, "height": 844}
# Set to a directory to keep a screenshot of each page (for a look, not for the test).
SHOTS = os.environ.get("HUXIAO_RESPONSE_SHOTS", "")


@pytest.fixture
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"Chromium missing at {CHROMIUM}", pytrace=False)
        pytest.skip(f"Browser tests need Chromium at {CHROMIUM}. Run `make browser`.")
    return CHROMIUM


def _too_wide(page) -> list[str]:
    return page.evaluate(
        """() => [...document.querySelectorAll('body *')]
          .filter(e => e.getBoundingClientRect().right > 392)
          .slice(0, 8).map(e => e.tagName + '.' + e.className + ' '
            + Math.round(e.getBoundingClientRect().right))"""
    )


def _small_targets(page) -> list[str]:
    return page.evaluate(
        """() => [...document.querySelectorAll(
              'main button, main a[role=button], main summary')]
          .filter(e => e.offsetParent !== null)
          .filter(e => e.getBoundingClientRect().height < 44)
          .slice(0, 8).map(e => e.tagName + ' ' + (e.textContent || '').trim().slice(0, 20)
            + ' ' + Math.round(e.getBoundingClientRect().height))"""
    )


def _small_links(page) -> list[str]:
    """Links and radio choices smaller than 44 × 44 px (none of these pages has a link
    inside a sentence)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('main a, main fieldset label')]
          .filter(e => e.offsetParent !== null)
          .filter(e => { const r = e.getBoundingClientRect();
                         return r.height < 44 || r.width < 44; })
          .slice(0, 8).map(e => e.tagName + ' ' + (e.textContent || '').trim().slice(0, 20)
            + ' ' + Math.round(e.getBoundingClientRect().width) + 'x'
            + Math.round(e.getBoundingClientRect().height))"""
    )


def test_response_pages_fit_the_phone(hworld, chromium_path, live_server):
    w = hworld
    w.school.name = "大杨树镇第一实验幼儿园（东校区）"
    w.school.save(update_fields=["name"])
    case = make_case(w.school_class, w.child, reported_at=timezone.now())
    principal = w.users["principal"]
    services.disinfection_record(
        actor=principal,
        school_id=w.school.pk,
        case_id=case.pk,
        area="isolation",
        area_detail="保健室观察室（一楼东侧，靠近晨检口的那一间）",
        method="终末消毒：物表擦拭、地面拖洗，空气紫外线照射60分钟" * 2,
        done_by_name="郭秀兰",
        done_at=timezone.now(),
    )
    services.suspension_decide(
        actor=principal,
        school_id=w.school.pk,
        scope="class",
        school_class_id=w.school_class.pk,
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + dt.timedelta(days=6),
        reason="疑似手足口病" * 10,
        health_centre_opinion="建议停课七天" * 20,
        education_office_opinion="同意",
        case_id=case.pk,
    )
    services.monitoring_plan_for_case(actor=principal, case=case)
    services.aftercare_create(
        actor=principal,
        case_id=case.pk,
        kind="psychological",
        description="对小一班幼儿及家长进行心理疏导，解答家长疑问",
        assignee_id=principal.pk,
        due_on=timezone.localdate(),
    )
    services.statement_publish(
        actor=principal,
        school_id=w.school.pk,
        case_id=case.pk,
        text="我园小一班一名幼儿疑似手足口病，已按规定隔离、消毒。",
        published_at=timezone.now(),
        approved_by="镇中心校",
    )
    # Past suspensions over more than one page (the page links ‹ ›).
    long_ago = timezone.localdate() - dt.timedelta(days=400)
    ClassSuspension.objects.bulk_create(
        ClassSuspension(
            school=w.school,
            scope="class",
            school_class=w.school_class,
            starts_on=long_ago - dt.timedelta(days=3 * n),
            ends_on=long_ago - dt.timedelta(days=3 * n - 1),
            reason="流感",
            decided_at=timezone.now(),
        )
        for n in range(PAGE_SIZE + 2)
    )
    client = Client()
    client.force_login(principal)
    # Playwright's loop starts only now: the services above publish on commit (async_to_sync),
    # which cannot run in a thread that has a running event loop.
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=ARGS)
        try:
            _check_pages(browser, live_server, client, w, case)
        finally:
            browser.close()


def _check_pages(browser, live_server, client, w, case) -> None:
    context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    host = live_server.url.split("//", 1)[1].split(":")[0]
    context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "domain": host,
                "path": "/",
            }
        ]
    )
    try:
        page = context.new_page()
        for url in (
            reverse("health:case_response", args=[case.pk]),
            reverse("health:suspension_new", args=[w.school.pk]) + f"?case={case.pk}",
            reverse("health:suspensions"),
            reverse("health:suspensions") + f"?school={w.school.pk}",
            reverse("health:disinfections", args=[w.school.pk]),
            reverse("health:statements", args=[w.school.pk]) + f"?case={case.pk}",
            reverse("health:monitoring", args=[w.school.pk]),
            reverse("health:aftercare"),
        ):
            page.goto(live_server.url + url)
            assert "/accounts/login" not in page.url
            assert page.locator("main h1").count() == 1
            for summary in page.locator("main details > summary").all():
                summary.click()  # every form open
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{url} is {width}px wide: {_too_wide(page)}"
            assert not _small_targets(page), f"{url}: {_small_targets(page)}"
            assert not _small_links(page), f"{url}: {_small_links(page)}"
            if SHOTS:
                name = url.strip("/").replace("/", "-").split("?")[0]
                page.screenshot(path=f"{SHOTS}/response-{name}.png", full_page=True)
    finally:
        context.close()
