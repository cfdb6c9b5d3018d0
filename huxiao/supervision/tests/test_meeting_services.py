"""Services of the leading group and its meetings: one group per town, members (platform
users of the organization or named persons), planning, recording with decisions as action
items (all or nothing), the minutes' correction window, and bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from huxiao.audit.models import AuditEvent
from huxiao.notify.models import Delivery
from huxiao.supervision import meeting_services as ms
from huxiao.supervision.choices import ActionStatus, GroupPosition, MeetingStatus
from huxiao.supervision.meeting_models import (
    ActionEvent,
    ActionItem,
    GroupMember,
    LeadingGroup,
    Meeting,
    MeetingAttendee,
)
from huxiao.supervision.tests.meeting_fixtures import (  # noqa: F401
    MONDAY,
    add_member,
    at,
    day,
    group_fixture,
    held_fixture,
    key_of,
    make_group,
    mworld_fixture,
    plan,
    record,
    row,
)

pytestmark = pytest.mark.django_db


def inbox(user) -> list[str]:
    return list(
        Delivery.objects.filter(recipient=user, channel="inbox").values_list(
            "notification__event_type", flat=True
        )
    )


def counts() -> tuple:
    return (
        Meeting.objects.count(),
        MeetingAttendee.objects.count(),
        ActionItem.objects.count(),
        ActionEvent.objects.count(),
        AuditEvent.objects.count(),
    )


# ------------------------------------------------------------------ the group


def test_keeper_sets_up_the_town_group_once(mworld):
    w = mworld
    group = make_group(w)
    assert (group.town_id, group.region_id, group.owner_id) == (
        w.town.pk,
        w.region.pk,
        w.gov_office.pk,
    )
    assert AuditEvent.objects.filter(object_type="supervision.leadinggroup").count() == 1
    # A second group for the same town, even by another keeper: refused as a conflict.
    with pytest.raises(ms.MeetingConflict):
        make_group(w, actor=w.users["gov2"], name="另一个领导小组")
    assert LeadingGroup.objects.count() == 1
    # The other town and the county have their own.
    far = make_group(w, actor=w.users["fargov"], owner=w.far_gov)
    county = make_group(w, actor=w.users["county"], owner=w.county_office)
    assert far.town_id == w.other_town.pk and county.town_id is None
    with pytest.raises(ms.MeetingConflict):
        make_group(w, actor=w.users["county"], owner=w.county_office)


@pytest.mark.parametrize("name", ["edu", "police", "liaison", "principal", "nobody"])
def test_only_keepers_set_up_a_group(mworld, name):
    w = mworld
    with pytest.raises(PermissionDenied):
        make_group(w, actor=w.users[name])
    assert not LeadingGroup.objects.exists()


def test_a_keeper_cannot_set_up_another_towns_group(mworld):
    w = mworld
    with pytest.raises(PermissionDenied):
        make_group(w, actor=w.users["gov"], owner=w.far_gov)
    with pytest.raises(PermissionDenied):
        make_group(w, actor=w.users["county"], owner=w.gov_office)


def test_group_fields_are_checked(mworld):
    w = mworld
    with pytest.raises(ValidationError) as exc:
        ms.group_create(
            actor=w.users["gov"],
            owner=w.gov_office,
            name="  ",
            established_on=day(10),
            now=at(MONDAY),
        )
    assert set(exc.value.message_dict) == {"name", "established_on"}
    assert not LeadingGroup.objects.exists()


def test_group_update_is_for_its_keepers(group, mworld):
    w = mworld
    ms.group_update(actor=w.users["gov2"], group=group, name="新名称", duties="职责")
    group.refresh_from_db()
    assert group.name == "新名称"
    with pytest.raises(PermissionDenied):
        ms.group_update(actor=w.users["edu"], group=group, name="x")
    # The county reads the town's group but does not keep it; the other town does not see it.
    with pytest.raises(PermissionDenied):
        ms.group_update(actor=w.users["county"], group=group, name="x")
    with pytest.raises(Http404):
        ms.group_update(actor=w.users["fargov"], group=group, name="x")
    group.refresh_from_db()
    assert group.name == "新名称"


# ------------------------------------------------------------------ members


def test_members_users_of_their_organization_or_named(group, mworld):
    w = mworld
    police = GroupMember.objects.get(group=group, user=w.users["police"])
    assert police.name == "police" and police.organization == w.station
    named = GroupMember.objects.get(group=group, user__isnull=True)
    assert (named.name, named.position) == ("马镇长", GroupPosition.LEADER)
    assert "meetings.member_added" in inbox(w.users["police"])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"username": "edu", "org": "station"}, "user"),  # not a member of that organization
        ({"username": "police", "org": "station"}, "user"),  # already a member
        ({"username": None, "org": "station", "name": ""}, "name"),  # no one named
        ({"username": None, "org": "far_school", "name": "某人"}, "organization"),  # other town
        ({"username": None, "org": "government", "name": "马镇长"}, "name"),  # duplicate
    ],
)
def test_member_bad_input(group, mworld, kwargs, field):
    w = mworld
    before = GroupMember.objects.count()
    with pytest.raises(ValidationError) as exc:
        add_member(
            w, group, kwargs["username"], getattr(w, kwargs["org"]), name=kwargs.get("name", "")
        )
    assert field in exc.value.message_dict
    assert GroupMember.objects.count() == before


def test_one_leader_at_a_time(group, mworld):
    w = mworld
    with pytest.raises(ValidationError) as exc:
        add_member(w, group, "healthy", w.health_centre, position=GroupPosition.LEADER)
    assert "position" in exc.value.message_dict
    leader = GroupMember.objects.get(group=group, position=GroupPosition.LEADER)
    ms.member_update(actor=w.users["gov"], member=leader, position=GroupPosition.DEPUTY)
    add_member(w, group, "healthy", w.health_centre, position=GroupPosition.LEADER)


def test_deactivating_keeps_the_history(group, mworld):
    w = mworld
    member = GroupMember.objects.get(group=group, user=w.users["edu"])
    with pytest.raises(PermissionDenied):
        ms.member_deactivate(actor=w.users["edu"], member=member)
    ms.member_deactivate(actor=w.users["gov"], member=member)
    member.refresh_from_db()
    assert member.is_active is False and GroupMember.objects.filter(pk=member.pk).exists()
    with pytest.raises(ms.MeetingConflict):
        ms.member_deactivate(actor=w.users["gov"], member=member)
    with pytest.raises(ms.MeetingConflict):
        ms.member_update(actor=w.users["gov"], member=member, position=GroupPosition.MEMBER)
    # Once gone, they can be added again as a new member.
    add_member(w, group, "edu", w.edu_office)
    assert GroupMember.objects.filter(group=group, user=w.users["edu"]).count() == 2


# ------------------------------------------------------------------ meetings


def test_plan_invites_and_notifies(group, mworld):
    w = mworld
    meeting = plan(w, group)
    attendees = {a.name: a for a in meeting.attendees.all()}
    assert set(attendees) == {"police", "edu", "principal"}
    assert attendees["principal"].organization == w.school
    assert meeting.status == MeetingStatus.PLANNED
    assert "meetings.invited" in inbox(w.users["principal"])
    assert "meetings.invited" not in inbox(w.users["gov"])  # not to the one who planned
    assert AuditEvent.objects.filter(object_type="supervision.meetingattendee").count() == 3


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"kind": "party"}, "kind"),
        ({"invitees": []}, "invitees"),
        ({"invitees": ["m999999"]}, "invitees"),
        ({"starts_at": at(MONDAY + dt.timedelta(days=400))}, "starts_at"),
        ({"starts_at": "not a date"}, "starts_at"),
    ],
)
def test_plan_bad_input(group, mworld, change, field):
    w = mworld
    kwargs = {
        "kind": "joint",
        "title": "会议",
        "starts_at": at(MONDAY),
        "invitees": [key_of(group, w.users["police"])],
        **change,
    }
    before = counts()
    with pytest.raises(ValidationError) as exc:
        ms.meeting_plan(
            actor=w.users["gov"], group=group, now=at(MONDAY - dt.timedelta(days=1)), **kwargs
        )
    assert field in exc.value.message_dict
    assert counts() == before


def test_a_far_teacher_cannot_be_invited(group, mworld):
    w = mworld
    # Teachers of a school are not invitees (its leaders are), nor anyone of another town.
    assert all(c.user_id != w.users["teacher"].pk for c in ms.sel.invitee_candidates(group))
    assert all(c.user_id != w.users["farpolice"].pk for c in ms.sel.invitee_candidates(group))


def test_record_held_with_decisions(group, mworld):
    w = mworld
    meeting = plan(w, group)
    absent = meeting.attendees.get(name="edu")
    record(
        w,
        meeting,
        absent=[absent.pk],
        actions=[
            row(w.station, w.users["police"]),
            row(w.school, None, decision="学校自查"),
        ],
    )
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.HELD and meeting.minutes == "会议纪要正文"
    assert meeting.held_recorded_by == w.users["gov"]
    assert meeting.held_recorded_at == at(MONDAY, "16:00")
    assert not meeting.attendees.get(pk=absent.pk).present
    items = list(meeting.actions.order_by("id"))
    assert [(i.owner_org, i.owner, i.status) for i in items] == [
        (w.station, w.users["police"], ActionStatus.OPEN),
        (w.school, None, ActionStatus.OPEN),
    ]
    assert all(i.events.count() == 1 for i in items)
    # The school's item is in the school's audit trail; its principal is told.
    assert AuditEvent.objects.filter(
        object_type="supervision.actionitem", school_id=w.school.pk
    ).exists()
    assert "meetings.action_assigned" in inbox(w.users["principal"])
    assert "meetings.action_assigned" in inbox(w.users["police"])


@pytest.mark.parametrize(
    ("minutes", "bad_row", "field"),
    [
        ("", None, "minutes"),
        ("  \n ", None, "minutes"),
        ("纪要", {"deadline": day(-1)}, "actions.1.deadline"),
        ("纪要", {"deadline": day(400)}, "actions.1.deadline"),
        ("纪要", {"deadline": None}, "actions.1.deadline"),
        ("纪要", {"owner": "edu"}, "actions.1.owner"),  # not a member of the station
        ("纪要", {"org": "far_school"}, "actions.1.owner_org"),  # another town
        ("纪要", {"decision": ""}, "actions.1.decision"),
    ],
)
def test_record_bad_input_writes_nothing(group, mworld, minutes, bad_row, field):
    w = mworld
    meeting = plan(w, group)
    bad = row(w.station, w.users["police"])
    if bad_row:
        if "deadline" in bad_row:
            bad["deadline"] = bad_row["deadline"]
        if "owner" in bad_row:
            bad["owner_id"] = w.users[bad_row["owner"]].pk
        if "org" in bad_row:
            bad["owner_org_id"] = getattr(w, bad_row["org"]).pk
            bad["owner_id"] = None
        if "decision" in bad_row:
            bad["decision"] = ""
    before = counts()
    with pytest.raises(ValidationError) as exc:
        record(w, meeting, minutes=minutes, actions=[row(w.station), bad])
    assert field in exc.value.message_dict
    assert counts() == before
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.PLANNED and meeting.minutes == ""


def test_record_refusals(group, mworld):
    w = mworld
    meeting = plan(w, group)
    with pytest.raises(ms.MeetingConflict):  # not started yet
        record(w, meeting, now=at(MONDAY, "08:00"))
    with pytest.raises(PermissionDenied):  # a reader
        ms.meeting_record(
            actor=w.users["edu"], meeting=meeting, minutes="x", now=at(MONDAY, "16:00")
        )
    with pytest.raises(Http404):  # another town
        ms.meeting_record(
            actor=w.users["fargov"], meeting=meeting, minutes="x", now=at(MONDAY, "16:00")
        )
    with pytest.raises(ValidationError):  # an attendee of another meeting
        record(w, meeting, absent=[999999])
    record(w, meeting)
    with pytest.raises(ms.MeetingConflict):  # twice
        record(w, meeting)


def test_meeting_update_only_while_planned(group, mworld):
    w = mworld
    meeting = plan(w, group)
    ms.meeting_update(
        actor=w.users["gov"],
        meeting=meeting,
        kind="joint",
        title="改期",
        starts_at=at(day(1), "14:00"),
        location="新地点",
        now=at(MONDAY - dt.timedelta(days=2)),
    )
    assert "meetings.rescheduled" in inbox(w.users["police"])
    record(w, meeting, now=at(day(1), "16:00"))
    with pytest.raises(ms.MeetingConflict):
        ms.meeting_update(
            actor=w.users["gov"],
            meeting=meeting,
            kind="joint",
            title="再改",
            starts_at=at(day(2)),
            now=at(day(1), "17:00"),
        )


def test_minutes_can_be_corrected_for_a_week_then_not(held, mworld):
    w = mworld
    edu = held.attendees.get(name="edu")
    ms.meeting_minutes_edit(
        actor=w.users["gov"],
        meeting=held,
        minutes="更正后的纪要",
        absent_ids=[edu.pk],
        now=at(day(7), "15:00"),
    )
    held.refresh_from_db()
    assert held.minutes == "更正后的纪要" and not held.attendees.get(pk=edu.pk).present
    audit = AuditEvent.objects.filter(
        object_type="supervision.meeting", object_id=str(held.pk), action="update"
    ).latest("id")
    assert audit.changes["fields"]["minutes"] == ["会议纪要正文", "更正后的纪要"]
    with pytest.raises(ValidationError):
        ms.meeting_minutes_edit(actor=w.users["gov"], meeting=held, minutes="", now=at(day(7)))
    with pytest.raises(ms.MeetingConflict):
        ms.meeting_minutes_edit(
            actor=w.users["gov"], meeting=held, minutes="太晚了", now=at(day(7), "16:01")
        )
    with pytest.raises(ms.MeetingConflict):
        ms.action_add(
            actor=w.users["gov"],
            meeting=held,
            decision="补充事项",
            owner_org_id=w.station.pk,
            deadline=day(20),
            now=at(day(8)),
        )
    held.refresh_from_db()
    assert held.minutes == "更正后的纪要"


def test_action_add_to_a_held_meeting(held, mworld):
    w = mworld
    item = ms.action_add(
        actor=w.users["gov"],
        meeting=held,
        decision="补充事项",
        owner_org_id=w.health_centre.pk,
        owner_id=w.users["healthy"].pk,
        deadline=day(20),
        now=at(day(1)),
    )
    assert item.meeting == held and item.status == ActionStatus.OPEN
    with pytest.raises(ValidationError) as exc:
        ms.action_add(
            actor=w.users["gov"],
            meeting=held,
            decision="x",
            owner_org_id=w.health_centre.pk,
            owner_id=w.users["police"].pk,
            deadline=day(-2),
            now=at(day(1)),
        )
    assert set(exc.value.message_dict) == {"owner", "deadline"}
    planned = plan(w, held.group, title="下次会议", starts_at=at(day(10)))
    with pytest.raises(ms.MeetingConflict):
        ms.action_add(
            actor=w.users["gov"],
            meeting=planned,
            decision="x",
            owner_org_id=w.station.pk,
            deadline=day(20),
            now=at(day(1)),
        )
