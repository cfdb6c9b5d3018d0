"""MQTT bridge for alarm boxes (ADR 0012): topic → device check → alarm_raise → ack.

`handle_message()` is the whole protocol and needs no network, so every case is tested
directly. `MqttBridge` connects it to a broker: it subscribes to
`huxiao/devices/+/alarm` with QoS 1, answers on `huxiao/devices/<id>/ack`, reconnects with
backoff and stops cleanly when asked (`manage.py mqtt_bridge`).
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

import paho.mqtt.client as mqtt
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import close_old_connections, connections
from django.utils.translation import gettext as _

from huxiao.alarms import services
from huxiao.alarms.choices import AlarmKind, AlarmSource

logger = logging.getLogger(__name__)

ALARM_TOPIC_FILTER = "huxiao/devices/+/alarm"
ACK_TOPIC = "huxiao/devices/{device}/ack"
QOS = 1
# An alarm is a few hundred bytes; anything far larger is a fault or an attack.
MAX_PAYLOAD_BYTES = 16 * 1024
MAX_MESSAGE_ID_LENGTH = 200
PAYLOAD_FIELDS = frozenset({"token", "kind", "location", "note", "drill", "message_id"})

_ALARM_TOPIC = re.compile(r"huxiao/devices/([^/]+)/alarm")
# Canonical decimal only: "007" and "7" must not name the same device twice.
_DEVICE_ID = re.compile(r"[1-9][0-9]{0,18}")


class ErrorCode:
    """The `error` values an ack can carry. Only SERVER_ERROR is worth retrying as is."""

    INVALID_TOPIC = "invalid_topic"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    MALFORMED_JSON = "malformed_json"
    NOT_AN_OBJECT = "not_an_object"
    INVALID_TOKEN = "invalid_token"  # noqa: S105 - a refusal reason, not a secret
    DEVICE_MISMATCH = "device_mismatch"
    UNKNOWN_KIND = "unknown_kind"
    INVALID_FIELD = "invalid_field"
    FORBIDDEN = "forbidden"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    SERVER_ERROR = "server_error"


class _Rejected(Exception):
    def __init__(self, code: str, message, errors: dict | None = None):
        super().__init__(code)
        self.code = code
        self.message = str(message)
        self.errors = errors


def ack_topic(topic: str) -> str | None:
    """Where the answer to a message on `topic` goes; None for a topic that is not ours."""
    match = _ALARM_TOPIC.fullmatch(topic)
    return ACK_TOPIC.format(device=match.group(1)) if match else None


def handle_message(topic: str, payload: bytes) -> dict:
    """Raise the alarm a device published and return the ack to send back. Never raises.

    Every rejection writes nothing. The ack echoes the message_id when one could be read,
    and never the token.
    """
    seen: dict = {"message_id": None}
    try:
        alarm, created = _raise_from(topic, payload, seen)
    except _Rejected as rejected:
        logger.warning(
            "mqtt alarm rejected topic=%s message_id=%s error=%s",
            topic,
            seen["message_id"],
            rejected.code,
        )
        ack = {
            "message_id": seen["message_id"],
            "ok": False,
            "error": rejected.code,
            "message": rejected.message,
        }
        if rejected.errors:
            ack["errors"] = rejected.errors
        return ack
    except Exception:
        # A bug or the database being away, not bad input: the device may send the same
        # message again (same message_id), which cannot raise a second alarm.
        logger.exception("mqtt alarm failed topic=%s message_id=%s", topic, seen["message_id"])
        return {
            "message_id": seen["message_id"],
            "ok": False,
            "error": ErrorCode.SERVER_ERROR,
            "message": _("Server error; it has been logged. Send the same message again."),
        }
    logger.info(
        "mqtt alarm topic=%s message_id=%s alarm=%s created=%s",
        topic,
        seen["message_id"],
        alarm.pk,
        created,
    )
    return {"message_id": seen["message_id"], "ok": True, "alarm_id": alarm.pk, "created": created}


def _raise_from(topic: str, payload: bytes, seen: dict):
    from huxiao.accounts.services import device_principal
    from huxiao.orgs.models import Organization

    match = _ALARM_TOPIC.fullmatch(topic)
    if match is None or not _DEVICE_ID.fullmatch(match.group(1)):
        raise _Rejected(
            ErrorCode.INVALID_TOPIC, _("The topic must be huxiao/devices/<device id>/alarm.")
        )
    topic_device_id = int(match.group(1))
    body = _parse(payload)
    message_id = body.get("message_id")
    if isinstance(message_id, str) and len(message_id) <= MAX_MESSAGE_ID_LENGTH:
        seen["message_id"] = message_id

    token = body.get("token")
    principal = device_principal(token) if isinstance(token, str) and token else None
    if principal is None:
        # One answer for missing, unknown, revoked: a guesser learns nothing.
        raise _Rejected(
            ErrorCode.INVALID_TOKEN, _("Missing, unknown, revoked or expired device token.")
        )
    if principal.device_id != topic_device_id:
        raise _Rejected(
            ErrorCode.DEVICE_MISMATCH,
            _("The token does not belong to the device named in the topic."),
        )
    fields = _clean_fields(body)
    school = Organization.objects.filter(pk=principal.school_id).first()
    if school is None:
        raise _Rejected(
            ErrorCode.INVALID_TOKEN, _("Missing, unknown, revoked or expired device token.")
        )
    try:
        return services.alarm_raise(
            actor=principal,
            school=school,
            source=AlarmSource.MQTT,
            # QoS 1 delivers at least once: a redelivered message must not raise a second alarm.
            idempotency_key=fields.pop("message_id"),
            **fields,
        )
    except services.IdempotencyConflict as exc:
        raise _Rejected(
            ErrorCode.IDEMPOTENCY_CONFLICT,
            _("This message_id was already used for a different alarm."),
        ) from exc
    except PermissionDenied as exc:
        raise _Rejected(
            ErrorCode.FORBIDDEN, str(exc) or _("Your role does not allow this action.")
        ) from exc
    except ValidationError as exc:
        errors = _messages(exc)
        code = ErrorCode.UNKNOWN_KIND if "kind" in errors else ErrorCode.INVALID_FIELD
        raise _Rejected(code, _("The request has invalid fields."), errors) from exc


def _parse(payload: bytes) -> dict:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise _Rejected(
            ErrorCode.PAYLOAD_TOO_LARGE,
            _("The payload is larger than %(limit)s bytes.") % {"limit": MAX_PAYLOAD_BYTES},
        )
    try:
        body = json.loads(bytes(payload).decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        # ValueError covers bad UTF-8 and bad JSON; RecursionError, absurd nesting.
        raise _Rejected(
            ErrorCode.MALFORMED_JSON, _("The payload is not valid UTF-8 JSON.")
        ) from exc
    if not isinstance(body, dict):
        raise _Rejected(ErrorCode.NOT_AN_OBJECT, _("The payload must be a JSON object."))
    return body


def _clean_fields(body: dict) -> dict:
    """Types are checked here; lengths and control characters by the service."""
    errors: dict[str, list[str]] = {}

    def text(name, *, required=False):
        if name not in body:
            if required:
                errors.setdefault(name, []).append(_("This field is required."))
            return ""
        if not isinstance(body[name], str):
            errors.setdefault(name, []).append(_("Must be a string."))
            return ""
        return body[name]

    for name in sorted(set(body) - PAYLOAD_FIELDS):
        errors.setdefault(str(name)[:50], []).append(_("Unknown field."))
    kind = text("kind", required=True)
    location = text("location")
    note = text("note")
    message_id = text("message_id", required=True).strip()
    if "message_id" not in errors and not message_id:
        errors["message_id"] = [_("This field is required.")]
    elif len(message_id) > MAX_MESSAGE_ID_LENGTH:
        errors.setdefault("message_id", []).append(
            _("At most %(limit)s characters.") % {"limit": MAX_MESSAGE_ID_LENGTH}
        )
    drill = body.get("drill", False)
    if not isinstance(drill, bool):
        errors.setdefault("drill", []).append(_("Must be true or false."))
    if errors:
        raise _Rejected(ErrorCode.INVALID_FIELD, _("The request has invalid fields."), errors)
    if kind not in AlarmKind.values:
        raise _Rejected(
            ErrorCode.UNKNOWN_KIND,
            _("The request has invalid fields."),
            {"kind": [_("Unknown alarm kind.")]},
        )
    return {
        "kind": kind,
        "location": location,
        "note": note,
        "drill": drill,
        "message_id": message_id,
    }


def _messages(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}


# --- The broker connection -------------------------------------------------------------


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    def __str__(self) -> str:
        # For logs: never the password.
        scheme = "mqtts" if self.tls else "mqtt"
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


def parse_broker_url(url: str) -> BrokerAddress:
    """mqtt://[user:password@]host[:1883] or mqtts://…[:8883] (TLS with the system CAs)."""
    parsed = urlparse(url.strip())
    if parsed.scheme not in {"mqtt", "mqtts"} or not parsed.hostname:
        raise ValueError(f"Expected mqtt://host[:port] or mqtts://host[:port], got {url!r}")
    tls = parsed.scheme == "mqtts"
    try:
        port = parsed.port or (8883 if tls else 1883)
    except ValueError as exc:
        raise ValueError(f"Invalid port in MQTT URL {url!r}") from exc
    return BrokerAddress(
        host=parsed.hostname,
        port=port,
        tls=tls,
        username=unquote(parsed.username) if parsed.username else None,
        password=unquote(parsed.password) if parsed.password else None,
    )


