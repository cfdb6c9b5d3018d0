"""The duty journey of issue 7 in real Chromium, two browsers side by side.

On a phone (390×844), `guard` opens "My duty", checks in for tonight's night shift and walks a
round: scans the QR plates of two checkpoints (the phone's camera opens the plate's URL).
On a desk, `principal` opens the security compliance page of the kindergarten and reads what
is missing: the protective set lacks two items and the video is not networked to the police.

The shift is put around the present moment: the live server and the browser share the real
clock (a patched clock would expire the browser's session cookie)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.core.roles import OrgKind
from huxiao.duty import checkpoint_services, duty_services
from huxiao.duty.choices import DutyRole, ShiftKind
from huxiao.duty.models import CheckpointScan, DutyAssignment, DutyShift, PatrolRound
from huxiao.security.compliance import evaluate_schools
from huxiao.security.tests import compliance_fixtures as cf
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "journey-pw-7"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def kindergarten(world):
    """A 90-pupil kindergarten with one certified guard: staffing passes; two protective
    items are missing and the cameras are not networked."""
    for name in ("guard", "principal"):
        world.users[name].set_password(PASSWORD)
        world.users[name].save()
    school = world.school
    school.kind, school.enrolment, school.is_boarding = OrgKind.KINDERGARTEN, 90, False
    school.save()
    cf.guard(school, name="周保安")
    cf.staff(school, "security_officer", name="吴安全")
    cf.equipment_types(world.region)
    cf.equip(school, skip=("shield", "pepper_spray"))
    cf.defend(school)
    cf.cameras(school, 4, networked=False)
    cf.alarm_box(school)
    evaluate_schools([school.pk])
    return school


@pytest.fixture
def night_shift(world, kindergarten):
    now = timezone.now()
    shift = DutyShift.objects.create(
        school=kindergarten,
        date=timezone.localdate(),
        kind=ShiftKind.NIGHT,
        starts_at=now - dt.timedelta(minutes=5),
        ends_at=now + dt.timedelta(hours=10),
    )
    duty_services.assignment_add(
        actor=world.users["principal"],
        shift_id=shift.pk,
        user=world.users["guard"],
        role=DutyRole.GUARD,
    )
    return shift


@pytest.fixture
def plates(world, kindergarten):
    return [
        checkpoint_services.checkpoint_create(
            actor=world.users["principal"], school=kindergarten, name=name, location=where
        )
        for name, where in (("大门", "南门岗亭"), ("教学楼", "一楼走廊"))
    ]


def _log_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")


def test_guard_checks_in_and_scans_and_the_principal_reads_what_is_missing(
    world, kindergarten, night_shift, plates, browser, live_server
):
    base = live_server.url
    phone_context = browser.new_context(
        locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True
    )
    desk_context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    try:
        phone = phone_context.new_page()
        phone.set_default_timeout(15_000)
        desk = desk_context.new_page()
        desk.set_default_timeout(15_000)

        # The guard: "My duty" shows tonight's shift with the big check-in button.
        _log_in(phone, base, "guard")
        phone.goto(f"{base}{reverse('duty:home')}")
        card = phone.get_by_test_id(f"my-shift-{night_shift.pk}")
        assert "夜班" in card.inner_text()
        box = card.get_by_test_id("check-in").bounding_box()
        assert box["height"] >= 44 and box["width"] >= 150  # one thumb, at the gate
        card.get_by_test_id("check-in").click()
        phone.get_by_test_id(f"my-shift-{night_shift.pk}").get_by_test_id("checked-in").wait_for()
        screenshot(phone, "duty-checked-in-phone")
        assignment = DutyAssignment.objects.get(shift=night_shift, user=world.users["guard"])
        assert assignment.checked_in_at is not None

        # The round: the phone's camera opens each plate's URL.
        phone.goto(f"{base}{reverse('duty:scan', args=[plates[0].code])}")
        assert "1" in phone.get_by_test_id("scan-position").inner_text()
        assert "2" in phone.get_by_test_id("scan-position").inner_text()
        screenshot(phone, "duty-scan-first-phone")
        phone.goto(f"{base}{reverse('duty:scan', args=[plates[1].code])}")
        phone.get_by_test_id("round-complete").wait_for()
        screenshot(phone, "duty-scan-second-phone")
        patrol = PatrolRound.objects.get(school=kindergarten, guard=world.users["guard"])
        assert patrol.finished_at is not None
        assert set(
            CheckpointScan.objects.filter(round=patrol).values_list("checkpoint_id", flat=True)
        ) == {plates[0].pk, plates[1].pk}

        # A plate of another school is refused and nothing is written.
        other = checkpoint_services.checkpoint_create(
            actor=world.users["principal2"], school=world.other_school, name="大门"
        )
        phone.goto(f"{base}{reverse('duty:scan', args=[other.code])}")
        phone.get_by_test_id("scan-unknown").wait_for()
        assert CheckpointScan.objects.filter(checkpoint=other).count() == 0

        # The principal: the compliance page says what is missing, rule by rule.
        _log_in(desk, base, "principal")
        desk.goto(f"{base}{reverse('security:compliance_home')}")
        desk.wait_for_url(f"{base}{reverse('security:compliance_school', args=[kindergarten.pk])}")
        assert desk.get_by_test_id("compliant").get_attribute("data-value") == "0"
        missing = {
            item.get_attribute("data-rule"): item.inner_text()
            for item in desk.get_by_test_id("missing").all()
        }
        assert "equipment_complete" in missing and "video_networked" in missing
        assert "盾牌" in missing["equipment_complete"]
        assert "防暴喷雾" in missing["equipment_complete"]
        staffing = desk.locator("[data-testid=verdict][data-rule=guards_staffing]")
        assert staffing.get_attribute("data-verdict") == "pass"
        screenshot(desk, "compliance-school-desk")
    finally:
        phone_context.close()
        desk_context.close()
