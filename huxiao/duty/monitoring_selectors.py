"""Reads of the monitoring-room log (ADR 0029 "Monitoring room"): a day's entries and its
coverage bar. Anyone with VIEW on the school reads them; out of scope is 404."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from huxiao.core.roles import Action
from huxiao.duty.choices import GapKind
from huxiao.duty.models import DutyGap, MonitoringLogEntry
from huxiao.duty.monitoring_services import uncovered


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))
    return start, end


def entry_list(*, actor, school_id=None, since=None, until=None):
    """Entries in scope overlapping [since, until), in time order."""
    qs = MonitoringLogEntry.objects.visible_to(actor, Action.VIEW).select_related(
        "school", "watcher", "created_by"
    )
    if school_id is not None:
        qs = qs.filter(school_id=school_id)
    if since is not None:
        qs = qs.filter(period_end__gt=since)
    if until is not None:
        qs = qs.filter(period_start__lt=until)
    return qs.order_by("period_start", "id")


@dataclass
class Segment:
    state: str  # covered, anomaly, uncovered, gap, future
    left: float
    width: float
    start: dt.datetime
    end: dt.datetime


@dataclass
class DayCoverage:
    segments: list
    covered_minutes: int
    elapsed_minutes: int
    uncovered: list  # (start, end) stretches so far

    @property
    def percent(self) -> int:
        if not self.elapsed_minutes:
            return 0
        return round(100 * self.covered_minutes / self.elapsed_minutes)


def day_coverage(entries, day: dt.date, now: dt.datetime, max_gap_minutes: int) -> DayCoverage:
    """The day as a bar: covered stretches (abnormal ones marked), uncovered ones (longer
    than the plan allows: "gap"), and the part of the day still to come."""
    start, end = day_bounds(day)
    total = (end - start).total_seconds()
    until = min(max(now, start), end)
    limit = dt.timedelta(minutes=max_gap_minutes)
    pieces = []
    intervals = []
    for e in entries:
        a, b = max(e.period_start, start), min(e.period_end, until)
        if b > a:
            intervals.append((a, b))
            pieces.append(("anomaly" if e.anomaly else "covered", a, b))
    holes = uncovered(intervals, start, until)
    for a, b in holes:
        pieces.append(("gap" if b - a > limit else "uncovered", a, b))
    if until < end:
        pieces.append(("future", until, end))
    segments = [
        Segment(
            state=state,
            left=round(100 * (a - start).total_seconds() / total, 3),
            width=round(100 * (b - a).total_seconds() / total, 3),
            start=a,
            end=b,
        )
        for state, a, b in sorted(pieces, key=lambda p: (p[1], p[0] != "anomaly"))
    ]
    elapsed = int((until - start).total_seconds() // 60)
    hole_minutes = int(sum((b - a).total_seconds() for a, b in holes) // 60)
    return DayCoverage(
        segments=segments,
        covered_minutes=max(elapsed - hole_minutes, 0),
        elapsed_minutes=elapsed,
        uncovered=holes,
    )


def monitoring_gaps_of_day(*, school_id: int, day: dt.date):
    start, end = day_bounds(day)
    return list(
        DutyGap.objects.filter(school_id=school_id, kind=GapKind.MONITORING, starts_at__lt=end)
        .exclude(ends_at__lte=start)
        .order_by("starts_at", "id")
    )
