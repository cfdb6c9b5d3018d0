"""SIGKILL the HTTP server during a burst of alarms (issue 3, "Bad input and faults").

A real stack in subprocesses: granian WSGI serving config.wsgi against a file database of its
own (SQLite in a temporary var dir; also PostgreSQL when DATABASE_URL points at postgres).
Several alarm boxes (device tokens) fire alarms with unique Idempotency-Keys from threads;
the server's whole process group is killed with SIGKILL in the middle of the burst, then
started again. Then:

- every alarm whose request got a 2xx is in the database, with its "alarm.raised" event;
- a police console catching up is shown each of them, both ways a console does it: over HTTP
  (`GET /api/v1/alarms/events?since=0`, paged) and over its socket (granian ASGI serving
  ws/console/: `{"token"}`, then `{"since": 0}` → the events, then `sync` with the open
  alarms), and each is among the open alarms;
- retrying every request that failed (connection error or non-2xx), with the same key and
  body, yields exactly one alarm per key: a request that committed before the kill but lost
  its response gets the same alarm back (200), never a second one.

The same kill in scale mode (PostgreSQL + Redis, two WSGI servers, a console on its live
socket) is a case of test_burst_faults.py.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import replace

import httpx
import pytest

from bench.alarm_servers import GranianASGI
from bench.servers import GranianWSGI
from tests.faults.conftest import start_server
from tests.faults.machinery import KINDS, Attempt, http_catch_up, post_alarm, sigkill_group

pytestmark = pytest.mark.faults

KILL_AFTER = 40  # 2xx answers before the kill: the burst is well under way
AFTER_KILL_S = 0.3  # the boxes keep pressing for a moment against the dead server
BURST_TIMEOUT_S = 25.0


# ------------------------------------------------------------------ the burst


def _burst(server: GranianWSGI, tokens: list[str]) -> list[Attempt]:
    """Fire alarms from one thread per box until well after the server was killed."""
    attempts: list[Attempt] = []
    lock = threading.Lock()
    ok_count = 0
    kill_now, stop = threading.Event(), threading.Event()
    base_url = server.base_url

    def box(index: int, token: str):
        nonlocal ok_count
        with httpx.Client(timeout=10) as client:
            n = 0
            while not stop.is_set():
                n += 1
                attempt = Attempt(
                    token=token,
                    key=f"box{index}-{n}-{uuid.uuid4().hex[:8]}",
                    body={
                        "kind": KINDS[n % len(KINDS)],
                        "location": f"{index}号门",
                        "note": f"故障测试 {index}/{n}",
                        "drill": n % 5 == 0,
                    },
                )
                try:
                    post_alarm(client, base_url, attempt)
                except httpx.HTTPError as exc:
                    attempt.error = f"{type(exc).__name__}: {exc}"
                    time.sleep(0.05)  # a box that cannot connect tries again shortly
                with lock:
                    attempts.append(attempt)
                    if attempt.ok:
                        ok_count += 1
                        if ok_count >= KILL_AFTER:
                            kill_now.set()

    threads = [
        threading.Thread(target=box, args=(i, token), daemon=True) for i, token in enumerate(tokens)
    ]
    for thread in threads:
        thread.start()
    try:
        if not kill_now.wait(BURST_TIMEOUT_S):
            raise AssertionError(f"only {ok_count} alarms answered 2xx in {BURST_TIMEOUT_S}s")
        # The whole process group (granian's main process and its workers) at once.
        process, server.process = server.process, None
        sigkill_group(process)
        time.sleep(AFTER_KILL_S)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
    return attempts


def _socket_catch_up(asgi: GranianASGI, police_token: str) -> tuple[list[dict], dict]:
    """The same over the console socket: token, {"since": 0}, events until the sync."""
    from websockets.sync.client import connect

    events: list[dict] = []
    with connect(
        asgi.ws_url + "/ws/console/", origin=asgi.base_url, open_timeout=20, close_timeout=2
    ) as ws:
        ws.send(json.dumps({"token": police_token}))
        while (frame := json.loads(ws.recv(timeout=20))).get("type") != "ready":
            pass
        ws.send(json.dumps({"since": 0}))
        while True:
            frame = json.loads(ws.recv(timeout=30))
            if frame.get("type") == "sync":
                return events, frame
            if "event_id" in frame:
                events.append(frame)


# ------------------------------------------------------------------ the test


def test_sigkill_during_a_burst_loses_and_duplicates_no_alarm(stack):
    tokens = stack.seed["device_tokens"]
    server = start_server(stack)
    try:
        attempts = _burst(server, tokens)
    finally:
        server.stop()  # no-op after the kill; stops it if the burst failed first

    succeeded = [a for a in attempts if a.ok]
    failed = [a for a in attempts if not a.ok]
    assert len(succeeded) >= KILL_AFTER
    assert failed, "no request failed: the kill did not happen during the burst"
    unexpected = [a for a in failed if a.status is not None]
    assert not unexpected, f"non-2xx answers before the kill: {[(a.status) for a in unexpected]}"
    assert len({a.key for a in attempts}) == len(attempts)

    server = start_server(stack)  # the restart, on the same database
    asgi = GranianASGI(
        "config.asgi:application", env=stack.env, log_path=stack.var_dir / "granian.log"
    )
    try:
        # 1. Every 2xx alarm is in the database, once, under its key, with its raised event.
        state = stack.dump()
        by_id = {row["id"]: row for row in state["alarms"]}
        raised = {e["alarm_id"] for e in state["events"] if e["type"] == "alarm.raised"}
        missing = [a.alarm_id for a in succeeded if a.alarm_id not in by_id]
        assert not missing, f"alarms answered 2xx but missing after the restart: {missing}"
        for attempt in succeeded:
            assert by_id[attempt.alarm_id]["key"] == attempt.key
            assert attempt.alarm_id in raised

        # 2. A reconnecting console is shown each of them (events since 0, open alarms).
        events, open_alarms = http_catch_up(server.base_url, stack.seed["police_token"])
        seen = [e["alarm"]["id"] for e in events if e["type"] == "alarm.raised"]
        assert len(seen) == len(set(seen)), "a raised event was shown twice"
        not_shown = {a.alarm_id for a in succeeded} - set(seen)
        assert not not_shown, f"2xx alarms not shown to a reconnecting console: {not_shown}"
        event_ids = [e["event_id"] for e in events]
        assert event_ids == sorted(event_ids)
        not_open = {a.alarm_id for a in succeeded} - {alarm["id"] for alarm in open_alarms}
        assert not not_open, f"2xx alarms missing from the open list: {not_open}"
        start_server(stack, asgi)
        socket_events, sync = _socket_catch_up(asgi, stack.seed["police_token"])
        on_socket = {e["alarm"]["id"] for e in socket_events if e["type"] == "alarm.raised"}
        not_pushed = {a.alarm_id for a in succeeded} - on_socket
        assert not not_pushed, f"2xx alarms not sent to a reconnecting socket: {not_pushed}"
        not_open = {a.alarm_id for a in succeeded} - {alarm["id"] for alarm in sync["open"]}
        assert not not_open, f"2xx alarms missing from the socket's sync: {not_open}"
        assert sync["last_event_id"] >= max(e["event_id"] for e in socket_events)

        # 3. Retrying the failed requests with the same keys never makes a second alarm;
        #    replaying some that succeeded gives back the same alarm.
        committed_without_answer = 0
        with httpx.Client(timeout=10) as client:
            for attempt in failed:
                post_alarm(client, server.base_url, attempt)
                assert attempt.status in (200, 201), (attempt.key, attempt.status)
                committed_without_answer += attempt.status == 200
            for attempt in succeeded[:: max(1, len(succeeded) // 10)]:
                replay = replace(attempt)
                post_alarm(client, server.base_url, replay)
                assert (replay.status, replay.alarm_id) == (200, attempt.alarm_id)
    finally:
        asgi.stop()
        server.stop()

    state = stack.dump()
    keys = [row["key"] for row in state["alarms"]]
    assert len(keys) == len(set(keys)), "an idempotency key has two alarms"
    assert sorted(keys) == sorted(a.key for a in attempts), "alarms without a request, or lost"
    by_key = {row["key"]: row["id"] for row in state["alarms"]}
    assert all(by_key[a.key] == a.alarm_id for a in attempts)
    raised_per_alarm: dict[int, int] = {}
    for event in state["events"]:
        if event["type"] == "alarm.raised":
            raised_per_alarm[event["alarm_id"]] = raised_per_alarm.get(event["alarm_id"], 0) + 1
    assert set(raised_per_alarm) == set(by_key.values())
    assert set(raised_per_alarm.values()) == {1}

    print(  # shown with -s / -rA: what the kill caught in flight
        json.dumps(
            {
                "backend": "postgres" if stack.database_url else "sqlite",
                "requests": len(attempts),
                "answered_2xx_before_kill": len(succeeded),
                "failed": len(failed),
                "committed_before_kill_without_answer": committed_without_answer,
                "alarms_after_retry": len(keys),
            }
        )
    )
