"""Pages of the leading group and its meetings: they render for those in scope, 403 for
those with no place in the area, 404 outside the scope, 409 for a state that does not allow
the write, 400 with the errors in place for bad input — and nothing half-written."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.supervision.choices import ActionStatus, MeetingStatus
from huxiao.supervision.meeting_models import (
    ActionItem,
    GroupMember,
    LeadingGroup,
    Meeting,
    ProgressReport,
)
from huxiao.supervision.meeting_selectors import local_today
from huxiao.supervision.tests.meeting_fixtures import (  # noqa: F401
    add_member,
    group_fixture,
    key_of,
    make_group,
    mworld_fixture,
    plan,
    record,
    row,
)

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def url(name, *args):
    return reverse(f"supervision:meetings_{name}", args=args)


@pytest.fixture
def live(mworld, group):
    """A joint meeting that started two hours ago, held, with the station's and the
    kindergarten's items due in five days (real clock)."""
    w = mworld
    now = timezone.now()
    meeting = plan(w, group, starts_at=now - dt.timedelta(hours=2), now=now - dt.timedelta(days=1))
    deadline = local_today() + dt.timedelta(days=5)
    record(
        w,
        meeting,
        now=now,
        actions=[
            row(w.station, w.users["police"], deadline, decision="护学岗全覆盖"),
            row(w.school, w.users["principal"], deadline, decision="幼儿园围墙整改"),
        ],
    )
    meeting.refresh_from_db()
    meeting.station_item, meeting.school_item = meeting.actions.order_by("id")
    return meeting


@pytest.fixture
def planned(mworld, group):
    w = mworld
    now = timezone.now()
    return plan(w, group, starts_at=now - dt.timedelta(minutes=30), now=now, title="待记录会议")


# ------------------------------------------------------------------ the group


def test_anonymous_goes_to_login(client, mworld):
    assert client.get(url("group_list")).status_code == 302
    assert client.get(url("action_list")).status_code == 302


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("gov", 302),  # one group, nothing to set up: straight to it
        ("edu", 302),
        ("county", 200),  # reads the town's group, may set up the county's
        ("fargov", 200),  # may set up the other town's; does not see this one
        ("principal", 403),
        ("teacher", 403),
        ("nobody", 403),
    ],
)
def test_group_list(client, mworld, group, name, status):
    response = login(client, mworld.users[name]).get(url("group_list"))
    assert response.status_code == status
    body = response.content.decode()
    if name == "county":
        assert group.name in body and 'data-testid="group-new"' in body
    if name == "fargov":
        assert group.name not in body


def test_group_setup_page(client, mworld):
    w = mworld
    c = login(client, w.users["gov"])
    assert c.get(url("group_new")).status_code == 200
    response = c.post(url("group_new"), {"name": "", "duties": ""})
    assert response.status_code == 400 and not LeadingGroup.objects.exists()
    response = c.post(url("group_new"), {"name": "领导小组", "established_on": "2024-01-01"})
    group = LeadingGroup.objects.get()
    assert response.status_code == 302 and response.url == url("group_detail", group.pk)
    # A second one for the town: there is nothing left to set up.
    assert c.get(url("group_new")).status_code == 302
    assert LeadingGroup.objects.count() == 1
    assert login(client, w.users["edu"]).get(url("group_new")).status_code == 403


@pytest.mark.parametrize(
    ("name", "status", "keeper"),
    [
        ("gov", 200, True),
        ("police", 200, False),
        ("liaison", 200, False),
        ("county", 200, False),
        ("fargov", 404, False),
        ("principal", 403, False),
    ],
)
def test_group_detail(client, mworld, live, name, status, keeper):
    response = login(client, mworld.users[name]).get(url("group_detail", live.group_id))
    assert response.status_code == status
    if status == 200:
        body = response.content.decode()
        assert ('data-testid="meeting-plan"' in body) is keeper
        assert live.title in body and 'data-testid="member-row"' in body


