"""bench/soak: mixed load against a running stack for minutes, watching errors and memory
(issue 11, item 5).

Starts its own stack with `manage.py serve` (granian WSGI + ASGI, the task worker) on a
database of its own — SQLite in a temporary var dir by default; with DATABASE_URL a
PostgreSQL database `huxiao_soak` created and dropped; with REDIS_URL scale mode (use a
Redis database number of its own: the stack keys it with the default prefixes) — seeds it
(bench/gate_seed.py: a kindergarten with children, pick-up codes and a gate terminal; plus
alarm boxes, a police token and page sessions), then for --minutes runs, at about --rate
requests per second from --threads threads:

- gate scans: visitor check-in by seven gate terminals (`POST /api/v1/visitors/check-in`);
- pick-up: lookup then release of a child (`/api/v1/pickup/lookup`, `/release`);
- alarms: raised by alarm boxes (Idempotency-Key) and acknowledged by the police;
- page views of a principal, a police commander and a county office coordinator;
- one police console on the socket for the whole run, which must receive every alarm.

Every 10 s it samples the resident memory (VmRSS) of each process of the stack. It prints
one JSON document (errors, requests by kind, latency p50/p99 by kind, RSS start/end/growth
per process measured from the end of the warm-up — a minute, or a quarter of a short run)
to stdout and writes var/bench/soak.json (--output to change). Exit 1 on any error or a
process whose RSS grew by --max-rss-growth % (10) or more; 2 if the stack could not start.

    .venv/bin/python bench/soak.py                 # 10 minutes on SQLite
    .venv/bin/python bench/soak.py --minutes 0.2   # a smoke run
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x REDIS_URL=redis://127.0.0.1:6379/13 \\
        .venv/bin/python bench/soak.py             # scale mode
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/soak.py` puts bench/ first, not the root
    sys.path.insert(0, str(ROOT))

from bench.servers import free_port  # noqa: E402

SAMPLE_EVERY_S = 10.0
KINDS = ("intrusion", "violence", "medical", "fire", "suspicious", "fight", "other")
# Relative weights of the load's kinds (one pick-up is a lookup and a release).
MIX = {"gate_check_in": 3, "pickup": 2, "alarm": 1, "page": 4}
GATE_TERMINALS = 6


def log(message: str) -> None:
    print(f"soak: {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ the stack


class Stack:
    """`manage.py serve` on a database of its own, seeded; stopped and removed on exit."""

    def __init__(self, args):
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="huxiao-soak-"))
        self.var_dir = self.tmp / "var"
        self.var_dir.mkdir()
        self.port, self.ws_port = free_port(), free_port()
        self.pg_url = ""
        self.process: subprocess.Popen | None = None
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "HUXIAO_ENV"}
            and not key.startswith("PYTEST_")
        }
        self.env.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "HUXIAO_ENV": "embedded",
                "HUXIAO_VAR_DIR": str(self.var_dir),
                "HUXIAO_TASKS_IMMEDIATE": "0",
                "HUXIAO_LOG_LEVEL": "WARNING",
                "HUXIAO_SECRET_KEY": "soak-only-secret-key-not-for-any-deployment-000",
                "HUXIAO_DATA_KEY": "soak-only-data-key-not-for-any-deployment-0000",
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        if args.database_url:
            parsed = urlparse(args.database_url)
            self.pg_url = urlunparse(parsed._replace(path=f"/huxiao_soak_{uuid.uuid4().hex[:8]}"))
            self.env["DATABASE_URL"] = self.pg_url
        if args.redis_url:
            self.env["REDIS_URL"] = args.redis_url

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}"

    def python(self, *args: str, extra_env: dict | None = None, timeout: float = 1200) -> str:
        done = subprocess.run(
            [sys.executable, *args],
            env={**self.env, **(extra_env or {})},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def prepare(self, children: int) -> dict:
        if self.pg_url:
            _pg_admin(self.pg_url, "CREATE DATABASE {}")
        elif self.args.sqlite_from:
            shutil.copyfile(self.args.sqlite_from, self.var_dir / "huxiao.sqlite3")
        log("migrating (fast when --sqlite-from gives a migrated copy)")
        self.python("manage.py", "migrate", "--noinput")
        codes_file = self.tmp / "codes.txt"
        log(f"seeding: {children} children with pick-up codes, alarm boxes, users")
        gate = json.loads(
            self.python(
                "-m",
                "bench.gate_seed",
                "seed",
                extra_env={
                    "HUXIAO_BENCH_CHILDREN": str(children),
                    "HUXIAO_BENCH_REGISTER": "50",
                    "HUXIAO_BENCH_CODES_FILE": str(codes_file),
                },
            )
            .strip()
            .splitlines()[-1]
        )
        extra = json.loads(
            self.python(str(Path(__file__)), "--seed-extra").strip().splitlines()[-1]
        )
        codes = [json.loads(line) for line in codes_file.read_text().splitlines() if line]
        # The first two codes were released by the seed's own check.
        return {**gate, **extra, "codes": codes[2:]}

    def start(self) -> None:
        log_file = open(self.var_dir / "serve.log", "ab")  # noqa: SIM115 - the child owns it
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "manage.py",
                    "serve",
                    "--port",
                    str(self.port),
                    "--ws-port",
                    str(self.ws_port),
                    "--no-mqtt",
                ],
                env=self.env,
                cwd=ROOT,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log_file.close()
        import httpx

        deadline = time.monotonic() + 120
        for url in (self.base_url + "/healthz", f"http://127.0.0.1:{self.ws_port}/healthz"):
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"serve exited: {self.log_tail()}")
                try:
                    if httpx.get(url, timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"serve did not answer {url}: {self.log_tail()}")
                time.sleep(0.3)
        time.sleep(1.0)  # the task worker starts beside the servers

    def log_tail(self) -> str:
        path = self.var_dir / "serve.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else "(no log)"

    def processes(self) -> dict[int, str]:
        """The stack's processes (serve's descendants): pid → a short name."""
        if self.process is None:
            return {}
        children: dict[int, list[int]] = defaultdict(list)
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children[ppid].append(int(entry.name))
        found: dict[int, str] = {}
        todo = [self.process.pid]
        while todo:
            pid = todo.pop()
            for child in children.get(pid, []):
                found[child] = _process_name(child, found.get(pid, ""))
                todo.append(child)
        return found

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        if self.pg_url:
            with contextlib.suppress(Exception):
                _pg_admin(self.pg_url, "DROP DATABASE IF EXISTS {} WITH (FORCE)")
        from huxiao.core.layers import relay_dir_for

        shutil.rmtree(relay_dir_for(self.var_dir / "run" / "channels"), ignore_errors=True)
        shutil.rmtree(self.tmp, ignore_errors=True)


def _process_name(pid: int, parent: str) -> str:
    try:
        argv = (Path("/proc") / str(pid) / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return f"?-{pid}"
    text = " ".join(a.decode(errors="replace") for a in argv if a)
    if "run_huey" in text:
        name = "tasks (huey)"
    elif "mqtt_bridge" in text:
        name = "mqtt bridge"
    elif "--interface wsgi" in text:
        name = "http (wsgi)"
    elif "--interface asgi" in text:
        name = "websocket (asgi)"
    else:
        name = Path(argv[0].decode(errors="replace")).name
    if parent and parent.split(" [")[0] in {name, name + " worker"}:
        name = parent.split(" [")[0].removesuffix(" worker") + " worker"  # granian's workers
    return f"{name} [{pid}]"


def _pg_admin(url: str, statement: str) -> None:
    import psycopg
    from psycopg import sql

    parsed = urlparse(url)
    admin = urlunparse(parsed._replace(path="/postgres"))
    name = parsed.path.lstrip("/")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL(statement).format(sql.Identifier(name)))


def rss_kib(pid: int) -> int | None:
    try:
        for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def seed_extra() -> dict:
    """Run inside the stack's environment after bench/gate_seed: alarm boxes, the police
    API token, a county office user, and page sessions of three roles."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from bench.common import session_headers
    from huxiao.accounts.services import api_token_issue, device_token_issue
    from huxiao.core.roles import OrgKind, Role
    from huxiao.orgs.models import Membership, Organization

    users = get_user_model().objects
    principal = users.get(username="bench-gate-principal")
    police = users.get(username="bench-gate-police")
    school = principal.memberships.first().organization
    county_office = Organization.objects.create(
        kind=OrgKind.GOVERNANCE_OFFICE, name="基准县综治中心", region=school.region, town=None
    )
    county = users.create_user(username="bench-soak-county", password=None)
    Membership.objects.create(
        user=county, organization=county_office, role=Role.GOVERNANCE_COORDINATOR
    )
    boxes = [
        device_token_issue(actor=None, school=school, name=f"报警箱{i}", kind="alarm_box")[1]
        for i in range(4)
    ]
    # Several gate lanes: one terminal is held to HUXIAO_RATE_DEVICE (300 a minute), as
    # a real lane never comes near; the soak's gate load is spread as a school's would be.
    gates = [
        device_token_issue(actor=None, school=school, name=f"闸机{i}", kind="gate_terminal")[1]
        for i in range(GATE_TERMINALS)
    ]
    return {
        "alarm_box_tokens": boxes,
        "gate_tokens": gates,
        "police_token": api_token_issue(user=police),
        "sessions": session_headers({"principal": principal, "police": police, "county": county}),
    }


