"""Reads of the health home page (issue 9 item 1; ADR 0032 "Health home").

Who sees what (each part needs its own action, within its own scope):
- a teacher (RECORD_HEALTH) sees the classes they lead or look after (`SchoolClass.
  head_teacher`, `ClassStaff`) today: checks and attendance done or not;
- VIEW_HEALTH holders (health staff, principal, duty leader; the health centre and county
  health officers) see each school's day: classes checked / to check, unwell children,
  absences by cause, unknown causes not yet chased, open alerts, open cases with their next
  step, suspended classes;
- VIEW_SUSPENSION holders (every school role, the offices) see the classes suspended today.
A user with none of the health actions (police, nobody) gets 403.

Every figure comes from an aggregate query over all the schools (or classes) at once, so a
page costs the same number of queries for one school or a county.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.core.roles import SCHOOL_KINDS, Action
from huxiao.core.scoping import visible_school_ids
from huxiao.health.choices import (
    AbsenceCause,
    AlertStatus,
    CaseStatus,
    CheckSession,
    Step,
    SuspensionScope,
)
from huxiao.health.models import (
    Absence,
    AttendanceDay,
    CaseStep,
    ChildCheck,
    ClusterAlert,
    HealthCase,
    HealthCheck,
    MonitoringPlan,
)
from huxiao.health.suspensions import active_suspensions
from huxiao.orgs.models import Organization
from huxiao.people.models import SchoolClass

HEALTH_ACTIONS = (
    Action.RECORD_HEALTH,
    Action.VIEW_HEALTH,
    Action.MANAGE_HEALTH,
    Action.VIEW_SUSPENSION,
)
DETAIL_LIMIT = 20


def today_local(now: dt.datetime | None = None) -> dt.date:
    return timezone.localdate(now or timezone.now())


@dataclass(frozen=True)
class HomeScope:
    """The schools where the actor holds each part of the page."""

    record: frozenset[int]
    view: frozenset[int]
    suspension: frozenset[int]

    @property
    def any(self) -> frozenset[int]:
        return self.record | self.view | self.suspension


def home_scope(actor) -> HomeScope:
    """The actor's schools for each part of the page; 403 without any health action."""
    scope = HomeScope(
        record=visible_school_ids(actor, Action.RECORD_HEALTH),
        view=visible_school_ids(actor, Action.VIEW_HEALTH),
        suspension=visible_school_ids(actor, Action.VIEW_SUSPENSION),
    )
    if not (scope.any or visible_school_ids(actor, Action.MANAGE_HEALTH)):
        raise PermissionDenied(_("Your role does not allow this action."))
    return scope


def schools(ids) -> list[Organization]:
    return list(
        Organization.objects.filter(pk__in=list(ids), kind__in=SCHOOL_KINDS)
        .select_related("town")
        .order_by("town__name", "name", "pk")
    )


# ------------------------------------------------------------------ suspensions


@dataclass
class Suspended:
    """The classes suspended at the schools on a day."""

    rows: list = field(default_factory=list)  # ClassSuspension in force
    whole_school: set[int] = field(default_factory=set)
    grades: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    classes: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))

    def covers(self, school_class) -> bool:
        school_id = school_class.school_id
        return (
            school_id in self.whole_school
            or school_class.grade in self.grades.get(school_id, ())
            or school_class.pk in self.classes.get(school_id, ())
        )

    def by_school(self, school_id: int) -> list:
        return [s for s in self.rows if s.school_id == school_id]


def suspended_on(school_ids, day: dt.date) -> Suspended:
    """One query: the suspensions in force at the schools on `day`."""
    found = Suspended()
    for s in active_suspensions(school_ids=school_ids, on_date=day).select_related("school"):
        found.rows.append(s)
        if s.scope == SuspensionScope.SCHOOL:
            found.whole_school.add(s.school_id)
        elif s.scope == SuspensionScope.GRADE:
            found.grades[s.school_id].add(s.grade)
        elif s.school_class_id:
            found.classes[s.school_id].add(s.school_class_id)
    return found


# ------------------------------------------------------------------ a teacher's classes


@dataclass
class ClassToday:
    school_class: SchoolClass
    children: int
    checks: dict[str, HealthCheck] = field(default_factory=dict)  # by session
    attendance: AttendanceDay | None = None
    suspended: bool = False
    checks_per_day: int = 1  # a monitoring plan asks for more

    @property
    def morning(self) -> HealthCheck | None:
        return self.checks.get(CheckSession.MORNING)

    @property
    def noon(self) -> HealthCheck | None:
        return self.checks.get(CheckSession.NOON)

    @property
    def checks_done(self) -> int:
        return len(self.checks)

    @property
    def unwell(self) -> int:
        return sum(c.unwell for c in self.checks.values())

    @property
    def to_do(self) -> bool:
        """Something is still to be done for the class today."""
        if self.suspended:
            return False
        return (
            self.morning is None
            or self.attendance is None
            or (self.checks_done < self.checks_per_day)
        )


