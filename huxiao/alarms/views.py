"""Alarm pages: the live console, an alarm's timeline and the school's alarm button.

The pages render the starting state; their scripts act through the REST API
(/api/v1/alarms…) with the session and CSRF header, and listen on the console socket.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from huxiao.alarms import selectors, services, ui
from huxiao.alarms.choices import OPEN_STATUSES, AlarmSource
from huxiao.alarms.forms import ResponseStatsForm
from huxiao.alarms.templatetags.alarm_tags import alarm_duration
from huxiao.core.context import active_membership
from huxiao.core.roles import Action
from huxiao.core.scoping import can, visible_school_ids


def require_alarm_viewer(user) -> None:
    """The console and the statistics (and their exports): 403 for who sees no alarm."""
    if not visible_school_ids(user, Action.VIEW_ALARM):
        raise PermissionDenied


def stats_period(user, query) -> ResponseStatsForm:
    """The statistics' period form bound to the query (the page and its export); 403 for
    who sees no alarm."""
    require_alarm_viewer(user)
    return ResponseStatsForm(query)


@login_required
def console(request):
    """Live open alarms of the user's scope; loud while any is unacknowledged."""
    require_alarm_viewer(request.user)
    return render(
        request,
        "alarms/console.html",
        {"config": ui.console_config(request), "nav_active": "alarm_console"},
    )


@login_required
@require_safe
def stats(request):
    """Response times per police station and per school over a period (ADR 0014)."""
    form = stats_period(request.user, request.GET)
    context = {"form": form, "by_station": None, "by_school": None, "nav_active": "alarm_console"}
    if not form.is_valid():
        return render(request, "alarms/stats.html", context, status=400)
    period = form.selector_kwargs()
    data = form.cleaned_data
    context.update(
        # Show what a preset period means as dates, ready to be adjusted.
        form=ResponseStatsForm(
            initial={
                "period": data["period"],
                "since": data["first_day"],
                "until": data["last_day"],
                "drills": data["drills"],
            }
        ),
        first_day=data["first_day"],
        last_day=data["last_day"],
        include_drills=period["include_drills"],
        by_station=selectors.response_stats(actor=request.user, group_by="station", **period),
        by_school=selectors.response_stats(actor=request.user, group_by="school", **period),
    )
    return render(request, "alarms/stats.html", context)


@login_required
def detail(request, alarm_id: int):
    """Every step of one alarm, who took it and when, and the response times."""
    if alarm_id >= 2**63:
        raise Http404
    alarm = selectors.alarm_get(actor=request.user, alarm_id=alarm_id)
    is_open = alarm.status in OPEN_STATUSES
    can_respond = is_open and can(request.user, Action.RESPOND_ALARM, alarm.school_id)
    can_cancel = is_open and services.can_cancel(request.user, alarm)
    return render(
        request,
        "alarms/detail.html",
        {
            "alarm": alarm,
            "timeline": [(e, _event_details(e)) for e in selectors.alarm_timeline(alarm=alarm)],
            "response_times": _response_times(alarm),
            "can_respond": can_respond,
            "can_cancel": can_cancel,
            "config": ui.detail_config(request) if can_respond or can_cancel else None,
            "nav_active": "alarm_console",
        },
    )


def _response_times(alarm) -> list[tuple[str, float | None]]:
    return [
        (_("Raise → acknowledgement"), alarm.ack_seconds),
        (_("Raise → dispatch"), alarm.seconds_between("raised_at", "dispatched_at")),
        (_("Raise → arrival on scene"), alarm.arrival_seconds),
        (_("Raise → resolved"), alarm.seconds_between("raised_at", "resolved_at")),
    ]


def _event_details(event) -> list[tuple[str, str]]:
    """The event's data as (label, value) rows, in a fixed order."""
    data = event.data or {}
    details = []
    for key, label in (
        ("units", _("Units")),
        ("outcome", _("Outcome")),
        ("reason", _("Reason")),
        ("level", _("Escalation")),
        ("source", _("Source")),
    ):
        value = data.get(key)
        if value not in (None, ""):
            if key == "source":
                value = AlarmSource(value).label if value in AlarmSource.values else value
            details.append((label, str(value)))
    if data.get("false_alarm"):
        details.append((_("False alarm"), _("yes")))
    for key, label in (
        ("ack_seconds", _("Raise → acknowledgement")),
        ("arrival_seconds", _("Raise → arrival on scene")),
    ):
        if data.get(key) is not None:
            details.append((label, alarm_duration(data[key])))
    return details


@login_required
def raise_alarm(request):
    """The one-hand alarm button: choose a kind, press and hold, then a cancel window."""
    schools = ui.raise_schools(request.user)
    if not schools:
        raise PermissionDenied
    school = _chosen_school(request, schools)
    return render(
        request,
        "alarms/raise.html",
        {"school": school, "schools": schools, "nav_active": "alarm_raise"},
    )


def _chosen_school(request, schools):
    by_id = {s.pk: s for s in schools}
    raw = request.GET.get("school", "")
    if raw:
        try:
            school = by_id.get(int(raw))
        except ValueError:
            school = None
        if school is None:
            # Same answer as a school that does not exist.
            raise Http404
        return school
    membership = active_membership(request)
    if membership is not None and membership.organization_id in by_id:
        return by_id[membership.organization_id]
    return schools[0]
