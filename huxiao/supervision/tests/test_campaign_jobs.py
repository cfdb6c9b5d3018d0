# ruff: noqa: F811 - pytest fixtures imported from campaign_fixtures are arguments here
"""The daily campaign reminders with a controllable clock: schools not submitted from three
days before the self-check is due and when overdue, owners of overdue gaps; once a day
(dedupe keys); queries that do not grow with the schools."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from huxiao.core.roles import Role
from huxiao.notify.models import Delivery, Notification
from huxiao.orgs.tests.factories import MembershipFactory, SchoolFactory, UserFactory
from huxiao.supervision import campaign_services as cs
from huxiao.supervision import tasks
from huxiao.supervision.choices import CampaignResult
from huxiao.supervision.tests.campaign_fixtures import (  # noqa: F401
    TODAY,
    advance,
    answer_all,
    at,
    campaign,
    day,
    entry_of,
    items_of,
    make_campaign,
)

pytestmark = pytest.mark.django_db


def told(event_type: str) -> set[str]:
    return set(
        Delivery.objects.filter(notification__event_type=event_type).values_list(
            "recipient__username", flat=True
        )
    )


def test_due_soon_window_then_overdue(sworld, campaign):
    w = sworld
    school, other = entry_of(campaign, w.school), entry_of(campaign, w.other_school)
    # Self-check due on day 7: nothing on day 3, reminders from day 4.
    assert cs.campaigns_remind(now=at(day(3), "08:00")) == {
        "due_soon": [],
        "overdue": [],
        "gap_owners": [],
    }
    result = cs.campaigns_remind(now=at(day(4), "08:00"))
    assert sorted(result["due_soon"]) == sorted([school.pk, other.pk])
    assert told("campaigns.self_check_due_soon") == {"principal", "security", "principal2"}
    note = Notification.objects.filter(event_type="campaigns.self_check_due_soon").first()
    assert "2025-03-10" in note.title

    # Once a day: a second run (or a second worker) the same day tells nobody.
    count = Notification.objects.count()
    assert cs.campaigns_remind(now=at(day(4), "18:00")) == {
        "due_soon": [],
        "overdue": [],
        "gap_owners": [],
    }
    assert Notification.objects.count() == count

    # The next day again, but not the school that has submitted.
    advance(sworld, campaign, "submitted", now=at(day(4), "10:00"))
    assert cs.campaigns_remind(now=at(day(5), "08:00"))["due_soon"] == [other.pk]
    # The due day itself is "due soon"; the day after, overdue.
    assert cs.campaigns_remind(now=at(day(7), "08:00"))["due_soon"] == [other.pk]
    result = cs.campaigns_remind(now=at(day(8), "08:00"))
    assert result["overdue"] == [other.pk] and result["due_soon"] == []
    assert told("campaigns.self_check_overdue") == {"principal2"}


def test_a_returned_school_is_reminded_too(sworld, campaign):
    w = sworld
    entry = advance(w, campaign, "submitted")
    cs.entry_return(actor=w.users["edu"], entry=entry, reason="补充", now=at(day(1)))
    result = cs.campaigns_remind(now=at(day(9), "08:00"))
    assert sorted(result["overdue"]) == sorted([entry.pk, entry_of(campaign, w.other_school).pk])


def test_overdue_gap_owners_once_a_day(sworld, campaign):
    w = sworld
    answer_all(w, campaign, gaps=(0, 2), owner=w.users["guard"])  # due day 5
    other = answer_all(w, campaign, school=w.other_school, gaps=(1,), owner=w.users["principal2"])
    cs.entry_submit(actor=w.users["principal2"], entry=other, now=at(TODAY, "12:00"))
    assert cs.campaigns_remind(now=at(day(5), "08:00"))["gap_owners"] == []
    result = cs.campaigns_remind(now=at(day(6), "08:00"))
    assert sorted(result["gap_owners"]) == sorted([w.users["guard"].pk, w.users["principal2"].pk])
    note = Notification.objects.get(
        event_type="campaigns.gap_overdue", dedupe_key__contains=f":{w.users['guard'].pk}:"
    )
    assert note.title.startswith("2") and items_of(campaign)[0].text in note.body
    assert cs.campaigns_remind(now=at(day(6), "20:00"))["gap_owners"] == []
    # Fixed gaps are not reminded; the next day only the remaining owner.
    for answer in entry_of(campaign, w.school).answers.filter(result=CampaignResult.GAP):
        cs.gap_fix(actor=w.users["guard"], answer=answer, note="已整改", now=at(day(6)))
    assert cs.campaigns_remind(now=at(day(7), "08:00"))["gap_owners"] == [w.users["principal2"].pk]
    # A closed campaign reminds nobody.
    cs.campaign_close(actor=w.users["edu"], campaign=campaign, now=at(day(7)))
    assert cs.campaigns_remind(now=at(day(9), "08:00")) == {
        "due_soon": [],
        "overdue": [],
        "gap_owners": [],
    }


def test_drafts_are_not_reminded(sworld):
    make_campaign(sworld, start=False)
    assert cs.campaigns_remind(now=at(day(8), "08:00"))["overdue"] == []


def _queries(now) -> int:
    with CaptureQueriesContext(connection) as ctx:
        cs.campaigns_remind(now=now)
    return len(ctx.captured_queries)


def test_queries_do_not_grow_with_schools(sworld):
    w = sworld
    small = make_campaign(w, title="小")
    answer_all(w, small, gaps=(0,))
    few = _queries(at(day(8), "08:00"))
    schools = []
    for i in range(10):
        school = SchoolFactory(town=w.town, name=f"学校{i}")
        principal = UserFactory(username=f"p{i}")
        MembershipFactory(user=principal, organization=school, role=Role.PRINCIPAL)
        schools.append(school)
    big = make_campaign(w, title="大", schools=[s.pk for s in schools], base=day(1))
    for school in schools[:5]:
        entry = entry_of(big, school)
        leader = school.memberships.get().user
        cs.campaign_answer(
            actor=leader,
            entry=entry,
            item=items_of(big)[0],
            result=CampaignResult.GAP,
            note="缺",
            gap_owner=leader,
            gap_deadline=day(3),
            now=at(day(1), "10:00"),
        )
    many = _queries(at(day(9), "08:00"))
    assert many <= few + 2
    # Day 9: the security officer again and the five principals, one message each.
    stamp = day(9).isoformat()
    assert (
        Notification.objects.filter(dedupe_key__endswith=stamp)
        .filter(event_type="campaigns.gap_overdue")
        .count()
        == 6
    )


def test_the_periodic_task(sworld, campaign):
    result = tasks.campaigns_remind_daily.call_local()
    assert set(result) == {"due_soon", "overdue", "gap_owners"}
    # The test campaign's dates lie in the past of the real clock: both schools overdue.
    assert result["overdue"] == 2
