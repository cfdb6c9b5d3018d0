"""Reads of the patrols app, always scoped: posts, shifts and check-ins, coverage (三见),
patrol logs, visits and the weekly visit rule."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import EmptyResultSet, PermissionDenied
from django.db import connections
from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from huxiao.core.roles import Action
from huxiao.core.scoping import visible_school_ids
from huxiao.orgs.models import Organization
from huxiao.patrols import conf
from huxiao.patrols.choices import PERIOD_ORDER, Period
from huxiao.patrols.models import (
    GatePost,
    GatePostStaff,
    PatrolLog,
    PoliceVisit,
    PostCheckIn,
    PostShift,
    VisitShortfall,
)
from huxiao.patrols.services import aware, local_now, week_start_of


def require_any(actor, action: str) -> frozenset[int]:
    """The schools where `actor` may `action`; 403 when there is none at all (the role does
    not allow it anywhere), so that a 404 below only ever means "not in your scope"."""
    ids = visible_school_ids(actor, action)
    if not ids:
        raise PermissionDenied(_("Your role does not allow this action."))
    return ids


# ------------------------------------------------------------------ posts


def post_list(*, actor, school_id: int | None = None) -> QuerySet[GatePost]:
    qs = (
        GatePost.objects.visible_to(actor, Action.VIEW_COVERAGE)
        .select_related("school")
        .prefetch_related(
            "windows",
            Prefetch(
                "staff",
                queryset=GatePostStaff.objects.filter(is_active=True).select_related("user"),
                to_attr="active_staff",
            ),
        )
        .order_by("school__name", "period")
    )
    if school_id:
        qs = qs.filter(school_id=school_id)
    return qs


def post_get(*, actor, post_id: int, action: str = Action.VIEW_COVERAGE) -> GatePost:
    return get_object_or_404(
        GatePost.objects.visible_to(actor, action).select_related("school"), pk=post_id
    )


def post_staff(*, post: GatePost) -> QuerySet[GatePostStaff]:
    return post.staff.filter(is_active=True).select_related("user").order_by("kind", "id")


def staff_get(*, post: GatePost, staff_id: int) -> GatePostStaff:
    return get_object_or_404(
        GatePostStaff.objects.select_related("post__school"), post=post, pk=staff_id
    )


# ------------------------------------------------------------------ shifts and check-ins


def _shift_base(actor, action=Action.VIEW_COVERAGE) -> QuerySet[PostShift]:
    return PostShift.objects.visible_to(actor, action).select_related("school", "post")


def shift_list(
    *,
    actor,
    day: dt.date | None = None,
    school_id: int | None = None,
    action: str = Action.VIEW_COVERAGE,
) -> QuerySet[PostShift]:
    qs = _shift_base(actor, action).order_by("starts_at", "school__name")
    if day is not None:
        qs = qs.filter(date=day)
    if school_id:
        qs = qs.filter(school_id=school_id)
    return qs


def shift_get(*, actor, shift_id: int) -> PostShift:
    return get_object_or_404(_shift_base(actor), pk=shift_id)


def shift_check_ins(*, shift: PostShift) -> QuerySet[PostCheckIn]:
    return shift.check_ins.select_related("user", "staff").order_by("checked_in_at", "id")


def check_in_list(
    *, actor, day: dt.date | None = None, school_id: int | None = None
) -> QuerySet[PostCheckIn]:
    qs = (
        PostCheckIn.objects.visible_to(actor, Action.VIEW_COVERAGE)
        .select_related("shift", "school", "user")
        .order_by("-checked_in_at", "-id")
    )
    if day is not None:
        qs = qs.filter(shift__date=day)
    if school_id:
        qs = qs.filter(school_id=school_id)
    return qs


def check_in_get(*, actor, check_in_id: int, action: str = Action.VIEW_COVERAGE) -> PostCheckIn:
    """A check-in of the actor's scope; one's own check-in is always found (to check out)."""
    qs = PostCheckIn.objects.select_related("shift__school", "shift__post", "user", "school")
    ids = visible_school_ids(actor, action)
    return get_object_or_404(
        qs.filter(Q(school_id__in=ids) | Q(user_id=getattr(actor, "pk", None))), pk=check_in_id
    )


def open_check_ins(*, actor, now=None) -> list[PostCheckIn]:
    """The actor's own check-ins that can still be checked out of."""
    now = now or timezone.now()
    return list(
        PostCheckIn.objects.filter(
            user_id=actor.pk,
            checked_out_at__isnull=True,
            shift__ends_at__gte=now - conf.checkout_grace(),
        )
        .select_related("shift__school", "shift__post")
        .order_by("checked_in_at")
    )


