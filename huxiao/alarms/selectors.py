from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from django.db.models import (
    Avg,
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Q,
    QuerySet,
    Value,
    When,
)
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from huxiao.alarms.choices import OPEN_STATUSES, AlarmEventType, AlarmStatus
from huxiao.alarms.models import Alarm, AlarmEvent
from huxiao.core.roles import Action, OrgKind
from huxiao.core.scoping import memberships_of


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


# The most open alarms a console is sent at once (page load, reconnect, HTTP catch-up). A
# county has a few hundred schools: a county-wide drill can leave that many open.
CONSOLE_OPEN_LIMIT = 1000


def open_alarms_for_console(*, actor) -> tuple[list[Alarm], int]:
    """The open alarms a console starts from, most urgent first, and how many are open.

    Past the limit the least urgent are left out, never a real alarm for a drill or a
    waiting one for one already answered: real alarms before drills, unacknowledged before
    acknowledged, then the longest waiting first (the console orders its cards itself)."""
    limit = CONSOLE_OPEN_LIMIT
    qs = alarm_list(actor=actor, status="open").order_by(
        "is_drill",
        Case(When(status=AlarmStatus.RAISED, then=Value(0)), default=Value(1)),
        "raised_at",
        "id",
    )
    alarms = list(qs[:limit])
    total = len(alarms) if len(alarms) < limit else qs.count()
    return alarms, total


def alarm_get(*, actor, alarm_id: int) -> Alarm:
    return get_object_or_404(_base(actor), pk=alarm_id)


# What event_message() reads of an event's alarm.
_EVENT_ALARM = (
    "alarm__school",
    "alarm__raised_by",
    "alarm__raised_by_device",
    "alarm__acknowledged_by",
)


def _console_events(actor) -> QuerySet[AlarmEvent]:
    """The events a console may be sent: those of alarms the actor may see, less a drill's
    escalations outside its police station and post, which the push keeps there too
    (services.alarms_escalate_due)."""
    stations = [
        m.organization_id
        for m in memberships_of(actor)
        if m.organization.kind in (OrgKind.POLICE_STATION, OrgKind.POLICE_POST)
    ]
    drill_escalation = Q(type=AlarmEventType.ESCALATED, alarm__is_drill=True)
    at_station = Q(alarm__school__police_station_id__in=stations) | Q(
        alarm__school__police_post_id__in=stations
    )
    return AlarmEvent.objects.visible_to(actor, Action.VIEW_ALARM).filter(
        ~drill_escalation | at_station
    )


def alarm_events_since(*, actor, since: int, limit: int = 500) -> list[AlarmEvent]:
    """Timeline events after `since` on alarms the actor may see (console catch-up)."""
    return list(
        _console_events(actor)
        .filter(pk__gt=since)
        .select_related(*_EVENT_ALARM)
        .order_by("pk")[:limit]
    )


def alarm_events_just_before(
    *, actor, before: int, lookback: int, seconds: float
) -> list[AlarmEvent]:
    """The events a console may have skipped although it has seen event `before`: with
    PostgreSQL a transaction that took a smaller id can commit after a larger one was pushed
    (and its own push can be lost with a killed ASGI server), so a reconnect's
    {"since": before} would never ask for it. These are the visible events with an id in
    [before - lookback, before) from the `seconds` before event `before`: in flight when it
    was written. Empty when `before` is no event."""
    anchor_at = AlarmEvent.objects.filter(pk=before).values_list("at", flat=True).first()
    if anchor_at is None:
        return []
    return list(
        _console_events(actor)
        .filter(
            pk__gte=max(1, before - lookback),
            pk__lt=before,
            at__gte=anchor_at - dt.timedelta(seconds=seconds),
        )
        .select_related(*_EVENT_ALARM)
        .order_by("pk")
    )


def alarm_timeline(*, alarm: Alarm) -> QuerySet[AlarmEvent]:
    return alarm.events.order_by("pk")


# ------------------------------------------------------------------ response-time statistics

