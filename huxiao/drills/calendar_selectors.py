"""Reads of a school's activity calendar (issue 8 item 3; ADR 0030 "Calendar").

One month of one school, Monday–Sunday weeks: the planned, held and cancelled activities on
their days; each school week marked drill held, missing (over) or due (running); the term's
first and last days and its holidays. Whoever may view the school reads it (404 out of
scope). A few queries whatever the history: the school, the county's terms near the month,
the county's rules, and the activities of the six weeks shown (an index on school and date).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.http import Http404
from django.utils import timezone

from huxiao.core.roles import SCHOOL_KINDS, Action
from huxiao.core.scoping import memberships_of
from huxiao.drills import rules as R
from huxiao.drills import terms as T
from huxiao.drills.choices import ActivityKind, ActivityStatus
from huxiao.drills.models import Activity
from huxiao.orgs.models import Organization
from huxiao.security.compliance_selectors import require_reader

MAX_PICKER = 300


@dataclass
class Day:
    date: dt.date
    in_month: bool
    is_today: bool
    term: object = None  # the term the day is in (None: a holiday between terms)
    holiday: bool = False
    term_starts: bool = False
    term_ends: bool = False
    items: list = field(default_factory=list)

    @property
    def is_weekend(self) -> bool:
        return self.date.weekday() >= 5


@dataclass
class Week:
    monday: dt.date
    days: list[Day]
    school_week: bool = False
    drills: int = 0
    # held / missing (over, short) / due (running, short) / ahead / "" (no school week)
    state: str = ""

    @property
    def key(self) -> str:
        return T.week_key(self.monday)


@dataclass
class Month:
    school: Organization
    first: dt.date
    weeks: list[Week]
    terms: list
    min_per_week: int | None
    today: dt.date

    @property
    def previous(self) -> dt.date:
        return (self.first - dt.timedelta(days=1)).replace(day=1)

    @property
    def next(self) -> dt.date:
        return (self.first + dt.timedelta(days=32)).replace(day=1)


def default_school_id(actor, membership=None) -> int:
    """The school a calendar opens on: the chosen membership's school, else the actor's
    first school, else the first school they can see (403 when none)."""
    ids = require_reader(actor)
    if membership is not None and membership.organization_id in ids:
        return membership.organization_id
    own = [m.organization_id for m in memberships_of(actor) if m.organization_id in ids]
    return own[0] if own else min(ids)


def school_choices(actor) -> list[tuple[int, str]]:
    """The schools to switch between (none above MAX_PICKER: a county uses the overview)."""
    ids = require_reader(actor)
    if len(ids) <= 1 or len(ids) > MAX_PICKER:
        return []
    return list(
        Organization.objects.filter(pk__in=ids, kind__in=SCHOOL_KINDS, is_active=True)
        .order_by("name", "pk")
        .values_list("pk", "name")
    )


def _grid(first: dt.date) -> tuple[dt.date, dt.date]:
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    start = first - dt.timedelta(days=first.weekday())
    end = last + dt.timedelta(days=6 - last.weekday())
    return start, end


def _week_state(week: Week, need: int | None, today: dt.date, school_weeks: set) -> None:
    week.school_week = week.monday in school_weeks
    if not week.school_week or need is None:
        return
    sunday = week.monday + dt.timedelta(days=6)
    if week.drills >= need:
        week.state = "held"
    elif sunday < today:
        week.state = "missing"
    elif week.monday <= today:
        week.state = "due"
    else:
        week.state = "ahead"


def calendar_month(*, actor, school_id: int, month: dt.date, today: dt.date | None = None):
    """The month of the school (in VIEW scope, else 404)."""
    ids = require_reader(actor)
    if not 0 < school_id <= 2**63 - 1 or school_id not in ids:
        raise Http404
    school = Organization.objects.filter(pk=school_id, kind__in=SCHOOL_KINDS).first()
    if school is None:
        raise Http404
    today = today or timezone.localdate()
    start, end = _grid(month)
    terms = T.county_terms([school.region_id], start, end)[school.region_id]
    weekly = dict(R.rule_sets([school.region_id])[school.region_id]).get("weekly_drill")
    items = (
        Activity.objects.visible_to(actor, Action.VIEW)
        .filter(school=school, date__gte=start, date__lte=end)
        .order_by("date", "starts_at", "pk")
        .only("pk", "kind", "status", "title", "date", "starts_at", "drill_kind", "school_id")
    )
    by_day: dict[dt.date, list] = {}
    for item in items:
        by_day.setdefault(item.date, []).append(item)
    school_weeks = {m for term in terms for m in T.school_weeks(term)}
    breaks = [(term, T.term_breaks(term)) for term in terms]
    weeks = []
    monday = start
    while monday <= end:
        days = [_day(monday + dt.timedelta(days=n), month, today, breaks, by_day) for n in range(7)]
        week = Week(monday=monday, days=days)
        week.drills = sum(
            i.kind == ActivityKind.DRILL and i.status == ActivityStatus.HELD
            for d in days
            for i in d.items
        )
        _week_state(week, int(weekly["min_per_week"]) if weekly else None, today, school_weeks)
        weeks.append(week)
        monday += dt.timedelta(days=7)
    need = int(weekly["min_per_week"]) if weekly else None
    return Month(
        school=school, first=month, weeks=weeks, terms=terms, min_per_week=need, today=today
    )


def _day(date, month, today, breaks, by_day) -> Day:
    day = Day(date=date, in_month=date.month == month.month, is_today=date == today)
    for term, holidays in breaks:
        if term.starts_on <= date <= term.ends_on:
            day.term = term
            day.holiday = any(a <= date <= b for a, b in holidays)
            day.term_starts = date == term.starts_on
            day.term_ends = date == term.ends_on
    day.items = by_day.get(date, [])
    return day
