"""Prototypes: the push path without per-frame and per-group overhead (proposals).

Publisher (huxiao/alarms/events.py, install_batched_publish): `publish_on_commit` calls
`async_to_sync(layer.group_send)` once per group, 5 per alarm. In a WSGI thread each
async_to_sync call starts a new event loop in a new executor thread, and channels_redis opens
a Redis connection per event loop: 5 loops, 5 threads and (with Redis) 5 connections per
alarm. The proposal sends to all groups in one async_to_sync call.

Consumer (huxiao/alarms/consumers.py, FastConsoleConsumer):

Profiling the ASGI server during the floor broadcast (bench/alarm_latency.py --py-spy) shows
most of the time per delivered frame outside the application's own code:

- Channels' AsyncConsumer.dispatch runs `aclose_old_connections()` before every handler:
  a sync_to_async hop into the one thread-sensitive executor thread for every frame pushed,
  although relaying a push touches no database (the consumer's own queries already run in
  database_sync_to_async, which closes old connections around them);
- the same event is JSON-encoded once per socket.

FastConsoleConsumer handles `alarm.message` directly (no thread hop) and encodes each event
once per process (a small cache by event id; the message for one event_id is the same for
every group it was sent to). Selected with HUXIAO_BENCH_CONSOLE=fast (bench/alarm_asgi.py).
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict

from huxiao.alarms.consumers import ConsoleConsumer

logger = logging.getLogger(__name__)


def install_batched_publish() -> None:
    """Replace alarms.events.publish_on_commit (services call it as events.publish_on_commit)."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer
    from django.db import transaction

    from huxiao.alarms import events

    def publish_on_commit(event, alarm, *, station_only: bool = False) -> None:
        message = events.event_message(event, alarm)
        groups = events.groups_for_alarm(alarm, station_only=station_only)

        async def _send_all(layer):
            for group in groups:
                try:
                    await layer.group_send(group, {"type": "alarm.message", "data": message})
                except Exception:  # noqa: BLE001 - a push failure must not fail the write
                    logger.exception("alarm publish failed group=%s event=%s", group, event.pk)

        def _send():
            layer = get_channel_layer()
            if layer is not None:
                async_to_sync(_send_all)(layer)

        transaction.on_commit(_send)

    events.publish_on_commit = publish_on_commit


_ENCODED: OrderedDict[int, str] = OrderedDict()
_ENCODED_LIMIT = 512


def encoded(data: dict) -> str:
    event_id = data.get("event_id")
    text = _ENCODED.get(event_id) if isinstance(event_id, int) else None
    if text is None:
        text = json.dumps(data)
        if isinstance(event_id, int):
            _ENCODED[event_id] = text
            if len(_ENCODED) > _ENCODED_LIMIT:
                _ENCODED.popitem(last=False)
    return text


class FastConsoleConsumer(ConsoleConsumer):
    async def dispatch(self, message):
        if message["type"] == "alarm.message":
            await self.alarm_message(message)
            return
        await super().dispatch(message)

    async def alarm_message(self, message):
        data = message["data"]
        if not self._remember(data.get("event_id")):
            return
        await self.send(text_data=encoded(data))
