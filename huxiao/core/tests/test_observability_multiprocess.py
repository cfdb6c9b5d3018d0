"""/metrics with several server processes (PROMETHEUS_MULTIPROC_DIR): any process answers
with the sum of all, a dead process's open sockets stop counting, and `manage.py serve`
gives its processes one directory, emptied at start."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from huxiao.core.management.commands import serve

BASE_DIR = Path(__file__).resolve().parents[3]

WRITER = """
import sys
from huxiao.core import metrics
metrics.observe_request("/orgs/schools/<int:school_id>/", "GET", 200, 0.02)
metrics.WEBSOCKET_CONNECTIONS.labels("console").inc()
print("ready", flush=True)
if sys.argv[1] == "stay":
    sys.stdin.readline()
"""

SCRAPER = """
import django
django.setup()
from huxiao.core import metrics
sys_out = metrics.render()[0].decode()
print(sys_out)
"""


def _environment(tmp_path) -> dict:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST", "PROMETHEUS", "DATABASE_URL", "REDIS_URL"))
    }
    environment.update(
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
        DJANGO_SETTINGS_MODULE="config.settings_test",
        HUXIAO_VAR_DIR=str(tmp_path / "var"),
    )
    return environment


def test_any_process_reports_the_sum_of_all(tmp_path):
    env = _environment(tmp_path)
    run = {"cwd": BASE_DIR, "env": env, "text": True, "timeout": 120}
    gone = subprocess.run(
        [sys.executable, "-c", WRITER, "exit"], capture_output=True, check=True, **run
    )
    assert gone.stdout.strip() == "ready"
    alive = subprocess.Popen(
        [sys.executable, "-c", WRITER, "stay"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=BASE_DIR,
        env=env,
        text=True,
    )
    try:
        assert alive.stdout.readline().strip() == "ready"
        scraped = subprocess.run(
            [sys.executable, "-c", SCRAPER], capture_output=True, check=True, **run
        )
    finally:
        alive.communicate("\n", timeout=30)
    text = scraped.stdout
    count = re.search(
        r'huxiao_http_request_duration_seconds_count\{method="GET",'
        r'route="/orgs/schools/<int:school_id>/",status="2xx"\} (\S+)',
        text,
    )
    assert count and float(count.group(1)) == 2.0, text[:2000]
    # The process that exited no longer holds a socket open.
    assert 'huxiao_websocket_connections{route="console"} 1.0' in text
    assert "huxiao_task_queue_pending" in text


def test_serve_gives_its_processes_one_fresh_metrics_directory(monkeypatch, tmp_path):
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_123.db").write_bytes(b"old run")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    environments = []

    class Stopped:
        def __init__(self, command, **kwargs):
            environments.append(kwargs["env"])

        def poll(self):
            return 0

        def terminate(self):
            pass

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(serve.subprocess, "Popen", Stopped)
    monkeypatch.setattr(serve.signal, "signal", lambda *a: None)
    monkeypatch.setattr(serve.time, "sleep", lambda s: None)
    with pytest.raises(SystemExit):
        call_command("serve", "--no-mqtt")
    assert len(environments) == 3  # both servers and the task worker
    assert {env["PROMETHEUS_MULTIPROC_DIR"] for env in environments} == {str(directory)}
    assert not (directory / "counter_123.db").exists()
