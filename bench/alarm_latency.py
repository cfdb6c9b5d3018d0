"""bench/alarm_latency: from an alarm's POST to its arrival on every console, against a floor.

Per mode, a fresh database and a real stack served as `manage.py serve` does (ADR 0002):
granian WSGI for HTTP (config.wsgi) and granian ASGI `asginl` for WebSockets
(bench/alarm_asgi.py = config.asgi plus the floor's trigger). 200 consoles (users of the
county centre, police stations, police posts and schools; bench/alarm_seed.py) hold sockets
on ws/console/ from client processes (bench/alarm_clients.py); 1,000 alarms are raised
through the device API (`POST /api/v1/alarms`, alarm-box tokens, Idempotency-Key), 10 at a
time. For each alarm, from the start of its POST to its `alarm.raised` frame on every console
that should get it (by its groups; 105 of 200 consoles per alarm): p50, p99, max per delivery
and per alarm (the last of its consoles), lost, duplicates, and frames on consoles that
should not get it.

The floor, in the same run, on the same sockets: 1,000 bare Channels group broadcasts of the
same payload to the same groups, 10 at a time, each triggered by an HTTP POST to the ASGI
server that does only `group_send` (bench/alarm_asgi.py). App and floor run in alternating
blocks so that drift hits both alike.

Targets (issue 3): lost 0, duplicates 0, and per-alarm p99 ≤ 1.5 × floor p99 and ≤ 100 ms.

Modes: the platform as `manage.py serve` runs it (HUXIAO_ENV=embedded; bench/alarm_settings.py
only isolates it). In every platform mode the alarm is published once per commit to all its
groups from one event loop (huxiao/core/events.py group_send_on_commit) and the console
consumer (huxiao/alarms/consumers.py) relays `alarm.message` without a thread hop, encoding
each pushed event once per process. The alarm's escalation checks are queued, not run
inline, as in production; the task worker is not started, so none runs while measuring.
  embedded            no REDIS_URL: the relay channel layer (huxiao.core.layers, ADR 0016)
                      carries the WSGI process's push to the ASGI process over a Unix
                      datagram; the console's database tail (1 s) is the safety net
  redis               REDIS_URL (default redis://127.0.0.1:6379/0): channels_redis (with
                      config/settings.py's socket timeout, 15 s, reported in the JSON), cache
                      and huey on Redis, under the benchmark's own prefix and queue name
  embedded_tail_only  for comparison only, not in the defaults: Channels' plain in-memory
                      layer per process (the path before ADR 0016); the push stays in the
                      WSGI process and only the console's tail (1 s) delivers
  server_floor        not a platform mode: granian writing the payload, encoded once, straight
                      to raw sockets (no Channels); what any consumer design must pay at least

    .venv/bin/python bench/alarm_latency.py [--modes embedded,redis] [--alarms 1000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/huxiao_bench .venv/bin/python bench/alarm_latency.py

SQLite (default) in a fresh temporary var dir per mode; with a postgres DATABASE_URL the
benchmark recreates its own database (the URL's name if it contains "bench", else
"huxiao_bench") per mode and drops it at the end. Prints one JSON document on stdout and
writes it to var/bench/alarm_latency.json; progress on stderr. Exits non-zero on any error,
and on a missed target only with --strict.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/alarm_latency.py` puts bench/ first
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.alarm_servers import GranianASGI  # noqa: E402
from bench.http_floor import postgres_bench_url, postgres_recreate  # noqa: E402
from bench.rawhttp import RawHttp  # noqa: E402
from bench.servers import GranianWSGI, ServerError  # noqa: E402

# name: how the servers are configured — see the module docstring.
#   redis: REDIS_URL set; layer: HUXIAO_BENCH_LAYER (bench/alarm_settings.py), None = the
#   project's own choice; raw: consoles on the server's raw sockets, floor only.
MODES = {
    "embedded": {"redis": False, "layer": None, "raw": False},
    "redis": {"redis": True, "layer": None, "raw": False},
    "embedded_tail_only": {"redis": False, "layer": "memory", "raw": False},
    # Not a platform mode: the server's own floor, no Channels at all (bench/alarm_asgi.py).
    "server_floor": {"redis": False, "layer": None, "raw": True},
}
DEFAULT_MODES = ("embedded", "redis")
TARGET_RATIO = 1.5
TARGET_P99_MS = 100.0
KINDS = ("intrusion", "violence", "medical", "fire", "suspicious", "fight", "other")


def log(message: str) -> None:
    print(f"alarm_latency: {message}", file=sys.stderr, flush=True)


class BenchError(RuntimeError):
    pass


# ------------------------------------------------------------------ stack


def run_python(args: list[str], env: dict[str, str], what: str) -> str:
    done = subprocess.run(
        [sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0:
        raise BenchError(f"{what} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def mode_env(mode: str, var_dir: Path, database_url: str, redis_url: str, consoles: int) -> dict:
    """The servers' environment: the caller's, without any HUXIAO_* (a HUXIAO_ENV=test or a
    tail setting of the shell must not change what is measured), plus the mode's."""
    config = MODES[mode]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HUXIAO_")
        and k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.alarm_settings",
            "HUXIAO_ENV": "embedded",
            # Throughput of one device token, not the per-device rate limit (ADR 0034).
            "HUXIAO_RATE_DEVICE": "0",
            "HUXIAO_RATE_LOGIN": "0",
            "HUXIAO_VAR_DIR": str(var_dir),
            "HUXIAO_SECRET_KEY": "bench-only-secret-key-not-for-any-deployment-000000",
            "HUXIAO_DATA_KEY": "bench-only-data-key-not-for-any-deployment-0000000",
            "HUXIAO_LOG_LEVEL": "WARNING",
            "HUXIAO_TASKS_IMMEDIATE": "0",  # escalation checks are queued, as in production
            "HUXIAO_BENCH_CONSOLES": str(consoles),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    if config["redis"]:
        env["REDIS_URL"] = redis_url
    if config["layer"]:
        env["HUXIAO_BENCH_LAYER"] = config["layer"]
    return env


