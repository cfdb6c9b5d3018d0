"""bench/supervision_assessment: the monthly assessment and ranking of every school of the
generated county (issue 6 item 5; target ≤ 5 s for 1,000 schools).

`measure_assessment(seeded, runs)` is called by bench/supervision.py on its generated county
(bench/supervision_seed.py: 1,000 schools, 100,000 hazards, 20,000 inspections); run on its
own it reuses (or generates) the same cached county and measures only this:

    .venv/bin/python -m bench.supervision_assessment [--runs 7] [--smoke]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/huxiao_bench_supervision \
        .venv/bin/python -m bench.supervision_assessment

What is measured: `assessment_compute` end to end for the shipped default scheme of the
county education office (every school, eleven indicators — each one or a few grouped
queries —, the veto lookup, scoring, ranking, town means, deleting the period's previous
draft and bulk-writing the results, committed), for the last full month before the anchor
day. A warm-up run is reported as `cold_ms`; then --runs runs (at least 5): median, p95
(nearest rank) and max against the target, its query count, and what the run holds
(schools, scored, ranked, towns). The current month (running, counted up to the anchor day)
is measured once more for comparison. Everything it creates (the scheme, its runs and their
audit rows) is removed afterwards, so the cached county stays as generated.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_RANKING_MS = 5000.0
MIN_RUNS = 5


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def measure_assessment(seeded: dict, runs: int = 7, target_ms: float = TARGET_RANKING_MS) -> dict:
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.supervision_seed import REGION_CODE, job_now
    from huxiao.audit.models import AuditEvent
    from huxiao.core.roles import OrgKind
    from huxiao.orgs.models import Organization
    from huxiao.supervision import assessment_selectors as sel
    from huxiao.supervision import assessment_services as services
    from huxiao.supervision.models import AssessmentRun

    runs = max(runs, MIN_RUNS)
    anchor = dt.date.fromisoformat(seeded["anchor"])
    now = job_now(anchor)
    office = Organization.objects.get(
        kind=OrgKind.EDUCATION_OFFICE, region__code=REGION_CODE, town__isnull=True
    )
    actor = get_user_model().objects.get(username="bench-sup-county")
    audit_floor = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    scheme = services.ensure_default_scheme(office, actor=actor)
    last = sel.previous_period(scheme.period_kind, anchor)

    def compute(day):
        t0 = time.perf_counter()
        run = services.assessment_compute(actor=actor, scheme=scheme, day=day, now=now)
        return run, (time.perf_counter() - t0) * 1000

    try:
        run, cold_ms = compute(last.end)
        timings = []
        for n in range(runs):
            run, ms = compute(last.end)
            timings.append(ms)
            print(f"assessment {n + 1}/{runs}: {ms:.0f} ms", file=sys.stderr)
        with CaptureQueriesContext(connection) as queries:
            run, _ms = compute(last.end)
        results = run.results
        held = {
            "period": [last.start.isoformat(), last.end.isoformat()],
            "schools": results.count(),
            "scored": results.filter(score__isnull=False).count(),
            "ranked": results.filter(rank__isnull=False).count(),
            "vetoed": results.filter(vetoed=True).count(),
            "towns": run.town_results.count(),
            "indicators": scheme.indicators.count(),
            "duration_ms_recorded": run.duration_ms,
        }
        if seeded.get("schools") and held["schools"] != seeded["schools"]:
            raise RuntimeError(f"ranked {held['schools']} schools of {seeded['schools']}")
        _running, running_ms = compute(anchor)
    finally:
        AssessmentRun.objects.filter(scheme=scheme).delete()
        scheme.delete()
        AuditEvent.objects.filter(
            pk__gt=audit_floor, object_type__startswith="supervision."
        ).delete()

    median = statistics.median(timings)
    p95 = _p95(timings)
    return {
        "status": "measured",
        "scheme": "default (shipped), county education office",
        "runs": runs,
        "median_ms": round(median, 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(max(timings), 1),
        "runs_ms": [round(x, 1) for x in timings],
        "cold_ms": round(cold_ms, 1),
        "current_month_ms": round(running_ms, 1),
        "queries": len(queries),
        "holds": held,
        "target_ms": target_ms,
        # The target applies to every run: p95, not just the median.
        "pass": p95 <= target_ms,
    }


def main(argv: list[str] | None = None) -> int:
    import os
    import shutil

    from bench.supervision import (
        _expected_manifest,
        _manifest_path,
        _mark,
        _read_manifest,
        _setup,
    )
    from bench.supervision_seed import build, log

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--hazards-per-school", type=int, default=100)
    parser.add_argument("--inspections-per-school", type=int, default=20)
    parser.add_argument("--runs", type=int, default=7, help=f"measured runs (>= {MIN_RUNS})")
    parser.add_argument("--var-dir", type=Path, default=ROOT / "var" / "bench" / "supervision")
    parser.add_argument("--output", type=Path, help="also write the JSON here")
    parser.add_argument("--rebuild", action="store_true", help="generate the county again")
    parser.add_argument("--smoke", action="store_true", help="tiny county in a temporary dir")
    parser.add_argument("--strict", action="store_true", help="exit 1 on a missed target")
    args = parser.parse_args(argv)
    if args.smoke:
        args.schools, args.hazards_per_school, args.inspections_per_school = 4, 40, 2
        if args.var_dir == parser.get_default("var_dir"):
            args.var_dir = Path(tempfile.mkdtemp(prefix="huxiao-bench-assessment-"))
    try:
        vendor, stale, _env = _setup(args, args.var_dir)
        from django.utils import timezone

        anchor = timezone.localdate()
        if stale:
            log(f"generating the county ({vendor})")
            seeded = build(
                schools=args.schools,
                hazards_per_school=args.hazards_per_school,
                inspections_per_school=args.inspections_per_school,
                anchor=anchor,
            )
            _mark(
                args.var_dir, vendor, **{**seeded, **_expected_manifest(args, anchor)}, clean=True
            )
        seeded = _read_manifest(_manifest_path(args.var_dir, vendor))
        result = measure_assessment(seeded, args.runs)
    finally:
        if args.smoke and args.var_dir.name.startswith("huxiao-bench-assessment-"):
            shutil.rmtree(args.var_dir, ignore_errors=True)
    document = {
        "benchmark": "supervision_assessment",
        "database": vendor,
        "smoke": args.smoke,
        "data": {k: seeded.get(k) for k in ("schools", "hazards", "inspections", "anchor")},
        "assessment_ranking": result,
        "machine": {"cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()]},
    }
    text = json.dumps(document, ensure_ascii=False, indent=2)
    print(text)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n")
    return 1 if args.strict and not result["pass"] else 0


if __name__ == "__main__":
    sys.exit(main())
