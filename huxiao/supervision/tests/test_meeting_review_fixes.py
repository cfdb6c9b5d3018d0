"""Review fixes of the leading-group area (ADR 0027, "Review fixes"): progress-report
periods before 2000 refused (no overflow), start and close notes checked like the other
notes (nothing applied on a bad one), and a member's row locked after its group's row."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models.query import QuerySet
from django.urls import reverse
from django.utils import translation

from huxiao.audit.models import AuditEvent
from huxiao.supervision import meeting_services as ms
from huxiao.supervision.choices import ActionStatus, GroupPosition
from huxiao.supervision.meeting_models import (
    ActionEvent,
    GroupMember,
    LeadingGroup,
    ProgressReport,
)
from huxiao.supervision.tests.meeting_fixtures import (  # noqa: F401
    advance,
    at,
    day,
    group_fixture,
    held_fixture,
    move,
    mworld_fixture,
)

pytestmark = pytest.mark.django_db

G = "/api/v1/supervision/groups"
ANCIENT = "0001-01-01"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


# ------------------------------------------------------------------ periods before 2000


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (dt.date(1, 1, 1), dt.date(1, 1, 2), "period_start"),
        (dt.date(1999, 12, 31), dt.date(2000, 1, 5), "period_start"),
        (dt.date(2025, 3, 1), dt.date(1, 1, 1), "period_end"),
    ],
)
def test_periods_before_2000_are_refused(mworld, group, start, end, field):
    with pytest.raises(ValidationError) as exc:
        ms.clean_period(start, end, now=at(day(20)))
    assert field in exc.value.message_dict
    assert "from 2000 on" in " ".join(exc.value.message_dict[field])


def test_period_from_2000_is_accepted(mworld, group):
    start, end = ms.clean_period("2000-01-01", "2000-12-31", now=at(day(20)))
    assert (start, end) == (dt.date(2000, 1, 1), dt.date(2000, 12, 31))


def test_ancient_period_is_400_in_the_api_and_on_the_page(api, client, mworld, group):
    w = mworld
    reports = f"{G}/{group.pk}/reports"
    preview = api(
        "get", f"{reports}/preview?period_start={ANCIENT}&period_end=0001-01-02", w.users["gov"]
    )
    assert preview.status_code == 400
    sent = api(
        "post",
        reports,
        w.users["gov"],
        json={"period_start": ANCIENT, "period_end": "0001-01-02", "summary": ""},
    )
    assert sent.status_code == 400
    assert not ProgressReport.objects.exists()
    client.force_login(w.users["gov"])
    url = reverse("supervision:meetings_report_new", args=[group.pk])
    page = client.get(url, {"period_start": ANCIENT, "period_end": "0001-01-02"})
    assert page.status_code == 400
    assert 'class="hx-error" role="alert"' in page.content.decode()
    posted = client.post(url, {"period_start": ANCIENT, "period_end": "0001-01-02"})
    assert posted.status_code == 400
    assert not ProgressReport.objects.exists()


# ------------------------------------------------------------------ start and close notes


BAD_NOTES = [("x" * 2001, "At most 2000"), ("bad\x07note", "control characters")]


@pytest.mark.parametrize(("note", "message"), BAD_NOTES)
def test_a_bad_start_note_is_refused_and_nothing_moves(mworld, held, note, message):
    w = mworld
    item = held.station_item
    audits = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as exc:
        move(w, item, "start", "police", note=note)
    assert message in " ".join(exc.value.message_dict["note"])
    item.refresh_from_db()
    assert item.status == ActionStatus.OPEN and item.progress == ""
    assert not ActionEvent.objects.filter(action=item, to_status=ActionStatus.IN_PROGRESS).exists()
    assert AuditEvent.objects.count() == audits


@pytest.mark.parametrize(("note", "message"), BAD_NOTES)
def test_a_bad_close_note_is_refused_and_nothing_moves(mworld, held, note, message):
    w = mworld
    item = advance(w, held.station_item, "submitted")
    with pytest.raises(ValidationError) as exc:
        move(w, item, "close", "gov", note=note)
    assert message in " ".join(exc.value.message_dict["note"])
    item.refresh_from_db()
    assert item.status == ActionStatus.SUBMITTED and item.closed_at is None


def test_blank_start_and_close_notes_still_pass(mworld, held):
    w = mworld
    item = move(w, held.station_item, "start", "police", note="")
    assert item.status == ActionStatus.IN_PROGRESS
    item = move(w, item, "submit", "police")
    item = move(w, item, "close", "gov", note="  ")
    assert item.status == ActionStatus.CLOSED


def test_bad_start_note_is_400_in_the_api(api, mworld, held):
    w = mworld
    item = held.station_item
    response = api(
        "post",
        f"/api/v1/supervision/actions/{item.pk}/start",
        w.users["police"],
        json={"note": "x" * 2001},
    )
    assert response.status_code == 400
    item.refresh_from_db()
    assert item.status == ActionStatus.OPEN


# ------------------------------------------------------------------ the group's row first


@pytest.fixture
def lock_order(monkeypatch):
    """The models of the rows locked (select_for_update), in order."""
    seen = []
    original = QuerySet.select_for_update

    def recording(self, *args, **kwargs):
        seen.append(self.model)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(QuerySet, "select_for_update", recording)
    return seen


def test_member_update_locks_the_group_before_the_member(mworld, group, lock_order):
    w = mworld
    member = GroupMember.objects.get(group=group, organization=w.station)
    ms.member_update(actor=w.users["gov"], member=member, title="副组长", position="deputy")
    assert LeadingGroup in lock_order and GroupMember in lock_order
    assert lock_order.index(LeadingGroup) < lock_order.index(GroupMember)


def test_member_deactivate_locks_the_group_first_too(mworld, group, lock_order):
    w = mworld
    member = GroupMember.objects.get(group=group, organization=w.station)
    ms.member_deactivate(actor=w.users["gov"], member=member)
    assert lock_order[:2] == [LeadingGroup, GroupMember]


def test_member_add_locks_the_group(mworld, group, lock_order):
    w = mworld
    ms.member_add(
        actor=w.users["gov"],
        group=group,
        organization_id=w.health_centre.pk,
        name="卫生院院长",
        position=GroupPosition.OFFICE_HEAD,
    )
    assert lock_order[0] is LeadingGroup


def test_one_leader_still_holds_after_the_lock_change(mworld, group):
    w = mworld
    member = GroupMember.objects.get(group=group, organization=w.station)
    with pytest.raises(ValidationError) as exc:
        ms.member_update(
            actor=w.users["gov"], member=member, title="组长", position=GroupPosition.LEADER
        )
    assert "position" in exc.value.message_dict
    member.refresh_from_db()
    assert member.position == GroupPosition.DEPUTY


def test_member_out_of_reach_or_without_the_right(mworld, group):
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    w = mworld
    member = GroupMember.objects.get(group=group, organization=w.station)
    with pytest.raises(Http404):
        ms.member_update(actor=w.users["fargov"], member=member, position="member")
    with pytest.raises(PermissionDenied):
        ms.member_update(actor=w.users["liaison"], member=member, position="member")


# ------------------------------------------------------------------ real concurrency (PostgreSQL)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_members_made_office_head_at_once_make_one(mworld, group, monkeypatch):
    """Two keepers make two different members head of the office at the same moment: both
    would pass "one office head" unless the group's row lock holds the second back."""
    import threading

    from django.db import connections

    w = mworld
    members = [
        GroupMember.objects.get(group=group, organization=w.station),
        GroupMember.objects.get(group=group, organization=w.edu_office),
    ]
    barrier = threading.Barrier(2, timeout=3)
    original = ms._check_single

    def check_then_wait(*args, **kwargs):
        original(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()  # the other change gets here too only without the group lock

    monkeypatch.setattr(ms, "_check_single", check_then_wait)
    outcomes = [None, None]

    def change(i):
        try:
            outcomes[i] = ms.member_update(
                actor=w.users["gov" if i == 0 else "gov2"],
                member=members[i],
                title="办公室主任",
                position=GroupPosition.OFFICE_HEAD,
            )
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
            outcomes[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=change, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(isinstance(o, GroupMember) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, ValidationError) for o in outcomes) == 1, outcomes
    heads = GroupMember.objects.filter(
        group=group, is_active=True, position=GroupPosition.OFFICE_HEAD
    )
    assert heads.count() == 1
