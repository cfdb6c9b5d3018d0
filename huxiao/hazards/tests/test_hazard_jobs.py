"""The daily overdue escalation with a controllable clock: one level a day (principal,
then the supervising office), idempotent the same day, fast on many hazards."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from huxiao.hazards import hazard_services as hs
from huxiao.hazards import tasks
from huxiao.hazards.models import Hazard, HazardEvent
from huxiao.hazards.tests.hazard_fixtures import (
    MONDAY,
    advance,
    at,
    day,
    report,
)
from huxiao.notify.models import Delivery, Notification

pytestmark = pytest.mark.django_db


def inbox_types(user):
    return [
        d.notification.event_type
        for d in Delivery.objects.filter(recipient=user, channel="inbox").select_related(
            "notification"
        )
    ]


@pytest.fixture
def overdue(hworld, media):
    """Assigned on Monday with a deadline on Wednesday (day 2)."""
    return advance(hworld, report(hworld), "assigned")


def assign_deadline(hazard, deadline):
    Hazard.objects.filter(pk=hazard.pk).update(deadline=deadline)


def test_one_level_a_day_then_idempotent(hworld, overdue):
    w = hworld
    assign_deadline(overdue, day(2))
    assert hs.hazards_escalate(now=at(day(2), "23:00")) == {"level_1": [], "level_2": []}

    assert hs.hazards_escalate(now=at(day(3), "07:30"))["level_1"] == [overdue.pk]
    overdue.refresh_from_db()
    assert overdue.escalation_level == 1 and overdue.escalated_at == at(day(3), "07:30")
    assert "hazards.overdue" in inbox_types(w.users["principal"])
    assert "hazards.overdue" in inbox_types(w.users["security"])  # the owner
    assert "hazards.overdue_escalated" not in inbox_types(w.users["edu"])

    # A second run the same day (or a second worker) does nothing.
    events = HazardEvent.objects.count()
    notifications = Notification.objects.count()
    assert hs.hazards_escalate(now=at(day(3), "18:00")) == {"level_1": [], "level_2": []}
    assert (HazardEvent.objects.count(), Notification.objects.count()) == (
        events,
        notifications,
    )

    assert hs.hazards_escalate(now=at(day(4), "07:30"))["level_2"] == [overdue.pk]
    overdue.refresh_from_db()
    assert overdue.escalation_level == 2
    assert "hazards.overdue_escalated" in inbox_types(w.users["edu"])
    note = Notification.objects.get(event_type="hazards.overdue_escalated")
    assert note.organization_id == w.edu_office.pk and "本园" in note.body
    # The top of the ladder: nothing more.
    assert hs.hazards_escalate(now=at(day(9), "07:30")) == {"level_1": [], "level_2": []}
    notes = list(overdue.events.filter(actor__isnull=True).values_list("note", flat=True))
    assert len(notes) == 2 and all(notes)


def test_a_long_overdue_hazard_still_climbs_one_level_a_day(hworld, overdue):
    assign_deadline(overdue, MONDAY)
    assert hs.hazards_escalate(now=at(day(20)))["level_1"] == [overdue.pk]
    assert hs.hazards_escalate(now=at(day(20), "23:59"))["level_2"] == []
    assert hs.hazards_escalate(now=at(day(21)))["level_2"] == [overdue.pk]


def test_only_open_hazards_past_their_deadline(hworld, media):
    w = hworld
    closed = advance(w, report(w, title="已关闭"), "closed")
    no_deadline = report(w, title="无期限")
    on_time = advance(w, report(w, title="未到期"), "assigned")
    assign_deadline(closed, MONDAY)
    assign_deadline(on_time, day(30))
    result = hs.hazards_escalate(now=at(day(10)))
    assert result == {"level_1": [], "level_2": []}
    assert no_deadline.escalation_level == 0


def test_a_new_deadline_restarts_the_ladder(hworld, overdue):
    w = hworld
    assign_deadline(overdue, MONDAY)
    hs.hazards_escalate(now=at(day(2)))
    overdue.refresh_from_db()
    hs.hazard_assign(
        actor=w.users["principal"],
        hazard=overdue,
        owner=w.users["security"],
        deadline=day(5),
        now=at(day(2), "10:00"),
    )
    overdue.refresh_from_db()
    assert (overdue.escalation_level, overdue.escalated_at) == (0, None)


def test_the_scan_takes_a_constant_number_of_queries(hworld, media):
    w = hworld
    hazards = [advance(w, report(w, title=f"隐患{i}"), "assigned") for i in range(3)]
    other = report(w, school=w.other_school, title="同镇")
    Hazard.objects.update(deadline=MONDAY)
    with CaptureQueriesContext(connection) as small:
        hs.hazards_escalate(now=at(day(3)))
    Hazard.objects.update(escalation_level=0, escalated_at=None)
    for i in range(20):
        advance(w, report(w, title=f"更多{i}"), "assigned")
    Hazard.objects.update(deadline=MONDAY)
    with CaptureQueriesContext(connection) as large:
        result = hs.hazards_escalate(now=at(day(5)))
    assert len(result["level_1"]) == 24
    assert len(large.captured_queries) <= len(small.captured_queries) + 2
    assert hazards and other


def test_the_periodic_task_calls_the_service(hworld, overdue):
    assign_deadline(overdue, MONDAY)
    assert tasks.hazards_escalate_daily.call_local() == {"level_1": 1, "level_2": 0}
