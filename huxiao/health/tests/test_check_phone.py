"""The class check sheet on a phone (390×844) in real Chromium: `teacher` ticks two children
as they pass the checkpoint, opens a third's row, types a fever and ticks cough, sends them
to the observation room and saves with the sticky button. The page never scrolls sideways;
the ticked children carry the times the script recorded (on the server's clock), the
others the save time; the unwell child is listed with the link to report a suspected case.
Skipped where Chromium is missing (tests/e2e/conftest.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.health import check_services as services
from huxiao.health.models import ChildCheck, HealthCheck
from huxiao.health.tests.check_fixtures import *  # noqa: F403
from tests.e2e.conftest import browser, log_in, screenshot  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "check-pw-9"
PHONE = {"width": 390, "height": 844}


def _no_sideways_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_teacher_takes_the_morning_check_on_a_phone(klass, browser, live_server):  # noqa: F811
    teacher = klass.world.users["teacher"]
    teacher.set_password(PASSWORD)
    teacher.save()
    first, second, sick, last = klass.children
    context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.base_url = live_server.url
        log_in(page, "teacher", PASSWORD)
        url = reverse("health:check_entry", args=[klass.school_class.pk, "morning"])
        page.goto(f"{live_server.url}{url}")
        assert _no_sideways_scroll(page)

        # Tick two children as they pass (the ✓ appears with the script).
        page.get_by_test_id(f"row-{first.pk}").locator(".hx-ck-tick").click()
        page.wait_for_timeout(1100)
        page.get_by_test_id(f"row-{second.pk}").locator(".hx-ck-tick").click()

        row = page.get_by_test_id(f"row-{sick.pk}")
        row.locator("summary").click()
        row.locator(f'input[name="t-{sick.pk}"]').fill("38.4")
        row.get_by_label("咳嗽").check()
        row.get_by_label("送观察室").check()
        assert "hx-ck-unwell" in (row.get_attribute("class") or "")
        assert page.get_by_test_id("count-unwell").inner_text() == "1"
        assert _no_sideways_scroll(page)
        screenshot(page, "health-check-sheet-phone")

        save = page.get_by_test_id("save-check")
        assert save.bounding_box()["height"] >= 44
        save.click()
        page.get_by_test_id(f"unwell-{sick.pk}").wait_for()
        assert page.get_by_test_id(f"report-{sick.pk}").is_visible()
        assert _no_sideways_scroll(page)
    finally:
        context.close()

    check = HealthCheck.objects.get()
    assert (check.checked, check.unwell) == (4, 1)
    times = dict(ChildCheck.objects.values_list("child_id", "checked_at"))
    assert times[first.pk] < times[second.pk] < check.recorded_at
    assert (times[second.pk] - times[first.pk]).total_seconds() >= 1
    assert times[last.pk] == check.recorded_at  # not ticked: the save time
    result = ChildCheck.objects.get(child=sick)
    assert result.symptoms == ["fever", "cough"] and result.action == "observation"


def test_every_check_page_fits_a_phone(klass, browser, live_server):  # noqa: F811
    w = klass.world
    w.school.is_boarding = True
    w.school.save()
    principal = w.users["principal"]
    principal.set_password(PASSWORD)
    principal.save()
    services.attendance_record(
        actor=principal,
        school_class_id=klass.school_class.pk,
        date=timezone.localdate(),
        absences=[
            {"child_id": klass.children[0].pk, "cause": "illness", "symptoms": ["fever"]},
            {"child_id": klass.children[1].pk, "cause": "unknown"},
        ],
    )
    c, s = klass.school_class.pk, w.school.pk
    urls = [
        reverse("health:check_home"),
        reverse("health:checks", args=[s]),
        reverse("health:attendance", args=[c]),
        reverse("health:follow_ups", args=[s]),
        reverse("health:dining", args=[c]),
        reverse("health:dorms", args=[s]),
        reverse("health:class_staff", args=[c]),
        reverse("health:child", args=[klass.children[0].pk]),
    ]
    context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.base_url = live_server.url
        log_in(page, "principal", PASSWORD)
        for url in urls:
            page.goto(f"{live_server.url}{url}")
            assert _no_sideways_scroll(page), url
        screenshot(page, "health-child-record-phone")
        page.goto(f"{live_server.url}{reverse('health:attendance', args=[c])}")
        screenshot(page, "health-attendance-phone")
    finally:
        context.close()


# Every visible link, button, field and toggle of the page's content, with its size; a
# checkbox or radio inside its label counts as the label.
_SMALL_TARGETS = """() => {
  const found = [];
  const targets = "main a, main button, main input:not([type=hidden]), main select, main summary,"
    + " main label:has(input[type=checkbox]), main label:has(input[type=radio])";
  for (const el of document.querySelectorAll(targets)) {
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height || getComputedStyle(el).visibility === "hidden") continue;
    if (el.matches("input[type=checkbox], input[type=radio]") && el.closest("label")) continue;
    if (box.width < 43.5 || box.height < 43.5) {
      const text = (el.getAttribute("href") || el.textContent || el.name || "").trim();
      found.push(`${el.tagName} ${text.slice(0, 40)} ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return found;
}"""


def test_every_link_and_toggle_is_thumb_sized(klass, browser, live_server):  # noqa: F811
    """At 390 px every tap target of the check, directory and home pages is at least 44 px
    each way, also links inside lists and headings (a child's name, the follow-ups, a
    school's row, "add" beside a party, the way back)."""
    from huxiao.health import directory_services

    w = klass.world
    users = {name: w.users[name] for name in ("principal", "health")}
    for user in users.values():
        user.set_password(PASSWORD)
        user.save()
    day = timezone.localdate()
    services.attendance_record(
        actor=users["principal"],
        school_class_id=klass.school_class.pk,
        date=day,
        absences=[{"child_id": klass.children[0].pk, "cause": "illness", "symptoms": ["fever"]}],
    )
    directory_services.health_contact_create(
        actor=users["principal"],
        school=w.school,
        party="school",
        name="王校长",
        phone="13812345678",
    )
    c, s = klass.school_class.pk, w.school.pk
    pages = {
        "principal": [
            reverse("health:attendance", args=[c]),
            reverse("health:follow_ups", args=[s]),
            reverse("health:directory", args=[s]),
            reverse("health:directory_new", args=[s]),
            reverse("health:home"),
        ],
        "health": [
            reverse("health:check_home"),
            reverse("health:follow_ups", args=[s]),
            reverse("health:home"),
        ],
    }
    small = {}
    for who, urls in pages.items():
        context = browser.new_context(
            locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True
        )
        try:
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.base_url = live_server.url
            log_in(page, who, PASSWORD)
            for url in urls:
                page.goto(f"{live_server.url}{url}")
                page.evaluate(
                    "() => document.querySelectorAll('details').forEach(d => d.open = true)"
                )
                assert _no_sideways_scroll(page), url
                found = page.evaluate(_SMALL_TARGETS)
                if found:
                    small[f"{who} {url}"] = found
        finally:
            context.close()
    assert not small, small
