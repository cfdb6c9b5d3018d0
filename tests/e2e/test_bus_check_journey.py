"""The bus-check journey of issue 8 in real Chromium, two browsers side by side.

On a phone (390×844) at the roadside, `officer` records a random spot check of the
kindergarten's bus 冀A·X3712 (19 seats) with 23 children counted on board: the overloading
finding ("核载19人，实载23人") appears before saving, and is saved. On a desk, the
kindergarten's `principal` then finds it among the open findings and opens the check.

The bus, its driver and route are made through the ORM (the test world has no fleet)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huxiao.transport.choices import FindingKind, InspectionKind
from huxiao.transport.models import BusInspection, Route
from huxiao.transport.tests.inspection_fixtures import make_bus, make_driver
from tests.e2e.conftest import log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "journey-pw-8"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def bus(world):
    for name in ("officer", "principal"):
        world.users[name].set_password(PASSWORD)
        world.users[name].save()
    bus = make_bus(world.school, plate="冀AX3712", seats=19)
    driver = make_driver(world.school, name="赵德明")
    Route.objects.create(school=world.school, name="1号线（东线）", bus=bus, driver=driver)
    return bus


def test_officer_spot_checks_an_overloaded_bus_and_the_principal_sees_it(
    world, bus, browser, live_server
):
    base = live_server.url
    phone_context = browser.new_context(
        locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True
    )
    desk_context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    try:
        phone, desk = phone_context.new_page(), desk_context.new_page()
        for page in (phone, desk):
            page.set_default_timeout(15_000)
            page.base_url = base

        # The officer at the roadside: a random spot check, the plate as painted on the bus.
        log_in(phone, "officer", PASSWORD)
        phone.goto(f"{base}{reverse('transport:inspection_new')}")
        phone.get_by_label("随机抽查").check()
        phone.get_by_test_id("plate").fill("冀A·X3712")
        phone.get_by_test_id("riders").fill("23")
        phone.get_by_test_id("riders").blur()
        # Shown before saving: the bus and its school, the overload with its numbers.
        overload = phone.get_by_test_id("derived-overload")
        overload.wait_for()
        assert "超员" in overload.inner_text()
        assert "核载19人，实载23人" in overload.inner_text()
        assert "本园" in phone.get_by_test_id("bus-card").inner_text()
        assert not BusInspection.objects.exists()
        # One thumb, nothing wider than the phone.
        save = phone.get_by_test_id("save")
        box = save.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 300
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(phone, "bus-check-preview-phone")
        save.click()
        phone.get_by_test_id("inspection-title").wait_for()
        assert "核载19人，实载23人" in phone.get_by_test_id("finding-overload").inner_text()
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(phone, "bus-check-saved-phone")
        # The jurisdiction's open findings, on the same phone.
        phone.goto(f"{base}{reverse('transport:inspection_list')}")
        phone.get_by_test_id("inspection-list-title").wait_for()
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        # Links a thumb can hit: the check in the list and the open finding's.
        saved = BusInspection.objects.get()
        for link in (
            phone.get_by_test_id(f"check-{saved.pk}").get_by_role("link"),
            phone.get_by_test_id(f"open-finding-{saved.findings.get().pk}").get_by_role("link"),
        ):
            assert link.bounding_box()["height"] >= 44
        screenshot(phone, "bus-check-list-phone")

        inspection = BusInspection.objects.get()
        assert inspection.kind == InspectionKind.RANDOM and inspection.bus == bus
        assert inspection.riders_counted == 23 and inspection.seats == 19
        finding = inspection.findings.get()
        assert finding.kind == FindingKind.OVERLOAD

        # The principal: the open finding of the kindergarten's bus, then the check.
        log_in(desk, "principal", PASSWORD)
        desk.goto(f"{base}{reverse('transport:inspection_list')}")
        card = desk.get_by_test_id(f"open-finding-{finding.pk}")
        assert "超员" in card.inner_text() and "冀AX3712" in card.inner_text()
        assert "待学校整改" in card.inner_text()
        card.get_by_role("link").click()
        desk.get_by_test_id("inspection-title").wait_for()
        assert "核载19人，实载23人" in desk.get_by_test_id("finding-overload").inner_text()
        assert desk.get_by_test_id(f"follow-up-{finding.pk}").is_visible()
        screenshot(desk, "bus-check-principal-desk")
    finally:
        phone_context.close()
        desk_context.close()