STATS_GROUPS = ("school", "station")
STATS_DEFAULT_DAYS = 30
# Medians are computed in Python from one row per alarm; past this many alarms in the period
# they are left out rather than loading an unbounded list (a township has hundreds a year).
STATS_MEDIAN_ROW_LIMIT = 20_000

_ACK_DURATION = ExpressionWrapper(
    F("acknowledged_at") - F("raised_at"), output_field=DurationField()
)
_ARRIVAL_DURATION = ExpressionWrapper(
    F("arrived_at") - F("raised_at"), output_field=DurationField()
)
# A press cancelled within the free-cancel window is an accident, not an alarm the police had
# to answer: it is counted on its own and left out of every other figure (ADR 0014).
_ACCIDENTAL = Q(status=AlarmStatus.CANCELLED, is_false_alarm=False)
_COUNTED = ~_ACCIDENTAL

# group_by → (id field, name field) on Alarm.
_GROUP_FIELDS = {
    "school": ("school_id", "school__name"),
    "station": ("school__police_station_id", "school__police_station__name"),
}


@dataclass(frozen=True)
class ResponseStatsRow:
    """Counts and response times (seconds) of one school, one police station, or all."""

    group_id: int | None
    name: str
    station_name: str
    alarms: int
    acknowledged: int
    not_acknowledged: int
    arrived: int
    false_alarms: int
    accidental_presses: int
    ack_seconds_avg: float | None
    ack_seconds_median: float | None
    ack_seconds_max: float | None
    arrival_seconds_avg: float | None
    arrival_seconds_median: float | None
    arrival_seconds_max: float | None


@dataclass(frozen=True)
class ResponseStats:
    group_by: str
    since: dt.datetime
    until: dt.datetime
    include_drills: bool
    rows: list[ResponseStatsRow]
    total: ResponseStatsRow
    medians_complete: bool


def _stats_aggregates() -> dict:
    return {
        "n_alarms": Count("pk", filter=_COUNTED),
        "n_acknowledged": Count("pk", filter=_COUNTED & Q(acknowledged_at__isnull=False)),
        "n_not_acknowledged": Count("pk", filter=_COUNTED & Q(acknowledged_at__isnull=True)),
        "n_arrived": Count("pk", filter=_COUNTED & Q(arrived_at__isnull=False)),
        "n_false_alarms": Count("pk", filter=Q(is_false_alarm=True)),
        "n_accidental": Count("pk", filter=_ACCIDENTAL),
        "ack_avg": Avg(_ACK_DURATION, filter=_COUNTED),
        "ack_max": Max(_ACK_DURATION, filter=_COUNTED),
        "arrival_avg": Avg(_ARRIVAL_DURATION, filter=_COUNTED),
        "arrival_max": Max(_ARRIVAL_DURATION, filter=_COUNTED),
    }


def _seconds(value) -> float | None:
    """A duration aggregate as seconds; backends differ in what they hand back."""
    if value is None:
        return None
    if isinstance(value, dt.timedelta):
        return round(value.total_seconds(), 1)
    # SQLite averages the microsecond counts it stores durations as.
    return round(float(value) / 1_000_000, 1)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _stats_row(values: dict, *, group_id, name, station_name, medians) -> ResponseStatsRow:
    ack_values, arrival_values = medians if medians is not None else (None, None)
    return ResponseStatsRow(
        group_id=group_id,
        name=name,
        station_name=station_name,
        alarms=values["n_alarms"],
        acknowledged=values["n_acknowledged"],
        not_acknowledged=values["n_not_acknowledged"],
        arrived=values["n_arrived"],
        false_alarms=values["n_false_alarms"],
        accidental_presses=values["n_accidental"],
        ack_seconds_avg=_seconds(values["ack_avg"]),
        ack_seconds_median=_median(ack_values) if ack_values is not None else None,
        ack_seconds_max=_seconds(values["ack_max"]),
        arrival_seconds_avg=_seconds(values["arrival_avg"]),
        arrival_seconds_median=_median(arrival_values) if arrival_values is not None else None,
        arrival_seconds_max=_seconds(values["arrival_max"]),
    )


