"""Fixtures of the leading-group area's tests: a controllable clock, the town's government,
health centre and a second governance coordinator, and a group with a held meeting whose
decisions are action items (one for the police station, one for the kindergarten).

Test modules import the fixtures under their function names (`mworld_fixture`, …; the
fixture names are `mworld`, `group`, `held`), so that the import does not shadow the
test functions' arguments.

On top of `sworld` (huxiao/supervision/tests/conftest.py): `gov` keeps the town's group
(综治办), `county` the county's; `police`, `edu` are members; `liaison` (镇政府) and
`healthy` (卫生院) read; `fargov` keeps the other town's group.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.core.roles import OrgKind, Role
from huxiao.orgs.models import Organization
from huxiao.orgs.tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from huxiao.supervision import meeting_selectors as sel
from huxiao.supervision import meeting_services as ms
from huxiao.supervision.choices import GroupPosition, MeetingKind

MONDAY = dt.date(2025, 3, 3)


def at(day: dt.date, hhmm: str = "09:00") -> dt.datetime:
    hour, minute = hhmm.split(":")
    return timezone.make_aware(dt.datetime.combine(day, dt.time(int(hour), int(minute))))


def day(n: int) -> dt.date:
    return MONDAY + dt.timedelta(days=n)


def _user(w, name, org, role):
    user = UserFactory(username=name)
    MembershipFactory(user=user, organization=org, role=role)
    w.users[name] = user
    return user


@pytest.fixture(name="mworld")
def mworld_fixture(sworld):
    w = sworld
    w.gov_office = Organization.objects.get(kind=OrgKind.GOVERNANCE_OFFICE, town=w.town)
    w.county_office = Organization.objects.get(kind=OrgKind.GOVERNANCE_OFFICE, town=None)
    w.government = OrganizationFactory(kind=OrgKind.GOVERNMENT, town=w.town, name="镇政府")
    w.health_centre = OrganizationFactory(kind=OrgKind.HEALTH_CENTRE, town=w.town, name="卫生院")
    w.far_gov = OrganizationFactory(
        kind=OrgKind.GOVERNANCE_OFFICE, town=w.other_town, name="外镇综治办"
    )
    _user(w, "liaison", w.government, Role.GOVERNMENT_LIAISON)
    _user(w, "healthy", w.health_centre, Role.HEALTH_OFFICER)
    _user(w, "fargov", w.far_gov, Role.GOVERNANCE_COORDINATOR)
    _user(w, "gov2", w.gov_office, Role.GOVERNANCE_COORDINATOR)
    return w


def make_group(w, *, now=None, actor=None, owner=None, name="测试镇护校安园工作领导小组"):
    return ms.group_create(
        actor=actor or w.users["gov"],
        owner=owner or w.gov_office,
        name=name,
        established_on=MONDAY - dt.timedelta(days=30),
        duties="统筹全镇护校安园工作",
        now=now or at(MONDAY - dt.timedelta(days=10)),
    )


def add_member(w, group, username=None, org=None, *, name="", position=GroupPosition.MEMBER):
    return ms.member_add(
        actor=w.users["gov"],
        group=group,
        organization_id=org.pk,
        user_id=w.users[username].pk if username else None,
        name=name,
        title="成员",
        position=position,
    )


def key_of(group, user) -> str:
    """The invitee key of a user (their group-member key when they are a member)."""
    return next(c.key for c in sel.invitee_candidates(group) if c.user_id == user.pk)


def plan(w, group, *, starts_at=None, now=None, invitees=None, title="联席会议"):
    invitees = invitees or [key_of(group, w.users[n]) for n in ("police", "edu", "principal")]
    return ms.meeting_plan(
        actor=w.users["gov"],
        group=group,
        kind=MeetingKind.JOINT,
        title=title,
        starts_at=starts_at or at(MONDAY, "09:00"),
        location="镇政府会议室",
        chair="副镇长",
        agenda="研判学校安全形势",
        invitees=invitees,
        now=now or at(MONDAY - dt.timedelta(days=3)),
    )


def row(org, owner=None, deadline=None, decision="落实护学岗"):
    return {
        "decision": decision,
        "owner_org_id": org.pk,
        "owner_id": owner.pk if owner else None,
        "deadline": deadline or day(5),
    }


def record(w, meeting, *, actions=(), now=None, minutes="会议纪要正文", absent=()):
    return ms.meeting_record(
        actor=w.users["gov"],
        meeting=meeting,
        minutes=minutes,
        absent_ids=absent,
        actions=list(actions),
        now=now or at(MONDAY, "16:00"),
    )


@pytest.fixture(name="group")
def group_fixture(mworld):
    w = mworld
    g = make_group(w)
    add_member(w, g, "police", w.station, position=GroupPosition.DEPUTY)
    add_member(w, g, "edu", w.edu_office)
    add_member(w, g, None, w.government, name="马镇长", position=GroupPosition.LEADER)
    return g


@pytest.fixture(name="held")
def held_fixture(mworld, group):
    """A joint meeting held on MONDAY with two action items: the station's (owner
    `police`) and the kindergarten's (owner `principal`), both due on day 5."""
    w = mworld
    meeting = plan(w, group)
    record(
        w,
        meeting,
        actions=[
            row(w.station, w.users["police"], decision="护学岗全覆盖"),
            row(w.school, w.users["principal"], decision="幼儿园围墙整改"),
        ],
    )
    meeting.refresh_from_db()
    items = list(meeting.actions.order_by("id"))
    meeting.station_item, meeting.school_item = items
    return meeting


def move(w, item, name, username, *, now=None, note="进展说明"):
    """Make one move as `username` (the required note or reason filled in)."""
    now = now or at(MONDAY, "17:00")
    actor = w.users[username]
    if name == "start":
        return ms.action_start(actor=actor, item=item, note=note, now=now)
    if name == "progress":
        return ms.action_progress(actor=actor, item=item, note=note, now=now)
    if name == "submit":
        return ms.action_submit(actor=actor, item=item, note=note, now=now)
    if name == "close":
        return ms.action_close(actor=actor, item=item, note=note, now=now)
    return ms.action_send_back(actor=actor, item=item, reason=note, now=now)


def advance(w, item, to: str, *, owner="police", now=None):
    """Move an open item along the happy path up to `to` (in_progress, submitted, closed)."""
    path = {"in_progress": ["start"], "submitted": ["start", "submit"]}
    path["closed"] = [*path["submitted"], "close"]
    for name in path[to]:
        item = move(w, item, name, "gov" if name == "close" else owner, now=now)
    return item
