"""bench/http_floor: the children list API and the school home page against their floor.

Each endpoint is measured under concurrent load (wrk) beside its *floor*, measured in the same
run and served the same way (granian WSGI, same workers and threads, same database): a bare
Django view with no middleware, no authentication and no scoping that runs the same SQL and
returns the same content (bench/floor_views.py). Target: the real endpoint reaches at least
50 % of the floor's throughput; p50/p99 latency are reported beside it.

    .venv/bin/python bench/http_floor.py [--rounds 5] [--duration 5] [--strict]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/huxiao_bench .venv/bin/python bench/http_floor.py

SQLite (default) runs in a fresh temporary var directory. With a postgres DATABASE_URL the
benchmark drops and recreates its own database (the URL's name if it contains "bench", else
"huxiao_bench") and drops it again at the end. Prints one JSON document on stdout and writes
it to var/bench/http_floor.json; progress goes to stderr. Exits non-zero on any error, and on
a missed target only with --strict. Needs wrk: scripts/install-bench-tools.sh.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/http_floor.py` puts bench/ first, not the root
    sys.path.insert(0, str(ROOT))

from bench.loadgen import LoadError, Sample, run_wrk, wrk_path  # noqa: E402
from bench.servers import GranianWSGI, ServerError  # noqa: E402

TARGET = 0.5
ENDPOINTS = {
    # name: (path, which credential the request carries)
    "children_list": ("/api/v1/children?limit=50", "token"),
    "school_home": ("/", "session"),
}
_CSRF_IN_HTML = re.compile(r"[A-Za-z0-9]{64}")


def log(message: str) -> None:
    print(f"http_floor: {message}", file=sys.stderr, flush=True)


class BenchError(RuntimeError):
    pass


# ------------------------------------------------------------------ database


def postgres_bench_url(url: str) -> tuple[str, str]:
    """The URL with a database name of the benchmark's own, and that name."""
    parsed = urlparse(url)
    name = unquote(parsed.path.lstrip("/"))
    if "bench" not in name:
        log(f"using database 'huxiao_bench' instead of {name!r} (the benchmark drops its db)")
        name = "huxiao_bench"
    return urlunparse(parsed._replace(path="/" + name)), name


