"""Reads of checks, attendance, absences, illness follow-ups, dining seats, dormitory rooms
and class staff (issue 9 items 2–3; §3 3).

Who sees what: the health records of a school are read by those who take them
(RECORD_HEALTH: teachers, health staff, the principal, the duty leader) and those who watch
them (VIEW_HEALTH: the health staff, principal, duty leader and the health centre). Police
roles hold neither: 403 everywhere. A school, class or child out of scope is 404, exactly
like one that does not exist. One child's health history (`child_record`) needs VIEW_HEALTH
and is a logged read (the view logs it).

The sheets behind the entry pages (`check_sheet`, `attendance_sheet`, `dining_sheet`) take
a fixed number of queries whatever the size of the class.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.core.roles import SCHOOL_KINDS, Action, OrgKind
from huxiao.core.scoping import can, visible_school_ids
from huxiao.duty.duty_selectors import _id
from huxiao.health.choices import AbsenceCause, CheckAction, CheckSession, Symptom
from huxiao.health.models import (
    Absence,
    AttendanceDay,
    ChildCheck,
    ClassStaff,
    DiningSeat,
    DormAssignment,
    HealthCase,
    HealthCheck,
    IllnessFollowUp,
    MonitoringPlan,
)
from huxiao.health.suspensions import suspended_class_ids
from huxiao.orgs.models import Organization
from huxiao.people.models import Child, SchoolClass, Staff

# The health records a page shows: those who take them and those who watch them.
READ_ACTIONS = (Action.RECORD_HEALTH, Action.VIEW_HEALTH)
RECORD_DAYS = 30


# ------------------------------------------------------------------ who and where


def health_school_ids(actor) -> frozenset[int]:
    """Schools whose health records (checks, attendance) the actor may read."""
    ids: frozenset[int] = frozenset()
    for action in READ_ACTIONS:
        ids |= visible_school_ids(actor, action)
    return ids


def require_health(actor, action: str | None = None) -> frozenset[int]:
    """The schools where the actor reads health records (or does `action`); 403 when there
    are none (police roles, the other offices)."""
    ids = visible_school_ids(actor, action) if action else health_school_ids(actor)
    if not ids:
        raise PermissionDenied(_("Your role does not allow this."))
    return ids


def may_record(actor, school_id: int) -> bool:
    return can(actor, Action.RECORD_HEALTH, school_id)


def school_get(*, actor, school_id) -> Organization:
    """A school whose health records the actor reads, else 404."""
    school = (
        Organization.objects.filter(
            pk=_id(school_id), kind__in=SCHOOL_KINDS, pk__in=health_school_ids(actor)
        )
        .select_related("town")
        .first()
    )
    if school is None:
        raise Http404
    return school


def schools_in_scope(actor):
    return (
        Organization.objects.filter(pk__in=health_school_ids(actor), kind__in=SCHOOL_KINDS)
        .select_related("town")
        .order_by("town__name", "name")
    )


def class_get(*, actor, class_id) -> SchoolClass:
    """A class of a school whose health records the actor reads, else 404."""
    school_class = (
        SchoolClass.objects.filter(pk=_id(class_id), school_id__in=health_school_ids(actor))
        .select_related("school", "head_teacher")
        .first()
    )
    if school_class is None:
        raise Http404
    return school_class


def child_get(*, actor, child_id, action: str = Action.VIEW_HEALTH) -> Child:
    child = (
        Child.objects.visible_to(actor, action)
        .filter(pk=_id(child_id))
        .select_related("school", "school_class")
        .first()
    )
    if child is None:
        raise Http404
    return child


def is_kindergarten(school: Organization) -> bool:
    return school.kind == OrgKind.KINDERGARTEN


def active_children(class_id: int):
    return Child.objects.filter(school_class_id=class_id, is_active=True).order_by("name", "id")


def teacher_classes(actor) -> list[SchoolClass]:
    """The classes the actor heads or works in (`ClassStaff`), in the schools where they
    take health records."""
    ids = visible_school_ids(actor, Action.RECORD_HEALTH)
    if not ids or not getattr(actor, "pk", None):
        return []
    staff_ids = list(
        Staff.objects.filter(user_id=actor.pk, is_active=True, school_id__in=ids).values_list(
            "pk", flat=True
        )
    )
    if not staff_ids:
        return []
    return list(
        SchoolClass.objects.filter(school_id__in=ids)
        .filter(
            Q(head_teacher_id__in=staff_ids)
            | Q(pk__in=ClassStaff.objects.filter(staff_id__in=staff_ids).values("school_class_id"))
        )
        .select_related("school")
        .order_by("school__name", "grade", "name")
    )


# ------------------------------------------------------------------ one class's check


def last_checkpoint(class_id: int, before: dt.date | None = None) -> str:
    """The checkpoint of the class's latest check that named one (the page's default)."""
    qs = HealthCheck.objects.filter(school_class_id=class_id).exclude(checkpoint="")
    if before is not None:
        qs = qs.filter(date__lte=before)
    return qs.order_by("-date", "-recorded_at").values_list("checkpoint", flat=True).first() or ""


@dataclass
class CheckRow:
    child: Child
    result: ChildCheck | None = None
    absence: Absence | None = None


@dataclass
class CheckSheet:
    school_class: SchoolClass
    date: dt.date
    session: str
    check: HealthCheck | None
    rows: list[CheckRow]
    checkpoint: str
    suspended: bool
    unwell: list[ChildCheck] = field(default_factory=list)

    @property
    def absent(self) -> list[CheckRow]:
        return [r for r in self.rows if r.absence is not None and r.result is None]


def check_sheet(school_class: SchoolClass, day: dt.date, session: str) -> CheckSheet:
    """The class's active children with their result of the check (if taken) and their
    absence of the day (if recorded); a fixed number of queries."""
    check = (
        HealthCheck.objects.filter(school_class_id=school_class.pk, date=day, session=session)
        .select_related("recorded_by")
        .first()
    )
    results: dict[int, ChildCheck] = {}
    if check is not None:
        results = {r.child_id: r for r in ChildCheck.objects.filter(health_check_id=check.pk)}
    absences = {
        a.child_id: a for a in Absence.objects.filter(school_class_id=school_class.pk, date=day)
    }
    rows = [
        CheckRow(child=c, result=results.get(c.pk), absence=absences.get(c.pk))
        for c in active_children(school_class.pk)
    ]
    by_child = {r.child.pk: r.child for r in rows}
    unwell = []
    for result in results.values():
        if not result.is_well:
            result.child_name = (
                by_child[result.child_id].name if result.child_id in by_child else ""
            )
            unwell.append(result)
    unwell.sort(key=lambda r: (r.checked_at, r.pk))
    if check is not None and check.checkpoint:
        checkpoint = check.checkpoint
    else:
        checkpoint = last_checkpoint(school_class.pk, day)
    return CheckSheet(
        school_class=school_class,
        date=day,
        session=session,
        check=check,
        rows=rows,
        checkpoint=checkpoint,
        suspended=school_class.pk in suspended_class_ids(school_class.school_id, day),
        unwell=unwell,
    )


def check_list(*, actor, school_id=None, class_id=None, date=None, session: str = ""):
    """Checks in the actor's health scope, newest first."""
    qs = HealthCheck.objects.filter(school_id__in=health_school_ids(actor))
    if school_id is not None:
        qs = qs.filter(school_id=school_id)
    if class_id is not None:
        qs = qs.filter(school_class_id=class_id)
    if date is not None:
        qs = qs.filter(date=date)
    if session:
        qs = qs.filter(session=session)
    return qs.select_related("school_class", "recorded_by").order_by(
        "-date", "school_class__name", "session", "id"
    )