# What the servers will use, asked of Django with the servers' environment (not assumed).
PROBE = """
import json
import django
django.setup()
from channels.layers import get_channel_layer
from django.conf import settings
from huxiao.alarms.consumers import tail
layer_config = settings.CHANNEL_LAYERS["default"]
layer = get_channel_layer()
hosts = layer_config.get("CONFIG", {}).get("hosts") or [{}]
print(json.dumps({
    "env": settings.HUXIAO_ENV,
    "channel_layer": layer_config["BACKEND"],
    "console_tail_s": tail.interval(),
    "relay_dir": str(layer.relay_dir) if hasattr(layer, "group_send_local") else None,
    "redis_socket_timeout_s": hosts[0].get("socket_timeout") if isinstance(hosts[0], dict) else None,
}))
"""


def probe_settings(env: dict) -> dict:
    found = json.loads(run_python(["-c", PROBE], env, "settings probe").strip().splitlines()[-1])
    if found["env"] == "test":
        raise BenchError("the servers would run with HUXIAO_ENV=test")
    return found


def group_pids(pgid: int) -> list[int]:
    """The processes of a process group (a granian server: its main process and workers)."""
    pids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as handle:
                fields = handle.read().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # field 5, counted after the ")" of the command name
            pids.append(int(entry.name))
    return pids


def cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


_DJANGO_LOG = re.compile(r"^\d{4}-\d\d-\d\d [\d:,]+ ([A-Z]+) (\S+) (.*)$")


