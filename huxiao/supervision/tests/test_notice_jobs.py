# ruff: noqa: F811 - pytest fixtures imported from notice_fixtures are arguments here
"""The daily reminder of unresolved public criticisms past their date, with a controllable
clock: flagged to the issuing office after the date, once a day, until resolved."""

from __future__ import annotations

import pytest

from huxiao.audit.models import AuditEvent
from huxiao.notify.models import Delivery, Notification
from huxiao.supervision import notice_services as ns
from huxiao.supervision import tasks
from huxiao.supervision.choices import NoticeKind
from huxiao.supervision.tests.notice_fixtures import (  # noqa: F401
    MONDAY,
    at,
    criticism,
    day,
    draft,
    make_draft,
    nworld,
    publish,
)

pytestmark = pytest.mark.django_db


def reminders(user) -> int:
    return Delivery.objects.filter(
        recipient=user, channel="inbox", notification__event_type="supervision.notice_overdue"
    ).count()


def test_flagged_after_the_date_once_a_day_until_resolved(nworld, criticism):
    w = nworld
    # improve_by is day 7: on the day itself nothing is late yet.
    assert ns.notices_remind(now=at(day(7), "23:00")) == {"flagged": []}
    assert ns.notices_remind(now=at(day(8), "07:40")) == {"flagged": [criticism.pk]}
    criticism.refresh_from_db()
    assert criticism.reminded_on == day(8)
    assert reminders(w.users["edu"]) == 1
    note = Notification.objects.get(event_type="supervision.notice_overdue")
    assert note.organization_id == w.edu_office.pk and criticism.title in note.body
    # The school and the other offices are not told by this job.
    assert reminders(w.users["principal"]) == 0 and reminders(w.users["gov"]) == 0
    assert AuditEvent.objects.filter(
        object_type="supervision.notice", actor__isnull=True, object_id=str(criticism.pk)
    ).exists()

    # A second run the same day does nothing.
    count = Notification.objects.count()
    assert ns.notices_remind(now=at(day(8), "18:00")) == {"flagged": []}
    assert Notification.objects.count() == count

    # The next day it is flagged again.
    assert ns.notices_remind(now=at(day(9), "07:40")) == {"flagged": [criticism.pk]}
    assert reminders(w.users["edu"]) == 2

    # Resolved: no more reminders.
    ns.notice_resolve(actor=w.users["edu"], notice=criticism, resolution="已整改", now=at(day(9)))
    assert ns.notices_remind(now=at(day(10), "07:40")) == {"flagged": []}
    assert reminders(w.users["edu"]) == 2


def test_drafts_and_commendations_are_never_flagged(nworld, draft):
    w = nworld
    publish(w, make_draft(w, kind=NoticeKind.COMMENDATION, reference="测试教〔2025〕9号"))
    assert ns.notices_remind(now=at(day(30))) == {"flagged": []}
    assert not Notification.objects.filter(event_type="supervision.notice_overdue").exists()


def test_one_message_per_issuer(nworld, criticism):
    w = nworld
    second = publish(
        w, make_draft(w, title="第二份", reference="测试教〔2025〕2号", improve_by=day(3))
    )
    by_gov = publish(
        w,
        make_draft(
            w,
            actor=w.users["gov"],
            title="综治办通报",
            recipients=[w.school.pk],
            improve_by=day(2),
        ),
        actor=w.users["gov"],
    )
    flagged = ns.notices_remind(now=at(day(10)))["flagged"]
    assert sorted(flagged) == sorted([criticism.pk, second.pk, by_gov.pk])
    assert Notification.objects.filter(event_type="supervision.notice_overdue").count() == 2
    assert reminders(w.users["edu"]) == 1 and reminders(w.users["gov"]) == 1


def test_periodic_task_calls_the_service(nworld, criticism, monkeypatch):
    seen = {}

    def fake(*, now=None):
        seen["now"] = now
        return {"flagged": [criticism.pk]}

    monkeypatch.setattr(tasks, "notices_remind", fake)
    assert tasks.notices_remind_daily.call_local() == {"flagged": 1}
    assert seen == {"now": None}
