"""Sending never hurts the caller: retries with backoff, giving up, rollbacks, de-duplication,
no double sends."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from huxiao.notify import services, tasks
from huxiao.notify.choices import ChannelKind, DeliveryStatus
from huxiao.notify.models import Delivery, Notification
from huxiao.orgs.models import Organization


def _outbound(notification) -> Delivery:
    return notification.deliveries.exclude(channel=ChannelKind.INBOX).get()


def _retry_when_due(delivery: Delivery) -> Delivery:
    """Run the periodic job at the moment the delivery's next attempt is due."""
    assert (
        services.deliveries_retry_due(now=delivery.next_attempt_at - dt.timedelta(seconds=1)) == 0
    )
    assert services.deliveries_retry_due(now=delivery.next_attempt_at) == 1
    delivery.refresh_from_db()
    return delivery


def test_retried_with_backoff_then_sent(world, fake_server, send_now, channel):
    fake_server.fail_first = 3
    channel(world.station, "wecom", fake_server.url())
    notification = send_now(organizations=[world.station], event_type="e", title="t")

    delivery = _outbound(notification)
    delays = []
    for attempt in (1, 2, 3):
        assert delivery.status == DeliveryStatus.RETRYING
        assert delivery.attempts == attempt
        assert delivery.last_error == "HTTP 500: boom"
        delays.append(round((delivery.next_attempt_at - delivery.last_attempt_at).total_seconds()))
        delivery = _retry_when_due(delivery)

    assert delays == [10, 30, 90]
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 4
    assert delivery.last_error == ""
    assert delivery.next_attempt_at is None
    assert len(fake_server.requests) == 4
    # The same message each time.
    assert len({r.body for r in fake_server.requests}) == 1


def test_gives_up_after_max_attempts(world, fake_server, send_now, channel):
    fake_server.fail_first = 100
    channel(world.station, "webhook", fake_server.url(), secret="s")
    delivery = _outbound(send_now(organizations=[world.station], event_type="e", title="t"))
    while delivery.status == DeliveryStatus.RETRYING:
        delivery = _retry_when_due(delivery)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 6
    assert delivery.next_attempt_at is None
    assert len(fake_server.requests) == 6
    assert services.deliveries_retry_due(now=delivery.last_attempt_at + dt.timedelta(days=1)) == 0
    assert len(fake_server.requests) == 6


def test_max_attempts_is_a_setting(world, fake_server, send_now, channel, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 2
    fake_server.fail_first = 100
    channel(world.station, "wecom", fake_server.url())
    delivery = _outbound(send_now(organizations=[world.station], event_type="e", title="t"))
    delivery = _retry_when_due(delivery)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 2)


def test_unreachable_receiver_is_retried(world, send_now, channel, fake_server):
    url = fake_server.url()
    fake_server.stop()  # nothing listens on the port any more
    channel(world.station, "wecom", url)
    delivery = _outbound(send_now(organizations=[world.station], event_type="e", title="t"))
    assert delivery.status == DeliveryStatus.RETRYING
    assert "Connection" in delivery.last_error or "refused" in delivery.last_error.lower()


def test_slow_receiver_times_out(world, fake_server, send_now, channel, settings):
    settings.NOTIFY_TIMEOUT_SECONDS = 0.2
    fake_server.delay = 1.0
    channel(world.station, "wecom", fake_server.url("/slow?key=secret-key"))
    delivery = _outbound(send_now(organizations=[world.station], event_type="e", title="t"))
    assert delivery.status == DeliveryStatus.RETRYING
    assert "timed out" in delivery.last_error
    assert "secret-key" not in delivery.last_error


def test_redirect_is_a_failure_not_followed(world, fake_server, send_now, channel):
    fake_server.fail_first, fake_server.fail_status = 1, 302
    channel(world.station, "wecom", fake_server.url())
    delivery = _outbound(send_now(organizations=[world.station], event_type="e", title="t"))
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.last_error.startswith("HTTP 302")
    assert len(fake_server.requests) == 1


