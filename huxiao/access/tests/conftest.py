"""Fixtures of the gate tests: the root conftest's world plus the gate's people — a duty
leader and a security officer at the kindergarten (`world.school`), a host with a login (the
teacher, as staff member 李老师), a gate terminal's device token, one person on the police
register of the school's station and one on the school's own blocklist — and a
controllable clock.

The clock: MONDAY is a Monday; `at(day, "16:40")` is that local time as an aware datetime.
The other areas of the gate keep their fixtures in `<prefix>_fixtures.py` and import them.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.accounts.services import device_token_issue
from huxiao.core.idcard import make_id_number
from huxiao.core.roles import Role
from huxiao.orgs.tests.factories import MembershipFactory, UserFactory

MONDAY = dt.date(2025, 3, 3)
# A visitor nobody lists, one on the register (a man born 1979), one on the blocklist.
CLEAR_ID = make_id_number("110101", dt.date(1985, 6, 1), 123)
REGISTER_ID = make_id_number("130123", dt.date(1979, 3, 14), 371)
BLOCKED_ID = make_id_number("110102", dt.date(1990, 1, 2), 456)
REGISTER_NAME = "张三丰"


def at(day: dt.date, hhmm: str) -> dt.datetime:
    hour, minute = hhmm.split(":")
    return timezone.make_aware(dt.datetime.combine(day, dt.time(int(hour), int(minute))))


def visitor(world, **overrides) -> dict:
    """The fields of a check-in at the kindergarten's gate (a clear visitor by default)."""
    fields = {
        "name": "访客甲",
        "id_number": CLEAR_ID,
        "phone": "13800138000",
        "purpose": "parent",
        "host": world.staff.pk,
        "items": "雨伞",
    }
    fields.update(overrides)
    return fields


@pytest.fixture
def gate(world):
    """The world with the gate's people, a device, a register record and a blocklist entry."""
    from huxiao.access import visitor_services
    from huxiao.intel import services as intel

    for name, role in (("duty", Role.DUTY_LEADER), ("security", Role.SECURITY_OFFICER)):
        user = UserFactory(username=name)
        MembershipFactory(user=user, organization=world.school, role=role)
        world.users[name] = user
    world.staff.user = world.users["teacher"]
    world.staff.save(update_fields=["user"])
    world.device_token = device_token_issue(
        actor=None, school=world.school, name="门岗终端", kind="gate_terminal"
    )[1]
    world.register_person = intel.person_register(
        actor=world.users["police"],
        station=world.station,
        name=REGISTER_NAME,
        id_number=REGISTER_ID,
        address="大杨树镇幸福路12号",
        notes="曾在校门口扬言报复",
        category="revenge_threat",
        risk_level="high",
        related_schools=[world.school],
        responsible_officer=world.users["officer"],
    )
    world.blocked = visitor_services.blocked_visitor_add(
        actor=world.users["principal"],
        school=world.school,
        name="禁入者",
        id_number=BLOCKED_ID,
        reason="法院禁止令",
    )
    return world
