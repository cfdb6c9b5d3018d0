"""bench/compliance.py must keep working: the shares its generated county is built with
(bench/compliance_seed.py), and its smoke mode (a county of 12 schools in 2 towns on SQLite
in a temporary directory, short runs) running the whole benchmark — seed, evaluate_region
against its floor, the server and the floor server, the checks of every page, wrk — and
printing its JSON. Not a performance test: the figures are not compared with the targets."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bench.compliance_seed import (
    ASPECTS,
    DAYS,
    FAIL_SHARE,
    MODEL_SHARE,
    required_guards,
    school_facts,
)

ROOT = Path(__file__).resolve().parents[3]


def test_required_guards_follow_the_default_rule():
    # The hand-worked schools: a 90-pupil kindergarten needs one guard; a
    # 1,600-pupil boarding school needs 4.
    assert required_guards(90, False) == 1
    assert required_guards(1600, True) == 4
    assert required_guards(99, True) == 2  # boarders at least 2
    assert required_guards(100, False) == 1
    assert required_guards(550, False) == 2  # 1 + 450 × 2/900 = 2
    assert required_guards(551, False) == 3  # rounded up
    assert required_guards(1000, False) == 3
    assert required_guards(1499, False) == 3
    assert required_guards(2500, False) == 6


def test_generated_schools_have_the_intended_shares():
    facts = [school_facts(n) for n in range(3000)]
    assert all(30 <= f["enrolment"] <= 2500 for f in facts)
    assert not any(f["boarding"] for f in facts if f["stage"] == "kindergarten")
    assert 0.13 < sum(f["boarding"] for f in facts) / len(facts) < 0.22
    models = [f for f in facts if f["model"]]
    others = [f for f in facts if not f["model"]]
    assert MODEL_SHARE - 0.04 < len(models) / len(facts) < MODEL_SHARE + 0.04
    # A model school misses nothing; every other school misses at least one aspect.
    assert all(not f["failing"] for f in models)
    assert all(f["failing"] for f in others)
    misses = Counter(a for f in others for a in f["failing"])
    for aspect in ASPECTS:
        if aspect == "dormitory_managers":
            boarding = sum(f["boarding"] for f in others)
            assert 0.1 < misses[aspect] / boarding < 0.4
        else:
            assert FAIL_SHARE - 0.05 < misses[aspect] / len(others) < FAIL_SHARE + 0.12
    assert not any("dormitory_managers" in f["failing"] for f in facts if not f["boarding"])

    for f in facts:
        full_time = sum(g["employment"] == "full_time" for g in f["guards"])
        bad = [g for g in f["guards"] if g["certificate"] != "valid"]
        assert 1 <= len(f["guards"]) <= 7
        # Staffing misses exactly when the school was made to miss it.
        assert (full_time < f["required_guards"]) == ("guards_staffing" in f["failing"])
        assert bool(bad) == ("guards_certified" in f["failing"])
        assert (f["security_officers"] == 0) == ("security_body" in f["failing"])
        assert (f["equipment"] != ["ok"] * 8) == ("equipment_complete" in f["failing"])
        assert 2 <= f["cameras"] <= 20
        assert (f["cameras_not_networked"] > 0) == ("video_networked" in f["failing"])
        assert f["cameras_not_networked"] < f["cameras"]
        assert (f["alarm"] not in ("box", "networked_system")) == (
            "alarm_networked" in f["failing"]
        )
        assert len(f["day_rounds"]) == DAYS and len(f["night_rounds"]) == DAYS + 1
        # Nights missed only among those every reading of "the last 7 nights" looks at.
        assert f["night_rounds"][0] == f["night_rounds"][-1] == int(f["boarding"])
        short = min(f["day_rounds"]) < 5 or (f["boarding"] and min(f["night_rounds"]) < 1)
        assert short == ("patrol_rounds" in f["failing"])
        assert all(n == 0 for n in f["night_rounds"]) or f["boarding"]
        if f["defence"] is None:
            assert not f["model"]
        else:
            d = f["defence"]
            assert d["gatehouse_24h"] == ("gatehouse_24h" not in f["failing"])
            assert d["closed_management"] == ("closed_management" not in f["failing"])
            retained = (d["video_retention_days"] or 0) >= 30
            assert retained == ("video_retention" not in f["failing"])
            staffed = d["monitoring_room"] and d["monitoring_room_24h"]
            assert staffed == ("monitoring_room" not in f["failing"])
            barriers = d["perimeter"] in ("wall", "fence") and (
                d["bollards"] > 0 or d["vehicle_barrier"]
            )
            assert barriers == ("physical_barriers" not in f["failing"])
    # About 40,000 rounds for 1,000 schools (3–7 a day, a night round for boarders).
    rounds = sum(sum(f["day_rounds"]) + sum(f["night_rounds"]) for f in facts[:1000])
    assert 35_000 < rounds < 48_000
    # Deterministic: the same index is the same school.
    assert school_facts(17) == facts[17]


# CI installs wrk (scripts/install-bench-tools.sh) and must never skip this silently.
@pytest.mark.skipif(
    shutil.which("wrk") is None and not os.environ.get("CI"), reason="wrk not installed"
)
def test_compliance_benchmark_smoke(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "HUXIAO_VAR_DIR"}}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    output = tmp_path / "compliance.json"
    done = subprocess.run(
        [
            sys.executable,
            "bench/compliance.py",
            "--smoke",
            "--var-dir",
            str(tmp_path / "var"),
            "--output",
            str(output),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    document = json.loads(done.stdout)
    assert document == json.loads(output.read_text())
    assert document["benchmark"] == "compliance"
    assert document["database"] == "sqlite"
    assert document["data"]["schools"] == 12 and document["data"]["towns"] == 2

    evaluation = document["evaluate_region"]
    assert evaluation["schools"] == 12
    assert len(evaluation["runs_ms"]) >= 5
    assert 0 < evaluation["min_ms"] <= evaluation["median_ms"] <= evaluation["max_ms"]
    assert evaluation["floor"]["read_median_ms"] > 0
    assert evaluation["floor"]["tables"]["checkpoint_scans"]["rows"] > 0
    assert evaluation["ratio_to_read_floor"] > 0
    assert evaluation["met"] == (evaluation["median_ms"] <= 2000)

    state = document["compliance_state"]
    assert state["schools"] == 12
    assert "guards_staffing" in state["verdicts_per_rule"]

    pages = document["pages"]
    assert pages["town_schools"] == 6
    assert pages["floor"]["requests"] > 0
    assert set(pages["results"]) == {"town", "county", "school"}
    for name, result in pages["results"].items():
        assert result["requests"] > 0, name
        assert 0 < result["p50_ms"] <= result["p95_ms"] <= result["p99_ms"]
        assert result["met"] == (result["p95_ms"] <= 200)
        assert result["p95_ratio_to_floor"] > 0
    # The town page lists every school of the town; the county page every town.
    assert pages["results"]["town"]["names_shown"] >= 6
    assert pages["results"]["county"]["names_shown"] >= 2
    assert document["met"]["town_page"] == pages["met"]
    # The temporary var dir given is kept (the caller's), the database in it fresh each run.
    assert (tmp_path / "var" / "app.log").exists()
