"""Reads of the response to a case (§3 7–10; issue 9 items 7–10; ADR 0032 "Response"):
disinfection, class suspensions, official statements, aftercare tasks, monitoring plans.

Who reads what:
- disinfection records and monitoring plans: VIEW_HEALTH or RECORD_HEALTH (a teacher
  records the routine disinfection of their classroom and takes the extra checks of a plan);
- suspensions and official statements: VIEW_SUSPENSION (every role of the school and the
  town and county offices — the people who answer parents must know what is official);
- aftercare tasks: with the case (VIEW_HEALTH), and each assignee their own tasks.
Police roles hold none of these actions: 403 when the actor has the action nowhere, 404 for
a school or record out of scope.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, F, Prefetch, Q
from django.http import Http404
from django.utils import timezone

from huxiao.core.roles import SCHOOL_KINDS, Action
from huxiao.core.scoping import can, visible_school_ids
from huxiao.duty.duty_selectors import _id, school_members
from huxiao.health.models import (
    AftercareTask,
    ClassSuspension,
    Disinfection,
    HealthCase,
    HealthCheck,
    MonitoringPlan,
    OfficialStatement,
)
from huxiao.orgs.models import Membership, Organization
from huxiao.people.models import SchoolClass

# The actions that read disinfection records and monitoring plans (either one will do).
HEALTH_READERS = (Action.VIEW_HEALTH, Action.RECORD_HEALTH)


# ------------------------------------------------------------------ who and where


def school_ids_for(actor, actions) -> frozenset[int]:
    """The schools where the actor holds at least one of `actions`."""
    ids: frozenset[int] = frozenset()
    for action in actions:
        ids |= visible_school_ids(actor, action)
    return ids


def may(actor, action: str, school_id: int | None) -> bool:
    return can(actor, action, school_id)


def school_in(actor, school_id, actions) -> Organization:
    """A school where the actor holds one of `actions`, else 404."""
    ids = school_ids_for(actor, actions)
    school = (
        Organization.objects.filter(pk=_id(school_id), kind__in=SCHOOL_KINDS)
        .select_related("town")
        .first()
    )
    if school is None or school.pk not in ids:
        raise Http404
    return school


def schools_where(actor, action: str):
    """The schools where the actor may do `action`, by name."""
    return Organization.objects.filter(
        pk__in=visible_school_ids(actor, action), kind__in=SCHOOL_KINDS
    ).order_by("name", "pk")


def case_get(*, actor, case_id, action: str = Action.VIEW_HEALTH) -> HealthCase:
    """A case in the actor's scope for `action`, else 404."""
    case = (
        HealthCase.objects.visible_to(actor, action)
        .filter(pk=_id(case_id))
        .select_related("school", "school_class", "child")
        .first()
    )
    if case is None:
        raise Http404
    return case


def case_of_school(school_id: int, case_id) -> HealthCase | None:
    """The case `case_id` when it is one of the school's (the caller has the school in
    scope), else None: a case of another school and one that does not exist look alike."""
    try:
        pk = _id(case_id)
    except Http404:
        return None
    return (
        HealthCase.objects.filter(pk=pk, school_id=school_id)
        .select_related("school", "school_class", "child")
        .first()
    )


def class_of_school(school_id: int, class_id) -> SchoolClass | None:
    """The class `class_id` when it belongs to the school, else None."""
    try:
        pk = _id(class_id)
    except Http404:
        return None
    return SchoolClass.objects.filter(pk=pk, school_id=school_id).first()


def classes_of(school_id: int) -> list[SchoolClass]:
    return list(SchoolClass.objects.filter(school_id=school_id).order_by("grade", "name", "id"))


def grades_of(school_id: int) -> list[str]:
    return sorted(
        {
            g
            for g in SchoolClass.objects.filter(school_id=school_id).values_list("grade", flat=True)
            if g
        }
    )


def assignable_users(school_id: int) -> list:
    """Who may be given an aftercare task: the school's active logins, by name."""
    return school_members(school_id)


