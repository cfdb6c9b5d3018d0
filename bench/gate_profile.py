"""Where a gate request's time goes, in-process (no server, no wrk); prints JSON.

A diagnosis aid beside bench/gate.py (`bench/gate.py --profile` runs it after the load, on
the benchmark's database). It calls the WSGI applications directly — the app as granian
serves it (`config.wsgi`, with the gate lane), the floor without middleware — one request
at a time, with the bodies the load sends, and reports per request: CPU and wall
microseconds, SQL statements (count and time, taken by a bare execute wrapper), for the
app's check-in, pick-up lookup and release, and the floor's insert. Handlers are
interleaved batch by batch and medians kept. With --cprofile, the functions taking the most
time in the app's requests go to stderr. Each run records where it stopped in the var dir's
bench-env.json, so that the next one sends new people and codes.

    .venv/bin/python bench/gate.py --keep ...        # then
    .venv/bin/python -m bench.gate_profile --var-dir /tmp/huxiao-bench-gate-… --cprofile
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def environ_for(path: str, body: dict, token: str | None) -> dict:
    raw = json.dumps(body).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(raw)),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "wsgi.input": io.BytesIO(raw),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if token:
        environ["HTTP_AUTHORIZATION"] = "Bearer " + token
    return environ


def call(application, environ: dict) -> tuple[int, bytes]:
    status = []
    result = application(environ, lambda s, h, exc_info=None: status.append(s))
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close:
            close()
    return int(status[0].split()[0]), body


class Requests:
    """The load's requests, each a new person or child (as bench/gate.lua sends them)."""

    def __init__(self, state: dict):
        from bench.gate import CHECK_IN_PATH, FLOOR_PATH, LOOKUP_PATH, RELEASE_PATH

        self.paths = {
            "check_in": CHECK_IN_PATH,
            "floor": FLOOR_PATH,
            "lookup": LOOKUP_PATH,
            "release": RELEASE_PATH,
        }
        self.state = state
        self.person = state["next_person"]
        codes_file = Path(state["codes_file"])
        self.codes = [json.loads(line) for line in codes_file.read_text().splitlines()]
        self.next_code = state["next_code"]
        self.tokens: list[str] = []

    def environ(self, kind: str) -> dict:
        from bench.gate import check_in_body

        token = self.state["token"]
        if kind in ("check_in", "floor"):
            self.person += 1
            body = check_in_body(self.person, self.state["host_id"])
            token = None if kind == "floor" else token
        elif kind == "lookup":
            if self.next_code >= len(self.codes):
                raise SystemExit("the pick-up codes ran out: seed more children")
            body = {"code": self.codes[self.next_code]}
            self.next_code += 1
        else:
            body = {"confirmation_token": self.tokens.pop(0)}
        return environ_for(self.paths[kind], body, token)

    def send(self, handler, kind: str) -> int:
        status, body = call(handler, self.environ(kind))
        if kind == "lookup" and status == 200:
            self.tokens.append(json.loads(body)["confirmation_token"])
        return status


