"""Reads of the surveillance: cluster alerts, the county's rules, a school's days and the
schools in scope (issue 9 item 4; §3 3; ADR 0032 "Surveillance").

Health records are VIEW_HEALTH: the school's health staff, principal and duty leader, the
health centre and the county's health offices; police roles and teachers hold none (403
when the actor holds it nowhere); out of scope is 404 like a record that does not exist.
Every overview is a fixed number of aggregate queries (GROUP BY), whatever the number of
schools, classes or days.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.core.roles import SCHOOL_KINDS, Action
from huxiao.core.scoping import visible_school_ids
from huxiao.health import surveillance_rules as R
from huxiao.health import surveillance_services as services
from huxiao.health.case_selectors import OPEN_STATUSES
from huxiao.health.choices import (
    AbsenceCause,
    AlertStatus,
    CheckSession,
    SuspensionScope,
    SymptomSource,
)
from huxiao.health.models import (
    Absence,
    AttendanceDay,
    ChildCheck,
    ClassSuspension,
    ClusterAlert,
    HealthCase,
    HealthCheck,
    MonitoringPlan,
    SymptomEvent,
)
from huxiao.health.suspensions import active_suspensions
from huxiao.orgs.models import Organization, Region
from huxiao.people.models import SchoolClass

MAX_ID = 2**63 - 1
DAYS_DEFAULT = 14
DAYS_MAX = 60
# An open case is any case not closed (a confirmed or cleared case is still being handled
# until it is closed), as on the case list and the health home.
OPEN_CASE_STATUSES = OPEN_STATUSES


def link(name: str, *args) -> str:
    """A URL of another area, or "" while its page is not built."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _id(value) -> int:
    try:
        value = int(value)
    except (TypeError, ValueError):
        raise Http404 from None
    if not 1 <= value <= MAX_ID:
        raise Http404
    return value


def require_viewer(actor) -> frozenset[int]:
    """The schools whose health records the actor sees; 403 when none."""
    ids = visible_school_ids(actor, Action.VIEW_HEALTH)
    if not ids:
        raise PermissionDenied(_("Your role does not allow you to see health records."))
    return ids


def health_school_get(*, actor, school_id) -> Organization:
    """A school whose health records the actor sees, else 404."""
    school = (
        Organization.objects.visible_to(actor, Action.VIEW_HEALTH)
        .filter(pk=_id(school_id), kind__in=SCHOOL_KINDS)
        .select_related("town")
        .first()
    )
    if school is None:
        raise Http404
    return school


# ------------------------------------------------------------------ alerts


