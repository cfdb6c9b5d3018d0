"""Notification writes: the one entry point `notify_send`, sending and retries, the inbox, and
the configuration of each organization's channels.

The contract with callers (alarms, hazards, health …) is that a notification can never slow
down or undo the caller's own work:

- `notify_send` only writes rows, inside the caller's transaction, and never raises: any
  problem with the notification is logged and the caller carries on (it gets None back).
- Nothing is sent before the caller's transaction commits (`transaction.on_commit`), so a
  rolled-back alarm pages nobody; sending happens in the task queue.
- A failed send is retried with growing delays (10 s, 30 s, 90 s … up to
  NOTIFY_MAX_ATTEMPTS) by the periodic `deliveries_retry_due`, then marked failed.

Sending is at-least-once: a worker that dies between the receiver accepting a message and
the row being marked sent makes it go again after the lease. Each queued send carries the
delivery's current `dispatch_token`; only the task holding it may claim the row, so a task
queued twice (or re-queued by the retry job while the first was still waiting) sends once.

Delivery rows are the record of what went out (status, attempts, errors); they are not
copied into the audit trail, which records the configuration of channels and inbox reads.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from huxiao.audit.models import AuditAction
from huxiao.audit.services import audit_create, audit_delete, audit_record, audit_update, snapshot
from huxiao.core.crypto import DecryptionError
from huxiao.core.events import publish_on_commit
from huxiao.notify import channels, conf, selectors
from huxiao.notify.choices import OPEN_STATUSES, ChannelKind, DeliveryStatus
from huxiao.notify.models import ChannelConfig, Delivery, Notification
from huxiao.notify.validation import clean_channel, display_target, normalize_phone

logger = logging.getLogger(__name__)

INBOX_EVENT = "notify.inbox"


def inbox_group(user_id: int) -> str:
    """The channel group of one user's inbox pushes."""
    return f"user.{user_id}"


RETRY_BATCH = 200
_MAX_DEDUPE_KEY = 255


def _token() -> str:
    return uuid.uuid4().hex


# ---------------------------------------------------------------- the entry point


def notify_send(
    *,
    organizations: Iterable,
    event_type: str,
    title,
    body="",
    payload: dict | None = None,
    recipients: Iterable = (),
    mention_phones: Iterable[str] = (),
    dedupe_key: str | None = None,
) -> Notification | None:
    """Record a notification and queue its deliveries once the caller's transaction commits.

    - `organizations` (Organization objects or ids): every active channel of each receives
      it; the first is recorded as the organization the event is about.
    - `recipients` (users or ids): each active user gets it in their inbox (sent at once,
      pushed to their browser as a `notify.inbox` event on the `user.<id>` group).
    - `mention_phones`: @-mentioned in the robots' groups and sent an SMS through the first
      SMS channel that reaches them (each number gets one SMS); invalid numbers are dropped.
    - `dedupe_key`: a second call with the same key sends nothing and returns the first
      notification.
    - `title`/`body`: plain text in the recipients' language; a lazy translation is
      rendered in the platform's default language (Chinese), not the requester's.

    Never raises and never breaks the caller's transaction: on any problem the
    notification's own writes are rolled back to a savepoint, logged, and None is returned.
    """
    key = _dedupe_key(dedupe_key)
    if isinstance(organizations, models.Model | int):
        organizations = [organizations]
    try:
        if key:
            existing = Notification.objects.filter(dedupe_key=key).first()
            if existing is not None:
                return existing
        with transaction.atomic():
            return _notification_create(
                organizations=organizations,
                event_type=event_type,
                title=title,
                body=body,
                payload=payload,
                recipients=recipients,
                mention_phones=mention_phones,
                dedupe_key=key,
            )
    except IntegrityError:
        if key:
            # Another request with the same key got there first (and has committed).
            existing = Notification.objects.filter(dedupe_key=key).first()
            if existing is not None:
                return existing
        logger.exception("notification %s not recorded", event_type)
    except Exception:  # noqa: BLE001 - a notification must never fail the caller's work
        logger.exception("notification %s not recorded", event_type)
    return None


