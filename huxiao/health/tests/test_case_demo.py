"""The suspected-case demo (huxiao.health.case_demo): demo mode only, nothing without the
township, every step the case area owns done by the right demo user, contacts traced and
told, idempotent. Loading the township takes a few seconds, so the loaded demo is checked
in one test."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.demo.township import DemoModeOff, load_demo_township
from huxiao.health.case_demo import DIAGNOSIS, demo_case, demo_child, load_demo_case
from huxiao.health.choices import CaseStatus, Step
from huxiao.health.models import CaseContact, CaseGroupMember, CaseStep, HealthCase
from huxiao.health.tests.case_fixtures import attendance
from huxiao.people.models import SchoolClass

pytestmark = pytest.mark.django_db
NOTHING = {"cases": 0, "steps": 0, "contacts": 0}


def _counts() -> tuple:
    return (
        HealthCase.objects.count(),
        CaseStep.objects.count(),
        CaseGroupMember.objects.count(),
        CaseContact.objects.count(),
    )


def test_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(DemoModeOff):
        load_demo_case()


def test_does_nothing_without_the_township(settings):
    settings.DEMO_MODE = True
    assert load_demo_case() == NOTHING
    assert demo_case() is None


def test_the_demo_case_goes_through_every_step(settings):
    settings.DEMO_MODE = True
    load_demo_township()
    today = dt.date(2026, 3, 11)  # a Wednesday: without the check demo, the case on Monday
    klass = SchoolClass.objects.get(school__name="大杨树实验幼儿园", name="小一班")
    attendance(klass, dt.date(2026, 3, 9))
    result = load_demo_case(today=today)
    case = demo_case()
    assert result["cases"] == 1 and case is not None
    assert case.school_class == klass
    assert case.child == demo_child()
    by = {s.step: s.done_by.username for s in case.steps.select_related("done_by")}
    assert by == {
        Step.REPORTED: "teacher",
        Step.VERIFIED: "principal",  # no duty-leader login at the kindergarten
        Step.ISOLATED: "nurse",
        Step.STARTED: "principal",
        Step.GROUPS: "principal",
        Step.CLASS_MOVED: "principal",
        Step.PARENTS_NOTIFIED: "principal",
        Step.CENTRAL_SCHOOL_REPORTED: "principal",
        Step.HEALTH_CENTRE_REPORTED: "principal",
        Step.TRANSFERRED: "health",
        Step.CONTACTS_TRACED: "health",
        Step.CONTACTS_NOTIFIED: "principal",
        Step.OUTCOME: "health",
    }
    assert (case.status, case.diagnosis) == (CaseStatus.CONFIRMED, DIAGNOSIS)
    assert case.onset_date == dt.date(2026, 3, 9)
    reported = case.steps.get(step=Step.REPORTED).done_at
    outcome = case.steps.get(step=Step.OUTCOME).done_at
    assert reported < outcome <= reported + dt.timedelta(hours=7)
    assert case.isolated_at < case.steps.get(step=Step.STARTED).done_at
    assert {m.group for m in case.group_members.all()} >= {"coordination", "publicity"}
    assert case.group_members.count() == 6
    # The class was there on Monday: every classmate and the head teacher are contacts,
    # and each has been told (children through their guardians' phones).
    classmates = klass.children.filter(is_active=True).exclude(pk=case.child_id).count()
    assert case.contacts.filter(child__isnull=False).count() == classmates
    assert case.contacts.filter(staff__isnull=False).exists()
    assert case.contacts.filter(notified_at__isnull=False).count() >= classmates
    assert not case.steps.filter(
        done_at__gt=timezone.make_aware(dt.datetime(2026, 3, 11, 18))
    ).exists()
    before = _counts()
    assert load_demo_case(today=today) == NOTHING
    assert load_demo_case() == NOTHING
    assert _counts() == before


def test_the_demo_case_follows_the_check_demo(settings):
    """With the check demo's month loaded, the case is the child its morning check found,
    reported right after that check, and the contacts come from its records."""
    from huxiao.health import check_demo

    settings.DEMO_MODE = True
    load_demo_township()
    check_demo.load_demo_check()
    found = check_demo.demo_case_check()
    assert found is not None
    load_demo_case()
    case = demo_case()
    assert case.child_id == found.child_id and case.child_check == found
    assert case.onset_date == found.date
    assert case.steps.count() == 13
    assert case.steps.get(step=Step.REPORTED).done_at > found.checked_at
    assert not case.steps.filter(done_at__gt=timezone.now()).exists()
    reasons = {r["reason"] for c in case.contacts.all() for r in c.reasons}
    assert {"same_class", "class_staff", "dining"} <= reasons