def school_member_ids(school_id: int) -> list[int]:
    """Every active login of the school (teachers, guards, …), each once."""
    return list(
        dict.fromkeys(
            Membership.objects.filter(
                organization_id=school_id, is_active=True, user__is_active=True
            )
            .order_by("user_id")
            .values_list("user_id", flat=True)
        )
    )


def head_teacher_logins(class_ids) -> dict[int, int]:
    """The head teacher's login of each class, when the head teacher is still on the staff
    and their login an active member of the class's school (one query): a teacher who left
    is not reminded of a class they no longer teach. By class id."""
    return dict(
        SchoolClass.objects.filter(
            pk__in=list(class_ids),
            head_teacher__is_active=True,
            head_teacher__user__is_active=True,
            head_teacher__user__memberships__organization_id=F("school_id"),
            head_teacher__user__memberships__is_active=True,
        )
        .values_list("pk", "head_teacher__user_id")
        .distinct()
    )


# ------------------------------------------------------------------ months


def parse_month(value) -> dt.date | None:
    """The first day of a month given as "2026-11" (or any day of it), else None."""
    text = str(value or "").strip()
    try:
        day = dt.date.fromisoformat(text + "-01" if len(text) == 7 else text)
    except ValueError:
        return None
    if not (dt.date(2000, 1, 1) <= day <= dt.date(2100, 12, 31)):
        return None
    return day.replace(day=1)


