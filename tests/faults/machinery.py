"""What the fault tests start, kill and drive: the stack's other processes (task worker,
MQTT bridge), private Redis and PostgreSQL servers that a test may restart, a burst of
alarms from several boxes (HTTP or MQTT) and a police console that follows the socket and
reconnects like the real one.

Never the shared services: the Redis and PostgreSQL a test restarts are its own, on ports of
their own, in its temporary directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.servers import ROOT, free_port

KINDS = ("intrusion", "violence", "medical", "fire", "suspicious", "fight", "other")


def sigkill_group(process: subprocess.Popen) -> None:
    """SIGKILL a process started in its own session, and everything in its group, at once."""
    assert process.poll() is None, "the process died before the kill"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


class ManagedProcess:
    """A long-running command in its own process group (like bench.servers.GranianWSGI)."""

    def __init__(self, command: list[str], *, env: dict, log_path: Path, ready_text: str = ""):
        self.command = command
        self.env = env
        self.log_path = log_path
        self.ready_text = ready_text
        self.process: subprocess.Popen | None = None

    def start(self, timeout_s: float = 60.0) -> None:
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own commands
                self.command,
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout_s
        while self.ready_text:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.command} exited: {self.log_tail()}")
            with open(self.log_path, "rb") as log:
                log.seek(offset)
                if self.ready_text.encode() in log.read():
                    return
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.command} not ready in {timeout_s}s: {self.log_tail()}")
            time.sleep(0.2)

    def sigkill(self) -> None:
        process, self.process = self.process, None
        assert process is not None
        sigkill_group(process)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

    def log_tail(self) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return self.log_path.read_text(errors="replace")[-3000:]


def manage_py(env: dict, log_path: Path, *args: str, ready_text: str = "") -> ManagedProcess:
    import sys

    return ManagedProcess(
        [sys.executable, "manage.py", *args], env=env, log_path=log_path, ready_text=ready_text
    )


# ------------------------------------------------------------------ private services


class PrivateRedis:
    """A redis-server of the test's own on a free port, without persistence (as the CI's
    and a default package's): a restart loses every key, which is the point."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        self.process = subprocess.Popen(  # noqa: S603
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.1)
            finally:
                client.close()

    def sigkill(self) -> None:
        process, self.process = self.process, None
        assert process is not None
        sigkill_group(process)

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                self.sigkill()


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own (initdb in a temporary directory, a free
    port, trust on 127.0.0.1), run as the postgres system user when the test runs as root
    (initdb refuses root)."""

    def __init__(self, directory: Path, bin_dir: Path):
        self.directory = directory
        self.bin_dir = bin_dir
        self.data = directory / "data"
        self.port = free_port()
        self.log = directory / "postgres.log"

    def _run(self, *args: str, timeout: float = 120) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(  # noqa: S603
            command, capture_output=True, text=True, timeout=timeout, cwd=self.directory
        )
        if done.returncode != 0:
            raise AssertionError(f"{args[0]} failed: {done.stdout}\n{done.stderr}")

    def init(self) -> None:
        if os.geteuid() == 0:
            import pwd

            entry = pwd.getpwnam("postgres")
            os.chown(self.directory, entry.pw_uid, entry.pw_gid)
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync", "-E",
            "UTF8", "--locale=C.UTF-8",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.directory}"
            " -c fsync=off -c max_connections=60"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start")

    def crash(self) -> None:
        """Immediate shutdown: every backend killed, no checkpoint, recovery on start."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=30)

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def create_database(self, name: str) -> str:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)


# ------------------------------------------------------------------ the HTTP burst


@dataclass
class Attempt:
    token: str
    key: str
    body: dict
    server: str = ""  # the base URL it was sent to
    status: int | None = None
    alarm_id: int | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post_alarm(client: httpx.Client, base_url: str, attempt: Attempt) -> None:
    response = client.post(
        base_url + "/api/v1/alarms",
        json=attempt.body,
        headers={"Authorization": f"Bearer {attempt.token}", "Idempotency-Key": attempt.key},
    )
    attempt.status = response.status_code
    attempt.alarm_id = response.json().get("id") if attempt.ok else None


