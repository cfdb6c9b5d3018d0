"""Fixtures of the school-cases tests: the register world (health, lvp, a person of the
first station) plus an alarm and a warning sign of each school of that station."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.alarms.services import alarm_raise
from huxiao.intel import cases_services, warnings_services
from huxiao.intel.models import CaseEvent, SchoolCase

# Who sees the case of `world.school`, and how.
MANAGERS = ["police", "officer", "postofficer"]
COMMAND = ["edu", "gov", "county"]
SCHOOL_READERS = ["principal"]
NO_ACCESS = ["guard", "teacher", "health", "lvp", "nobody"]  # 403 on the list
OUT_OF_SCOPE = ["farpolice", "principal2"]  # 404 on the case


@pytest.fixture
def cw(reg, person):
    w = reg
    w.person = person
    w.alarm, _ = alarm_raise(actor=w.users["guard"], school=w.school, kind="intrusion")
    w.other_alarm, _ = alarm_raise(
        actor=w.users["principal2"], school=w.other_school, kind="intrusion"
    )
    w.sign = warnings_services.warning_sign_report(
        actor=w.users["guard"],
        school=w.school,
        category="suspicious_person",
        description="校门口有陌生男子徘徊",
    )
    return w


@pytest.fixture
def case(cw):
    return cases_services.case_register(
        actor=cw.users["police"],
        school=cw.school,
        case_number="A2026-001",
        title="校门口持刀滋事",
        category="violence",
        occurred_at=timezone.now() - dt.timedelta(hours=2),
        officer=cw.users["officer"],
        alarms=[cw.alarm],
        warning_signs=[cw.sign],
        persons=[cw.person],
    )


def case_state() -> dict:
    return {
        "cases": list(SchoolCase.objects.order_by("pk").values()),
        "events": CaseEvent.objects.count(),
        "links": [
            sorted(c.alarms.values_list("pk", flat=True))
            + sorted(c.persons.values_list("pk", flat=True))
            for c in SchoolCase.objects.order_by("pk")
        ],
    }
