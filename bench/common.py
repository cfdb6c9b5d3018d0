"""What the benchmarks of a generated county share: their database, Django, the app and floor
servers under wrk, the percentile maths, the profile summary and the JSON they write.

Written for bench/tracing.py out of what bench/compliance.py and bench/activities.py each
carry (they may switch to it): a benchmark parses its arguments with `add_arguments` and
`check_arguments`, then hands `run` a function that measures (`measure(args, env) ->
document`); `run` makes the temporary var directory or the benchmark's own PostgreSQL database,
migrates, calls it, cleans up, prints the JSON and writes var/bench/<name>.json and
var/bench/<name>-<database>.json (not with --smoke), and turns the outcome into the exit code:
2 on any error (an exception: no JSON; parts listed in the document's `errors`: after the
JSON), 1 on a missed target only with --strict, else 0.

Pages are measured by `measure_pages`: each URL once in-process through the whole stack
(status, queries, bytes, a profile), checked once through the real server, then wrk rounds
(alternating the order) beside the floor page of bench/floor_app.py served the same way.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import os
import platform
import pstats
import re
import shutil
import statistics
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlparse

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # a benchmark run as `python bench/x.py` puts bench/ first
    sys.path.insert(0, str(ROOT))

from bench.loadgen import LoadError, Sample, parse, run_wrk_output, wrk_path  # noqa: E402
from bench.servers import GranianWSGI, ServerError  # noqa: E402

# status.lua's non-200 counter plus the p95 (wrk --latency prints 50/75/90/99 only).
WRK_SCRIPT = Path(__file__).with_name("supervision.lua")
SERVER_LOGS = ("app.log", "floor.log")


class BenchError(RuntimeError):
    """The benchmark cannot measure what it must (a missing page, a wrong answer …)."""


def logger(name: str) -> Callable[[str], None]:
    """A progress logger to stderr, each line prefixed with the benchmark's name."""

    def log(message: str) -> None:
        print(f"{name}: {message}", file=sys.stderr, flush=True)

    return log


def field_of(item, *names):
    """The first of `names` that is set on `item` (a dict or an object), else None: read
    what the code under test returns without tying the benchmark to one class."""
    for name in names:
        value = item.get(name) if isinstance(item, dict) else getattr(item, name, None)
        if value is not None:
            return value
    return None


# ------------------------------------------------------------------ database and Django


