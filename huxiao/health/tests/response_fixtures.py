"""Helpers of the response tests: a suspected case built directly (the case area's
services are not needed to test the response to one), a head teacher with a login, and a
recorder of the notifications sent."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from huxiao.health import response_services
from huxiao.health.models import HealthCase
from huxiao.people.tests.factories import StaffFactory

# A fixed clock: Monday 30 November 2026, 10:00 local time.
NOW = timezone.make_aware(dt.datetime(2026, 11, 30, 10, 0))
TODAY = NOW.date()


def make_case(school_class, child, *, reported_at=None, onset=None) -> HealthCase:
    reported_at = reported_at or NOW - dt.timedelta(hours=2)
    return HealthCase.objects.create(
        school=school_class.school,
        school_class=school_class,
        child=child,
        symptoms=["fever", "cough"],
        temperature=Decimal("38.4"),
        onset_date=onset or timezone.localdate(reported_at),
        reported_at=reported_at,
    )


@pytest.fixture
def case(hworld):
    return make_case(hworld.school_class, hworld.child)


@pytest.fixture
def other_case(hworld):
    return make_case(hworld.other_class, hworld.other_child)


@pytest.fixture
def head_teacher(hworld):
    """The `teacher` login is the head teacher of 小一班."""
    staff = StaffFactory(school=hworld.school, name="李静", user=hworld.users["teacher"])
    hworld.school_class.head_teacher = staff
    hworld.school_class.save(update_fields=["head_teacher"])
    return staff


class Sent(list):
    def of(self, event_type: str) -> list[dict]:
        return [call for call in self if call["event_type"] == event_type]


@pytest.fixture
def sent(monkeypatch) -> Sent:
    """Every notify_send of the response services, recorded, then sent for real."""
    calls = Sent()
    real = response_services.notify_send

    def recording(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(response_services, "notify_send", recording)
    return calls


# The fixtures a test module gets with `from …response_fixtures import *`.
__all__ = ["case", "head_teacher", "other_case", "sent"]
