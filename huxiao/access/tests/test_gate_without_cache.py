# ruff: noqa: F811 - pytest fixtures imported from pickup_fixtures are arguments here
"""The gate while scale mode's cache (Redis) is away: a clear answer, never a 500.

The cache here is a real RedisCache pointed at a port where nothing listens, so every
cache call fails as it does while Redis restarts.

- PIN entry depends on its lockout (the cache): refused with its own message (503,
  `pin_unavailable`) and nothing written; QR codes still work.
- Visitor check-in screens and holds whatever the cache says: it goes on without the
  screener's pause, and a hold is still a hold.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from huxiao.access.models import Release, Visit
from huxiao.access.tests.conftest import CLEAR_ID, REGISTER_ID
from huxiao.access.tests.pickup_fixtures import pickup  # noqa: F401
from huxiao.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

LOOKUP = "/api/v1/pickup/lookup"
CHECK_IN = "/api/v1/visitors/check-in"


@pytest.fixture
def redis_away(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    from django.core.cache import cache

    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever redis-py raises
        cache.get("probe")


def test_pin_entry_is_refused_clearly_and_a_qr_code_still_works(pickup, api, redis_away):
    w = pickup
    guard = w.users["guard"]
    api.token_for(guard)  # its issue is audited
    audit_before = AuditEvent.objects.count()
    refused = api("post", LOOKUP, guard, json={"code": w.issued.pin})
    assert refused.status_code == 503
    body = refused.json()
    assert body["code"] == "pin_unavailable"
    assert "PIN 暂不可用" in body["detail"] and "扫描二维码" in body["detail"]
    assert AuditEvent.objects.count() == audit_before

    scanned = api("post", LOOKUP, guard, json={"code": w.issued.card_text})
    assert scanned.status_code == 200, scanned.content
    released = api(
        "post",
        "/api/v1/pickup/release",
        guard,
        json={"confirmation_token": scanned.json()["confirmation_token"]},
    )
    assert released.status_code == 201
    assert Release.objects.count() == 1


def test_the_scan_page_says_so_too(pickup, client, redis_away):
    w = pickup
    client.force_login(w.users["guard"])
    page = client.post(reverse("access:pickup_scan"), {"code": w.issued.pin})
    assert page.status_code == 503
    assert "PIN 暂不可用" in page.content.decode()


def test_a_wrong_pin_that_cannot_be_counted_is_refused_not_guessed(pickup, api, monkeypatch):
    """The lockout read works, the count of the wrong PIN fails (Redis went away in
    between): refused as unavailable, never an uncounted 'wrong PIN, try again'."""
    from huxiao.access import pickup_services

    def broken(*args, **kwargs):
        raise ConnectionError("redis went away")

    monkeypatch.setattr(pickup_services, "_window_count", broken)
    wrong = "000000" if pickup.issued.pin != "000000" else "111111"
    response = api("post", LOOKUP, pickup.users["guard"], json={"code": wrong})
    assert response.status_code == 503
    assert response.json()["code"] == "pin_unavailable"


def test_visitor_check_in_goes_on_and_a_register_hit_is_still_held(gate, api, redis_away):
    guard = gate.users["guard"]

    def check_in(id_number, name):
        return api(
            "post",
            CHECK_IN,
            guard,
            json={
                "name": name,
                "id_number": id_number,
                "phone": "13800138000",
                "purpose": "parent",
                "host_id": gate.staff.pk,
            },
        )

    clear = check_in(CLEAR_ID, "访客")
    assert clear.status_code == 201, clear.content
    assert clear.json()["screening"] == "clear"
    held = check_in(REGISTER_ID, "张三丰")
    assert held.status_code == 201, held.content
    assert held.json()["screening"] == "hold"
    assert Visit.objects.get(pk=held.json()["id"]).screening == "hold"