def my_classes(actor, school_ids, day: dt.date, suspended: Suspended) -> list[ClassToday]:
    """The classes `actor` leads (head teacher) or looks after (ClassStaff) at the schools
    where they record health, with today's checks and attendance (four queries)."""
    if not school_ids or not getattr(actor, "pk", None):
        return []
    classes = list(
        SchoolClass.objects.filter(school_id__in=list(school_ids))
        .filter(
            Q(head_teacher__user_id=actor.pk, head_teacher__is_active=True)
            | Q(health_staff__staff__user_id=actor.pk, health_staff__staff__is_active=True)
        )
        .annotate(
            active_children=Count("children", filter=Q(children__is_active=True), distinct=True)
        )
        .select_related("school")
        .distinct()
        .order_by("school_id", "grade", "name", "pk")
    )
    if not classes:
        return []
    ids = [c.pk for c in classes]
    rows = {
        c.pk: ClassToday(school_class=c, children=c.active_children, suspended=suspended.covers(c))
        for c in classes
    }
    for check in HealthCheck.objects.filter(school_class_id__in=ids, date=day):
        rows[check.school_class_id].checks[check.session] = check
    for attendance in AttendanceDay.objects.filter(school_class_id__in=ids, date=day):
        rows[attendance.school_class_id].attendance = attendance
    for class_id, per_day in MonitoringPlan.objects.filter(
        school_class_id__in=ids, starts_on__lte=day, ends_on__gte=day
    ).values_list("school_class_id", "checks_per_day"):
        rows[class_id].checks_per_day = max(rows[class_id].checks_per_day, per_day)
    return list(rows.values())


# ------------------------------------------------------------------ a school's day


@dataclass
class CaseRow:
    case: HealthCase
    done: set[str] = field(default_factory=set)

    @property
    def next_step(self) -> str | None:
        for step in Step.values:
            if step not in self.done:
                return step
        return None

    @property
    def next_step_label(self) -> str:
        step = self.next_step
        return str(Step(step).label) if step else ""

    @property
    def steps_done(self) -> int:
        return len(self.done & set(Step.values))

    @property
    def steps_total(self) -> int:
        return len(Step.values)


@dataclass
class SchoolDay:
    school: Organization
    classes: int = 0  # classes with children, not suspended
    suspended_classes: int = 0
    morning_checked: int = 0
    noon_checked: int = 0
    attendance_taken: int = 0
    unwell: int = 0
    absences: dict[str, int] = field(default_factory=dict)  # by cause
    unknown_unchased: int = 0
    open_alerts: int = 0
    open_cases: int = 0
    # Only for one school's detail:
    alerts: list = field(default_factory=list)
    cases: list[CaseRow] = field(default_factory=list)
    suspensions: list = field(default_factory=list)

    @property
    def absent(self) -> int:
        return sum(self.absences.values())

    @property
    def absence_rows(self) -> list[tuple[str, str, int]]:
        """(cause, label, count) in the order of AbsenceCause, causes with absences only."""
        return [
            (cause, str(label), self.absences[cause])
            for cause, label in AbsenceCause.choices
            if self.absences.get(cause)
        ]

    @property
    def morning_missing(self) -> int:
        return max(0, self.classes - self.morning_checked)

    @property
    def attendance_missing(self) -> int:
        return max(0, self.classes - self.attendance_taken)

    @property
    def sort_key(self) -> tuple:
        town = self.school.town.name if self.school.town_id else ""
        return (
            -(self.open_alerts + self.open_cases),
            -self.unknown_unchased,
            town,
            self.school.name,
        )


def _count_by_school(qs, **extra) -> dict[int, int]:
    return dict(
        qs.values("school_id").annotate(n=Count("pk", **extra)).values_list("school_id", "n")
    )


