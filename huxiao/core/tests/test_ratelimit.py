"""Cache-based rate limits: logins per address, devices per token, alarms never refused."""

from __future__ import annotations

import pytest
from django.test import override_settings

from huxiao.accounts.models import DeviceKind
from huxiao.accounts.services import device_token_issue
from huxiao.core.ratelimit import Rate, hit

pytestmark = pytest.mark.django_db


def test_fixed_window_counts_and_retry_after():
    rate = Rate.parse("3/60")
    verdicts = [hit("t", "a", rate, now=120.0) for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert verdicts[-1].retry_after == 60
    assert hit("t", "b", rate, now=121.0).allowed  # another caller has its own count
    assert hit("t", "a", rate, now=180.5).allowed  # the next window starts afresh
    assert Rate.parse("0").count == 0 and hit("t", "a", Rate.parse("0")).allowed


@override_settings(HUXIAO_RATE_LOGIN="3/60")
def test_login_page_and_token_endpoint_limited_per_address(world, client):
    for _ in range(2):
        assert (
            client.post("/accounts/login/", {"username": "x", "password": "y"}).status_code == 400
        )
    body = {"username": "x", "password": "y"}
    assert (
        client.post("/api/v1/auth/token", body, content_type="application/json").status_code == 401
    )
    refused = client.post("/api/v1/auth/token", body, content_type="application/json")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1 and refused.json()["detail"]
    page = client.post("/accounts/login/", {"username": "principal", "password": "pw-test-123"})
    assert page.status_code == 429 and "_auth_user_id" not in client.session
    # Another address is not affected.
    other = client.post(
        "/accounts/login/",
        {"username": "principal", "password": "pw-test-123"},
        REMOTE_ADDR="10.9.9.9",
    )
    assert other.status_code == 302
    # Reading the login page is never limited.
    assert client.get("/accounts/login/").status_code == 200


@override_settings(HUXIAO_RATE_DEVICE="3/60")
def test_device_limited_but_alarm_never_refused(world, client):
    _gate, gate_token = device_token_issue(
        actor=None, school=world.school, name="门岗终端", kind=DeviceKind.GATE_TERMINAL
    )
    _box, box_token = device_token_issue(
        actor=None, school=world.school, name="报警盒", kind=DeviceKind.ALARM_BOX
    )
    gate = {"HTTP_AUTHORIZATION": f"Bearer {gate_token}"}
    statuses = [client.get("/api/v1/me", **gate).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    box = {"HTTP_AUTHORIZATION": f"Bearer {box_token}"}
    for _ in range(3):
        client.get("/api/v1/me", **box)
    assert client.get("/api/v1/me", **box).status_code == 429
    # Over its count, the alarm box still raises its alarm.
    raised = client.post(
        "/api/v1/alarms",
        {"kind": "intrusion"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="press-1",
        **box,
    )
    assert raised.status_code in (200, 201), raised.content
