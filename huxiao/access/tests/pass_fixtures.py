"""Shared helpers of the pass, vehicle and contraband tests (import them explicitly)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from huxiao.access import pass_services
from huxiao.access.choices import PassKind
from huxiao.core.roles import Role
from huxiao.orgs.tests.factories import MembershipFactory, UserFactory

# Everyone of the role × scope matrices: the school's gate and managers, a teacher, the
# other school's guard and principal, the station's police, the town's education office.
EVERYONE = (
    "anonymous",
    "nobody",
    "guard",
    "security",
    "principal",
    "teacher",
    "guard2",
    "principal2",
    "police",
    "officer",
    "farpolice",
    "edu",
)
GATE = {"guard", "security", "principal"}
MANAGERS = {"security", "principal"}
ELSEWHERE = {"guard2", "principal2"}


def expect(table: dict, default: int = 403) -> dict:
    result = {who: default for who in EVERYONE}
    result["anonymous"] = 401
    for status, users in table.items():
        for who in users:
            result[who] = status
    return result


def user(world, who):
    return None if who == "anonymous" else world.users[who]


def now() -> dt.datetime:
    return timezone.now().replace(microsecond=0)


def issue(world, kind=PassKind.STAFF, *, school=None, by="principal", **extra):
    school = school or world.school
    data = {"valid_until": now() + dt.timedelta(days=30)}
    if kind == PassKind.STAFF:
        data["staff"] = world.staff if school == world.school else world.other_staff
    elif kind == PassKind.VEHICLE:
        data.update(holder_name="蔬菜配送公司", plate="京A12345")
    else:
        data["holder_name"] = "维修工 张师傅"
        data["valid_until"] = now() + dt.timedelta(days=1)
    data.update(extra)
    actor = world.users[by] if school == world.school else world.users["principal2"]
    return pass_services.pass_issue(actor=actor, school=school, kind=kind, **data)


def add_gate_users(world):
    """The root `world` plus a security officer of the school and a guard of other_school.
    Test modules wrap it in their own `gate` fixture (an imported fixture would shadow)."""
    for name, org, role in (
        ("security", world.school, Role.SECURITY_OFFICER),
        ("guard2", world.other_school, Role.GUARD),
    ):
        account = UserFactory(username=name)
        MembershipFactory(user=account, organization=org, role=role)
        world.users[name] = account
    return world
