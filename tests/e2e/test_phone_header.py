"""Every page's header fits a phone held upright (390 px): the organization, the language
button and "log out (username)" wrap onto their own lines instead of widening the page, for
a one-membership user with a long school name and username and for a user who switches
between two organizations (the switcher's select)."""

from __future__ import annotations

import pytest

from huxiao.core.roles import Role
from huxiao.orgs.models import Membership
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "header-pw-1"
PHONE = {"width": 390, "height": 844}


def _log_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")


@pytest.mark.parametrize("who", ["principal", "officer"])
def test_home_page_header_fits_the_phone(world, browser, live_server, who):
    world.school.name = "大杨树镇第一实验幼儿园（东校区）"
    world.school.save(update_fields=["name"])
    user = world.users[who]
    user.username = f"{who}.dayangshu.long"
    user.set_password(PASSWORD)
    user.save()
    if who == "officer":  # two memberships: the organization switcher is shown
        Membership.objects.create(
            user=user, organization=world.post, role=Role.POLICE_OFFICER, title="社区民警"
        )
    context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        _log_in(page, live_server.url, user.username)
        screenshot(page, f"phone-header-{who}")
        width = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
              .filter(e => e.getBoundingClientRect().right > 392)
              .slice(0, 8).map(e => e.tagName + '.' + e.className + ' '
                + Math.round(e.getBoundingClientRect().right))"""
        )
        assert width <= PHONE["width"], f"home page is {width}px wide for {who}: {wide}"
        logout = page.get_by_role("button", name="退出").first
        assert logout.is_visible()
        box = logout.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    finally:
        context.close()
