"""The senders: one per channel kind, each building exactly the request its receiver expects.

Nothing here touches the database; `services.delivery_send` loads the delivery, calls
`send` and records the outcome. Every failure is a `SendError` whose message is safe to store
and log: it never contains the target URL (robot URLs carry access tokens) or a secret.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import http.client
import json
import smtplib
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import quote_plus, urlsplit

from django.conf import settings
from django.core import mail
from django.core.mail import BadHeaderError
from django.core.serializers.json import DjangoJSONEncoder

from huxiao.notify import conf
from huxiao.notify.choices import ChannelKind
from huxiao.notify.validation import split_emails

USER_AGENT = "HuXiao-notify/1"
SIGNATURE_HEADER = "X-HuXiao-Signature"
EVENT_HEADER = "X-HuXiao-Event"
DELIVERY_HEADER = "X-HuXiao-Delivery"
SMS_KEY_HEADER = "X-Api-Key"
# WeCom refuses text content over 2048 bytes.
WECOM_MAX_CONTENT_BYTES = 2048
MAX_REPLY_BYTES = 64 * 1024


class SendError(Exception):
    """A send that did not succeed. `permanent` ones cannot succeed by retrying (the channel
    cannot work as configured), the others are retried with backoff."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message[:1000])
        self.permanent = permanent


@dataclass(frozen=True)
class OutboundMessage:
    """What one delivery sends, detached from the database rows."""

    delivery_id: int
    notification_id: int
    event_type: str
    title: str
    body: str
    created_at: dt.datetime
    organization_id: int | None = None
    payload: dict = field(default_factory=dict)
    phones: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.body}" if self.body else self.title


# ---------------------------------------------------------------- request bodies


def _json_bytes(data) -> bytes:
    return json.dumps(
        data, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")


def _truncate_utf8(text: str, limit: int) -> str:
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    return raw[: limit - 3].decode("utf-8", errors="ignore") + "…"


def wecom_payload(message: OutboundMessage) -> dict:
    return {
        "msgtype": "text",
        "text": {
            "content": _truncate_utf8(message.text, WECOM_MAX_CONTENT_BYTES),
            "mentioned_mobile_list": list(message.phones),
        },
    }


def dingtalk_payload(message: OutboundMessage) -> dict:
    content = message.text
    if message.phones:
        # DingTalk shows a mention only when the number also appears in the text.
        content += "\n" + " ".join(f"@{phone}" for phone in message.phones)
    return {
        "msgtype": "text",
        "text": {"content": content},
        "at": {"atMobiles": list(message.phones), "isAtAll": False},
    }


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's "加签": base64(HMAC-SHA256(key=secret, "<timestamp>\\n<secret>"))."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def dingtalk_url(url: str, secret: str, *, now: dt.datetime) -> str:
    if not secret:
        return url
    timestamp_ms = int(now.timestamp() * 1000)
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}timestamp={timestamp_ms}&sign={quote_plus(dingtalk_sign(secret, timestamp_ms))}"


def sms_payload(message: OutboundMessage) -> dict:
    return {"phones": list(message.phones), "text": message.text}


def webhook_body(message: OutboundMessage) -> bytes:
    return _json_bytes(
        {
            "event": message.event_type,
            "notification_id": message.notification_id,
            "delivery_id": message.delivery_id,
            "organization_id": message.organization_id,
            "title": message.title,
            "body": message.body,
            "payload": message.payload,
            "created_at": message.created_at,
        }
    )


def webhook_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


# ---------------------------------------------------------------- transport


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A 3xx answer is a failure: the message must not be re-sent somewhere else."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def post_json(url: str, body: bytes, headers: dict | None = None) -> bytes:
    """POST `body` as JSON; return the reply body of a 2xx answer, raise SendError otherwise."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise SendError("the address is not http(s)", permanent=True)
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            **(headers or {}),
        },
    )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=conf.send_timeout()) as response:
            return response.read(MAX_REPLY_BYTES)
    except urllib.error.HTTPError as exc:
        try:
            snippet = exc.read(300).decode("utf-8", errors="replace").strip()
        except Exception:  # noqa: BLE001 - the status is what matters
            snippet = ""
        finally:
            exc.close()
        raise SendError(f"HTTP {exc.code}: {snippet}".rstrip(": ")) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        raise SendError(f"{type(reason).__name__}: {reason}") from None
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        raise SendError(f"{type(exc).__name__}: {exc}") from None


def _check_robot_reply(reply: bytes) -> None:
    """WeCom and DingTalk answer 200 even when they refuse; the errcode says which."""
    try:
        data = json.loads(reply.decode("utf-8"))
    except ValueError:
        raise SendError("the robot's reply is not JSON") from None
    if not isinstance(data, dict) or "errcode" not in data:
        raise SendError("the robot's reply has no errcode")
    if data["errcode"] != 0:
        raise SendError(f"errcode {data['errcode']}: {str(data.get('errmsg', ''))[:300]}")


# ---------------------------------------------------------------- senders


def send_wecom(url: str, message: OutboundMessage) -> None:
    _check_robot_reply(post_json(url, _json_bytes(wecom_payload(message))))


def send_dingtalk(url: str, secret: str, message: OutboundMessage, *, now: dt.datetime) -> None:
    signed = dingtalk_url(url, secret, now=now)
    _check_robot_reply(post_json(signed, _json_bytes(dingtalk_payload(message))))


def send_sms(url: str, api_key: str, message: OutboundMessage) -> None:
    if not message.phones:
        raise SendError("no mobile numbers to send to", permanent=True)
    post_json(url, _json_bytes(sms_payload(message)), {SMS_KEY_HEADER: api_key})


def send_webhook(url: str, secret: str, message: OutboundMessage) -> None:
    body = webhook_body(message)
    headers = {
        SIGNATURE_HEADER: webhook_signature(secret, body),
        EVENT_HEADER: message.event_type,
        DELIVERY_HEADER: str(message.delivery_id),
    }
    post_json(url, body, headers)


def send_email(addresses: list[str], message: OutboundMessage) -> None:
    if not addresses:
        raise SendError("no email addresses", permanent=True)
    # A subject is one header line.
    subject = " ".join(message.title.split())[:200]
    try:
        connection = mail.get_connection(
            timeout=getattr(settings, "EMAIL_TIMEOUT", None) or conf.send_timeout()
        )
        accepted = mail.send_mail(
            subject, message.body or message.title, None, addresses, connection=connection
        )
    except BadHeaderError as exc:
        raise SendError(f"BadHeaderError: {exc}", permanent=True) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise SendError(f"{type(exc).__name__}: {exc}") from None
    if not accepted:
        raise SendError("the mail server accepted nothing")


def send(
    *, kind: str, target: str, secret: str, message: OutboundMessage, now: dt.datetime
) -> None:
    """Send through one channel; raises SendError on any failure."""
    if kind == ChannelKind.WECOM:
        send_wecom(target, message)
    elif kind == ChannelKind.DINGTALK:
        send_dingtalk(target, secret, message, now=now)
    elif kind == ChannelKind.SMS:
        send_sms(target, secret, message)
    elif kind == ChannelKind.WEBHOOK:
        send_webhook(target, secret, message)
    elif kind == ChannelKind.EMAIL:
        send_email(split_emails(target), message)
    else:
        raise SendError(f"no sender for channel {kind!r}", permanent=True)