def notify_send_many(messages: Iterable[dict]) -> list[Notification | None]:
    """`notify_send` for many messages at once, in a fixed number of queries (e.g. one
    early warning to every school of a station): each dict takes notify_send's keyword
    arguments except `mention_phones`. Same contract: nothing is sent before commit, a
    repeated dedupe key sends nothing, and it never raises. Should the batch fail (say a
    concurrent call took one of the keys), each message is sent on its own instead."""
    messages = [dict(m) for m in messages]
    if not messages:
        return []
    try:
        with transaction.atomic():
            return _notifications_create_many(messages)
    except Exception:  # noqa: BLE001 - fall back to one by one, which handles races
        logger.exception("notification batch not recorded; sending one by one")
    return [notify_send(**message) for message in messages]


def _notifications_create_many(messages: list[dict]) -> list[Notification | None]:
    now = timezone.now()
    keys = [_dedupe_key(m.get("dedupe_key")) for m in messages]
    existing = {
        n.dedupe_key: n for n in Notification.objects.filter(dedupe_key__in=[k for k in keys if k])
    }
    result: list[Notification | None] = []
    fresh: list[tuple[Notification, list[int], list[int]]] = []
    seen: dict[str, Notification] = {}
    for message, key in zip(messages, keys, strict=True):
        if key and (key in existing or key in seen):
            result.append(existing.get(key) or seen[key])
            continue
        org_ids = _ids(message.get("organizations") or ())
        event_type = _text(message["event_type"], 100)
        notification = Notification(
            event_type=event_type,
            title=_text(message.get("title"), 200) or event_type,
            body=_text(message.get("body")),
            payload=message.get("payload") or {},
            organization_id=org_ids[0] if org_ids else None,
            dedupe_key=key,
            created_at=now,
        )
        if key:
            seen[key] = notification
        fresh.append((notification, org_ids, _ids(message.get("recipients") or ())))
        result.append(notification)
    if not fresh:
        return result
    Notification.objects.bulk_create([n for n, _, _ in fresh])
    if any(n.pk is None for n, _, _ in fresh):  # backends without RETURNING
        raise RuntimeError("bulk notification insert returned no keys")
    active_users = set(
        get_user_model()
        .objects.filter(pk__in={u for _, _, users in fresh for u in users}, is_active=True)
        .values_list("pk", flat=True)
    )
    all_org_ids = {o for _, orgs, _ in fresh for o in orgs}
    configs_of: dict[int, list[ChannelConfig]] = {}
    for config in ChannelConfig.objects.filter(organization_id__in=all_org_ids, is_active=True):
        configs_of.setdefault(config.organization_id, []).append(config)
    deliveries: list[Delivery] = []
    inbox: list[tuple[Notification, list[int]]] = []
    for notification, org_ids, users in fresh:
        user_ids = sorted(u for u in set(users) if u in active_users)
        deliveries += [
            Delivery(
                notification=notification,
                channel=ChannelKind.INBOX,
                recipient_id=user_id,
                status=DeliveryStatus.SENT,
                sent_at=now,
                created_at=now,
            )
            for user_id in user_ids
        ]
        configs = sorted(
            (c for org_id in org_ids for c in configs_of.get(org_id, [])),
            key=lambda c, org_ids=org_ids: (org_ids.index(c.organization_id), c.kind, c.name, c.pk),
        )
        deliveries += _channel_deliveries(notification, configs, phones=[], now=now)
        if user_ids:
            inbox.append((notification, user_ids))
    Delivery.objects.bulk_create(deliveries)
    if any(delivery.pk is None for delivery in deliveries):
        raise RuntimeError("bulk delivery insert returned no keys")
    outbound = [(d.pk, d.dispatch_token) for d in deliveries if d.channel != ChannelKind.INBOX]
    if outbound:
        transaction.on_commit(lambda: _enqueue(outbound), robust=True)
    for notification, user_ids in inbox:
        publish_on_commit(
            [inbox_group(user_id) for user_id in user_ids],
            INBOX_EVENT,
            {
                "notification_id": notification.pk,
                "event_type": notification.event_type,
                "title": notification.title,
            },
        )
    return result


def _dedupe_key(key) -> str | None:
    if not key:
        return None
    key = str(key)
    if len(key) > _MAX_DEDUPE_KEY:
        # Truncating could merge two different keys; a digest cannot (in practice).
        key = "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()
    return key


def _text(value, limit: int | None = None) -> str:
    if isinstance(value, Promise):
        with translation.override(settings.LANGUAGE_CODE):
            value = str(value)
    text = str(value or "").strip()
    return text[:limit] if limit else text