def test_group_edit_and_members(client, mworld, group):
    w = mworld
    assert login(client, w.users["edu"]).get(url("group_edit", group.pk)).status_code == 403
    c = login(client, w.users["gov"])
    response = c.post(url("group_edit", group.pk), {"name": "新名称", "duties": "职责"})
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.name == "新名称"
    assert c.get(url("member_new", group.pk)).status_code == 200
    bad = {"organization": w.station.pk, "user": w.users["edu"].pk, "position": "member"}
    response = c.post(url("member_new", group.pk), bad)
    assert response.status_code == 400 and 'data-testid="member-form"' in response.content.decode()
    assert not GroupMember.objects.filter(group=group, user=w.users["edu"], organization=w.station)
    good = {"organization": w.health_centre.pk, "user": w.users["healthy"].pk, "position": "member"}
    assert c.post(url("member_new", group.pk), good).status_code == 302
    member = GroupMember.objects.get(group=group, user=w.users["healthy"])
    response = c.post(url("member_edit", member.pk), {"title": "科长", "position": "member"})
    assert response.status_code == 302
    assert c.post(url("member_deactivate", member.pk)).status_code == 302
    assert c.post(url("member_deactivate", member.pk)).status_code == 409
    member.refresh_from_db()
    assert (member.title, member.is_active) == ("科长", False)
    # Another keeper's town: not found.
    assert (
        login(client, w.users["fargov"]).post(url("member_deactivate", member.pk)).status_code
        == 404
    )


# ------------------------------------------------------------------ meetings


