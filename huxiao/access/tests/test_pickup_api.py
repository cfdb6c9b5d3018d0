# ruff: noqa: F811 - pytest fixtures imported from pickup_fixtures are arguments here
"""Pick-up API and pages: role × scope, shapes, refusals (issue 5, ADR 0025)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huxiao.access import pickup_services as services
from huxiao.access.models import GuardianPhoto, PickupCode, PickupDelegate, Release
from huxiao.access.tests.pickup_fixtures import pickup  # noqa: F401
from huxiao.accounts.services import device_token_issue

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _lookup(api, user, code, **body):
    return api("post", "/api/v1/pickup/lookup", user, json={"code": code, **body})


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("anonymous", 401),
        ("nobody", 403),
        ("health", 403),
        ("police", 403),
        ("edu", 403),
        # Another school's gate naming this school: a field error, never its data.
        ("principal2", 400),
        ("guard2", 400),
    ],
)
def test_lookup_denied_outside_release_role_or_school(pickup, api, name, status):
    w = pickup
    user = None if name == "anonymous" else w.users[name]
    response = _lookup(api, user, w.issued.pin, school_id=w.school.pk)
    assert response.status_code == status
    assert "王小明" not in response.content.decode()
    assert not Release.objects.exists()


def test_lookup_and_release_as_guard(pickup, api):
    w = pickup
    response = _lookup(api, w.users["guard"], w.issued.card_text)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["child"] == {
        "id": w.child.pk,
        "name": "王小明",
        "class_name": "小一班",
        "initials": "小明",
    }
    assert data["adult"]["name"] == "王妈妈" and data["adult"]["is_delegate"] is False
    assert "id_number" not in response.content.decode()
    released = api(
        "post",
        "/api/v1/pickup/release",
        w.users["guard"],
        json={"confirmation_token": data["confirmation_token"]},
    )
    assert released.status_code == 201, released.content
    assert released.json()["child"]["id"] == w.child.pk
    again = api(
        "post",
        "/api/v1/pickup/release",
        w.users["guard"],
        json={"confirmation_token": data["confirmation_token"]},
    )
    assert again.status_code == 409 and again.json()["code"] == "already_released"
    assert Release.objects.count() == 1


def test_lookup_by_gate_terminal_device(pickup, client):
    w = pickup
    _device, token = device_token_issue(
        actor=w.users["principal"], school=w.school, name="大门平板", kind="gate_terminal"
    )
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    response = client.post(
        "/api/v1/pickup/lookup",
        data={"code": w.issued.pin},
        content_type="application/json",
        **auth,
    )
    assert response.status_code == 200, response.content
    other = client.post(
        "/api/v1/pickup/lookup",
        data={"code": w.issued.pin, "school_id": w.other_school.pk},
        content_type="application/json",
        **auth,
    )
    assert other.status_code == 400
    released = client.post(
        "/api/v1/pickup/release",
        data={"confirmation_token": response.json()["confirmation_token"]},
        content_type="application/json",
        **auth,
    )
    assert released.status_code == 201
    assert Release.objects.get().released_by_label == "device:大门平板"


def test_refusals_and_bad_input(pickup, api):
    w = pickup
    guard = w.users["guard"]
    other = _lookup(api, guard, w.other_issued.card_text)
    assert other.status_code == 409 and other.json()["code"] == "other_school"
    assert other.json()["detail"] == "其他学校的码"
    assert "张三" not in other.content.decode()
    for noise in ("", "abc", "12345", w.issued.card_text[:-4], "x" * 600):
        response = _lookup(api, guard, noise)
        assert response.status_code == 400, noise
    bad = api("post", "/api/v1/pickup/release", guard, json={"confirmation_token": "nonsense"})
    assert bad.status_code == 400 and "token" in bad.json()["errors"]
    wrong = "000000" if w.issued.pin != "000000" else "111111"
    statuses = [_lookup(api, guard, wrong).status_code for _ in range(5)]
    assert statuses == [409, 409, 409, 409, 429]
    locked = _lookup(api, guard, wrong).json()
    assert locked["code"] == "pin_locked" and "PIN 错误次数过多" in locked["detail"]
    assert _lookup(api, guard, w.issued.pin).status_code == 429
    assert not Release.objects.exists()


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("anonymous", 401),
        ("nobody", 404),
        ("health", 403),
        ("police", 403),
        ("principal2", 404),
        ("guard", 200),
        ("teacher", 200),
        ("principal", 200),
    ],
)
def test_class_waiting_api_matrix(pickup, api, name, status):
    w = pickup
    user = None if name == "anonymous" else w.users[name]
    response = api("get", f"/api/v1/pickup/classes/{w.school_class.pk}/waiting", user)
    assert response.status_code == status
    if status == 200:
        data = response.json()
        assert data["count"] == 2 and data["waiting"] == 2
        assert {i["child"]["name"] for i in data["items"]} == {"王小明", "李小红"}


# ---------------------------------------------------------------- pages


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("nobody", 404),
        ("police", 403),
        ("principal2", 404),
        ("guard", 403),
        ("duty", 403),
        ("teacher", 200),
        ("security", 200),
        ("principal", 200),
    ],
)
def test_class_page_matrix(pickup, client, name, status):
    w = pickup
    client.force_login(w.users[name])
    response = client.get(reverse("access:pickup_class", args=[w.school_class.pk]))
    assert response.status_code == status
    if status == 200:
        html = response.content.decode()
        assert "王妈妈" in html and "李爸爸" in html
        assert w.issued.pin not in html


def test_class_page_anonymous_redirects_to_login(pickup, client):
    response = client.get(reverse("access:pickup_class", args=[pickup.school_class.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize(
    ("name", "status"),
    [("nobody", 404), ("police", 403), ("principal2", 404), ("guard", 200), ("teacher", 200)],
)
def test_waiting_page_matrix(pickup, client, name, status):
    w = pickup
    client.force_login(w.users[name])
    response = client.get(reverse("access:pickup_waiting", args=[w.school_class.pk]))
    assert response.status_code == status


def test_issue_code_page_shows_pin_once_and_revokes_old(pickup, client):
    w = pickup
    client.force_login(w.users["teacher"])
    response = client.post(reverse("access:pickup_code_issue", args=[w.guardian.pk]))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert "<svg" in response.content.decode()
    assert PickupCode.objects.filter(guardian=w.guardian, revoked_at__isnull=True).count() == 1
    assert PickupCode.objects.get(pk=w.issued.code.pk).revoked_at is not None
    page = client.get(reverse("access:pickup_class", args=[w.school_class.pk])).content.decode()
    issued_pin = response.context["issued"].pin
    assert issued_pin not in page


@pytest.mark.parametrize("name", ["guard", "principal2", "police"])
def test_issue_revoke_photo_denied(pickup, client, name):
    w = pickup
    client.force_login(w.users[name])
    codes_before = PickupCode.objects.count()
    r1 = client.post(reverse("access:pickup_code_issue", args=[w.guardian.pk]))
    r2 = client.post(reverse("access:pickup_code_revoke", args=[w.issued.code.pk]))
    r3 = client.post(
        reverse("access:pickup_photo_upload", args=[w.guardian.pk]),
        {"photo": _upload(PNG)},
    )
    assert {r1.status_code, r2.status_code, r3.status_code} <= {403, 404}
    assert PickupCode.objects.count() == codes_before
    assert PickupCode.objects.get(pk=w.issued.code.pk).revoked_at is None
    assert not GuardianPhoto.objects.exists()


def _upload(data, name="a.png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="image/png")


def test_photo_upload_and_serving(pickup, client):
    w = pickup
    client.force_login(w.users["teacher"])
    bad = client.post(
        reverse("access:pickup_photo_upload", args=[w.guardian.pk]),
        {"photo": _upload(b"GIF89a....", "a.gif")},
    )
    assert bad.status_code == 400 and not GuardianPhoto.objects.exists()
    ok = client.post(
        reverse("access:pickup_photo_upload", args=[w.guardian.pk]), {"photo": _upload(PNG)}
    )
    assert ok.status_code == 302
    client.force_login(w.users["guard"])
    served = client.get(reverse("access:pickup_photo", args=["guardian", w.guardian.pk]))
    assert served.status_code == 200 and served.content == PNG
    assert served["Cache-Control"] == "no-store"
    client.force_login(w.users["principal2"])
    assert (
        client.get(reverse("access:pickup_photo", args=["guardian", w.guardian.pk])).status_code
        == 404
    )


def test_scan_confirm_release_pages(pickup, client):
    w = pickup
    client.force_login(w.users["guard"])
    assert client.get(reverse("access:pickup_scan")).status_code == 200
    confirm = client.post(reverse("access:pickup_scan"), {"code": w.issued.pin})
    assert confirm.status_code == 200
    html = confirm.content.decode()
    assert "王小明" in html and "王妈妈" in html and "小一班" in html
    token = confirm.context["match"].token
    done = client.post(reverse("access:pickup_release"), {"token": token})
    assert done.status_code == 200 and Release.objects.count() == 1
    again = client.post(reverse("access:pickup_scan"), {"code": w.issued.card_text})
    assert again.status_code == 409
    assert "孩子已被接走" in again.content.decode()
    noise = client.post(reverse("access:pickup_scan"), {"code": "HX1.K.12"})
    assert noise.status_code == 400
    assert "不是接送码" in noise.content.decode()
    client.force_login(w.users["police"])
    assert client.get(reverse("access:pickup_scan")).status_code == 403


def test_guardian_link_page_and_delegate(pickup, client, monkeypatch):
    w = pickup
    token = services.guardian_link_token(w.issued.code)
    page = client.get(reverse("access:pickup_guardian", args=[token]))
    assert page.status_code == 200 and "<svg" in page.content.decode()
    assert page["Cache-Control"].startswith("max-age=0") or "no-store" in page["Cache-Control"]
    assert client.get(reverse("access:pickup_guardian", args=[token + "x"])).status_code == 404
    assert client.get(reverse("access:pickup_guardian_qr", args=[token])).status_code == 200
    noon = services.local_now().replace(hour=12, minute=0)
    monkeypatch.setattr(services, "local_now", lambda now=None: noon)
    posted = client.post(
        reverse("access:pickup_guardian", args=[token]),
        {"name": "王奶奶", "phone": "13700137000", "relationship": "奶奶"},
    )
    assert posted.status_code == 200, posted.content.decode()
    delegate = PickupDelegate.objects.get()
    assert delegate.named_by == w.guardian and delegate.on_date == noon.date()
    late = noon.replace(hour=15)
    monkeypatch.setattr(services, "local_now", lambda now=None: late)
    refused = client.post(
        reverse("access:pickup_guardian", args=[token]),
        {"name": "王爷爷", "phone": "13700137001", "relationship": "爷爷"},
    )
    assert refused.status_code == 400
    assert "已过截止时间" in refused.content.decode()
    assert PickupDelegate.objects.count() == 1
    services.pickup_code_revoke(actor=w.users["teacher"], code=w.issued.code)
    assert client.get(reverse("access:pickup_guardian", args=[token])).status_code == 404