def test_rolled_back_caller_sends_nothing(
    world, fake_server, channel, django_capture_on_commit_callbacks
):
    channel(world.station, "wecom", fake_server.url())
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notification = services.notify_send(
            organizations=[world.station],
            event_type="alarm.raised",
            title="t",
            recipients=[world.users["police"]],
        )
        assert notification is not None
        raise RuntimeError("the alarm failed")
    assert callbacks == []
    assert fake_server.requests == []
    assert not Notification.objects.exists()
    assert not Delivery.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_sent_only_after_a_real_commit(fake_server):
    from huxiao.notify.services import channel_config_create, notify_send
    from huxiao.orgs.tests.factories import OrganizationFactory

    station = OrganizationFactory(kind="police_station")
    channel_config_create(
        actor=None, organization=station, kind="wecom", name="duty", target=fake_server.url()
    )
    with pytest.raises(RuntimeError), transaction.atomic():
        notify_send(organizations=[station], event_type="e", title="rolled back")
        assert fake_server.requests == []
        raise RuntimeError
    assert fake_server.requests == []

    with transaction.atomic():
        notify_send(organizations=[station], event_type="e", title="committed")
        assert fake_server.requests == []  # not before the commit
    assert [r.json["text"]["content"] for r in fake_server.requests] == ["committed"]
    assert Delivery.objects.get().status == DeliveryStatus.SENT


def test_problems_never_reach_the_caller(
    world, fake_server, channel, django_capture_on_commit_callbacks
):
    channel(world.station, "wecom", fake_server.url())
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        Organization.objects.filter(pk=world.school.pk).update(phone="110")
        # Not JSON: the notification's own writes roll back to their savepoint.
        assert (
            services.notify_send(
                organizations=[world.station], event_type="e", title="t", payload={"x": object()}
            )
            is None
        )
        # The caller's transaction is intact and goes on.
        world.school.refresh_from_db()
        assert world.school.phone == "110"
        assert services.notify_send(organizations=[world.station], event_type="e", title="ok")
    assert Notification.objects.get().title == "ok"
    assert len(fake_server.requests) == 1


def test_dedupe_key(world, fake_server, send_now, channel):
    channel(world.station, "wecom", fake_server.url())
    first = send_now(
        organizations=[world.station],
        event_type="alarm.escalated",
        title="t",
        recipients=[world.users["police"]],
        dedupe_key="alarm:1:escalation:1",
    )
    again = send_now(
        organizations=[world.station],
        event_type="alarm.escalated",
        title="t (retry)",
        recipients=[world.users["police"]],
        dedupe_key="alarm:1:escalation:1",
    )
    assert again.pk == first.pk
    assert Notification.objects.count() == 1
    assert Delivery.objects.count() == 2  # one inbox, one robot
    assert len(fake_server.requests) == 1
    other = send_now(
        organizations=[world.station], event_type="e", title="t", dedupe_key="alarm:1:escalation:2"
    )
    assert other.pk != first.pk
    # Keys of any length.
    long_key = "k" * 1000
    assert send_now(organizations=[], event_type="e", title="t", dedupe_key=long_key).pk == (
        send_now(organizations=[], event_type="e", title="t", dedupe_key=long_key).pk
    )