def configured_url() -> str:
    """HUXIAO_MQTT_URL from settings (or the environment); empty means no bridge."""
    return getattr(settings, "HUXIAO_MQTT_URL", os.environ.get("HUXIAO_MQTT_URL", "")) or ""


def configured_client_id() -> str:
    return getattr(
        settings,
        "HUXIAO_MQTT_CLIENT_ID",
        os.environ.get("HUXIAO_MQTT_CLIENT_ID", "huxiao-bridge"),
    )


class MqttBridge:
    """One connection to the broker; messages are handled one at a time in `run()`'s thread.

    With `clean_session=False` (the default) the broker keeps the subscription and queues
    QoS 1 alarms while the bridge is away, and hands them over when it reconnects.
    """

    def __init__(
        self,
        url: str,
        *,
        client_id: str,
        clean_session: bool = False,
        keepalive: int = 30,
        min_backoff: float = 1.0,
        max_backoff: float = 60.0,
        handler=handle_message,
    ):
        self.broker = parse_broker_url(url)
        self.client_id = client_id
        self.keepalive = keepalive
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self._handler = handler
        self._stopping = False
        self._session_started = False
        # Set while subscribed; tests and the supervisor wait on it.
        self.subscribed = threading.Event()
        client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean_session,
            protocol=mqtt.MQTTv311,
        )
        if self.broker.username:
            client.username_pw_set(self.broker.username, self.broker.password)
        if self.broker.tls:
            client.tls_set()
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self._client = client

    def stop(self) -> None:
        """Ask run() to finish the message in hand, disconnect and return.

        Only sets a flag, so it is safe in a signal handler and from another thread."""
        self._stopping = True

    def run(self) -> None:
        """Connect, serve and reconnect with exponential backoff until stop()."""
        delay = self.min_backoff
        try:
            while not self._stopping:
                self._session_started = False
                try:
                    self._client.connect(self.broker.host, self.broker.port, self.keepalive)
                except OSError as exc:
                    logger.warning(
                        "mqtt broker %s unreachable (%s); retrying in %.1fs",
                        self.broker,
                        exc,
                        delay,
                    )
                else:
                    self._serve()
                    if self._stopping:
                        break
                    if self._session_started:
                        delay = self.min_backoff
                    logger.warning(
                        "mqtt connection to %s lost; reconnecting in %.1fs", self.broker, delay
                    )
                self._sleep(delay)
                delay = min(delay * 2, self.max_backoff)
        finally:
            self.subscribed.clear()
            # This thread's database connections end with it.
            connections.close_all()
            logger.info("mqtt bridge stopped")

    def _serve(self) -> None:
        while not self._stopping:
            rc = self._client.loop(timeout=0.5)
            if rc != mqtt.MQTT_ERR_SUCCESS:
                return
        # The message in hand has been handled and acknowledged inside loop(); say goodbye.
        self._client.disconnect()
        self._client.loop(timeout=0.2)

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stopping and time.monotonic() < deadline:
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    # paho callbacks (CallbackAPIVersion.VERSION2); they run inside loop(), in run()'s thread.

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            logger.error("mqtt broker %s refused the connection: %s", self.broker, reason_code)
            return
        self._session_started = True
        logger.info(
            "mqtt connected to %s as %s (session present: %s)",
            self.broker,
            self.client_id,
            flags.session_present,
        )
        # Subscribe on every connect: a broker that lost its state has no subscription.
        client.subscribe(ALARM_TOPIC_FILTER, qos=QOS)

    def _on_subscribe(self, client, userdata, mid, reason_code_list, properties):
        if any(code.is_failure for code in reason_code_list):
            # Usually the broker's ACL: without the subscription no alarm arrives.
            logger.error(
                "mqtt broker refused the subscription to %s: %s",
                ALARM_TOPIC_FILTER,
                reason_code_list,
            )
            return
        logger.info("mqtt subscribed to %s (QoS %s)", ALARM_TOPIC_FILTER, QOS)
        self.subscribed.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.subscribed.clear()
        if not self._stopping:
            logger.warning("mqtt disconnected from %s: %s", self.broker, reason_code)

    def _on_message(self, client, userdata, message):
        # Nothing may escape a callback: paho would re-raise it and end the bridge.
        try:
            topic = message.topic
            reply_to = ack_topic(topic)
            # A long-running process: drop connections the database has closed or that
            # outlived CONN_MAX_AGE, as Django does around each request.
            close_old_connections()
            try:
                ack = self._handler(topic, message.payload)
            finally:
                close_old_connections()
            if reply_to is None:
                logger.warning("mqtt message on unexpected topic %r ignored", topic)
                return
            client.publish(reply_to, json.dumps(ack, ensure_ascii=False), qos=QOS)
        except Exception:
            logger.exception("mqtt message could not be handled")