def unwell_results(check_ids) -> dict[int, list[ChildCheck]]:
    """The unwell results of the given checks, by check id (one query)."""
    found: dict[int, list[ChildCheck]] = defaultdict(list)
    for r in (
        ChildCheck.objects.filter(health_check_id__in=list(check_ids), is_well=False)
        .select_related("child")
        .order_by("checked_at", "id")
    ):
        found[r.health_check_id].append(r)
    return found


# ------------------------------------------------------------------ a school's day


@dataclass
class ClassDay:
    school_class: SchoolClass
    children: int
    checks: dict  # session → HealthCheck
    attendance: AttendanceDay | None
    unknown_absences: int
    suspended: bool
    plan: MonitoringPlan | None

    @property
    def morning(self):
        return self.checks.get(CheckSession.MORNING)

    @property
    def noon(self):
        return self.checks.get(CheckSession.NOON)

    @property
    def checks_done(self) -> int:
        return len(self.checks)

    @property
    def plan_done(self) -> bool:
        return self.plan is not None and self.checks_done >= self.plan.checks_per_day


def school_day(school: Organization, day: dt.date) -> list[ClassDay]:
    """Every class of the school with its checks, attendance, suspension and monitoring
    plan of the day (a fixed number of queries)."""
    classes = list(
        SchoolClass.objects.filter(school_id=school.pk)
        .select_related("head_teacher")
        .annotate(active=Count("children", filter=Q(children__is_active=True)))
        .order_by("grade", "name", "id")
    )
    checks: dict[int, dict] = defaultdict(dict)
    for c in HealthCheck.objects.filter(school_id=school.pk, date=day):
        checks[c.school_class_id][c.session] = c
    attendance = {
        a.school_class_id: a for a in AttendanceDay.objects.filter(school=school, date=day)
    }
    unknown = dict(
        Absence.objects.filter(school=school, date=day, cause=AbsenceCause.UNKNOWN)
        .values_list("school_class_id")
        .annotate(n=Count("id"))
    )
    plans: dict[int, MonitoringPlan] = {}
    for plan in MonitoringPlan.objects.filter(
        school=school, starts_on__lte=day, ends_on__gte=day
    ).order_by("-checks_per_day", "id"):
        plans.setdefault(plan.school_class_id, plan)
    suspended = suspended_class_ids(school.pk, day)
    return [
        ClassDay(
            school_class=c,
            children=c.active,
            checks=checks.get(c.pk, {}),
            attendance=attendance.get(c.pk),
            unknown_absences=unknown.get(c.pk, 0),
            suspended=c.pk in suspended,
            plan=plans.get(c.pk),
        )
        for c in classes
    ]