def test_dedupe_race_returns_the_winner(world, monkeypatch):
    winner = services.notify_send(organizations=[], event_type="e", title="t", dedupe_key="k")
    # Simulate the other request committing between our check and our insert.
    real_filter = Notification.objects.filter
    calls = {"n": 0}

    def first_check_misses(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            return Notification.objects.none()
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(Notification.objects, "filter", first_check_misses)
    assert (
        services.notify_send(organizations=[], event_type="e", title="t", dedupe_key="k") == winner
    )


def test_a_task_queued_twice_sends_once(world, fake_server, channel, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks, "deliver_enqueue", lambda *args: queued.append(args))
    channel(world.station, "wecom", fake_server.url())
    notification = services.notify_send(organizations=[world.station], event_type="e", title="t")
    services._enqueue([(d.pk, d.dispatch_token) for d in notification.deliveries.all()])
    [(delivery_id, token)] = queued

    assert services.delivery_send(delivery_id=delivery_id, token="someone-else") is None
    assert services.delivery_send(delivery_id=delivery_id, token=token).status == "sent"
    assert services.delivery_send(delivery_id=delivery_id, token=token) is None
    assert services.delivery_send(delivery_id=delivery_id, token="") is None
    assert len(fake_server.requests) == 1


def test_lost_task_is_picked_up_by_the_retry_job(
    world, fake_server, send_now, channel, monkeypatch
):
    channel(world.station, "wecom", fake_server.url())

    def queue_down(*args):
        raise ConnectionError("task queue unavailable")

    monkeypatch.setattr(tasks, "deliver_enqueue", queue_down)
    notification = send_now(organizations=[world.station], event_type="e", title="t")
    assert notification is not None  # the caller never noticed
    delivery = _outbound(notification)
    assert delivery.status == DeliveryStatus.PENDING
    assert fake_server.requests == []
    monkeypatch.undo()

    assert services.deliveries_retry_due() == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert len(fake_server.requests) == 1


def test_queued_but_never_run_is_resent_after_the_lease(world, fake_server, channel, monkeypatch):
    monkeypatch.setattr(tasks, "deliver_enqueue", lambda *args: None)  # the worker lost it
    channel(world.station, "wecom", fake_server.url())
    notification = services.notify_send(organizations=[world.station], event_type="e", title="t")
    services._enqueue([(d.pk, d.dispatch_token) for d in notification.deliveries.all()])
    monkeypatch.undo()
    delivery = _outbound(notification)
    assert (delivery.next_attempt_at - delivery.created_at) == dt.timedelta(minutes=5)
    delivery = _retry_when_due(delivery)
    assert delivery.status == DeliveryStatus.SENT


@pytest.mark.parametrize("change", ["deactivate", "delete"])
def test_channel_gone_fails_without_sending(world, fake_server, channel, change, monkeypatch):
    monkeypatch.setattr(tasks, "deliver_enqueue", lambda *args: None)
    config = channel(world.station, "wecom", fake_server.url())
    notification = services.notify_send(organizations=[world.station], event_type="e", title="t")
    if change == "deactivate":
        services.channel_config_update(actor=None, config=config, is_active=False)
    else:
        services.channel_config_delete(actor=None, config=config)
    delivery = _outbound(notification)
    delivery = services.delivery_send(delivery_id=delivery.pk, token=delivery.dispatch_token)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 1
    assert fake_server.requests == []


def test_unexpected_sender_error_is_retried(world, fake_server, send_now, channel, monkeypatch):
    from huxiao.notify import channels

    def broken(**kwargs):
        raise KeyError("bug")

    monkeypatch.setattr(channels, "send", broken)
    channel(world.station, "wecom", fake_server.url())
    delivery = _outbound(send_now(organizations=[world.station], event_type="e", title="t"))
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.last_error.startswith("KeyError")


def test_lazy_text_uses_the_platform_language(world):
    from django.utils import translation
    from django.utils.translation import gettext_lazy

    with translation.override("en"):
        notification = services.notify_send(
            organizations=[], event_type="e", title=gettext_lazy("School"), body=""
        )
    assert notification.title == "学校"


@pytest.mark.parametrize("answer", ["acknowledge", "cancel"])
def test_an_escalation_not_yet_sent_is_withdrawn_once_the_alarm_is_answered(
    world, fake_server, channel, django_capture_on_commit_callbacks, answer
):
    """A retried "not acknowledged" message must not reach a commander after someone
    acknowledged the alarm (before: retries went on for about twenty minutes)."""
    from django.utils import timezone

    from huxiao.alarms import services as alarms

    url = fake_server.url()
    fake_server.stop()  # the robot is unreachable: the message waits for its retry
    channel(world.station, "wecom", url)
    t0 = timezone.now() - dt.timedelta(seconds=40)
    alarm, _ = alarms.alarm_raise(
        actor=world.users["guard"], school=world.school, kind="intrusion", now=t0
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert alarms.alarms_escalate_due() == [alarm]
    delivery = Delivery.objects.get(channel="wecom")
    assert delivery.status == DeliveryStatus.RETRYING
    if answer == "acknowledge":
        alarms.alarm_acknowledge(actor=world.users["police"], alarm=alarm)
    else:
        alarms.alarm_cancel(actor=world.users["guard"], alarm=alarm, reason="学生误触")
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.WITHDRAWN and delivery.next_attempt_at is None
    assert services.deliveries_retry_due(now=timezone.now() + dt.timedelta(hours=1)) == 0
    # Another notification's delivery is left alone.
    other = Notification.objects.create(
        event_type="e", title="t", dedupe_key="alarm:999:escalation:1", created_at=t0
    )
    kept = Delivery.objects.create(
        notification=other, channel="wecom", status=DeliveryStatus.RETRYING, created_at=t0
    )
    assert (
        services.deliveries_withdraw(dedupe_prefix=f"alarm:{alarm.pk}:escalation:", reason="x") == 0
    )
    kept.refresh_from_db()
    assert kept.status == DeliveryStatus.RETRYING
