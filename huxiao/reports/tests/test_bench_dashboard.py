"""bench/dashboard.py must keep working: the county it generates (bench/dashboard_seed.py)
has the shape the benchmark claims, and its smoke mode (12 schools, 20,000 gate events,
SQLite in a temporary directory, short runs) runs the whole benchmark — seed, the
consistency of the figures with the selectors, dashboard_figures in-process, the dashboard
pages and the floor page under wrk, the monthly reports of the county and a town against
their floor — and prints its JSON. Not a performance test: the figures are not compared
with the targets."""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import statistics

import pytest

from bench.activities_seed import school_facts
from bench.common import smoke_run
from bench.dashboard_seed import (
    GATE_SHARES,
    HOLIDAY_TRAFFIC,
    RawWriter,
    _count,
    aware,
    gate_days,
    gate_means,
    hazard_facts,
    year_days,
    year_terms,
)

ANCHOR = dt.date(2026, 11, 30)


def test_the_year_and_its_gate_days():
    days = year_days(ANCHOR)
    assert len(days) == 365 and days[-1] == ANCHOR and days == sorted(days)
    gate = gate_days(ANCHOR, year_terms(ANCHOR))
    assert gate <= set(days)
    assert all(day.weekday() < 5 for day in gate)
    # No teaching in the summer holiday nor in the National Day week.
    assert not any(dt.date(2026, 7, 11) <= day <= dt.date(2026, 8, 31) for day in gate)
    assert not any(dt.date(2026, 10, 1) <= day <= dt.date(2026, 10, 7) for day in gate)
    assert dt.date(2026, 11, 30) in gate and dt.date(2026, 3, 2) in gate
    assert 180 <= len(gate) <= 210


def test_gate_means_share_the_total_by_enrolment():
    facts = [school_facts(n) for n in range(20)]
    means = gate_means(facts, 100_000, 200, 165)
    units = 200 + HOLIDAY_TRAFFIC * 165
    for table, share in GATE_SHARES.items():
        days = 200 if table in ("releases", "refusals") else units
        assert sum(means[table]) * days == pytest.approx(100_000 * share)
    assert sum(GATE_SHARES.values()) == pytest.approx(1)
    big = max(range(20), key=lambda n: facts[n]["enrolment"])
    small = min(range(20), key=lambda n: facts[n]["enrolment"])
    assert means["scans"][big] > means["scans"][small]


def test_a_days_count_keeps_its_mean():
    rng = random.Random(7)
    draws = [_count(rng.random, 10.4) for _ in range(20_000)]
    assert statistics.fmean(draws) == pytest.approx(10.4, rel=0.02)
    assert min(draws) >= 7 and max(draws) <= 14  # ±25 %, rounded either way
    assert _count(random.Random(3).random, 5) == _count(random.Random(3).random, 5)


def test_hazards_are_in_realistic_states():
    facts = [hazard_facts(i, ANCHOR) for i in range(4000)]
    assert facts[17] == hazard_facts(17, ANCHOR)  # deterministic
    closed = [f for f in facts if f["status"] == "closed"]
    opened = [f for f in facts if f["status"] != "closed"]
    assert 0.8 < len(closed) / len(facts) < 0.95
    assert all(ANCHOR - dt.timedelta(days=364) <= f["reported"] <= ANCHOR for f in facts)
    assert all(f["reported"] <= f["closed_on"] <= ANCHOR for f in closed)
    assert any(f["closed_on"] > f["deadline"] for f in closed)  # some closed late
    overdue = [f for f in opened if f["deadline"] < ANCHOR]
    assert overdue and len(overdue) < len(opened)
    for f in opened:
        late_weeks = (ANCHOR - f["deadline"]).days // 7 if f["deadline"] < ANCHOR else 0
        assert f["escalation_level"] == min(2, late_weeks)
        assert (f["escalated_on"] is not None) == (f["escalation_level"] > 0)
    assert {f["status"] for f in opened} == {"reported", "assigned", "rectifying", "submitted"}
    assert 0.04 < sum(f["level"] == "major" for f in facts) / len(facts) < 0.12


def test_raw_timestamps_are_what_django_stores():
    from django.db import connection

    writer = RawWriter()
    for day, seconds in ((ANCHOR, 7 * 3600 + 5), (dt.date(2026, 3, 1), 86399), (ANCHOR, 0)):
        text = writer.ts(day, seconds)
        expected = aware(day, seconds).astimezone(dt.UTC).replace(tzinfo=None)
        if connection.vendor == "postgresql":
            assert text.endswith("+00")
            text = text[: -len("+00")]
        assert dt.datetime.fromisoformat(text) == expected
        assert text == str(expected)  # the text form Django writes for a naive UTC value


# CI installs wrk (scripts/install-bench-tools.sh) and must never skip this silently.
@pytest.mark.skipif(
    shutil.which("wrk") is None and not os.environ.get("CI"), reason="wrk not installed"
)
def test_dashboard_benchmark_smoke(tmp_path):
    code, stderr, document = smoke_run("bench/dashboard.py", tmp_path / "var")
    assert code == 0, stderr
    assert document["benchmark"] == "dashboard" and document["database"] == "sqlite"
    assert document["errors"] == []
    data = document["data"]
    assert data["schools"] == 12 and data["towns"] == 2
    gate = data["gate_events"]
    assert 19_000 < gate["total"] < 21_000
    assert gate["by_table"]["scans"] > gate["by_table"]["releases"] > gate["by_table"]["visits"]
    assert data["hazards"]["hazards"] == 600 and data["hazards"]["overdue"] > 0
    assert data["posts"]["shifts"] > 0 and data["activities"]["activities"] > 0
    assert data["alarms"]["open"] == 3 and data["database_bytes"] > 0

    consistency = document["consistency"]
    assert consistency["mismatches"] == [] and consistency["not_checked"] == []
    assert consistency["checked"] >= 30 and consistency["met"]
    assert document["met"]["consistency"]

    for name in ("county", "town"):
        figures = document["dashboard_figures"][name]
        assert 0 < figures["p50_ms"] <= figures["p95_ms"] and figures["queries"]["count"] > 0

    page = document["dashboard_page"]
    assert page["floor"]["requests"] > 0
    assert set(page["results"]) == {"dashboard", "dashboard_town", "dashboard_api"}
    for name, result in page["results"].items():
        assert result["requests"] > 0 and result["queries"] > 0
        assert result["issue_target"] == (name != "dashboard_api")
        assert result["met"] == (result["p95_ms"] <= 300)
        assert result["served_check"]["panels"]
    assert document["met"]["dashboard_page"] == page["met"]

    monthly = document["monthly_report"]
    for name in ("county", "town"):
        report = monthly[name]
        assert len(report["runs_s"]) == 2
        assert report["pdf_bytes"] > 0 and report["xlsx_bytes"] > 0
        assert report["content"]["sections"] > 5
        assert report["floor"]["tables"]["visits"]["rows"] > 0
        assert report["met"] == (report["median_s"] <= 60)
    assert monthly["county"]["area"]["schools"] == 12
    assert document["met"]["monthly_county_report"] == monthly["county"]["met"]
    assert (tmp_path / "var" / "app.log").exists()