# ------------------------------------------------------------------ attendance


@dataclass
class AttendanceRow:
    child: Child
    absence: Absence | None
    follow_up: IllnessFollowUp | None  # open illness follow-up


@dataclass
class AttendanceSheet:
    school_class: SchoolClass
    date: dt.date
    day: AttendanceDay | None
    rows: list[AttendanceRow]
    suspended: bool

    @property
    def unknown(self) -> list[Absence]:
        return [
            r.absence
            for r in self.rows
            if r.absence is not None and r.absence.cause == AbsenceCause.UNKNOWN
        ]


def attendance_sheet(school_class: SchoolClass, day: dt.date) -> AttendanceSheet:
    children = list(active_children(school_class.pk))
    absences = {
        a.child_id: a for a in Absence.objects.filter(school_class_id=school_class.pk, date=day)
    }
    follow_ups = {
        f.child_id: f
        for f in IllnessFollowUp.objects.filter(
            child__school_class_id=school_class.pk, returned_on__isnull=True
        )
    }
    for a in absences.values():
        a.child = next((c for c in children if c.pk == a.child_id), None) or a.child
    return AttendanceSheet(
        school_class=school_class,
        date=day,
        day=AttendanceDay.objects.filter(school_class_id=school_class.pk, date=day)
        .select_related("recorded_by")
        .first(),
        rows=[
            AttendanceRow(child=c, absence=absences.get(c.pk), follow_up=follow_ups.get(c.pk))
            for c in children
        ],
        suspended=school_class.pk in suspended_class_ids(school_class.school_id, day),
    )


def absence_get(*, actor, absence_id) -> Absence:
    absence = (
        Absence.objects.filter(pk=_id(absence_id), school_id__in=health_school_ids(actor))
        .select_related("child", "school_class", "school")
        .first()
    )
    if absence is None:
        raise Http404
    return absence


def absence_list(*, actor, school_id=None, date=None, cause: str = "", class_id=None):
    qs = Absence.objects.filter(school_id__in=health_school_ids(actor))
    if school_id is not None:
        qs = qs.filter(school_id=school_id)
    if class_id is not None:
        qs = qs.filter(school_class_id=class_id)
    if date is not None:
        qs = qs.filter(date=date)
    if cause:
        qs = qs.filter(cause=cause)
    return qs.select_related("child", "school_class", "chased_by").order_by(
        "-date", "school_class__name", "child__name", "id"
    )


# ------------------------------------------------------------------ illness follow-ups


@dataclass
class FollowUpRow:
    follow_up: IllnessFollowUp
    last_absent: dt.date | None
    days_away: int  # school days recorded absent
    present_again: dt.date | None  # first day taken present after the last absence


def follow_up_get(*, actor, follow_up_id) -> IllnessFollowUp:
    follow_up = (
        IllnessFollowUp.objects.filter(pk=_id(follow_up_id), school_id__in=health_school_ids(actor))
        .select_related("child__school_class", "school")
        .first()
    )
    if follow_up is None:
        raise Http404
    return follow_up