def alert_list(*, actor, status: str = "", school_id: int | None = None):
    """Alerts in scope, open first, then the newest; children prefetched by name."""
    qs = ClusterAlert.objects.visible_to(actor, Action.VIEW_HEALTH)
    if status:
        qs = qs.filter(status=status)
    if school_id is not None:
        qs = qs.filter(school_id=school_id)
    return (
        qs.select_related("school", "school_class", "rule", "closed_by", "case")
        .prefetch_related("children")
        .annotate(
            open_first=Case(
                When(status=AlertStatus.OPEN, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("open_first", "-raised_at", "-id")
    )


def alert_get(*, actor, alert_id) -> ClusterAlert:
    alert = alert_list(actor=actor).filter(pk=_id(alert_id)).first()
    if alert is None:
        raise Http404
    return alert


def open_alert_counts(school_ids) -> dict[int, int]:
    rows = (
        ClusterAlert.objects.filter(school_id__in=list(school_ids), status=AlertStatus.OPEN)
        .values("school_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["school_id"]: row["n"] for row in rows}


def children_of(alert: ClusterAlert) -> list:
    """The alert's children by name, each with the link to their health record."""
    children = sorted(alert.children.all(), key=lambda c: (c.name, c.pk))
    for child in children:
        child.health_url = link("health:child", child.pk)
    return children


def cases_to_link(alert: ClusterAlert) -> list[HealthCase]:
    """The school's suspected cases an alert may be linked to: the alert's children's first,
    then the newest (at most 50)."""
    kids = {c.pk for c in alert.children.all()}
    cases = list(
        HealthCase.objects.filter(school_id=alert.school_id)
        .select_related("child", "school_class")
        .order_by("-reported_at", "-id")[:50]
    )
    return sorted(cases, key=lambda c: (c.child_id not in kids,))


# ------------------------------------------------------------------ rules


@dataclass
class RulesView:
    region: Region
    regions: list[Region]
    rules: list
    editable: bool
    stored: bool


def rules_view(*, actor, region_id: int | None = None) -> RulesView:
    """The county's rules as in force (stored, or the shipped defaults) for those who see
    health records of its schools or keep them; 403 for anyone else, 404 for a county
    that is not theirs. `editable` for the county's keepers."""
    regions = services.reader_regions(actor)
    if not regions:
        raise PermissionDenied(_("Your role does not allow you to see health records."))
    if region_id is not None and region_id not in regions:
        raise Http404
    chosen = region_id if region_id is not None else regions[0]
    by_id = Region.objects.in_bulk(regions)
    rules = R.rules_for_region(chosen)
    for rule in rules:
        rule.group_label = R.group_label(rule.symptom_group)
    return RulesView(
        region=by_id[chosen],
        regions=[by_id[pk] for pk in regions if pk in by_id],
        rules=rules,
        editable=chosen in services.keeper_regions(actor),
        stored=any(r.pk for r in rules),
    )


# ------------------------------------------------------------------ one school's days


@dataclass
class DayRow:
    date: dt.date
    school_day: bool
    checks_done: int = 0
    checks_expected: int = 0
    unwell: int = 0
    absent: dict[str, int] = field(default_factory=dict)
    absent_total: int = 0
    illness_groups: list[tuple[str, int]] = field(default_factory=list)
    unknown_unchased: int = 0
    suspended: int = 0

    @property
    def checks_short(self) -> bool:
        return self.checks_done < self.checks_expected


@dataclass
class SchoolSurveillance:
    school: Organization
    first: dt.date
    last: dt.date
    days: list[DayRow]
    open_alerts: list
    open_cases: int
    class_count: int


def _dates(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def _suspended_by_day(school_id, classes, dates) -> dict[dt.date, set[int]]:
    """The classes suspended on each day (one query)."""
    rows = list(
        ClassSuspension.objects.filter(
            school_id=school_id, starts_on__lte=dates[-1], ends_on__gte=dates[0]
        )
    )
    result: dict[dt.date, set[int]] = {}
    for day in dates:
        ids: set[int] = set()
        for s in rows:
            if not (s.starts_on <= day <= s.ends_on) or (s.resumed_on and s.resumed_on <= day):
                continue
            if s.scope == SuspensionScope.SCHOOL:
                ids |= set(classes)
            elif s.scope == SuspensionScope.GRADE:
                ids |= {pk for pk, grade in classes.items() if grade == s.grade}
            elif s.school_class_id:
                ids.add(s.school_class_id)
        result[day] = ids
    return result


def _plans_by_day(school_id, dates) -> dict[tuple[int, dt.date], int]:
    """Checks a day required by monitoring plans, per (class, day) (one query)."""
    result: dict[tuple[int, dt.date], int] = {}
    for plan in MonitoringPlan.objects.filter(
        school_id=school_id, starts_on__lte=dates[-1], ends_on__gte=dates[0]
    ):
        for day in dates:
            if plan.starts_on <= day <= plan.ends_on:
                key = (plan.school_class_id, day)
                result[key] = max(result.get(key, 1), plan.checks_per_day)
    return result


def school_surveillance(
    *, actor, school_id, days: int = DAYS_DEFAULT, today: dt.date | None = None
) -> SchoolSurveillance:
    """A school's last `days` days, newest first: checks done/expected (a morning check per
    class not suspended, or as many as its monitoring plan asks, on weekdays and on any day
    with a check or attendance recorded), unwell children, absences by cause, illness
    absences by symptom group, unknown causes not chased. Classes without an enrolled child
    expect no check. Ten queries whatever the size."""
    require_viewer(actor)
    school = health_school_get(actor=actor, school_id=school_id)
    last = today or timezone.localdate()
    first = last - dt.timedelta(days=days - 1)
    dates = _dates(first, last)
    # Classes with an enrolled child (as on the health home): an empty class takes no check.
    classes = dict(
        SchoolClass.objects.filter(school_id=school.pk, children__is_active=True)
        .values_list("pk", "grade")
        .distinct()
        .order_by()
    )
    suspended = _suspended_by_day(school.pk, classes, dates)
    plans = _plans_by_day(school.pk, dates)
    span = {"school_id": school.pk, "date__gte": first, "date__lte": last}
    checks: dict[dt.date, dict[int, int]] = defaultdict(dict)
    for row in (
        HealthCheck.objects.filter(**span)
        .values("date", "school_class_id")
        .annotate(n=Count("id"))
        .order_by()
    ):
        checks[row["date"]][row["school_class_id"]] = row["n"]
    taken = set(
        AttendanceDay.objects.filter(**span).values_list("date", flat=True).distinct().order_by()
    )
    unwell = {
        row["date"]: row["n"]
        for row in ChildCheck.objects.filter(**span, is_well=False)
        .values("date")
        .annotate(n=Count("child_id", distinct=True))
        .order_by()
    }
    absent: dict[dt.date, dict[str, int]] = defaultdict(dict)
    unchased: dict[dt.date, int] = defaultdict(int)
    for row in (
        Absence.objects.filter(**span)
        .values("date", "cause")
        .annotate(n=Count("id"), open=Count("id", filter=Q(chased_at__isnull=True)))
        .order_by()
    ):
        absent[row["date"]][row["cause"]] = row["n"]
        if row["cause"] == AbsenceCause.UNKNOWN:
            unchased[row["date"]] += row["open"]
    groups: dict[dt.date, dict[str, int]] = defaultdict(dict)
    for row in (
        SymptomEvent.objects.filter(**span, source=SymptomSource.ABSENCE)
        .annotate(grp=R.group_expression())
        .values("date", "grp")
        .annotate(n=Count("child_id", distinct=True))
        .order_by()
    ):
        groups[row["date"]][row["grp"]] = row["n"]
    rows = []
    for day in reversed(dates):
        school_day = day.weekday() < 5 or day in checks or day in taken
        row = DayRow(date=day, school_day=school_day, suspended=len(suspended[day]))
        if school_day:
            for class_id in classes:
                if class_id in suspended[day]:
                    continue
                need = plans.get((class_id, day), 1)
                row.checks_expected += need
                row.checks_done += min(checks[day].get(class_id, 0), need)
        row.unwell = unwell.get(day, 0)
        row.absent = {cause: absent[day].get(cause, 0) for cause in AbsenceCause.values}
        row.absent_total = sum(row.absent.values())
        row.illness_groups = [
            (R.group_label(g), groups[day][g]) for g in R.COUNTED_GROUPS if groups[day].get(g)
        ]
        row.unknown_unchased = unchased.get(day, 0)
        rows.append(row)
    open_alerts = list(
        ClusterAlert.objects.filter(school_id=school.pk, status=AlertStatus.OPEN)
        .select_related("school_class")
        .order_by("-raised_at", "-id")
    )
    open_cases = HealthCase.objects.filter(
        school_id=school.pk, status__in=OPEN_CASE_STATUSES
    ).count()
    return SchoolSurveillance(
        school=school,
        first=first,
        last=last,
        days=rows,
        open_alerts=open_alerts,
        open_cases=open_cases,
        class_count=len(classes),
    )


# ------------------------------------------------------------------ the schools in scope


@dataclass
class SchoolRow:
    school: Organization
    classes: int = 0
    suspended: int = 0
    checks_done: int = 0
    illness_absences: int = 0
    open_alerts: int = 0
    open_cases: int = 0
    school_day: bool = True

    @property
    def checks_expected(self) -> int:
        return max(self.classes - self.suspended, 0) if self.school_day else 0

    @property
    def checks_short(self) -> bool:
        return self.checks_done < self.checks_expected

    @property
    def needs_attention(self) -> bool:
        return bool(self.open_alerts or self.open_cases)


def _grouped(qs, count) -> dict[int, int]:
    return {
        row["school_id"]: row["n"] for row in qs.values("school_id").annotate(n=count).order_by()
    }


def schools_today(*, actor, today: dt.date | None = None) -> list[SchoolRow]:
    """One row per school in scope: today's morning checks done (classes) out of the classes
    with an enrolled child not suspended (on weekdays, and on a day with a check or the
    attendance recorded), illness absences today, open alerts, open cases (not closed);
    schools with open alerts or cases first. Nine queries whatever the number of schools."""
    ids = require_viewer(actor)
    today = today or timezone.localdate()
    schools = list(
        Organization.objects.filter(pk__in=ids, kind__in=SCHOOL_KINDS)
        .select_related("town")
        .order_by("town__name", "name", "pk")
    )
    ids = [s.pk for s in schools]
    classes = _grouped(
        SchoolClass.objects.filter(school_id__in=ids, children__is_active=True),
        Count("id", distinct=True),
    )
    checks = _grouped(
        HealthCheck.objects.filter(school_id__in=ids, date=today, session=CheckSession.MORNING),
        Count("school_class_id", distinct=True),
    )
    taken = set(
        AttendanceDay.objects.filter(school_id__in=ids, date=today)
        .values_list("school_id", flat=True)
        .distinct()
        .order_by()
    )
    illness = _grouped(
        Absence.objects.filter(school_id__in=ids, date=today, cause=AbsenceCause.ILLNESS),
        Count("id"),
    )
    alerts = open_alert_counts(ids)
    cases = _grouped(
        HealthCase.objects.filter(school_id__in=ids, status__in=OPEN_CASE_STATUSES), Count("id")
    )
    suspended = _suspended_today(ids, today)
    weekday = today.weekday() < 5
    rows = [
        SchoolRow(
            school=s,
            classes=classes.get(s.pk, 0),
            suspended=suspended.get(s.pk, 0),
            checks_done=checks.get(s.pk, 0),
            illness_absences=illness.get(s.pk, 0),
            open_alerts=alerts.get(s.pk, 0),
            open_cases=cases.get(s.pk, 0),
            school_day=weekday or s.pk in checks or s.pk in taken,
        )
        for s in schools
    ]
    rows.sort(key=lambda r: not r.needs_attention)
    return rows


def _suspended_today(ids: list[int], today: dt.date) -> dict[int, int]:
    """Classes with an enrolled child suspended today per school (two queries)."""
    suspensions = list(active_suspensions(school_ids=ids, on_date=today))
    if not suspensions:
        return {}
    wide = {s.school_id for s in suspensions if s.scope != SuspensionScope.CLASS}
    singles = {s.school_class_id for s in suspensions if s.scope == SuspensionScope.CLASS}
    classes: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for pk, school_id, grade in (
        SchoolClass.objects.filter(Q(school_id__in=wide) | Q(pk__in=singles - {None}))
        .filter(children__is_active=True)
        .values_list("pk", "school_id", "grade")
        .distinct()
        .order_by()
    ):
        classes[school_id].append((pk, grade))
    found: dict[int, set[int]] = defaultdict(set)
    for s in suspensions:
        if s.scope == SuspensionScope.SCHOOL:
            found[s.school_id] |= {pk for pk, _grade in classes[s.school_id]}
        elif s.scope == SuspensionScope.GRADE:
            found[s.school_id] |= {pk for pk, grade in classes[s.school_id] if grade == s.grade}
        elif s.school_class_id in {pk for pk, _grade in classes[s.school_id]}:
            found[s.school_id].add(s.school_class_id)
    return {school_id: len(pks) for school_id, pks in found.items()}
