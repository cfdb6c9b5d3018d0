"""Scale mode's synchronous group send (core.redis_layer, ADR 0015): what it sends, a
consumer of channels_redis's asynchronous layer receives; a Redis that is away costs a
publish a bounded time and never fails the write. Needs Redis (CI's scale pass)."""

from __future__ import annotations

import socket
import time
import uuid

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings

from huxiao.core import events
from huxiao.core.redis_layer import RedisChannelLayer

pytestmark = pytest.mark.skipif(
    not settings.REDIS_URL,
    reason="scale mode only: set REDIS_URL (CI runs it in the PostgreSQL + Redis pass)",
)


def _layer(address=None, **config) -> RedisChannelLayer:
    host = {"address": address or settings.REDIS_URL, "max_connections": 5, "timeout": 10}
    return RedisChannelLayer(hosts=[host], prefix=f"t{uuid.uuid4().hex[:8]}", **config)


def test_what_it_sends_the_asynchronous_layer_receives():
    layer = _layer()

    async def join():
        one, two = await layer.new_channel(), await layer.new_channel()
        await layer.group_add("alarms.school.1", one)
        await layer.group_add("alarms.county.1", one)
        await layer.group_add("alarms.county.1", two)
        return one, two

    one, two = async_to_sync(join)()
    message = {"type": "alarm.message", "data": {"event_id": 7, "note": "东门 持刀"}}
    assert layer.group_send_many_nowait(["alarms.school.1", "alarms.county.1"], message)

    async def drain(channel, n):
        return [await layer.receive(channel) for _ in range(n)]

    # One message per group, as channels_redis's group_send gives a member of two groups.
    assert async_to_sync(drain)(one, 2) == [message, message]
    assert async_to_sync(drain)(two, 1) == [message]
    assert layer._sync_clients()[0].zcard(layer._group_key("alarms.county.1")) == 2


def test_a_full_channel_is_skipped_as_channels_redis_skips_it():
    layer = _layer(capacity=2)

    async def join():
        channel = await layer.new_channel()
        await layer.group_add("g", channel)
        return channel

    channel = async_to_sync(join)()
    for n in range(4):
        layer.group_send_many_nowait(["g"], {"type": "m", "n": n})

    # Two kept in Redis, the other two refused (a consumer would get the oldest first
    # either way: count what is stored).
    inbox = layer.prefix + layer.non_local_name(channel)
    assert layer._sync_clients()[0].zcard(inbox) == 2

    async def drain():
        return [(await layer.receive(channel))["n"] for _ in range(2)]

    assert async_to_sync(drain)() == [0, 1]


def test_a_silent_redis_costs_a_publish_at_most_its_timeout():
    # A listener that accepts and never answers: a Redis that holds the connection.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    layer = _layer(f"redis://127.0.0.1:{listener.getsockname()[1]}/0")
    try:
        started = time.monotonic()
        with pytest.raises(Exception):  # noqa: B017,PT011 - redis-py's timeout error
            layer.group_send_many_nowait(["a", "b", "c"], {"type": "m"})
        assert time.monotonic() - started < events.PUBLISH_TIMEOUT_SECONDS * 2
    finally:
        listener.close()


@pytest.mark.django_db
def test_a_failing_publish_never_fails_the_write(
    monkeypatch, django_capture_on_commit_callbacks, caplog
):
    layer = _layer("redis://127.0.0.1:9/0")  # nothing listens on the discard port
    monkeypatch.setattr(events, "get_channel_layer", lambda: layer)

    def no_fallback(*args):
        raise AssertionError("the synchronous publish fell back to the event loop")

    monkeypatch.setattr(events, "_run_blocking", no_fallback)
    with django_capture_on_commit_callbacks(execute=True):
        events.group_send_on_commit(["alarms.school.1"], {"type": "m"}, label="t")
    # Refused at once (nothing listens): the synchronous path failed, logged, and stopped.
    assert "publish failed groups=['alarms.school.1'] event=t" in caplog.text


def test_a_thread_with_an_event_loop_takes_the_asynchronous_path():
    layer = _layer()

    async def from_the_loop():
        return layer.group_send_many_nowait(["g"], {"type": "m"})

    assert async_to_sync(from_the_loop)() is False
