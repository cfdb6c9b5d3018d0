"""WSGI entry point of the alarm benchmark: config.wsgi, optionally with the proposed
publisher (HUXIAO_BENCH_PUBLISH=batched, bench/alarm_fastpath.py). Never deployed."""

import os

from config.wsgi import application  # noqa: F401

if os.environ.get("HUXIAO_BENCH_PUBLISH") == "batched":
    from bench.alarm_fastpath import install_batched_publish

    install_batched_publish()
