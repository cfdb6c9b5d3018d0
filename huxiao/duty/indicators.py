"""Assessment indicator sources fed by the duty app (replaces the supervision placeholder
"duty_gaps"; ADR 0027 "Indicators", ADR 0029).

"duty_gaps": per school and period, the share of its shifts and monitored days without a
gap. A shift counts once it has started (up to now); it is a miss when it was flagged
uncovered. A monitored day is a local day of the period, up to today, of a school whose
defence profile has a monitoring room, from the first day the school's monitoring log has
an entry or a gap; it is a miss when a monitoring gap overlaps it. A school without shifts
in the period has no data (None), whatever its monitoring log says: the duty system is
judged on the roster first.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Exists, Min, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.supervision.indicators import indicator, period_range, ratio


@indicator(
    "duty_gaps",
    label=_("Duty without gaps"),
    description=_(
        "Share of the school's shifts (started in the period) and monitored days without a "
        "gap: a shift nobody checked in for, a stretch of the monitoring-room log without "
        "an entry longer than the plan allows. A school without shifts in the period: no "
        "data."
    ),
    app="duty",
    replace=True,
)
def duty_gaps(school_ids, start, end, params):
    from huxiao.duty.choices import GapKind
    from huxiao.duty.models import DutyGap, DutyShift
    from huxiao.security.models import DefenceProfile

    now = timezone.now()
    uncovered = Exists(
        DutyGap.objects.filter(shift_id=OuterRef("pk"), kind=GapKind.SHIFT_UNCOVERED)
    )
    shifts = {
        school_id: (n, bad)
        for school_id, n, bad in DutyShift.objects.filter(
            school_id__in=school_ids, date__gte=start, date__lte=end, starts_at__lte=now
        )
        .annotate(gap=uncovered)
        .values("school_id")
        .annotate(
            n=Count("pk"), bad=Count("pk", filter=Q(gap=True) | Q(gap_flagged_at__isnull=False))
        )
        .values_list("school_id", "n", "bad")
        .order_by()
    }
    if not shifts:
        return {}
    monitored = list(
        DefenceProfile.objects.filter(school_id__in=list(shifts), monitoring_room=True).values_list(
            "school_id", flat=True
        )
    )
    days = _monitored_days(monitored, start, min(end, timezone.localtime(now).date()))
    result = {}
    for school_id, (n, bad) in shifts.items():
        school_days = days.get(school_id, (0, 0))
        total = n + school_days[0]
        result[school_id] = ratio(total - bad - school_days[1], total)
    return result


def _monitored_days(school_ids, start: dt.date, last: dt.date) -> dict[int, tuple[int, int]]:
    """(monitored days, days with a gap) per school, in three grouped queries."""
    from huxiao.duty.choices import GapKind
    from huxiao.duty.models import DutyGap, MonitoringLogEntry

    if not school_ids or last < start:
        return {}
    first_entry = dict(
        MonitoringLogEntry.objects.filter(school_id__in=school_ids)
        .values("school_id")
        .annotate(first=Min("period_start"))
        .values_list("school_id", "first")
        .order_by()
    )
    since, _until = period_range(start, last)
    gaps = defaultdict(list)
    for school_id, starts_at, ends_at in (
        DutyGap.objects.filter(school_id__in=school_ids, kind=GapKind.MONITORING)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=since))
        .values_list("school_id", "starts_at", "ends_at")
        .order_by("school_id", "starts_at")
    ):
        gaps[school_id].append((starts_at, ends_at))
    earliest_gap = dict(
        DutyGap.objects.filter(school_id__in=school_ids, kind=GapKind.MONITORING)
        .values("school_id")
        .annotate(first=Min("starts_at"))
        .values_list("school_id", "first")
        .order_by()
    )
    result = {}
    for school_id in school_ids:
        firsts = [m for m in (first_entry.get(school_id), earliest_gap.get(school_id)) if m]
        if not firsts:
            continue
        begin = max(start, timezone.localtime(min(firsts)).date())
        total = bad = 0
        day = begin
        while day <= last:
            total += 1
            lo, hi = period_range(day, day)
            if any(a < hi and (b is None or b > lo) for a, b in gaps[school_id]):
                bad += 1
            day += dt.timedelta(days=1)
        result[school_id] = (total, bad)
    return result
