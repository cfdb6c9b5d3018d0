"""The demo leading group (huxiao.supervision.meeting_demo): demo mode only, through the
real services, idempotent, and scoped like the real thing."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from huxiao.demo.township import DemoModeOff, load_demo_township
from huxiao.supervision import meeting_selectors as sel
from huxiao.supervision.choices import ActionStatus, GroupPosition, MeetingKind, MeetingStatus
from huxiao.supervision.meeting_demo import GROUP_NAME, load_demo_meetings
from huxiao.supervision.meeting_models import (
    ActionEvent,
    ActionItem,
    GroupMember,
    LeadingGroup,
    Meeting,
)

User = get_user_model()


def _counts():
    return tuple(
        m.objects.count() for m in (LeadingGroup, GroupMember, Meeting, ActionItem, ActionEvent)
    )


@pytest.mark.django_db
def test_refuses_outside_demo_mode_and_without_the_township(settings):
    settings.DEMO_MODE = False
    with pytest.raises(DemoModeOff):
        load_demo_meetings()
    settings.DEMO_MODE = True
    assert load_demo_meetings()["groups"] == 0
    assert not LeadingGroup.objects.exists()


@pytest.mark.django_db
def test_demo_group_loads_once_and_stays_in_scope(settings):
    settings.DEMO_MODE = True
    load_demo_township()
    first = load_demo_meetings()
    assert first == {"groups": 1, "members": 6, "meetings": 2, "actions": 3, "escalated": 2}
    group = LeadingGroup.objects.get()
    assert group.name == GROUP_NAME and group.owner.name == "大杨树镇综治办"
    kinds = {m.organization.kind for m in group.members.select_related("organization")}
    assert kinds == {"government", "governance_office", "police_station", "education_office",
                     "health_centre"}  # fmt: skip
    assert group.members.filter(position=GroupPosition.LEADER, user__isnull=True).count() == 1

    held = Meeting.objects.get(status=MeetingStatus.HELD)
    assert held.kind == MeetingKind.JOINT and held.minutes
    assert held.attendees.filter(present=False).count() == 1
    planned = Meeting.objects.get(status=MeetingStatus.PLANNED)
    assert planned.kind == MeetingKind.LEADING_GROUP and planned.attendees.count() == 6
    items = list(held.actions.order_by("id"))
    assert [i.status for i in items] == [
        ActionStatus.CLOSED,
        ActionStatus.IN_PROGRESS,
        ActionStatus.IN_PROGRESS,
    ]
    overdue = [i for i in items if sel.is_overdue(i)]
    assert len(overdue) == 1 and overdue[0].escalation_level == 2
    assert not sel.is_overdue(items[1]) and items[1].progress

    counts = _counts()
    assert load_demo_meetings() == {
        "groups": 0, "members": 0, "meetings": 0, "actions": 0, "escalated": 0
    }  # fmt: skip
    assert _counts() == counts

    gov, principal = User.objects.get(username="gov"), User.objects.get(username="principal")
    assert sel.may_keep(gov, group)
    assert sel.visible_actions(gov).count() == 3
    assert not sel.visible_actions(principal).exists()
    assert not sel.visible_groups(principal).exists()