def _ids(values: Iterable) -> list[int]:
    """Distinct primary keys in the given order, from objects or ids."""
    ids: list[int] = []
    for value in values or ():
        if value is None:
            continue
        pk = getattr(value, "pk", value)
        if pk is not None and int(pk) not in ids:
            ids.append(int(pk))
    return ids


def _phones(values: Iterable[str]) -> list[str]:
    phones: list[str] = []
    for value in values or ():
        phone = normalize_phone(value)
        if phone is None:
            logger.warning("notification: dropped an invalid mobile number")
        elif phone not in phones:
            phones.append(phone)
    return phones


def _notification_create(
    *,
    organizations,
    event_type,
    title,
    body,
    payload,
    recipients,
    mention_phones,
    dedupe_key,
) -> Notification:
    now = timezone.now()
    org_ids = _ids(organizations)
    event_type = _text(event_type, 100)
    notification = Notification.objects.create(
        event_type=event_type,
        title=_text(title, 200) or event_type,
        body=_text(body),
        payload=payload or {},
        organization_id=org_ids[0] if org_ids else None,
        dedupe_key=dedupe_key,
        created_at=now,
    )
    phones = _phones(mention_phones)
    deliveries: list[Delivery] = []

    user_ids = set(
        get_user_model()
        .objects.filter(pk__in=_ids(recipients), is_active=True)
        .values_list("pk", flat=True)
    )
    deliveries += [
        Delivery(
            notification=notification,
            channel=ChannelKind.INBOX,
            recipient_id=user_id,
            status=DeliveryStatus.SENT,
            sent_at=now,
            created_at=now,
        )
        for user_id in sorted(user_ids)
    ]

    configs = sorted(
        ChannelConfig.objects.filter(organization_id__in=org_ids, is_active=True),
        key=lambda c: (org_ids.index(c.organization_id), c.kind, c.name, c.pk),
    )
    deliveries += _channel_deliveries(notification, configs, phones=phones, now=now)
    Delivery.objects.bulk_create(deliveries)
    if any(delivery.pk is None for delivery in deliveries):  # backends without RETURNING
        deliveries = list(notification.deliveries.all())

    outbound = [(d.pk, d.dispatch_token) for d in deliveries if d.channel != ChannelKind.INBOX]
    if outbound:
        transaction.on_commit(lambda: _enqueue(outbound), robust=True)
    if user_ids:
        publish_on_commit(
            [inbox_group(user_id) for user_id in sorted(user_ids)],
            INBOX_EVENT,
            {
                "notification_id": notification.pk,
                "event_type": notification.event_type,
                "title": notification.title,
            },
        )
    return notification


def _channel_deliveries(notification, configs, *, phones: list[str], now) -> list[Delivery]:
    """One pending delivery per channel (unsaved), in the order of `configs`."""
    deliveries: list[Delivery] = []
    texted: set[str] = set()
    for config in configs:
        targets = list(dict.fromkeys([*config.phones, *phones]))
        if config.kind == ChannelKind.SMS:
            # One SMS per number, even when several organizations' gateways could send it.
            targets = [phone for phone in targets if phone not in texted]
            texted.update(targets)
            if not targets:
                continue
        elif config.kind not in (ChannelKind.WECOM, ChannelKind.DINGTALK):
            targets = []
        deliveries.append(
            Delivery(
                notification=notification,
                channel=config.kind,
                channel_config=config,
                phones=targets,
                status=DeliveryStatus.PENDING,
                # Taken by the queued task; if that never runs, the retry job takes it later.
                next_attempt_at=now + conf.lease(),
                dispatch_token=_token(),
                created_at=now,
            )
        )
    return deliveries


def _enqueue(items: list[tuple[int, str]]) -> None:
    """Queue the sends (after commit). A queue that refuses leaves the row to the retry job."""
    from huxiao.notify.tasks import deliver_enqueue  # tasks import this module

    for delivery_id, token in items:
        try:
            deliver_enqueue(delivery_id, token)
        except Exception:  # noqa: BLE001 - the retry job is the safety net
            logger.exception("delivery %s not queued; the retry job will send it", delivery_id)
            try:
                Delivery.objects.filter(pk=delivery_id, dispatch_token=token).update(
                    next_attempt_at=timezone.now()
                )
            except Exception:  # noqa: BLE001
                logger.exception("delivery %s: could not mark it due", delivery_id)


# ---------------------------------------------------------------- sending and retries