def month_bounds(first: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The month from its first local midnight to the next month's."""
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return (
        timezone.make_aware(dt.datetime.combine(first, dt.time.min)),
        timezone.make_aware(dt.datetime.combine(following, dt.time.min)),
    )


def previous_month(first: dt.date) -> dt.date:
    return (first - dt.timedelta(days=1)).replace(day=1)


def next_month(first: dt.date) -> dt.date:
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


# ------------------------------------------------------------------ disinfection


def disinfection_list(
    *, actor, school_id=None, case_id=None, month: dt.date | None = None, kind: str = ""
):
    """Disinfection records in the actor's scope, newest first."""
    qs = Disinfection.objects.filter(school_id__in=school_ids_for(actor, HEALTH_READERS))
    if school_id is not None:
        qs = qs.filter(school_id=school_id)
    if case_id is not None:
        qs = qs.filter(case_id=case_id)
    if month is not None:
        start, end = month_bounds(month)
        qs = qs.filter(done_at__gte=start, done_at__lt=end)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.select_related("school", "case", "recorded_by").order_by("-done_at", "-id")


@dataclass
class DisinfectionDay:
    date: dt.date
    records: list = field(default_factory=list)


def disinfection_days(records) -> list[DisinfectionDay]:
    """Records grouped by local day, newest day first."""
    days: dict[dt.date, DisinfectionDay] = {}
    for record in records:
        day = timezone.localdate(record.done_at)
        days.setdefault(day, DisinfectionDay(day)).records.append(record)
    return list(days.values())


# ------------------------------------------------------------------ suspensions


def suspension_list(*, actor, school_id=None, state: str = "", today: dt.date | None = None):
    """Suspensions in the actor's scope (VIEW_SUSPENSION). `state`: "current" (in force
    today or still to come, not resumed), "past" (ended or resumed), or all."""
    today = today or timezone.localdate()
    qs = ClassSuspension.objects.visible_to(actor, Action.VIEW_SUSPENSION)
    if school_id is not None:
        qs = qs.filter(school_id=school_id)
    live = Q(ends_on__gte=today) & (Q(resumed_on__isnull=True) | Q(resumed_on__gt=today))
    if state == "current":
        qs = qs.filter(live).order_by("starts_on", "id")
    elif state == "past":
        qs = qs.exclude(live).order_by("-starts_on", "-id")
    else:
        qs = qs.order_by("-starts_on", "-id")
    return qs.select_related("school", "school_class", "case", "decided_by", "resumed_by")


def suspension_get(*, actor, suspension_id, action: str = Action.VIEW_SUSPENSION):
    suspension = (
        ClassSuspension.objects.visible_to(actor, action)
        .filter(pk=_id(suspension_id))
        .select_related("school", "school_class", "case", "decided_by", "resumed_by")
        .first()
    )
    if suspension is None:
        raise Http404
    return suspension


def suspension_in_force(suspension: ClassSuspension, today: dt.date) -> bool:
    return suspension.starts_on <= today <= suspension.ends_on and (
        suspension.resumed_on is None or suspension.resumed_on > today
    )


# ------------------------------------------------------------------ statements


def statement_list(*, actor, school_id=None, case_id=None):
    qs = OfficialStatement.objects.visible_to(actor, Action.VIEW_SUSPENSION)
    if school_id is not None:
        qs = qs.filter(school_id=school_id)
    if case_id is not None:
        qs = qs.filter(case_id=case_id)
    return qs.select_related("school", "case", "recorded_by").order_by("-published_at", "-id")


# ------------------------------------------------------------------ aftercare


def _task_filters(qs, *, school_id=None, case_id=None, state: str | None = ""):
    if school_id is not None:
        qs = qs.filter(case__school_id=school_id)
    if case_id is not None:
        qs = qs.filter(case_id=case_id)
    if state == "open":
        qs = qs.filter(done_at__isnull=True)
    elif state == "done":
        qs = qs.filter(done_at__isnull=False)
    return qs


def aftercare_list(*, actor, school_id=None, case_id=None, state: str = ""):
    """Aftercare tasks of the cases in the actor's scope (VIEW_HEALTH), open first."""
    qs = AftercareTask.objects.visible_to(actor, Action.VIEW_HEALTH)
    return _task_rows(_task_filters(qs, school_id=school_id, case_id=case_id, state=state))


def my_aftercare(actor, *, school_id=None, case_id=None, state: str | None = ""):
    """The tasks given to the actor at schools where they are still a member."""
    if not getattr(actor, "pk", None):
        return AftercareTask.objects.none()
    schools = Membership.objects.filter(user_id=actor.pk, is_active=True).values("organization_id")
    qs = AftercareTask.objects.filter(assignee_id=actor.pk, case__school_id__in=schools)
    return _task_rows(_task_filters(qs, school_id=school_id, case_id=case_id, state=state))


def _task_rows(qs):
    return qs.select_related(
        "case__school", "case__school_class", "case__child", "assignee", "done_by"
    ).order_by(
        # Open tasks first (not done yet), then by due date.
        F("done_at").asc(nulls_first=True),
        "due_on",
        "id",
    )


def aftercare_get(*, actor, task_id) -> AftercareTask:
    """A task the actor may see: of a case in VIEW_HEALTH scope, or assigned to them at a
    school where they are a member; else 404."""
    pk = _id(task_id)
    task = (
        AftercareTask.objects.filter(pk=pk)
        .select_related("case__school", "case__school_class", "assignee", "done_by")
        .first()
    )
    if task is None:
        raise Http404
    if can(actor, Action.VIEW_HEALTH, task.case.school_id) or is_assignee(actor, task):
        return task
    raise Http404


def is_assignee(actor, task: AftercareTask) -> bool:
    return bool(
        getattr(actor, "pk", None)
        and task.assignee_id == actor.pk
        and Membership.objects.filter(
            user_id=actor.pk, organization_id=task.case.school_id, is_active=True
        ).exists()
    )


def may_complete(actor, task: AftercareTask) -> bool:
    return can(actor, Action.MANAGE_HEALTH, task.case.school_id) or is_assignee(actor, task)


# ------------------------------------------------------------------ monitoring plans


def plan_list(*, actor, school_id=None, case_id=None, state: str = "", today=None):
    """Monitoring plans in the actor's scope (VIEW_HEALTH or RECORD_HEALTH). `state`:
    "current" (running today or still to come) or "past"."""
    today = today or timezone.localdate()
    qs = MonitoringPlan.objects.filter(school_id__in=school_ids_for(actor, HEALTH_READERS))
    if school_id is not None:
        qs = qs.filter(school_id=school_id)
    if case_id is not None:
        qs = qs.filter(case_id=case_id)
    if state == "current":
        qs = qs.filter(ends_on__gte=today).order_by("starts_on", "id")
    elif state == "past":
        qs = qs.filter(ends_on__lt=today).order_by("-starts_on", "-id")
    else:
        qs = qs.order_by("-starts_on", "-id")
    return qs.select_related("school", "school_class", "case", "created_by")


def plan_get(*, actor, plan_id, actions=HEALTH_READERS) -> MonitoringPlan:
    plan = (
        MonitoringPlan.objects.filter(pk=_id(plan_id))
        .select_related("school", "school_class", "case")
        .first()
    )
    if plan is None or plan.school_id not in school_ids_for(actor, actions):
        raise Http404
    return plan


def checks_today(plans, today: dt.date) -> dict[int, int]:
    """Health checks taken today by class, for the classes of `plans` (one query)."""
    class_ids = {p.school_class_id for p in plans}
    if not class_ids:
        return {}
    return dict(
        HealthCheck.objects.filter(school_class_id__in=class_ids, date=today)
        .values("school_class_id")
        .annotate(n=Count("id"))
        .values_list("school_class_id", "n")
    )


def with_today(plans, today: dt.date) -> list:
    """Plans with `.running` (today within the plan), `.taken_today` (checks of the class
    today) and `.missing_today`."""
    plans = list(plans)
    taken = checks_today([p for p in plans if p.starts_on <= today <= p.ends_on], today)
    for plan in plans:
        plan.running = plan.starts_on <= today <= plan.ends_on
        plan.taken_today = taken.get(plan.school_class_id, 0) if plan.running else 0
        plan.missing_today = max(0, plan.checks_per_day - plan.taken_today) if plan.running else 0
    return plans


# ------------------------------------------------------------------ a case's response


@dataclass
class CaseResponse:
    """What the case page's response panel shows (`case_response`)."""

    case: HealthCase
    disinfections: list
    suspensions: list
    statements: list
    tasks: list
    plans: list
    today: dt.date

    @property
    def emergency_done(self) -> bool:
        return any(d.kind == "emergency" for d in self.disinfections)

    @property
    def open_tasks(self) -> int:
        return sum(1 for t in self.tasks if t.done_at is None)


def case_response(case: HealthCase, *, today: dt.date | None = None) -> CaseResponse:
    """The disinfections, suspensions, statements, aftercare tasks and monitoring plans of
    `case` (already scoped by the caller) in a constant number of queries (seven, whatever
    their numbers)."""
    today = today or timezone.localdate()
    case = (
        HealthCase.objects.filter(pk=case.pk)
        .select_related("school", "school_class", "child")
        .prefetch_related(
            Prefetch(
                "disinfections",
                queryset=Disinfection.objects.select_related("recorded_by").order_by(
                    "-done_at", "-id"
                ),
            ),
            Prefetch(
                "suspensions",
                queryset=ClassSuspension.objects.select_related(
                    "school_class", "decided_by", "resumed_by"
                ).order_by("-starts_on", "-id"),
            ),
            Prefetch(
                "statements",
                queryset=OfficialStatement.objects.select_related("recorded_by").order_by(
                    "-published_at", "-id"
                ),
            ),
            Prefetch(
                "aftercare",
                queryset=AftercareTask.objects.select_related("assignee", "done_by").order_by(
                    F("done_at").asc(nulls_first=True), "due_on", "id"
                ),
            ),
            Prefetch(
                "monitoring_plans",
                queryset=MonitoringPlan.objects.select_related("school_class").order_by(
                    "-starts_on", "-id"
                ),
            ),
        )
        .get()
    )
    plans = with_today(case.monitoring_plans.all(), today)
    return CaseResponse(
        case=case,
        disinfections=list(case.disinfections.all()),
        suspensions=list(case.suspensions.all()),
        statements=list(case.statements.all()),
        tasks=list(case.aftercare.all()),
        plans=plans,
        today=today,
    )
