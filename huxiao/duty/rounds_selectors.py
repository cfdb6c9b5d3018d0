"""Reads of patrol rounds, always scoped (issue 7 item 7; ADR 0029 "Rounds").

Anyone who sees a school (`VIEW`: its own people, the police station of its jurisdiction,
the town's offices, the county) reads its rounds: counted rounds per day against the
county's rule, who walked them, each scan with its time. A round out of scope is 404.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from huxiao.core.roles import Action
from huxiao.duty.checkpoint_selectors import check_id
from huxiao.duty.models import CheckpointScan, PatrolRound
from huxiao.duty.rounds_counts import (
    NIGHT_SHIFT,
    duty_day,
    local_midnight,
    local_tz,
    round_counts_with_active,
    threshold,
)
from huxiao.duty.rounds_services import IDLE_MINUTES, RULE_KEY
from huxiao.security.rules import rule_params

PAST_DAYS = 7


def local_today(now: dt.datetime | None = None) -> dt.date:
    return timezone.localtime(now or timezone.now(), local_tz()).date()


def requirement(school) -> tuple[int, int]:
    """(rounds a day, night rounds a night) the county's rule asks of the school; night
    rounds only of a boarding school; (0, 0) when the rule is switched off."""
    rule = rule_params(school.region_id, RULE_KEY) or {}
    per_day = int(rule.get("rounds_per_day") or 0)
    nights = int(rule.get("night_rounds") or 0) if school.is_boarding else 0
    return per_day, nights


def rounds_visible(actor) -> QuerySet[PatrolRound]:
    return PatrolRound.objects.visible_to(actor, Action.VIEW)


def _with_scans(qs: QuerySet[PatrolRound]) -> QuerySet[PatrolRound]:
    return qs.select_related("guard", "school").prefetch_related(
        Prefetch(
            "scans",
            queryset=CheckpointScan.objects.select_related("checkpoint").order_by(
                "scanned_at", "id"
            ),
        )
    )


def round_get(*, actor, round_id) -> PatrolRound:
    rnd = _with_scans(rounds_visible(actor)).filter(pk=check_id(round_id)).first()
    if rnd is None:
        raise Http404
    return rnd


def open_round(*, actor, school_id: int, now: dt.datetime | None = None) -> PatrolRound | None:
    """The actor's own round in progress at the school (not idle past the limit)."""
    now = now or timezone.now()
    rnd = (
        _with_scans(rounds_visible(actor))
        .filter(school_id=school_id, guard_id=actor.pk, finished_at__isnull=True)
        .order_by("-started_at", "-id")
        .first()
    )
    if rnd is None:
        return None
    scans = list(rnd.scans.all())
    last = scans[-1].scanned_at if scans else rnd.started_at
    if last < now - dt.timedelta(minutes=IDLE_MINUTES):
        return None
    return rnd


@dataclass
class DayRow:
    """One day of a school's rounds on the rounds page."""

    day: dt.date
    day_rounds: int = 0
    night_rounds: int = 0
    required: int = 0
    night_required: int = 0
    is_today: bool = False
    night_over: bool = True
    rounds: list = field(default_factory=list)

    @property
    def short(self) -> bool:
        """Fewer counted day rounds than required (a past day only)."""
        return not self.is_today and self.day_rounds < self.required

    @property
    def night_short(self) -> bool:
        return bool(
            self.night_over and self.night_required and self.night_rounds < self.night_required
        )

    @property
    def missed(self) -> bool:
        return bool(self.short or self.night_short)


def round_counted(rnd: PatrolRound, active: int) -> bool:
    """The counting rule of rounds_counts.py for one round (scans prefetched)."""
    if rnd.finished_at is None:
        return False
    return len({s.checkpoint_id for s in rnd.scans.all()}) >= threshold(active)


def day_rows(
    *, actor, school, start: dt.date, end: dt.date, now: dt.datetime | None = None
) -> list[DayRow]:
    """The days from `start` to `end`, newest first: counted day and night rounds against
    the requirement, and each day's rounds with their scans (three queries and a
    prefetch)."""
    now = now or timezone.now()
    today = local_today(now)
    counts, active = round_counts_with_active([school.pk], start, end)
    counts = counts.get(school.pk, {})
    n_active = active.get(school.pk, 0)
    per_day, nights = requirement(school)
    rows = {}
    for offset in range((end - start).days + 1):
        day = end - dt.timedelta(days=offset)
        day_rounds, night_rounds = counts.get(day, (0, 0))
        rows[day] = DayRow(
            day=day,
            day_rounds=day_rounds,
            night_rounds=night_rounds,
            required=per_day,
            night_required=nights,
            is_today=day >= today,
            night_over=now >= local_midnight(day + dt.timedelta(days=1)) + NIGHT_SHIFT,
        )
    rounds = _with_scans(
        rounds_visible(actor).filter(
            school_id=school.pk,
            started_at__gte=local_midnight(start),
            started_at__lt=local_midnight(end + dt.timedelta(days=1)) + NIGHT_SHIFT,
        )
    ).order_by("started_at", "id")
    for rnd in rounds:
        row = rows.get(duty_day(rnd.started_at, rnd.is_night))
        if row is None:
            continue
        rnd.counted = round_counted(rnd, n_active)
        row.rounds.append(rnd)
    return list(rows.values())


def school_days(
    *, actor, school, now: dt.datetime | None = None, days: int = PAST_DAYS
) -> list[DayRow]:
    """Today and the `days` before it (the rounds page)."""
    now = now or timezone.now()
    today = local_today(now)
    return day_rows(
        actor=actor, school=school, start=today - dt.timedelta(days=days), end=today, now=now
    )


def rounds_on(*, actor, school, day: dt.date, now: dt.datetime | None = None) -> DayRow:
    """One day of a school (the API)."""
    return day_rows(actor=actor, school=school, start=day, end=day, now=now)[0]