# ------------------------------------------------------------------ the load


class Console(threading.Thread):
    """One police console on the socket for the whole run; counts the raised alarms."""

    def __init__(self, ws_url: str, origin: str, token: str):
        super().__init__(daemon=True)
        self.ws_url, self.origin, self.token = ws_url, origin, token
        self.raised: set[int] = set()
        self.duplicates = 0
        self.reconnects = -1
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.last_event_id = 0

    def run(self) -> None:
        from websockets.sync.client import connect

        while not self.stopping.is_set():
            self.reconnects += 1
            try:
                with connect(
                    self.ws_url + "/ws/console/", origin=self.origin, open_timeout=10
                ) as ws:
                    ws.send(json.dumps({"token": self.token}))
                    ws.send(json.dumps({"since": self.last_event_id}))
                    while not self.stopping.is_set():
                        try:
                            frame = json.loads(ws.recv(timeout=0.5))
                        except TimeoutError:
                            continue
                        if frame.get("type") == "alarm.raised":
                            with self.lock:
                                alarm_id = frame["alarm"]["id"]
                                self.duplicates += alarm_id in self.raised
                                self.raised.add(alarm_id)
                        if "event_id" in frame:
                            self.last_event_id = max(self.last_event_id, frame["event_id"])
            except Exception:  # noqa: BLE001 - a soak reports, it does not stop
                time.sleep(1)


