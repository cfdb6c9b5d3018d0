"""Login lockout, API tokens and device tokens."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import IntegrityError, connection, transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.accounts.models import ApiToken, DeviceKind, DeviceToken, LoginFailure
from huxiao.audit.models import AuditAction
from huxiao.audit.services import audit_create, audit_record, audit_update, snapshot
from huxiao.core.names import acting_user
from huxiao.core.permissions import require
from huxiao.core.roles import Action
from huxiao.core.scoping import DevicePrincipal
from huxiao.people import validation as v

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


class DeviceRefused(Exception):
    """A step the device's state does not allow (pages answer 409 with the sentence)."""


ALREADY_ISSUED = _(
    "This form was already sent and the device added; its token was shown then. If nobody "
    "noted it, revoke the device and add it again."
)
# How far ahead a device token's expiry may be set (a date further out is a typing error).
DEVICE_MAX_VALID_DAYS = 3660


def device_expiry(valid_until: dt.date | None) -> dt.datetime | None:
    """The token's expiry for a last valid day (local): the next local midnight."""
    if valid_until is None:
        return None
    tz = timezone.get_current_timezone()
    return dt.datetime.combine(valid_until + dt.timedelta(days=1), dt.time(), tzinfo=tz)


def _clean_device(*, name, kind, valid_until, today: dt.date) -> dict:
    errors = v.FieldErrors()
    cleaned = {"name": errors.run("name", v.clean_text, name, max_length=100, required=True)}
    if cleaned["name"] and "\n" in cleaned["name"]:
        errors.add("name", _("Enter the name on one line."))
    if kind not in DeviceKind.values:
        errors.add("kind", _("Select a valid choice."))
    cleaned["kind"] = kind
    if valid_until is not None:
        if not isinstance(valid_until, dt.date) or isinstance(valid_until, dt.datetime):
            errors.add("valid_until", _("Enter a valid date."))
        elif valid_until < today:
            errors.add("valid_until", _("The last valid day cannot be in the past."))
        elif valid_until > today + dt.timedelta(days=DEVICE_MAX_VALID_DAYS):
            errors.add("valid_until", _("The last valid day is at most ten years ahead."))
    errors.raise_if_any()
    cleaned["expires_at"] = device_expiry(valid_until)
    return cleaned


@transaction.atomic
def device_token_issue(
    *,
    actor,
    school,
    name: str,
    kind: str,
    valid_until: dt.date | None = None,
    issue_key: str | None = None,
) -> tuple[DeviceToken, str]:
    """A new token for a gate terminal or alarm box of the school: returned once, stored as
    its SHA-256 digest. Without `valid_until` it works until revoked (an alarm box must not
    fall silent because a date passed); with it, through that local day. A page form sends
    `issue_key`: a second send of the same form is refused (DeviceRefused), never a second
    token."""
    if actor is not None:
        require(actor, Action.MANAGE_SECURITY, school.pk)
    cleaned = _clean_device(
        name=name, kind=kind, valid_until=valid_until, today=timezone.localdate()
    )
    issue_key = issue_key or None
    if issue_key is not None and DeviceToken.objects.filter(issue_key=issue_key).exists():
        raise DeviceRefused(ALREADY_ISSUED)
    token = "hxd_" + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            device = DeviceToken.objects.create(
                school=school, key_hash=_hash(token), prefix=token[:8], issue_key=issue_key,
                **cleaned,
            )  # fmt: skip
    except IntegrityError as exc:  # the same form sent twice at once
        raise DeviceRefused(ALREADY_ISSUED) from exc
    audit_create(actor=actor, obj=device)
    if kind == DeviceKind.ALARM_BOX:
        from huxiao.security.compliance import reevaluate_on_commit

        reevaluate_on_commit([school.pk])
    return device, token


@transaction.atomic
def device_token_revoke(*, actor, device) -> DeviceToken:
    """Stop a device's token at once (a lost tablet, a replaced box). The row stays, so the
    trail and past visits and alarms keep naming the device."""
    device_id = device.pk if isinstance(device, DeviceToken) else device
    device = get_object_or_404(
        DeviceToken.objects.visible_to(actor, Action.VIEW).select_for_update(), pk=device_id
    )
    require(actor, Action.MANAGE_SECURITY, device.school_id)
    if not device.is_active:
        raise DeviceRefused(_("This device's token is already revoked."))
    before = snapshot(device)
    device.is_active = False
    device.revoked_at = timezone.now()
    device.revoked_by = acting_user(actor)
    device.save(update_fields=["is_active", "revoked_at", "revoked_by"])
    audit_update(actor=actor, obj=device, before=before, school=device.school_id)
    if device.kind == DeviceKind.ALARM_BOX:
        from huxiao.security.compliance import reevaluate_on_commit

        reevaluate_on_commit([device.school_id])
    return device


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
        f"WHERE {column['key_hash']} = %s AND {column['is_active']} "
        f"AND ({column['expires_at']} IS NULL OR {column['expires_at']} > %s)"
    )


def device_principal(token: str) -> DevicePrincipal | None:
    """The device behind a device token if it is in service (not revoked, not expired),
    or None. Touches last_used_at at most once
    a minute."""
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    touch_before = adapt(now - dt.timedelta(minutes=1))
    with connection.cursor() as cursor:
        cursor.execute(_device_sql(connection.vendor), [touch_before, _hash(token), adapt(now)])
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
