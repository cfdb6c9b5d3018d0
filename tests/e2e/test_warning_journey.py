"""Warnings both ways in real Chromium (ADR 0019), two browsers side by side.

School → police: the kindergarten's `guard` reports a warning sign through the page form;
the station commander `police` finds it in the inbox, takes it into assessment and closes it
with a note; the guard's page shows each new state and the police's feedback.

Police → schools: `police` issues an early warning to the kindergarten; the guard sees it in
force on the school's home page, opens it and confirms receipt; the commander's page shows
who acknowledged, and the school home no longer asks for it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.intel.models import EarlyWarning, EarlyWarningRecipient, WarningSign
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "journey-pw-5"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
NAMES = {"guard": ("国强", "张"), "police": ("志刚", "赵")}


@pytest.fixture
def people(world):
    for username, (first, last) in NAMES.items():
        user = world.users[username]
        user.set_password(PASSWORD)
        user.first_name, user.last_name = first, last
        user.save()
    return world


@pytest.fixture
def open_page(browser, live_server):
    contexts = []

    def open_(viewport=DESKTOP):
        context = browser.new_context(locale="zh-CN", viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        return page

    yield live_server.url, open_
    for context in contexts:
        context.close()


def _log_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")


def _local(moment: dt.datetime) -> str:
    """The value a datetime-local input holds, in the platform's time zone."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_guard_reports_a_warning_sign_police_assess_it_and_the_guard_reads_the_feedback(
    people, open_page
):
    world = people
    base, open_ = open_page
    guard = open_(PHONE)
    police = open_()

    # The guard, on a phone: the warnings entry, then the report form.
    _log_in(guard, base, "guard")
    guard.get_by_role("link", name="预警与苗头信息").first.click()
    guard.wait_for_url(f"{base}/intel/warnings/signs/")
    assert guard.get_by_test_id("sign-list-title").inner_text() == "本校上报的苗头性信息"
    assert guard.get_by_test_id("no-signs").is_visible()
    guard.get_by_test_id("sign-new").click()
    guard.wait_for_url(f"{base}/intel/warnings/signs/new/")
    assert guard.get_by_role("heading", name="上报苗头性信息").is_visible()

    # Sent empty, the form answers in place and nothing is written.
    guard.get_by_role("button", name="发送").click()
    guard.locator(".hx-error").first.wait_for()
    assert not WarningSign.objects.exists()

    guard.get_by_label("类别").select_option(label="可疑车辆")
    guard.get_by_label("发现的情况").fill(
        "一辆无牌白色面包车连续两天放学时段停在东门对面，车内有人向校内张望。"
    )
    guard.get_by_label("发现时间").fill(_local(timezone.now() - dt.timedelta(minutes=20)))
    guard.get_by_label("发现地点").fill("东门对面路边")
    guard.get_by_label("特殊时间节点").select_option(label="上下学接送时段")
    screenshot(guard, "warning-sign-report-phone")
    guard.get_by_role("button", name="发送").click()
    guard.get_by_text("苗头性信息已上报公安。").wait_for()
    sign = WarningSign.objects.get()
    guard.wait_for_url(f"{base}/intel/warnings/signs/{sign.pk}/")
    assert (sign.school, sign.reported_by, sign.category, sign.time_node) == (
        world.school,
        world.users["guard"],
        "suspicious_vehicle",
        "pickup_time",
    )
    assert guard.get_by_test_id("sign-title").inner_text() == "可疑车辆"
    assert guard.get_by_test_id("sign-status").inner_text() == "已上报"
    # The school reads; only the police assess.
    assert guard.get_by_test_id("sign-transition").count() == 0

    # The commander's inbox lists it under the school's name.
    _log_in(police, base, "police")
    police.goto(f"{base}/intel/warnings/signs/")
    assert police.get_by_test_id("sign-list-title").inner_text() == "学校上报的苗头性信息"
    row = police.get_by_test_id(f"sign-{sign.pk}")
    assert "本园" in row.inner_text() and "已上报" in row.inner_text()
    assert "无牌白色面包车" in row.inner_text()
    assert police.get_by_test_id("sign-new").count() == 0
    row.get_by_role("link", name="可疑车辆").click()
    police.wait_for_url(f"{base}/intel/warnings/signs/{sign.pk}/")

    # A move without its note is refused in place; "being assessed" comes first.
    form = police.get_by_test_id("sign-transition")
    status = form.get_by_label("新状态")
    assert [o.strip() for o in status.locator("option").all_inner_texts()] == ["研判中"]
    form.get_by_role("button", name="保存").click()
    police.get_by_test_id("sign-transition").locator(".hx-error").first.wait_for()
    sign.refresh_from_db()
    assert sign.status == "reported"

    form = police.get_by_test_id("sign-transition")
    form.get_by_label("新状态").select_option(label="研判中")
    form.get_by_label("说明（学校将看到此反馈）").fill("已安排护学岗民警放学时段到东门核查该车辆。")
    form.get_by_role("button", name="保存").click()
    police.get_by_text("苗头性信息已更新，学校可看到您的说明。").wait_for()
    assert police.get_by_test_id("sign-status").inner_text() == "研判中"

    # The guard's page follows.
    guard.reload()
    assert guard.get_by_test_id("sign-status").inner_text() == "研判中"
    assert "已安排护学岗民警" in guard.get_by_test_id("sign-feedback").inner_text()

    # Police close it: action taken, with what was done.
    form = police.get_by_test_id("sign-transition")
    form.get_by_label("新状态").select_option(label="已处置")
    form.get_by_label("说明（学校将看到此反馈）").fill(
        "经查系送货车辆，司机已被提醒不得在校门口长时间停留。"
    )
    form.get_by_role("button", name="保存").click()
    police.get_by_text("苗头性信息已更新，学校可看到您的说明。").wait_for()
    assert police.get_by_test_id("sign-status").inner_text() == "已处置"
    # A closed sign offers no further move.
    assert police.get_by_test_id("sign-transition").count() == 0
    timeline = police.get_by_test_id("sign-timeline").inner_text()
    assert "赵志刚" in timeline and "张国强" in timeline
    screenshot(police, "warning-sign-police-closed")

    # The guard's list and page show the outcome and the police's feedback.
    guard.goto(f"{base}/intel/warnings/signs/")
    row = guard.get_by_test_id(f"sign-{sign.pk}")
    assert "已处置" in row.inner_text()
    assert "公安反馈" in row.inner_text() and "送货车辆" in row.inner_text()
    row.get_by_role("link", name="可疑车辆").click()
    guard.wait_for_url(f"{base}/intel/warnings/signs/{sign.pk}/")
    assert guard.get_by_test_id("sign-status").inner_text() == "已处置"
    assert "送货车辆" in guard.get_by_test_id("sign-feedback").inner_text()
    screenshot(guard, "warning-sign-guard-feedback")

    sign.refresh_from_db()
    assert sign.status == "action_taken" and sign.handled_by == world.users["police"]
    assert sign.closed_at is not None
    assert guard.errors == [] and police.errors == []


