"""The scale-mode channel layer: channels_redis with a bounded, blocking connection pool.

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
"""

from __future__ import annotations

from channels_redis.core import RedisChannelLayer as _RedisChannelLayer
from channels_redis.utils import create_pool
from redis.asyncio import BlockingConnectionPool


class RedisChannelLayer(_RedisChannelLayer):
    def create_pool(self, index):
        host = dict(self.hosts[index])
        if "address" not in host:
            return create_pool(host)
        address = host.pop("address")
        return BlockingConnectionPool.from_url(address, **host)
