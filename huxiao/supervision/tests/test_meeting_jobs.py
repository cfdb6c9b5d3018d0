"""The daily overdue escalation of action items with a controllable clock: one level a day
(the responsible organization's leaders, then the group's office), deduplicated the same
day, items reported done or closed left alone, and a query count that does not grow with
the number of items."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from huxiao.audit.models import AuditEvent
from huxiao.notify.models import Delivery, Notification
from huxiao.supervision import meeting_services as ms
from huxiao.supervision import tasks
from huxiao.supervision.choices import ActionStatus
from huxiao.supervision.meeting_models import ActionEvent, ActionItem
from huxiao.supervision.tests.meeting_fixtures import (  # noqa: F401
    MONDAY,
    advance,
    at,
    day,
    group_fixture,
    held_fixture,
    mworld_fixture,
)

pytestmark = pytest.mark.django_db

NOTHING = {"level_1": [], "level_2": []}


def inbox(user) -> list[str]:
    return list(
        Delivery.objects.filter(recipient=user, channel="inbox").values_list(
            "notification__event_type", flat=True
        )
    )


def test_one_level_a_day_then_idempotent(mworld, held):
    w = mworld
    station, school = held.station_item, held.school_item
    assert ms.actions_escalate(now=at(day(5), "23:00")) == NOTHING  # due today: not late

    result = ms.actions_escalate(now=at(day(6), "07:35"))
    assert sorted(result["level_1"]) == sorted([station.pk, school.pk])
    station.refresh_from_db()
    assert station.escalation_level == 1 and station.escalated_at == at(day(6), "07:35")
    # Level 1: the leaders of each responsible organization (and the responsible person).
    assert "meetings.action_overdue" in inbox(w.users["police"])
    assert "meetings.action_overdue" in inbox(w.users["principal"])
    assert "meetings.action_overdue" not in inbox(w.users["officer"])
    assert "meetings.action_overdue" not in inbox(w.users["teacher"])
    assert "meetings.action_overdue_escalated" not in inbox(w.users["gov"])
    notes = Notification.objects.filter(event_type="meetings.action_overdue")
    assert {n.organization_id for n in notes} == {w.station.pk, w.school.pk}
    assert AuditEvent.objects.filter(
        object_type="supervision.actionitem", actor__isnull=True, school_id=w.school.pk
    ).exists()

    # A second run the same day (or a second worker) does nothing.
    before = (ActionEvent.objects.count(), Notification.objects.count())
    assert ms.actions_escalate(now=at(day(6), "18:00")) == NOTHING
    assert (ActionEvent.objects.count(), Notification.objects.count()) == before

    result = ms.actions_escalate(now=at(day(7), "07:35"))
    assert sorted(result["level_2"]) == sorted([station.pk, school.pk])
    # Level 2: one notice to the group's office, naming both organizations.
    note = Notification.objects.get(event_type="meetings.action_overdue_escalated")
    assert note.organization_id == w.gov_office.pk
    assert "派出所" in note.body and "本园" in note.body
    assert "meetings.action_overdue_escalated" in inbox(w.users["gov"])
    assert "meetings.action_overdue_escalated" in inbox(w.users["gov2"])
    assert "meetings.action_overdue_escalated" not in inbox(w.users["edu"])
    # The top of the ladder: nothing more, ever.
    assert ms.actions_escalate(now=at(day(30), "07:35")) == NOTHING
    system = station.events.filter(actor__isnull=True, actor_label="system")
    assert system.count() == 2 and all(e.note for e in system)


def test_a_long_overdue_item_still_climbs_one_level_a_day(mworld, held):
    ActionItem.objects.filter(pk=held.station_item.pk).update(deadline=MONDAY)
    assert held.station_item.pk in ms.actions_escalate(now=at(day(20)))["level_1"]
    assert ms.actions_escalate(now=at(day(20), "23:59"))["level_2"] == []
    assert held.station_item.pk in ms.actions_escalate(now=at(day(21)))["level_2"]


def test_only_items_in_the_owners_hands(mworld, held):
    w = mworld
    advance(w, held.station_item, "submitted")
    closed = advance(w, held.school_item, "closed", owner="principal")
    assert closed.status == ActionStatus.CLOSED
    assert ms.actions_escalate(now=at(day(10))) == NOTHING


def test_an_in_progress_item_escalates(mworld, held):
    w = mworld
    advance(w, held.station_item, "in_progress")
    assert ms.actions_escalate(now=at(day(6)))["level_1"] == sorted(
        [held.station_item.pk, held.school_item.pk]
    )


def _items(w, held, n):
    """n more overdue items spread over the area's organizations."""
    orgs = [w.station, w.school, w.other_school, w.edu_office, w.health_centre, w.government]
    ActionItem.objects.all().delete()
    ActionItem.objects.bulk_create(
        [
            ActionItem(
                meeting=held,
                decision=f"事项{i}",
                owner_org=orgs[i % (2 if n <= 2 else len(orgs))],
                deadline=MONDAY,
            )
            for i in range(n)
        ]
    )


@pytest.mark.parametrize("step", ["level_1", "level_2"])
def test_queries_do_not_grow_with_the_items(mworld, held, step):
    w = mworld
    counts = {}
    for n in (2, 10):
        _items(w, held, n)
        Notification.objects.all().delete()
        if step == "level_2":
            ms.actions_escalate(now=at(day(3)))
        with CaptureQueriesContext(connection) as ctx:
            result = ms.actions_escalate(now=at(day(4 if step == "level_2" else 3)))
        assert len(result[step]) == n
        counts[n] = len(ctx.captured_queries)
    assert counts[2] == counts[10]


def test_the_periodic_task_calls_the_job(mworld, held, monkeypatch):
    calls = []
    monkeypatch.setattr(tasks, "actions_escalate", lambda: calls.append(1) or NOTHING)
    assert tasks.actions_escalate_daily.call_local() == {"level_1": 0, "level_2": 0}
    assert calls == [1]