def _durations_by_group(qs, id_field) -> dict | None:
    """{group id: ([ack seconds], [arrival seconds])} of the counted alarms, or None when
    there are too many alarms to load."""
    rows = list(
        qs.filter(_COUNTED)
        .filter(Q(acknowledged_at__isnull=False) | Q(arrived_at__isnull=False))
        .annotate(ack=_ACK_DURATION, arrival=_ARRIVAL_DURATION)
        .order_by()
        .values_list(id_field, "ack", "arrival")[: STATS_MEDIAN_ROW_LIMIT + 1]
    )
    if len(rows) > STATS_MEDIAN_ROW_LIMIT:
        return None
    groups: dict = {}
    for group_id, ack, arrival in rows:
        ack_seconds, arrival_seconds = groups.setdefault(group_id, ([], []))
        if ack is not None:
            ack_seconds.append(_seconds(ack))
        if arrival is not None:
            arrival_seconds.append(_seconds(arrival))
    return groups


def response_stats(
    *,
    actor,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    include_drills: bool = False,
    group_by: str = "school",
) -> ResponseStats:
    """Response times per school or per police station of the alarms raised in
    [since, until) that `actor` may see, computed in the database.

    Per group: alarms, how many were acknowledged / not acknowledged / reached on scene,
    false alarms, accidental presses (cancelled within the free-cancel window: not counted
    as alarms), and the average, median and longest raise → acknowledgement and raise →
    arrival times in seconds. Drills are left out unless `include_drills`. Schools without a
    police station share one station row (group_id None). Defaults: the last 30 days.
    """
    if group_by not in STATS_GROUPS:
        raise ValueError(f"group_by must be one of {STATS_GROUPS}")
    until = until or timezone.now()
    since = since or until - dt.timedelta(days=STATS_DEFAULT_DAYS)
    qs = Alarm.objects.visible_to(actor, Action.VIEW_ALARM).filter(
        raised_at__gte=since, raised_at__lt=until
    )
    if not include_drills:
        qs = qs.filter(is_drill=False)
    id_field, name_field = _GROUP_FIELDS[group_by]
    station_field = "school__police_station__name"
    aggregates = _stats_aggregates()
    grouped = (
        qs.order_by()
        .values(*dict.fromkeys((id_field, name_field, station_field)))
        .annotate(**aggregates)
        .order_by(F(name_field).asc(nulls_last=True), id_field)
    )
    durations = _durations_by_group(qs, id_field)
    no_station = str(_("No police station"))
    rows = [
        _stats_row(
            values,
            group_id=values[id_field],
            name=values[name_field] or no_station,
            station_name=(values[station_field] or no_station) if group_by == "school" else "",
            medians=durations.get(values[id_field], ([], [])) if durations is not None else None,
        )
        for values in grouped
    ]
    all_durations = None
    if durations is not None:
        all_durations = (
            [s for ack, _arrival in durations.values() for s in ack],
            [s for _ack, arrival in durations.values() for s in arrival],
        )
    total = _stats_row(
        qs.aggregate(**aggregates),
        group_id=None,
        name=str(_("All")),
        station_name="",
        medians=all_durations,
    )
    return ResponseStats(
        group_by=group_by,
        since=since,
        until=until,
        include_drills=include_drills,
        rows=rows,
        total=total,
        medians_complete=durations is not None,
    )


def raised_by_hour(*, actor, since: dt.datetime, until: dt.datetime) -> dict[str, list[int]]:
    """The alarms `actor` may see raised in [since, until), counted as `response_stats`
    counts them (accidental presses left out), per local hour of the day: {"alarms": [24
    counts], "drills": [24 counts]} (the dashboard's chart). One query; a day's alarms are
    few, so they are bucketed here rather than with a database-specific hour function."""
    hours = {"alarms": [0] * 24, "drills": [0] * 24}
    rows = (
        Alarm.objects.visible_to(actor, Action.VIEW_ALARM)
        .filter(_COUNTED, raised_at__gte=since, raised_at__lt=until)
        .order_by()
        .values_list("raised_at", "is_drill")
    )
    for raised_at, is_drill in rows:
        hours["drills" if is_drill else "alarms"][timezone.localtime(raised_at).hour] += 1
    return hours
