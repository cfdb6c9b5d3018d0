"""bench/soak.py runs and reports (issue 11, item 5): a 12-second soak of its own stack.

The full soak (10 minutes) is `scripts/soak.sh`, outside `make test`. This only checks that
the stack starts, every kind of load is sent and answered without error, the console gets
the alarms, and memory is sampled for each process of the stack.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.faults.conftest import ROOT

pytestmark = pytest.mark.faults

KINDS = {
    "gate_check_in",
    "pickup_lookup",
    "pickup_release",
    "alarm_raise",
    "alarm_acknowledge",
    "page",
}


def test_a_short_soak_runs_and_reports(tmp_path, migrated_templates):
    template = migrated_templates("sqlite")
    output = tmp_path / "soak.json"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env = {k: v for k, v in env.items() if not k.startswith("PYTEST_")}
    done = subprocess.run(
        [
            sys.executable,
            "bench/soak.py",
            "--minutes",
            "0.2",
            "--rate",
            "20",
            "--sqlite-from",
            str(template.sqlite_file),
            "--output",
            str(output),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert json.loads(output.read_text()) == report
    assert report["errors_total"] == 0, report["errors"]
    assert set(report["requests"]) == KINDS and all(report["requests"].values()), report
    for kind in KINDS:
        assert report["latency_ms"][kind]["p50"] <= report["latency_ms"][kind]["p99"]
    assert report["alarms"]["raised"] > 0
    assert report["alarms"]["on_console"] == report["alarms"]["raised"]
    names = {name.split(" [")[0] for name in report["rss"]}
    assert {"http (wsgi)", "websocket (asgi)", "tasks (huey)"} <= names, names
    assert all(p["samples"] >= 2 and p["start_kib"] > 0 for p in report["rss"].values())
    # Exit 1 here can only be memory growth (a 12 s run is mostly start-up), and then the
    # report names the processes.
    assert (done.returncode == 1) == bool(report["rss_growth_over_limit"])
