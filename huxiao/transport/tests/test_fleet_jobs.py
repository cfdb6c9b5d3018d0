# ruff: noqa: F811 - pytest fixtures imported from fleet_fixtures are arguments here
"""The daily reminder of bus and driver documents, with a controllable clock: the
school's principal and security officers are told, once a day, one message per school;
other schools, other roles, retired buses and drivers are not."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.notify.models import Delivery, Notification
from huxiao.transport import tasks
from huxiao.transport.fleet_services import REMINDER_EVENT, fleet_remind
from huxiao.transport.models import Bus, Driver
from huxiao.transport.tests.fleet_fixtures import fleet, make_bus  # noqa: F401

pytestmark = pytest.mark.django_db

T = dt.date(2026, 3, 16)


def at(date: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(date, dt.time(7, 25)))


def inbox(user) -> int:
    return Delivery.objects.filter(
        recipient=user, channel="inbox", notification__event_type=REMINDER_EVENT
    ).count()


def _valid_until(day: dt.date) -> None:
    """Every document of every bus and driver valid until `day`."""
    Bus.objects.update(permit_expires_on=day, insurance_expires_on=day, inspection_expires_on=day)
    Driver.objects.update(
        licence_expires_on=day, qualification_expires_on=day, health_check_expires_on=day
    )


def test_nothing_to_say_sends_nothing(fleet):
    _valid_until(T + dt.timedelta(days=31))
    assert fleet_remind(now=at(T)) == {"schools": [], "items": 0}
    assert not Notification.objects.filter(event_type=REMINDER_EVENT).exists()


def test_expired_and_expiring_told_once_a_day(fleet):
    _valid_until(T + dt.timedelta(days=200))
    Bus.objects.filter(pk=fleet.bus.pk).update(insurance_expires_on=T + dt.timedelta(days=30))
    Driver.objects.filter(pk=fleet.driver.pk).update(licence_expires_on=T - dt.timedelta(days=1))
    assert fleet_remind(now=at(T)) == {"schools": [fleet.school.pk], "items": 2}
    note = Notification.objects.get(event_type=REMINDER_EVENT)
    assert "冀AX3712" in note.body and "2026-04-15" in note.body
    assert "王师傅" in note.body and "2026-03-15" in note.body
    assert note.payload == {"school_id": fleet.school.pk, "date": T.isoformat()}
    assert inbox(fleet.users["principal"]) == 1 and inbox(fleet.users["security"]) == 1
    for name in ("guard", "teacher", "principal2", "police", "edu", "county"):
        assert inbox(fleet.users[name]) == 0, name
    # The same day again: nothing; the next day: again.
    assert fleet_remind(now=at(T)) == {"schools": [], "items": 0}
    assert fleet_remind(now=at(T + dt.timedelta(days=1)))["schools"] == [fleet.school.pk]
    assert inbox(fleet.users["principal"]) == 2


def test_one_message_per_school(fleet):
    _valid_until(T + dt.timedelta(days=10))
    result = fleet_remind(now=at(T))
    assert sorted(result["schools"]) == sorted([fleet.school.pk, fleet.other_school.pk])
    # Three documents of each bus and each driver, at both schools.
    assert result["items"] == 12
    assert Notification.objects.filter(event_type=REMINDER_EVENT).count() == 2
    assert inbox(fleet.users["principal2"]) == 1


def test_retired_and_closed_are_left_out(fleet):
    _valid_until(T - dt.timedelta(days=5))
    Bus.objects.update(is_active=False)
    Driver.objects.filter(school=fleet.school).update(is_active=False)
    fleet.other_school.is_active = False
    fleet.other_school.save()
    assert fleet_remind(now=at(T)) == {"schools": [], "items": 0}


def test_missing_dates_are_not_reminded(fleet):
    _valid_until(T + dt.timedelta(days=200))
    make_bus(fleet.school, plate="冀AX1111", permit_expires_on=None)
    assert fleet_remind(now=at(T)) == {"schools": [], "items": 0}


def test_the_daily_task_calls_the_service(fleet):
    _valid_until(timezone.localdate() + dt.timedelta(days=3))
    assert tasks.fleet_remind_daily.call_local() == {"schools": 2, "items": 12}
