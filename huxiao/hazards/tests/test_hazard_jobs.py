"""The daily overdue escalation with a controllable clock: one level a day (principal,
then the supervising office), idempotent the same day, fast on many hazards."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from huxiao.core.roles import Role
from huxiao.core.scoping import clear_scope_cache
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
from huxiao.orgs.tests.factories import MembershipFactory, SchoolFactory, UserFactory

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


def test_assigning_again_neither_moves_the_deadline_later_nor_resets_the_ladder(hworld, overdue):
    """Review fix 4: a principal re-assigning with a later deadline used to wipe the
    escalation to the office (ADR 0026, "Review fixes")."""
    w = hworld
    assign_deadline(overdue, day(1))
    hs.hazards_escalate(now=at(day(3)))
    hs.hazards_escalate(now=at(day(4)))
    overdue.refresh_from_db()
    assert overdue.escalation_level == 2
    with pytest.raises(ValidationError) as exc:
        hs.hazard_assign(
            actor=w.users["principal"],
            hazard=overdue,
            owner=w.users["security"],
            deadline=day(300),
            now=at(day(4), "12:00"),
        )
    assert day(1).isoformat() in exc.value.message_dict["deadline"][0]
    # Another owner, the deadline kept (even though it has passed): the ladder stays.
    hs.hazard_assign(
        actor=w.users["principal"],
        hazard=overdue,
        owner=w.users["guard"],
        deadline=None,
        now=at(day(4), "12:00"),
    )
    overdue.refresh_from_db()
    assert (overdue.owner, overdue.deadline, overdue.escalation_level) == (
        w.users["guard"],
        day(1),
        2,
    )


def test_an_extension_by_the_supervising_side_restarts_the_ladder(hworld, overdue):
    w = hworld
    assign_deadline(overdue, MONDAY)
    hs.hazards_escalate(now=at(day(2)))
    overdue.refresh_from_db()
    assert overdue.escalation_level == 1
    # The school cannot extend its own deadline, even with VERIFY_HAZARD elsewhere.
    with pytest.raises(PermissionDenied):
        hs.hazard_extend(
            actor=w.users["principal"],
            hazard=overdue,
            deadline=day(9),
            reason="材料未到",
            now=at(day(2), "10:00"),
        )
    with pytest.raises(ValidationError) as exc:
        hs.hazard_extend(
            actor=w.users["edu"], hazard=overdue, deadline=day(9), reason="", now=at(day(2))
        )
    assert "reason" in exc.value.message_dict
    hs.hazard_extend(
        actor=w.users["edu"],
        hazard=overdue,
        deadline=day(9),
        reason="材料未到",
        now=at(day(2), "10:00"),
    )
    overdue.refresh_from_db()
    assert (overdue.deadline, overdue.escalation_level, overdue.escalated_at) == (day(9), 0, None)
    event = overdue.events.order_by("-id").first()
    assert event.actor == w.users["edu"] and "材料未到" in event.note
    assert hs.hazards_escalate(now=at(day(3)))["level_1"] == []


def test_a_submitted_hazard_is_not_escalated(hworld, hazard):
    """Review fix 6: waiting for the verifier is not the school's delay."""
    w = hworld
    h = advance(w, hazard, "submitted")
    assert h.deadline == day(5)
    assert hs.hazards_escalate(now=at(day(7), "07:30")) == {"level_1": [], "level_2": []}
    # Sent back after the deadline: the school's turn again, and the ladder climbs.
    hs.hazard_reject(actor=w.users["edu"], hazard=h, reason="照片不清楚", now=at(day(7), "09:00"))
    assert hs.hazards_escalate(now=at(day(8), "07:30"))["level_1"] == [h.pk]


def test_a_reopened_hazard_needs_a_new_deadline(hworld, hazard):
    """Review fix 6: reopened on its old, past deadline it was escalated the next morning."""
    w = hworld
    h = advance(w, hazard, "closed")
    with pytest.raises(ValidationError) as exc:
        hs.hazard_reopen(actor=w.users["edu"], hazard=h, reason="又堵了", now=at(day(20)))
    assert "deadline" in exc.value.message_dict
    h = hs.hazard_reopen(
        actor=w.users["edu"], hazard=h, reason="又堵了", deadline=day(27), now=at(day(20))
    )
    assert h.deadline == day(27) and h.status == "rectifying"
    assert hs.hazards_escalate(now=at(day(21))) == {"level_1": [], "level_2": []}


def test_the_scan_does_not_grow_with_the_number_of_schools(hworld, media):
    """Review fix 6: one notification batch, not a query round per school."""
    w = hworld

    def run(n: int) -> int:
        schools = [SchoolFactory(town=w.town, police_station=w.station) for _ in range(n)]
        clear_scope_cache(w.users["police"])
        for school in schools:
            MembershipFactory(user=UserFactory(), organization=school, role=Role.PRINCIPAL)
            report(w, school=school, deadline=day(1))
        with CaptureQueriesContext(connection) as ctx:
            result = hs.hazards_escalate(now=at(day(3 + n)))
        assert len(result["level_1"]) == n
        return len(ctx.captured_queries)

    two = run(2)
    Hazard.objects.all().delete()
    twelve = run(12)
    assert twelve <= two + 2, (two, twelve)


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


def test_every_escalation_is_audited_under_its_hazard(hworld, media):
    """The scan writes its events and audit rows in bulk (ADR 0026, "Performance"): each
    escalated hazard still has its own audit row and timeline event, with the level it
    left and the one it reached, by the system, at the run's time."""
    from huxiao.audit.models import AuditEvent

    w = hworld
    first = advance(w, report(w, title="门禁损坏"), "assigned")
    second = report(w, school=w.other_school, title="围墙缺口")
    Hazard.objects.update(deadline=MONDAY)
    hs.hazards_escalate(now=at(day(3)))

    result = hs.hazards_escalate(now=at(day(4)))
    assert (result["level_1"], result["level_2"]) == ([], [first.pk, second.pk])
    rows = {
        row.object_id: row
        for row in AuditEvent.objects.filter(object_type="hazards.hazard", at=at(day(4)))
    }
    assert set(rows) == {str(first.pk), str(second.pk)}
    row = rows[str(second.pk)]
    assert (row.action, row.actor_id, row.actor_label) == ("update", None, "system")
    assert (row.object_repr, row.school_id) == ("围墙缺口", w.other_school.pk)
    assert row.changes == {"fields": {"escalation_level": [1, 2]}}
    assert rows[str(first.pk)].school_id == w.school.pk
    events = HazardEvent.objects.filter(actor__isnull=True, at=at(day(4))).order_by("hazard_id")
    assert [(e.hazard_id, e.actor_label, e.from_status, e.to_status) for e in events] == [
        (first.pk, "system", "assigned", "assigned"),
        (second.pk, "system", "reported", "reported"),
    ]
    assert all(e.note for e in events)