def server_log(log_path: Path) -> tuple[dict[str, int], dict[str, int]]:
    """Errors and warnings in a server's log, counted by kind: granian's [ERROR] entries by
    the exception that ended the traceback, the project's log lines (config.settings LOGGING)
    by level, logger and message (digits folded, so one kind of failure is one line)."""
    errors: dict[str, int] = {}
    warnings: dict[str, int] = {}
    granian_entry = None

    def count(kinds: dict[str, int], kind: str) -> None:
        kinds[kind] = kinds.get(kind, 0) + 1

    for line in [*log_path.read_text(errors="replace").splitlines(), "[END]"]:
        django = _DJANGO_LOG.match(line)
        if line.startswith("[") or django:
            if granian_entry is not None:
                count(errors, granian_entry)
            granian_entry = line if line.startswith("[ERROR]") else None
        if django and django.group(1) in {"ERROR", "CRITICAL", "WARNING"}:
            level, name, message = django.groups()
            kind = f"{level} {name} {re.sub(r'[0-9]+', 'N', message)[:160]}"
            count(warnings if level == "WARNING" else errors, kind)
        elif (
            granian_entry is not None
            and line
            and not line[0].isspace()
            and line != "Traceback (most recent call last):"
        ):
            granian_entry = line[:200]  # the last unindented line: "SomeError: message"
    return errors, warnings


