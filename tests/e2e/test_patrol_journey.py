"""The gate-post journey in real Chromium, two browsers side by side: `police` (the station
commander) opens the coverage page — nobody at the kindergarten's afternoon post yet; the
`officer`, on a phone, checks in at that post with the police car and its lights on (the
phone's position is given); the commander reloads and sees 见警察, 见警车 and 见警灯.

The post's window is put around the present moment (the live server and the browser share
the real clock; a patched clock would expire the browser's session cookie)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.patrols import services
from huxiao.patrols.choices import Period, StaffKind
from huxiao.patrols.models import PostCheckIn, PostShift
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "journey-pw-4"
PHONE = {"width": 390, "height": 844}


def _window_around_now() -> tuple[dt.time, dt.time]:
    now = timezone.localtime()
    # Started two minutes ago: the officer is on time (the grace is five minutes).
    start = max(now - dt.timedelta(minutes=2), now.replace(hour=0, minute=0))
    end = min(now + dt.timedelta(minutes=40), now.replace(hour=23, minute=59))
    return start.time().replace(second=0, microsecond=0), end.time().replace(
        second=0, microsecond=0
    )


@pytest.fixture
def afternoon_post(world):
    for name in ("officer", "police"):
        world.users[name].set_password(PASSWORD)
        world.users[name].first_name, world.users[name].last_name = (
            ("伟", "陈") if name == "officer" else ("志刚", "赵")
        )
        world.users[name].save()
    starts, ends = _window_around_now()
    post = services.gate_post_create(
        actor=world.users["police"],
        school=world.school,
        period=Period.AFTERNOON,
        location="幸福路8号园门口",
        windows=[
            {"weekday": day, "starts": f"{starts:%H:%M}", "ends": f"{ends:%H:%M}"}
            for day in range(7)
        ],
    )
    services.gate_post_staff_add(
        actor=world.users["police"], post=post, kind=StaffKind.POLICE, user=world.users["officer"]
    )
    return post


def _log_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")


def test_officer_checks_in_and_the_commander_sees_the_coverage(
    world, afternoon_post, browser, live_server
):
    base = live_server.url
    commander_context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    phone_context = browser.new_context(
        locale="zh-CN",
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        geolocation={"latitude": 39.612345, "longitude": 116.654321, "accuracy": 18},
        permissions=["geolocation"],
    )
    try:
        commander = commander_context.new_page()
        commander.set_default_timeout(15_000)
        phone = phone_context.new_page()
        phone.set_default_timeout(15_000)

        # The commander opens the coverage page: the post is under way, nobody is there.
        _log_in(commander, base, "police")
        commander.goto(f"{base}/patrols/coverage/")
        assert commander.get_by_test_id("total-shifts").inner_text() == "1"
        assert commander.get_by_test_id("total-police").inner_text() == "0%"
        assert commander.get_by_test_id("total-three").inner_text() == "0%"
        shift = PostShift.objects.get(post=afternoon_post, date=timezone.localdate())
        assert commander.get_by_test_id(f"police-{shift.pk}").get_attribute("data-on") == "0"
        screenshot(commander, "patrol-coverage-before")

        # The officer, on the phone: the day's posts, the kindergarten's, the big button.
        _log_in(phone, base, "officer")
        phone.goto(f"{base}/patrols/")
        card = phone.get_by_test_id(f"shift-{shift.pk}")
        assert world.school.name in card.inner_text()
        phone.get_by_test_id(f"check-in-{afternoon_post.pk}").click()
        phone.wait_for_url(f"{base}/patrols/posts/{afternoon_post.pk}/checkin/")
        # The phone's position arrives (the person allowed it).
        phone.wait_for_function(
            # A function, not an expression: an expression is eval()ed, which the CSP forbids.
            "() => document.querySelector('[data-testid=checkin-form]').elements.latitude.value"
            " !== ''"
        )
        phone.locator("input[name=vehicle_present]").check()
        phone.locator("input[name=lights_on]").check()
        screenshot(phone, "patrol-checkin-phone")
        phone.get_by_test_id("checkin-submit").click()
        phone.wait_for_url(f"{base}/patrols/")
        card = phone.get_by_test_id(f"shift-{shift.pk}")
        assert card.get_by_test_id(f"police-{shift.pk}").get_attribute("data-on") == "1"
        assert card.get_by_test_id(f"lights-{shift.pk}").get_attribute("data-on") == "1"
        screenshot(phone, "patrol-today-phone")

        check_in = PostCheckIn.objects.get(shift=shift)
        assert check_in.user == world.users["officer"] and check_in.kind == StaffKind.POLICE
        assert check_in.vehicle_present and check_in.lights_on
        assert float(check_in.latitude) == pytest.approx(39.612345)
        assert check_in.accuracy_m == 18

        # A second press is refused with its reason, in place.
        phone.goto(f"{base}/patrols/posts/{afternoon_post.pk}/checkin/")
        phone.get_by_test_id("checkin-submit").click()
        refusal = phone.get_by_test_id("refusal")
        assert refusal.get_attribute("data-code") == "duplicate"
        assert PostCheckIn.objects.filter(shift=shift).count() == 1

        # The commander reloads: 见警察, 见警车, 见警灯 — the 三见 rate is 100 %.
        commander.reload()
        assert commander.get_by_test_id("total-police").inner_text() == "100%"
        assert commander.get_by_test_id("total-car").inner_text() == "100%"
        assert commander.get_by_test_id("total-three").inner_text() == "100%"
        for flag in ("police", "car", "lights"):
            cell = commander.get_by_test_id(f"{flag}-{shift.pk}")
            assert cell.get_attribute("data-on") == "1"
        school_row = commander.get_by_test_id(f"coverage-by-school-{world.school.pk}-three")
        assert school_row.inner_text() == "100%"
        screenshot(commander, "patrol-coverage-after")

        # The shift's page shows who came, when, and the phone's position.
        commander.goto(f"{base}/patrols/shifts/{shift.pk}/")
        table = commander.get_by_test_id("shift-check-ins").inner_text()
        assert "陈伟" in table and "39.612345" in table
    finally:
        phone_context.close()
        commander_context.close()
