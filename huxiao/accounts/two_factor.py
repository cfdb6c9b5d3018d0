"""TOTP two-factor authentication (RFC 6238) for police, office and county accounts.

Who must use it is decided here, from the user's memberships (ADR 0034, "Two-factor"):
every role outside a school (police, the offices at town or county level, the health
centre, the government and its departments) and superusers. School staff and guards are
exempt: they work at shared gate terminals and consoles and hold no cross-school data.

The login is not complete until the code is verified: the views keep a short-lived pending
state in the session and call ``login()`` only afterwards. Wrong codes count as failed
logins under a key of their own (``otp:<username>``) so that a correct password, which
clears the password failures, does not also clear the code failures.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from huxiao.accounts.models import LoginFailure, TwoFactor
from huxiao.accounts.services import LoginLocked, login_lock_until
from huxiao.audit.models import AuditAction
from huxiao.audit.services import audit_record
from huxiao.core import crypto
from huxiao.core.roles import SCHOOL_ROLES, Role
from huxiao.core.scoping import memberships_of

# Every role that is not a school's own: police, offices at town or county level, the
# health centre, the government and departments. Listed, not derived, so that a new role
# is a decision (ADR 0034).
TWO_FACTOR_ROLES = frozenset(
    {
        Role.POLICE_COMMANDER,
        Role.POLICE_OFFICER,
        Role.LEGAL_VICE_PRINCIPAL,
        Role.EDUCATION_SUPERVISOR,
        Role.GOVERNANCE_COORDINATOR,
        Role.HEALTH_OFFICER,
        Role.GOVERNMENT_LIAISON,
    }
)
if TWO_FACTOR_ROLES & SCHOOL_ROLES:  # school staff and guards are exempt by decision
    raise ImproperlyConfigured("a school role was listed for two-factor authentication")

RECOVERY_CODE_COUNT = 10
# How many 30-second steps either side of now a code may come from (clock drift).
VALID_WINDOW = 1


class TwoFactorError(Exception):
    """A wrong, replayed or malformed code."""


def _otp_key(username: str) -> str:
    return ("otp:" + username.lower())[:150]


def two_factor_of(user) -> TwoFactor | None:
    return TwoFactor.objects.filter(user=user).first()


def two_factor_enrolled(user) -> bool:
    return TwoFactor.objects.filter(user=user, confirmed_at__isnull=False).exists()


def two_factor_required(user) -> bool:
    """Whether this user must pass a second factor to log in.

    Off in demo mode (the demo users must get in with the printed password; production
    refuses demo mode) and when HUXIAO_TWO_FACTOR is off. Otherwise required for the roles
    above, superusers, and anyone who enrolled of their own accord.
    """
    if settings.DEMO_MODE or not settings.TWO_FACTOR_ENFORCED:
        return False
    if user.is_superuser or two_factor_enrolled(user):
        return True
    return any(m.role in TWO_FACTOR_ROLES for m in memberships_of(user))


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret)


def _hash_recovery(code: str) -> str:
    normalized = code.replace("-", "").replace(" ", "").lower()
    return hashlib.sha256(normalized.encode()).hexdigest()


def _new_recovery_codes() -> list[str]:
    # 10 lowercase base32-ish characters in two groups: typed from paper, 50 bits each.
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(alphabet) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def provisioning_uri(user, secret: str) -> str:
    return _totp(secret).provisioning_uri(
        name=user.get_username(), issuer_name=settings.TWO_FACTOR_ISSUER
    )


@transaction.atomic
def two_factor_enrol_start(*, user) -> str:
    """The secret of the enrolment under way (made now if there is none). Refuses a user
    who has already enrolled: re-enrolling would let a stolen password replace the
    authenticator; an administrator resets it instead (`manage.py twofactor_reset`)."""
    row = TwoFactor.objects.select_for_update().filter(user=user).first()
    if row is not None and row.confirmed_at is not None:
        raise TwoFactorError("already enrolled")
    if row is None:
        secret = pyotp.random_base32()
        TwoFactor.objects.create(user=user, secret_encrypted=crypto.encrypt(secret))
        return secret
    return crypto.decrypt(row.secret_encrypted)


def _locked(user, ip: str) -> None:
    until = login_lock_until(username=_otp_key(user.get_username()), ip=ip)
    if until is not None:
        raise LoginLocked(until)


def _record_failure(user, ip: str) -> None:
    LoginFailure.objects.create(username=_otp_key(user.get_username()), ip=ip, at=timezone.now())
    audit_record(
        actor=None,
        action=AuditAction.LOGIN_FAILED,
        object_type="accounts.twofactor",
        object_repr=f"{user.get_username()} (code)",
    )


def _match_totp(row: TwoFactor, code: str) -> int | None:
    """The time step the code belongs to, if it is valid and newer than the last used."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = _totp(crypto.decrypt(row.secret_encrypted))
    now_step = int(time.time()) // totp.interval
    for step in range(now_step - VALID_WINDOW, now_step + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            # A code already used (or one older than the last used) is a replay.
            if row.last_used_step is not None and step <= row.last_used_step:
                return None
            return step
    return None


def two_factor_enrol_confirm(*, user, code: str, ip: str = "") -> list[str]:
    """Confirm the enrolment with a first code; returns the recovery codes (shown once)."""
    _locked(user, ip)
    with transaction.atomic():
        row = TwoFactor.objects.select_for_update().filter(user=user).first()
        if row is None or row.confirmed_at is not None:
            raise TwoFactorError("no enrolment under way")
        step = _match_totp(row, code)
        if step is not None:
            codes = _new_recovery_codes()
            row.confirmed_at = timezone.now()
            row.last_used_step = step
            row.recovery_hashes = [_hash_recovery(c) for c in codes]
            row.save(update_fields=["confirmed_at", "last_used_step", "recovery_hashes"])
            LoginFailure.objects.filter(username=_otp_key(user.get_username())).delete()
            audit_record(
                actor=user,
                action=AuditAction.CREATE,
                object_type="accounts.twofactor",
                object_id=str(row.pk),
                object_repr=f"2FA {user.get_username()}",
            )
            return codes
    with transaction.atomic():
        _record_failure(user, ip)
    _locked(user, ip)
    raise TwoFactorError("wrong code")


def two_factor_verify(*, user, code: str, ip: str = "") -> str:
    """Check a login code: a current TOTP code or an unused recovery code (consumed).

    Returns "totp" or "recovery"; raises TwoFactorError for a wrong code and LoginLocked
    when too many wrong codes were tried (the failed-login lockout, its own counter).
    """
    _locked(user, ip)
    code = (code or "").strip()[:64]
    with transaction.atomic():
        row = (
            TwoFactor.objects.select_for_update()
            .filter(user=user, confirmed_at__isnull=False)
            .first()
        )
        if row is None:
            raise TwoFactorError("not enrolled")
        step = _match_totp(row, code)
        used = None
        if step is not None:
            row.last_used_step = step
            row.save(update_fields=["last_used_step"])
            used = "totp"
        elif code:
            digest = _hash_recovery(code)
            if digest in row.recovery_hashes:
                row.recovery_hashes = [h for h in row.recovery_hashes if h != digest]
                row.save(update_fields=["recovery_hashes"])
                used = "recovery"
        if used is not None:
            LoginFailure.objects.filter(username=_otp_key(user.get_username())).delete()
            audit_record(
                actor=user,
                action=AuditAction.LOGIN,
                object_type="accounts.twofactor",
                object_id=str(row.pk),
                object_repr=f"{user.get_username()} ({used})",
            )
            return used
    with transaction.atomic():
        _record_failure(user, ip)
    _locked(user, ip)
    raise TwoFactorError("wrong code")


def recovery_codes_left(user) -> int:
    row = two_factor_of(user)
    return len(row.recovery_hashes) if row is not None else 0


@transaction.atomic
def two_factor_reset(*, actor, user, reason: str = "") -> bool:
    """Remove a user's second factor (lost phone); they enrol again at their next login.
    Returns False when there was nothing to reset. Audited either way."""
    deleted, _ = TwoFactor.objects.filter(user=user).delete()
    LoginFailure.objects.filter(username=_otp_key(user.get_username())).delete()
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        object_type="accounts.twofactor",
        object_id=str(user.pk),
        object_repr=f"2FA reset {user.get_username()}" + (f": {reason[:200]}" if reason else ""),
    )
    return bool(deleted)
