"""Scale mode's cache gives up on a Redis that accepts connections and never answers
(a hung server, a half-open network path): a request waits seconds, not forever.

The settings are loaded in a child process with REDIS_URL pointing at a silent listener,
as a server would load them; the test suite's own settings may have no Redis at all."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

PROBE = """
import json, time
import django
django.setup()
from django.core.cache import cache
started = time.monotonic()
try:
    cache.get("anything")
    outcome = "answered"
except Exception as exc:
    outcome = type(exc).__name__
print(json.dumps({"outcome": outcome, "seconds": time.monotonic() - started}))
"""


def _silent_listener() -> tuple[socket.socket, list[socket.socket]]:
    """Accepts connections, reads nothing, answers nothing."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []

    def accept():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            accepted.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    return server, accepted


def test_a_silent_redis_costs_a_cache_read_seconds_not_a_hung_worker(tmp_path):
    server, accepted = _silent_listener()
    try:
        port = server.getsockname()[1]
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "REDIS_URL"} and not k.startswith("HUXIAO_")
        }
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "HUXIAO_ENV": "test",
                "HUXIAO_VAR_DIR": str(tmp_path),
                "REDIS_URL": f"redis://127.0.0.1:{port}/0",
            }
        )
        done = subprocess.run(
            [sys.executable, "-c", PROBE],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        result = json.loads(done.stdout.strip().splitlines()[-1])
        assert accepted, "the cache never connected to the listener"
        assert result["outcome"] == "TimeoutError", result
        # socket_timeout is 3 s (config/settings.py); without one this read never returns.
        assert 2.5 <= result["seconds"] < 10, result
    finally:
        server.close()
        for conn in accepted:
            conn.close()
