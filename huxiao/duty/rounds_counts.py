"""Counting patrol rounds per school and day (issue 7 item 7; ADR 0029 "Rounds").

CONTRACT (the compliance rule "patrol_rounds" and the daily missed-rounds check both use it;
the rounds area implements it):

    round_counts(school_ids, start: date, end: date) -> dict[int, dict[date, tuple[int, int]]]

For each school and each local day from `start` to `end` (both included) with any counted
round: (day rounds, night rounds). A round counts when it is finished and scanned at least
`min(2, active checkpoints of the school)` distinct checkpoints; it belongs to the local date
of `started_at` (a night round after midnight belongs to the night that began the evening
before: the local date of started_at minus one day when before noon). One or two grouped
queries for all the schools.

How: one query counts each school's active checkpoints; a second groups the finished
rounds of the window by (school, duty day, night), counting those with at least one and at
least two distinct checkpoints (a correlated subquery per round), so the threshold of each
school is applied to a handful of numbers per day. The duty day of a night round is the
local date of `started_at − 12 h`, which is exactly "minus one day when before noon".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import (
    Case,
    Count,
    DateField,
    DateTimeField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

NIGHT_SHIFT = dt.timedelta(hours=12)
# A round counts with at least this many distinct checkpoints (fewer when the school has
# fewer active checkpoints).
MIN_DISTINCT = 2


def local_tz():
    return timezone.get_default_timezone()


def duty_day(started_at: dt.datetime, is_night: bool) -> dt.date:
    """The day a round belongs to (the same rule as the query below, for one round)."""
    if is_night:
        started_at = started_at - NIGHT_SHIFT
    return timezone.localtime(started_at, local_tz()).date()


def local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), local_tz())


def threshold(active_checkpoints: int) -> int:
    """Distinct checkpoints a round needs to count at a school."""
    return min(MIN_DISTINCT, max(active_checkpoints, 0))


def _ids(school_ids: Iterable) -> list[int]:
    ids = set()
    for raw in school_ids or ():
        ids.add(int(getattr(raw, "pk", raw)))
    return sorted(ids)


def active_checkpoint_counts(school_ids: Iterable) -> dict[int, int]:
    """Active checkpoints per school (schools without any are missing)."""
    from huxiao.duty.models import Checkpoint

    ids = _ids(school_ids)
    if not ids:
        return {}
    return dict(
        Checkpoint.objects.filter(school_id__in=ids, is_active=True)
        .order_by()
        .values("school_id")
        .annotate(n=Count("pk"))
        .values_list("school_id", "n")
    )


def distinct_checkpoints():
    """Distinct checkpoints scanned on the outer round (a correlated subquery)."""
    from huxiao.duty.models import CheckpointScan

    return Coalesce(
        Subquery(
            CheckpointScan.objects.filter(round=OuterRef("pk"))
            .order_by()
            .values("round")
            .annotate(c=Count("checkpoint", distinct=True))
            .values("c")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


def duty_day_expression():
    tz = local_tz()
    shifted = ExpressionWrapper(F("started_at") - Value(NIGHT_SHIFT), output_field=DateTimeField())
    return Case(
        When(is_night=True, then=TruncDate(shifted, tzinfo=tz)),
        default=TruncDate("started_at", tzinfo=tz),
        output_field=DateField(),
    )


def round_counts_with_active(
    school_ids, start: dt.date, end: dt.date
) -> tuple[dict[int, dict[dt.date, tuple[int, int]]], dict[int, int]]:
    """`round_counts` and the active checkpoints per school it used (two queries)."""
    from huxiao.duty.models import PatrolRound

    ids = _ids(school_ids)
    if not ids or end < start:
        return {}, {}
    active = active_checkpoint_counts(ids)
    low = local_midnight(start)
    # A night round of `end` may start up to noon of the next day.
    high = local_midnight(end + dt.timedelta(days=1)) + NIGHT_SHIFT
    rows = (
        PatrolRound.objects.filter(
            school_id__in=ids,
            finished_at__isnull=False,
            started_at__gte=low,
            started_at__lt=high,
        )
        .annotate(n_checkpoints=distinct_checkpoints(), duty_day=duty_day_expression())
        .filter(duty_day__gte=start, duty_day__lte=end)
        .order_by()
        .values("school_id", "duty_day", "is_night")
        .annotate(
            n_any=Count("pk"),
            n_one=Count("pk", filter=Q(n_checkpoints__gte=1)),
            n_two=Count("pk", filter=Q(n_checkpoints__gte=2)),
        )
    )
    result: dict[int, dict[dt.date, list[int]]] = {}
    for row in rows:
        need = threshold(active.get(row["school_id"], 0))
        counted = row["n_two"] if need >= 2 else row["n_one"] if need == 1 else row["n_any"]
        if not counted:
            continue
        day = row["duty_day"]
        if isinstance(day, dt.datetime):  # some drivers hand back a datetime
            day = day.date()
        pair = result.setdefault(row["school_id"], {}).setdefault(day, [0, 0])
        pair[1 if row["is_night"] else 0] += counted
    counts = {
        school_id: {day: (pair[0], pair[1]) for day, pair in days.items()}
        for school_id, days in result.items()
    }
    return counts, active


def round_counts(school_ids, start, end) -> dict:
    """See the module's contract."""
    return round_counts_with_active(school_ids, start, end)[0]
