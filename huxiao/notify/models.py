"""Notifications, their deliveries (the in-app inbox included) and per-organization channels."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from huxiao.core import crypto
from huxiao.notify.choices import ChannelKind, DeliveryStatus


class ChannelConfig(models.Model):
    """One outbound channel of an organization, e.g. the police station's duty WeCom group.

    Every active channel of an organization receives every notification addressed to that
    organization. What is sent, per kind (the exact bodies are built in `channels.py`):

    - ``wecom`` — WeCom (企业微信) group robot. `target` is the robot's webhook URL
      (``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…``). POST
      ``{"msgtype": "text", "text": {"content": …, "mentioned_mobile_list": [...]}}``; the
      reply ``{"errcode": 0}`` means accepted, any other errcode is a failure. No secret.
    - ``dingtalk`` — DingTalk (钉钉) group robot. `target` is the webhook URL
      (``https://oapi.dingtalk.com/robot/send?access_token=…``). POST
      ``{"msgtype": "text", "text": {"content": …}, "at": {"atMobiles": [...]}}``; the
      mentioned numbers are also written into the content, which DingTalk requires for the
      mention to show. With a secret (the robot's "加签" security), the URL gets
      ``&timestamp=<ms>&sign=<urlencoded base64 HMAC-SHA256(secret, "<ms>\\n<secret>")>``.
    - ``sms`` — an SMS gateway with a small HTTP contract, which the deployment's gateway (or
      an adapter in front of a carrier's API) implements: POST `target` with the header
      ``X-Api-Key: <secret>`` and the JSON body ``{"phones": ["138…", …], "text": "…"}``;
      any 2xx status means accepted. The phones are the channel's `phones` plus the numbers
      the caller asked to reach (each number gets one SMS per notification, even when
      several organizations' gateways are involved). The gateway adds the SMS signature.
    - ``email`` — `target` is a list of addresses (comma, semicolon or newline separated);
      sent with Django's configured EMAIL_BACKEND, subject = title, text = body.
    - ``webhook`` — POST `target` with the notification as JSON (`channels.webhook_body`) and
      ``X-HuXiao-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>``, plus
      ``X-HuXiao-Event`` and ``X-HuXiao-Delivery`` (stable across retries, for de-duplication
      by the receiver); any 2xx status means accepted.

    Robot URLs carry their access token in the query string, so the target is a credential
    like the secret: both are encrypted at rest (ADR 0004's key ring) and left out of audit
    snapshots; `target_display` is the masked form shown in pages and the trail, and
    `credentials_changed_at` records (audited) that either was replaced.
    """

    audit_exclude = ("target_encrypted", "secret_encrypted")

    organization = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.CASCADE,
        related_name="notify_channels",
        verbose_name=_("organization"),
    )
    kind = models.CharField(_("channel"), max_length=20, choices=ChannelKind.choices)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    target_encrypted = models.TextField(_("address (encrypted)"))
    target_display = models.CharField(_("address"), max_length=255, blank=True)
    secret_encrypted = models.TextField(_("secret (encrypted)"), blank=True)
    phones = models.JSONField(
        _("mobile numbers"),
        default=list,
        blank=True,
        help_text=_("SMS: always sent to these numbers. Robots: always @-mention them."),
    )
    credentials_changed_at = models.DateTimeField(_("address or secret changed at"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("notification channel")
        verbose_name_plural = _("notification channels")
        ordering = ["organization_id", "kind", "name"]
        indexes = [models.Index(fields=["organization", "is_active"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.name}"

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_encrypted)

    def set_target(self, target: str) -> None:
        self.target_encrypted = crypto.encrypt(target)

    def get_target(self) -> str:
        return crypto.decrypt(self.target_encrypted)

    def set_secret(self, secret: str) -> None:
        self.secret_encrypted = crypto.encrypt(secret) if secret else ""

    def get_secret(self) -> str:
        return crypto.decrypt(self.secret_encrypted) if self.secret_encrypted else ""


class Notification(models.Model):
    """One logical message (e.g. "alarm.raised"), delivered once per channel and recipient."""

    event_type = models.CharField(_("event"), max_length=100, db_index=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    payload = models.JSONField(_("data"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    # The organization the event is about (the first one the caller addressed), e.g. the
    # school that raised the alarm; empty for platform-wide notices.
    organization = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organization"),
    )
    # A repeated call with the same key (a retried request, a re-run task) sends nothing twice.
    dedupe_key = models.CharField(
        _("de-duplication key"), max_length=255, null=True, blank=True, unique=True
    )
    created_at = models.DateTimeField(_("created at"), db_index=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event_type}: {self.title}"


class Delivery(models.Model):
    """One notification through one channel, or into one user's inbox.

    Inbox deliveries (`channel` inbox, `recipient` set) are "sent" when created and carry
    `read_at`. Outbound ones start pending and are sent by the task queue; a failure is
    retried with growing delays (`attempts`, `next_attempt_at`, `last_error`) until sent or
    given up. `dispatch_token` names the one queued task allowed to send it, so a task that
    was queued twice never sends twice.
    """

    notification = models.ForeignKey(
        Notification,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("notification"),
    )
    channel = models.CharField(_("channel"), max_length=20, choices=ChannelKind.choices)
    channel_config = models.ForeignKey(
        ChannelConfig,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("channel configuration"),
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notify_inbox",
        verbose_name=_("recipient"),
    )
    phones = models.JSONField(
        _("mobile numbers"),
        default=list,
        blank=True,
        help_text=_("SMS: the numbers messaged. Robots: the numbers @-mentioned."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    dispatch_token = models.CharField(_("dispatch token"), max_length=32, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The inbox and its unread count.
            models.Index(fields=["recipient", "read_at"]),
            models.Index(fields=["recipient", "-created_at"]),
            # The retry job's scan.
            models.Index(fields=["status", "next_attempt_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} #{self.notification_id} {self.status}"

    @property
    def is_unread(self) -> bool:
        return self.read_at is None