@dataclass
class TodayShift:
    shift: PostShift
    state: str  # "upcoming" | "open" | "running" | "ended" | "cancelled"
    can_check_in: bool
    my_check_in: PostCheckIn | None
    check_ins: list[PostCheckIn] = field(default_factory=list)


def today_shifts(*, actor, now=None) -> list[TodayShift]:
    """Today's posts of the actor's scope (staffing or coverage), with what the actor may do.
    Three queries: the shifts, their check-ins, and the scope (cached)."""
    now = now or timezone.now()
    today = local_now(now).date()
    staff_ids = visible_school_ids(actor, Action.STAFF_POST)
    view_ids = visible_school_ids(actor, Action.VIEW_COVERAGE)
    ids = staff_ids | view_ids
    shifts = list(
        PostShift.objects.filter(school_id__in=ids, date=today, post__is_active=True)
        .select_related("school", "post")
        .order_by("starts_at", "school__name")
    )
    check_ins: dict[int, list[PostCheckIn]] = {}
    for check_in in (
        PostCheckIn.objects.filter(shift__in=[s.pk for s in shifts])
        .select_related("user")
        .order_by("checked_in_at")
    ):
        check_ins.setdefault(check_in.shift_id, []).append(check_in)
    early = conf.checkin_early()
    rows = []
    for shift in shifts:
        if shift.cancelled_at:
            state = "cancelled"
        elif now < shift.starts_at - early:
            state = "upcoming"
        elif now < shift.starts_at:
            state = "open"
        elif now <= shift.ends_at:
            state = "running"
        else:
            state = "ended"
        mine = next(
            (c for c in check_ins.get(shift.pk, []) if c.user_id == actor.pk and not c.on_behalf),
            None,
        )
        rows.append(
            TodayShift(
                shift=shift,
                state=state,
                can_check_in=shift.school_id in staff_ids and state in ("open", "running"),
                my_check_in=mine,
                check_ins=check_ins.get(shift.pk, []) if shift.school_id in view_ids else [],
            )
        )
    return rows


# ------------------------------------------------------------------ coverage (三见)

COVERAGE_GROUPS = ("school", "station", "week", "period")


@dataclass(frozen=True)
class CoverageRow:
    """Counts over the shifts of one group. `shifts` are the shifts that had started by the
    time of reading and were not called off; the rest count among them."""

    key: object
    name: str
    station_name: str
    shifts: int
    staffed: int
    police: int
    car: int
    lights: int
    all_three: int
    late: int
    missed: int

    def _rate(self, count: int) -> float | None:
        return round(count / self.shifts, 4) if self.shifts else None

    @property
    def staffed_rate(self):
        return self._rate(self.staffed)

    @property
    def police_rate(self):
        return self._rate(self.police)

    @property
    def car_rate(self):
        return self._rate(self.car)

    @property
    def lights_rate(self):
        return self._rate(self.lights)

    @property
    def three_rate(self):
        return self._rate(self.all_three)

    def as_dict(self) -> dict:
        key = self.key.isoformat() if isinstance(self.key, dt.date) else self.key
        return {
            "key": key,
            "name": self.name,
            "station_name": self.station_name,
            "shifts": self.shifts,
            "staffed": self.staffed,
            "police": self.police,
            "car": self.car,
            "lights": self.lights,
            "all_three": self.all_three,
            "late": self.late,
            "missed": self.missed,
            "staffed_rate": self.staffed_rate,
            "police_rate": self.police_rate,
            "car_rate": self.car_rate,
            "lights_rate": self.lights_rate,
            "three_rate": self.three_rate,
        }