def postgres_recreate(url: str, name: str, *, create: bool) -> None:
    """Drop the benchmark's database (and create it again when `create`)."""
    import psycopg
    from psycopg import sql

    parsed = urlparse(url)
    conninfo = {
        "host": parsed.hostname or "",
        "port": parsed.port or 5432,
        "user": unquote(parsed.username or ""),
        "password": unquote(parsed.password or ""),
        "dbname": "postgres",
    }
    with psycopg.connect(**{k: v for k, v in conninfo.items() if v}, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def postgres_name(url: str) -> str:
    name = unquote(urlparse(url).path.lstrip("/"))
    if "bench" not in name:
        # The benchmark drops its database: never one that is not obviously a benchmark's.
        raise BenchError(f"--postgres-url must name a database containing 'bench', not {name!r}")
    return name


def django_setup(args, log) -> dict:
    """A fresh database, migrated; returns the environment the servers need."""
    env = {
        "HUXIAO_VAR_DIR": str(args.var_dir),
        "HUXIAO_DEBUG": "0",
        "HUXIAO_ENV": "embedded",
        # Throughput of one device token, not the per-device rate limit (ADR 0034).
        "HUXIAO_RATE_DEVICE": "0",
        "HUXIAO_RATE_LOGIN": "0",
        "HUXIAO_DEMO": "0",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "HUXIAO_ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
    }
    args.var_dir.mkdir(parents=True, exist_ok=True)
    if args.database == "postgres":
        env["DATABASE_URL"] = args.postgres_url
        log(f"recreating PostgreSQL database {args.postgres_name}")
        postgres_recreate(args.postgres_url, args.postgres_name, create=True)
    else:
        os.environ.pop("DATABASE_URL", None)
        for suffix in ("", "-wal", "-shm"):
            (args.var_dir / f"huxiao.sqlite3{suffix}").unlink(missing_ok=True)
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    log(f"migrating ({args.database}, var dir {args.var_dir})")
    call_command("migrate", verbosity=0, interactive=False)
    return env


def analyze() -> None:
    """Fresh planner statistics after the bulk inserts (both databases take ANALYZE)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _cleanup(args, temporary: bool) -> None:
    if "django" in sys.modules:
        from django.apps import apps

        if apps.ready:
            from django.db import connections

            connections.close_all()
    if args.postgres_name and not args.keep:
        postgres_recreate(args.postgres_url, args.postgres_name, create=False)
    if temporary and not args.keep:
        shutil.rmtree(args.var_dir, ignore_errors=True)


# ------------------------------------------------------------------ figures


def percentiles(samples_ms: list[float]) -> dict:
    """n, mean, p50/p90/p95/p99 (linear interpolation between the nearest ranks, as
    `statistics.quantiles(method="inclusive")`), min and max, in ms."""
    if not samples_ms:
        return {"n": 0}
    cuts = (
        statistics.quantiles(samples_ms, n=100, method="inclusive")
        if len(samples_ms) > 1
        else [samples_ms[0]] * 99
    )
    return {
        "n": len(samples_ms),
        "mean_ms": round(statistics.fmean(samples_ms), 2),
        "p50_ms": round(cuts[49], 2),
        "p90_ms": round(cuts[89], 2),
        "p95_ms": round(cuts[94], 2),
        "p99_ms": round(cuts[98], 2),
        "min_ms": round(min(samples_ms), 2),
        "max_ms": round(max(samples_ms), 2),
    }


def ratio(value: float, floor: float) -> float | None:
    return round(value / floor, 2) if floor else None


def timed(function: Callable, *args, **kwargs) -> tuple[float, object]:
    """(milliseconds, result) of one call."""
    t0 = time.perf_counter()
    result = function(*args, **kwargs)
    return (time.perf_counter() - t0) * 1000, result


# Library functions that say where a request's or an evaluation's time goes, besides ours.
_LIBRARY = {
    ("utils.py", "execute"),  # django/db/backends: SQL
    ("utils.py", "executemany"),
    ("query.py", "_fetch_all"),  # building model instances
    ("json.py", "from_db_value"),  # JSONField decoding
    ("base.py", "render"),  # django/template
    ("loader.py", "render_to_string"),
}


def profile_top(profile: cProfile.Profile, total_s: float, limit: int = 15) -> list[dict]:
    """Cumulative time of the project's functions, SQL execution, model instances, JSON
    decoding and template rendering in one profiled call."""
    stats = pstats.Stats(profile)
    rows = []
    for (filename, _line, name), (_cc, calls, _tt, cumulative, _callers) in stats.stats.items():
        path = Path(filename)
        # Not the middleware chain's wrappers: they only say "the whole request".
        ours = "huxiao" in path.parts and "tests" not in path.parts and name != "__call__"
        library = "django" in path.parts and (path.name, name) in _LIBRARY
        if ours or library:
            rows.append(
                {
                    "function": f"{path.parent.name}/{path.name}:{name}",
                    "calls": calls,
                    "cumulative_ms": round(cumulative * 1000, 1),
                    "share": round(cumulative / total_s, 3) if total_s else None,
                }
            )
    rows.sort(key=lambda r: -r["cumulative_ms"])
    return rows[:limit]


def profiled(function: Callable, *args, limit: int = 15, **kwargs) -> dict:
    """One call under cProfile: its wall time there and where the time went."""
    profile = cProfile.Profile()
    t0 = time.perf_counter()
    profile.enable()
    function(*args, **kwargs)
    profile.disable()
    profiled_s = time.perf_counter() - t0
    return {
        "wall_ms_under_profiler": round(profiled_s * 1000, 1),
        "cumulative": profile_top(profile, profiled_s, limit=limit),
    }


def queries_of(function: Callable, *args, **kwargs) -> dict:
    """The queries of one call: how many, their execution time (the database's execute
    call; rows fetched afterwards are not in it) and the slowest few."""
    from django.db import connection

    executed: list[tuple[float, str]] = []

    def timer(execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            executed.append(((time.perf_counter() - t0) * 1000, sql))

    with connection.execute_wrapper(timer):
        function(*args, **kwargs)
    slowest = sorted(executed, key=lambda q: -q[0])[:5]
    return {
        "count": len(executed),
        "execute_ms": round(sum(ms for ms, _ in executed), 2),
        "slowest": [f"{ms:.2f} ms {sql[:400]}" for ms, sql in slowest],
    }


def warm_url_resolver() -> None:
    """Import the URLconf (and the API's schemas) once, as any running process has: the
    first `reverse()` otherwise pays it inside whatever is measured first."""
    from django.urls import get_resolver

    get_resolver().reverse_dict  # noqa: B018 - populates the resolver


# ------------------------------------------------------------------ pages


def session_headers(users: dict) -> dict[str, dict[str, str]]:
    """A logged-in session cookie (and a CSRF cookie, as a browser sends) per user."""
    from django.middleware.csrf import _get_new_csrf_string
    from django.test import Client

    headers = {}
    for name, user in users.items():
        client = Client()
        client.force_login(user)
        headers[name] = {
            "Cookie": f"sessionid={client.cookies['sessionid'].value}; "
            f"csrftoken={_get_new_csrf_string()}"
        }
    return headers


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url: str, headers: dict) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)
    opener = urllib.request.build_opener(_NoRedirect)  # a 302 to the login page shows as 302
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def in_process(urls: list[dict], users: dict, check: Callable[[dict, bytes], dict]) -> dict:
    """Status, queries, size, time and a profile of each request through the whole stack;
    `check(url, body)` must raise BenchError on a wrong page and returns figures to report."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    clients = {}
    for name, user in users.items():
        client = Client()
        client.force_login(user)
        clients[name] = client
    checks = {}
    for url in urls:
        client = clients[url["actor"]]
        client.get(url["path"])  # warm the caches
        with CaptureQueriesContext(connection) as queries:
            t0 = time.perf_counter()
            response = client.get(url["path"])
            ms = (time.perf_counter() - t0) * 1000
        # Counted now: the next request clears the connection's log they are read from.
        count = len(queries)
        if response.status_code != 200:
            raise BenchError(f"{url['name']} {url['path']}: {response.status_code} in-process")
        checks[url["name"]] = {
            "queries": count,
            **check(url, response.content),
            "bytes": len(response.content),
            "in_process_ms": round(ms, 1),
            "in_process_profile": profiled(client.get, url["path"], limit=10),
        }
    return checks


def _wrk(args, url: str, headers: dict) -> tuple[Sample, float]:
    output = run_wrk_output(
        url,
        headers=headers,
        threads=args.threads,
        connections=args.connections,
        duration_s=args.duration,
        timeout_s=10.0,
        script=WRK_SCRIPT,
    )
    p95 = re.search(r"^HUXIAO_P95_US (\d+)", output, re.M)
    if p95 is None:
        raise LoadError(f"no p95 in the wrk report:\n{output}")
    return parse(output), int(p95.group(1)) / 1000


def _wrk_figures(taken: list[tuple[Sample, float]]) -> dict:
    """Medians over the rounds of wrk's figures (its p95 from the Lua script)."""
    return {
        "rps": round(statistics.median(s.rps for s, _ in taken), 1),
        "p50_ms": round(statistics.median(s.p50_ms for s, _ in taken), 2),
        "p90_ms": round(statistics.median(s.p90_ms for s, _ in taken), 2),
        "p95_ms": round(statistics.median(p for _, p in taken), 2),
        "p99_ms": round(statistics.median(s.p99_ms for s, _ in taken), 2),
        "requests": sum(s.requests for s, _ in taken),
    }


def _servers(args, env: dict, floor_school_id: int, floor_user_id: int) -> dict[str, GranianWSGI]:
    server_env = {
        **os.environ,
        **env,
        "PYTHONDONTWRITEBYTECODE": "1",
        # What the floor's bare view shows: the school home page of this user at this school.
        "HUXIAO_BENCH_SCHOOL_ID": str(floor_school_id),
        "HUXIAO_BENCH_USER_ID": str(floor_user_id),
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


def _load_rounds(args, servers, measured, headers, check, log) -> tuple[dict, dict]:
    """Check each page once through its server, then wrk rounds alternating the order.
    Returns the samples per page and what the checks of the served pages reported."""
    samples: dict[str, list[tuple[Sample, float]]] = {u["name"]: [] for u in measured}
    served: dict[str, dict] = {}
    for name, server in servers.items():
        log(f"starting {name} ({server.target}) on {server.base_url}")
        server.start()
    for url in measured:
        status, body = fetch(servers[url["server"]].base_url + url["path"], headers[url["actor"]])
        if status != 200:
            raise BenchError(f"{url['name']}: the server answered {status}: {body[:300]!r}")
        if url["name"] == "floor":
            if b'data-testid="home-title"' not in body:
                raise BenchError("floor: not the school home page")
        else:
            served[url["name"]] = check(url, body)
    for round_no in range(args.rounds):
        # Alternate the order, so a drift in the machine's load hits pages and floor alike.
        for url in measured if round_no % 2 == 0 else measured[::-1]:
            full = servers[url["server"]].base_url + url["path"]
            for _ in range(args.warmup):
                fetch(full, headers[url["actor"]])
            sample, p95 = _wrk(args, full, headers[url["actor"]])
            samples[url["name"]].append((sample, p95))
            log(
                f"round {round_no + 1}/{args.rounds} {url['name']:<18} "
                f"{sample.rps:7.1f} req/s p50 {sample.p50_ms:7.1f} p95 {p95:7.1f} "
                f"p99 {sample.p99_ms:7.1f} ms"
            )
    for name, server in servers.items():
        if server.process is None or server.process.poll() is not None:
            raise BenchError(f"the {name} server died during the load; see {server.log_path}")
    return samples, served


def measure_pages(
    args,
    env: dict,
    *,
    urls: list[dict],
    users: dict,
    floor_actor: str,
    floor_school_id: int,
    target_ms: float,
    check: Callable[[dict, bytes], dict],
    log,
) -> dict:
    """Each URL ({name, actor, path, target}) for its actor (a key of `users`) in-process,
    then under wrk beside the floor page (the school home of `floor_actor` at
    `floor_school_id`, bare); each p95 (median of the rounds) against `target_ms` and over
    the floor's. `met` says whether every URL marked `target` met it."""
    log(f"{len(urls)} pages and the floor; queries per request in-process")
    checks = in_process(urls, users, check)
    headers = session_headers(users)
    servers = _servers(args, env, floor_school_id, users[floor_actor].pk)
    floor_url = {"name": "floor", "actor": floor_actor, "path": "/", "server": "floor"}
    measured = [{**u, "server": "app"} for u in urls] + [floor_url]
    try:
        samples, served = _load_rounds(args, servers, measured, headers, check, log)
    finally:
        for server in servers.values():
            server.stop()

    floor = _wrk_figures(samples["floor"])
    results = {}
    for url in urls:
        result = _wrk_figures(samples[url["name"]])
        results[url["name"]] = {
            "actor": url["actor"],
            "path": url["path"],
            **result,
            "p95_ratio_to_floor": ratio(result["p95_ms"], floor["p95_ms"]),
            **checks[url["name"]],
            "served_check": served[url["name"]],
            "target_p95_ms": target_ms,
            "issue_target": url["target"],
            "met": result["p95_ms"] <= target_ms,
        }
    return {
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
            "actor": floor_actor,
            **floor,
        },
        "results": results,
        "met": all(r["met"] for r in results.values() if r["issue_target"]),
    }


# ------------------------------------------------------------------ arguments and main


def add_arguments(parser: argparse.ArgumentParser, *, postgres_url: str) -> None:
    """The options every county benchmark takes (database, wrk, granian, output)."""
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default=postgres_url)
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
    parser.add_argument("--smoke", action="store_true", help="tiny data, short runs")
    parser.add_argument("--strict", action="store_true", help="exit 1 on a missed target")


def check_arguments(parser: argparse.ArgumentParser, args) -> None:
    """--smoke's short runs (the benchmark shrinks its own data), and the bounds."""
    if args.smoke:
        args.runs, args.rounds, args.duration, args.warmup = 5, 1, 1, 1
    if args.runs < 5:
        parser.error("--runs must be >= 5")
    if min(args.rounds, args.duration, args.warmup, args.connections, args.threads) < 1:
        parser.error("--rounds, --duration, --warmup and wrk's must be >= 1")


def machine(loads: tuple) -> dict:
    import django
    import granian

    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "granian": granian.__version__,
        # The machine may be shared: the load average says how quiet it was.
        "load_average_before": [round(x, 2) for x in loads[0]],
        "load_average_after": [round(x, 2) for x in loads[1]],
    }


