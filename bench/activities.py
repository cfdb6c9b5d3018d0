"""bench/activities: a county's activity compliance and a school's calendar page (issue 8).

A generated county (bench/activities_seed.py): 1,000 schools over 12 towns, ~10,000 classes,
three school years of weekly drills, safety-education sessions per class and term, legal
lectures, parent meetings and staff trainings (~165,000 activities). Targets of issue 8 and
what is measured here:

- compliance for all schools ≤ 2 s: `drills.compliance.evaluate_schools(all school ids,
  today=<evaluation day>)` end to end (the evaluation day is late in the third school year's
  autumn term: activities_seed.evaluation_day). The first run is reported apart as
  `cold_ms`; then --runs measured runs (median, max), its query count and where its time
  goes. Its floor, measured in the same run, interleaved with it: the time merely to read the
  same input rows (`list(Model.objects.filter(...).values_list(...))` of the term's
  activities, their class links, the classes, the legal vice-principals, the schools, terms
  and rules, one query each). The ratio to the floor is reported.
- a school's calendar page p95 ≤ 150 ms: `drills:calendar` (`?school=<id>&month=YYYY-MM`,
  the evaluation day's month) for the school's principal (session cookie); also the school's
  compliance page and the town and county compliance pages when they exist (reported against
  the same 150 ms, not an issue target). Served by granian WSGI (`manage.py serve`'s flags)
  under light load — wrk with --connections (default 2) for --duration seconds per URL and
  round — beside the floor page of bench/floor_app.py (the school home page as a bare view:
  no middleware, no auth) served the same way in the same run. p50/p90/p95/p99 per URL,
  medians of the rounds, and each p95 over the floor's. Queries per request are counted (and
  one request profiled) in-process with the test client, and the calendar served is checked
  to show each of the month's drills (its detail link or its title) before it is loaded.

    .venv/bin/python bench/activities.py [--runs 7] [--rounds 3] [--duration 5] [--strict]
    .venv/bin/python bench/activities.py --database postgres
    .venv/bin/python bench/activities.py --smoke   # tiny county, seconds: it still works

Each run generates its county afresh: SQLite in a new temporary var directory (removed at
the end), PostgreSQL in its own database (--postgres-url, default huxiao_bench_activities at
127.0.0.1:5432 as postgres), recreated at the start and dropped at the end (--keep keeps
either). Prints JSON, writes var/bench/activities.json and var/bench/activities-<database>.json
(--smoke: only --output); progress goes to stderr. Exits 2 on any error, and 1 on a missed
target only with --strict. Needs wrk (scripts/install-bench-tools.sh).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import html
import json
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/activities.py` puts bench/ first
    sys.path.insert(0, str(ROOT))

from bench.activities_seed import actors, build, log  # noqa: E402
from bench.compliance import (  # noqa: E402
    SCRIPT,
    BenchError,
    _cookies,
    _fetch,
    _in_process,
    _postgres,
    _postgres_name,
    _profile_top,
    _setup,
)
from bench.loadgen import LoadError, Sample, parse, run_wrk_output, wrk_path  # noqa: E402
from bench.servers import GranianWSGI, ServerError  # noqa: E402

TARGET_EVALUATION_MS = 2000.0
TARGET_PAGE_P95_MS = 150.0
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/huxiao_bench_activities"


# ------------------------------------------------------------------ the evaluation


def _school_ids(region_id: int) -> list[int]:
    from huxiao.core.roles import SCHOOL_KINDS
    from huxiao.orgs.models import Organization

    return list(
        Organization.objects.filter(
            region_id=region_id, kind__in=SCHOOL_KINDS, is_active=True
        ).values_list("pk", flat=True)
    )


def read_inputs(region_id: int, ids: list[int], today: dt.date) -> dict[str, tuple[int, float]]:
    """The floor: read every input row of the evaluation for the schools (the held activities
    of the term and their class links, the classes, the legal vice-principals, the schools,
    terms and rules), one query per table, into Python tuples. Returns table → (rows, ms)."""
    from huxiao.drills.models import Activity, ActivityRule, Term
    from huxiao.drills.terms import term_for
    from huxiao.orgs.models import Organization
    from huxiao.patrols.models import LegalVicePrincipal
    from huxiao.people.models import SchoolClass

    timings: dict[str, tuple[int, float]] = {}

    def read(name, queryset):
        t0 = time.perf_counter()
        rows = list(queryset)
        timings[name] = (len(rows), (time.perf_counter() - t0) * 1000)
        return rows

    read("schools", Organization.objects.filter(pk__in=ids).values_list("pk", "region_id"))
    read(
        "terms",
        Term.objects.filter(region_id=region_id).values_list(
            "pk", "starts_on", "ends_on", "breaks"
        ),
    )
    term = term_for(region_id, today)
    span = (term.starts_on, term.ends_on)
    read(
        "rules",
        ActivityRule.objects.filter(region_id=region_id).values_list("key", "enabled", "params"),
    )
    read(
        "activities",
        Activity.objects.filter(school_id__in=ids, status="held", date__range=span).values_list(
            "pk", "school_id", "kind", "status", "date", "whole_school", "police_officer_id"
        ),
    )
    read(
        "activity_classes",
        Activity.classes.through.objects.filter(
            activity__school_id__in=ids, activity__status="held", activity__date__range=span
        ).values_list("activity_id", "schoolclass_id"),
    )
    read("classes", SchoolClass.objects.filter(school_id__in=ids).values_list("pk", "school_id"))
    read(
        "legal_vice_principals",
        LegalVicePrincipal.objects.filter(school_id__in=ids).values_list(
            "school_id", "officer_id", "term_start", "term_end", "ended_at"
        ),
    )
    return timings


def _field(item, *names):
    for name in names:
        value = item.get(name) if isinstance(item, dict) else getattr(item, name, None)
        if value is not None:
            return value
    return None


def _state(results: dict) -> dict:
    """What the evaluation concluded: compliant schools, and each rule's verdict counts."""
    verdicts: dict[str, Counter] = {}
    for result in results.values():
        for item in _field(result, "verdicts") or []:
            rule = _field(item, "rule", "key")
            verdict = _field(item, "verdict", "state", "status")
            verdicts.setdefault(str(rule), Counter())[str(verdict)] += 1
    return {
        "schools": len(results),
        "compliant": sum(bool(_field(r, "is_compliant")) for r in results.values()),
        "missing_items": sum(_field(r, "missing_count") or 0 for r in results.values()),
        "verdicts_per_rule": {rule: dict(counts) for rule, counts in sorted(verdicts.items())},
    }


