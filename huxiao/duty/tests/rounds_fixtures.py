"""Shared helpers of the checkpoint and patrol-round tests (ADR 0029 "Rounds")."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from huxiao.duty import checkpoint_services, rounds_services

# Everyone of the conftest world, for the role × scope matrices.
EVERYONE = (
    "anonymous",
    "nobody",
    "police",
    "officer",
    "postofficer",
    "farpolice",
    "principal",
    "guard",
    "teacher",
    "principal2",
    "edu",
    "gov",
    "county",
)
# Who sees world.school (VIEW): its people, the station and its post, the town, the county.
VIEWERS = {"police", "officer", "postofficer", "principal", "guard", "teacher"} | {
    "edu",
    "gov",
    "county",
}
# Who keeps duty (KEEP_DUTY) at world.school, and who plans it (PLAN_DUTY).
KEEPERS = {"principal", "guard", "teacher"}
PLANNERS = {"principal"}


def expect(table: dict, default: int = 403, anonymous: int = 302) -> dict:
    """{who: status} for everyone: `default` unless listed; pages send the anonymous to
    the login page (302), the API answers 401."""
    result = {who: default for who in EVERYONE}
    result["anonymous"] = anonymous
    for status, users in table.items():
        for who in users:
            result[who] = status
    return result


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(
        dt.datetime.combine(day, dt.time(hour, minute)), timezone.get_default_timezone()
    )


def today() -> dt.date:
    return timezone.localdate()


def walk(world, names, *, start: dt.datetime, who="guard", step=5, finish=True, school=None):
    """A round by `who` over the checkpoints `names` of the school, one every `step`
    minutes from `start`; ended by the button when `finish` (unless it ended by itself)."""
    school = school or world.school
    cps = world.cps[school.pk]
    actor = world.users[who]
    outcome = None
    for index, name in enumerate(names):
        outcome = rounds_services.checkpoint_scan(
            actor=actor, code=cps[name].code, now=start + dt.timedelta(minutes=step * index)
        )
    rnd = outcome.round
    rnd.refresh_from_db()
    if finish and rnd.finished_at is None:
        rounds_services.round_finish(
            actor=actor, round=rnd, now=start + dt.timedelta(minutes=step * len(names))
        )
        rnd.refresh_from_db()
    return rnd


def build_rounds_world(world):
    """world.school: 大门, 教学楼, 食堂 (day), 宿舍 (night only); other_school: 校门, 操场;
    far_school: 外镇大门. `world.cps[school_id][name]`."""
    w = world
    w.cps = {}
    spec = (
        (
            w.school,
            "principal",
            (("大门", False), ("教学楼", False), ("食堂", False), ("宿舍", True)),
        ),
        (w.other_school, "principal2", (("校门", False), ("操场", False))),
    )
    for school, who, names in spec:
        w.cps[school.pk] = {
            name: checkpoint_services.checkpoint_create(
                actor=w.users[who], school=school, name=name, for_night=night
            )
            for name, night in names
        }
    from huxiao.core.roles import Role
    from huxiao.orgs.tests.factories import MembershipFactory, UserFactory

    far_principal = UserFactory(username="farprincipal")
    MembershipFactory(user=far_principal, organization=w.far_school, role=Role.PRINCIPAL)
    w.users["farprincipal"] = far_principal
    w.cps[w.far_school.pk] = {
        "外镇大门": checkpoint_services.checkpoint_create(
            actor=far_principal, school=w.far_school, name="外镇大门"
        )
    }
    return w
