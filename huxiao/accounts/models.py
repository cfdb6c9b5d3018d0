"""API tokens for users and devices, and failed-login tracking for lockout."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.core.scoping import ScopedQuerySet


class ApiToken(models.Model):
    """A bearer token issued to a user by POST /api/v1/auth/token.

    Only a SHA-256 of the token is stored; the token itself is shown once.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    prefix = models.CharField(_("prefix"), max_length=8)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    audit_exclude = ("key_hash", "prefix", "issue_key")

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class DeviceKind(models.TextChoices):
    GATE_TERMINAL = "gate_terminal", _("Gate terminal")
    ALARM_BOX = "alarm_box", _("Alarm box")


class DeviceTokenQuerySet(ScopedQuerySet):
    def in_service(self, now=None):
        """Devices whose token works now: not revoked and not past an expiry date."""
        now = now or timezone.now()
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), is_active=True)


class DeviceToken(models.Model):
    """A gate terminal or alarm box, bound to exactly one school.

    `is_active` False is a revoked token (`revoked_at`, `revoked_by` say when and by whom).
    `expires_at` is optional: an alarm box is meant to work for years and a token that
    lapses unnoticed would silence it, so a token expires only when its issuer sets a date
    (a terminal lent for an exam week); the defence page warns 30 days ahead.
    """

    scope_school_field = "school"

    school = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.CASCADE,
        related_name="devices",
        verbose_name=_("school"),
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=DeviceKind.choices)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    prefix = models.CharField(_("prefix"), max_length=8)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    # The random key of the page form that issued the token: a form sent twice (a double
    # click, a reload) finds its device instead of issuing a second token nobody holds.
    issue_key = models.CharField(_("issue key"), max_length=32, null=True, blank=True, unique=True)

    objects = DeviceTokenQuerySet.as_manager()
    # Neither the hash nor the token's first characters belong in the trail.
    audit_exclude = ("key_hash", "prefix")

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")

    def __str__(self) -> str:
        return self.name

    @property
    def valid_until(self):
        """The last local day the token works (`expires_at` is the next local midnight)."""
        if self.expires_at is None:
            return None
        return (timezone.localtime(self.expires_at) - dt.timedelta(microseconds=1)).date()


class LoginFailure(models.Model):
    """One failed login; recent rows per username or address decide a lockout."""

    username = models.CharField(_("username"), max_length=150, db_index=True)
    ip = models.CharField(_("client address"), max_length=64, db_index=True)
    at = models.DateTimeField(_("at"), db_index=True)

    class Meta:
        verbose_name = _("failed login")
        verbose_name_plural = _("failed logins")

    def __str__(self) -> str:
        return f"{self.username} @ {self.ip} {self.at:%Y-%m-%d %H:%M}"


class TwoFactor(models.Model):
    """A user's TOTP second factor (RFC 6238) and their one-time recovery codes.

    The shared secret is encrypted with the data key (huxiao/core/crypto.py, so it rotates
    with `rotate_data_key`); recovery codes are kept as SHA-256 digests only and shown once.
    A row without `confirmed_at` is an enrolment under way: the secret was shown but no
    code has proved the authenticator holds it yet.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="two_factor",
        verbose_name=_("user"),
    )
    secret_encrypted = models.TextField(_("TOTP secret (encrypted)"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    recovery_hashes = models.JSONField(_("recovery code digests"), default=list, blank=True)
    # The last 30-second step accepted: a code is good once, never replayed in its window.
    last_used_step = models.BigIntegerField(_("last used time step"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    audit_exclude = ("secret_encrypted", "recovery_hashes", "last_used_step")

    class Meta:
        verbose_name = _("two-factor authentication")
        verbose_name_plural = _("two-factor authentication")

    def __str__(self) -> str:
        return f"2FA {self.user}"