def test_police_issue_an_early_warning_the_guard_confirms_receipt_and_police_see_it(
    people, open_page
):
    world = people
    base, open_ = open_page
    police = open_()
    guard = open_(PHONE)

    # The commander issues a warning to the kindergarten only.
    _log_in(police, base, "police")
    police.goto(f"{base}/intel/warnings/early/")
    police.get_by_test_id("early-new").click()
    police.wait_for_url(f"{base}/intel/warnings/early/new/")
    assert police.get_by_role("heading", name="发布预警").is_visible()
    # The schools offered are those of the station, never another station's.
    offered = police.locator("input[name=school_ids]")
    assert offered.count() == 2
    assert police.get_by_label("外镇学校").count() == 0

    now = timezone.now()
    police.get_by_label("标题").fill("在逃人员协查：驾驶灰色轿车男子")
    police.get_by_label("内容").fill(
        "男，约35岁，驾驶灰色轿车，可能在学校周边出现。发现后请勿接触，立即拨打110。"
    )
    police.get_by_label("级别").select_option("orange")
    police.get_by_label("生效时间").fill(_local(now - dt.timedelta(minutes=5)))
    police.get_by_label("失效时间").fill(_local(now + dt.timedelta(days=2)))
    police.get_by_label("本园", exact=True).check()
    police.get_by_role("button", name="发送").click()
    police.get_by_text("预警已发布。").wait_for()
    warning = EarlyWarning.objects.get()
    police.wait_for_url(f"{base}/intel/warnings/early/{warning.pk}/")
    assert police.get_by_test_id("early-title").inner_text() == "在逃人员协查：驾驶灰色轿车男子"
    assert police.get_by_test_id("early-receipt-count").inner_text() == "1 所学校中已有 0 所签收。"
    receipt = police.get_by_test_id(f"recipient-{world.school.pk}")
    assert receipt.get_attribute("data-acked") == "0"
    assert "未签收" in receipt.inner_text()
    assert police.get_by_test_id(f"recipient-{world.other_school.pk}").count() == 0
    # Police do not acknowledge for the school.
    assert police.get_by_test_id(f"ack-{warning.pk}").count() == 0
    screenshot(police, "early-warning-issued")

    # The guard's home page: the warning in force, not yet acknowledged.
    _log_in(guard, base, "guard")
    active = guard.get_by_test_id(f"active-early-{warning.pk}")
    active.wait_for()
    assert "在逃人员协查" in active.inner_text()
    assert "尚未签收" in active.inner_text()
    screenshot(guard, "early-warning-school-home")
    active.get_by_role("link", name="在逃人员协查：驾驶灰色轿车男子").click()
    guard.wait_for_url(f"{base}/intel/warnings/early/{warning.pk}/")
    assert "请勿接触" in guard.content()
    # A school sees its own receipt, and no other school's, nor the count.
    assert guard.get_by_test_id("early-receipt-count").count() == 0
    guard.get_by_test_id(f"ack-{warning.pk}").click()
    guard.get_by_text("已签收。").wait_for()
    receipt = guard.get_by_test_id(f"recipient-{world.school.pk}")
    assert receipt.get_attribute("data-acked") == "1"
    assert "张国强" in receipt.inner_text()
    assert guard.get_by_test_id(f"ack-{warning.pk}").count() == 0

    # Back home the warning is still shown, no longer waiting for the school.
    guard.goto(f"{base}/")
    active = guard.get_by_test_id(f"active-early-{warning.pk}")
    active.wait_for()
    assert "尚未签收" not in active.inner_text()

    # The commander reloads: the kindergarten has acknowledged, and who did.
    police.reload()
    assert police.get_by_test_id("early-receipt-count").inner_text() == "1 所学校中已有 1 所签收。"
    receipt = police.get_by_test_id(f"recipient-{world.school.pk}")
    assert receipt.get_attribute("data-acked") == "1"
    assert "张国强" in receipt.inner_text()
    police.goto(f"{base}/intel/warnings/early/")
    assert "1 所学校中已有 1 所签收。" in police.get_by_test_id(f"early-{warning.pk}").inner_text()
    screenshot(police, "early-warning-acknowledged")

    recipient = EarlyWarningRecipient.objects.get(warning=warning)
    assert recipient.school == world.school
    assert recipient.acknowledged_by == world.users["guard"]
    assert guard.errors == [] and police.errors == []