@dataclass(frozen=True)
class Coverage:
    first_day: dt.date
    last_day: dt.date
    rows: dict[str, list[CoverageRow]]
    total: CoverageRow


def _coverage_aggregates(now: dt.datetime) -> dict:
    three = Q(police_present=True, police_car=True, police_lights=True)
    not_arrived = Q(expects_police=True, police_arrived_at__isnull=True) | Q(
        expects_police=False, first_check_in_at__isnull=True
    )
    return {
        "n_shifts": Count("pk"),
        "n_staffed": Count("pk", filter=Q(staffed=True)),
        "n_police": Count("pk", filter=Q(police_present=True)),
        "n_car": Count("pk", filter=Q(police_car=True)),
        "n_lights": Count("pk", filter=Q(police_lights=True)),
        "n_three": Count("pk", filter=three),
        "n_late": Count("pk", filter=Q(arrived_late=True)),
        "n_missed": Count("pk", filter=Q(ends_at__lte=now) & not_arrived),
    }


_COUNTS = ("shifts", "staffed", "police", "car", "lights", "all_three", "late", "missed")


def _add(into: list[int], counts: list[int]) -> None:
    for i, n in enumerate(counts):
        into[i] += n


def _row(key, name, station_name, counts: list[int]) -> CoverageRow:
    return CoverageRow(key, name, station_name or "", *counts)


