"""Login lockout, API tokens and device tokens."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import connection, transaction
from django.utils import timezone

from huxiao.accounts.models import ApiToken, DeviceKind, DeviceToken, LoginFailure
from huxiao.audit.models import AuditAction
from huxiao.audit.services import audit_create, audit_record
from huxiao.core.roles import Action
from huxiao.core.scoping import DevicePrincipal

# What a device may do at its school (later issues add their actions here).
DEVICE_ACTIONS = frozenset({Action.RAISE_ALARM, Action.REGISTER_VISITOR, Action.RELEASE_CHILD})


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LoginLocked(Exception):
    def __init__(self, until: dt.datetime):
        super().__init__("locked")
        self.until = until


def _recent_failures(username: str, ip: str):
    since = timezone.now() - dt.timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
    by_user = LoginFailure.objects.filter(username=username.lower(), at__gte=since)
    # Many usernames from one address is guessing too; the per-address limit is wider.
    by_ip = LoginFailure.objects.filter(ip=ip, at__gte=since) if ip else LoginFailure.objects.none()
    return by_user, by_ip


def login_lock_until(*, username: str, ip: str) -> dt.datetime | None:
    by_user, by_ip = _recent_failures(username, ip)
    limit = settings.LOGIN_MAX_FAILURES
    window = dt.timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
    for qs, threshold in ((by_user, limit), (by_ip, limit * 4)):
        times = list(qs.order_by("-at").values_list("at", flat=True)[:threshold])
        if len(times) >= threshold:
            return times[0] + window
    return None


def login_check(*, request, username: str, password: str):
    """Authenticate with lockout. Returns the user or None; raises LoginLocked."""
    from huxiao.core.middleware import client_ip

    username = (username or "").strip()[:150]
    ip = client_ip(request) if request is not None else ""
    until = login_lock_until(username=username, ip=ip)
    if until is not None:
        raise LoginLocked(until)
    user = authenticate(request, username=username, password=password)
    if user is None:
        with transaction.atomic():
            LoginFailure.objects.create(username=username.lower(), ip=ip, at=timezone.now())
            audit_record(
                actor=None,
                action=AuditAction.LOGIN_FAILED,
                object_type="auth.user",
                object_repr=username,
            )
        until = login_lock_until(username=username, ip=ip)
        if until is not None:
            audit_record(
                actor=None,
                action=AuditAction.LOGIN_LOCKED,
                object_type="auth.user",
                object_repr=username,
            )
            raise LoginLocked(until)
        return None
    LoginFailure.objects.filter(username=username.lower()).delete()
    audit_record(actor=user, action=AuditAction.LOGIN, obj=user)
    return user


@transaction.atomic
def api_token_issue(*, user) -> str:
    token = "hx_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user,
        key_hash=_hash(token),
        prefix=token[:8],
        expires_at=timezone.now() + dt.timedelta(days=settings.API_TOKEN_TTL_DAYS),
    )
    audit_record(actor=user, action=AuditAction.TOKEN, obj=user)
    return token


def api_token_user(token: str):
    """The user behind a bearer token, or None. Touches last_used at most once a minute."""
    now = timezone.now()
    row = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_hash(token), revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if row is None or not row.user.is_active:
        return None
    if row.last_used_at is None or now - row.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user


@transaction.atomic
def device_token_issue(*, actor, school, name: str, kind: str) -> tuple[DeviceToken, str]:
    from huxiao.core.permissions import require

    if actor is not None:
        require(actor, Action.EDIT_ORG, school.pk)
    token = "hxd_" + secrets.token_urlsafe(32)
    device = DeviceToken.objects.create(
        school=school, name=name, kind=kind, key_hash=_hash(token), prefix=token[:8]
    )
    audit_create(actor=actor, obj=device)
    if kind == DeviceKind.ALARM_BOX:
        from huxiao.security.compliance import reevaluate_on_commit

        reevaluate_on_commit([school.pk])
    return device, token


@functools.cache
def _device_sql(vendor: str) -> str:
    # Every request of a gate terminal or alarm box runs this lookup: written once, since
    # building the ORM query cost ten times running it (ADR 0022, "Performance").
    quote = connection.ops.quote_name
    column = {f.name: quote(f.column) for f in DeviceToken._meta.concrete_fields}
    return (
        f"SELECT {column['id']}, {column['school']}, {column['name']}, "  # noqa: S608
        f"({column['last_used_at']} IS NULL OR {column['last_used_at']} < %s) "
        f"FROM {quote(DeviceToken._meta.db_table)} "
        f"WHERE {column['key_hash']} = %s AND {column['is_active']}"
    )


def device_principal(token: str) -> DevicePrincipal | None:
    """The active device behind a device token, or None. Touches last_used_at at most once
    a minute."""
    now = timezone.now()
    touch_before = connection.ops.adapt_datetimefield_value(now - dt.timedelta(minutes=1))
    with connection.cursor() as cursor:
        cursor.execute(_device_sql(connection.vendor), [touch_before, _hash(token)])
        row = cursor.fetchone()
    if row is None:
        return None
    device_id, school_id, name, stale = row
    if stale:
        DeviceToken.objects.filter(pk=device_id).update(last_used_at=now)
    return DevicePrincipal(
        device_id=device_id, school_id=school_id, name=name, actions=DEVICE_ACTIONS
    )


def login_failures_purge(*, older_than: dt.datetime) -> int:
    deleted, _ = LoginFailure.objects.filter(at__lt=older_than).delete()
    return deleted