def deliveries_withdraw(*, dedupe_prefix: str, reason: str) -> int:
    """Withdraw the outbound deliveries not yet sent of the notifications whose
    de-duplication key starts with `dedupe_prefix`: what they say is no longer true. A send
    already under way is not stopped. Returns how many were withdrawn."""
    return Delivery.objects.filter(
        notification__dedupe_key__startswith=dedupe_prefix, status__in=OPEN_STATUSES
    ).update(
        status=DeliveryStatus.WITHDRAWN,
        dispatch_token="",
        next_attempt_at=None,
        last_error=reason[:500],
    )


def delivery_send(*, delivery_id: int, token: str) -> Delivery | None:
    """Send one delivery (run by the task queue). Returns None when this task does not hold
    the delivery's current token — it was sent already, or re-queued — and does nothing."""
    if not token:
        return None
    started = timezone.now()
    claimed = Delivery.objects.filter(
        pk=delivery_id, dispatch_token=token, status__in=OPEN_STATUSES
    ).update(dispatch_token="", next_attempt_at=started + conf.lease(), last_attempt_at=started)
    if not claimed:
        return None
    delivery = Delivery.objects.select_related("notification", "channel_config").get(pk=delivery_id)
    try:
        config = delivery.channel_config
        if config is None:
            raise channels.SendError("the channel was removed", permanent=True)
        if not config.is_active:
            raise channels.SendError("the channel was switched off", permanent=True)
        try:
            target, secret = config.get_target(), config.get_secret()
        except DecryptionError:
            raise channels.SendError(
                "the channel's address or secret cannot be decrypted (data key changed?)",
                permanent=True,
            ) from None
        channels.send(
            kind=delivery.channel,
            target=target,
            secret=secret,
            message=_outbound_message(delivery),
            now=started,
        )
    except channels.SendError as exc:
        return _delivery_failed(delivery, str(exc), permanent=exc.permanent)
    except Exception as exc:  # noqa: BLE001 - a bug in one sender must not stop retries
        logger.exception("delivery %s: unexpected error", delivery.pk)
        return _delivery_failed(delivery, f"{type(exc).__name__}: {exc}", permanent=False)
    delivery.status = DeliveryStatus.SENT
    delivery.attempts += 1
    delivery.sent_at = timezone.now()
    delivery.next_attempt_at = None
    delivery.last_error = ""
    delivery.save(update_fields=["status", "attempts", "sent_at", "next_attempt_at", "last_error"])
    return delivery


def _outbound_message(delivery: Delivery) -> channels.OutboundMessage:
    notification = delivery.notification
    return channels.OutboundMessage(
        delivery_id=delivery.pk,
        notification_id=notification.pk,
        event_type=notification.event_type,
        title=notification.title,
        body=notification.body,
        created_at=notification.created_at,
        organization_id=notification.organization_id,
        payload=notification.payload,
        phones=tuple(delivery.phones),
    )


def _delivery_failed(delivery: Delivery, error: str, *, permanent: bool) -> Delivery:
    now = timezone.now()
    delivery.attempts += 1
    delivery.last_error = error[:1000]
    if permanent or delivery.attempts >= conf.max_attempts():
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
        logger.error(
            "delivery %s via %s failed for good after %s attempt(s): %s",
            delivery.pk,
            delivery.channel,
            delivery.attempts,
            delivery.last_error,
        )
    else:
        delivery.status = DeliveryStatus.RETRYING
        delivery.next_attempt_at = now + conf.retry_delay(delivery.attempts)
        logger.warning(
            "delivery %s via %s failed (attempt %s), next try %s: %s",
            delivery.pk,
            delivery.channel,
            delivery.attempts,
            delivery.next_attempt_at.isoformat(),
            delivery.last_error,
        )
    delivery.save(update_fields=["status", "attempts", "last_error", "next_attempt_at"])
    return delivery


