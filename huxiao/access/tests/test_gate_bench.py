"""bench/gate.py must keep working: its smoke mode (one short round of each measurement on
SQLite, tiny data) runs the whole benchmark — seed, servers, verification, wrk with
bench/gate.lua, the after-load checks — and prints its JSON. Not a performance test: the
figures are not compared with the target here."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.gate import check_in_body
from bench.gate_seed import visitor_id_number
from huxiao.core.idcard import validate_id_number

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("n", [0, 1, 998, 999, 1000, 123_456, 9_999_999])
def test_visitor_id_numbers_are_valid_and_distinct(n):
    number = visitor_id_number(n)
    assert validate_id_number(number) == number
    assert number != visitor_id_number(n + 1)
    assert number.startswith("110105")
    assert check_in_body(n, 7)["id_number"] == number


def test_visitor_birth_dates_stay_in_the_past():
    # 10 million visitors (far more than any run sends) are still born before today.
    last = visitor_id_number(10**7)
    assert dt.date(int(last[6:10]), int(last[10:12]), int(last[12:14])) < dt.date.today()


# CI installs wrk (scripts/install-bench-tools.sh) and must never skip this silently.
@pytest.mark.skipif(
    shutil.which("wrk") is None and not os.environ.get("CI"), reason="wrk not installed"
)
def test_gate_benchmark_smoke(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "HUXIAO_VAR_DIR"}}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    output = tmp_path / "gate.json"
    done = subprocess.run(
        [sys.executable, "bench/gate.py", "--smoke", "--output", str(output)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    document = json.loads(done.stdout)
    assert document == json.loads(output.read_text())
    assert document["benchmark"] == "gate"
    assert document["database"] == "sqlite"
    for name in ("check_in", "release"):
        result = document["results"][name]
        assert result["app"]["rps_median"] > 0
        assert result["floor"]["rps_median"] > 0
        assert result["app"]["p50_ms"] <= result["app"]["p99_ms"]
        assert result["pass"] == (result["ratio"] >= 0.5)
    after = document["check"]["after"]
    # Every visitor of the load screened clear and got in; every looked-up child went home.
    assert after["screening_hits"] == 0
    assert set(after["visits"]) == {"clear/inside"}
    assert after["id_numbers_wrong"] == []
    assert after["releases"] >= 2
    assert after["floor_rows"] > 0
