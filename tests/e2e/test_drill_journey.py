"""The weekly drill journey of issue 8 in real Chromium, on a phone held upright (390×844).

`teacher` (李静's role at the kindergarten) opens 安全教育与演练, starts this week's fire
drill, taps the big "signal now" button at the assembly point, watches the elapsed time
run, taps "everyone is out now" a few seconds later, enters the headcount counted at the
assembly point and reads the evacuation time (mm:ss). No page is wider than the phone.

The live server and the browser share the real clock (a patched clock would expire the
browser's session cookie)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.drills.choices import ActivityKind, ActivityStatus
from huxiao.drills.models import Activity, DrillRecord
from tests.e2e.conftest import log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "journey-pw-8"
PHONE = {"width": 390, "height": 844}
ENROLMENT = 90


@pytest.fixture
def kindergarten(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    world.users["teacher"].set_password(PASSWORD)
    world.users["teacher"].save()
    school = world.school
    school.enrolment = ENROLMENT
    school.save(update_fields=["enrolment"])
    return school


def _fits_the_phone(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide"


def test_teacher_times_this_weeks_drill_on_the_phone(world, kindergarten, browser, live_server):
    base = live_server.url
    context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        phone = context.new_page()
        phone.set_default_timeout(15_000)
        phone.base_url = base
        log_in(phone, "teacher", PASSWORD)

        phone.goto(f"{base}{reverse('drills:activity_list')}")
        phone.get_by_test_id("activity-list-title").wait_for()
        _fits_the_phone(phone)
        phone.get_by_test_id("drill-start-link").click()
        phone.get_by_test_id("drill-start-title").wait_for()
        _fits_the_phone(phone)
        phone.locator("select[name=drill_kind]").select_option("fire")
        phone.get_by_test_id("drill-start").click()

        # The assembly point: one big button to give the signal.
        signal = phone.get_by_test_id("signal-now")
        signal.wait_for()
        box = signal.bounding_box()
        assert box["height"] >= 60 and box["width"] >= 300  # one thumb, in a crowd
        _fits_the_phone(phone)
        signal.click()
        clock = phone.get_by_test_id("drill-elapsed")
        clock.wait_for()
        phone.wait_for_function(
            # A function, not an expression: an expression is eval()ed, which the CSP forbids.
            "() => document.querySelector('[data-testid=drill-elapsed]').textContent >= '00:02'"
        )
        screenshot(phone, "drill-running-phone")
        phone.get_by_test_id("all-out-now").click()
        duration = phone.get_by_test_id("drill-duration")
        duration.wait_for()
        text = duration.inner_text().strip()
        minutes, seconds = (int(part) for part in text.split(":"))
        assert 2 <= minutes * 60 + seconds <= 60

        # The headcount: the expected number is the school's enrolment, already filled in.
        assert phone.locator("input[name=expected_headcount]").input_value() == str(ENROLMENT)
        phone.locator("input[name=counted_headcount]").fill(str(ENROLMENT))
        phone.get_by_test_id("counts-save").click()
        phone.get_by_test_id("drill-duration").wait_for()
        assert phone.locator("input[name=counted_headcount]").input_value() == str(ENROLMENT)
        _fits_the_phone(phone)
        screenshot(phone, "drill-recorded-phone")

        activity = Activity.objects.get(school=kindergarten)
        assert activity.kind == ActivityKind.DRILL and activity.status == ActivityStatus.HELD
        today = timezone.localdate()
        assert activity.date == today
        record = DrillRecord.objects.get(activity=activity)
        assert record.counted_headcount == record.expected_headcount == ENROLMENT
        assert record.duration_seconds == minutes * 60 + seconds

        # The activity's page and the list show it.
        phone.goto(f"{base}{reverse('drills:activity_detail', args=[activity.pk])}")
        assert phone.get_by_test_id("drill-duration").inner_text().strip() == text
        _fits_the_phone(phone)
        phone.goto(f"{base}{reverse('drills:activity_list')}")
        assert phone.get_by_test_id("row-duration").count() == 1
        _fits_the_phone(phone)
        screenshot(phone, "drill-list-phone")
        phone.get_by_test_id("activity-new").click()
        phone.get_by_test_id("activity-form").wait_for()
        _fits_the_phone(phone)
        screenshot(phone, "activity-form-phone")
    finally:
        context.close()
