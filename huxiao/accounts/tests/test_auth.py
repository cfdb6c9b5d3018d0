import pytest
from django.test import override_settings

from huxiao.accounts.models import ApiToken, LoginFailure
from huxiao.accounts.services import device_token_issue
from huxiao.audit.models import AuditEvent


def test_token_issue_and_me(world, client):
    response = client.post(
        "/api/v1/auth/token",
        data={"username": "principal", "password": "pw-test-123"},
        content_type="application/json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    # Only a hash is stored.
    assert not ApiToken.objects.filter(key_hash=token).exists()
    me = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert me["username"] == "principal"
    assert me["memberships"][0]["organization_id"] == world.school.pk
    assert me["memberships"][0]["role"] == "principal"


def test_wrong_password_and_unknown_token(world, client):
    response = client.post(
        "/api/v1/auth/token",
        data={"username": "principal", "password": "nope"},
        content_type="application/json",
    )
    assert response.status_code == 401
    assert "detail" in response.json()
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer hx_forged").status_code == 401
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION="Basic abc").status_code == 401


@override_settings(LOGIN_MAX_FAILURES=3)
def test_lockout_after_repeated_failures_even_with_right_password(world, client):
    for _ in range(3):
        client.post("/accounts/login/", {"username": "principal", "password": "bad"})
    response = client.post("/accounts/login/", {"username": "principal", "password": "pw-test-123"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    api = client.post(
        "/api/v1/auth/token",
        data={"username": "principal", "password": "pw-test-123"},
        content_type="application/json",
    )
    assert api.status_code == 429
    assert AuditEvent.objects.filter(action="login_locked").exists()
    # Another user is not locked by principal's failures.
    ok = client.post("/accounts/login/", {"username": "guard", "password": "pw-test-123"})
    assert ok.status_code == 302


def test_login_page_success_resets_failures(world, client):
    client.post("/accounts/login/", {"username": "principal", "password": "bad"})
    assert LoginFailure.objects.count() == 1
    response = client.post("/accounts/login/", {"username": "principal", "password": "pw-test-123"})
    assert response.status_code == 302
    assert LoginFailure.objects.count() == 0
    assert AuditEvent.objects.filter(action="login", actor=world.users["principal"]).exists()


def test_login_rejects_open_redirect(world, client):
    response = client.post(
        "/accounts/login/",
        {"username": "principal", "password": "pw-test-123", "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.parametrize("target", ["-1", "abc", "//evil.example/x"])
def test_login_with_a_next_that_is_no_path_goes_home(world, client, target):
    """redirect() took "-1" for a view's name: a server error after a right password."""
    response = client.post(
        "/accounts/login/",
        {"username": "principal", "password": "pw-test-123", "next": target},
    )
    assert response.status_code == 302 and response["Location"] == "/"


def test_login_keeps_a_next_on_this_site(world, client):
    response = client.post(
        "/accounts/login/?next=/alarms/console/",
        {"username": "principal", "password": "pw-test-123"},
    )
    assert response.status_code == 302 and response["Location"] == "/alarms/console/"


def test_login_page_is_chinese_by_default(client, db):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert "登录" in response.content.decode()


@pytest.mark.parametrize("path", ["/", "/orgs/schools/", "/people/classes/", "/audit/"])
def test_pages_require_login(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_device_token_is_bound_to_one_school(world, client):
    device, token = device_token_issue(
        actor=world.users["principal"], school=world.school, name="大门终端", kind="gate_terminal"
    )
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    me = client.get("/api/v1/me", **auth).json()
    assert me == {
        "kind": "device",
        "id": device.pk,
        "username": "大门终端",
        "name": "大门终端",
        "memberships": [],
        "school_id": world.school.pk,
    }
    # A device may not read rosters: its actions are alarms and visitors only.
    assert client.get(f"/api/v1/children/{world.child.pk}", **auth).status_code == 404
    device.is_active = False
    device.save()
    assert client.get("/api/v1/me", **auth).status_code == 401


def test_device_token_issue_requires_manage_security(world):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        device_token_issue(
            actor=world.users["guard"], school=world.school, name="x", kind="alarm_box"
        )


def test_english_browser_still_gets_chinese_until_the_user_switches(client, db):
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "登录" in page.content.decode()
    client.cookies["django_language"] = "en"
    assert "Log in" in client.get("/accounts/login/").content.decode()
    client.cookies["django_language"] = "xx"
    assert "登录" in client.get("/accounts/login/").content.decode()