class Load:
    def __init__(self, stack: Stack, seed: dict, args):
        import httpx

        self.stack, self.seed, self.args = stack, seed, args
        self.base = stack.base_url
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.errors: list[dict] = []
        self.alarms_raised: set[int] = set()
        self.person = 10_000
        self.code_index = 0
        school = seed["school_id"]
        self.pages = {
            "principal": ["/", f"/gate/{school}/", "/alarms/console/"],
            "police": ["/", "/alarms/console/", "/alarms/stats/"],
            "county": ["/", "/alarms/stats/"],
        }
        self.gates = [
            {"Authorization": f"Bearer {t}"} for t in [seed["token"], *seed["gate_tokens"]]
        ]
        self.police = {"Authorization": f"Bearer {seed['police_token']}"}
        self.stopping = threading.Event()
        self.httpx = httpx

    # Each kind returns nothing; `call` records its requests.
    def call(self, client, kind: str, method: str, path: str, ok: set[int], **kwargs):
        started = time.perf_counter()
        try:
            response = client.request(method, self.base + path, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every failure is counted, none stops the soak
            with self.lock:
                self.errors.append({"kind": kind, "path": path, "error": repr(exc)[:300]})
            return None
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.latencies[kind].append(elapsed)
            self.statuses[kind][response.status_code] += 1
            if response.status_code not in ok:
                self.errors.append(
                    {
                        "kind": kind,
                        "path": path,
                        "status": response.status_code,
                        "body": response.text[:300],
                    }
                )
                return None
        return response

    def gate_check_in(self, client) -> None:
        from bench.gate import check_in_body

        with self.lock:
            self.person += 1
            n = self.person
        self.call(
            client,
            "gate_check_in",
            "POST",
            "/api/v1/visitors/check-in",
            {201},
            json=check_in_body(n, self.seed["host_id"]),
            headers=random.choice(self.gates),
        )

    def pickup(self, client) -> None:
        with self.lock:
            if self.code_index >= len(self.seed["codes"]):
                return  # every child collected: the run is longer than the seed foresaw
            code = self.seed["codes"][self.code_index]
            self.code_index += 1
        lane = random.choice(self.gates)
        found = self.call(
            client, "pickup_lookup", "POST", "/api/v1/pickup/lookup", {200},
            json={"code": code}, headers=lane,
        )  # fmt: skip
        if found is None:
            return
        self.call(
            client,
            "pickup_release",
            "POST",
            "/api/v1/pickup/release",
            {200, 201},
            json={"confirmation_token": found.json()["confirmation_token"]},
            headers=lane,
        )

    def alarm(self, client) -> None:
        token = random.choice(self.seed["alarm_box_tokens"])
        raised = self.call(
            client,
            "alarm_raise",
            "POST",
            "/api/v1/alarms",
            {201},
            json={"kind": random.choice(KINDS), "location": "南门", "note": "soak"},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex},
        )
        if raised is None:
            return
        alarm_id = raised.json()["id"]
        with self.lock:
            self.alarms_raised.add(alarm_id)
        self.call(
            client,
            "alarm_acknowledge",
            "POST",
            f"/api/v1/alarms/{alarm_id}/acknowledge",
            {200},
            headers=self.police,
        )

    def page(self, client) -> None:
        role = random.choice(list(self.pages))
        path = random.choice(self.pages[role])
        self.call(client, "page", "GET", path, {200}, headers=self.seed["sessions"][role])

    def check_pages(self) -> None:
        """Every page answers 200 for its role before the load: a soak of redirects to
        the login page would measure nothing."""
        with self.httpx.Client(timeout=60) as client:
            for role, paths in self.pages.items():
                for path in paths:
                    response = client.get(self.base + path, headers=self.seed["sessions"][role])
                    if response.status_code != 200:
                        raise RuntimeError(f"{role} {path}: {response.status_code}")

    def worker(self, deadline: float, interval: float) -> None:
        kinds = [kind for kind, weight in MIX.items() for _ in range(weight)]
        with self.httpx.Client(timeout=30, follow_redirects=False) as client:
            next_at = time.monotonic()
            while not self.stopping.is_set() and time.monotonic() < deadline:
                getattr(self, random.choice(kinds))(client)
                next_at += interval
                pause = next_at - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                else:
                    next_at = time.monotonic()  # behind: no catch-up burst


