"""MQTT bridge: the protocol (handle_message) directly, then the bridge against the real
Mosquitto broker on 127.0.0.1:1883 (HUXIAO_TEST_MQTT_URL).

Where the broker does not answer, the broker tests say so plainly and skip; under CI
(CI=true) a missing broker is a failure, never a skip.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import paho.mqtt.client as mqtt
import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError

from huxiao.accounts.models import DeviceToken
from huxiao.accounts.services import device_token_issue
from huxiao.alarms import mqtt as bridge_module
from huxiao.alarms.choices import AlarmSource
from huxiao.alarms.models import Alarm, AlarmEvent
from huxiao.alarms.mqtt import (
    ErrorCode,
    MqttBridge,
    ack_topic,
    handle_message,
    parse_broker_url,
)
from huxiao.audit.models import AuditEvent
from huxiao.core.roles import Role
from huxiao.orgs.tests.factories import MembershipFactory, SchoolFactory

BROKER_URL = os.environ.get("HUXIAO_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
WAIT = 15  # seconds; generous for a loaded CI machine, never reached when things work


def _body(token, **fields) -> dict:
    body = {
        "token": token,
        "kind": "intrusion",
        "location": "东门",
        "note": "有人翻墙",
        "drill": False,
        "message_id": f"m-{uuid.uuid4()}",
    }
    body.update(fields)
    return body


def _payload(token, **fields) -> bytes:
    return json.dumps(_body(token, **fields), ensure_ascii=False).encode()


def _box(school, name="东门报警柱"):
    device, token = device_token_issue(actor=None, school=school, name=name, kind="alarm_box")
    return SimpleNamespace(
        device=device, token=token, topic=f"huxiao/devices/{device.pk}/alarm", pk=device.pk
    )


@pytest.fixture
def world(db):
    """Lighter than the shared `world`: two schools and a guard are all these tests need."""
    school = SchoolFactory(name="本园")
    guard = MembershipFactory(organization=school, role=Role.GUARD).user
    return SimpleNamespace(school=school, far_school=SchoolFactory(name="外校"), guard=guard)


@pytest.fixture
def box(world):
    return _box(world.school)


def _written() -> tuple[int, int, int]:
    return Alarm.objects.count(), AlarmEvent.objects.count(), AuditEvent.objects.count()


# --- handle_message: the happy path ---------------------------------------------------


def test_a_valid_message_raises_one_alarm_from_the_device(box, world):
    body = _body(box.token, drill=True)

    ack = handle_message(box.topic, json.dumps(body).encode())

    alarm = Alarm.objects.get()
    assert ack == {
        "message_id": body["message_id"],
        "ok": True,
        "alarm_id": alarm.pk,
        "created": True,
    }
    assert alarm.school == world.school
    assert alarm.source == AlarmSource.MQTT
    assert alarm.raised_by_device_id == box.pk
    assert (alarm.kind, alarm.location, alarm.note, alarm.is_drill) == (
        "intrusion",
        "东门",
        "有人翻墙",
        True,
    )
    assert alarm.idempotency_key == body["message_id"]


def test_optional_fields_may_be_left_out(box):
    payload = json.dumps({"token": box.token, "kind": "fire", "message_id": "boot-1"}).encode()

    ack = handle_message(box.topic, payload)

    assert ack["ok"] is True
    alarm = Alarm.objects.get()
    assert (alarm.kind, alarm.location, alarm.note, alarm.is_drill) == ("fire", "", "", False)


def test_a_redelivered_message_does_not_raise_a_second_alarm(box):
    payload = _payload(box.token)

    first = handle_message(box.topic, payload)
    again = handle_message(box.topic, payload)

    assert first["created"] is True
    assert again == {**first, "created": False}
    assert Alarm.objects.count() == 1


def test_the_same_message_id_from_another_device_is_another_alarm(box, world):
    other = _box(world.school, name="西门报警柱")
    body = _body(box.token)

    first = handle_message(box.topic, json.dumps(body).encode())
    second = handle_message(other.topic, json.dumps({**body, "token": other.token}).encode())

    assert first["ok"] and second["ok"]
    assert first["alarm_id"] != second["alarm_id"]


def test_the_same_message_id_with_a_different_body_is_a_conflict(box):
    body = _body(box.token)
    handle_message(box.topic, json.dumps(body).encode())
    before = _written()

    ack = handle_message(box.topic, json.dumps({**body, "kind": "fire"}).encode())

    assert ack["ok"] is False
    assert ack["error"] == ErrorCode.IDEMPOTENCY_CONFLICT
    assert ack["message_id"] == body["message_id"]
    assert _written() == before


# --- handle_message: bad input, each a clear error with nothing written ------------------


def _other_school_box(w):
    return _box(w.far_school, name="外镇报警柱")


BAD_MESSAGES = [
    # (case, topic(box), payload(box, world), expected error)
    ("not json", lambda b: b.topic, lambda b, w: b"{kind: fire", ErrorCode.MALFORMED_JSON),
    ("not utf-8", lambda b: b.topic, lambda b, w: b'{"kind": "\xff"}', ErrorCode.MALFORMED_JSON),
    ("empty", lambda b: b.topic, lambda b, w: b"", ErrorCode.MALFORMED_JSON),
    (
        "absurd nesting",
        lambda b: b.topic,
        lambda b, w: b"[" * 5000 + b"]" * 5000,
        ErrorCode.MALFORMED_JSON,
    ),
    (
        "too large",
        lambda b: b.topic,
        lambda b, w: _payload(b.token, note="x" * 20_000),
        ErrorCode.PAYLOAD_TOO_LARGE,
    ),
    ("array", lambda b: b.topic, lambda b, w: b"[]", ErrorCode.NOT_AN_OBJECT),
    ("number", lambda b: b.topic, lambda b, w: b"42", ErrorCode.NOT_AN_OBJECT),
    ("string", lambda b: b.topic, lambda b, w: b'"alarm"', ErrorCode.NOT_AN_OBJECT),
    ("null", lambda b: b.topic, lambda b, w: b"null", ErrorCode.NOT_AN_OBJECT),
    (
        "no token",
        lambda b: b.topic,
        lambda b, w: json.dumps({"kind": "fire", "message_id": "m"}).encode(),
        ErrorCode.INVALID_TOKEN,
    ),
    ("empty token", lambda b: b.topic, lambda b, w: _payload(""), ErrorCode.INVALID_TOKEN),
    ("token not a string", lambda b: b.topic, lambda b, w: _payload(12), ErrorCode.INVALID_TOKEN),
    (
        "unknown token",
        lambda b: b.topic,
        lambda b, w: _payload("hxd_" + "x" * 43),
        ErrorCode.INVALID_TOKEN,
    ),
    (
        "user token",
        lambda b: b.topic,
        lambda b, w: _payload(_user_token(w)),
        ErrorCode.INVALID_TOKEN,
    ),
    (
        "revoked token",
        lambda b: b.topic,
        lambda b, w: _revoke(b) or _payload(b.token),
        ErrorCode.INVALID_TOKEN,
    ),
    (
        "another device of the same school",
        lambda b: f"huxiao/devices/{b.pk}/alarm",
        lambda b, w: _payload(_box(w.school, name="西门报警柱").token),
        ErrorCode.DEVICE_MISMATCH,
    ),
    (
        "a device of another school",
        lambda b: f"huxiao/devices/{b.pk}/alarm",
        lambda b, w: _payload(_other_school_box(w).token),
        ErrorCode.DEVICE_MISMATCH,
    ),
    (
        "device id not a number",
        lambda b: "huxiao/devices/abc/alarm",
        lambda b, w: _payload(b.token),
        ErrorCode.INVALID_TOPIC,
    ),
    (
        "device id with leading zero",
        lambda b: f"huxiao/devices/0{b.pk}/alarm",
        lambda b, w: _payload(b.token),
        ErrorCode.INVALID_TOPIC,
    ),
    (
        "device id absurdly large",
        lambda b: "huxiao/devices/99999999999999999999999/alarm",
        lambda b, w: _payload(b.token),
        ErrorCode.INVALID_TOPIC,
    ),
    (
        "another topic",
        lambda b: f"huxiao/devices/{b.pk}/status",
        lambda b, w: _payload(b.token),
        ErrorCode.INVALID_TOPIC,
    ),
    (
        "unknown kind",
        lambda b: b.topic,
        lambda b, w: _payload(b.token, kind="earthquake"),
        ErrorCode.UNKNOWN_KIND,
    ),
    (
        "kind missing",
        lambda b: b.topic,
        lambda b, w: json.dumps({"token": b.token, "message_id": "m"}).encode(),
        ErrorCode.INVALID_FIELD,
    ),
    (
        "kind not a string",
        lambda b: b.topic,
        lambda b, w: _payload(b.token, kind=["fire"]),
        ErrorCode.INVALID_FIELD,
    ),
    (
        "location not a string",
        lambda b: b.topic,
        lambda b, w: _payload(b.token, location=7),
        ErrorCode.INVALID_FIELD,
    ),
    (
        "location null",
        lambda b: b.topic,
        lambda b, w: _payload(b.token, location=None),
        ErrorCode.INVALID_FIELD,
    ),
    (
        "location too long",
        lambda b: b.topic,
        lambda b, w: _payload(b.token, location="门" * 201),
        ErrorCode.INVALID_FIELD,
    ),
    (
        "note with control characters",
        lambda b: b.topic,
        lambda b, w: _payload(b.token, note="a\x00b"),
        ErrorCode.INVALID_FIELD,
    ),
    (
        "drill as a string",
        lambda b: b.topic,
        lambda b, w: _payload(b.token, drill="false"),
        ErrorCode.INVALID_FIELD,
    ),
    (
        "drill as a number",
        lambda b: b.topic,
        lambda b, w: _payload(b.token, drill=0),
        ErrorCode.INVALID_FIELD,
    ),
    (
        "message_id missing",
        lambda b: b.topic,
        lambda b, w: json.dumps({"token": b.token, "kind": "fire"}).encode(),
        ErrorCode.INVALID_FIELD,
    ),
    (
        "message_id blank",
        lambda b: b.topic,
        lambda b, w: _payload(b.token, message_id="  "),
        ErrorCode.INVALID_FIELD,
    ),
    (
        "message_id not a string",
        lambda b: b.topic,
        lambda b, w: _payload(b.token, message_id=17),
        ErrorCode.INVALID_FIELD,
    ),
    (
        "message_id too long",
        lambda b: b.topic,
        lambda b, w: _payload(b.token, message_id="m" * 201),
        ErrorCode.INVALID_FIELD,
    ),
    (
        "unknown field",
        lambda b: b.topic,
        lambda b, w: _payload(b.token, school_id=w.far_school.pk),
        ErrorCode.INVALID_FIELD,
    ),
]


def _user_token(world):
    from huxiao.accounts.services import api_token_issue

    return api_token_issue(user=world.guard)


def _revoke(box):
    DeviceToken.objects.filter(pk=box.pk).update(is_active=False)


@pytest.mark.parametrize(
    ("topic", "payload", "error"),
    [case[1:] for case in BAD_MESSAGES],
    ids=[case[0] for case in BAD_MESSAGES],
)
def test_bad_messages_get_a_clear_error_and_write_nothing(
    box, world, topic, payload, error, django_capture_on_commit_callbacks
):
    payload_bytes = payload(box, world)
    topic_name = topic(box)
    before = _written()

    with django_capture_on_commit_callbacks() as published:
        ack = handle_message(topic_name, payload_bytes)

    assert ack["ok"] is False
    assert ack["error"] == error
    assert ack["message"]
    assert "alarm_id" not in ack
    assert _written() == before
    assert published == []
    # The token is a secret: the ack (readable on the ack topic) never carries it.
    assert box.token not in json.dumps(ack)


def test_a_field_error_names_the_fields(box):
    ack = handle_message(box.topic, _payload(box.token, drill="yes", location=3, extra=1))

    assert ack["error"] == ErrorCode.INVALID_FIELD
    assert set(ack["errors"]) == {"drill", "location", "extra"}


def test_rejections_echo_the_message_id_so_the_device_can_match_them(box):
    ack = handle_message(box.topic, _payload(box.token, kind="earthquake", message_id="m-42"))

    assert (ack["message_id"], ack["error"]) == ("m-42", ErrorCode.UNKNOWN_KIND)


def test_an_unexpected_failure_is_a_server_error_not_a_crash(box, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(bridge_module.services, "alarm_raise", broken)

    ack = handle_message(box.topic, _payload(box.token, message_id="m-1"))

    assert ack == {
        "message_id": "m-1",
        "ok": False,
        "error": ErrorCode.SERVER_ERROR,
        "message": ack["message"],
    }
    assert Alarm.objects.count() == 0


# --- topics, URLs, the command ---------------------------------------------------------


def test_the_ack_goes_to_the_topic_of_the_device_that_published():
    assert ack_topic("huxiao/devices/17/alarm") == "huxiao/devices/17/ack"
    assert ack_topic("huxiao/devices/abc/alarm") == "huxiao/devices/abc/ack"
    assert ack_topic("huxiao/devices/17/status") is None
    assert ack_topic("other/devices/17/alarm") is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mqtt://127.0.0.1:1883", ("127.0.0.1", 1883, False, None, None)),
        ("mqtt://broker.local", ("broker.local", 1883, False, None, None)),
        ("mqtts://broker.local", ("broker.local", 8883, True, None, None)),
        ("mqtts://hx:p%40ss@broker:9883", ("broker", 9883, True, "hx", "p@ss")),
    ],
)
def test_broker_urls(url, expected):
    address = parse_broker_url(url)
    assert (
        address.host,
        address.port,
        address.tls,
        address.username,
        address.password,
    ) == expected
    assert "p@ss" not in str(address)


@pytest.mark.parametrize("url", ["", "http://broker", "mqtt://", "mqtt://broker:99999"])
def test_bad_broker_urls_are_refused(url):
    with pytest.raises(ValueError):
        parse_broker_url(url)


def test_the_command_refuses_to_start_without_a_broker(settings):
    settings.HUXIAO_MQTT_URL = ""
    with pytest.raises(CommandError, match="HUXIAO_MQTT_URL"):
        call_command("mqtt_bridge")


def test_the_command_refuses_a_bad_url():
    with pytest.raises(CommandError, match="mqtt://"):
        call_command("mqtt_bridge", url="http://127.0.0.1:1883")


def test_a_failing_handler_never_escapes_the_paho_callback():
    def broken(topic, payload):
        raise RuntimeError("bug")

    bridge = MqttBridge(BROKER_URL, client_id="huxiao-test-unused", handler=broken)
    published = []
    client = SimpleNamespace(publish=lambda *args, **kwargs: published.append(args))
    message = SimpleNamespace(topic="huxiao/devices/1/alarm", payload=b"{}")

    bridge._on_message(client, None, message)

    assert published == []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_broker_is_retried_with_growing_backoff_until_stopped(caplog):
    bridge = MqttBridge(
        f"mqtt://127.0.0.1:{_free_port()}",
        client_id="huxiao-test-unreachable",
        min_backoff=0.05,
        max_backoff=0.2,
    )
    thread = threading.Thread(target=bridge.run, daemon=True)

    def delays():
        return [r.args[-1] for r in caplog.records if "unreachable" in r.getMessage()]

    with caplog.at_level("WARNING", logger="huxiao.alarms.mqtt"):
        thread.start()
        deadline = time.monotonic() + WAIT
        while len(delays()) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        bridge.stop()
        thread.join(5)

    assert not thread.is_alive(), "stop() must end run() promptly"
    delays = delays()
    assert delays[:3] == [0.05, 0.1, 0.2]
    assert max(delays) == 0.2


# --- against the real broker ----------------------------------------------------------


def _broker_missing(reason: str):
    message = (
        f"MQTT bridge tests need a broker at {BROKER_URL}: {reason}. "
        "Install and start Mosquitto (apt-get install mosquitto) or set HUXIAO_TEST_MQTT_URL."
    )
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _connected_client(client_id: str, *, clean_session: bool = True, on_connect=None, **callbacks):
    address = parse_broker_url(BROKER_URL)
    client = mqtt.Client(
        callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean_session,
        protocol=mqtt.MQTTv311,
    )
    connected = threading.Event()

    def _on_connect(client, userdata, flags, reason_code, properties):
        if not reason_code.is_failure:
            if on_connect:
                on_connect(client)
            connected.set()

    client.on_connect = _on_connect
    # Every callback is in place before the network thread starts: a SUBACK may come back
    # before this function returns.
    for name, callback in callbacks.items():
        setattr(client, name, callback)
    client.connect(address.host, address.port, keepalive=30)
    client.loop_start()
    if not connected.wait(WAIT):
        client.loop_stop()
        raise OSError(f"no CONNACK within {WAIT} s")
    return client


def _forget_session(client_id: str) -> None:
    """Drop a persistent session a test left on the broker (connect clean, disconnect)."""
    client = _connected_client(client_id, clean_session=True)
    client.disconnect()
    client.loop_stop()


@pytest.fixture(scope="session")
def broker_url():
    try:
        client = _connected_client(f"huxiao-test-probe-{uuid.uuid4().hex[:8]}")
    except OSError as exc:
        _broker_missing(str(exc) or type(exc).__name__)
    client.disconnect()
    client.loop_stop()
    return BROKER_URL


class AlarmBox:
    """A test alarm box: publishes on its alarm topic, collects answers on its ack topic."""

    def __init__(self, device_id: int):
        self.topic = f"huxiao/devices/{device_id}/alarm"
        self.acks: queue.Queue = queue.Queue()
        subscribed = threading.Event()
        self.client = _connected_client(
            f"huxiao-test-box-{uuid.uuid4().hex[:12]}",
            on_connect=lambda c: c.subscribe(f"huxiao/devices/{device_id}/ack", qos=1),
            on_subscribe=lambda *args: subscribed.set(),
            on_message=lambda c, u, m: self.acks.put(json.loads(m.payload)),
        )
        # Subscribed before anything is published, so no answer is missed.
        assert subscribed.wait(WAIT), "the ack subscription was not confirmed"

    def publish(self, payload: bytes) -> None:
        self.client.publish(self.topic, payload, qos=1).wait_for_publish(WAIT)

    def ack(self, message_id: str, *, ok: bool | None = None, timeout: float = WAIT) -> dict:
        """The next ack for message_id. Other bridges on the same broker (parallel test
        workers, a developer's `make run`) answer messages they cannot authenticate, so
        acks are matched by message_id and, where given, by outcome."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                ack = self.acks.get(timeout=left)
            except queue.Empty:
                break
            if ack.get("message_id") == message_id and (ok is None or ack["ok"] is ok):
                return ack
        raise AssertionError(f"no ack for {message_id} within {timeout} s")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def alarm_boxes():
    boxes = []

    def make(device_id):
        boxes.append(AlarmBox(device_id))
        return boxes[-1]

    yield make
    for box in boxes:
        box.close()


@pytest.fixture
def start_bridge(broker_url):
    """Start a bridge in a thread; every bridge started here is stopped before the test
    database is flushed (the bridge closes its own connections when run() returns)."""
    running = []

    def start(url=broker_url, **kwargs):
        kwargs.setdefault("client_id", f"huxiao-test-bridge-{uuid.uuid4().hex[:12]}")
        kwargs.setdefault("clean_session", True)
        kwargs.setdefault("min_backoff", 0.1)
        kwargs.setdefault("max_backoff", 0.5)
        bridge = MqttBridge(url, **kwargs)
        thread = threading.Thread(target=bridge.run, name="mqtt-bridge", daemon=True)
        thread.start()
        running.append((bridge, thread))
        assert bridge.subscribed.wait(WAIT), "the bridge did not subscribe"
        return bridge, thread

    yield start
    for bridge, thread in running:
        bridge.stop()
        thread.join(10)
        assert not thread.is_alive(), "the bridge did not stop"


@pytest.mark.django_db(transaction=True)
def test_over_the_broker_an_alarm_is_raised_once_and_acknowledged(start_bridge, alarm_boxes):
    device = _box(SchoolFactory(name="经由消息的学校"))
    start_bridge()
    alarm_box = alarm_boxes(device.pk)
    payload = _payload(device.token)
    message_id = json.loads(payload)["message_id"]

    alarm_box.publish(payload)
    first = alarm_box.ack(message_id, ok=True)
    # What QoS 1 does after a lost PUBACK: the same message again.
    alarm_box.publish(payload)
    again = alarm_box.ack(message_id, ok=True)

    alarm = Alarm.objects.get(raised_by_device_id=device.pk)
    assert first == {"message_id": message_id, "ok": True, "alarm_id": alarm.pk, "created": True}
    assert again == {**first, "created": False}
    assert alarm.source == AlarmSource.MQTT
    assert Alarm.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_over_the_broker_bad_input_is_answered_and_the_bridge_carries_on(start_bridge, alarm_boxes):
    device = _box(SchoolFactory(name="坏消息学校"))
    start_bridge()
    alarm_box = alarm_boxes(device.pk)

    alarm_box.publish(b"\xff not json")
    alarm_box.publish(_payload(device.token, kind="earthquake", message_id="m-bad-kind"))
    good = _body(device.token)
    alarm_box.publish(json.dumps(good).encode())

    deadline = time.monotonic() + WAIT
    malformed = None
    while malformed is None and time.monotonic() < deadline:
        ack = alarm_box.acks.get(timeout=WAIT)
        if ack["message_id"] is None:
            malformed = ack
    assert malformed is not None and malformed["error"] == ErrorCode.MALFORMED_JSON
    assert alarm_box.ack("m-bad-kind", ok=False)["error"] in {
        ErrorCode.UNKNOWN_KIND,
        # A parallel worker's bridge cannot authenticate this database's device.
        ErrorCode.INVALID_TOKEN,
    }
    assert alarm_box.ack(good["message_id"], ok=True)["created"] is True
    assert Alarm.objects.filter(raised_by_device_id=device.pk).count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_alarm_sent_while_the_bridge_is_away_is_raised_when_it_returns(
    start_bridge, alarm_boxes
):
    device = _box(SchoolFactory(name="断线学校"))
    client_id = f"huxiao-test-persistent-{uuid.uuid4().hex[:12]}"
    try:
        first_bridge, first_thread = start_bridge(client_id=client_id, clean_session=False)
        alarm_box = alarm_boxes(device.pk)
        first_bridge.stop()
        first_thread.join(10)
        assert not first_thread.is_alive()

        payload = _payload(device.token)
        message_id = json.loads(payload)["message_id"]
        alarm_box.publish(payload)  # the broker queues it in the bridge's session
        time.sleep(0.3)
        assert not Alarm.objects.filter(raised_by_device_id=device.pk).exists()

        start_bridge(client_id=client_id, clean_session=False)
        ack = alarm_box.ack(message_id, ok=True)
    finally:
        _forget_session(client_id)

    assert ack["created"] is True
    assert Alarm.objects.filter(raised_by_device_id=device.pk, pk=ack["alarm_id"]).exists()


class CuttableProxy:
    """A TCP relay to the broker whose connections a test can cut, as a network drop would."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"mqtt://127.0.0.1:{self.listener.getsockname()[1]}"
        self.sockets: list[socket.socket] = []
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                downstream, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.accepted += 1
            self.sockets += [downstream, upstream]
            for source, sink in ((downstream, upstream), (upstream, downstream)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cut(self):
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.sockets = []

    def close(self):
        self.listener.close()
        self.cut()


@pytest.mark.django_db(transaction=True)
def test_the_bridge_reconnects_after_the_broker_goes_away(start_bridge, alarm_boxes):
    device = _box(SchoolFactory(name="重连学校"))
    address = parse_broker_url(BROKER_URL)
    proxy = CuttableProxy(address.host, address.port)
    try:
        bridge, _thread = start_bridge(url=proxy.url)
        proxy.cut()
        deadline = time.monotonic() + WAIT
        while (proxy.accepted < 2 or not bridge.subscribed.is_set()) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.05)
        assert proxy.accepted >= 2, "the bridge did not reconnect"
        assert bridge.subscribed.wait(WAIT), "the bridge did not subscribe again"

        alarm_box = alarm_boxes(device.pk)
        payload = _payload(device.token)
        alarm_box.publish(payload)
        ack = alarm_box.ack(json.loads(payload)["message_id"], ok=True)
    finally:
        proxy.close()

    assert Alarm.objects.filter(pk=ack["alarm_id"], raised_by_device_id=device.pk).exists()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_command_stops_cleanly_on_a_signal(broker_url, tmp_path, signum):
    client_id = f"huxiao-test-command-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "HUXIAO_VAR_DIR": str(tmp_path),
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(  # noqa: S603 - our own manage.py, fixed arguments
        [sys.executable, "manage.py", "mqtt_bridge", "--url", broker_url, "--client-id", client_id],
        cwd=Path(django_settings.BASE_DIR),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in process.stdout], daemon=True).start()
    output = []
    try:
        deadline = time.monotonic() + 30
        while not any("subscribed to" in line for line in output):
            assert time.monotonic() < deadline, "".join(output)
            try:
                output.append(lines.get(timeout=1))
            except queue.Empty:
                assert process.poll() is None, "".join(output)

        process.send_signal(signum)
        code = process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        _forget_session(client_id)
    time.sleep(0.1)
    while not lines.empty():
        output.append(lines.get())

    assert code == 0, "".join(output)
    assert any("mqtt bridge stopped" in line for line in output), "".join(output)
