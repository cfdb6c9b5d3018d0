"""Reads of surroundings tasks given to departments (§2 13; ADR 0026, "Listed supervision
and surroundings tasks").

Two sides see a task: the giving side — whoever may give tasks at its school
(`list_supervision` or `verify_hazard` there: the governance and education offices and the
police of the school's scope) — and the department it was given to, by membership of that
department's organization, whatever the department's school scope. A department never sees
another department's tasks; the school itself does not see the task list (the hazard page
shows the tasks of its hazards to those who may see them). Out of scope is 404.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Prefetch, Q, Value, When
from django.http import Http404

from huxiao.core.roles import Action, OrgKind
from huxiao.core.scoping import memberships_of, visible_school_ids
from huxiao.hazards.hazard_services import local_today
from huxiao.hazards.models import SurroundingsTask, SurroundingsTaskEvent

OPEN_TASK_STATUSES = ("assigned", "accepted", "reported")


@dataclass
class TaskFilters:
    status: str = ""
    department_id: int | None = None
    school_id: int | None = None
    overdue: bool = False


def giver_school_ids(actor) -> frozenset[int]:
    """The schools where the actor may give surroundings tasks (and sees all of them)."""
    return visible_school_ids(actor, Action.LIST_SUPERVISION) | visible_school_ids(
        actor, Action.VERIFY_HAZARD
    )


def department_ids(actor) -> frozenset[int]:
    """The active departments the actor is an active member of."""
    return frozenset(
        m.organization_id
        for m in memberships_of(actor)
        if m.organization.kind == OrgKind.DEPARTMENT and m.organization.is_active
    )


def require_tasks(actor) -> None:
    """403 for someone who neither gives tasks nor belongs to a department."""
    if not giver_school_ids(actor) and not department_ids(actor):
        raise PermissionDenied


def visible_tasks(actor, qs=None):
    qs = SurroundingsTask.objects.all() if qs is None else qs
    schools, departments = giver_school_ids(actor), department_ids(actor)
    if not schools and not departments:
        return qs.none()
    return qs.filter(Q(school_id__in=schools) | Q(department_id__in=departments))


def task_list(*, actor, filters: TaskFilters | None = None, today: dt.date | None = None):
    """Tasks the actor may see, open ones first by deadline, then the done ones."""
    filters = filters or TaskFilters()
    qs = visible_tasks(actor).select_related("school", "department", "assigned_by_org", "hazard")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.department_id is not None:
        qs = qs.filter(department_id=filters.department_id)
    if filters.school_id is not None:
        qs = qs.filter(school_id=filters.school_id)
    if filters.overdue:
        qs = qs.filter(status__in=OPEN_TASK_STATUSES, deadline__lt=today or local_today())
    return _ordered(qs)


def _ordered(qs):
    # Open work first (assigned, accepted, feedback given), then the confirmed ones; the
    # nearest deadline first within each.
    rank = Case(
        When(status="confirmed", then=Value(1)), default=Value(0), output_field=IntegerField()
    )
    return qs.annotate(done_rank=rank).order_by("done_rank", "deadline", "-id")


def task_get(*, actor, task_id: int) -> SurroundingsTask:
    task = (
        visible_tasks(actor)
        .select_related(
            "school",
            "department",
            "assigned_by_org",
            "assigned_by",
            "feedback_by",
            "confirmed_by",
            "hazard",
        )
        .prefetch_related(
            Prefetch("events", queryset=SurroundingsTaskEvent.objects.select_related("actor"))
        )
        .filter(pk=task_id)
        .first()
    )
    if task is None:
        raise Http404
    return task


def tasks_of_hazard(*, actor, hazard) -> list[SurroundingsTask]:
    return list(
        visible_tasks(actor)
        .filter(hazard_id=hazard.pk)
        .select_related("department")
        .order_by("assigned_at", "id")
    )


def is_overdue(task: SurroundingsTask, today: dt.date | None = None) -> bool:
    return task.status in OPEN_TASK_STATUSES and task.deadline < (today or local_today())
