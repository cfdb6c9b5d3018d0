"""A burst of alarms from several boxes while one part of the stack dies (issue 11, item 5).

test_sigkill_alarms.py kills the WSGI server in embedded mode; here, in turn: the ASGI
server (consoles' sockets), the task worker (escalations), the MQTT bridge (boxes that speak
MQTT), Redis in scale mode (a private redis-server, restarted empty), one of two WSGI
servers in scale mode (PostgreSQL + Redis) and PostgreSQL (a private cluster, shut down
immediately — a crash — and started again). In every case:

- every alarm acknowledged to its box (HTTP 2xx, or an MQTT ack with ok) is in the
  database exactly once, with one raised event, and retries of the unanswered ones (same
  Idempotency-Key / message_id) never make a second alarm;
- a police console gets each of them after the recovery — by its live socket, reconnecting
  with {"since": last id} as the page does, or over HTTP catch-up — and no raised event
  twice.

Each case keeps its burst short (a few seconds of pressing around the fault).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from bench.alarm_servers import GranianASGI
from tests.faults.conftest import (
    _backends,
    build_stack,
    pg_bin_dir,
    stack_unavailable,
    start_server,
)
from tests.faults.machinery import (
    KINDS,
    Console,
    HttpBurst,
    PrivatePostgres,
    PrivateRedis,
    assert_persisted_once,
    http_catch_up,
    manage_py,
    sigkill_group,
)

pytestmark = pytest.mark.faults

BEFORE = 25  # alarms answered 2xx before the fault: the burst is under way
AFTER = 15  # and after the recovery: the stack is working again
BURST_TIMEOUT_S = 40.0
DELIVERY_TIMEOUT_S = 20.0


def _asgi(stack) -> GranianASGI:
    return GranianASGI(
        "config.asgi:application", env=stack.env, log_path=stack.var_dir / "granian.log"
    )


def _report(name: str, **figures) -> None:
    print(json.dumps({"case": name, **figures}))  # shown with -s / -rA


def _assert_console_got_all(console: Console, alarm_ids: set[int], timeout_s: float) -> None:
    """Each alarm came to the console once: as a raised frame, or (raised events that a
    reconnect's `since` skipped, ADR 0011) in the open list of its latest sync."""

    def delivered() -> bool:
        return alarm_ids <= set(console.raised()) | console.open_ids()

    console.wait_for(delivered, timeout_s)
    raised = console.raised()
    duplicated = sorted({a for a in raised if raised.count(a) > 1})
    assert not duplicated, f"alarms shown to the console as raised twice: {duplicated}"
    missing = sorted(alarm_ids - set(raised) - console.open_ids())
    assert not missing, f"acknowledged alarms the console never got: {missing}"
    _report(
        "console",
        connections=console.connections,
        raised_frames=len(raised),
        only_in_open_list=len(alarm_ids - set(raised)),
        redelivered_dropped=console.redelivered,
    )


def _assert_http_console_got_all(base_url: str, police_token: str, alarm_ids: set[int]) -> None:
    events, open_alarms = http_catch_up(base_url, police_token)
    raised = [e["alarm"]["id"] for e in events if e["type"] == "alarm.raised"]
    assert len(raised) == len(set(raised)), "a raised event was shown twice"
    assert alarm_ids <= set(raised), sorted(alarm_ids - set(raised))
    assert alarm_ids <= {a["id"] for a in open_alarms}


def _http_case(stack, burst: HttpBurst, fault, *, name: str) -> dict[str, int]:
    """Run the burst around `fault()` (which returns once the part is back); retry what
    failed; check persistence. Returns key → alarm id."""
    started = time.monotonic()
    burst.start()
    try:
        burst.wait_for_ok(BEFORE, BURST_TIMEOUT_S)
        fault_started = time.monotonic()
        fault()
        recovered = time.monotonic()
        ok_at_recovery = burst.ok_count
        burst.wait_for_ok(ok_at_recovery + AFTER, BURST_TIMEOUT_S)
    finally:
        burst.stop()
    failed_statuses = sorted({a.status for a in burst.attempts if a.status and not a.ok})
    retried = burst.retry_failed()
    unanswered = [a.key for a in retried if not a.ok]
    assert not unanswered, f"retries still failing after the recovery: {unanswered[:5]}"
    by_key = assert_persisted_once(stack.dump(), {a.key: a.alarm_id for a in burst.attempts})
    assert sorted(by_key) == sorted(a.key for a in burst.attempts), "alarms without a request"
    _report(
        name,
        backend="postgres" if stack.database_url else "sqlite",
        requests=len(burst.attempts),
        failed_then_retried=len(retried),
        # Committed before the fault but never answered: the retry got the alarm back.
        retried_answered_200=sum(a.status == 200 for a in retried),
        failed_statuses=failed_statuses,
        fault_to_recovery_s=round(recovered - fault_started, 2),
        case_s=round(time.monotonic() - started, 1),
    )
    return by_key


# ------------------------------------------------------------------ ASGI


def test_asgi_killed_during_a_burst_console_reconnects_and_misses_nothing(stack):
    wsgi = start_server(stack)
    asgi = start_server(stack, _asgi(stack))
    console = Console(asgi.ws_url, asgi.base_url, stack.seed["police_token"])
    try:
        console.start()
        burst = HttpBurst(wsgi.base_url, stack.seed["device_tokens"], pause_s=0.02)

        def fault():
            process, asgi.process = asgi.process, None
            sigkill_group(process)
            time.sleep(1.0)  # the consoles are cut off while alarms keep coming
            asgi.start(timeout_s=30)

        by_key = _http_case(stack, burst, fault, name="asgi")
        _assert_console_got_all(console, set(by_key.values()), DELIVERY_TIMEOUT_S)
        assert console.connections >= 2, "the console never noticed the kill"
    finally:
        console.stop()
        asgi.stop()
        wsgi.stop()


# ------------------------------------------------------------------ task worker


def test_task_worker_killed_during_a_burst_every_alarm_escalates_once(stack):
    # Escalate 2 s after the raise, never again within the test: each alarm must get
    # exactly one escalation although the worker holding its scheduled check was killed.
    stack.env.update(
        {
            "HUXIAO_ALARM_ESCALATE_AFTER_SECONDS": "2",
            "HUXIAO_ALARM_ESCALATE_REPEAT_SECONDS": "3600",
        }
    )
    wsgi = start_server(stack)
    worker = manage_py(stack.env, stack.var_dir / "huey.log", "run_huey")
    try:
        worker.start()
        burst = HttpBurst(wsgi.base_url, stack.seed["device_tokens"], pause_s=0.05)

        def fault():
            time.sleep(2.5)  # let the first checks come due and run
            worker.sigkill()
            time.sleep(1.5)  # alarms raised meanwhile: their checks wait in the queue
            worker.start()

        by_key = _http_case(stack, burst, fault, name="huey_worker")
        alarm_ids = set(by_key.values())
        deadline = time.monotonic() + 45
        while True:
            escalations: dict[int, list[int]] = {}
            for event in stack.dump()["events"]:
                if event["type"] == "alarm.escalated":
                    escalations.setdefault(event["alarm_id"], []).append(event["data"]["level"])
            if set(escalations) >= alarm_ids or time.monotonic() > deadline:
                break
            time.sleep(1)
        missing = sorted(alarm_ids - set(escalations))
        assert not missing, f"alarms never escalated after the worker's restart: {missing}"
        twice = {pk: levels for pk, levels in escalations.items() if levels != [1]}
        assert not twice, f"alarms escalated more than once: {twice}"
        _assert_http_console_got_all(wsgi.base_url, stack.seed["police_token"], alarm_ids)
    finally:
        worker.stop()
        wsgi.stop()


# ------------------------------------------------------------------ MQTT bridge


class MqttBoxes:
    """Alarm boxes on MQTT: each publishes a press (QoS 1, a new message_id) and waits for
    its ack with ok; on silence it publishes the same message again (ADR 0012)."""

    ACK_WAIT_S = 2.0

    def __init__(self, device_ids: list[int], tokens: list[str]):
        self.boxes = list(zip(device_ids, tokens, strict=True))
        self.acked: dict[str, dict] = {}  # message_id → ack
        self.published: dict[str, int] = {}  # message_id → times sent
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    @property
    def ack_count(self) -> int:
        with self.lock:
            return len(self.acked)

    def start(self) -> None:
        for index, (device_id, token) in enumerate(self.boxes):
            thread = threading.Thread(target=self._box, args=(index, device_id, token), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _box(self, index: int, device_id: int, token: str) -> None:
        import paho.mqtt.client as mqtt

        acks: dict[str, dict] = {}
        arrived = threading.Condition()

        def on_message(client, userdata, message):
            try:
                ack = json.loads(message.payload)
            except ValueError:
                return
            # Other bridges on the shared broker answer our topics too (invalid_token):
            # only an ok ack for our message_id counts (as in huxiao/alarms/tests).
            if ack.get("ok") is True and ack.get("message_id"):
                with arrived:
                    acks[ack["message_id"]] = ack
                    arrived.notify_all()

        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"fault-box-{uuid.uuid4().hex[:12]}"
        )
        client.on_message = on_message
        client.connect("127.0.0.1", 1883)
        client.subscribe(f"huxiao/devices/{device_id}/ack", qos=1)
        client.loop_start()
        try:
            n = 0
            while not self.stopping.is_set():
                n += 1
                message_id = f"fault-{uuid.uuid4().hex}"
                payload = json.dumps(
                    {
                        "token": token,
                        "kind": KINDS[n % len(KINDS)],
                        "location": f"{index}号门",
                        "message_id": message_id,
                    }
                )
                # The last press is pressed until it is answered, even after stop().
                deadline = time.monotonic() + 40
                while message_id not in acks and time.monotonic() < deadline:
                    with self.lock:
                        self.published[message_id] = self.published.get(message_id, 0) + 1
                    client.publish(f"huxiao/devices/{device_id}/alarm", payload, qos=1)
                    with arrived:
                        arrived.wait_for(lambda m=message_id: m in acks, self.ACK_WAIT_S)
                if message_id in acks:
                    with self.lock:
                        self.acked[message_id] = acks[message_id]
        finally:
            client.loop_stop()
            client.disconnect()

    def wait_for_acks(self, count: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while self.ack_count < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {self.ack_count} MQTT alarms acked in {timeout_s}s")
            time.sleep(0.05)

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=45)


def _forget_mqtt_session(client_id: str) -> None:
    """The bridge's persistent session would queue every alarm topic on the shared broker
    forever: a clean connect with its client id discards it."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    try:
        client.connect("127.0.0.1", 1883)
        client.loop_start()
        time.sleep(0.3)
        client.disconnect()
        client.loop_stop()
    except OSError:
        pass


def test_mqtt_bridge_killed_during_a_burst_every_acked_alarm_once(stack):
    import socket

    try:
        socket.create_connection(("127.0.0.1", 1883), timeout=2).close()
    except OSError as exc:
        stack_unavailable(f"no MQTT broker on 127.0.0.1:1883: {exc}")
    client_id = f"huxiao-fault-bridge-{uuid.uuid4().hex[:10]}"
    stack.env.update(
        {"HUXIAO_MQTT_URL": "mqtt://127.0.0.1:1883", "HUXIAO_MQTT_CLIENT_ID": client_id}
    )
    wsgi = start_server(stack)
    bridge = manage_py(stack.env, stack.var_dir / "mqtt.log", "mqtt_bridge", ready_text="listening")
    boxes = MqttBoxes(stack.seed["device_ids"], stack.seed["device_tokens"])
    started = time.monotonic()
    try:
        bridge.start()
        boxes.start()
        boxes.wait_for_acks(BEFORE, BURST_TIMEOUT_S)
        bridge.sigkill()
        time.sleep(1.0)  # presses meanwhile: the broker queues them for the bridge's session
        bridge.start()
        boxes.wait_for_acks(boxes.ack_count + AFTER, BURST_TIMEOUT_S)
        boxes.stop()
        unanswered = sorted(set(boxes.published) - set(boxes.acked))
        assert not unanswered, f"presses never acknowledged: {unanswered[:5]}"
        acked = {mid: ack["alarm_id"] for mid, ack in boxes.acked.items()}
        by_key = assert_persisted_once(stack.dump(), acked)
        assert sorted(by_key) == sorted(boxes.published), "alarms without a press"
        _assert_http_console_got_all(wsgi.base_url, stack.seed["police_token"], set(acked.values()))
        _report(
            "mqtt_bridge",
            backend="postgres" if stack.database_url else "sqlite",
            presses=len(boxes.published),
            resent=sum(n - 1 for n in boxes.published.values()),
            replayed_acks=sum(not ack["created"] for ack in boxes.acked.values()),
            case_s=round(time.monotonic() - started, 1),
        )
    finally:
        boxes.stop()
        bridge.stop()
        wsgi.stop()
        _forget_mqtt_session(client_id)


# ------------------------------------------------------------------ Redis (scale mode)


@pytest.fixture
def scale_stack(tmp_path, migrated_templates):
    """Scale mode on a private Redis that the test may restart (never the shared one):
    PostgreSQL when DATABASE_URL names one, else SQLite."""
    if not shutil.which("redis-server"):
        stack_unavailable("redis-server is not installed")
    redis_dir = tmp_path / "redis"
    redis_dir.mkdir()
    redis = PrivateRedis(redis_dir)
    redis.start()
    try:
        with build_stack(
            tmp_path, migrated_templates, _backends()[-1], redis_url=redis.url
        ) as stack:
            stack.redis = redis
            yield stack
    finally:
        redis.stop()


def test_redis_restarted_during_a_burst_consoles_still_get_every_alarm(scale_stack):
    stack = scale_stack
    wsgi = start_server(stack)
    asgi = start_server(stack, _asgi(stack))
    worker = manage_py(stack.env, stack.var_dir / "huey.log", "run_huey")
    console = Console(asgi.ws_url, asgi.base_url, stack.seed["police_token"])
    try:
        worker.start()
        console.start()
        burst = HttpBurst(wsgi.base_url, stack.seed["device_tokens"], pause_s=0.02)

        def fault():
            stack.redis.sigkill()
            time.sleep(1.0)
            stack.redis.start()  # empty: group memberships, queued tasks and cache gone

        by_key = _http_case(stack, burst, fault, name="redis_restart")
        _assert_console_got_all(console, set(by_key.values()), DELIVERY_TIMEOUT_S)
        # And a console that stayed open hears the next alarm promptly, not after its
        # five-minute group refresh.
        response = httpx.post(
            wsgi.base_url + "/api/v1/alarms",
            json={"kind": "fire", "location": "操场", "note": "after the restart"},
            headers={
                "Authorization": f"Bearer {stack.seed['device_tokens'][0]}",
                "Idempotency-Key": uuid.uuid4().hex,
            },
            timeout=10,
        )
        assert response.status_code == 201, response.text
        new_id = response.json()["id"]
        assert console.wait_for(lambda: new_id in console.raised(), 10), (
            "an alarm after the Redis restart did not reach the open console"
        )
    finally:
        console.stop()
        worker.stop()
        asgi.stop()
        wsgi.stop()


@pytest.mark.skipif(
    "postgres" not in _backends(),
    reason="scale mode is PostgreSQL + Redis: runs when DATABASE_URL names a PostgreSQL server",
)
def test_wsgi_killed_in_scale_mode_the_other_serves_and_no_alarm_is_lost(scale_stack):
    """Two WSGI servers (as nginx balances them, deploy/) and a console on the ASGI
    server's socket; one WSGI server is killed mid-burst and started again on its port.
    Its pushes go through Redis and the console's socket never drops: an alarm committed
    just before the kill must still reach it."""
    stack = scale_stack
    killed, survivor = start_server(stack), start_server(stack)
    asgi = start_server(stack, _asgi(stack))
    console = Console(asgi.ws_url, asgi.base_url, stack.seed["police_token"])
    try:
        console.start()
        burst = HttpBurst(
            killed.base_url,
            stack.seed["device_tokens"],
            pause_s=0.02,
            also_on=(survivor.base_url,),
        )
        during_outage = {}

        def fault():
            answered = burst.answered_by(survivor.base_url)
            process, killed.process = killed.process, None
            sigkill_group(process)
            time.sleep(1.0)
            during_outage["survivor"] = burst.answered_by(survivor.base_url) - answered
            killed.start(timeout_s=30)

        by_key = _http_case(stack, burst, fault, name="wsgi_scale")
        cut_off = [a for a in burst.attempts if a.error and a.server == killed.base_url]
        assert cut_off, "no request failed: the kill did not happen during the burst"
        assert during_outage["survivor"] > 0, "the other WSGI server stopped answering too"
        troubled = [a.error for a in burst.attempts if a.error and a.server == survivor.base_url]
        assert not troubled, f"requests to the other WSGI server failed: {troubled[:3]}"
        _assert_console_got_all(console, set(by_key.values()), DELIVERY_TIMEOUT_S)
        _report(
            "wsgi_scale_outage",
            cut_off=len(cut_off),
            # Sent before the kill, their connection died with the server.
            cut_in_flight=sum(not a.error.startswith("ConnectError") for a in cut_off),
            survivor_answered_2xx=during_outage["survivor"],
        )
    finally:
        console.stop()
        asgi.stop()
        survivor.stop()
        killed.stop()


# ------------------------------------------------------------------ PostgreSQL


@pytest.fixture
def private_pg_stack(tmp_path, migrated_templates):
    """Embedded mode on a PostgreSQL cluster of the test's own, which it may crash."""
    if "postgres" not in _backends():
        pytest.skip("the PostgreSQL cases run when DATABASE_URL names a PostgreSQL server")
    # Not under tmp_path: pytest makes that 0700 for root, and the cluster runs as postgres.
    cluster_dir = Path(tempfile.mkdtemp(prefix="huxiao-faults-pg-"))
    cluster = PrivatePostgres(cluster_dir, pg_bin_dir())
    try:
        cluster.init()
        cluster.start()
    except (AssertionError, OSError) as exc:
        cluster.stop()
        stack_unavailable(f"could not start a private PostgreSQL cluster: {exc}")
    try:
        url = cluster.create_database("huxiao_faults")
        with build_stack(tmp_path, migrated_templates, "postgres", database_url=url) as stack:
            stack.cluster = cluster
            yield stack
    finally:
        cluster.stop()
        shutil.rmtree(cluster_dir, ignore_errors=True)


def test_postgres_crashed_during_a_burst_loses_and_duplicates_nothing(private_pg_stack):
    stack = private_pg_stack
    wsgi = start_server(stack)
    try:
        burst = HttpBurst(wsgi.base_url, stack.seed["device_tokens"], pause_s=0.02)

        def fault():
            stack.cluster.crash()
            time.sleep(1.0)
            stack.cluster.start()

        by_key = _http_case(stack, burst, fault, name="postgres_crash")
        during = [a for a in burst.attempts if a.status is not None and a.status >= 500]
        assert {a.status for a in during} <= {503}, (
            "a database outage must answer 503 (retry), not a server error: "
            f"{sorted({a.status for a in during})}"
        )
        _assert_http_console_got_all(
            wsgi.base_url, stack.seed["police_token"], set(by_key.values())
        )
    finally:
        wsgi.stop()