def _write(name: str, args, document: dict) -> None:
    text = json.dumps(document, ensure_ascii=False, indent=2, default=str)
    print(text)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n")
    if not args.smoke:
        out = ROOT / "var" / "bench" / f"{name}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")
        (out.parent / f"{name}-{document['database']}.json").write_text(text + "\n")


def run(args, name: str, measure: Callable[[object, dict], dict], log) -> int:
    """Set up, `measure(args, env)` → the document (with `met` {target: bool} and, when a
    part could not be measured, `errors`), clean up, write; the exit code."""
    temporary = args.var_dir is None
    if temporary:
        args.var_dir = Path(tempfile.mkdtemp(prefix=f"huxiao-bench-{name}-"))
    args.postgres_name = None
    try:
        wrk_path()  # fail before any setup if wrk is missing
        if args.database == "postgres":
            args.postgres_name = postgres_name(args.postgres_url)
        env = django_setup(args, log)
        document = {
            "benchmark": name,
            "database": "postgresql" if args.database == "postgres" else "sqlite",
            "smoke": args.smoke,
            **measure(args, env),
        }
    except Exception as exc:  # noqa: BLE001 - any error exits 2
        log(f"FAILED: {exc}")
        if not isinstance(exc, BenchError | LoadError | ServerError):
            log(traceback.format_exc())
        for log_name in SERVER_LOGS:
            path = args.var_dir / log_name
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-30:]
                log(f"last lines of {log_name}:\n" + "\n".join(tail))
        return 2
    finally:
        _cleanup(args, temporary)

    _write(name, args, document)
    if document.get("errors"):
        log("not measured: " + "; ".join(document["errors"]))
        return 2
    missed = [k for k, v in document["met"].items() if not v]
    if missed:
        log(f"missed: {', '.join(missed)}")
    return 1 if args.strict and missed else 0


def smoke_run(script: str, var_dir: Path, *, timeout_s: int = 600) -> tuple[int, str, dict]:
    """Run `bench/<script> --smoke` as the tests do (SQLite in `var_dir`, a clean
    environment): its exit code, the end of its stderr and its JSON (also checked against
    the copy written to --output; {} when it printed none)."""
    import subprocess

    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "HUXIAO_VAR_DIR"}}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    output = var_dir.parent / f"{Path(script).stem}-smoke.json"
    done = subprocess.run(
        [sys.executable, script, "--smoke", "--var-dir", str(var_dir), "--output", str(output)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    document = json.loads(done.stdout) if done.stdout.strip() else {}
    if document and document != json.loads(output.read_text()):
        raise BenchError(f"{script}: the JSON printed is not the JSON written to --output")
    return done.returncode, done.stderr[-3000:], document