def deliveries_retry_due(*, now=None, limit: int = RETRY_BATCH) -> int:
    """Queue every open delivery whose next attempt is due (the periodic job, every minute):
    retries after their backoff, and first sends whose queued task never ran."""
    now = now or timezone.now()
    due = list(
        Delivery.objects.filter(status__in=OPEN_STATUSES, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    queued = 0
    for delivery_id in due:
        token = _token()
        # Compare-and-set: two retry jobs running at once queue each delivery once.
        taken = Delivery.objects.filter(
            pk=delivery_id, status__in=OPEN_STATUSES, next_attempt_at__lte=now
        ).update(dispatch_token=token, next_attempt_at=now + conf.lease())
        if taken:
            _enqueue([(delivery_id, token)])
            queued += 1
    return queued


# ---------------------------------------------------------------- the inbox


@transaction.atomic
def inbox_mark_read(*, actor, delivery_id: int) -> Delivery:
    """Mark one of the actor's own inbox items read (404 for anyone else's)."""
    delivery = selectors.inbox_get(user=actor, delivery_id=delivery_id)
    if delivery.read_at is None:
        before = snapshot(delivery)
        delivery.read_at = timezone.now()
        delivery.save(update_fields=["read_at"])
        audit_update(actor=actor, obj=delivery, before=before)
    return delivery


@transaction.atomic
def inbox_mark_all_read(*, actor) -> int:
    count = (
        selectors.inbox_list(user=actor, unread_only=True).order_by().update(read_at=timezone.now())
    )
    if count:
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type=Delivery._meta.label_lower,
            object_repr=str(_("Inbox")),
            changes={"marked_read": count},
        )
    return count


# ---------------------------------------------------------------- channel configuration


def _require_admin(actor) -> None:
    if actor is not None and not getattr(actor, "is_superuser", False):
        raise PermissionDenied(
            _("Only administrators configure notification channels in this version.")
        )


def _school_of(organization) -> int | None:
    return organization.pk if organization.is_school else None


@transaction.atomic
def channel_config_create(
    *,
    actor,
    organization,
    kind: str,
    name: str,
    target: str,
    secret: str = "",
    phones: Iterable[str] = (),
    is_active: bool = True,
) -> ChannelConfig:
    """Add a channel to an organization. The target and secret are stored encrypted."""
    _require_admin(actor)
    cleaned = clean_channel(kind=kind, name=name, target=target, secret=secret, phones=phones)
    config = ChannelConfig(
        organization=organization,
        kind=kind,
        name=cleaned["name"],
        is_active=bool(is_active),
        target_display=display_target(kind, cleaned["target"]),
        phones=cleaned["phones"],
        credentials_changed_at=timezone.now(),
    )
    config.set_target(cleaned["target"])
    config.set_secret(cleaned["secret"])
    config.save()
    audit_create(actor=actor, obj=config, school=_school_of(organization))
    return config


_UNCHANGED = object()


@transaction.atomic
def channel_config_update(
    *,
    actor,
    config: ChannelConfig,
    name=_UNCHANGED,
    target=_UNCHANGED,
    secret=_UNCHANGED,
    phones=_UNCHANGED,
    is_active=_UNCHANGED,
) -> ChannelConfig:
    """Change a channel; omitted fields keep their value (the secret is never shown back,
    so a form leaves it out unless it is being replaced). The kind cannot change."""
    _require_admin(actor)
    before = snapshot(config)
    try:
        current_target, current_secret = config.get_target(), config.get_secret()
    except DecryptionError:
        if target is _UNCHANGED or (secret is _UNCHANGED and config.has_secret):
            raise ValidationError(
                {"target": [_("The stored address cannot be read any more; enter it again.")]}
            ) from None
        current_target = current_secret = ""
    new_target = current_target if target is _UNCHANGED else target
    new_secret = current_secret if secret is _UNCHANGED else secret
    cleaned = clean_channel(
        kind=config.kind,
        name=config.name if name is _UNCHANGED else name,
        target=new_target,
        secret=new_secret,
        phones=config.phones if phones is _UNCHANGED else phones,
    )
    config.name = cleaned["name"]
    config.phones = cleaned["phones"]
    if is_active is not _UNCHANGED:
        config.is_active = bool(is_active)
    if cleaned["target"] != current_target or cleaned["secret"] != current_secret:
        config.set_target(cleaned["target"])
        config.set_secret(cleaned["secret"])
        config.target_display = display_target(config.kind, cleaned["target"])
        # The only trace of a replaced credential in the trail (its value never is).
        config.credentials_changed_at = timezone.now()
    config.save()
    audit_update(actor=actor, obj=config, before=before, school=_school_of(config.organization))
    return config


@transaction.atomic
def channel_config_delete(*, actor, config: ChannelConfig) -> None:
    """Remove a channel. Its past deliveries stay (without the link); open ones fail."""
    _require_admin(actor)
    audit_delete(actor=actor, obj=config, school=_school_of(config.organization))
    config.delete()
