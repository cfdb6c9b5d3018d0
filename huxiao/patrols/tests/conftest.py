"""The world of the root conftest plus gate posts at the kindergarten (`world.school`) and
at the other school of the town, a health officer, and a controllable clock.

The clock: MONDAY is a Monday; `at(day, "16:40")` is that local time as an aware datetime.
Posts are planned Monday to Friday: morning 07:30–08:00 (guard), afternoon 16:30–17:10
(the station officer, police)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.core.roles import OrgKind, Role
from huxiao.orgs.tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from huxiao.patrols import services
from huxiao.patrols.choices import Period, StaffKind

MONDAY = dt.date(2025, 3, 3)
FRIDAY = MONDAY + dt.timedelta(days=4)
WEEKDAYS = range(5)


def at(day: dt.date, hhmm: str) -> dt.datetime:
    hour, minute = hhmm.split(":")
    return timezone.make_aware(dt.datetime.combine(day, dt.time(int(hour), int(minute))))


def windows(starts: str, ends: str, days=WEEKDAYS) -> list[dict]:
    return [{"weekday": d, "starts": starts, "ends": ends} for d in days]


def plan(world, school, period, starts, ends, *, staff=(), now=None, days=WEEKDAYS):
    """A post planned by the station commander; `staff` = [(kind, user or name)]."""
    now = now or at(MONDAY, "06:00")
    post = services.gate_post_create(
        actor=world.users["police"],
        school=school,
        period=period,
        location="正门",
        windows=windows(starts, ends, days),
        now=now,
    )
    for kind, who in staff:
        if isinstance(who, str):
            services.gate_post_staff_add(
                actor=world.users["police"], post=post, kind=kind, name=who, now=now
            )
        else:
            services.gate_post_staff_add(
                actor=world.users["police"], post=post, kind=kind, user=who, now=now
            )
    return post


@pytest.fixture
def people(world):
    health_centre = OrganizationFactory(kind=OrgKind.HEALTH_CENTRE, town=world.town, name="卫生院")
    world.users["health"] = UserFactory(username="health")
    MembershipFactory(
        user=world.users["health"], organization=health_centre, role=Role.HEALTH_OFFICER
    )
    return world


@pytest.fixture
def posts(people):
    """Morning (guard, a parent volunteer) and afternoon (officer) posts at the kindergarten;
    an afternoon post at the other school of the town; a post at the far school."""
    w = people
    w.morning = plan(
        w,
        w.school,
        Period.MORNING,
        "07:30",
        "08:00",
        staff=[(StaffKind.GUARD, w.users["guard"]), (StaffKind.PARENT_VOLUNTEER, "王妈妈")],
    )
    w.afternoon = plan(
        w,
        w.school,
        Period.AFTERNOON,
        "16:30",
        "17:10",
        staff=[(StaffKind.POLICE, w.users["officer"])],
    )
    w.other_afternoon = plan(w, w.other_school, Period.AFTERNOON, "16:30", "17:10")
    w.far_post = services.gate_post_create(
        actor=w.users["farpolice"],
        school=w.far_school,
        period=Period.AFTERNOON,
        location="校门",
        windows=windows("16:30", "17:10"),
        now=at(MONDAY, "06:00"),
    )
    return w


# The camera fixtures of the video patrol tests (ADR 0020).
from huxiao.patrols.tests.video_fixtures import cams  # noqa: E402, F401