@dataclass
class HttpBurst:
    """Alarm boxes pressing over HTTP from one thread each, until stopped. With servers
    `also_on` (more WSGI servers of the stack, as a balancer spreads them), box i presses
    on server i mod n, `base_url` first."""

    base_url: str
    tokens: list[str]
    pause_s: float = 0.0
    also_on: tuple[str, ...] = ()
    attempts: list[Attempt] = field(default_factory=list)

    def __post_init__(self):
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    @property
    def ok_count(self) -> int:
        with self.lock:
            return sum(a.ok for a in self.attempts)

    def answered_by(self, server: str) -> int:
        """2xx answers so far from one server."""
        with self.lock:
            return sum(a.ok and a.server == server for a in self.attempts)

    def start(self) -> None:
        for index, token in enumerate(self.tokens):
            thread = threading.Thread(target=self._box, args=(index, token), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _box(self, index: int, token: str) -> None:
        servers = (self.base_url, *self.also_on)
        with httpx.Client(timeout=10) as client:
            n = 0
            while not self.stopping.is_set():
                n += 1
                attempt = Attempt(
                    token=token,
                    key=f"box{index}-{n}-{uuid.uuid4().hex[:8]}",
                    server=servers[index % len(servers)],
                    body={
                        "kind": KINDS[n % len(KINDS)],
                        "location": f"{index}号门",
                        "note": f"故障测试 {index}/{n}",
                        "drill": False,
                    },
                )
                try:
                    post_alarm(client, attempt.server, attempt)
                except httpx.HTTPError as exc:
                    attempt.error = f"{type(exc).__name__}: {exc}"
                    time.sleep(0.05)
                with self.lock:
                    self.attempts.append(attempt)
                if self.pause_s:
                    time.sleep(self.pause_s)

    def wait_for_ok(self, count: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while self.ok_count < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {self.ok_count} alarms answered 2xx in {timeout_s}s")
            time.sleep(0.05)

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=15)

    def retry_failed(self, timeout_s: float = 30) -> list[Attempt]:
        """Send every failed request again, same key and body, to the same server, until
        it is answered 2xx (a box that got no answer keeps pressing). Returns those
        retried."""
        failed = [a for a in self.attempts if not a.ok]
        deadline = time.monotonic() + timeout_s
        with httpx.Client(timeout=10) as client:
            for attempt in failed:
                while True:
                    try:
                        post_alarm(client, attempt.server, attempt)
                    except httpx.HTTPError as exc:
                        attempt.error = f"{type(exc).__name__}: {exc}"
                    if attempt.ok or time.monotonic() > deadline:
                        break
                    time.sleep(0.2)
        return failed


# ------------------------------------------------------------------ the console


class Console:
    """A police console on the socket, as the page runs it: authenticate with the token,
    follow pushes, and after a lost connection reconnect and send {"since": last id}.
    Records every frame of every connection."""

    def __init__(self, ws_url: str, origin: str, token: str):
        self.ws_url = ws_url
        self.origin = origin
        self.token = token
        self.frames: list[dict] = []
        self.syncs: list[dict] = []
        self.connections = 0
        self.last_event_id = 0
        self.seen: set[int] = set()
        self.redelivered = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self, timeout_s: float = 30) -> None:
        self.thread.start()
        if not self.ready.wait(timeout_s):
            raise AssertionError("the console could not connect")

    def _run(self) -> None:
        from websockets.exceptions import WebSocketException
        from websockets.sync.client import connect

        while not self.stopping.is_set():
            try:
                with connect(
                    self.ws_url + "/ws/console/", origin=self.origin, open_timeout=5,
                    close_timeout=1,
                ) as ws:  # fmt: skip
                    ws.send(json.dumps({"token": self.token}))
                    while json.loads(ws.recv(timeout=10)).get("type") != "ready":
                        pass
                    self.connections += 1
                    ws.send(json.dumps({"since": self.last_event_id}))
                    self.ready.set()
                    while not self.stopping.is_set():
                        try:
                            frame = json.loads(ws.recv(timeout=0.5))
                        except TimeoutError:
                            continue
                        self._record(frame)
            except (OSError, TimeoutError, WebSocketException, ValueError):
                time.sleep(0.3)  # the page waits a moment before reconnecting

    def _record(self, frame: dict) -> None:
        # As console.js: a sync moves the last id on; a frame whose event_id was handled
        # already is dropped (the server may send one twice around a catch-up, documented
        # in alarms/consumers.py) and only counted.
        with self.lock:
            if frame.get("type") == "sync":
                self.syncs.append(frame)
                self.last_event_id = max(self.last_event_id, frame.get("last_event_id") or 0)
            elif isinstance(frame.get("event_id"), int):
                self.last_event_id = max(self.last_event_id, frame["event_id"])
                if frame["event_id"] in self.seen:
                    self.redelivered += 1
                    return
                self.seen.add(frame["event_id"])
                self.frames.append(frame)

    def raised(self) -> list[int]:
        """Alarm ids of every alarm.raised event handled (one per event_id); an alarm twice
        here had two raised events."""
        with self.lock:
            return [f["alarm"]["id"] for f in self.frames if f.get("type") == "alarm.raised"]

    def open_ids(self) -> set[int]:
        with self.lock:
            return {alarm["id"] for alarm in self.syncs[-1]["open"]} if self.syncs else set()

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.2)
        return predicate()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)


def http_catch_up(base_url: str, police_token: str) -> tuple[list[dict], list[dict]]:
    """A console catching up over HTTP: every event since 0 (paged) and the open alarms."""
    events: list[dict] = []
    since = 0
    with httpx.Client(timeout=30) as client:
        while True:
            response = client.get(
                base_url + "/api/v1/alarms/events",
                params={"since": since},
                headers={"Authorization": f"Bearer {police_token}"},
            )
            assert response.status_code == 200, response.text
            page = response.json()
            if not page["events"]:
                return events, page["open"]
            events.extend(page["events"])
            since = page["events"][-1]["event_id"]


# ------------------------------------------------------------------ the verdict


def assert_persisted_once(dump: dict, acknowledged: dict[str, int | None]) -> dict[str, int]:
    """Every acknowledged key (→ the alarm id the box was told, if any) is one alarm with
    one raised event; no key has two alarms. Returns key → alarm id."""
    keys = [row["key"] for row in dump["alarms"]]
    assert len(keys) == len(set(keys)), "an idempotency key has two alarms"
    by_key = {row["key"]: row["id"] for row in dump["alarms"]}
    missing = sorted(set(acknowledged) - set(by_key))
    assert not missing, f"alarms acknowledged to the box but not in the database: {missing}"
    wrong = {k: (v, by_key[k]) for k, v in acknowledged.items() if v and by_key[k] != v}
    assert not wrong, f"the box was told another alarm id: {wrong}"
    raised: dict[int, int] = {}
    for event in dump["events"]:
        if event["type"] == "alarm.raised":
            raised[event["alarm_id"]] = raised.get(event["alarm_id"], 0) + 1
    assert set(raised) == set(by_key.values()), "an alarm without its raised event"
    assert set(raised.values()) == {1}, "an alarm raised twice in its timeline"
    return by_key
