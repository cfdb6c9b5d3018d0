"""bench/gate: visitor check-in and child pick-up release against their floor (issue 5).

Each is measured under concurrent load (wrk, bench/gate.lua) beside its *floor*, measured
in the same run and served the same way (granian WSGI, same workers and threads, same
database, same wrk threads and connections): a bare Django view with no middleware, no
authentication and no scoping that parses the check-in's JSON body and inserts one row
(bench/gate_floor.py). Target: each reaches at least 50 % of the floor's throughput.

- check_in: `POST /api/v1/visitors/check-in` by a gate terminal (device token), a new person
  per request (valid resident ID numbers made in Lua), screened against a high-risk register
  of --register persons and the school's blocklist; an audit row and an event each. Every
  visitor screens "clear" (checked afterwards: no hold, no register hit).
- release: `POST /api/v1/pickup/lookup` (alternately a PIN and a card QR) then
  `POST /api/v1/pickup/release` with the lookup's confirmation token, one child each, once
  a day. Counted as releases/s (pairs: half the requests/s); p50/p99 are per request.

The app is served as in production, `config.wsgi:application`: the gate terminals' requests
take its gate lane (huxiao/access/gate_lane.py, ADR 0022). Rounds alternate app and floor
(and which goes first); figures are medians of the rounds.

    .venv/bin/python bench/gate.py [--rounds 5] [--duration 5] [--strict]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/huxiao_bench_gate .venv/bin/python bench/gate.py
    .venv/bin/python bench/gate.py --smoke   # a few seconds: the benchmark still works

Databases as bench/http_floor.py (SQLite in a temporary var dir; PostgreSQL recreated and
dropped). Prints one JSON document and writes var/bench/gate.json (--smoke: not written
unless --output is given); progress goes to stderr. Exits non-zero on any error, and on a
missed target only with --strict. Needs wrk: scripts/install-bench-tools.sh.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/gate.py` puts bench/ first, not the root
    sys.path.insert(0, str(ROOT))

from bench.http_floor import (  # noqa: E402
    BenchError,
    postgres_bench_url,
    postgres_recreate,
    run_python,
    summarize,
)
from bench.loadgen import LoadError, Sample, parse, run_wrk_output, wrk_path  # noqa: E402
from bench.servers import GranianWSGI, ServerError  # noqa: E402

TARGET = 0.5
SCRIPT = Path(__file__).with_name("gate.lua")
CHECK_IN_PATH = "/api/v1/visitors/check-in"
LOOKUP_PATH = "/api/v1/pickup/lookup"
RELEASE_PATH = "/api/v1/pickup/release"
FLOOR_PATH = "/bench/gate/insert"  # bench/gate_floor.py
# A generous bound on releases per second, to seed enough children for the whole run.
MAX_RELEASES_PER_S = 600
# Person numbers of the checks before the load: the load's start after them.
FIRST_LOAD_PERSON = 1000


def log(message: str) -> None:
    print(f"gate: {message}", file=sys.stderr, flush=True)


def post(url: str, headers: dict[str, str], body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={**headers, "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, {"raw": raw[:500].decode(errors="replace")}


def check_in_body(n: int, host_id: int) -> dict:
    """What bench/gate.lua sends for person n."""
    from bench.gate_seed import visitor_id_number

    return {
        "name": f"访客{n}",
        "id_number": visitor_id_number(n),
        "phone": f"139{n % 10**8:08d}",
        "purpose": "official",
        "purpose_note": "bench",
        "host_id": host_id,
        "items": "文件",
    }


def verify(app: GranianWSGI, floor: GranianWSGI, auth: dict, seed: dict, codes: list) -> dict:
    """Each endpoint answers as the load expects before anything is measured; and a second
    check-in of the same person is refused (the load must send new people)."""
    status, body = post(app.base_url + CHECK_IN_PATH, auth, check_in_body(0, seed["host_id"]))
    if status != 201 or body.get("screening") != "clear" or not body.get("badge"):
        raise BenchError(f"check-in: expected 201 clear with a badge, got {status}: {body}")
    again, refused = post(app.base_url + CHECK_IN_PATH, auth, check_in_body(0, seed["host_id"]))
    if again != 400:
        raise BenchError(f"check-in of a person inside: expected 400, got {again}: {refused}")
    status, floor_body = post(floor.base_url + FLOOR_PATH, {}, check_in_body(1, seed["host_id"]))
    if status != 201 or "id" not in floor_body:
        raise BenchError(f"floor: expected 201 with an id, got {status}: {floor_body}")
    releases = []
    for text in codes[:2]:  # a PIN and a card QR
        status, match = post(app.base_url + LOOKUP_PATH, auth, {"code": text})
        if status != 200 or "confirmation_token" not in match:
            raise BenchError(
                f"lookup of {text!r}: expected 200 with a token, got {status}: {match}"
            )
        token = match["confirmation_token"]
        status, release = post(app.base_url + RELEASE_PATH, auth, {"confirmation_token": token})
        if status != 201:
            raise BenchError(f"release: expected 201, got {status}: {release}")
        releases.append(release["method"])
        status, twice = post(app.base_url + RELEASE_PATH, auth, {"confirmation_token": token})
        if status != 409 or twice.get("code") != "already_released":
            raise BenchError(f"second release: expected 409 already_released, got {status}")
    return {
        "check_in": {"status": 201, "screening": body["screening"], "repeat_refused": again},
        "floor": {"status": 201},
        "release": {"status": 201, "methods": releases, "second_release": 409},
    }


class Load:
    """wrk runs of bench/gate.lua; hands out person and code numbers no run used before."""

    def __init__(self, args, auth: dict, seed: dict, codes_file: Path, code_count: int):
        self.args = args
        self.auth = auth
        self.seed = seed
        self.codes_file = codes_file
        self.code_count = code_count
        self.next_person = FIRST_LOAD_PERSON
        self.next_code = 2  # the first two were released by verify()

    def _run(self, url: str, script_args: list[str], seconds: int) -> tuple[Sample, str]:
        output = run_wrk_output(
            url,
            headers=self.auth,
            threads=self.args.connections,  # one connection a thread (see gate.lua)
            connections=self.args.connections,
            duration_s=seconds,
            script=SCRIPT,
            script_args=script_args,
        )
        exhausted = re.search(r"^HUXIAO_EXHAUSTED (\d+)", output, re.M)
        if exhausted and int(exhausted.group(1)):
            raise BenchError(
                f"the {self.code_count} pick-up codes ran out: seed more with --children"
            )
        sample = parse(output)
        found = re.search(r"^HUXIAO_NEXT (\d+)", output, re.M)
        if found is None:
            raise LoadError(f"bench/gate.lua did not report HUXIAO_NEXT:\n{output}")
        return sample, found.group(1)

    def check_in(self, server: GranianWSGI, path: str, seconds: int) -> Sample:
        sample, used = self._run(
            server.base_url + path,
            [
                "checkin",
                path,
                str(self.next_person),
                str(self.args.connections),
                str(self.seed["host_id"]),
            ],
            seconds,
        )
        self.next_person = int(used)
        return sample

    def release(self, server: GranianWSGI, seconds: int) -> Sample:
        sample, used = self._run(
            server.base_url + LOOKUP_PATH,
            ["pickup", str(self.codes_file), str(self.next_code), str(self.args.connections)],
            seconds,
        )
        self.next_code = int(used)
        # One release is two requests: a lookup and the release.
        return replace(sample, rps=sample.rps / 2, requests=sample.requests // 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="measured runs per app/endpoint")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per run")
    parser.add_argument(
        "--connections", type=int, default=8, help="wrk connections (one wrk thread each)"
    )
    parser.add_argument("--workers", type=int, default=1, help="granian workers (both servers)")
    parser.add_argument("--blocking-threads", type=int, default=8, help="granian threads")
    parser.add_argument("--register", type=int, default=500, help="persons in the register")
    parser.add_argument(
        "--children", type=int, default=0, help="children with codes (default: enough)"
    )
    parser.add_argument("--output", type=Path, default=None, help="default var/bench/gate.json")
    parser.add_argument(
        "--smoke", action="store_true", help="one short round of each, tiny data (for tests)"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also measure CPU and queries per request in-process (bench/gate_profile.py)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the var dir and database")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)
    if args.smoke:
        args.rounds, args.duration, args.warmup, args.register = 1, 1, 0, 50
        args.connections = min(args.connections, 2)
    if args.rounds < 1 or args.duration < 1 or args.warmup < 0 or args.connections < 1:
        parser.error("--rounds, --duration, --connections must be >= 1 and --warmup >= 0")
    if args.output is None and not args.smoke:
        args.output = ROOT / "var" / "bench" / "gate.json"
    release_seconds = (args.warmup + args.duration * args.rounds) + 2
    children = args.children or max(500, MAX_RELEASES_PER_S * release_seconds)
    if args.smoke and not args.children:
        children = 1500

    wrk_path()  # fail before any setup if wrk is missing
    var_dir = Path(tempfile.mkdtemp(prefix="huxiao-bench-gate-"))
    codes_file = var_dir / "pickup-codes.jsonl"
    env = {
        **os.environ,
        "HUXIAO_VAR_DIR": str(var_dir),
        "HUXIAO_DEBUG": "0",
        "HUXIAO_ENV": "embedded",
        # Throughput of one device token, not the per-device rate limit (ADR 0034).
        "HUXIAO_RATE_DEVICE": "0",
        "HUXIAO_RATE_LOGIN": "0",
        "HUXIAO_DEMO": "0",
        "HUXIAO_BENCH_CHILDREN": str(children),
        "HUXIAO_BENCH_REGISTER": str(args.register),
        "HUXIAO_BENCH_CODES_FILE": str(codes_file),
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
        log(f"seeding {children} children with codes and a register of {args.register}")
        seeded = run_python(["-m", "bench.gate_seed", "seed"], env, "seed")
        seed = json.loads(seeded.strip().splitlines()[-1])
        codes = [json.loads(line) for line in codes_file.read_text().splitlines()]
        auth = {"Authorization": f"Bearer {seed['token']}"}
        server_env = {k: v for k, v in env.items() if not k.startswith("HUXIAO_BENCH_")}
        app, floor = (
            GranianWSGI(
                target,
                env=server_env,
                log_path=var_dir / f"{name}.log",
                workers=args.workers,
                blocking_threads=args.blocking_threads,
            )
            for name, target in (
                ("app", "config.wsgi:application"),
                ("floor", "bench.gate_floor_app:application"),
            )
        )
        servers += [app, floor]
        log(f"starting app on {app.base_url} and floor on {floor.base_url}")
        app.start()
        floor.start()
        checks = verify(app, floor, auth, seed, codes)
        log("check-in, lookup, release and the floor answer as expected")

        load = Load(args, auth, seed, codes_file, len(codes))
        measures = {
            "check_in": lambda server, seconds: (
                load.check_in(server, CHECK_IN_PATH, seconds)
                if server is app
                else load.check_in(server, FLOOR_PATH, seconds)
            ),
            "release": lambda server, seconds: (
                load.release(server, seconds)
                if server is app
                else load.check_in(server, FLOOR_PATH, seconds)
            ),
        }
        if args.warmup:
            for measure in measures.values():
                for server in (app, floor):
                    measure(server, args.warmup)
        samples = {name: {"app": [], "floor": []} for name in measures}
        started = time.monotonic()
        for round_no in range(args.rounds):
            for name, measure in measures.items():
                # Alternate which goes first, so a drift in the machine's load hits both alike.
                order = (("app", app), ("floor", floor))
                if round_no % 2:
                    order = order[::-1]
                for side, server in order:
                    sample = measure(server, args.duration)
                    samples[name][side].append(sample)
                    log(
                        f"round {round_no + 1}/{args.rounds} {name:<8} {side:<5} "
                        f"{sample.rps:9.1f} /s  p50 {sample.p50_ms:7.2f} ms  "
                        f"p99 {sample.p99_ms:7.2f} ms"
                    )
        measured_s = round(time.monotonic() - started, 1)
        for server in servers:
            if server.process is None or server.process.poll() is not None:
                raise BenchError(f"{server.target} died during the load; see {server.log_path}")
        for server in servers:  # the checks and the profile get the machine to themselves
            server.stop()
        # What bench/gate_profile.py --var-dir needs to go on where the load stopped.
        state = {
            "env": {
                k: v
                for k, v in env.items()
                if k
                in {
                    "HUXIAO_VAR_DIR",
                    "HUXIAO_DEBUG",
                    "HUXIAO_ENV",
                    "HUXIAO_RATE_DEVICE",
                    "HUXIAO_RATE_LOGIN",
                    "DATABASE_URL",
                }
            },
            "token": seed["token"],
            "host_id": seed["host_id"],
            "codes_file": str(codes_file),
            "next_person": load.next_person,
            "next_code": load.next_code,
        }
        (var_dir / "bench-env.json").write_text(json.dumps(state, indent=1))
        left = json.loads(run_python(["-m", "bench.gate_seed", "check"], env, "check"))
        if left["screening_hits"] or any(k.startswith("hold/") for k in left["visits"]):
            raise BenchError(f"a benchmark visitor was held: {left}")
        if left["id_numbers_wrong"] or not left["id_numbers_checked"]:
            raise BenchError(f"gate.lua's ID numbers are not visitor_id_number's: {left}")
        if left["refusals"] != 2:  # the two second releases of verify()
            raise BenchError(f"the load saw refused pick-ups: {left}")

        in_process = {}
        if args.profile:
            log("measuring CPU and queries per request in-process (bench/gate_profile.py)")
            command = ["-m", "bench.gate_profile", "--var-dir", str(var_dir)]
            in_process = json.loads(run_python(command, env, "profile"))["per_request"]

        results = {}
        for name, path in (("check_in", CHECK_IN_PATH), ("release", f"{LOOKUP_PATH} + release")):
            real, bare = summarize(samples[name]["app"]), summarize(samples[name]["floor"])
            ratio = real["rps_median"] / bare["rps_median"]
            paired = statistics.median(
                a.rps / f.rps
                for a, f in zip(samples[name]["app"], samples[name]["floor"], strict=True)
            )
            results[name] = {
                "path": path,
                "unit": "check-ins/s" if name == "check_in" else "releases/s (2 requests each)",
                "app": real,
                "floor": bare,
                "ratio": round(ratio, 3),
                "ratio_paired_median": round(paired, 3),
                "target": TARGET,
                "pass": ratio >= TARGET,
            }
        import django
        import granian

        if in_process:
            results["check_in"]["in_process"] = {
                "app": in_process["check_in"],
                "floor": in_process["floor"],
            }
            results["release"]["in_process"] = {
                "app_lookup": in_process["lookup"],
                "app_release": in_process["release"],
                "floor": in_process["floor"],
            }
        document = {
            "benchmark": "gate",
            "database": database,
            "smoke": args.smoke,
            "rounds": args.rounds,
            "duration_s": args.duration,
            "load": {
                "tool": "wrk",
                "script": "bench/gate.lua",
                "threads": args.connections,
                "connections": args.connections,
                "warmup_s": args.warmup,
                "latency": "per request (for release: a lookup or a release)",
            },
            "server": {
                "granian": granian.__version__,
                "interface": "wsgi",
                "workers": args.workers,
                "blocking_threads": args.blocking_threads,
            },
            "machine": {
                "cpus": os.cpu_count(),
                "load_avg": [round(x, 2) for x in os.getloadavg()],
                "python": platform.python_version(),
                "django": django.get_version(),
            },
            "data": {
                "register_persons": seed["register"]["persons"],
                "register_active": seed["register"]["active"],
                "children_with_codes": seed["codes"],
                "classes": seed["classes"],
            },
            "check": {"before": checks, "after": left},
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
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n")
    for name, result in results.items():
        log(
            f"{name}: app {result['app']['rps_median']} vs floor "
            f"{result['floor']['rps_median']} /s = {result['ratio']:.0%} of the floor "
            f"(target {TARGET:.0%}) {'PASS' if result['pass'] else 'MISS'}; "
            f"p50 {result['app']['p50_ms']} ms, p99 {result['app']['p99_ms']} ms "
            f"(floor {result['floor']['p50_ms']} / {result['floor']['p99_ms']} ms)"
        )
    if args.strict and not document["pass"]:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
