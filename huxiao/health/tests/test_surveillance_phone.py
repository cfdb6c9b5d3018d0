"""The surveillance pages fit a phone held upright (390 px, no horizontal scroll) in real
Chromium, and their buttons are at least 44 px tall."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.health import surveillance_services as services
from huxiao.health.models import Absence
from huxiao.health.tests.surveillance_fixtures import kids, sick
from tests.e2e.conftest import browser, screenshot  # noqa: F401 - the browser fixture

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "surveillance-pw-1"
PHONE = {"width": 390, "height": 844}


def _log_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")


def _fits(page, name):
    screenshot(page, f"surveillance-{name}")
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        """() => [...document.querySelectorAll('main *')]
          .filter(e => e.getBoundingClientRect().right > 392)
          .slice(0, 6).map(e => e.tagName + '.' + e.className)"""
    )
    assert width <= PHONE["width"], f"{name} is {width}px wide: {wide}"
    short = page.evaluate(
        """() => [...document.querySelectorAll('main button')]
          .filter(b => b.offsetParent && b.getBoundingClientRect().height < 44)
          .map(b => b.textContent.trim())"""
    )
    assert not short, f"{name}: buttons under 44 px: {short}"


@pytest.mark.parametrize("who", ["countyhealth", "nurse"])
def test_surveillance_pages_fit_the_phone(hworld, browser, live_server, who, monkeypatch):  # noqa: F811
    # The inbox push (async_to_sync) cannot run beside Playwright's event loop; the
    # messages are not what this test is about.
    monkeypatch.setattr(services, "notify_send_many", lambda messages: [])
    w = hworld
    w.school.name = "大杨树镇第一实验幼儿园（东校区）"
    w.school.save(update_fields=["name"])
    today = timezone.localdate()
    children = kids(w.school_class, 4, prefix="欧阳可馨")
    for child in children[:3]:
        sick(child, today, "fever", "cough")
    Absence.objects.create(
        school=w.school,
        school_class=w.school_class,
        child=children[3],
        date=today - dt.timedelta(days=1),
        cause="illness",
        recorded_at=timezone.now(),
    )
    sick(children[3], today - dt.timedelta(days=1), "vomiting", source="absence")
    alert = services.clusters_evaluate()[0]
    user = w.users[who]
    user.set_password(PASSWORD)
    user.save()
    context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        base = live_server.url
        _log_in(page, base, user.username)
        pages = {
            "alerts": reverse("health:alerts"),
            "alert": reverse("health:alert", args=[alert.pk]),
            "rules": reverse("health:rules"),
            "school": reverse("health:surveillance", args=[w.school.pk]),
            "town": reverse("health:surveillance_town"),
        }
        for name, path in pages.items():
            page.goto(base + path)
            _fits(page, f"{name}-{who}")
    finally:
        context.close()