def redis_cleanup(redis_url: str) -> int:
    """Delete what the benchmark left in Redis (its own prefix and queue name only)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = [
        *client.scan_iter(match="huxiao-bench*", count=1000),
        *client.scan_iter(match="huey.*.huxiaobench*", count=1000),
        *client.scan_iter(match=":1:huxiao-bench*", count=1000),
    ]
    if keys:
        client.delete(*keys)
    return len(keys)


# ------------------------------------------------------------------ consoles


class ClientProcess:
    """One bench/alarm_clients.py process holding a share of the console sockets."""

    def __init__(self, env: dict, spec: dict, log_path: Path):
        self.stderr = open(log_path, "ab")  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.alarm_clients"],
            env=env,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            bufsize=1,
        )
        self.log_path = log_path
        self.send(json.dumps(spec))

    def send(self, line: str) -> None:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def read(self) -> str:
        line = self.process.stdout.readline()
        if not line:
            tail = self.log_path.read_text(errors="replace")[-3000:]
            raise BenchError(f"a console client process died:\n{tail}")
        return line.strip()

    def ask(self, command: str) -> str:
        self.send(command)
        return self.read()

    def close(self) -> None:
        try:
            self.send("quit")
            self.process.wait(timeout=15)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait(timeout=5)
        self.stderr.close()


# ------------------------------------------------------------------ load


@dataclass
class Job:
    variant: str  # "app" | "floor"
    tag: str
    school: int  # index into seed["schools"]
    t0_ns: int = 0
    t1_ns: int = 0
    status: int = 0


def new_client(concurrency: int, kind: str = "raw"):
    """The load generator's HTTP client: bench/rawhttp.py (default) or httpx; both answer
    post/get with .status_code, .text and .json()."""
    if kind == "raw":
        return RawHttp(timeout=30)
    limits = httpx.Limits(
        max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2
    )
    return httpx.AsyncClient(timeout=30, limits=limits)


async def fire(
    client,
    jobs: list[Job],
    concurrency: int,
    urls: tuple[str, str],
    seed: dict,
    template: dict | None,
) -> None:
    """Send the jobs, `concurrency` at a time; record when each POST started and ended."""
    wsgi_url, asgi_url, floor_path = urls
    queue: asyncio.Queue[Job] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)

    async def worker():
        while not queue.empty():
            job = queue.get_nowait()
            school = seed["schools"][job.school]
            if job.variant == "app":
                token = school["device_tokens"][int(job.tag[2:]) % len(school["device_tokens"])]
                url = wsgi_url + "/api/v1/alarms"
                body = {
                    "kind": KINDS[job.school % len(KINDS)],
                    "location": "东门岗亭",
                    "note": job.tag,
                    "drill": False,
                }
                headers = {
                    "Authorization": f"Bearer {token}",
                    "Idempotency-Key": f"bench-{job.tag}-{uuid.uuid4().hex[:8]}",
                }
            else:
                data = json.loads(json.dumps(template))
                fake_id = 10**12 + int(job.tag[2:]) + (10**9 if job.tag[0] == "w" else 0)
                data["event_id"] = fake_id
                data["alarm"].update({"id": fake_id, "note": job.tag, "school_id": school["id"]})
                url = asgi_url + floor_path
                body, headers = {"groups": school["groups"], "data": data}, {}
            job.t0_ns = time.monotonic_ns()
            response = await client.post(url, json=body, headers=headers)
            job.t1_ns = time.monotonic_ns()
            job.status = response.status_code
            if job.status not in (201, 204):
                raise BenchError(f"{job.variant} {job.tag}: {job.status} {response.text[:500]}")

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def start_py_spy(args, watch: dict, log_dir: Path, mode: str) -> list[subprocess.Popen]:
    """--py-spy: sample the servers' worker processes during the measured phase."""
    if not args.py_spy:
        return []
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    spies = []
    for name in ("wsgi", "asgi"):
        for pid in watch[name][1:] or watch[name]:  # the workers, not granian's main process
            out = log_dir / f"{mode}-{name}-{pid}.pyspy.txt"
            spies.append(
                subprocess.Popen(
                    [
                        spy,
                        "record",
                        "--pid",
                        str(pid),
                        "--format",
                        "raw",
                        "--rate",
                        "250",
                        "--nonblocking",
                        "--output",
                        str(out),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
    return spies


def stop_py_spy(spies: list[subprocess.Popen]) -> None:
    for spy in spies:
        spy.send_signal(signal.SIGINT)
    for spy in spies:
        try:
            spy.wait(timeout=30)
        except subprocess.TimeoutExpired:
            spy.kill()


def wait_for_receipts(clients: list[ClientProcess], expected: int, timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    while True:
        got = sum(int(c.ask("count").split()[1]) for c in clients)
        if got >= expected or time.monotonic() > deadline:
            return got
        time.sleep(0.02)


# ------------------------------------------------------------------ figures


def pct(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return round(ordered[rank - 1], 3)


def dist(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50_ms": pct(values, 50),
        "p90_ms": pct(values, 90),
        "p99_ms": pct(values, 99),
        "max_ms": round(max(values), 3) if values else None,
    }


def figures(jobs: list[Job], receipts: list, expected_by_school: list[set[int]]) -> dict:
    """Per variant: delivery and per-alarm latency, lost, duplicates, unexpected frames."""
    by_tag: dict[str, dict[int, list[int]]] = {}
    for index, tag, t_ns in receipts:
        by_tag.setdefault(tag, {}).setdefault(index, []).append(t_ns)
    out = {}
    for variant in ("app", "floor"):
        mine = [j for j in jobs if j.variant == variant]
        delivery, per_alarm, post = [], [], []
        lost = duplicates = unexpected = 0
        for job in mine:
            got = by_tag.get(job.tag, {})
            expected = expected_by_school[job.school]
            post.append((job.t1_ns - job.t0_ns) / 1e6)
            latest = None
            for console in expected:
                times = got.get(console)
                if not times:
                    lost += 1
                    continue
                duplicates += len(times) - 1
                ms = (min(times) - job.t0_ns) / 1e6
                delivery.append(ms)
                latest = ms if latest is None else max(latest, ms)
            unexpected += sum(len(t) for c, t in got.items() if c not in expected)
            if latest is not None and all(got.get(c) for c in expected):
                per_alarm.append(latest)
        out[variant] = {
            "alarms": len(mine),
            "deliveries_expected": sum(len(expected_by_school[j.school]) for j in mine),
            "deliveries": len(delivery),
            "lost": lost,
            "duplicates": duplicates,
            "unexpected": unexpected,
            "per_alarm_all_consoles": dist(per_alarm),
            "per_delivery": dist(delivery),
            "post_response": dist(post),
        }
    return out


def verdict(result: dict) -> dict:
    app, floor = result["app"], result["floor"]
    a99 = app["per_alarm_all_consoles"]["p99_ms"]
    f99 = floor["per_alarm_all_consoles"]["p99_ms"]
    ratio = round(a99 / f99, 3) if a99 is not None and f99 else None
    checks = {
        "lost_0": app["lost"] == 0 and floor["lost"] == 0,
        "duplicates_0": app["duplicates"] == 0 and floor["duplicates"] == 0,
        "unexpected_0": app["unexpected"] == 0 and floor["unexpected"] == 0,
        "p99_le_1.5x_floor": ratio is not None and ratio <= TARGET_RATIO,
        "p99_le_100ms": a99 is not None and a99 <= TARGET_P99_MS,
    }
    return {"p99_ratio_to_floor": ratio, "checks": checks, "met": all(checks.values())}


# ------------------------------------------------------------------ one mode


async def drive(args, seed, clients, expected_by_school, urls, mode, watch, only):
    """Warm-up, then app and floor in alternating blocks; one HTTP client throughout.

    Each block is drained (every expected frame received, or the drain timeout) before the
    next starts, so the CPU time of each process is charged to the variant that caused it.
    With --pattern waves (the default) a block is `concurrency` alarms fired at once: 10
    simultaneous alarms, delivered, then the next 10. With --pattern stream a block is
    --block alarms sent by `concurrency` workers back to back, as fast as the server answers.
    """
    n_schools = len(seed["schools"])
    receipts_expected = 0
    cpu = {v: dict.fromkeys(watch, 0.0) for v in ("app", "floor")}

    def jobs_for(variant: str, prefix: str, count: int, offset: int) -> list[Job]:
        return [
            Job(variant, f"{prefix}{offset + i:06d}", (offset + i) % n_schools)
            for i in range(count)
        ]

    async with new_client(args.concurrency, args.http_client) as client:

        async def run(jobs: list[Job], template: dict | None) -> float:
            nonlocal receipts_expected
            t = time.monotonic()
            await fire(client, jobs, args.concurrency, urls, seed, template)
            receipts_expected += sum(
                len(expected_by_school[j.school]) for j in jobs if j.variant in only
            )
            return time.monotonic() - t

        # Warm-up: both paths, not measured; the first real event gives the floor its payload.
        await run(jobs_for("app", "wa", args.warmup, 0), None)
        response = await client.get(
            urls[0] + "/api/v1/alarms/events",
            params={"since": 0},
            headers={"Authorization": f"Bearer {seed['reader_token']}"},
        )
        template = next(e for e in response.json()["events"] if e["type"] == "alarm.raised")
        await run(jobs_for("floor", "wf", args.warmup, 0), template)
        got = wait_for_receipts(clients, receipts_expected, args.drain_timeout)
        if got < receipts_expected:
            log(f"{mode}: warm-up delivered {got} of {receipts_expected} frames")

        measured: list[Job] = []
        wall = {"app": 0.0, "floor": 0.0}
        done = 0
        log(
            f"{mode}: {args.alarms} alarms and {args.alarms} floor broadcasts, "
            f"{args.concurrency} at a time, in blocks of {args.block} ({args.pattern})"
        )
        variants = [v for v in (("app", "ma"), ("floor", "mf")) if v[0] in only]
        while done < args.alarms:
            n = min(args.block, args.alarms - done)
            for variant, prefix in variants:
                jobs = jobs_for(variant, prefix, n, done)
                before = {name: cpu_seconds(pids) for name, pids in watch.items()}
                wall[variant] += await run(jobs, template)
                wait_for_receipts(clients, receipts_expected, args.drain_timeout)
                for name, pids in watch.items():
                    cpu[variant][name] += cpu_seconds(pids) - before[name]
                measured.extend(jobs)
            done += n
    return measured, wall, receipts_expected, cpu


def run_mode(mode: str, args, log_dir: Path) -> dict:
    started = time.monotonic()
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    if load_at_start[0] > 1.0:
        log(f"{mode}: the machine is busy (load average {load_at_start}); figures will suffer")
    var_dir = Path(tempfile.mkdtemp(prefix=f"huxiao-alarm-{mode}-"))
    database_url, pg_name = "", ""
    if args.database_url:
        database_url, pg_name = postgres_bench_url(args.database_url)
        postgres_recreate(database_url, pg_name)
    env = mode_env(mode, var_dir, database_url, args.redis_url, args.consoles)
    for old_log in log_dir.glob(f"{mode}-*"):
        old_log.unlink()
    servers: list[GranianWSGI] = []
    clients: list[ClientProcess] = []
    try:
        log(f"{mode}: migrate and seed ({'postgres' if database_url else 'sqlite'})")
        run_python(["manage.py", "migrate", "--noinput"], env, "migrate")
        seed = json.loads(run_python(["-m", "bench.alarm_seed"], env, "seed"))
        found = probe_settings(env)
        log(
            f"{mode}: channel layer {found['channel_layer']}, "
            f"console tail {found['console_tail_s']} s"
        )
        wsgi = GranianWSGI(
            "config.wsgi:application",
            env=env,
            log_path=log_dir / f"{mode}-wsgi.log",
            workers=args.workers,
            blocking_threads=args.blocking_threads,
        )
        asgi = GranianASGI(
            "bench.alarm_asgi:application", env=env, log_path=log_dir / f"{mode}-asgi.log"
        )
        servers_by_name = (("wsgi", wsgi), ("asgi", asgi))
        for _, server in servers_by_name:
            servers.append(server)
            server.start()

        consoles = seed["consoles"]
        expected_by_school = [
            {i for i, c in enumerate(consoles) if set(c["groups"]) & set(s["groups"])}
            for s in seed["schools"]
        ]
        shares = [
            list(range(p, len(consoles), args.client_procs)) for p in range(args.client_procs)
        ]
        raw = MODES[mode]["raw"]
        only = {"floor"} if raw else args.only
        log(f"{mode}: connecting {len(consoles)} consoles from {args.client_procs} process(es)")
        for p, share in enumerate(shares):
            clients.append(
                ClientProcess(
                    env,
                    {
                        "url": asgi.ws_url + "/ws/console/",
                        "origin": asgi.base_url,
                        "client": args.ws_client,
                        "consoles": [
                            {
                                "index": i,
                                "url": f"{asgi.ws_url}/bench/raw?g={consoles[i]['groups'][0]}",
                            }
                            if raw
                            else {"index": i, "token": consoles[i]["token"]}
                            for i in share
                        ],
                    },
                    log_dir / f"{mode}-clients{p}.log",
                )
            )
        for client, share in zip(clients, shares, strict=True):
            answer = client.read()
            if answer != f"ready {len(share)}":
                raise BenchError(f"console clients: {answer}")

        watch = {
            "wsgi": group_pids(wsgi.process.pid),
            "asgi": group_pids(asgi.process.pid),
            "consoles": [c.process.pid for c in clients],
            "bench": [os.getpid()],
        }
        spies = start_py_spy(args, watch, log_dir, mode)
        try:
            measured, wall, receipts_expected, cpu = asyncio.run(
                drive(
                    args,
                    seed,
                    clients,
                    expected_by_school,
                    (wsgi.base_url, asgi.base_url, "/bench/raw" if raw else "/bench/floor"),
                    mode,
                    watch,
                    only,
                )
            )
        finally:
            stop_py_spy(spies)
        wait_for_receipts(clients, receipts_expected, args.drain_timeout)
        dumps = [json.loads(c.ask("dump")) for c in clients]
        receipts = [r for d in dumps for r in d["receipts"]]
        frames: dict[str, int] = {}
        for d in dumps:
            for kind, n in d["frames"].items():
                frames[kind] = frames.get(kind, 0) + n
        closed_early = [c for d in dumps for c in d["closed_early"]]
        relay_sockets = (
            len(list(Path(found["relay_dir"]).glob("*.sock"))) if found["relay_dir"] else None
        )
        # Close the consoles while the servers still run: their disconnects (group_discard)
        # are part of the platform's work, and their errors belong in the figures.
        for client in clients:
            client.close()
        clients.clear()
        time.sleep(args.settle)
        result = figures(measured, receipts, expected_by_school)
        for variant in ("app", "floor"):
            if variant not in only:
                continue
            result[variant]["wall_s"] = round(wall[variant], 3)
            result[variant]["alarms_per_s"] = round(args.alarms / wall[variant], 1)
            result[variant]["cpu_ms_per_alarm"] = {
                name: round(1000 * seconds / args.alarms, 2)
                for name, seconds in cpu[variant].items()
            }
        result["verdict"] = (
            {"met": None, "note": "the server's own floor: no Channels, nothing to compare"}
            if raw
            else verdict(result)
        )
        result["frames_seen"] = frames
        result["sockets_closed_early"] = len(closed_early)
        logs = {name: server_log(server.log_path) for name, server in servers_by_name}
        result["server_errors"] = {name: sum(e.values()) for name, (e, _) in logs.items()}
        result["server_error_kinds"] = {name: e for name, (e, _) in logs.items() if e}
        result["server_warning_kinds"] = {name: w for name, (_, w) in logs.items() if w}
        if closed_early or any(result["server_errors"].values()):
            log(
                f"{mode}: {len(closed_early)} sockets closed early, "
                f"server errors {result['server_error_kinds']}"
            )
        result["consoles"] = {"total": len(consoles), "split": seed["split"]}
        result["recipients_per_alarm"] = sorted({len(e) for e in expected_by_school})
        result["database"] = "postgres" if database_url else "sqlite"
        result["channel_layer"] = found["channel_layer"]
        result["console_tail_s"] = found["console_tail_s"]
        if relay_sockets is not None:
            # Processes listening on the relay: the ASGI server only (WSGI only sends).
            result["relay_sockets"] = relay_sockets
        if found["redis_socket_timeout_s"] is not None:
            result["redis_socket_timeout_s"] = found["redis_socket_timeout_s"]
        result["console"] = (
            "raw granian sockets (no Channels)"
            if raw
            else "huxiao.alarms.consumers.ConsoleConsumer"
        )
        result["seconds"] = round(time.monotonic() - started, 1)
        result["load_average_at_start"] = load_at_start
        result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        log(
            f"{mode}: app p99 {result['app']['per_alarm_all_consoles']['p99_ms']} ms, "
            f"floor p99 {result['floor']['per_alarm_all_consoles']['p99_ms']} ms, "
            f"lost {result['app']['lost']}/{result['floor']['lost']}, "
            f"met={result['verdict']['met']}"
        )
        return result
    finally:
        for client in clients:
            client.close()
        for server in servers:
            server.stop()
        if MODES[mode]["redis"]:
            try:
                redis_cleanup(args.redis_url)
            except Exception as exc:  # noqa: BLE001
                log(f"redis cleanup failed: {exc}")
        if pg_name and not args.keep:
            postgres_recreate(database_url, pg_name, drop_only=True)
        if not args.keep:
            shutil.rmtree(var_dir, ignore_errors=True)
        else:
            log(f"{mode}: kept {var_dir}")


# ------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modes", default=",".join(DEFAULT_MODES), help=f"of {', '.join(MODES)}")
    parser.add_argument("--alarms", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--consoles", type=int, default=200)
    parser.add_argument(
        "--pattern",
        choices=("waves", "stream"),
        default="waves",
        help="waves: blocks of `concurrency` simultaneous alarms; stream: --block alarms "
        "back to back by `concurrency` workers",
    )
    parser.add_argument("--block", type=int, default=100, help="alarms per block (stream)")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--client-procs", type=int, default=1)
    parser.add_argument(
        "--ws-client",
        choices=("raw", "websockets"),
        default="raw",
        help="console sockets: bench's own RFC 6455 reader or the websockets library",
    )
    parser.add_argument(
        "--http-client",
        choices=("raw", "httpx"),
        default="raw",
        help="load generator: bench/rawhttp.py or httpx",
    )
    parser.add_argument("--workers", type=int, default=1, help="granian WSGI workers")
    parser.add_argument("--blocking-threads", type=int, default=8, help="granian WSGI threads")
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=5.0,
        help="seconds to wait for a block's frames; what has not arrived by then is lost",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=2.0,
        help="seconds the servers get to handle the consoles' disconnects before their logs "
        "are read for errors",
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    )
    parser.add_argument(
        "--output", type=Path, default=ROOT / "var" / "bench" / "alarm_latency.json"
    )
    parser.add_argument("--keep", action="store_true", help="keep var dirs and database")
    parser.add_argument(
        "--only", default="app,floor", help="diagnosis: measure only app or only floor"
    )
    parser.add_argument(
        "--py-spy", action="store_true", help="diagnosis: sample the servers with py-spy"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 on a missed target")
    args = parser.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    args.only = {v.strip() for v in args.only.split(",") if v.strip()}
    if args.pattern == "waves":
        args.block = args.concurrency
    unknown = set(modes) - set(MODES)
    if unknown:
        parser.error(f"unknown modes: {sorted(unknown)}")
    database_url = os.environ.get("DATABASE_URL", "")
    args.database_url = (
        database_url if urlparse(database_url).scheme in {"postgres", "postgresql", "pgsql"} else ""
    )
    log_dir = ROOT / "var" / "bench" / "alarm_latency_logs"
    log_dir.mkdir(parents=True, exist_ok=True)

    def document() -> dict:
        import granian

        return {
            "benchmark": "alarm_latency",
            "issue": 3,
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
                "granian": granian.__version__,
            },
            "parameters": {
                "alarms": args.alarms,
                "concurrency": args.concurrency,
                "consoles": args.consoles,
                "pattern": args.pattern,
                "block": args.block,
                "warmup": args.warmup,
                "client_processes": args.client_procs,
                "ws_client": args.ws_client,
                "http_client": args.http_client,
                "wsgi_workers": args.workers,
                "wsgi_blocking_threads": args.blocking_threads,
                "database": "postgres:" + unquote(urlparse(args.database_url).path.lstrip("/"))
                if args.database_url
                else "sqlite",
            },
            "targets": {
                "lost": 0,
                "duplicates": 0,
                "per_alarm_p99_le_x_floor_p99": TARGET_RATIO,
                "per_alarm_p99_le_ms": TARGET_P99_MS,
            },
            "modes": results,
            "met": {mode: r["verdict"]["met"] for mode, r in results.items()},
        }

    results: dict[str, dict] = {}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    try:
        for mode in modes:
            results[mode] = run_mode(mode, args, log_dir)
            # Written after every mode: a long run that fails late keeps what it measured.
            args.output.write_text(json.dumps(document(), indent=2, ensure_ascii=False) + "\n")
    except (BenchError, ServerError) as exc:
        log(f"error: {exc}")
        return 2
    final = document()
    text = json.dumps(final, indent=2, ensure_ascii=False)
    args.output.write_text(text + "\n")
    print(text)
    if args.strict and not all(final["met"].values()):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
