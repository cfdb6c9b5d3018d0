"""`manage.py serve`: how many worker processes each server gets (ADR 0015).

No process is started here: Popen is replaced by a stand-in that records the command lines
and has stopped at once, so serve stops too.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command

from huxiao.core.management.commands import serve


class _Stopped:
    """A process that has already exited: serve stops everything after the first poll."""

    started: list[list[str]] = []

    def __init__(self, command, **kwargs):
        _Stopped.started.append(command)

    def poll(self):
        return 0

    def terminate(self):
        pass

    def wait(self, timeout=None):
        return 0


def _granian_workers(monkeypatch, *args) -> dict[str, int]:
    _Stopped.started = []
    monkeypatch.setattr(serve.subprocess, "Popen", _Stopped)
    monkeypatch.setattr(serve.signal, "signal", lambda *a: None)  # keep pytest's handlers
    monkeypatch.setattr(serve.time, "sleep", lambda s: None)
    with pytest.raises(SystemExit):
        call_command("serve", "--no-worker", "--no-mqtt", *args)
    workers = {}
    for command in _Stopped.started:
        interface = command[command.index("--interface") + 1]
        workers[interface] = int(command[command.index("--workers") + 1])
    return workers


@pytest.fixture
def no_worker_variables(monkeypatch):
    monkeypatch.delenv("HUXIAO_HTTP_WORKERS", raising=False)
    monkeypatch.delenv("HUXIAO_WS_WORKERS", raising=False)


def test_embedded_mode_runs_one_worker_each(settings, monkeypatch, no_worker_variables):
    settings.REDIS_URL = ""
    assert _granian_workers(monkeypatch) == {"wsgi": 1, "asginl": 1}


def test_scale_mode_runs_several_workers_each(settings, monkeypatch, no_worker_variables):
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    assert _granian_workers(monkeypatch) == {"wsgi": 2, "asginl": 2}


def test_worker_counts_from_the_environment_and_options(settings, monkeypatch):
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    monkeypatch.setenv("HUXIAO_HTTP_WORKERS", "3")
    monkeypatch.setenv("HUXIAO_WS_WORKERS", "4")
    assert _granian_workers(monkeypatch) == {"wsgi": 3, "asginl": 4}
    assert _granian_workers(monkeypatch, "--ws-workers", "1") == {"wsgi": 3, "asginl": 1}