def measure_evaluation(seeded: dict, runs: int) -> tuple[dict, dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from huxiao.drills.compliance import evaluate_schools

    region_id = seeded["region_id"]
    ids = _school_ids(region_id)
    today = dt.date.fromisoformat(seeded["evaluation_day"])

    def run() -> tuple[float, dict]:
        t0 = time.perf_counter()
        results = evaluate_schools(ids, today=today)
        return (time.perf_counter() - t0) * 1000, results

    cold_ms, results = run()
    if set(results) != set(ids):
        raise BenchError(f"evaluate_schools answered for {len(results)} of {len(ids)} schools")
    log(f"evaluate_schools: cold run {cold_ms:.0f} ms ({len(ids):,} schools)")
    read_inputs(region_id, ids, today)  # warm the floor like the cold run warmed the evaluation

    evaluation, reads = [], []
    tables: dict[str, list[float]] = {}
    table_rows: dict[str, int] = {}
    for n in range(runs):
        for step in ("evaluate", "read") if n % 2 == 0 else ("read", "evaluate"):
            if step == "evaluate":
                evaluation.append(run()[0])
                continue
            timings = read_inputs(region_id, ids, today)
            reads.append(sum(ms for _, ms in timings.values()))
            for name, (rows, ms) in timings.items():
                tables.setdefault(name, []).append(ms)
                table_rows[name] = rows
        log(f"evaluate_schools {n + 1}/{runs}: {evaluation[-1]:.0f} ms; floor {reads[-1]:.0f} ms")

    with CaptureQueriesContext(connection) as queries:
        run()
    query_count = len(queries)
    profile = cProfile.Profile()
    t0 = time.perf_counter()
    profile.enable()
    evaluate_schools(ids, today=today)
    profile.disable()
    profiled_s = time.perf_counter() - t0

    median, read_median = statistics.median(evaluation), statistics.median(reads)
    figures = {
        "today": today.isoformat(),
        "schools": len(ids),
        "cold_ms": round(cold_ms, 1),
        "median_ms": round(median, 1),
        "max_ms": round(max(evaluation), 1),
        "min_ms": round(min(evaluation), 1),
        "runs_ms": [round(x, 1) for x in evaluation],
        "queries": query_count,
        "floor": {
            "what": "read each input table once for the term (values_list of what the rules need)",
            "read_median_ms": round(read_median, 1),
            "read_max_ms": round(max(reads), 1),
            "tables": {
                name: {"rows": table_rows[name], "median_ms": round(statistics.median(ms), 1)}
                for name, ms in tables.items()
            },
        },
        "ratio_to_read_floor": round(median / read_median, 2) if read_median else None,
        "profile": {
            "wall_ms_under_profiler": round(profiled_s * 1000, 1),
            "cumulative": _profile_top(profile, profiled_s),
        },
        "target_ms": TARGET_EVALUATION_MS,
        "met": median <= TARGET_EVALUATION_MS,
    }
    return figures, _state(results)


# ------------------------------------------------------------------ the pages


def _urls(ids: dict, evaluation_day: str) -> list[dict]:
    """The calendar of the evaluation day's month (the target), and the compliance pages
    judged on the evaluation day, when they exist (reported, no target)."""
    from django.urls import NoReverseMatch, reverse

    school, on = ids["school_id"], f"?on={evaluation_day}"
    pages = [
        (
            "calendar",
            "principal",
            "drills:calendar",
            [],
            f"?school={school}&month={evaluation_day[:7]}",
        ),
        ("school_compliance", "principal", "drills:compliance_school", [school], on),
        ("town_compliance", "town", "drills:compliance_town", [ids["town_id"]], on),
        ("county_compliance", "county", "drills:compliance_overview", [], on),
    ]
    urls = []
    for name, actor, url_name, args, query in pages:
        try:
            path = reverse(url_name, args=args) + query
        except NoReverseMatch:
            if name == "calendar":
                raise BenchError("the calendar page drills:calendar is not there yet") from None
            log(f"{name}: {url_name} is not there: not measured")
            continue
        urls.append({"name": name, "actor": actor, "path": path, "target": name == "calendar"})
    return urls


def _month_drills(school_id: int, month: str) -> list[tuple[int, str]]:
    from huxiao.drills.models import Activity

    year, number = (int(x) for x in month.split("-"))
    return list(
        Activity.objects.filter(
            school_id=school_id, kind="drill", date__year=year, date__month=number
        ).values_list("pk", "title")
    )


def _drill_checker(school_id: int, month: str):
    """A check of the calendar's body: every drill of the month is shown (its detail link or
    its title). Returns how many were shown; raises when one is missing."""
    from django.urls import NoReverseMatch, reverse

    drills = _month_drills(school_id, month)
    if not drills:
        raise BenchError(f"the calendar school has no drill in {month}: nothing to check")

    def link(pk: int) -> str | None:
        try:
            return reverse("drills:activity_detail", args=[pk])
        except NoReverseMatch:
            return None

    def check(body: bytes) -> int:
        text = body.decode("utf-8", errors="replace")
        missing = [
            title
            for pk, title in drills
            if html.escape(title) not in text
            and title not in text
            and (link(pk) or "\0") not in text
        ]
        if missing:
            raise BenchError(
                f"calendar: {len(missing)} of {len(drills)} drills not shown: {missing[:3]}"
            )
        return len(drills)

    return check


def _load(args, base_url: str, headers: dict) -> tuple[Sample, float]:
    output = run_wrk_output(
        base_url,
        headers=headers,
        threads=args.threads,
        connections=args.connections,
        duration_s=args.duration,
        timeout_s=10.0,
        script=SCRIPT,
    )
    p95 = re.search(r"^HUXIAO_P95_US (\d+)", output, re.M)
    if p95 is None:
        raise LoadError(f"no p95 in the wrk report:\n{output}")
    return parse(output), int(p95.group(1)) / 1000


def _figures(taken: list[tuple[Sample, float]]) -> dict:
    return {
        "rps": round(statistics.median(s.rps for s, _ in taken), 1),
        "p50_ms": round(statistics.median(s.p50_ms for s, _ in taken), 2),
        "p90_ms": round(statistics.median(s.p90_ms for s, _ in taken), 2),
        "p95_ms": round(statistics.median(p for _, p in taken), 2),
        "p99_ms": round(statistics.median(s.p99_ms for s, _ in taken), 2),
        "requests": sum(s.requests for s, _ in taken),
    }


def _servers(args, env: dict, ids: dict) -> dict[str, GranianWSGI]:
    server_env = {
        **os.environ,
        **env,
        "PYTHONDONTWRITEBYTECODE": "1",
        # What the floor's bare view shows: the school home of the calendar school's principal.
        "HUXIAO_BENCH_SCHOOL_ID": str(ids["school_id"]),
        "HUXIAO_BENCH_USER_ID": str(ids["principal"].pk),
    }
    return {
        name: GranianWSGI(
            target,
            env=server_env,
            log_path=args.var_dir / f"{name}.log",
            workers=args.workers,
            blocking_threads=args.blocking_threads,
        )
        for name, target in (
            ("app", "config.wsgi:application"),
            ("floor", "bench.floor_app:application"),
        )
    }


def _run_load(args, servers: dict, measured: list[dict], headers: dict, check) -> tuple[dict, int]:
    """Check each page once through its server (the calendar shows the month's drills), then
    wrk rounds alternating the order. Returns the samples and the drills shown."""
    samples: dict[str, list[tuple[Sample, float]]] = {u["name"]: [] for u in measured}
    shown = 0
    for name, server in servers.items():
        log(f"starting {name} ({server.target}) on {server.base_url}")
        server.start()
    for url in measured:
        full = servers[url["server"]].base_url + url["path"]
        status, body = _fetch(full, headers[url["actor"]])
        if status != 200:
            raise BenchError(f"{url['name']}: the server answered {status}: {body[:300]!r}")
        if url["name"] == "floor" and b'data-testid="home-title"' not in body:
            raise BenchError("floor: not the school home page")
        if url["name"] == "calendar":
            shown = check(body)
    for round_no in range(args.rounds):
        # Alternate the order, so a drift in the machine's load hits pages and floor alike.
        for url in measured if round_no % 2 == 0 else measured[::-1]:
            full = servers[url["server"]].base_url + url["path"]
            for _ in range(args.warmup):
                _fetch(full, headers[url["actor"]])
            sample, p95 = _load(args, full, headers[url["actor"]])
            samples[url["name"]].append((sample, p95))
            log(
                f"round {round_no + 1}/{args.rounds} {url['name']:<18} "
                f"{sample.rps:7.1f} req/s p50 {sample.p50_ms:7.1f} p95 {p95:7.1f} "
                f"p99 {sample.p99_ms:7.1f} ms"
            )
    for name, server in servers.items():
        if server.process is None or server.process.poll() is not None:
            raise BenchError(f"the {name} server died during the load; see {server.log_path}")
    return samples, shown


def measure_pages(args, env: dict, seeded: dict) -> dict:
    ids = actors(seeded["region_id"])
    users = {name: ids[name] for name in ("principal", "town", "county")}
    month = seeded["evaluation_day"][:7]
    urls = _urls(ids, seeded["evaluation_day"])
    check = _drill_checker(ids["school_id"], month)
    log(f"{len(urls)} pages and the floor; queries per request in-process")
    # Status, queries, size and a profile of each request through the whole stack (no names
    # to expect: the calendar's drills are checked on the server's answer).
    checks = _in_process(urls, users, {})
    headers = _cookies(users)
    servers = _servers(args, env, ids)
    floor_url = {"name": "floor", "actor": "principal", "path": "/", "server": "floor"}
    measured = [{**u, "server": "app"} for u in urls] + [floor_url]
    try:
        samples, shown = _run_load(args, servers, measured, headers, check)
    finally:
        for server in servers.values():
            server.stop()

    floor = _figures(samples["floor"])
    results = {}
    for url in urls:
        result = _figures(samples[url["name"]])
        results[url["name"]] = {
            "actor": url["actor"],
            "path": url["path"],
            **result,
            "p95_ratio_to_floor": round(result["p95_ms"] / floor["p95_ms"], 2)
            if floor["p95_ms"]
            else None,
            **{k: v for k, v in checks[url["name"]].items() if k != "names_shown"},
            **({"drills_shown": shown} if url["name"] == "calendar" else {}),
            "target_p95_ms": TARGET_PAGE_P95_MS,
            "issue_target": url["target"],
            "met": result["p95_ms"] <= TARGET_PAGE_P95_MS,
        }
    return {
        "month": month,
        "month_drills": len(_month_drills(ids["school_id"], month)),
        "load": {
            "tool": "wrk",
            "threads": args.threads,
            "connections": args.connections,
            "duration_s": args.duration,
            "warmup_requests": args.warmup,
            "rounds": args.rounds,
        },
        "server": {
            "interface": "wsgi",
            "workers": args.workers,
            "blocking_threads": args.blocking_threads,
        },
        "floor": {
            "what": "bench/floor_app.py: the school home page as a bare view, same server",
            "path": "/",
            **floor,
        },
        "results": results,
        "met": all(r["met"] for r in results.values() if r["issue_target"]),
    }


# ------------------------------------------------------------------ main


def _designed_vs_evaluated(seeded: dict, state: dict) -> dict:
    """The seed's intent beside the evaluation's verdicts (a cross-check, not a target): the
    schools made to miss a completed drill week of the evaluation's term against the
    weekly-drill rule's failures."""
    weekly = state["verdicts_per_rule"].get("weekly_drill", {})
    return {
        "schools_missing_a_drill_week": seeded["designed_in_evaluation_term"][
            "schools_missing_a_week"
        ],
        "weekly_drill_verdicts": weekly,
    }


def _parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--towns", type=int, default=12)
    parser.add_argument("--today", type=dt.date.fromisoformat, help="default: the real today")
    parser.add_argument("--runs", type=int, default=7, help="measured evaluations (>= 5)")
    parser.add_argument("--rounds", type=int, default=3, help="wrk runs per page")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up requests per page run")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--connections", type=int, default=2, help="wrk connections")
    parser.add_argument("--workers", type=int, default=1, help="granian workers")
    parser.add_argument("--blocking-threads", type=int, default=8, help="granian threads")
    parser.add_argument("--var-dir", type=Path, help="default: a new temporary directory")
    parser.add_argument("--output", type=Path, help="also write the JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the var dir and database")
    parser.add_argument("--smoke", action="store_true", help="tiny county, short runs")
    parser.add_argument("--strict", action="store_true", help="exit 1 on a missed target")
    args = parser.parse_args(argv)
    if args.smoke:
        args.schools, args.towns = 12, 2
        args.runs, args.rounds, args.duration, args.warmup = 5, 1, 1, 1
    if args.runs < 5:
        parser.error("--runs must be >= 5")
    if min(args.rounds, args.duration, args.warmup, args.connections, args.threads) < 1:
        parser.error("--rounds, --duration, --warmup and wrk's must be >= 1")
    if args.schools < 2 or not 1 <= args.towns <= args.schools:
        parser.error("--schools must be >= 2 and 1 <= --towns <= --schools")
    return args


