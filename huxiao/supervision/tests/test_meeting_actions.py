"""Action items tracked like hazards: every transition allowed and refused, who may make
each move (the responsible person or a leader of the organization; the group's office to
close or send back — never the one who answers for the item or reported it done), and the
trace of each step (event, audit row, notification)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from huxiao.audit.models import AuditEvent
from huxiao.core.roles import Role
from huxiao.notify.models import Delivery
from huxiao.orgs.tests.factories import MembershipFactory, UserFactory
from huxiao.supervision import meeting_services as ms
from huxiao.supervision.choices import ActionStatus
from huxiao.supervision.meeting_models import ActionEvent, ActionItem
from huxiao.supervision.tests.meeting_fixtures import (  # noqa: F401
    MONDAY,
    advance,
    at,
    group_fixture,
    held_fixture,
    move,
    mworld_fixture,
)

pytestmark = pytest.mark.django_db

S = ActionStatus
ALL_MOVES = ("start", "progress", "submit", "close", "send_back")
# (state, move) → the state it leads to; every other pair is refused (409).
ALLOWED = {
    (S.OPEN, "start"): S.IN_PROGRESS,
    (S.IN_PROGRESS, "progress"): S.IN_PROGRESS,
    (S.IN_PROGRESS, "submit"): S.SUBMITTED,
    (S.SUBMITTED, "close"): S.CLOSED,
    (S.SUBMITTED, "send_back"): S.IN_PROGRESS,
}


def inbox(user) -> list[str]:
    return list(
        Delivery.objects.filter(recipient=user, channel="inbox").values_list(
            "notification__event_type", flat=True
        )
    )


def item_in(w, held, state):
    item = held.station_item
    if state != S.OPEN:
        item = advance(w, item, state)
    item.refresh_from_db()
    assert item.status == state
    return item


def actor_for(name):
    return "gov2" if name in ("close", "send_back") else "police"


@pytest.mark.parametrize("state", [S.OPEN, S.IN_PROGRESS, S.SUBMITTED, S.CLOSED])
@pytest.mark.parametrize("name", ALL_MOVES)
def test_every_transition(mworld, held, state, name):
    w = mworld
    item = item_in(w, held, state)
    events = ActionEvent.objects.filter(action=item).count()
    audits = AuditEvent.objects.count()
    target = ALLOWED.get((state, name))
    if target is None:
        with pytest.raises(ms.MeetingConflict):
            move(w, item, name, actor_for(name), now=at(MONDAY, "18:00"))
        item.refresh_from_db()
        assert item.status == state
        assert ActionEvent.objects.filter(action=item).count() == events
        assert AuditEvent.objects.count() == audits
        return
    item = move(w, item, name, actor_for(name), now=at(MONDAY, "18:00"))
    item.refresh_from_db()
    assert item.status == target
    event = ActionEvent.objects.filter(action=item).latest("id")
    assert (event.from_status, event.to_status) == (state, target)
    assert event.actor == w.users[actor_for(name)] and event.note
    assert AuditEvent.objects.count() == audits + 1


def test_the_full_way_and_who_is_told(mworld, held):
    w = mworld
    item = held.station_item
    item = move(w, item, "start", "police", note="已安排辅警")
    assert item.progress == "已安排辅警"
    assert "meetings.action_started" in inbox(w.users["gov"])
    item = move(w, item, "progress", "police", note="两所学校已覆盖")
    assert item.progress == "两所学校已覆盖"
    item = move(w, item, "submit", "police", note="全部覆盖", now=at(MONDAY, "19:00"))
    assert item.submitted_at == at(MONDAY, "19:00")
    assert "meetings.action_submitted" in inbox(w.users["gov2"])
    item = move(w, item, "send_back", "gov", note="缺少照片")
    assert item.submitted_at is None and item.status == S.IN_PROGRESS
    assert "meetings.action_sent_back" in inbox(w.users["police"])
    item = move(w, item, "submit", "police", note="已补充")
    item = move(w, item, "close", "gov", now=at(MONDAY, "20:00"))
    assert (item.status, item.closed_by, item.closed_at) == (
        S.CLOSED,
        w.users["gov"],
        at(MONDAY, "20:00"),
    )
    assert "meetings.action_closed" in inbox(w.users["police"])
    steps = list(item.events.order_by("id").values_list("to_status", flat=True))
    assert steps == [
        S.OPEN,
        S.IN_PROGRESS,
        S.IN_PROGRESS,
        S.SUBMITTED,
        S.IN_PROGRESS,
        S.SUBMITTED,
        S.CLOSED,
    ]


@pytest.mark.parametrize(
    ("name", "may"),
    [
        ("police", True),  # the responsible person
        ("officer", False),  # a member of the station, not a leader
        ("principal", False),  # sees only the school's item
        ("gov", False),  # keeps the group; the work is the station's
        ("edu", False),
    ],
)
def test_who_starts_the_station_item(mworld, held, name, may):
    w = mworld
    item = held.station_item
    if may:
        assert move(w, item, "start", name).status == S.IN_PROGRESS
        return
    with pytest.raises((PermissionDenied, Http404)):
        move(w, item, "start", name)
    item.refresh_from_db()
    assert item.status == S.OPEN


@pytest.mark.parametrize(
    ("name", "outcome"),
    [
        ("principal", "ok"),  # the responsible person
        ("security", "denied"),  # a member of the school, not its leader
        ("teacher", "denied"),
        ("principal2", "hidden"),  # another school
        ("farpolice", "hidden"),
    ],
)
def test_who_starts_the_school_item(mworld, held, name, outcome):
    w = mworld
    item = held.school_item
    if outcome == "ok":
        assert move(w, item, "start", name).status == S.IN_PROGRESS
        return
    with pytest.raises(PermissionDenied if outcome == "denied" else Http404):
        move(w, item, "start", name)


def test_a_leader_of_the_organization_answers_when_the_person_is_not_named(mworld, held):
    w = mworld
    item = held.station_item
    ActionItem.objects.filter(pk=item.pk).update(owner=None)
    second = UserFactory(username="commander2")
    MembershipFactory(user=second, organization=w.station, role=Role.POLICE_COMMANDER)
    assert move(w, item, "start", "police").status == S.IN_PROGRESS
    w.users["commander2"] = second
    assert move(w, item, "submit", "commander2").status == S.SUBMITTED


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("gov", None),
        ("gov2", None),
        ("police", PermissionDenied),  # answers for it and reported it done
        ("edu", PermissionDenied),  # a member of the group, not its office
        ("county", PermissionDenied),  # reads the town's group, does not keep it
        ("fargov", Http404),
        ("teacher", Http404),  # the school sees only its own item
        ("principal", PermissionDenied),  # an attendee of the meeting sees its items
    ],
)
def test_who_closes(mworld, held, name, error):
    w = mworld
    item = advance(w, held.station_item, "submitted")
    if error is None:
        assert move(w, item, "close", name).status == S.CLOSED
        return
    with pytest.raises(error):
        move(w, item, "close", name)
    item.refresh_from_db()
    assert item.status == S.SUBMITTED and item.closed_at is None


def test_the_office_never_closes_its_own_work(mworld, held):
    """An item of the governance office itself: `gov` reports it done, `gov2` closes it."""
    w = mworld
    item = ms.action_add(
        actor=w.users["gov"],
        meeting=held,
        decision="督办通报",
        owner_org_id=w.gov_office.pk,
        owner_id=w.users["gov"].pk,
        deadline=MONDAY.replace(day=20),
        now=at(MONDAY, "17:00"),
    )
    move(w, item, "start", "gov")
    item = move(w, item, "submit", "gov")
    assert ms.allowed_moves(w.users["gov"], item) == []
    with pytest.raises(PermissionDenied):
        move(w, item, "close", "gov")
    with pytest.raises(PermissionDenied):
        move(w, item, "send_back", "gov")
    # A colleague who answers neither for it nor reported it: may.
    assert move(w, item, "close", "gov2").status == S.CLOSED


def test_a_submitter_who_is_not_the_owner_cannot_close(mworld, held):
    """`gov2` (a leader of the office) reports done the office's item owned by `gov`."""
    w = mworld
    item = ms.action_add(
        actor=w.users["gov"],
        meeting=held,
        decision="督办通报",
        owner_org_id=w.gov_office.pk,
        owner_id=w.users["gov"].pk,
        deadline=MONDAY.replace(day=20),
        now=at(MONDAY, "17:00"),
    )
    move(w, item, "start", "gov2")
    move(w, item, "submit", "gov2")
    for name in ("gov", "gov2"):
        with pytest.raises(PermissionDenied):
            move(w, item, "close", name)


@pytest.mark.parametrize(("name", "field"), [("progress", "note"), ("submit", "note")])
def test_notes_are_required(mworld, held, name, field):
    w = mworld
    item = advance(w, held.station_item, "in_progress")
    with pytest.raises(ValidationError) as exc:
        move(w, item, name, "police", note=" ")
    assert field in exc.value.message_dict
    item.refresh_from_db()
    assert item.status == S.IN_PROGRESS


def test_send_back_needs_a_reason(mworld, held):
    w = mworld
    item = advance(w, held.station_item, "submitted")
    with pytest.raises(ValidationError) as exc:
        move(w, item, "send_back", "gov", note="")
    assert "reason" in exc.value.message_dict
    item.refresh_from_db()
    assert item.status == S.SUBMITTED


def test_allowed_moves_follow_the_table(mworld, held):
    w = mworld
    item = held.station_item
    assert ms.allowed_moves(w.users["police"], item) == ["start"]
    assert ms.allowed_moves(w.users["gov"], item) == []
    item = advance(w, item, "submitted")
    assert ms.allowed_moves(w.users["police"], item) == []
    assert ms.allowed_moves(w.users["gov"], item) == ["close", "send_back"]