def _percentile(samples: list[float], q: float) -> float | None:
    if not samples:
        return None
    if len(samples) == 1:
        return round(samples[0], 1)
    return round(statistics.quantiles(samples, n=100, method="inclusive")[q - 1], 1)


def run(args) -> tuple[int, dict]:
    seconds = args.minutes * 60
    warmup = min(60.0, seconds / 4)
    pickups_per_s = args.rate * MIX["pickup"] / sum(MIX.values())
    children = max(200, int(pickups_per_s * seconds * 1.3) + 50)
    stack = Stack(args)
    document: dict = {
        "benchmark": "soak",
        "database": "postgresql" if stack.pg_url else "sqlite",
        "redis": bool(args.redis_url),
        "minutes": args.minutes,
        "rate_target": args.rate,
        "threads": args.threads,
        "warmup_s": warmup,
    }
    try:
        seed = stack.prepare(children)
        stack.start()
        load = Load(stack, seed, args)
        load.check_pages()
        console = Console(stack.ws_url, stack.base_url, seed["police_token"])
        console.start()
        log(f"load for {seconds:.0f} s at ~{args.rate}/s; processes: {stack.processes()}")
        started = time.monotonic()
        deadline = started + seconds
        threads = [
            threading.Thread(
                target=load.worker, args=(deadline, args.threads / args.rate), daemon=True
            )
            for _ in range(args.threads)
        ]
        for thread in threads:
            thread.start()
        samples: dict[str, list[tuple[float, int]]] = defaultdict(list)
        next_sample = started
        while time.monotonic() < deadline:
            now = time.monotonic()
            if now >= next_sample:
                for pid, name in stack.processes().items():
                    rss = rss_kib(pid)
                    if rss is not None:
                        samples[name].append((round(now - started, 1), rss))
                next_sample += SAMPLE_EVERY_S
            if stack.process.poll() is not None:
                load.errors.append({"kind": "stack", "error": "manage.py serve exited"})
                break
            time.sleep(0.2)
        for pid, name in stack.processes().items():  # the last sample, at the end
            rss = rss_kib(pid)
            if rss is not None:
                samples[name].append((round(time.monotonic() - started, 1), rss))
        load.stopping.set()
        for thread in threads:
            thread.join(timeout=40)
        elapsed = time.monotonic() - started
        # The console must have been shown every alarm raised (the push or its tail).
        console_deadline = time.monotonic() + 10
        while time.monotonic() < console_deadline and not load.alarms_raised <= console.raised:
            time.sleep(0.2)
        console.stopping.set()
        missed = sorted(load.alarms_raised - console.raised)
        if missed:
            load.errors.append({"kind": "console", "error": f"alarms never pushed: {missed[:20]}"})
        if console.duplicates:
            load.errors.append({"kind": "console", "error": f"{console.duplicates} duplicates"})
        rss = {}
        growth_failures = []
        for name, points in sorted(samples.items()):
            after = [kib for at, kib in points if at >= warmup] or [points[-1][1]]
            start_kib, end_kib = after[0], points[-1][1]
            growth = round(100.0 * (end_kib - start_kib) / start_kib, 1) if start_kib else None
            rss[name] = {
                "start_kib": start_kib,
                "end_kib": end_kib,
                "peak_kib": max(kib for _at, kib in points),
                "growth_pct": growth,
                "samples": len(points),
            }
            if growth is not None and growth >= args.max_rss_growth:
                growth_failures.append(name)
        requests = {kind: len(values) for kind, values in sorted(load.latencies.items())}
        document.update(
            {
                "elapsed_s": round(elapsed, 1),
                "requests": requests,
                "requests_total": sum(requests.values()),
                "requests_per_s": round(sum(requests.values()) / elapsed, 1),
                "statuses": {k: dict(v) for k, v in sorted(load.statuses.items())},
                "latency_ms": {
                    kind: {"p50": _percentile(v, 50), "p99": _percentile(v, 99)}
                    for kind, v in sorted(load.latencies.items())
                },
                "alarms": {
                    "raised": len(load.alarms_raised),
                    "on_console": len(load.alarms_raised & console.raised),
                    "console_reconnects": max(0, console.reconnects),
                },
                "errors_total": len(load.errors),
                "errors": load.errors[:50],
                "rss": rss,
                "rss_growth_limit_pct": args.max_rss_growth,
                "rss_growth_over_limit": growth_failures,
            }
        )
        code = 1 if load.errors or growth_failures else 0
    except Exception:  # noqa: BLE001 - the document says what failed
        document["fatal"] = traceback.format_exc()[-3000:]
        document["stack_log"] = stack.log_tail()
        code = 2
    finally:
        stack.stop()
    return code, document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=20.0, help="requests started per second")
    parser.add_argument("--threads", type=int, default=6)
    parser.add_argument("--max-rss-growth", type=float, default=10.0, help="percent")
    parser.add_argument(
        "--sqlite-from", default="", help="copy this migrated SQLite file instead of migrating"
    )
    parser.add_argument("--output", default=str(ROOT / "var" / "bench" / "soak.json"))
    parser.add_argument("--seed-extra", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seed_extra:
        print(json.dumps(seed_extra()))
        return 0
    if args.minutes < 0 or args.rate <= 0 or args.threads < 1:
        parser.error("--minutes ≥ 0, --rate > 0 and --threads ≥ 1")
    args.database_url = os.environ.get("DATABASE_URL", "")
    if urlparse(args.database_url).scheme not in {"postgres", "postgresql", "pgsql"}:
        args.database_url = ""
    args.redis_url = os.environ.get("REDIS_URL", "")
    code, document = run(args)
    text = json.dumps(document, ensure_ascii=False, indent=2)
    print(text)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text + "\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