def postgres_recreate(url: str, name: str, *, drop_only: bool = False) -> None:
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
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def run_python(args: list[str], env: dict[str, str], what: str) -> str:
    done = subprocess.run(
        [sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0:
        raise BenchError(f"{what} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


# ------------------------------------------------------------------ requests


def fetch(url: str, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)
    # No redirects followed: a 302 to the login page must show as a 302.
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def verify(app: GranianWSGI, floor: GranianWSGI, headers: dict[str, dict], seed: dict) -> dict:
    """Both servers answer 200 with the same content before anything is measured."""
    checks = {}
    path, cred = ENDPOINTS["children_list"]
    (s1, b1), (s2, b2) = (fetch(s.base_url + path, headers[cred]) for s in (app, floor))
    if (s1, s2) != (200, 200):
        raise BenchError(
            f"children_list: app answered {s1}, floor {s2}:\n{b1[:500]!r}\n{b2[:500]!r}"
        )
    real, bare = json.loads(b1), json.loads(b2)
    if real != bare:
        raise BenchError(f"children_list: the floor's rows differ from the app's:\n{real}\n{bare}")
    if len(real["items"]) != 50 or real["count"] != seed["children_in_school"]:
        raise BenchError(
            f"children_list: expected 50 of {seed['children_in_school']} rows, got "
            f"{len(real['items'])} of {real['count']}"
        )
    checks["children_list"] = {
        "status": 200,
        "rows": len(real["items"]),
        "count": real["count"],
        "same_json": True,
        "bytes": {"app": len(b1), "floor": len(b2)},
    }
    path, cred = ENDPOINTS["school_home"]
    (s1, b1), (s2, b2) = (fetch(s.base_url + path, headers[cred]) for s in (app, floor))
    if (s1, s2) != (200, 200):
        raise BenchError(f"school_home: app answered {s1}, floor {s2}:\n{b1[:500]!r}\n{b2[:500]!r}")
    html_app, html_floor = (_CSRF_IN_HTML.sub("<csrf>", b.decode()) for b in (b1, b2))
    if 'data-testid="home-title"' not in html_app:
        raise BenchError("school_home: the app did not render the school home page")
    if html_app != html_floor:
        import difflib

        diff = "\n".join(
            difflib.unified_diff(
                html_app.splitlines(), html_floor.splitlines(), "app", "floor", lineterm=""
            )
        )
        raise BenchError(f"school_home: the floor's page differs from the app's:\n{diff}")
    checks["school_home"] = {
        "status": 200,
        "same_html_except_csrf_tokens": True,
        "bytes": {"app": len(b1), "floor": len(b2)},
    }
    return checks


# ------------------------------------------------------------------ figures


def summarize(samples: list[Sample]) -> dict:
    return {
        "rps_median": round(statistics.median(s.rps for s in samples), 1),
        "p50_ms": round(statistics.median(s.p50_ms for s in samples), 3),
        "p99_ms": round(statistics.median(s.p99_ms for s in samples), 3),
        "samples": [s.as_dict() for s in samples],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="measured runs per app/endpoint")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per run")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--workers", type=int, default=1, help="granian workers (both servers)")
    parser.add_argument("--blocking-threads", type=int, default=8, help="granian threads")
    parser.add_argument("--children", type=int, default=300, help="children at the school")
    parser.add_argument(
        "--only", choices=sorted(ENDPOINTS), action="append", help="measure only this endpoint"
    )
    parser.add_argument("--output", type=Path, default=ROOT / "var" / "bench" / "http_floor.json")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also measure CPU per request in-process (bench/profile_http.py), app vs floor",
    )
    parser.add_argument("--keep", action="store_true", help="keep the var dir and database")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.children < 50 or args.duration < 1 or args.warmup < 1:
        parser.error("--rounds, --duration, --warmup must be >= 1 and --children >= 50")
    endpoints = {k: v for k, v in ENDPOINTS.items() if not args.only or k in args.only}

    wrk_path()  # fail before any setup if wrk is missing
    var_dir = Path(tempfile.mkdtemp(prefix="huxiao-bench-"))
    env = {
        **os.environ,
        "HUXIAO_VAR_DIR": str(var_dir),
        "HUXIAO_DEBUG": "0",
        "HUXIAO_ENV": "embedded",
        # Throughput of one device token, not the per-device rate limit (ADR 0034).
        "HUXIAO_RATE_DEVICE": "0",
        "HUXIAO_RATE_LOGIN": "0",
        "HUXIAO_DEMO": "0",
        "HUXIAO_BENCH_CHILDREN": str(args.children),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    database_url = os.environ.get("DATABASE_URL", "")
    pg_name = None
    if database_url and urlparse(database_url).scheme in {"postgres", "postgresql", "pgsql"}:
        database = "postgresql"
        env["DATABASE_URL"], pg_name = postgres_bench_url(database_url)
    else:
        if database_url:
            log("DATABASE_URL is not postgres: using SQLite in the temporary var dir")
        env.pop("DATABASE_URL", None)
        database = "sqlite"
    servers: list[GranianWSGI] = []
    try:
        if pg_name:
            log(f"recreating PostgreSQL database {pg_name}")
            postgres_recreate(env["DATABASE_URL"], pg_name)
        log(f"var dir {var_dir}; migrating ({database})")
        run_python(["manage.py", "migrate", "--noinput", "-v0"], env, "migrate")
        seed = json.loads(run_python(["-m", "bench.seed"], env, "seed").strip().splitlines()[-1])
        env.update(
            HUXIAO_BENCH_SCHOOL_ID=str(seed["school_id"]),
            HUXIAO_BENCH_USER_ID=str(seed["user_id"]),
            HUXIAO_BENCH_TOKEN=seed["token"],
            HUXIAO_BENCH_SESSION_KEY=seed["session_key"],
            HUXIAO_BENCH_CSRF_COOKIE=seed["csrf_cookie"],
        )
        # What bench/profile_http.py --var-dir needs to reach this database.
        # No keys: they stay in the var dir's local-keys.json (or the caller's environment).
        bench_env = {
            k: v
            for k, v in env.items()
            if k.startswith("HUXIAO_BENCH_")
            or k in {"HUXIAO_VAR_DIR", "HUXIAO_DEBUG", "HUXIAO_ENV", "DATABASE_URL"}
        }
        (var_dir / "bench-env.json").write_text(json.dumps(bench_env, indent=1))
        queries = json.loads(run_python(["-m", "bench.queries"], env, "query check"))
        headers = {
            "token": {"Authorization": f"Bearer {seed['token']}"},
            # A browser that has seen a page before sends its CSRF cookie too.
            "session": {
                "Cookie": f"sessionid={seed['session_key']}; csrftoken={seed['csrf_cookie']}"
            },
        }
        # The servers get the ids the floor needs, not the credentials.
        secrets_ = {"HUXIAO_BENCH_TOKEN", "HUXIAO_BENCH_SESSION_KEY", "HUXIAO_BENCH_CSRF_COOKIE"}
        server_env = {k: v for k, v in env.items() if k not in secrets_}
        app = GranianWSGI(
            "config.wsgi:application",
            env=server_env,
            log_path=var_dir / "app.log",
            workers=args.workers,
            blocking_threads=args.blocking_threads,
        )
        servers.append(app)
        floor = GranianWSGI(
            "bench.floor_app:application",
            env=server_env,
            log_path=var_dir / "floor.log",
            workers=args.workers,
            blocking_threads=args.blocking_threads,
        )
        servers.append(floor)
        log(f"starting app on {app.base_url} and floor on {floor.base_url}")
        app.start()
        floor.start()
        checks = verify(app, floor, headers, seed)
        log("app and floor answer 200 with the same content")

        def load(server: GranianWSGI, name: str, seconds: float) -> Sample:
            path, cred = endpoints[name]
            return run_wrk(
                server.base_url + path,
                headers=headers[cred],
                threads=args.threads,
                connections=args.connections,
                duration_s=seconds,
            )

        for name in endpoints:
            for server in (app, floor):
                load(server, name, args.warmup)
        samples: dict[str, dict[str, list[Sample]]] = {
            name: {"app": [], "floor": []} for name in endpoints
        }
        started = time.monotonic()
        for round_no in range(args.rounds):
            for name in endpoints:
                # Alternate which goes first, so a drift in the machine's load hits both alike.
                order = (("app", app), ("floor", floor))
                if round_no % 2:
                    order = order[::-1]
                for side, server in order:
                    sample = load(server, name, args.duration)
                    samples[name][side].append(sample)
                    log(
                        f"round {round_no + 1}/{args.rounds} {name:<13} {side:<5} "
                        f"{sample.rps:9.1f} req/s  p50 {sample.p50_ms:7.2f} ms  "
                        f"p99 {sample.p99_ms:7.2f} ms"
                    )
        measured_s = round(time.monotonic() - started, 1)
        # The servers must still be the same healthy servers after the load.
        for server in servers:
            if server.process is None or server.process.poll() is not None:
                raise BenchError(f"{server.target} died during the load; see {server.log_path}")

        in_process = {}
        if args.profile:
            log("measuring CPU per request in-process (bench/profile_http.py)")
            for server in servers:  # the profile gets the machine's CPUs to itself
                server.stop()
            command = ["-m", "bench.profile_http", "--var-dir", str(var_dir)]
            for name in endpoints:
                command += ["--endpoint", name]
            in_process = json.loads(run_python(command, env, "profile"))["endpoints"]

        results = {}
        for name, (path, _cred) in endpoints.items():
            real, bare = summarize(samples[name]["app"]), summarize(samples[name]["floor"])
            ratio = real["rps_median"] / bare["rps_median"]
            # Each round's app run beside the floor run next to it in time, then the median.
            paired = statistics.median(
                a.rps / f.rps
                for a, f in zip(samples[name]["app"], samples[name]["floor"], strict=True)
            )
            results[name] = {
                "path": path,
                "app": real,
                "floor": bare,
                "ratio": round(ratio, 3),
                "ratio_paired_median": round(paired, 3),
                "p99_ratio": round(real["p99_ms"] / bare["p99_ms"], 3),
                "target": TARGET,
                "pass": ratio >= TARGET,
                "queries_per_request": queries[name],
                **(
                    {
                        "in_process_cpu_us": {
                            "app": in_process[name]["app"]["cpu_us"],
                            "floor": in_process[name]["floor"]["cpu_us"],
                            "floor_over_app": in_process[name]["floor_cpu_over_app_cpu"],
                        }
                    }
                    if name in in_process
                    else {}
                ),
                "check": checks[name],
            }
        import django
        import granian

        document = {
            "benchmark": "http_floor",
            "database": database,
            "rounds": args.rounds,
            "duration_s": args.duration,
            "load": {
                "tool": "wrk",
                "threads": args.threads,
                "connections": args.connections,
                "warmup_s": args.warmup,
            },
            "server": {
                "granian": granian.__version__,
                "interface": "wsgi",
                "workers": args.workers,
                "blocking_threads": args.blocking_threads,
            },
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "django": django.get_version(),
            },
            "data": {"children_in_school": seed["children_in_school"], "page": 50},
            "measured_s": measured_s,
            "results": results,
            "pass": all(r["pass"] for r in results.values()),
        }
    except (BenchError, LoadError, ServerError) as exc:
        log(f"FAILED: {exc}")
        for server in servers:
            if server.log_path.exists():
                tail = server.log_path.read_text(errors="replace").splitlines()[-30:]
                log(f"last lines of {server.log_path.name}:\n" + "\n".join(tail))
        return 2
    except KeyboardInterrupt:
        log("interrupted; stopping the servers")
        return 130
    finally:
        for server in servers:
            server.stop()
        if not args.keep:
            shutil.rmtree(var_dir, ignore_errors=True)
            if pg_name:
                try:
                    postgres_recreate(env["DATABASE_URL"], pg_name, drop_only=True)
                except Exception as exc:  # noqa: BLE001 - cleanup must not hide the result
                    log(f"could not drop {pg_name}: {exc}")
        else:
            log(f"kept {var_dir}" + (f" and database {pg_name}" if pg_name else ""))

    text = json.dumps(document, indent=2, ensure_ascii=False)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text + "\n")
    for name, result in results.items():
        log(
            f"{name}: app {result['app']['rps_median']} req/s vs floor "
            f"{result['floor']['rps_median']} req/s = {result['ratio']:.0%} of the floor "
            f"(target {TARGET:.0%}) {'PASS' if result['pass'] else 'MISS'}; "
            f"p99 {result['app']['p99_ms']} ms vs {result['floor']['p99_ms']} ms"
        )
    if args.strict and not document["pass"]:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