def _document(args, seeded, evaluation, state, pages, loads) -> dict:
    import django
    import granian

    return {
        "benchmark": "activities",
        "database": "postgresql" if args.database == "postgres" else "sqlite",
        "smoke": args.smoke,
        "data": {k: v for k, v in seeded.items() if k != "region_id"},
        "evaluate_schools": evaluation,
        "compliance_state": state,
        "designed_vs_evaluated": _designed_vs_evaluated(seeded, state),
        "pages": pages,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "django": django.get_version(),
            "granian": granian.__version__,
            # The machine may be shared: the load average says how quiet it was.
            "load_average_before": [round(x, 2) for x in loads[0]],
            "load_average_after": [round(x, 2) for x in loads[1]],
        },
        "targets": {
            "evaluate_schools_median_ms": TARGET_EVALUATION_MS,
            "calendar_page_p95_ms": TARGET_PAGE_P95_MS,
        },
        "met": {"evaluate_schools": evaluation["met"], "calendar_page": pages["met"]},
    }


def _cleanup(args, temporary: bool) -> None:
    if "django" in sys.modules:
        from django.apps import apps

        if apps.ready:
            from django.db import connections

            connections.close_all()
    if args.postgres_name and not args.keep:
        _postgres(args.postgres_url, args.postgres_name, create=False)
    if temporary and not args.keep:
        shutil.rmtree(args.var_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    temporary = args.var_dir is None
    if temporary:
        args.var_dir = Path(tempfile.mkdtemp(prefix="huxiao-bench-activities-"))
    args.postgres_name = None
    try:
        wrk_path()  # fail before any setup if wrk is missing
        if args.database == "postgres":
            args.postgres_name = _postgres_name(args.postgres_url)
        env = _setup(args)
        from django.utils import timezone

        anchor = args.today or timezone.localdate()
        log(f"generating the county: {args.schools:,} schools in {args.towns} towns")
        seeded = build(schools=args.schools, towns=args.towns, anchor=anchor)
        load_before = os.getloadavg()
        log("evaluate_schools against its floor")
        evaluation, state = measure_evaluation(seeded, args.runs)
        log("the calendar and compliance pages against the floor page")
        pages = measure_pages(args, env, seeded)
        load_after = os.getloadavg()
    except (BenchError, LoadError, ServerError) as exc:
        log(f"FAILED: {exc}")
        for name in ("app.log", "floor.log"):
            path = args.var_dir / name
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-30:]
                log(f"last lines of {name}:\n" + "\n".join(tail))
        return 2
    finally:
        _cleanup(args, temporary)

    document = _document(args, seeded, evaluation, state, pages, (load_before, load_after))
    text = json.dumps(document, ensure_ascii=False, indent=2)
    print(text)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n")
    if not args.smoke:
        out = ROOT / "var" / "bench" / "activities.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")
        (out.parent / f"activities-{document['database']}.json").write_text(text + "\n")
    missed = [k for k, v in document["met"].items() if not v]
    if missed:
        log(f"missed: {', '.join(missed)}")
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