def test_plan_page(client, mworld, group):
    w = mworld
    c = login(client, w.users["gov"])
    assert c.get(url("meeting_plan", group.pk)).status_code == 200
    starts = (timezone.localtime() + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    data = {"kind": "joint", "title": "联席会议", "starts_at": starts, "location": "会议室"}
    response = c.post(url("meeting_plan", group.pk), data)  # nobody invited
    assert response.status_code == 400 and not Meeting.objects.exists()
    data["invitees"] = [key_of(group, w.users["police"]), key_of(group, w.users["principal"])]
    response = c.post(url("meeting_plan", group.pk), data)
    meeting = Meeting.objects.get()
    assert response.status_code == 302 and meeting.attendees.count() == 2
    assert login(client, w.users["police"]).get(url("meeting_plan", group.pk)).status_code == 403


@pytest.mark.parametrize(
    ("name", "status"),
    [("gov", 200), ("principal", 200), ("liaison", 200), ("teacher", 404), ("nobody", 403)],
)
def test_meeting_detail_scope(client, mworld, live, name, status):
    response = login(client, mworld.users[name]).get(url("meeting_detail", live.pk))
    assert response.status_code == status
    if status == 200:
        assert 'data-testid="minutes"' in response.content.decode()


def test_record_page(client, mworld, planned):
    w = mworld
    c = login(client, w.users["gov"])
    page = c.get(url("meeting_record", planned.pk))
    assert page.status_code == 200
    assert page.content.decode().count('data-testid="action-row-form"') == 3
    assert (
        c.get(url("meeting_record", planned.pk), {"rows": 6})
        .content.decode()
        .count('data-testid="action-row-form"')
        == 6
    )
    attendees = [str(a.pk) for a in planned.attendees.all()]
    deadline = (local_today() + dt.timedelta(days=10)).isoformat()
    base = {"rows": 2, "present": attendees[1:], "minutes": "纪要"}
    good_row = {"a0-decision": "整改", "a0-owner_org": w.station.pk, "a0-deadline": deadline}
    # Empty minutes; a past deadline; a person not in the organization: 400, nothing written.
    for bad in (
        {**base, "minutes": "", **good_row},
        {**base, **good_row, "a1-decision": "x", "a1-owner_org": w.station.pk,
         "a1-deadline": "2000-01-01"},
        {**base, **good_row, "a0-owner": w.users["edu"].pk},
    ):  # fmt: skip
        response = c.post(url("meeting_record", planned.pk), bad)
        assert response.status_code == 400
        planned.refresh_from_db()
        assert planned.status == MeetingStatus.PLANNED and not ActionItem.objects.exists()
    response = c.post(url("meeting_record", planned.pk), {**base, **good_row})
    assert response.status_code == 302
    planned.refresh_from_db()
    assert planned.status == MeetingStatus.HELD and planned.actions.count() == 1
    assert planned.attendees.filter(present=False).count() == 1
    # Recording again: the state does not allow it.
    assert c.get(url("meeting_record", planned.pk)).status_code == 409
    assert c.post(url("meeting_record", planned.pk), {**base, **good_row}).status_code == 409
    assert login(client, w.users["edu"]).get(url("meeting_record", planned.pk)).status_code == 403


def test_a_future_meeting_cannot_be_recorded(client, mworld, group):
    w = mworld
    now = timezone.now()
    meeting = plan(w, group, starts_at=now + dt.timedelta(days=2), now=now)
    c = login(client, w.users["gov"])
    assert c.get(url("meeting_record", meeting.pk)).status_code == 409
    response = c.get(url("meeting_detail", meeting.pk))
    assert 'data-testid="meeting-record"' not in response.content.decode()
    assert 'data-testid="meeting-edit"' in response.content.decode()
    starts = (timezone.localtime() + dt.timedelta(days=4)).strftime("%Y-%m-%dT%H:%M")
    data = {"kind": "joint", "title": "改期", "starts_at": starts}
    assert c.post(url("meeting_edit", meeting.pk), data).status_code == 302
    meeting.refresh_from_db()
    assert meeting.title == "改期"


def test_minutes_correction_window(client, mworld, live):
    w = mworld
    c = login(client, w.users["gov"])
    present = [str(a.pk) for a in live.attendees.all()]
    assert c.get(url("minutes_edit", live.pk)).status_code == 200
    response = c.post(url("minutes_edit", live.pk), {"present": present, "minutes": "更正"})
    assert response.status_code == 302
    live.refresh_from_db()
    assert live.minutes == "更正"
    assert (
        c.post(url("minutes_edit", live.pk), {"present": present, "minutes": ""}).status_code == 400
    )
    Meeting.objects.filter(pk=live.pk).update(
        held_recorded_at=timezone.now() - dt.timedelta(days=8)
    )
    assert c.get(url("minutes_edit", live.pk)).status_code == 409
    assert c.post(url("minutes_edit", live.pk), {"minutes": "太晚"}).status_code == 409
    assert c.get(url("action_new", live.pk)).status_code == 409
    live.refresh_from_db()
    assert live.minutes == "更正"


def test_add_an_action_item(client, mworld, live):
    w = mworld
    c = login(client, w.users["gov"])
    assert c.get(url("action_new", live.pk)).status_code == 200
    deadline = (local_today() + dt.timedelta(days=3)).isoformat()
    bad = {"a0-decision": "补充", "a0-owner_org": w.far_school.pk, "a0-deadline": deadline}
    assert c.post(url("action_new", live.pk), bad).status_code == 400
    good = {"a0-decision": "补充", "a0-owner_org": w.health_centre.pk, "a0-deadline": deadline}
    response = c.post(url("action_new", live.pk), good)
    item = ActionItem.objects.get(decision="补充")
    assert response.status_code == 302 and response.url == url("action_detail", item.pk)


def test_printable_minutes(client, mworld, live, planned):
    w = mworld
    c = login(client, w.users["liaison"])
    body = c.get(url("minutes_print", live.pk)).content.decode()
    assert 'data-testid="minutes-print"' in body and "护学岗全覆盖" in body
    assert "print.css" in body and 'data-testid="draft"' not in body
    draft = c.get(url("minutes_print", planned.pk)).content.decode()
    assert 'data-testid="draft"' in draft
    assert login(client, w.users["teacher"]).get(url("minutes_print", live.pk)).status_code == 404


# ------------------------------------------------------------------ action items


@pytest.mark.parametrize(
    ("name", "status", "rows"),
    [
        ("gov", 200, 2),
        ("police", 200, 2),
        ("teacher", 200, 1),  # the school's item only
        ("principal2", 200, 0),
        ("nobody", 403, None),
    ],
)
def test_action_list_scope(client, mworld, live, name, status, rows):
    response = login(client, mworld.users[name]).get(url("action_list"))
    assert response.status_code == status
    if rows is not None:
        assert response.content.decode().count('data-testid="action-row"') == rows


def test_action_list_filters_and_queries(client, mworld, live, django_assert_max_num_queries):
    w = mworld
    c = login(client, w.users["gov"])
    body = c.get(url("action_list"), {"organization": w.school.pk}).content.decode()
    assert "幼儿园围墙整改" in body and "护学岗全覆盖" not in body
    ActionItem.objects.filter(pk=live.station_item.pk).update(
        deadline=local_today() - dt.timedelta(days=1)
    )
    body = c.get(url("action_list"), {"overdue": "on"}).content.decode()
    assert "护学岗全覆盖" in body and "幼儿园围墙整改" not in body
    assert c.get(url("action_list"), {"status": "bogus", "page": "x"}).status_code == 200
    ActionItem.objects.bulk_create(
        [
            ActionItem(
                meeting=live, decision=f"事项{i}", owner_org=w.station, deadline=local_today()
            )
            for i in range(25)
        ]
    )
    c.get(url("action_list"))
    with django_assert_max_num_queries(14):
        c.get(url("action_list"))


def test_action_detail_and_moves(client, mworld, live):
    w = mworld
    item = live.school_item
    page = login(client, w.users["principal"]).get(url("action_detail", item.pk)).content.decode()
    assert 'data-testid="do-start"' in page
    teacher = login(client, w.users["teacher"])
    page = teacher.get(url("action_detail", item.pk)).content.decode()
    assert 'data-testid="do-start"' not in page
    assert teacher.post(url("action_move", item.pk, "start"), {}).status_code == 403
    assert teacher.get(url("action_detail", live.station_item.pk)).status_code == 404
    c = login(client, w.users["principal"])
    assert c.post(url("action_move", item.pk, "fly"), {}).status_code == 404
    assert c.post(url("action_move", item.pk, "submit"), {}).status_code == 409
    assert c.post(url("action_move", item.pk, "start"), {"start-note": "已开始"}).status_code == 302
    assert c.post(url("action_move", item.pk, "submit"), {"submit-note": ""}).status_code == 400
    assert c.post(url("action_move", item.pk, "submit"), {"submit-note": "完成"}).status_code == 302
    item.refresh_from_db()
    assert item.status == ActionStatus.SUBMITTED
    gov = login(client, w.users["gov"])
    assert gov.post(url("action_move", item.pk, "send_back"), {}).status_code == 400
    assert gov.post(url("action_move", item.pk, "close"), {"close-note": ""}).status_code == 302
    item.refresh_from_db()
    assert item.status == ActionStatus.CLOSED
    assert gov.post(url("action_move", item.pk, "close"), {}).status_code == 409
    assert gov.get(url("action_detail", 2**63)).status_code == 404


# ------------------------------------------------------------------ progress reports


def test_progress_report_pages(client, mworld, live):
    w = mworld
    c = login(client, w.users["gov"])
    page = c.get(url("report_new", live.group_id))
    assert page.status_code == 200
    assert page.content.decode().count('data-testid="figure-row"') == 2
    today = local_today()
    period = {"period_start": today.replace(day=1).isoformat(), "period_end": today.isoformat()}
    preview = c.post(url("report_new", live.group_id), {**period, "preview": "1"})
    assert preview.status_code == 200 and not ProgressReport.objects.exists()
    future = {**period, "period_end": (today + dt.timedelta(days=3)).isoformat()}
    assert c.post(url("report_new", live.group_id), future).status_code == 400
    response = c.post(url("report_new", live.group_id), {**period, "summary": "请审阅"})
    report = ProgressReport.objects.get()
    assert response.status_code == 302 and response.url == url("report_detail", report.pk)
    assert list(report.sent_to.all()) == [w.government]
    body = login(client, w.users["liaison"]).get(url("report_detail", report.pk)).content.decode()
    assert 'data-testid="report-print"' in body and "请审阅" in body
    listing = c.get(url("report_list", live.group_id)).content.decode()
    assert listing.count('data-testid="report-row"') == 1
    assert (
        login(client, w.users["liaison"]).get(url("report_new", live.group_id)).status_code == 403
    )
    assert login(client, w.users["fargov"]).get(url("report_detail", report.pk)).status_code == 404
