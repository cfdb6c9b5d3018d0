"""Which SQL each measured request runs, in the real app and in the floor; prints JSON.

Run by bench/http_floor.py as `python -m bench.queries` (config.settings, the benchmark's
database, HUXIAO_BENCH_* from the seed). The real request goes through the whole middleware
stack (django.test.Client); the floor view is called directly. Each is requested once to warm
up (the token's last_used_at write happens then), then captured.

It checks that every query of the floor also runs, with the same SQL text, in the real
request: the floor does the same data work, and the extra queries are the overhead.
"""

from __future__ import annotations

import json
import os
import sys


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()

    from django.db import connection
    from django.test import Client, RequestFactory
    from django.test.utils import CaptureQueriesContext

    from bench import floor_views

    token = os.environ["HUXIAO_BENCH_TOKEN"]
    session_key = os.environ["HUXIAO_BENCH_SESSION_KEY"]
    csrf_cookie = os.environ["HUXIAO_BENCH_CSRF_COOKIE"]

    def real(path: str, **headers):
        client = Client()
        client.cookies["sessionid"] = session_key
        client.cookies["csrftoken"] = csrf_cookie
        return lambda: client.get(path, **headers)

    def floor(view, path: str):
        factory = RequestFactory()
        return lambda: view(factory.get(path))

    cases = {
        "children_list": (
            real("/api/v1/children?limit=50", HTTP_AUTHORIZATION=f"Bearer {token}"),
            floor(floor_views.children, "/api/v1/children?limit=50"),
        ),
        "school_home": (real("/"), floor(floor_views.home, "/")),
    }
    report: dict = {}
    ok = True
    for name, (real_call, floor_call) in cases.items():
        captured = {}
        for side, call in (("app", real_call), ("floor", floor_call)):
            call()
            with CaptureQueriesContext(connection) as ctx:
                response = call()
            if response.status_code != 200:
                print(f"queries: {name} {side} answered {response.status_code}", file=sys.stderr)
                ok = False
            captured[side] = [q["sql"] for q in ctx.captured_queries]
        remaining = list(captured["app"])
        missing = []
        for sql in captured["floor"]:
            if sql in remaining:
                remaining.remove(sql)
            else:
                missing.append(sql)
        if missing:
            ok = False
        report[name] = {
            "app": len(captured["app"]),
            "floor": len(captured["floor"]),
            "floor_sql_also_in_app": not missing,
            "app_only_sql": remaining,
            "floor_only_sql": missing,
        }
    print(json.dumps(report, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
