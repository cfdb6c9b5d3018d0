"""Fixtures of the check area's tests: `hworld` plus a class of four children headed by
the `teacher` login, and helpers to post a check or an attendance."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from huxiao.people.tests.factories import ChildFactory, StaffFactory

# A fixed school morning: Wednesday 2026-03-11, 08:10 local time.
NOW = timezone.make_aware(dt.datetime(2026, 3, 11, 8, 10))
TODAY = NOW.date()


@dataclass
class Klass:
    world: object
    school_class: object
    children: list
    head: object  # the head teacher's Staff record (login `teacher`)


@pytest.fixture
def klass(hworld) -> Klass:
    w = hworld
    head = StaffFactory(school=w.school, name="李静", user=w.users["teacher"])
    w.school_class.head_teacher = head
    w.school_class.save(update_fields=["head_teacher"])
    children = [w.child] + [
        ChildFactory(school_class=w.school_class, name=name) for name in ("张一", "赵二", "钱三")
    ]
    return Klass(world=w, school_class=w.school_class, children=children, head=head)


def at(hour: int, minute: int, second: int = 0, day: dt.date = TODAY) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute, second)))
