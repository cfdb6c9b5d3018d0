"""What the alarm pages and the school alarm button give their scripts.

The scripts (static/huxiao/console.js, alarm-button.js) read one JSON object each, written
by `json_script`; everything they show comes from the API's alarm payload plus the
translated words here, so the pages speak the viewer's language.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from huxiao.alarms import selectors
from huxiao.alarms.choices import OPEN_STATUSES, AlarmKind, AlarmStatus
from huxiao.alarms.events import alarm_payload
from huxiao.alarms.models import Alarm, AlarmEvent
from huxiao.core.context_processors import websocket_url
from huxiao.core.roles import Action
from huxiao.core.scoping import visible_school_ids
from huxiao.notify.selectors import inbox_recent_unread

RECENTLY_CLOSED_HOURS = 24
RECENTLY_CLOSED_LIMIT = 20


def js_strings() -> dict[str, str]:
    """Words the scripts show; %(name)s placeholders are filled in by the script."""
    return {
        "alarm_title": _("[ALARM]"),
        "acknowledge": _("Acknowledge"),
        "dispatch": _("Dispatch"),
        "units_placeholder": _("Units or officers sent"),
        "arrive": _("Arrived on scene"),
        "resolve": _("Resolve"),
        "outcome_placeholder": _("Outcome (what happened, what was done)"),
        "timeline": _("Timeline"),
        "drill": _("Drill"),
        "escalated": _("Escalated ×%(level)s"),
        "raised_by": _("Raised by %(name)s"),
        "raised_ago": _("%(ago)s ago"),
        "acknowledged_by": _("Acknowledged by %(name)s"),
        "acknowledged_after": _("Acknowledged by %(name)s after %(duration)s"),
        "not_acknowledged": _("Not acknowledged yet"),
        "waiting_ack": _("Waiting for the police to acknowledge…"),
        "units": _("Units: %(units)s"),
        "arrived_after": _("On scene after %(duration)s"),
        "no_open_alarms": _("No open alarms."),
        "open_more": _(
            "%(total)s alarms are open; the %(shown)s most urgent are shown (real alarms"
            " before drills, unacknowledged first, longest waiting first). The export lists"
            " them all."
        ),
        "no_closed_alarms": _("No alarms closed in the last 24 hours."),
        "connected": _("Live"),
        "connecting": _("Connecting…"),
        "reconnecting": _("Connection lost: reconnecting…"),
        "unauthenticated": _("Your session has ended: log in again."),
        "forbidden": _("You may not receive alarms."),
        "sound_enable": _("Turn on the alarm sound"),
        "sound_on": _("Sound on"),
        "required": _("This field is required."),
        "failed": _("The request failed; try again."),
        "raising": _("Raising the alarm…"),
        "raise_failed": _("The alarm could not be sent. Call 110 now and try again."),
        "raised": _("Alarm raised at %(time)s"),
        "cancel_countdown": _("Cancel (false alarm) · %(seconds)s s"),
        "cancel_late": _("Cancel (false alarm): give a reason"),
        "cancelled": _("Cancelled"),
        "raise_another": _("Raise another alarm"),
        "hold_to_raise": _("Hold for 2 seconds to raise the alarm"),
        "keep_holding": _("Keep holding…"),
    }


def kind_buttons() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in AlarmKind.choices]


def _labels(choices) -> dict[str, str]:
    return {value: str(label) for value, label in choices}


def latest_event_id(user) -> int:
    return (
        AlarmEvent.objects.visible_to(user, Action.VIEW_ALARM)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
        or 0
    )


def recently_closed_queryset(user):
    since = timezone.now() - dt.timedelta(hours=RECENTLY_CLOSED_HOURS)
    return (
        Alarm.objects.visible_to(user, Action.VIEW_ALARM)
        .exclude(status__in=OPEN_STATUSES)
        .filter(raised_at__gte=since)
        .select_related("school", "raised_by", "raised_by_device", "acknowledged_by")
        .order_by("-raised_at", "-pk")
    )


def recently_closed(user) -> list[Alarm]:
    return list(recently_closed_queryset(user)[:RECENTLY_CLOSED_LIMIT])


def console_alarms(user):
    """The console's two lists as querysets: the open alarms, then those closed in the last
    24 hours (the page caps them; its export does not)."""
    return selectors.alarm_list(actor=user, status="open"), recently_closed_queryset(user)


def _common(request) -> dict:
    return {
        "ws_url": websocket_url(request),
        "api_url": reverse("api:alarm_create"),
        "events_url": reverse("api:alarm_events"),
        "detail_url": reverse("alarms:detail", args=[0]),
        "server_now": timezone.now().isoformat(),
        "catch_up_seconds": settings.ALARM_CONSOLE_CATCH_UP_SECONDS,
        "kinds": _labels(AlarmKind.choices),
        "statuses": _labels(AlarmStatus.choices),
        "strings": js_strings(),
    }


def console_config(request) -> dict:
    """Initial state of the console; the socket's catch-up continues from last_event_id."""
    user = request.user
    # Read the watermark first: anything committed after it reaches the page as an event.
    last_event_id = latest_event_id(user)
    open_alarms, open_total = selectors.open_alarms_for_console(actor=user)
    return {
        **_common(request),
        "last_event_id": last_event_id,
        "open": [alarm_payload(a) for a in open_alarms],
        "open_total": open_total,
        "closed": [alarm_payload(a) for a in recently_closed(user)],
        "respond_school_ids": sorted(visible_school_ids(user, Action.RESPOND_ALARM)),
        # Silent alerts already waiting (gate holds, contraband); new ones come by socket.
        "inbox": [
            {
                "notification_id": item.notification_id,
                "title": item.notification.title,
                "url": reverse("notify:item", args=[item.pk]),
                "at": item.created_at.isoformat(),
            }
            for item in inbox_recent_unread(user=user)
        ],
    }


def raise_schools(user) -> list:
    from huxiao.orgs.models import Organization

    ids = visible_school_ids(user, Action.RAISE_ALARM)
    if not ids:
        return []
    return list(Organization.objects.filter(pk__in=ids).order_by("name", "pk"))


def detail_config(request) -> dict:
    """The actions on an alarm's detail page."""
    return _common(request)


def button_config(request, school) -> dict:
    """The alarm button of one school (the raise page and the school's home page)."""
    return {
        **_common(request),
        "school_id": school.pk,
        # The status panel's socket asks only for what happens after this page was built.
        "last_event_id": latest_event_id(request.user),
        "school_name": school.name,
        "hold_ms": 2000,
        "cancel_window_seconds": settings.ALARM_CANCEL_WINDOW_SECONDS,
    }
