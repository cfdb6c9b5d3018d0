"""HuXiao's own devices on the defence page: issuing a token (shown once), revoking it, an
optional last valid day, and what each state does at the API, the MQTT bridge's lookup and
the school's compliance figures."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from huxiao.accounts.models import DeviceKind, DeviceToken
from huxiao.accounts.services import (
    DeviceRefused,
    device_expiry,
    device_principal,
    device_token_issue,
    device_token_revoke,
)
from huxiao.alarms.models import Alarm
from huxiao.audit.models import AuditEvent
from huxiao.security.defence_selectors import defence_facts

pytestmark = pytest.mark.django_db
EDITORS = {"principal"}
READERS = {"police", "officer", "postofficer", "guard", "teacher", "edu", "gov", "county"}
ELSEWHERE = {"principal2", "farpolice"}


def _issue(world, **kwargs):
    kwargs = {"name": "南门报警箱", "kind": DeviceKind.ALARM_BOX, **kwargs}
    return device_token_issue(actor=world.users["principal"], school=world.school, **kwargs)


def _raise(client, token):
    return client.post(
        "/api/v1/alarms",
        data={"kind": "fire", "location": "南门"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def _coverage(school, *, now) -> int:
    """How many HuXiao alarm boxes the compliance evaluation counts for the school."""
    from huxiao.security import compliance
    from huxiao.security import rules as R

    R.ensure_rules(school.region)
    verdicts = compliance.compute([school.pk], now=now)[school.pk]["verdicts"]
    (alarm,) = [v for v in verdicts if v["rule"] == "alarm_networked"]
    return sum(e["params"]["n"] for e in alarm["evidence"] if e["key"] == "alarm_boxes")


def _state():
    return (DeviceToken.objects.count(), AuditEvent.objects.count())


# ------------------------------------------------------------------ issuing on the page


def test_issued_token_is_shown_once_and_works(client, world):
    client.force_login(world.users["principal"])
    r = client.post(
        reverse("security:defence_device_new", args=[world.school.pk]),
        {"kind": "alarm_box", "name": " 南门报警箱 ", "valid_until": ""},
    )
    assert r.status_code == 201
    assert r["Cache-Control"] == "no-store"
    device = DeviceToken.objects.get()
    token = r.content.decode().split('data-testid="device-token">')[1].split("<")[0]
    assert token.startswith("hxd_") and device.prefix == token[:8]
    assert token not in device.key_hash and device.expires_at is None
    assert (device.name, device.school_id) == ("南门报警箱", world.school.pk)
    # The token raises an alarm for this school; the trail names the device, not the token.
    assert _raise(client, token).status_code == 201
    assert Alarm.objects.get().school_id == world.school.pk
    created = AuditEvent.objects.get(object_type="accounts.devicetoken", action="create")
    assert token[:8] not in str(created.changes) and device.key_hash not in str(created.changes)
    # The school's page lists it with its prefix for an editor, and never the token.
    page = client.get(reverse("security:defence", args=[world.school.pk])).content.decode()
    assert "南门报警箱" in page and f"{token[:8]}…" in page and token not in page


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("nobody", 403)]
    + [(w, 200) for w in sorted(EDITORS)]
    + [(w, 403) for w in sorted(READERS)]
    + [(w, 404) for w in sorted(ELSEWHERE)],
)
def test_new_device_matrix(client, world, who, status):
    if who != "anonymous":
        client.force_login(world.users[who])
    url = reverse("security:defence_device_new", args=[world.school.pk])
    assert client.get(url).status_code == status
    r = client.post(url, {"kind": "gate_terminal", "name": "闸机"})
    assert r.status_code == (201 if status == 200 else status)
    assert DeviceToken.objects.count() == (1 if who in EDITORS else 0)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "alarm_box", "name": ""}, "name"),
        ({"kind": "alarm_box", "name": "x" * 101}, "name"),
        ({"kind": "alarm_box", "name": "a\x00b"}, "name"),
        ({"kind": "toaster", "name": "x"}, "kind"),
        ({"kind": "alarm_box", "name": "x", "valid_until": "2020-01-01"}, "valid_until"),
        ({"kind": "alarm_box", "name": "x", "valid_until": "2099-01-01"}, "valid_until"),
        ({"kind": "alarm_box", "name": "x", "valid_until": "not a date"}, "valid_until"),
    ],
)
def test_bad_input_is_400_and_writes_nothing(client, world, data, field):
    client.force_login(world.users["principal"])
    before = _state()
    r = client.post(reverse("security:defence_device_new", args=[world.school.pk]), data)
    assert r.status_code == 400
    assert 'role="alert"' in r.content.decode() or "hx-error" in r.content.decode()
    assert f'name="{field}"' in r.content.decode()
    assert _state() == before


def test_the_same_form_sent_twice_issues_one_token(client, world):
    """A double click or a reload of the 201 page sends the form again: the second send is
    refused with what happened, and no second token (which nobody would hold) is made."""
    client.force_login(world.users["principal"])
    url = reverse("security:defence_device_new", args=[world.school.pk])
    form = client.get(url).content.decode()
    key = form.split('name="issue_key" value="')[1].split('"')[0]
    assert len(key) >= 16
    data = {"kind": "alarm_box", "name": "南门报警箱", "issue_key": key}
    assert client.post(url, data).status_code == 201
    again = client.post(url, data)
    assert again.status_code == 409
    assert "已经提交过" in again.content.decode()
    assert DeviceToken.objects.count() == 1
    # Another form (a new key) adds another device; a malformed key is a 400.
    other = client.get(url).content.decode().split('name="issue_key" value="')[1].split('"')[0]
    assert other != key
    assert client.post(url, {**data, "issue_key": other}).status_code == 201
    assert client.post(url, {**data, "issue_key": "x'\x00"}).status_code == 400
    assert DeviceToken.objects.count() == 2


def test_service_refuses_a_past_day_with_the_field(world):
    with pytest.raises(ValidationError) as refused:
        _issue(world, valid_until=timezone.localdate() - dt.timedelta(days=1))
    assert list(refused.value.message_dict) == ["valid_until"]
    assert DeviceToken.objects.count() == 0


# ------------------------------------------------------------------ revoking


def test_revoked_token_stops_at_once_and_says_why(client, world):
    device, token = _issue(world)
    client.force_login(world.users["principal"])
    r = client.post(reverse("security:defence_device_revoke", args=[device.pk]))
    assert r.status_code == 302
    device.refresh_from_db()
    assert not device.is_active and device.revoked_by == world.users["principal"]
    assert device.revoked_at is not None
    client.logout()
    refused = _raise(client, token)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "令牌无效：未知、已吊销或已过期。"
    assert Alarm.objects.count() == 0
    assert device_principal(token) is None  # the MQTT bridge's lookup too
    assert AuditEvent.objects.filter(object_type="accounts.devicetoken", action="update").count()
    # Listed apart, with who revoked it; no revoke button any more.
    client.force_login(world.users["principal"])
    page = client.get(reverse("security:defence", args=[world.school.pk])).content.decode()
    assert 'data-testid="revoked-devices"' in page
    assert f'data-testid="device-revoke-{device.pk}"' not in page
    # A second revoke is a refusal with the reason, not an error.
    again = client.post(reverse("security:defence_device_revoke", args=[device.pk]))
    assert again.status_code == 409
    assert "已经吊销" in again.content.decode()


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("nobody", 404)]
    + [(w, 302) for w in sorted(EDITORS)]
    + [(w, 403) for w in sorted(READERS)]
    + [(w, 404) for w in sorted(ELSEWHERE)],
)
def test_revoke_matrix(client, world, who, status):
    device, _token = _issue(world)
    if who != "anonymous":
        client.force_login(world.users[who])
    r = client.post(reverse("security:defence_device_revoke", args=[device.pk]))
    assert r.status_code == status
    device.refresh_from_db()
    assert device.is_active == (who not in EDITORS)
    if who != "anonymous":
        assert (
            client.get(reverse("security:defence_device_revoke", args=[device.pk])).status_code
            == 405
        )


def test_revoke_service_refuses_twice(world):
    device, _token = _issue(world)
    device_token_revoke(actor=world.users["principal"], device=device)
    with pytest.raises(DeviceRefused):
        device_token_revoke(actor=world.users["principal"], device=device)


def test_readers_see_devices_without_prefix_buttons_or_who_revoked(client, world):
    device, token = _issue(world)
    gone, _ = _issue(world, name="旧平板", kind="gate_terminal")
    principal = world.users["principal"]
    principal.first_name = "校长甲"
    principal.save()
    device_token_revoke(actor=principal, device=gone)
    client.force_login(world.users["police"])
    page = client.get(reverse("security:defence", args=[world.school.pk])).content.decode()
    assert "南门报警箱" in page and "旧平板" in page
    assert token[:8] not in page
    assert 'data-testid="device-new"' not in page
    assert f'data-testid="device-revoke-{device.pk}"' not in page
    assert "校长甲" not in page and principal.username not in page.split("revoked-devices")[1]
    client.force_login(principal)
    page = client.get(reverse("security:defence", args=[world.school.pk])).content.decode()
    assert "校长甲" in page.split('data-testid="revoked-devices"')[1]


# ------------------------------------------------------------------ a last valid day


def test_token_works_through_its_last_day_then_stops(client, world):
    today = timezone.localdate()
    device, token = _issue(world, valid_until=today)
    assert timezone.localtime(device.expires_at).date() == today + dt.timedelta(days=1)
    assert timezone.localtime(device.expires_at).time() == dt.time(0, 0)
    assert device.valid_until == today
    assert _raise(client, token).status_code == 201
    facts = defence_facts([world.school.pk])[world.school.pk]
    assert facts["alarm_boxes_active"] == 1
    # The day passes.
    DeviceToken.objects.filter(pk=device.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    refused = _raise(client, token)
    assert refused.status_code == 401
    assert "过期" in refused.json()["detail"]
    assert Alarm.objects.count() == 1
    assert device_principal(token) is None
    # An expired box no longer counts for the school's one-click alarm coverage: on the
    # defence figures, and in the compliance evaluation at the time it is run for.
    assert defence_facts([world.school.pk])[world.school.pk]["alarm_boxes_active"] == 0
    before_expiry = timezone.now() - dt.timedelta(minutes=5)
    assert _coverage(world.school, now=before_expiry) == 1
    assert _coverage(world.school, now=timezone.now()) == 0
    client.force_login(world.users["principal"])
    page = client.get(reverse("security:defence", args=[world.school.pk])).content.decode()
    assert 'data-testid="device-expired"' in page
    assert '<strong data-testid="alarm-boxes">0</strong>' in page


def test_page_warns_a_month_ahead(client, world):
    today = timezone.localdate()
    soon, _ = _issue(
        world, name="借用终端", kind="gate_terminal", valid_until=today + dt.timedelta(days=9)
    )
    later, _ = _issue(
        world, name="长期终端", kind="gate_terminal", valid_until=today + dt.timedelta(days=90)
    )
    client.force_login(world.users["guard"])
    page = client.get(reverse("security:defence", args=[world.school.pk])).content.decode()
    rows = page.split('data-testid="device-row"')[1:]
    states = {
        ("借用终端" in row, "长期终端" in row): row.split('data-state="')[1].split('"')[0]
        for row in rows
    }
    assert states[(True, False)] == "expiring" and states[(False, True)] == "in_service"
    assert page.count('data-testid="device-expiring"') == 1
    # The page names the last valid day the issuer chose, not the midnight after it.
    assert f"令牌最后有效日：{today + dt.timedelta(days=9):%Y-%m-%d}，还有 9 天" in page
    assert f"最后有效日 {today + dt.timedelta(days=90):%Y-%m-%d}" in page
    last, _ = _issue(world, name="今天到期", kind="gate_terminal", valid_until=today)
    page = client.get(reverse("security:defence", args=[world.school.pk])).content.decode()
    assert "今天是令牌的最后有效日" in page


def test_a_request_without_a_token_keeps_the_plain_message(client, world):
    r = client.post("/api/v1/alarms", data={"kind": "fire"}, content_type="application/json")
    assert r.status_code == 401
    assert r.json()["detail"] == "请先登录。"


def test_expiry_is_the_next_local_midnight():
    day = dt.date(2026, 12, 31)
    expiry = device_expiry(day)
    assert timezone.localtime(expiry).replace(tzinfo=None) == dt.datetime(2027, 1, 1)
    assert device_expiry(None) is None


def test_command_issues_with_a_last_day_and_refuses_a_past_one(world):
    out = io.StringIO()
    day = (timezone.localdate() + dt.timedelta(days=7)).isoformat()
    call_command(
        "device_token", school=world.school.pk, name="考试终端", kind="gate_terminal",
        valid_until=dt.date.fromisoformat(day), stdout=out,
    )  # fmt: skip
    assert "hxd_" in out.getvalue() and "valid until" in out.getvalue()
    assert DeviceToken.objects.get().expires_at is not None
    with pytest.raises(CommandError, match="past|过去"):
        call_command(
            "device_token", school=world.school.pk, name="x", kind="alarm_box",
            valid_until=dt.date(2020, 1, 1), stdout=io.StringIO(),
        )  # fmt: skip
    assert DeviceToken.objects.count() == 1
