"""Progress reports to the government: the figures against a hand-computed example, the
snapshot kept at sending, who receives it, and the refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from huxiao.audit.models import AuditEvent
from huxiao.notify.models import Delivery, Notification
from huxiao.supervision import meeting_selectors as sel
from huxiao.supervision import meeting_services as ms
from huxiao.supervision.meeting_models import ProgressReport
from huxiao.supervision.tests.meeting_fixtures import (  # noqa: F401
    MONDAY,
    advance,
    at,
    day,
    group_fixture,
    move,
    mworld_fixture,
    plan,
    record,
    row,
)

pytestmark = pytest.mark.django_db

PERIOD = (dt.date(2025, 3, 1), day(20))  # 2025-03-01 … 2025-03-23


@pytest.fixture
def history(mworld, group):
    """January: meeting A (X closed in January, Y for the kindergarten still open and long
    overdue). March: meeting B (Z closed on day 2, W for the education office in progress,
    due day 10); a meeting planned in March, not held."""
    w = mworld
    a = plan(w, group, title="一月会议", starts_at=at(day(-40)), now=at(day(-45)))
    record(
        w,
        a,
        now=at(day(-40), "16:00"),
        actions=[
            row(w.station, w.users["police"], day(-38), decision="X"),
            row(w.school, w.users["principal"], day(-30), decision="Y"),
        ],
    )
    x, y = a.actions.order_by("id")
    advance(w, x, "closed", now=at(day(-35)))
    b = plan(w, group, title="三月会议")
    record(
        w,
        b,
        actions=[
            row(w.station, w.users["police"], day(5), decision="Z"),
            row(w.edu_office, w.users["edu"], day(10), decision="W"),
        ],
    )
    z, wi = b.actions.order_by("id")
    advance(w, z, "closed", now=at(day(2)))
    move(w, wi, "start", "edu", now=at(day(1)))
    plan(w, group, title="三月未开会议", starts_at=at(day(15)), now=at(day(14)))
    return {"x": x, "y": y, "z": z, "w": wi}


def test_figures_by_hand(mworld, group, history):
    figures = sel.progress_figures(group, *PERIOD, today=day(20))
    assert figures["meetings_held"] == 1
    assert [m["title"] for m in figures["meetings"]] == ["三月会议"]
    rows = {r["organization"]: r for r in figures["by_organization"]}
    strip = {
        name: {k: v for k, v in r.items() if k not in ("organization", "organization_id")}
        for name, r in rows.items()
    }
    assert strip == {
        "本园": {"total": 1, "new": 0, "closed": 0, "open": 1, "overdue": 1},
        "派出所": {"total": 1, "new": 1, "closed": 1, "open": 0, "overdue": 0},
        "中心学校": {"total": 1, "new": 1, "closed": 0, "open": 1, "overdue": 1},
    }
    assert figures["totals"] == {"total": 3, "new": 2, "closed": 1, "open": 2, "overdue": 2}
    assert [(i["decision"], i["days_overdue"]) for i in figures["overdue_items"]] == [
        ("Y", 50),
        ("W", 10),
    ]
    # January alone: X was closed then, Y decided then.
    january = sel.progress_figures(group, dt.date(2025, 1, 1), dt.date(2025, 1, 31), day(20))
    assert january["totals"]["new"] == 2 and january["totals"]["closed"] == 1


def test_send_keeps_the_snapshot_and_tells_the_government(mworld, group, history):
    w = mworld
    report = ms.report_send(
        actor=w.users["gov"],
        group=group,
        period_start=PERIOD[0],
        period_end=PERIOD[1],
        summary="请审阅",
        now=at(day(20), "10:00"),
    )
    assert report.snapshot == sel.progress_figures(group, *PERIOD, today=day(20))
    assert list(report.sent_to.all()) == [w.government]
    assert (report.sent_by, report.sent_at) == (w.users["gov"], at(day(20), "10:00"))
    note = Notification.objects.get(event_type="meetings.report_sent")
    assert note.organization_id == w.government.pk
    assert Delivery.objects.filter(notification=note, recipient=w.users["liaison"]).exists()
    assert AuditEvent.objects.filter(object_type="supervision.progressreport").count() == 1
    # Later moves do not change what was sent.
    item = move(w, history["w"], "submit", "edu", now=at(day(21)))
    move(w, item, "close", "gov", now=at(day(21), "12:00"))
    report.refresh_from_db()
    assert report.snapshot["totals"]["open"] == 2


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (dt.date(2025, 3, 10), dt.date(2025, 3, 1), "period_start"),
        (dt.date(2025, 3, 1), day(25), "period_end"),  # after today
        (dt.date(2024, 1, 1), day(20), "period_start"),  # more than a year
        ("bad", day(20), "period_start"),
    ],
)
def test_bad_periods(mworld, group, start, end, field):
    w = mworld
    with pytest.raises(ValidationError) as exc:
        ms.report_send(
            actor=w.users["gov"], group=group, period_start=start, period_end=end, now=at(day(20))
        )
    assert field in exc.value.message_dict
    assert not ProgressReport.objects.exists()


def test_refusals(mworld, group):
    w = mworld
    with pytest.raises(PermissionDenied):
        ms.report_send(
            actor=w.users["liaison"],
            group=group,
            period_start=PERIOD[0],
            period_end=PERIOD[1],
            now=at(day(20)),
        )
    w.government.is_active = False
    w.government.save()
    with pytest.raises(ValidationError) as exc:
        ms.report_send(
            actor=w.users["gov"],
            group=group,
            period_start=PERIOD[0],
            period_end=PERIOD[1],
            now=at(day(20)),
        )
    assert "__all__" in exc.value.message_dict
    assert not ProgressReport.objects.exists()
