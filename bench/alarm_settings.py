"""Settings of the alarm benchmark's servers: the project's settings as `manage.py serve`
uses them (bench/alarm_latency.py sets HUXIAO_ENV=embedded, never "test"), isolated.

- The channel layer is the project's choice: without REDIS_URL the relay layer
  (huxiao.core.layers.RelayChannelLayer, ADR 0016) with the console's database tail at its
  default (1 s) as the safety net; with REDIS_URL channels_redis.
- With Redis the channel layer, cache and task queue use their own prefix and queue name, so
  a benchmark never talks to a `make run` sharing the same Redis.
- HUXIAO_BENCH_LAYER=memory (mode embedded_tail_only, for comparison only): Channels' plain
  InMemoryChannelLayer, one per process, as before ADR 0016. The WSGI process's push then
  reaches no console socket and only the console's tail (1 s) delivers.
"""

import os

from config.settings import *  # noqa: F403
from config.settings import CACHES, CHANNEL_LAYERS, HUEY, REDIS_URL

if REDIS_URL:
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = "huxiao-bench"
    CACHES["default"]["KEY_PREFIX"] = "huxiao-bench"
    HUEY = {**HUEY, "name": "huxiao-bench"}
elif os.environ.get("HUXIAO_BENCH_LAYER") == "memory":
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
