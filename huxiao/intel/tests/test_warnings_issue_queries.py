"""Issuing an early warning costs the same number of queries for 3 schools as for 12
(no query per school inside the transaction)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from huxiao.core.roles import Role
from huxiao.intel import warnings_services as services
from huxiao.intel.models import EarlyWarningRecipient
from huxiao.notify.models import ChannelConfig, Delivery, Notification
from huxiao.orgs.tests.factories import MembershipFactory, SchoolFactory, UserFactory

pytestmark = pytest.mark.django_db


def _add_schools(ww, count: int) -> None:
    """More schools of the station, each with a guard (a receiver) and a robot channel."""
    for _ in range(count):
        school = SchoolFactory(town=ww.town, police_station=ww.station)
        MembershipFactory(user=UserFactory(), organization=school, role=Role.GUARD)
        channel = ChannelConfig(
            organization=school,
            kind="wecom",
            name="群",
            target_display="https://example.invalid/…",
            credentials_changed_at=timezone.now(),
        )
        channel.set_target("https://example.invalid/hook")
        channel.save()


def _issue_queries(ww) -> int:
    # A fresh user object: the scope cache lives on it, as it does on a request's user.
    user = type(ww.users["police"]).objects.get(pk=ww.users["police"].pk)
    services.issuer_orgs(user)  # warm the per-request scope cache, as a request would
    with CaptureQueriesContext(connection) as ctx:
        services.early_warning_issue(
            actor=user,
            all_schools=True,
            title="高度戒备",
            content="开学期间提高警戒",
            level="yellow",
            valid_from=timezone.now(),
            valid_until=timezone.now() + dt.timedelta(days=1),
        )
    return len(ctx.captured_queries)


def test_issue_query_count_does_not_grow_with_schools(ww):
    _add_schools(ww, 1)  # 3 schools
    few = _issue_queries(ww)
    _add_schools(ww, 9)  # 12 schools
    many = _issue_queries(ww)
    assert EarlyWarningRecipient.objects.filter(warning__title="高度戒备").count() == 3 + 12
    assert many == few, (few, many)


def test_each_school_gets_its_own_notification(ww, django_capture_on_commit_callbacks):
    _add_schools(ww, 3)
    with django_capture_on_commit_callbacks(execute=False):
        _issue_queries(ww)
    notifications = Notification.objects.filter(event_type="intel.early_warning.issued")
    schools = set(EarlyWarningRecipient.objects.values_list("school_id", flat=True))
    assert len(schools) == 5
    assert sorted(n.organization_id for n in notifications) == sorted(schools)
    for notification in notifications:
        assert notification.payload["school_id"] == notification.organization_id
        channels = Delivery.objects.filter(notification=notification).exclude(channel="inbox")
        # Only the school's own robot, never another school's.
        assert {d.channel_config.organization_id for d in channels} <= {
            notification.organization_id
        }
    assert Delivery.objects.filter(channel="wecom").count() == 3


def test_notify_send_many_keeps_the_dedupe_contract(ww):
    from huxiao.notify.services import notify_send, notify_send_many

    first = notify_send(
        organizations=[ww.school],
        event_type="t",
        title="a",
        recipients=[ww.users["guard"]],
        dedupe_key="k1",
    )
    result = notify_send_many(
        [
            {"organizations": [ww.school.pk], "event_type": "t", "title": "a", "dedupe_key": "k1"},
            {
                "organizations": [ww.other_school.pk],
                "event_type": "t",
                "title": "b",
                "recipients": [ww.users["principal2"].pk],
                "dedupe_key": "k2",
            },
            {"organizations": [ww.other_school.pk], "event_type": "t", "dedupe_key": "k2"},
        ]
    )
    assert result[0] == first and result[1] == result[2] and result[1].pk
    assert Notification.objects.filter(event_type="t").count() == 2
    assert Delivery.objects.filter(recipient=ww.users["principal2"]).count() == 1
    assert notify_send_many([]) == []
