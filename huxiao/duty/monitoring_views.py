"""The monitoring-room log page (ADR 0029 "Monitoring room"): one day of a school's log
with its coverage bar, the gaps flagged on it, and the form of a new entry for those who
keep duty. Anyone with VIEW on the school reads it; out of scope is 404; a new entry needs
KEEP_DUTY (403), bad input is 400 with the errors in place.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from huxiao.core.roles import Action
from huxiao.core.scoping import can
from huxiao.duty import duty_selectors as sel
from huxiao.duty import monitoring_selectors as msel
from huxiao.duty import monitoring_services as services
from huxiao.duty.duty_views import NAV, service_errors
from huxiao.duty.monitoring_forms import MonitoringForm

FIELDS = (
    "watcher",
    "watcher_name",
    "period_start",
    "period_end",
    "observations",
    "actions",
)


def _initial(request, now) -> dict:
    """A new entry starts where the last one of the day ended (or an hour ago)."""
    local = timezone.localtime(now).replace(second=0, microsecond=0)
    return {
        "watcher": request.user.pk,
        "period_start": (local - dt.timedelta(hours=1)).replace(tzinfo=None),
        "period_end": local.replace(tzinfo=None),
    }


def log_day(query, today: dt.date) -> dt.date:
    """The day of the log from `?date=` (today by default, never after it): the page and
    its export."""
    day = sel.parse_date(query.get("date")) or today
    return min(day, today)


@login_required
@require_http_methods(["GET", "POST"])
def monitoring_day(request, school_id: int):
    school = sel.school_get(actor=request.user, school_id=school_id)
    now = timezone.now()
    today = timezone.localtime(now).date()
    day = log_day(request.GET, today)
    can_write = can(request.user, Action.KEEP_DUTY, school.pk)
    members = sel.school_members(school.pk) if can_write else []
    form = MonitoringForm(initial=_initial(request, now), members=members) if can_write else None
    status = 200
    if request.method == "POST":
        data = {name: request.POST.get(name, "") for name in FIELDS}
        try:
            services.monitoring_add(
                actor=request.user,
                school_id=school.pk,
                anomaly=request.POST.get("anomaly") in ("on", "true", "1"),
                **data,
            )
        except ValidationError as exc:
            form = service_errors(MonitoringForm(request.POST, members=members), exc)
            status = 400
        else:
            messages.success(request, _("Entry added to the monitoring-room log."))
            return redirect(f"{reverse('duty:monitoring', args=[school.pk])}?date={day}")
    plan = sel.plan_for(school.pk)
    since, until = msel.day_bounds(day)
    entries = list(
        msel.entry_list(actor=request.user, school_id=school.pk, since=since, until=until)
    )
    coverage = msel.day_coverage(entries, day, now, plan.monitoring_max_gap_minutes)
    return render(
        request,
        "duty/monitoring/day.html",
        {
            "school": school,
            "day": day,
            "previous_day": day - dt.timedelta(days=1),
            "next_day": day + dt.timedelta(days=1) if day < today else None,
            "entries": entries,
            "coverage": coverage,
            "gaps": msel.monitoring_gaps_of_day(school_id=school.pk, day=day),
            "plan": plan,
            "has_room": _has_room(school.pk),
            "form": form,
            "hours": range(0, 25, 3),
            "export_query": f"school={school.pk}&date={day.isoformat()}",
            "nav_active": NAV,
        },
        status=status,
    )


def _has_room(school_id: int) -> bool:
    from huxiao.security.models import DefenceProfile

    return DefenceProfile.objects.filter(school_id=school_id, monitoring_room=True).exists()


urlpatterns = [
    path("schools/<int:school_id>/monitoring/", monitoring_day, name="monitoring"),
]
