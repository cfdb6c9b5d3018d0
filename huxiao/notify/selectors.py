"""Reads of the inbox (always the user's own items), channels and delivery records."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from huxiao.notify.choices import ChannelKind
from huxiao.notify.models import ChannelConfig, Delivery, Notification


def _inbox_of(user) -> QuerySet[Delivery]:
    if user is None or not getattr(user, "is_authenticated", False) or not user.pk:
        return Delivery.objects.none()
    return Delivery.objects.filter(channel=ChannelKind.INBOX, recipient_id=user.pk)


def inbox_list(*, user, unread_only: bool = False) -> QuerySet[Delivery]:
    """The user's own inbox, newest first; nobody else's items, whatever their role."""
    items = _inbox_of(user).select_related("notification")
    if unread_only:
        items = items.filter(read_at__isnull=True)
    return items.order_by("-created_at", "-id")


def inbox_get(*, user, delivery_id: int) -> Delivery:
    """404 for another user's item, exactly as for one that does not exist."""
    return get_object_or_404(_inbox_of(user).select_related("notification"), pk=delivery_id)


def inbox_delivery_id(*, user, notification_id: int) -> int | None:
    """The user's inbox item for a notification (the console links a live alert to it)."""
    return (
        _inbox_of(user).filter(notification_id=notification_id).values_list("pk", flat=True).first()
    )


def inbox_recent_unread(*, user, limit: int = 10) -> list[Delivery]:
    """The newest unread items, for pages that show alerts as they arrive (the console)."""
    return list(inbox_list(user=user, unread_only=True)[:limit])


def inbox_unread_count(user) -> int:
    """For the page header's badge; 0 for anonymous visitors and devices."""
    return _inbox_of(user).filter(read_at__isnull=True).count()


def channel_config_list(*, organization) -> QuerySet[ChannelConfig]:
    """An organization's channels (secrets stay encrypted; show `target_display`)."""
    return ChannelConfig.objects.filter(organization=organization).order_by("kind", "name")


def notification_deliveries(*, notification: Notification) -> QuerySet[Delivery]:
    """How a notification went out, channel by channel (e.g. on an alarm's timeline).

    The caller has already reached the notification through a record in the actor's scope
    (the alarm); inbox rows are left out, they belong to their recipients.
    """
    return (
        notification.deliveries.exclude(channel=ChannelKind.INBOX)
        .select_related("channel_config")
        .order_by("id")
    )