def open_follow_ups(school_id: int) -> list[FollowUpRow]:
    """The school's open illness follow-ups, oldest first, each with the days recorded
    absent and, when the child has been taken present since, the first such day (a fixed
    number of queries)."""
    follow_ups = list(
        IllnessFollowUp.objects.filter(school_id=school_id, returned_on__isnull=True)
        .select_related("child__school_class")
        .order_by("first_day", "id")
    )
    if not follow_ups:
        return []
    absent_days: dict[int, list[dt.date]] = defaultdict(list)
    child_ids = [f.child_id for f in follow_ups]
    first = min(f.first_day for f in follow_ups)
    for child_id, day in Absence.objects.filter(
        child_id__in=child_ids, date__gte=first
    ).values_list("child_id", "date"):
        absent_days[child_id].append(day)
    class_ids = {f.child.school_class_id for f in follow_ups}
    taken: dict[int, list[dt.date]] = defaultdict(list)
    for class_id, day in (
        AttendanceDay.objects.filter(school_class_id__in=class_ids, date__gte=first)
        .order_by("date")
        .values_list("school_class_id", "date")
    ):
        taken[class_id].append(day)
    rows = []
    for f in follow_ups:
        days = sorted(d for d in absent_days[f.child_id] if d >= f.first_day)
        last = days[-1] if days else None
        away = set(days)
        present = next(
            (
                d
                for d in taken[f.child.school_class_id]
                if d > (last or f.first_day) and d not in away
            ),
            None,
        )
        rows.append(
            FollowUpRow(follow_up=f, last_absent=last, days_away=len(days), present_again=present)
        )
    return rows


def recently_returned(school_id: int, since: dt.date) -> list[IllnessFollowUp]:
    return list(
        IllnessFollowUp.objects.filter(school_id=school_id, returned_on__gte=since)
        .select_related("child__school_class", "closed_by")
        .order_by("-returned_on", "-id")[:50]
    )


# ------------------------------------------------------------------ dining, dorms, staff


def dining_seats(class_id: int, day: dt.date) -> dict[int, str]:
    return dict(
        DiningSeat.objects.filter(school_class_id=class_id, date=day).values_list(
            "child_id", "table"
        )
    )


def last_dining_day(class_id: int, before: dt.date) -> dt.date | None:
    return (
        DiningSeat.objects.filter(school_class_id=class_id, date__lt=before)
        .order_by("-date")
        .values_list("date", flat=True)
        .first()
    )


def dorm_current(school_id: int, day: dt.date) -> list[DormAssignment]:
    """The school's assignments in force on `day`, by room then child's name."""
    return list(
        DormAssignment.objects.filter(school_id=school_id, starts_on__lte=day)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
        .select_related("child__school_class")
        .order_by("room", "child__name", "id")
    )


def class_staff(class_id: int) -> list[ClassStaff]:
    return list(
        ClassStaff.objects.filter(school_class_id=class_id)
        .select_related("staff")
        .order_by("staff__name", "id")
    )


# ------------------------------------------------------------------ a child's record


@dataclass
class ChildRecord:
    child: Child
    since: dt.date
    checks: list[ChildCheck]
    absences: list[Absence]
    follow_ups: list[IllnessFollowUp]
    cases: list[HealthCase]
    dorm: DormAssignment | None


def child_record(child: Child, *, today: dt.date | None = None) -> ChildRecord:
    """The last RECORD_DAYS days of a child's checks and absences, their follow-ups and
    suspected cases (all of them), and their current dormitory room."""
    today = today or timezone.localdate()
    since = today - dt.timedelta(days=RECORD_DAYS - 1)
    return ChildRecord(
        child=child,
        since=since,
        checks=list(
            ChildCheck.objects.filter(child=child, date__gte=since)
            .select_related("health_check")
            .order_by("-date", "-checked_at")
        ),
        absences=list(
            Absence.objects.filter(child=child, date__gte=since)
            .select_related("chased_by")
            .order_by("-date")
        ),
        follow_ups=list(
            IllnessFollowUp.objects.filter(child=child)
            .select_related("closed_by")
            .order_by("-first_day", "-id")[:20]
        ),
        cases=list(HealthCase.objects.filter(child=child).order_by("-reported_at", "-id")[:20]),
        dorm=DormAssignment.objects.filter(child=child, starts_on__lte=today)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .order_by("-starts_on")
        .first(),
    )


def symptom_text(codes) -> str:
    """Symptoms as people read them (in the active language)."""
    labels = dict(Symptom.choices)
    return "、".join(str(labels.get(code, code)) for code in codes)


SENT_AWAY = frozenset({CheckAction.OBSERVATION, CheckAction.SENT_HOME, CheckAction.HOSPITAL})
