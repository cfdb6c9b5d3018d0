"""Fixtures of the pick-up tests (import them explicitly: `from ...pickup_fixtures import
pickup  # noqa: F401`).

The clock: MONDAY is a Monday; `at(day, "16:40")` is that local time, aware. The
kindergarten (`world.school`) dismisses at 16:30, flags children 30 minutes later and takes
delegates until 14:00 (the defaults)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.access import pickup_services as services
from huxiao.core.roles import Role
from huxiao.orgs.tests.factories import MembershipFactory, UserFactory
from huxiao.people.tests.factories import ChildFactory, GuardianFactory, StaffFactory

MONDAY = dt.date(2025, 3, 3)
SATURDAY = MONDAY + dt.timedelta(days=5)


def at(day: dt.date, hhmm: str) -> dt.datetime:
    hour, minute = hhmm.split(":")
    return timezone.make_aware(dt.datetime.combine(day, dt.time(int(hour), int(minute))))


def member(world, name, org, role):
    user = UserFactory(username=name)
    MembershipFactory(user=user, organization=org, role=role)
    world.users[name] = user
    return user


@pytest.fixture
def pickup(world):
    """The class teacher (world.users["teacher"]) leads world.school_class; a duty leader
    and a security officer at the kindergarten; a guard at the other school; world.child's
    mother (world.guardian) holds a code (`world.issued`, issued Monday 08:00); a second
    child (`world.child2`) has an adult without a code; the other school's child's father
    holds a code (`world.other_issued`)."""
    w = world
    member(w, "duty", w.school, Role.DUTY_LEADER)
    member(w, "security", w.school, Role.SECURITY_OFFICER)
    member(w, "guard2", w.other_school, Role.GUARD)
    member(w, "health", w.school, Role.HEALTH_STAFF)
    w.teacher_staff = StaffFactory(school=w.school, name="陈老师", user=w.users["teacher"])
    w.school_class.head_teacher = w.teacher_staff
    w.school_class.save(update_fields=["head_teacher"])
    w.child2 = ChildFactory(school_class=w.school_class, name="李小红")
    w.guardian2 = GuardianFactory(child=w.child2, name="李爸爸", relationship="father")
    w.issued = services.pickup_code_issue(
        actor=w.users["principal"], guardian=w.guardian, now=at(MONDAY, "08:00")
    )
    w.other_issued = services.pickup_code_issue(
        actor=w.users["principal2"], guardian=w.other_guardian, now=at(MONDAY, "08:00")
    )
    return w
