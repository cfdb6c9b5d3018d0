from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from huxiao.alarms.choices import OPEN_STATUSES
from huxiao.alarms.models import Alarm, AlarmEvent
from huxiao.core.roles import Action


def _base(actor) -> QuerySet[Alarm]:
    return Alarm.objects.visible_to(actor, Action.VIEW_ALARM).select_related(
        "school", "raised_by", "raised_by_device", "acknowledged_by"
    )


def alarm_list(*, actor, status: str = "", school_id: int | None = None) -> QuerySet[Alarm]:
    qs = _base(actor)
    if status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    if school_id:
        qs = qs.filter(school_id=school_id)
    return qs


def alarm_get(*, actor, alarm_id: int) -> Alarm:
    return get_object_or_404(_base(actor), pk=alarm_id)


def alarm_events_since(*, actor, since: int, limit: int = 500) -> list[AlarmEvent]:
    """Timeline events after `since` on alarms the actor may see (console catch-up)."""
    return list(
        AlarmEvent.objects.visible_to(actor, Action.VIEW_ALARM)
        .filter(pk__gt=since)
        .select_related(
            "alarm__school", "alarm__raised_by", "alarm__raised_by_device", "alarm__acknowledged_by"
        )
        .order_by("pk")[:limit]
    )


def alarm_timeline(*, alarm: Alarm) -> QuerySet[AlarmEvent]:
    return alarm.events.order_by("pk")
