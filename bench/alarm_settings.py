"""Settings of the alarm benchmark's servers: the project's settings, isolated and with the
embedded-mode push prototype switched on by HUXIAO_BENCH_PUSH.

- HUXIAO_BENCH_PUSH=relay (embedded mode only): the channel layer is bench/alarm_relay.py's
  RelayChannelLayer, the proposal in /tmp/embedded_push.diff. Anything else: the project's
  own layer (in-memory, or Redis with REDIS_URL).
- With Redis the channel layer, cache and task queue use their own prefix and queue name, so
  a benchmark never talks to a `make run` sharing the same Redis.
- HUXIAO_BENCH_REDIS_TIMEOUT=<seconds>: the channel layer's Redis socket timeout (proposal).
"""

import os

from config.settings import *  # noqa: F403
from config.settings import CACHES, CHANNEL_LAYERS, HUEY, REDIS_URL, VAR_DIR

if REDIS_URL:
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = "huxiao-bench"
    if os.environ.get("HUXIAO_BENCH_REDIS_TIMEOUT"):
        # The proposal: redis-py 8 reads with a 5 s socket timeout by default, the same as
        # channels_redis's BZPOPMIN (5 s): an idle consumer's receive races its own timeout
        # and the consumer dies with "Timeout reading from …" (redis/redis-py#4091).
        CHANNEL_LAYERS["default"]["CONFIG"]["hosts"] = [
            {
                "address": REDIS_URL,
                "socket_timeout": float(os.environ["HUXIAO_BENCH_REDIS_TIMEOUT"]),
            }
        ]
    CACHES["default"]["KEY_PREFIX"] = "huxiao-bench"
    HUEY = {**HUEY, "name": "huxiao-bench"}
elif os.environ.get("HUXIAO_BENCH_PUSH") == "relay":
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "bench.alarm_relay.RelayChannelLayer",
            "CONFIG": {"relay_dir": str(VAR_DIR / "run" / "channels")},
        }
    }
