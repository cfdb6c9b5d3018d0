"""The health journey of issue 9 in real Chromium.

`teacher` takes 小一班's morning check on a phone (390×844): everyone is well by default; she
opens 王小明's row, types 38.6 °C, sends him to the observation room, saves, and reports him
as a suspected case from the unwell list (the form comes filled from the check). Two
classmates had a fever on the two days before, so the check is the third case in three days:
the cluster alert reaches the health centre at once. `health` (the health centre) finds it in
the inbox and on the alerts page, opens the case and its close contacts: the classmates
(same class) and a child of another class who ate at his table yesterday (same dining
table), each with the reason; a child of that class at another table is not there. The
principal decides to suspend 小一班 from the case page. No page is wider than the phone.

The live server and the browser share the real clock."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from huxiao.health import check_services
from huxiao.health.choices import CaseStatus
from huxiao.health.models import ClassSuspension, ClusterAlert, HealthCase
from huxiao.health.tests.conftest import hworld  # noqa: F401 - the health world fixture
from huxiao.people.tests.factories import ChildFactory, SchoolClassFactory, StaffFactory
from tests.e2e.conftest import log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "journey-pw-9"
PHONE = {"width": 390, "height": 844}


def _fits_the_phone(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide"


@pytest.fixture
def kindergarten(hworld):  # noqa: F811
    w = hworld
    for name in ("teacher", "health", "principal"):
        w.users[name].set_password(PASSWORD)
        w.users[name].save()
    head = StaffFactory(school=w.school, name="李静", user=w.users["teacher"])
    w.school_class.head_teacher = head
    w.school_class.save(update_fields=["head_teacher"])
    mates = [ChildFactory(school_class=w.school_class, name=n) for n in ("张一", "赵二")]
    middle = SchoolClassFactory(school=w.school, name="中一班")
    table_mate = ChildFactory(school_class=middle, name="孙四")
    other_table = ChildFactory(school_class=middle, name="周五")
    # Services publish on commit through the channel layer (async_to_sync): outside the
    # browser's event loop, so in a thread of their own.
    failures = []

    def record():
        try:
            today = timezone.localdate()
            teacher = w.users["teacher"]
            # The two days before: one classmate with a fever each day (the third makes a cluster).
            for days_ago, child in ((2, mates[0]), (1, mates[1])):
                check_services.health_check_record(
                    actor=teacher,
                    school_class_id=w.school_class.pk,
                    date=today - dt.timedelta(days=days_ago),
                    session="morning",
                    checkpoint="东门",
                    results=[{"child_id": child.pk, "temperature": "38.2", "action": "sent_home"}],
                )
            yesterday = today - dt.timedelta(days=1)
            check_services.dining_seats_record(
                actor=teacher,
                school_class_id=w.school_class.pk,
                date=yesterday,
                seats={w.child.pk: "1号桌"},
            )
            check_services.dining_seats_record(
                actor=w.users["principal"],
                school_class_id=middle.pk,
                date=yesterday,
                seats={table_mate.pk: "1号桌", other_table.pk: "2号桌"},
            )
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            failures.append(exc)
        finally:
            connections.close_all()

    loader = threading.Thread(target=record, name="health-history")
    loader.start()
    loader.join()
    if failures:
        raise failures[0]
    assert not ClusterAlert.objects.exists()
    w.mates, w.table_mate, w.other_table, w.head = mates, table_mate, other_table, head
    return w


def _phone(browser, base):
    context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.base_url = base
    return context, page


def test_morning_check_to_case_contacts_and_suspension(kindergarten, browser, live_server):
    w = kindergarten
    base = live_server.url
    sick = w.child

    # 1. The teacher's morning check and the report of a suspected case.
    context, phone = _phone(browser, base)
    try:
        log_in(phone, "teacher", PASSWORD)
        phone.goto(f"{base}{reverse('health:check_entry', args=[w.school_class.pk, 'morning'])}")
        phone.get_by_test_id("check-title").wait_for()
        _fits_the_phone(phone)
        row = phone.get_by_test_id(f"row-{sick.pk}")
        row.locator("summary").click()
        row.locator(f'input[name="t-{sick.pk}"]').fill("38.6")
        row.get_by_label("送观察室").check()
        phone.get_by_test_id("save-check").click()
        phone.get_by_test_id(f"unwell-{sick.pk}").wait_for()
        _fits_the_phone(phone)
        phone.get_by_test_id(f"report-{sick.pk}").click()
        phone.get_by_test_id("case-report-form").wait_for()
        _fits_the_phone(phone)
        phone.get_by_test_id("case-report-submit").click()
        phone.get_by_test_id("case-reported").wait_for()
        screenshot(phone, "health-journey-case-reported")
    finally:
        context.close()
    case = HealthCase.objects.get()
    assert (case.child_id, case.status) == (sick.pk, CaseStatus.REPORTED)
    assert "fever" in case.symptoms
    alert = ClusterAlert.objects.get()
    assert alert.school_class_id == w.school_class.pk and alert.child_count == 3

    # 2. The health centre: the alert in the inbox and on the alerts page, then the contacts.
    context, page = _phone(browser, base)
    try:
        log_in(page, "health", PASSWORD)
        page.goto(f"{base}{reverse('notify:inbox')}")
        items = page.get_by_test_id("inbox-item")
        items.first.wait_for()
        assert "小一班" in page.locator("body").inner_text()
        _fits_the_phone(page)
        page.goto(f"{base}{reverse('health:alerts')}")
        page.get_by_test_id("alerts-title").wait_for()
        assert "小一班" in page.locator("main").inner_text()
        _fits_the_phone(page)
        page.goto(f"{base}{reverse('health:case', args=[case.pk])}")
        page.get_by_test_id("steps").wait_for()
        _fits_the_phone(page)
        page.get_by_test_id("contacts-link").first.click()
        page.get_by_test_id("contacts").wait_for()
        _fits_the_phone(page)
        contacts = {
            (item.get_attribute("data-kind"), int(item.get_attribute("data-id"))): {
                r.get_attribute("data-testid")
                for r in item.locator("[data-testid^='reason-']").all()
            }
            for item in page.get_by_test_id("contact").all()
        }
        screenshot(page, "health-journey-contacts")
    finally:
        context.close()
    children = {pk: reasons for (kind, pk), reasons in contacts.items() if kind == "child"}
    assert "reason-same_class" in children[w.mates[0].pk]
    assert "reason-same_class" in children[w.mates[1].pk]
    assert children[w.table_mate.pk] == {"reason-dining"}
    assert w.other_table.pk not in children and sick.pk not in children
    assert contacts[("staff", w.head.pk)] == {"reason-class_staff"}

    # 3. The principal decides to suspend 小一班 from the case page.
    context, page = _phone(browser, base)
    try:
        log_in(page, "principal", PASSWORD)
        page.goto(f"{base}{reverse('health:case', args=[case.pk])}")
        page.get_by_test_id("decide-suspension").click()
        page.get_by_test_id("suspension-form").wait_for()
        _fits_the_phone(page)
        today = timezone.localdate()
        form = page.get_by_test_id("suspension-form")
        form.locator("input[name=scope][value=class]").check()
        form.locator("select[name=school_class]").select_option(str(w.school_class.pk))
        form.locator("input[name=starts_on]").fill(today.isoformat())
        form.locator("input[name=ends_on]").fill((today + dt.timedelta(days=6)).isoformat())
        form.locator("textarea[name=reason]").fill("小一班三日内三名幼儿发热，一名疑似病例")
        form.locator("textarea[name=health_centre_opinion]").fill("建议停课一周")
        form.locator("textarea[name=education_office_opinion]").fill("同意")
        page.get_by_test_id("suspension-save").click()
        page.get_by_test_id("suspension-row").first.wait_for()
        _fits_the_phone(page)
        screenshot(page, "health-journey-suspension")
    finally:
        context.close()
    suspension = ClassSuspension.objects.get()
    assert (suspension.school_class_id, suspension.case_id) == (w.school_class.pk, case.pk)
    assert suspension.decided_by == w.users["principal"]
