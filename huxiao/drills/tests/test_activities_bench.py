"""bench/activities.py must keep working: the calendar and shares its generated county is
built with (bench/activities_seed.py), and its smoke mode (a county of 12 schools in 2 towns
on SQLite in a temporary directory, short runs) running the whole benchmark — seed,
evaluate_schools against its floor, the server and the floor server, the calendar's check
of the month's drills, wrk — and printing its JSON. Not a performance test: the figures are
not compared with the targets."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.activities_seed import (
    CALENDAR_SCHOOL,
    EDUCATION_GAP_SHARE,
    IRREGULAR_SHARE,
    KINDERGARTEN_SHARE,
    PLANNED_WEEKS,
    bench_terms,
    evaluation_day,
    plan_school,
    school_facts,
    school_weeks,
)

ROOT = Path(__file__).resolve().parents[3]
EVALUATION = dt.date(2026, 11, 30)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (dt.date(2026, 11, 30), dt.date(2026, 11, 30)),  # late autumn term: today
        (dt.date(2027, 1, 20), dt.date(2027, 1, 20)),  # the autumn term's last day
        (dt.date(2026, 12, 1), dt.date(2026, 12, 1)),
        (dt.date(2026, 10, 8), dt.date(2025, 12, 1)),  # early autumn: the year before's
        (dt.date(2027, 3, 15), dt.date(2026, 12, 1)),  # spring: the autumn before
        (dt.date(2027, 8, 1), dt.date(2026, 12, 1)),  # summer holiday
    ],
)
def test_the_evaluation_day_is_late_in_an_autumn_term(today, expected):
    assert evaluation_day(today) == expected


def test_three_school_years_of_default_terms_end_with_the_evaluation_term():
    terms = bench_terms(EVALUATION)
    assert [(t.starts_on, t.ends_on) for t in terms] == [
        (dt.date(2024, 9, 1), dt.date(2025, 1, 20)),
        (dt.date(2025, 2, 20), dt.date(2025, 7, 10)),
        (dt.date(2025, 9, 1), dt.date(2026, 1, 20)),
        (dt.date(2026, 2, 20), dt.date(2026, 7, 10)),
        (dt.date(2026, 9, 1), dt.date(2027, 1, 20)),
    ]
    # The National Day week is a holiday: no school week lies wholly inside it.
    autumn = {monday for monday, _days in school_weeks(terms[-1])}
    assert dt.date(2026, 9, 28) in autumn  # Mon 28 – Wed 30 September are teaching days
    assert dt.date(2026, 10, 5) in autumn  # Thursday 8 October is one too
    for _monday, days in school_weeks(terms[-1]):
        assert days and all(d.weekday() < 5 for d in days)
        assert not any(dt.date(2026, 10, 1) <= d <= dt.date(2026, 10, 7) for d in days)


def test_generated_schools_have_the_intended_shares():
    facts = [school_facts(n) for n in range(3000)]
    kindergartens = [f for f in facts if f["stage"] == "kindergarten"]
    primaries = [f for f in facts if f["stage"] == "primary"]
    assert abs(len(kindergartens) / len(facts) - KINDERGARTEN_SHARE) < 0.04
    assert all(3 <= len(f["classes"]) <= 9 for f in kindergartens)
    assert all(6 <= len(f["classes"]) <= 18 for f in primaries)
    assert abs(sum(f["irregular"] for f in facts) / len(facts) - IRREGULAR_SHARE) < 0.04
    assert abs(sum(f["education_gaps"] for f in facts) / len(facts) - EDUCATION_GAP_SHARE) < 0.04
    assert 0.02 < sum(not f["has_lvp"] for f in facts) / len(facts) < 0.08
    for f in facts:
        assert f["enrolment"] == sum(f["class_sizes"])
        assert len({c["name"] for c in f["classes"]}) == len(f["classes"])
        assert (f["miss_share"] > 0) == f["irregular"]
    calendar = facts[CALENDAR_SCHOOL]
    assert calendar["stage"] == "primary" and len(calendar["classes"]) == 18
    assert calendar["irregular"]
    # Deterministic: the same index is the same school.
    assert school_facts(17) == facts[17]


def _held_drill_weeks(plans) -> dict[dt.date, int]:
    weeks: dict[dt.date, int] = {}
    for plan in plans:
        if plan["kind"] == "drill" and plan["status"] == "held":
            monday = plan["date"] - dt.timedelta(days=plan["date"].weekday())
            weeks[monday] = weeks.get(monday, 0) + 1
    return weeks


def test_each_school_week_has_its_drill_but_the_weeks_a_school_was_made_to_miss():
    terms = bench_terms(EVALUATION)
    current = terms[-1]
    for n in range(40):
        facts = school_facts(n)
        plans, design = plan_school(n, facts, terms, EVALUATION)
        held = _held_drill_weeks(plans)
        assert set(held.values()) <= {1}
        completed = [
            monday
            for term in terms
            for monday, _days in school_weeks(term)
            if monday + dt.timedelta(days=6) < EVALUATION
        ]
        missed = [m for m in completed if m not in held]
        if not facts["irregular"]:
            assert not missed
        # The evaluation term's missed weeks are the ones the design names.
        in_current = [m for m in missed if current.starts_on <= m + dt.timedelta(days=6)]
        assert sorted(in_current) == sorted(design["missed_weeks"])
        for plan in plans:
            if plan["date"] < EVALUATION:
                assert plan["status"] in ("held", "cancelled")
                assert plan["status"] == "held" or plan["kind"] == "drill"
            else:
                assert plan["status"] == "planned"
            if plan["kind"] == "drill" and plan["date"] >= EVALUATION:
                assert plan["date"] < EVALUATION + dt.timedelta(weeks=PLANNED_WEEKS + 1)
            if plan.get("headcount") is not None:
                assert plan["headcount"] <= facts["enrolment"]


def test_every_class_has_a_session_each_term_unless_the_school_was_made_to_miss_one():
    terms = bench_terms(EVALUATION)
    for n in range(40):
        facts = school_facts(n)
        plans, design = plan_school(n, facts, terms, EVALUATION)
        current = [
            p for p in plans if p["kind"] == "safety_education" and p["date"] >= terms[-1].starts_on
        ]
        whole = any(p["whole_school"] for p in current)
        covered = {k for p in current for k in p["classes"]}
        if whole:
            assert not facts["education_gaps"]
        elif not facts["education_gaps"]:
            assert covered == set(range(len(facts["classes"])))
        else:
            assert len(facts["classes"]) - len(covered) == design["classes_missing"][0]


# CI installs wrk (scripts/install-bench-tools.sh) and must never skip this silently.
@pytest.mark.skipif(
    shutil.which("wrk") is None and not os.environ.get("CI"), reason="wrk not installed"
)
def test_activities_benchmark_smoke(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "HUXIAO_VAR_DIR"}}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    output = tmp_path / "activities.json"
    done = subprocess.run(
        [
            sys.executable,
            "bench/activities.py",
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
    assert document["benchmark"] == "activities"
    assert document["database"] == "sqlite"
    data = document["data"]
    assert data["schools"] == 12 and data["towns"] == 2
    assert len(data["terms"]) == 5
    assert data["activities"] > 12 * 100
    assert data["drill_records"] > 12 * 60

    evaluation = document["evaluate_schools"]
    assert evaluation["schools"] == 12
    assert len(evaluation["runs_ms"]) >= 5
    assert 0 < evaluation["min_ms"] <= evaluation["median_ms"] <= evaluation["max_ms"]
    assert evaluation["queries"] > 0
    assert evaluation["floor"]["tables"]["activities"]["rows"] > 0
    assert evaluation["ratio_to_read_floor"] > 0
    assert evaluation["met"] == (evaluation["median_ms"] <= 2000)

    state = document["compliance_state"]
    assert state["schools"] == 12
    assert "weekly_drill" in state["verdicts_per_rule"]
    # The schools made to miss a drill week of the term are the ones that fail the rule.
    cross = document["designed_vs_evaluated"]
    assert cross["weekly_drill_verdicts"].get("fail", 0) == cross["schools_missing_a_drill_week"]

    pages = document["pages"]
    assert pages["month_drills"] >= 4
    assert pages["floor"]["requests"] > 0
    assert "calendar" in pages["results"]
    calendar = pages["results"]["calendar"]
    assert calendar["issue_target"] and calendar["drills_shown"] == pages["month_drills"]
    for name, result in pages["results"].items():
        assert result["requests"] > 0, name
        assert 0 < result["p50_ms"] <= result["p95_ms"] <= result["p99_ms"]
        assert result["met"] == (result["p95_ms"] <= 150)
        assert result["queries"] > 0
    assert document["met"]["calendar_page"] == calendar["met"]
    # The temporary var dir given is kept (the caller's), the database in it fresh each run.
    assert (tmp_path / "var" / "app.log").exists()
