"""The case pages fit a phone held upright (390 px, no horizontal scroll) in real Chromium,
and their buttons and button-like links are at least 44 px tall."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.health.choices import Step
from huxiao.health.models import CaseContact
from huxiao.health.tests.case_fixtures import attendance, make_case
from huxiao.people.tests.factories import ChildFactory, GuardianFactory
from tests.e2e.conftest import browser, screenshot  # noqa: F401 - the browser fixture

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "case-phone-pw-1"
PHONE = {"width": 390, "height": 844}


def _log_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")


def _fits(page, name):
    screenshot(page, f"case-{name}")
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        """() => [...document.querySelectorAll('main *')]
          .filter(e => e.getBoundingClientRect().right > 392)
          .slice(0, 6).map(e => e.tagName + '.' + e.className)"""
    )
    assert width <= PHONE["width"], f"{name} is {width}px wide: {wide}"
    short = page.evaluate(
        """() => [...document.querySelectorAll(
              'main button, main a[role=button], main summary, main a[href^="tel:"]')]
          .filter(b => b.offsetParent && b.getBoundingClientRect().height < 44)
          .map(b => b.tagName + ' ' + b.textContent.trim())"""
    )
    assert not short, f"{name}: targets under 44 px: {short}"


@pytest.mark.parametrize("who", ["principal", "teacher"])
def test_case_pages_fit_the_phone(hworld, browser, live_server, who):  # noqa: F811
    w = hworld
    w.school.name = "大杨树镇第一实验幼儿园（东校区）"
    w.school.save(update_fields=["name"])
    w.school_class.head_teacher = w.staff
    w.school_class.save()
    today = timezone.localdate()
    mates = [ChildFactory(school_class=w.school_class, name=f"欧阳可馨{n}号同学") for n in range(4)]
    for mate in mates:
        GuardianFactory(child=mate, name=f"{mate.name}的妈妈", phone="13911112222")
    attendance(w.school_class, today)
    case = make_case(
        w,
        onset=today,
        steps=[Step.VERIFIED, Step.STARTED],
        suspected_disease="手足口病（疑似，待卫生院确认）",
    )
    for mate in mates:
        CaseContact.objects.create(case=case, child=mate, reasons=[])
    user = w.users[who]
    user.set_password(PASSWORD)
    user.save()
    context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        base = live_server.url
        _log_in(page, base, user.username)
        pages = {"report": reverse("health:case_report", args=[w.school_class.pk])}
        if who == "principal":
            pages |= {
                "case": reverse("health:case", args=[case.pk]),
                "contacts": reverse("health:case_contacts", args=[case.pk]),
                "list": reverse("health:cases"),
            }
        else:
            case.reported_by = user
            case.save(update_fields=["reported_by"])
            pages["reported"] = reverse("health:case_reported", args=[case.pk])
        for name, path in pages.items():
            page.goto(base + path)
            _fits(page, f"{name}-{who}")
    finally:
        context.close()
