"""The scale-mode channel layer: channels_redis with a bounded, blocking connection pool,
and a synchronous group send for publishers without an event loop.

channels_redis builds one redis-py connection pool per host and per event loop, and every
command in flight holds one connection of it. redis-py 8's asyncio ConnectionPool allows
100 connections and raises MaxConnectionsError ("Too many connections") for the 101st
concurrent command: a few hundred consoles disconnecting at once (a network blip, a
restarted proxy) each discard their groups at the same moment and some of the discards
fail. Here a host entry with an "address" gets redis-py's BlockingConnectionPool instead: at
most `max_connections` connections per loop, and a command beyond them waits up to
`timeout` seconds for a free one rather than failing (ADR 0015).

Host entries are the same dicts as channels_redis takes (`address` plus redis-py connection
keyword arguments), with two more that go to the pool: `max_connections` and `timeout`.
Entries without an address (sentinels, host/port pairs) keep channels_redis's own pools.

`group_send_many_nowait` is channels_redis's `group_send` for each group — the same keys,
the same serialised messages, the same capacity script — run with a synchronous client
(ADR 0015, "Publishing without an event loop"). WSGI workers and the task worker publish
every event after commit; `async_to_sync` around the asynchronous send cost a third of an
alarm box's request in scale mode.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import redis
from channels_redis.core import RedisChannelLayer as _RedisChannelLayer
from channels_redis.utils import create_pool
from redis.asyncio import BlockingConnectionPool

from huxiao.core.events import PUBLISH_TIMEOUT_SECONDS

logger = logging.getLogger(__name__)

# channels_redis 4.3's group_send script, verbatim: channels over capacity are skipped.
# core/tests/test_redis_layer_sync.py checks that the asynchronous layer receives what the
# synchronous send sends.
GROUP_SEND_LUA = """
    local over_capacity = 0
    local current_time = ARGV[#ARGV - 1]
    local expiry = ARGV[#ARGV]
    for i=1,#KEYS do
        if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[i + #KEYS]) then
            redis.call('ZADD', KEYS[i], current_time, ARGV[i])
            redis.call('EXPIRE', KEYS[i], expiry)
        else
            over_capacity = over_capacity + 1
        end
    end
    return over_capacity
"""
# A publish is bounded as the asynchronous one is (core/events.py): no round trip starts
# after PUBLISH_TIMEOUT_SECONDS, and each wait (connect, read, a free pooled connection)
# gives up after as long. Synchronous redis-py has no cancellation problem with a read
# timeout (see the settings' note).


class RedisChannelLayer(_RedisChannelLayer):
    def create_pool(self, index):
        host = dict(self.hosts[index])
        if "address" not in host:
            return create_pool(host)
        address = host.pop("address")
        return BlockingConnectionPool.from_url(address, **host)

    # ---------------------------------------------------------------- synchronous send

    _sync_lock = threading.Lock()

    def _sync_clients(self) -> list[redis.Redis] | None:
        clients = getattr(self, "_sync_redis", None)
        if clients is not None:
            return clients or None
        with self._sync_lock:
            clients = getattr(self, "_sync_redis", None)
            if clients is None:
                clients = []
                for host in self.hosts:
                    if "address" not in host:  # channels_redis's own pools: async only
                        clients = []
                        break
                    options = {k: v for k, v in host.items() if k != "address"}
                    options["socket_timeout"] = PUBLISH_TIMEOUT_SECONDS
                    options["socket_connect_timeout"] = PUBLISH_TIMEOUT_SECONDS
                    options["timeout"] = PUBLISH_TIMEOUT_SECONDS  # a free pooled connection
                    pool = redis.BlockingConnectionPool.from_url(host["address"], **options)
                    clients.append(redis.Redis(connection_pool=pool))
                self._sync_redis = clients
        return clients or None

    def group_send_many_nowait(self, groups, message) -> bool:
        """Send `message` to each group from synchronous code. False when a host has no
        address, or when this thread runs an event loop (blocking Redis I/O must not stall
        it): the caller then takes the asynchronous path.

        The whole publish is bounded like the asynchronous one: past its deadline
        no further round trip starts, and one in flight gives up after the socket timeout.
        Two round trips per group: the group's expired members out and its members read
        (one pipeline), then each host's expired messages out and the capacity script."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            return False
        clients = self._sync_clients()
        if clients is None:
            return False
        deadline = time.monotonic() + PUBLISH_TIMEOUT_SECONDS
        for group in groups:
            self._group_send_sync(clients, group, message, deadline)
        return True

    def _group_send_sync(self, clients, group, message, deadline) -> None:
        self.require_valid_group_name(group)  # raises on an invalid name
        key = self._group_key(group)
        _in_time(deadline)
        pipe = clients[self.consistent_hash(group)].pipeline(transaction=False)
        pipe.zremrangebyscore(key, min=0, max=int(time.time()) - self.group_expiry)
        pipe.zrange(key, 0, -1)
        channel_names = [x.decode("utf8") for x in pipe.execute()[-1]]
        to_keys, key_to_message, key_to_capacity = self._map_channel_keys_to_connection(
            channel_names, message
        )
        for index, channel_keys in to_keys.items():
            # The host of these channels' keys (channels_redis 4.3 cleans them on the
            # group's host, which differs only with several hosts).
            _in_time(deadline)
            pipe = clients[index].pipeline(transaction=False)
            for channel_key in channel_keys:
                pipe.zremrangebyscore(channel_key, min=0, max=int(time.time()) - int(self.expiry))
            args = [key_to_message[k] for k in channel_keys]
            args += [key_to_capacity[k] for k in channel_keys]
            args += [time.time(), self.expiry]
            pipe.eval(GROUP_SEND_LUA, len(channel_keys), *channel_keys, *args)
            over = pipe.execute()[-1]
            if over > 0:
                logger.warning(
                    "%s of %s channels over capacity in group %s",
                    over,
                    len(channel_names),
                    group,
                )


def _in_time(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise TimeoutError("publish deadline passed")
