"""Fixtures of the personnel and equipment tests (issue 7 items 1–2), on top of the root
`world`:

- `pworld`: the world plus a security officer login `security` at the kindergarten
  (`world.school`), a guard staff record `pworld.guard_staff` there (with a security
  record) and a guard at the other school of the town (`pworld.other_guard`).
- `T`: the fixed "today" the services are called with.
"""

from __future__ import annotations

import datetime as dt

import pytest

from huxiao.core.roles import Role
from huxiao.orgs.tests.factories import MembershipFactory, UserFactory
from huxiao.people.tests.factories import StaffFactory
from huxiao.security.models import GuardProfile

T = dt.date(2026, 3, 16)


def day(offset: int) -> dt.date:
    return T + dt.timedelta(days=offset)


@pytest.fixture
def pworld(world):
    world.users["security"] = UserFactory(username="security")
    MembershipFactory(
        user=world.users["security"], organization=world.school, role=Role.SECURITY_OFFICER
    )
    world.guard_staff = StaffFactory(
        school=world.school, name="张保安", role="guard", background_check="passed"
    )
    world.guard_profile = GuardProfile.objects.create(
        staff=world.guard_staff,
        certificate_number="冀公保12345678",
        certificate_issued_on=day(-800),
        certificate_expires_on=day(400),
        filed_with_police=True,
        filed_on=day(-700),
    )
    world.other_guard = StaffFactory(school=world.other_school, name="李保安", role="guard")
    return world
