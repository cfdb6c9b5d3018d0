"""Each channel's exact request: body, headers, signatures, against a local fake receiver."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

from django.core import mail
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from huxiao.notify.choices import ChannelKind, DeliveryStatus
from huxiao.notify.models import Delivery

TITLE = "一键报警：本园"
BODY = "门口有可疑人员，10:15"
TEXT = f"{TITLE}\n{BODY}"


def _only_delivery(notification) -> Delivery:
    return notification.deliveries.exclude(channel=ChannelKind.INBOX).get()


def test_wecom_robot(world, fake_server, send_now, channel):
    channel(
        world.station,
        "wecom",
        fake_server.url("/cgi-bin/webhook/send?key=wecom-key-123"),
        phones=["13800000001"],
    )
    notification = send_now(
        organizations=[world.station],
        event_type="alarm.raised",
        title=TITLE,
        body=BODY,
        mention_phones=["139 0000 0002", "13800000001"],
    )

    [request] = fake_server.requests
    assert request.method == "POST"
    assert request.path == "/cgi-bin/webhook/send"
    assert request.query == {"key": ["wecom-key-123"]}
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.json == {
        "msgtype": "text",
        "text": {"content": TEXT, "mentioned_mobile_list": ["13800000001", "13900000002"]},
    }
    delivery = _only_delivery(notification)
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 1
    assert delivery.sent_at is not None
    assert delivery.next_attempt_at is None
    assert delivery.dispatch_token == ""


def test_wecom_content_is_cut_to_2048_bytes(world, fake_server, send_now, channel):
    channel(world.station, "wecom", fake_server.url())
    send_now(organizations=[world.station], event_type="e", title="报警", body="长" * 2000)
    content = fake_server.requests[0].json["text"]["content"]
    assert len(content.encode("utf-8")) <= 2048
    assert content.startswith("报警\n长")


def test_dingtalk_robot_signed(world, fake_server, send_now, channel):
    secret = "SEC0123456789abcdef"
    channel(
        world.station,
        "dingtalk",
        fake_server.url("/robot/send?access_token=ding-token"),
        secret=secret,
    )
    before = int(timezone.now().timestamp() * 1000)
    notification = send_now(
        organizations=[world.station],
        event_type="alarm.raised",
        title=TITLE,
        body=BODY,
        mention_phones=["13900000002"],
    )
    after = int(timezone.now().timestamp() * 1000)

    [request] = fake_server.requests
    assert request.path == "/robot/send"
    assert set(request.query) == {"access_token", "timestamp", "sign"}
    assert request.query["access_token"] == ["ding-token"]
    timestamp = int(request.query["timestamp"][0])
    assert before <= timestamp <= after
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert request.query["sign"] == [expected]
    assert request.json == {
        "msgtype": "text",
        "text": {"content": f"{TEXT}\n@13900000002"},
        "at": {"atMobiles": ["13900000002"], "isAtAll": False},
    }
    assert _only_delivery(notification).status == DeliveryStatus.SENT


def test_dingtalk_robot_without_secret_is_not_signed(world, fake_server, send_now, channel):
    channel(world.station, "dingtalk", fake_server.url("/robot/send?access_token=t"))
    send_now(organizations=[world.station], event_type="e", title="t", body="")
    [request] = fake_server.requests
    assert request.query == {"access_token": ["t"]}
    assert request.json == {
        "msgtype": "text",
        "text": {"content": "t"},
        "at": {"atMobiles": [], "isAtAll": False},
    }


def test_robot_refusal_in_errcode_is_a_failure(world, fake_server, send_now, channel):
    fake_server.reply = {"errcode": 310000, "errmsg": "sign not match"}
    channel(world.station, "dingtalk", fake_server.url(), secret="wrong")
    notification = send_now(organizations=[world.station], event_type="e", title="t", body="b")
    delivery = _only_delivery(notification)
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.last_error == "errcode 310000: sign not match"


def test_sms_gateway(world, fake_server, send_now, channel):
    channel(
        world.station,
        "sms",
        fake_server.url("/sms/send"),
        secret="sms-api-key",
        phones=["13800000001"],
    )
    notification = send_now(
        organizations=[world.station],
        event_type="alarm.raised",
        title=TITLE,
        body=BODY,
        mention_phones=["13900000002", "not a phone"],
    )
    [request] = fake_server.requests
    assert request.path == "/sms/send"
    assert request.headers["x-api-key"] == "sms-api-key"
    assert request.json == {"phones": ["13800000001", "13900000002"], "text": TEXT}
    assert _only_delivery(notification).phones == ["13800000001", "13900000002"]


def test_sms_each_number_once_across_gateways(world, fake_server, send_now, channel):
    channel(world.school, "sms", fake_server.url("/a"), secret="k1", phones=["13800000001"])
    channel(world.station, "sms", fake_server.url("/b"), secret="k2", phones=["13800000001"])
    channel(world.post, "sms", fake_server.url("/c"), secret="k3")
    send_now(
        organizations=[world.school, world.station, world.post],
        event_type="e",
        title="t",
        body="b",
        mention_phones=["13900000002"],
    )
    by_path = {r.path: r.json["phones"] for r in fake_server.requests}
    # The post's gateway has nobody left to text: no delivery at all.
    assert by_path == {"/a": ["13800000001", "13900000002"]}


def test_sms_gateway_with_other_numbers(world, fake_server, send_now, channel):
    channel(world.school, "sms", fake_server.url("/a"), secret="k1", phones=["13800000001"])
    channel(world.station, "sms", fake_server.url("/b"), secret="k2", phones=["13700000003"])
    send_now(organizations=[world.school, world.station], event_type="e", title="t")
    by_path = {r.path: r.json["phones"] for r in fake_server.requests}
    assert by_path == {"/a": ["13800000001"], "/b": ["13700000003"]}


def test_webhook_signed_body(world, fake_server, send_now, channel):
    secret = "whsec-abc"
    channel(world.school, "webhook", fake_server.url("/in/huxiao"), secret=secret)
    notification = send_now(
        organizations=[world.school],
        event_type="alarm.raised",
        title=TITLE,
        body=BODY,
        payload={"alarm_id": 7, "at": dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)},
    )
    [request] = fake_server.requests
    delivery = _only_delivery(notification)
    expected = "sha256=" + hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-huxiao-signature"] == expected
    assert request.headers["x-huxiao-event"] == "alarm.raised"
    assert request.headers["x-huxiao-delivery"] == str(delivery.pk)
    assert request.json == {
        "event": "alarm.raised",
        "notification_id": notification.pk,
        "delivery_id": delivery.pk,
        "organization_id": world.school.pk,
        "title": TITLE,
        "body": BODY,
        "payload": {"alarm_id": 7, "at": "2026-03-01T08:00:00Z"},
        "created_at": DjangoJSONEncoder().default(notification.created_at),
    }
    assert "whsec" not in request.body.decode()


def test_email(world, send_now, channel):
    channel(world.station, "email", "duty@station.example, chief@station.example")
    notification = send_now(
        organizations=[world.station],
        event_type="alarm.raised",
        title="一键报警：\n本园",
        body=BODY,
    )
    [message] = mail.outbox
    assert message.subject == "一键报警： 本园"  # one header line
    assert message.body == BODY
    assert message.to == ["duty@station.example", "chief@station.example"]
    assert _only_delivery(notification).status == DeliveryStatus.SENT


def test_every_active_channel_of_every_organization(world, fake_server, send_now, channel):
    channel(world.school, "webhook", fake_server.url("/school"), secret="s")
    channel(world.station, "wecom", fake_server.url("/station"))
    channel(world.station, "dingtalk", fake_server.url("/off"), is_active=False)
    channel(world.other_school, "wecom", fake_server.url("/other"))
    notification = send_now(
        organizations=[world.school, world.station, world.school.pk],
        event_type="e",
        title="t",
    )
    assert sorted(r.path for r in fake_server.requests) == ["/school", "/station"]
    assert notification.organization == world.school
    assert notification.deliveries.count() == 2
