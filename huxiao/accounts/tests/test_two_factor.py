"""TOTP two-factor authentication: who must use it, the web and API flows, lockout,
recovery codes, the reset command and the idle timeout (ADR 0034)."""

from __future__ import annotations

import time

import pyotp
import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from huxiao.accounts.models import TwoFactor
from huxiao.accounts.two_factor import TWO_FACTOR_ROLES, two_factor_required
from huxiao.accounts.views import PENDING_KEY
from huxiao.audit.models import AuditEvent
from huxiao.core import crypto
from huxiao.core.roles import SCHOOL_ROLES, Role
from huxiao.orgs.tests.factories import UserFactory

PW = "pw-test-123"
pytestmark = pytest.mark.django_db

on = override_settings(TWO_FACTOR_ENFORCED=True, DEMO_MODE=False)


def _login(client, username):
    return client.post("/accounts/login/", {"username": username, "password": PW})


def _enrol(client, username) -> tuple[str, list[str]]:
    """Log in and enrol through the pages; returns the secret and the recovery codes."""
    assert _login(client, username)["Location"] == "/accounts/login/enrol/"
    page = client.get("/accounts/login/enrol/")
    secret = page.context["secret"].replace(" ", "")
    done = client.post("/accounts/login/enrol/", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    return secret, done.context["codes"]


def _authenticated(client) -> bool:
    return "_auth_user_id" in client.session


def test_roles_that_must_use_two_factor():
    listed = {
        Role.POLICE_COMMANDER,
        Role.POLICE_OFFICER,
        Role.LEGAL_VICE_PRINCIPAL,
        Role.EDUCATION_SUPERVISOR,
        Role.GOVERNANCE_COORDINATOR,
        Role.HEALTH_OFFICER,
        Role.GOVERNMENT_LIAISON,
    }
    assert listed == TWO_FACTOR_ROLES
    assert not TWO_FACTOR_ROLES & SCHOOL_ROLES
    # Every role is decided: either a school role (exempt) or listed.
    assert set(Role) == TWO_FACTOR_ROLES | SCHOOL_ROLES


@on
def test_required_for_police_and_offices_not_for_school_staff(world):
    assert two_factor_required(world.users["police"])
    assert two_factor_required(world.users["county"])
    assert not two_factor_required(world.users["principal"])
    assert not two_factor_required(world.users["guard"])
    admin = UserFactory(username="root", is_superuser=True)
    assert two_factor_required(admin)
    with override_settings(DEMO_MODE=True):
        assert not two_factor_required(world.users["police"])
    with override_settings(TWO_FACTOR_ENFORCED=False):
        assert not two_factor_required(world.users["police"])


@on
def test_enrolment_then_code_at_every_login(world, client):
    response = _login(client, "police")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/enrol/"
    # The password alone does not log in.
    assert not _authenticated(client)
    assert client.get("/").status_code == 302
    page = client.get("/accounts/login/enrol/")
    assert page.status_code == 200
    secret = page.context["secret"].replace(" ", "")
    assert page.context["uri"].startswith("otpauth://totp/")
    assert b"<svg" in page.content  # the QR code, inline, made on the server
    row = TwoFactor.objects.get(user=world.users["police"])
    # Encrypted at rest with the data key, never stored plain.
    assert secret not in row.secret_encrypted
    assert crypto.decrypt(row.secret_encrypted) == secret and row.confirmed_at is None

    wrong = client.post("/accounts/login/enrol/", {"code": "000000"})
    assert wrong.status_code == 400 and not _authenticated(client)
    totp = pyotp.TOTP(secret)
    done = client.post("/accounts/login/enrol/", {"code": totp.now()})
    assert done.status_code == 200 and _authenticated(client)
    codes = done.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    row.refresh_from_db()
    assert row.confirmed_at is not None
    assert all(c not in str(row.recovery_hashes) for c in codes)  # digests only
    assert AuditEvent.objects.filter(object_type="accounts.twofactor", action="create").exists()

    client.post("/accounts/logout/")
    assert _login(client, "police")["Location"] == "/accounts/login/code/"
    assert not _authenticated(client)
    # The code used to enrol cannot be replayed.
    replay = client.post("/accounts/login/code/", {"code": totp.now()})
    assert replay.status_code == 400 and not _authenticated(client)
    # The next time step's code is within the accepted drift and newer than the last.
    ok = client.post("/accounts/login/code/", {"code": totp.at(time.time() + 30)})
    assert ok.status_code == 302 and ok["Location"] == "/" and _authenticated(client)


@on
def test_recovery_code_logs_in_once(world, client):
    secret, codes = _enrol(client, "county")
    client.post("/accounts/logout/")
    _login(client, "county")
    ok = client.post("/accounts/login/code/", {"code": codes[0].upper()})
    assert ok.status_code == 302 and _authenticated(client)
    client.post("/accounts/logout/")
    _login(client, "county")
    again = client.post("/accounts/login/code/", {"code": codes[0]})
    assert again.status_code == 400 and not _authenticated(client)
    assert len(TwoFactor.objects.get(user=world.users["county"]).recovery_hashes) == 9


@on
def test_pending_login_expires_after_five_minutes(world, client):
    _enrol(client, "police")
    client.post("/accounts/logout/")
    _login(client, "police")
    session = client.session
    pending = session[PENDING_KEY]
    pending["at"] -= 301
    session[PENDING_KEY] = pending
    session.save()
    secret = crypto.decrypt(TwoFactor.objects.get(user=world.users["police"]).secret_encrypted)
    late = client.post("/accounts/login/code/", {"code": pyotp.TOTP(secret).at(time.time() + 30)})
    assert late.status_code == 400 and not _authenticated(client)
    assert client.get("/accounts/login/code/")["Location"] == "/accounts/login/"


@on
@override_settings(LOGIN_MAX_FAILURES=3)
def test_wrong_codes_lock_out_even_after_a_right_password(world, client):
    secret, _codes = _enrol(client, "police")
    client.post("/accounts/logout/")
    for _ in range(3):
        _login(client, "police")  # a right password must not clear the code failures
        client.post("/accounts/login/code/", {"code": "123456"})
    _login(client, "police")
    locked = client.post("/accounts/login/code/", {"code": pyotp.TOTP(secret).at(time.time() + 30)})
    assert locked.status_code == 429 and not _authenticated(client)


@on
def test_school_staff_log_in_with_password_only(world, client):
    response = _login(client, "principal")
    assert response.status_code == 302 and response["Location"] == "/"
    assert _authenticated(client)
    assert not TwoFactor.objects.exists()


@override_settings(TWO_FACTOR_ENFORCED=True, DEMO_MODE=True)
def test_demo_mode_exempts_demo_users(world, client):
    response = _login(client, "police")
    assert response["Location"] == "/" and _authenticated(client)


def _token(client, username, otp=None):
    body = {"username": username, "password": PW}
    if otp is not None:
        body["otp"] = otp
    return client.post("/api/v1/auth/token", data=body, content_type="application/json")


@on
def test_api_token_needs_the_code(world, client):
    not_set_up = _token(client, "police")
    assert not_set_up.status_code == 403 and "otp" in not_set_up.json()["errors"]
    secret, _codes = _enrol(client, "police")
    client.post("/accounts/logout/")
    missing = _token(client, "police")
    assert missing.status_code == 401 and "otp" in missing.json()["errors"]
    assert _token(client, "police", "000000").status_code == 401
    ok = _token(client, "police", pyotp.TOTP(secret).at(time.time() + 30))
    assert ok.status_code == 200 and ok.json()["token"].startswith("hx_")
    # School staff keep the password-only call.
    assert _token(client, "principal").status_code == 200


@on
def test_reset_command_is_audited_and_forces_enrolment(world, client):
    _enrol(client, "police")
    client.post("/accounts/logout/")
    call_command("twofactor_reset", "police", "--reason", "phone lost")
    assert not TwoFactor.objects.filter(user=world.users["police"]).exists()
    event = AuditEvent.objects.get(object_type="accounts.twofactor", action="delete")
    assert "phone lost" in event.object_repr
    assert _login(client, "police")["Location"] == "/accounts/login/enrol/"
    with pytest.raises(CommandError):
        call_command("twofactor_reset", "nobody-here")


@on
@override_settings(SESSION_IDLE_SECONDS=1800, SESSION_IDLE_SECONDS_SCHOOL=0)
def test_idle_timeout_for_police_not_for_school_staff(world, client):
    from huxiao.accounts.middleware import SESSION_KEY

    police = world.users["police"]
    client.force_login(police)
    assert client.get("/").status_code == 200
    session = client.session
    session[SESSION_KEY] = int(time.time()) - 1801
    session.save()
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not _authenticated(client)

    client.force_login(world.users["principal"])
    client.get("/")
    session = client.session
    session[SESSION_KEY] = int(time.time()) - 10 * 3600
    session.save()
    assert client.get("/").status_code == 200


def test_secret_column_is_found_by_the_key_rotation():
    from huxiao.core.management.commands.rotate_data_key import encrypted_columns

    assert (TwoFactor, "secret_encrypted") in encrypted_columns()
