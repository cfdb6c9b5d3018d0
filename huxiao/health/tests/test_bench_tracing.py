"""bench/tracing.py must keep working: the traced school and the county it generates
(bench/tracing_seed.py) have the shape the benchmark claims, and its smoke mode (a county of
12 schools, a traced school of 300 children, SQLite in a temporary directory, short runs)
runs the whole benchmark — seed, case_contacts and clusters_evaluate against their floors,
the check page and the floor page under wrk — and prints its JSON. Not a performance test:
the figures are not compared with the targets."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from bench.activities_seed import school_facts
from bench.common import percentiles, smoke_run
from bench.tracing_seed import (
    BOARDING_GRADES,
    CLASSES_PER_CHECKPOINT,
    PAGE_CLASS_SIZE,
    QUEUE_GAP_S,
    ROOM_BEDS,
    county_days,
    county_events,
    evaluation_day,
    plan_school,
    planted,
    school_days,
)

ROOT = Path(__file__).resolve().parents[3]
GROUP = {
    "fever": "respiratory",
    "cough": "respiratory",
    "vomiting": "digestive",
    "diarrhoea": "digestive",
}


@pytest.fixture(scope="module")
def plan():
    return plan_school(classes=100, children=3000, days=14, cases=60)


def test_the_evaluation_day_is_a_weekday_and_school_days_are_weekdays():
    assert evaluation_day(dt.date(2026, 11, 29)) == dt.date(2026, 11, 27)  # Sunday → Friday
    assert evaluation_day(dt.date(2026, 11, 30)) == dt.date(2026, 11, 30)
    days = school_days(dt.date(2026, 11, 30), 14)
    assert len(days) == 14 and days[-1] == dt.date(2026, 11, 30)
    assert all(d.weekday() < 5 for d in days) and days == sorted(days)
    county = county_days(dt.date(2026, 11, 30))
    assert len(county) == 15 and county[0] == dt.date(2026, 11, 10)


def test_the_traced_school_has_the_issue_shape(plan):
    classes, kids = plan["classes"], plan["children"]
    assert len(classes) == 100 and len(kids) == 3000
    assert classes[0]["size"] == PAGE_CLASS_SIZE
    assert sum(c["size"] for c in classes) == 3000
    assert len({c["name"] for c in classes}) == 100
    assert len({k["name"] for k in kids}) == 3000
    assert len({c["checkpoint"] for c in classes}) == 100 // CLASSES_PER_CHECKPOINT
    riders = [k for k in kids if k["route"] is not None]
    assert 0.10 < len(riders) / len(kids) < 0.16
    per_route = [sum(k["route"] == r for k in riders) for r in range(plan["routes"])]
    assert max(per_route) <= 45  # the buses' seats
    boarders = [k for k in kids if k["rooms"]]
    assert boarders and all(classes[k["class"]]["grade"] in BOARDING_GRADES for k in boarders)
    first_rooms: dict[str, int] = {}
    for k in boarders:
        first_rooms[k["rooms"][0][0]] = first_rooms.get(k["rooms"][0][0], 0) + 1
    assert max(first_rooms.values()) <= ROOM_BEDS
    assert any(len(k["rooms"]) == 2 for k in boarders)  # some moved during the fortnight
    # Deterministic: the same arguments are the same school.
    again = plan_school(classes=100, children=3000, days=14, cases=60)
    assert again["children"] == kids and again["cases"] == plan["cases"]


def test_the_check_queue_interleaves_classes_10_to_20_seconds_apart(plan):
    # (The evaluation day's queues miss the measured class: see below.)
    for d, checks in enumerate(plan["checks"][:-1]):
        queues: dict[str, list[tuple[int, int]]] = {}
        for i, row in checks.items():
            assert i not in plan["absences"][d]  # only present children are checked
            queues.setdefault(row["checkpoint"], []).append(
                (row["at"], plan["children"][i]["class"])
            )
        for queue in queues.values():
            queue.sort()
            gaps = {b[0] - a[0] for a, b in zip(queue, queue[1:], strict=False)}
            assert gaps <= set(range(QUEUE_GAP_S[0], QUEUE_GAP_S[1] + 1))
            assert len({cls for _, cls in queue[:20]}) > 1  # classes interleaved
    # The measured class's check of the evaluation day is not taken yet.
    page_class = {i for i, k in enumerate(plan["children"]) if k["class"] == 0}
    assert not page_class & set(plan["checks"][-1])
    assert page_class & set(plan["checks"][-2])


def test_cases_are_spread_and_present_before_their_onset(plan):
    cases, kids = plan["cases"], plan["children"]
    assert len({kids[c["child"]]["class"] for c in cases}) == 60
    assert [c["kind"] for c in cases[:3]] == ["bus", "dormitory", "other"]
    for case in cases:
        kid, onset = kids[case["child"]], case["onset"]
        assert {"bus": kid["route"] is not None, "dormitory": bool(kid["rooms"])}.get(
            case["kind"], kid["route"] is None and not kid["rooms"]
        )
        for d in range(onset - 2, onset + 1):
            assert case["child"] not in plan["absences"][d]
        if kid["class"] != 0 or onset != len(plan["checks"]) - 1:
            assert plan["checks"][onset][case["child"]]["symptoms"] == ["fever", "cough"]
        for d in range(onset + 1, min(onset + 3, 14)):
            assert plan["absences"][d][case["child"]]["cause"] == "illness"
    assert sum(not c["isolated"] for c in cases) == 12


def test_the_county_plants_its_clusters_within_the_default_windows():
    days = county_days(dt.date(2026, 11, 30))  # a Monday: the class window holds one school day
    kinds = {planted(n) for n in range(1, 1000)} - {None}
    assert kinds == {"class_cluster", "school_cluster", "near_miss"}
    for n in range(1, 1000):
        kind = planted(n)
        if kind is None:
            continue
        sizes = school_facts(n)["class_sizes"]
        events = county_events(n, sizes, days)
        assert events == county_events(n, sizes, days)
        last_3 = {(k, c) for k, c, d, s in events if (days[-1] - d).days < 3 and GROUP.get(s)}
        if kind == "class_cluster":
            by_class: dict[int, set] = {}
            for k, c in last_3:
                by_class.setdefault(k, set()).add(c)
            assert max(len(v) for v in by_class.values()) >= 4
        if kind == "school_cluster":
            digestive = {
                (k, c)
                for k, c, d, s in events
                if (days[-1] - d).days < 7 and GROUP.get(s) == "digestive"
            }
            assert len(digestive) >= 7
            assert len({k for k, _ in digestive}) >= min(4, len(sizes))


def test_percentiles_interpolate_between_ranks():
    figures = percentiles([float(x) for x in range(1, 101)])
    assert figures["n"] == 100
    assert figures["p50_ms"] == 50.5
    assert figures["p99_ms"] == 99.01
    assert figures["min_ms"] == 1 and figures["max_ms"] == 100
    assert percentiles([3.0])["p99_ms"] == 3.0


# CI installs wrk (scripts/install-bench-tools.sh) and must never skip this silently.
@pytest.mark.skipif(
    shutil.which("wrk") is None and not os.environ.get("CI"), reason="wrk not installed"
)
def test_tracing_benchmark_smoke(tmp_path):
    code, stderr, document = smoke_run("bench/tracing.py", tmp_path / "var")
    assert code == 0, stderr
    assert document["benchmark"] == "tracing" and document["database"] == "sqlite"
    assert document["errors"] == []
    data = document["data"]
    assert data["schools"] == 12
    school = data["traced_school"]
    assert school["children"] == 300 and school["classes"] == 10
    assert school["page_class_size"] == 40
    assert school["child_checks"] > 1000 and school["boardings"] > 0
    assert data["county"]["symptom_events"] > 0

    contacts = document["case_contacts"]
    assert contacts["cases"] == 6 and contacts["n"] == 6 * 3
    assert 0 < contacts["p50_ms"] <= contacts["p95_ms"] <= contacts["p99_ms"]
    assert contacts["floor"]["n"] == contacts["n"]
    reasons = contacts["contacts"]["cases_with_each_reason"]
    assert {"same_class", "check_queue", "dining", "bus", "dormitory"} <= set(reasons)
    assert contacts["met"] == (contacts["p99_ms"] <= 200)

    clusters = document["clusters_evaluate"]
    assert clusters["alerts_created_per_run"][0] > 0
    assert clusters["alerts_created_per_run"][1:] == [0] * 5
    assert clusters["second_evaluation_created_none"]
    assert clusters["queries"]["count"] > 0
    assert clusters["floor"]["tables"]["symptom_events"]["rows"] > 0

    page = document["check_entry_page"]
    assert page["class_size"] == 40 and page["floor"]["requests"] > 0
    for name in ("check_entry", "check_entry_recorded"):
        result = page["results"][name]
        assert result["children_shown"] == 40 and result["issue_target"]
        assert result["requests"] > 0 and result["queries"] > 0
        assert result["met"] == (result["p95_ms"] <= 150)
    assert document["met"]["check_entry_page"] == page["met"]
    assert (tmp_path / "var" / "app.log").exists()