def school_days(
    school_list: list[Organization], day: dt.date, suspended: Suspended
) -> list[SchoolDay]:
    """Each school's figures for `day`, open alerts and cases first (nine queries whatever
    the number of schools)."""
    ids = [s.pk for s in school_list]
    rows = {s.pk: SchoolDay(school=s) for s in school_list}
    if not ids:
        return []
    grade_classes: dict[int, dict[str, int]] = defaultdict(dict)
    for school_id, grade, n in (
        SchoolClass.objects.filter(school_id__in=ids, children__is_active=True)
        .values("school_id", "grade")
        .annotate(n=Count("pk", distinct=True))
        .values_list("school_id", "grade", "n")
    ):
        grade_classes[school_id][grade] = n
    for school_id, row in rows.items():
        total = sum(grade_classes[school_id].values())
        row.suspended_classes = _suspended_count(school_id, grade_classes[school_id], suspended)
        row.classes = max(0, total - row.suspended_classes)
        row.suspensions = suspended.by_school(school_id)
    for school_id, session, n in (
        HealthCheck.objects.filter(school_id__in=ids, date=day)
        .values("school_id", "session")
        .annotate(n=Count("pk"))
        .values_list("school_id", "session", "n")
    ):
        if session == CheckSession.MORNING:
            rows[school_id].morning_checked = n
        elif session == CheckSession.NOON:
            rows[school_id].noon_checked = n
    for school_id, n in _count_by_school(
        AttendanceDay.objects.filter(school_id__in=ids, date=day)
    ).items():
        rows[school_id].attendance_taken = n
    for school_id, n in (
        ChildCheck.objects.filter(school_id__in=ids, date=day, is_well=False)
        .values("school_id")
        .annotate(n=Count("child_id", distinct=True))
        .values_list("school_id", "n")
    ):
        rows[school_id].unwell = n
    unchased = Q(cause=AbsenceCause.UNKNOWN, chased_at__isnull=True)
    for school_id, cause, n, open_n in (
        Absence.objects.filter(school_id__in=ids, date=day)
        .values("school_id", "cause")
        .annotate(n=Count("pk"), open_n=Count("pk", filter=unchased))
        .values_list("school_id", "cause", "n", "open_n")
    ):
        rows[school_id].absences[cause] = n
        rows[school_id].unknown_unchased += open_n
    for school_id, n in _count_by_school(
        ClusterAlert.objects.filter(school_id__in=ids, status=AlertStatus.OPEN)
    ).items():
        rows[school_id].open_alerts = n
    for school_id, n in _count_by_school(
        HealthCase.objects.filter(school_id__in=ids).exclude(status=CaseStatus.CLOSED)
    ).items():
        rows[school_id].open_cases = n
    return sorted(rows.values(), key=lambda r: r.sort_key)


def _suspended_count(school_id: int, grades: dict[str, int], suspended: Suspended) -> int:
    if school_id in suspended.whole_school:
        return sum(grades.values())
    whole_grades = suspended.grades.get(school_id, set())
    count = sum(n for grade, n in grades.items() if grade in whole_grades)
    singles = [
        s.school_class
        for s in suspended.by_school(school_id)
        if s.scope == SuspensionScope.CLASS and s.school_class_id
    ]
    return count + len({c.pk for c in singles if c.grade not in whole_grades})


def school_day_detail(school: Organization, day: dt.date, suspended: Suspended) -> SchoolDay:
    """One school's figures with its open alerts and open cases (and each case's next
    step) listed: the figures' queries and three more."""
    (row,) = school_days([school], day, suspended)
    row.alerts = list(
        ClusterAlert.objects.filter(school_id=school.pk, status=AlertStatus.OPEN)
        .select_related("school_class")
        .order_by("-raised_at", "pk")[:DETAIL_LIMIT]
    )
    cases = list(
        HealthCase.objects.filter(school_id=school.pk)
        .exclude(status=CaseStatus.CLOSED)
        .select_related("child", "school_class")
        .order_by("-reported_at", "pk")[:DETAIL_LIMIT]
    )
    case_rows = {c.pk: CaseRow(case=c) for c in cases}
    if case_rows:
        for case_id, step in CaseStep.objects.filter(case_id__in=list(case_rows)).values_list(
            "case_id", "step"
        ):
            case_rows[case_id].done.add(step)
    row.cases = list(case_rows.values())
    return row


# ------------------------------------------------------------------ a period in figures


def period_counts(school_ids, first_day: dt.date, last_day: dt.date) -> dict[int, dict]:
    """Per school of `school_ids` (whose reading the caller has decided: counts only, never
    a child), over the local days first_day..last_day: cluster alerts raised, suspected
    cases reported, and class suspensions decided to start in the period (the monthly report
    of a town or the county, ADR 0033). Three grouped queries; schools without any are
    left out."""
    from huxiao.health.models import ClassSuspension

    ids = list(school_ids)
    counts: dict[int, dict] = {}
    if not ids:
        return counts
    tz = timezone.get_current_timezone()
    since = timezone.make_aware(dt.datetime.combine(first_day, dt.time.min), tz)
    until = timezone.make_aware(
        dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time.min), tz
    )
    for name, qs in (
        ("alerts", ClusterAlert.objects.filter(raised_at__gte=since, raised_at__lt=until)),
        ("cases", HealthCase.objects.filter(reported_at__gte=since, reported_at__lt=until)),
        (
            "suspensions",
            ClassSuspension.objects.filter(starts_on__gte=first_day, starts_on__lte=last_day),
        ),
    ):
        for school_id, n in _count_by_school(qs.filter(school_id__in=ids).order_by()).items():
            counts.setdefault(school_id, {"alerts": 0, "cases": 0, "suspensions": 0})[name] = n
    return counts