def _as_date(value) -> dt.date:
    """SQLite gives a date column as text when read through the cursor."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def coverage(
    *,
    actor,
    first_day: dt.date,
    last_day: dt.date,
    group_by: tuple[str, ...] = COVERAGE_GROUPS,
    school_id: int | None = None,
    now: dt.datetime | None = None,
) -> Coverage:
    """Coverage of the gate posts of the actor's scope between two local dates (both
    included), per school, police station, peak period and week, and the total.

    One grouped query counts in the database per (post, week) — a few thousand rows for a
    county-year — and the groupings are sums of those rows; two small queries name the
    posts' schools, peaks and stations (ADR 0018).

    A shift counts once it has started (so today's running posts show at once) unless it
    was called off. "Missed" counts ended shifts without the counted arrival (police where
    police were planned); "late" those whose counted arrival came after the grace."""
    now = now or timezone.now()
    ids = visible_school_ids(actor, Action.VIEW_COVERAGE)
    qs = PostShift.objects.filter(
        school_id__in=ids,
        date__gte=first_day,
        date__lte=last_day,
        starts_at__lte=now,
        cancelled_at__isnull=True,
    )
    if school_id:
        qs = qs.filter(school_id=school_id)
    # Grouped by school, week and post — the order of the coverage index, so the groups
    # stream; keys that hash cheaply (no text collation); the post says which peak. Read through the cursor: thousands of rows need
    # no per-row field conversion, only the week keys do (below).
    cells_query = (
        qs.filter(week_start__gte=week_start_of(first_day), week_start__lte=last_day)
        .values_list("school_id", "week_start", "post_id")
        .annotate(**_coverage_aggregates(now))
        .order_by()
    )
    try:
        sql, params = cells_query.query.sql_with_params()
    except EmptyResultSet:  # nothing in scope
        cells = []
    else:
        with connections[cells_query.db].cursor() as cursor:
            cursor.execute(sql, params)
            cells = cursor.fetchall()
    posts = {
        pk: (school, period)
        # No ordering: the model's (by school name) would join and sort the schools.
        for pk, school, period in GatePost.objects.filter(pk__in={cell[2] for cell in cells})
        .order_by()
        .values_list("pk", "school_id", "period")
    }
    schools = {
        pk: (name, station_id, station_name)
        for pk, name, station_id, station_name in Organization.objects.filter(
            pk__in={school for school, _period in posts.values()}
        ).values_list("pk", "name", "police_station_id", "police_station__name")
    }
    # Sum the cells per post and per week (column sums in C), then the posts per school,
    # station and peak.
    post_cells: dict[int, list] = defaultdict(list)
    week_cells: dict[object, list] = defaultdict(list)
    for cell in cells:
        post_cells[cell[2]].append(cell[3:])
        week_cells[cell[1]].append(cell[3:])
    by_post = {
        key: [sum(col) for col in zip(*rows, strict=True)] for key, rows in post_cells.items()
    }
    by_week = {
        _as_date(key): [sum(col) for col in zip(*rows, strict=True)]
        for key, rows in week_cells.items()
    }
    sums: dict[str, dict] = {group: {} for group in COVERAGE_GROUPS}
    sums["week"] = by_week
    total = [0] * len(_COUNTS)
    for post, counts in by_post.items():
        school, period = posts[post]
        for group, key in (
            ("school", school),
            ("station", schools[school][1]),
            ("period", period),
        ):
            _add(sums[group].setdefault(key, [0] * len(_COUNTS)), counts)
        _add(total, counts)
    rows: dict[str, list[CoverageRow]] = {}
    for group in group_by:
        if group == "school":
            result = [
                _row(pk, schools[pk][0], schools[pk][2], counts)
                for pk, counts in sums["school"].items()
            ]
            result.sort(key=lambda r: (r.station_name, r.name))
        elif group == "station":
            names = {station: name for _n, station, name in schools.values()}
            result = [
                _row(key, names.get(key) or _("No police station"), "", counts)
                for key, counts in sums["station"].items()
            ]
            result.sort(key=lambda r: (r.key is None, r.name))
        elif group == "period":
            order = {p: i for i, p in enumerate(PERIOD_ORDER)}
            result = [
                _row(key, str(Period(key).label), "", counts)
                for key, counts in sorted(sums["period"].items(), key=lambda i: order.get(i[0], 9))
            ]
        else:
            result = [_row(key, "", "", counts) for key, counts in sorted(sums["week"].items())]
        rows[group] = result
    return Coverage(
        first_day=first_day,
        last_day=last_day,
        rows=rows,
        total=_row(None, _("Total"), "", total),
    )


@dataclass
class WeekGrid:
    """One week of one or more schools: per school, per day, per period, the shift (or None
    when no post was held)."""

    week_start: dt.date
    days: list[dt.date]
    periods: list[str]
    schools: list[Organization]
    cells: dict[tuple[int, dt.date, str], PostShift]

    def rows(self):
        """[(school, [(day, [shift|None per period])…])…] for templates."""
        return [
            (
                school,
                [
                    (day, [self.cells.get((school.pk, day, p)) for p in self.periods])
                    for day in self.days
                ],
            )
            for school in self.schools
        ]


def coverage_week(
    *, actor, week_start: dt.date, school_id: int | None = None, now=None
) -> WeekGrid:
    """Which peaks of the week had police, a police car and lights, school by school.
    Two queries: the schools and the week's shifts."""
    week_start = week_start_of(week_start)
    ids = visible_school_ids(actor, Action.VIEW_COVERAGE)
    schools_qs = Organization.objects.filter(pk__in=ids).schools().order_by("name")
    if school_id:
        schools_qs = schools_qs.filter(pk=school_id)
    shifts = PostShift.objects.filter(school_id__in=ids, week_start=week_start).select_related(
        "post"
    )
    if school_id:
        shifts = shifts.filter(school_id=school_id)
    cells = {(s.school_id, s.date, s.period): s for s in shifts}
    with_posts = {key[0] for key in cells}
    schools = [s for s in schools_qs if s.pk in with_posts]
    days = [week_start + dt.timedelta(days=n) for n in range(7)]
    used_days = [d for d in days if any(key[1] == d for key in cells)] or days[:5]
    return WeekGrid(
        week_start=week_start,
        days=used_days,
        periods=list(PERIOD_ORDER),
        schools=schools,
        cells=cells,
    )


# ------------------------------------------------------------------ patrol logs


def patrol_log_list(
    *, actor, school_id: int | None = None, since: dt.datetime | None = None
) -> QuerySet[PatrolLog]:
    qs = (
        PatrolLog.objects.visible_to(actor, Action.LOG_PATROL)
        .select_related("officer")
        .prefetch_related("schools")
        .order_by("-started_at", "-id")
    )
    if school_id:
        qs = qs.filter(schools=school_id)
    if since is not None:
        qs = qs.filter(started_at__gte=since)
    return qs


def patrol_log_get(*, actor, log_id: int) -> PatrolLog:
    return get_object_or_404(patrol_log_list(actor=actor), pk=log_id)


# ------------------------------------------------------------------ visits


def visit_list(
    *, actor, school_id: int | None = None, week_start: dt.date | None = None
) -> QuerySet[PoliceVisit]:
    qs = (
        PoliceVisit.objects.visible_to(actor, Action.VIEW_COVERAGE)
        .select_related("school", "officer")
        .order_by("-arrived_at", "-id")
    )
    if school_id:
        qs = qs.filter(school_id=school_id)
    if week_start is not None:
        begins = aware(week_start, dt.time(0, 0))
        qs = qs.filter(arrived_at__gte=begins, arrived_at__lt=begins + dt.timedelta(days=7))
    return qs


def visit_get(*, actor, visit_id: int) -> PoliceVisit:
    return get_object_or_404(
        PoliceVisit.objects.visible_to(actor, Action.VIEW_COVERAGE).select_related(
            "school", "officer"
        ),
        pk=visit_id,
    )


@dataclass(frozen=True)
class VisitWeekRow:
    school_id: int
    name: str
    station_name: str
    visits: int
    required: int
    flagged_at: dt.datetime | None

    @property
    def met(self) -> bool:
        return self.visits >= self.required

    def as_dict(self) -> dict:
        return {
            "school_id": self.school_id,
            "name": self.name,
            "station_name": self.station_name,
            "visits": self.visits,
            "required": self.required,
            "met": self.met,
            "flagged_at": self.flagged_at.isoformat() if self.flagged_at else None,
        }


def visit_week(*, actor, week_start: dt.date) -> list[VisitWeekRow]:
    """Each school of the actor's scope under the rule, its visits in the week (Monday to
    Sunday) against the required number, and when a shortfall was flagged. Three queries."""
    week_start = week_start_of(week_start)
    ids = visible_school_ids(actor, Action.VIEW_COVERAGE)
    begins = aware(week_start, dt.time(0, 0))
    counts = dict(
        PoliceVisit.objects.filter(
            school_id__in=ids, arrived_at__gte=begins, arrived_at__lt=begins + dt.timedelta(days=7)
        )
        .values_list("school_id")
        .annotate(n=Count("pk"))
        .values_list("school_id", "n")
    )
    flags = dict(
        VisitShortfall.objects.filter(school_id__in=ids, week_start=week_start).values_list(
            "school_id", "flagged_at"
        )
    )
    required = conf.visits_required()
    schools = (
        Organization.objects.filter(pk__in=ids, is_active=True, police_station__isnull=False)
        .schools()
        .values_list("pk", "name", "police_station__name")
        .order_by("police_station__name", "name")
    )
    return [
        VisitWeekRow(
            school_id=pk,
            name=name,
            station_name=station or "",
            visits=counts.get(pk, 0),
            required=required,
            flagged_at=flags.get(pk),
        )
        for pk, name, station in schools
    ]