EXPECTED = {"check_in": 201, "floor": 201, "lookup": 200, "release": 201}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--var-dir", type=Path, required=True, help="kept by bench/gate.py")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--batch", type=int, default=10, help="requests per batch")
    parser.add_argument("--cprofile", action="store_true", help="cProfile the app, to stderr")
    parser.add_argument(
        "--callees", default="", help="with --cprofile: also what functions matching this call"
    )
    args = parser.parse_args(argv)
    state = json.loads((args.var_dir / "bench-env.json").read_text())
    os.environ.update(state["env"])
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    class FloorHandler(WSGIHandler):
        """bench/gate_floor_app.py in this process: no middleware, the floor's URLconf."""

        def get_response(self, request):
            request.urlconf = "bench.gate_floor"
            return super().get_response(request)

    from config.wsgi import application as app  # what granian serves (with the gate lane)

    full = list(settings.MIDDLEWARE)
    try:
        settings.MIDDLEWARE = []
        floor = FloorHandler()
    finally:
        settings.MIDDLEWARE = full
    requests = Requests(state)
    handler_of = {"check_in": app, "lookup": app, "release": app, "floor": floor}

    def sent(handler, kind: str, n: int) -> list[int]:
        statuses = [requests.send(handler, kind) for _ in range(n)]
        if set(statuses) != {EXPECTED[kind]}:
            raise SystemExit(f"{kind}: statuses {sorted(set(statuses))}")
        return statuses

    def batch_of(kind: str, n: int) -> tuple[float, float, list]:
        handler = handler_of[kind]
        if kind == "release":  # each release needs a looked-up code first (not timed)
            sent(app, "lookup", n)
        # Statements are counted and timed by a bare execute wrapper: Django's debug cursor
        # (CaptureQueriesContext) formats every statement, which would charge the side with
        # more statements for the measuring itself.
        queries: list[float] = []

        def count(execute, sql, params, many, context):
            start = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                queries.append(time.perf_counter() - start)

        with connection.execute_wrapper(count):
            w0, c0 = time.perf_counter(), time.process_time()
            statuses = [requests.send(handler, kind) for _ in range(n)]
            cpu = (time.process_time() - c0) / n * 1e6
            wall = (time.perf_counter() - w0) / n * 1e6
        if set(statuses) != {EXPECTED[kind]}:
            raise SystemExit(f"{kind}: statuses {sorted(set(statuses))}")
        return cpu, wall, queries

    kinds = list(EXPECTED)
    for kind in kinds:  # warm up
        batch_of(kind, 5)
    figures: dict[str, dict[str, list]] = {
        k: {"cpu": [], "wall": [], "q": [], "qms": []} for k in kinds
    }
    for round_no in range(args.rounds):
        shift = round_no % len(kinds)
        for kind in kinds[shift:] + kinds[:shift]:
            cpu, wall, queries = batch_of(kind, args.batch)
            figures[kind]["cpu"].append(cpu)
            figures[kind]["wall"].append(wall)
            figures[kind]["q"].append(len(queries) / args.batch)
            figures[kind]["qms"].append(sum(queries) / args.batch * 1e3)
    report = {
        kind: {
            "cpu_us": round(statistics.median(f["cpu"]), 1),
            "wall_us": round(statistics.median(f["wall"]), 1),
            "queries": round(statistics.median(f["q"]), 1),
            "query_time_ms": round(statistics.median(f["qms"]), 3),
        }
        for kind, f in figures.items()
    }
    if args.cprofile:
        import cProfile
        import pstats

        for kind in ("check_in", "lookup", "release"):
            if kind == "release":
                sent(app, "lookup", 100)
            profiler = cProfile.Profile()
            profiler.enable()
            statuses = [requests.send(app, kind) for _ in range(100)]
            profiler.disable()
            if set(statuses) != {EXPECTED[kind]}:  # a profile of refusals says nothing
                raise SystemExit(f"{kind} (cProfile): statuses {sorted(set(statuses))}")
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("cumulative").print_stats(45)
            stats.sort_stats("tottime").print_stats(25)
            if args.callees:
                stats.sort_stats("cumulative").print_callees(args.callees)
            print(f"==== cProfile {kind} (100 requests)", file=sys.stderr)
            print(out.getvalue(), file=sys.stderr)
        # Which queries a check-in runs.
        with CaptureQueriesContext(connection) as queries:
            requests.send(app, "check_in")
        print("==== SQL of one check-in", file=sys.stderr)
        for q in queries.captured_queries:
            print(f"{float(q['time']) * 1e3:7.2f} ms  {q['sql'][:160]}", file=sys.stderr)
    # The next run (of this or of --cprofile) goes on with new people and codes.
    state_file = args.var_dir / "bench-env.json"
    state = json.loads(state_file.read_text())
    state["next_person"], state["next_code"] = requests.person + 1, requests.next_code
    state_file.write_text(json.dumps(state, indent=1))
    print(json.dumps({"rounds": args.rounds, "batch": args.batch, "per_request": report}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
