"""Where an HTTP request's time goes, in-process (no server, no load generator); prints JSON.

A diagnosis aid beside bench/http_floor.py. It calls WSGI handlers directly with a synthetic
request, one request at a time, and reports CPU microseconds per request. All the handlers are
measured in one process, interleaved in small batches over many rounds, and medians are kept,
so a noisy machine slows them alike:

- app: the project's WSGI handler (config.settings, the whole middleware stack);
- floor: a handler with no middleware whose URLconf is bench.floor_views (what
  bench/floor_app.py serves);
- with --ablation, the app with each middleware left out in turn (that middleware's cost).

Run against a seeded benchmark database: `bench/http_floor.py --profile` runs it for you, or
keep one with `bench/http_floor.py --keep` and then

    .venv/bin/python -m bench.profile_http --var-dir /tmp/huxiao-bench-… --ablation --cprofile
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ENDPOINTS = {
    "children_list": ("/api/v1/children", "limit=50", "token"),
    "school_home": ("/", "", "session"),
}


def environ_for(endpoint: str) -> dict:
    path, query, cred = ENDPOINTS[endpoint]
    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if cred == "token":
        environ["HTTP_AUTHORIZATION"] = "Bearer " + os.environ["HUXIAO_BENCH_TOKEN"]
    else:
        environ["HTTP_COOKIE"] = (
            f"sessionid={os.environ['HUXIAO_BENCH_SESSION_KEY']}; "
            f"csrftoken={os.environ['HUXIAO_BENCH_CSRF_COOKIE']}"
        )
    return environ


def call(application, base_environ: dict) -> int:
    environ = dict(base_environ, **{"wsgi.input": io.BytesIO(b"")})
    status = []
    result = application(environ, lambda s, h, exc_info=None: status.append(s))
    try:
        for _chunk in result:
            pass
    finally:
        close = getattr(result, "close", None)
        if close:
            close()  # request_finished, as the server does after each response
    return int(status[0].split()[0])


def build_handlers(ablation: bool) -> dict:
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler

    class FloorHandler(WSGIHandler):
        """bench/floor_app.py in this process: no middleware, the floor's URLconf."""

        def get_response(self, request):
            request.urlconf = "bench.floor_views"
            return super().get_response(request)

    full = list(settings.MIDDLEWARE)
    handlers = {"app": WSGIHandler()}
    try:
        settings.MIDDLEWARE = []
        handlers["floor"] = FloorHandler()
        if ablation:
            for name in full:
                settings.MIDDLEWARE = [m for m in full if m != name]
                handlers["app without " + name.rsplit(".", 1)[-1]] = WSGIHandler()
    finally:
        settings.MIDDLEWARE = full
    return handlers


def measure(handlers: dict, environ: dict, rounds: int, batch: int) -> dict:
    """Median CPU and wall microseconds per request, handlers interleaved batch by batch."""
    usable = {}
    request_log = logging.getLogger("django.request")
    for name, handler in handlers.items():
        request_log.disabled = name.startswith("app without")
        codes = {call(handler, environ) for _ in range(20)}
        request_log.disabled = False
        if codes == {200}:
            usable[name] = handler
    cpu: dict[str, list[float]] = {name: [] for name in usable}
    wall: dict[str, list[float]] = {name: [] for name in usable}
    names = list(usable)
    for round_no in range(rounds):
        shift = round_no % len(names)
        for name in names[shift:] + names[:shift]:
            handler = usable[name]
            w0, c0 = time.perf_counter(), time.process_time()
            for _ in range(batch):
                call(handler, environ)
            cpu[name].append((time.process_time() - c0) / batch * 1e6)
            wall[name].append((time.perf_counter() - w0) / batch * 1e6)
    result = {
        name: {
            "cpu_us": round(statistics.median(cpu[name]), 1),
            "wall_us": round(statistics.median(wall[name]), 1),
        }
        for name in names
    }
    for name in handlers:
        if name not in usable:
            result[name] = {"error": "not 200 (the stack needs this middleware)"}
    app = result["app"]["cpu_us"]
    for name, entry in result.items():
        if "cpu_us" in entry and name != "app":
            entry["saves_cpu_us_vs_app"] = round(app - entry["cpu_us"], 1)
    if "floor" in usable:
        result["floor_cpu_over_app_cpu"] = round(result["floor"]["cpu_us"] / app, 3)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--var-dir", type=Path, help="a kept benchmark var dir (reads its bench-env.json)"
    )
    parser.add_argument("--endpoint", choices=sorted(ENDPOINTS), action="append")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--batch", type=int, default=10, help="requests per batch")
    parser.add_argument("--ablation", action="store_true", help="cost of each middleware")
    parser.add_argument("--cprofile", action="store_true", help="cProfile the app, to stderr")
    args = parser.parse_args()
    endpoints = args.endpoint or sorted(ENDPOINTS)
    if args.var_dir:
        os.environ.update(json.loads((args.var_dir / "bench-env.json").read_text()))

    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    handlers = build_handlers(args.ablation)
    report: dict = {"rounds": args.rounds, "batch": args.batch, "endpoints": {}}
    for endpoint in endpoints:
        environ = environ_for(endpoint)
        report["endpoints"][endpoint] = measure(handlers, environ, args.rounds, args.batch)
        if args.cprofile:
            import cProfile
            import pstats

            for side in ("app", "floor"):
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(200):
                    call(handlers[side], environ)
                profiler.disable()
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(70)
                print(f"==== cProfile {side} {endpoint} (200 requests)", file=sys.stderr)
                print(out.getvalue(), file=sys.stderr)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
