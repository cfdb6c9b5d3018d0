# ruff: noqa: F811 - pytest fixtures imported from personnel_fixtures are arguments here
"""The daily reminder of expiring certificates and missing trainings, with a controllable
clock: the school's principal and security officers are told, once a day, one message per
school; other schools and other roles are not."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.notify.models import Delivery, Notification
from huxiao.security import tasks
from huxiao.security.models import TrainingRecord
from huxiao.security.personnel_services import REMINDER_EVENT, personnel_remind
from huxiao.security.tests.personnel_fixtures import T, day, pworld  # noqa: F401

pytestmark = pytest.mark.django_db


def at(date: dt.date, time: str = "07:20") -> dt.datetime:
    hour, minute = (int(p) for p in time.split(":"))
    return timezone.make_aware(dt.datetime.combine(date, dt.time(hour, minute)))


def inbox(user) -> int:
    return Delivery.objects.filter(
        recipient=user, channel="inbox", notification__event_type=REMINDER_EVENT
    ).count()


def _trained(w, held_on):
    TrainingRecord.objects.create(staff=w.guard_staff, held_on=held_on, topic="t", hours=1)


def test_nothing_to_say_sends_nothing(pworld):
    w = pworld
    _trained(w, day(-10))
    w.other_guard.is_active = False
    w.other_guard.save()
    assert personnel_remind(now=at(T)) == {"schools": [], "items": 0}
    assert not Notification.objects.filter(event_type=REMINDER_EVENT).exists()


def test_expiring_and_untrained_told_once_a_day(pworld):
    w = pworld
    w.other_guard.is_active = False
    w.other_guard.save()
    _trained(w, day(-400))
    w.guard_profile.certificate_expires_on = day(12)
    w.guard_profile.save()
    assert personnel_remind(now=at(T)) == {"schools": [w.school.pk], "items": 2}
    note = Notification.objects.get(event_type=REMINDER_EVENT, organization_id=w.school.pk)
    assert "张保安" in note.body and day(12).isoformat() in note.body
    assert note.body.count("张保安") == 2  # the certificate and the training
    assert note.payload == {"school_id": w.school.pk, "date": T.isoformat()}
    assert inbox(w.users["principal"]) == 1 and inbox(w.users["security"]) == 1
    for name in ("guard", "teacher", "principal2", "police", "edu"):
        assert inbox(w.users[name]) == 0, name

    # A second run the same day sends nothing.
    count = Notification.objects.count()
    assert personnel_remind(now=at(T, "18:00")) == {"schools": [], "items": 0}
    assert Notification.objects.count() == count

    # The next day it is sent again.
    personnel_remind(now=at(day(1)))
    assert inbox(w.users["principal"]) == 2


def test_other_school_told_to_its_own_principal(pworld):
    w = pworld
    _trained(w, day(-1))
    result = personnel_remind(now=at(T))
    assert result["schools"] == [w.other_school.pk]
    assert inbox(w.users["principal2"]) == 1 and inbox(w.users["principal"]) == 0
    note = Notification.objects.get(event_type=REMINDER_EVENT)
    assert "李保安" in note.body and "张保安" not in note.body


def test_expired_certificate_and_boundaries(pworld):
    w = pworld
    _trained(w, day(-365))  # exactly 12 months ago still counts
    w.other_guard.is_active = False
    w.other_guard.save()
    w.guard_profile.certificate_expires_on = day(31)
    w.guard_profile.save()
    assert personnel_remind(now=at(T))["schools"] == []
    w.guard_profile.certificate_expires_on = day(-3)
    w.guard_profile.save()
    result = personnel_remind(now=at(T, "12:00"))
    assert result == {"schools": [w.school.pk], "items": 1}
    note = Notification.objects.get(event_type=REMINDER_EVENT)
    assert day(-3).isoformat() in note.body


def test_former_staff_and_inactive_schools_are_left_out(pworld):
    w = pworld
    w.guard_staff.is_active = False
    w.guard_staff.save()
    w.other_school.is_active = False
    w.other_school.save()
    assert personnel_remind(now=at(T)) == {"schools": [], "items": 0}


def test_periodic_task_calls_the_service(pworld, monkeypatch):
    monkeypatch.setattr(tasks, "personnel_remind", lambda: {"schools": [1, 2], "items": 5})
    assert tasks.personnel_remind_daily.call_local() == {"schools": 2, "items": 5}
