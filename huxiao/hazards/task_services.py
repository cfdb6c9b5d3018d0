"""Writes of surroundings tasks given to departments (§2 13), issue 6 item 3, ADR 0026
("Listed supervision and surroundings tasks").

A task about a school's surroundings (stalls, internet cafés, traffic at the gate…) is given
from outside the school — by whoever holds `list_supervision` or `verify_hazard` there (the
governance and education offices, the police) — to an active department of the school's
county. The department accepts it, works on it and gives feedback; the giving office
confirms it done or returns it with a reason (returned → accepted again) — never the
person who gave the feedback, should they belong to both.

The state machine is one table, `MOVES`. Every move locks the task's row and checks, in
order, scope (404), right (403), state (`TaskTransitionRefused`, 409), input (400); it
leaves a `SurroundingsTaskEvent`, an audit row and notifications (after commit).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from huxiao.audit.services import audit_create, audit_update, snapshot
from huxiao.core.names import acting_user, actor_label
from huxiao.core.roles import ROLE_ACTIONS, SCHOOL_KINDS, Action, OrgKind, role_allows
from huxiao.core.scoping import can, memberships_of, school_filter_for_org
from huxiao.hazards import task_selectors as selectors
from huxiao.hazards.choices import DepartmentKind, HazardStatus, TaskStatus
from huxiao.hazards.hazard_services import clean_deadline, is_member_of
from huxiao.hazards.models import Hazard, SurroundingsTask, SurroundingsTaskEvent
from huxiao.orgs.models import Membership, Organization
from huxiao.people import validation as v

T = TaskStatus
GIVER_ACTIONS = (Action.LIST_SUPERVISION, Action.VERIFY_HAZARD)
# The roles that may give (and so confirm) tasks: told when a department reports back.
GIVER_ROLES = tuple(
    role for role, actions in ROLE_ACTIONS.items() if any(a in actions for a in GIVER_ACTIONS)
)
# The giving office offered first: governance, then education, then police.
_GIVER_KIND_ORDER = {
    OrgKind.GOVERNANCE_OFFICE: 0,
    OrgKind.EDUCATION_OFFICE: 1,
    OrgKind.POLICE_STATION: 2,
    OrgKind.POLICE_POST: 3,
}


class TaskTransitionRefused(ValidationError):
    """A move the task's state does not allow; views answer 409 with the message."""

    def __init__(self, message):
        super().__init__(message, code="transition")


@dataclass(frozen=True)
class TaskMove:
    name: str
    sources: frozenset
    target: str
    side: str  # "department" (the task's department) or "giver" (the giving office)
    refusal: object


MOVES: dict[str, TaskMove] = {
    m.name: m
    for m in (
        TaskMove(
            "accept",
            frozenset({T.ASSIGNED}),
            T.ACCEPTED,
            "department",
            _("Only a newly assigned task can be accepted."),
        ),
        TaskMove(
            "feedback",
            frozenset({T.ACCEPTED}),
            T.REPORTED,
            "department",
            _("Feedback can only be given on an accepted task."),
        ),
        TaskMove(
            "confirm",
            frozenset({T.REPORTED}),
            T.CONFIRMED,
            "giver",
            _("Only a task with feedback can be confirmed."),
        ),
        TaskMove(
            "return",
            frozenset({T.REPORTED}),
            T.ACCEPTED,
            "giver",
            _("Only a task with feedback can be returned."),
        ),
    )
}


def _message(template, params: dict) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return str(template) % params


# ------------------------------------------------------------------ who


def _may_give_at(actor, school_id: int) -> bool:
    return any(can(actor, action, school_id) for action in GIVER_ACTIONS)


def actor_giver_offices(actor) -> list[Organization]:
    """Every active office (not a school) where the actor's role allows `list_supervision`
    or `verify_hazard`: governance first, then education, then police."""
    offices: dict[int, Organization] = {}
    for m in memberships_of(actor):
        org = m.organization
        if org.pk in offices or not org.is_active or org.kind in SCHOOL_KINDS:
            continue
        if any(role_allows(m.role, a, county_level=org.is_county_level) for a in GIVER_ACTIONS):
            offices[org.pk] = org
    return sorted(offices.values(), key=lambda o: (_GIVER_KIND_ORDER.get(o.kind, 9), o.pk))


def giver_offices_of(actor, school) -> list[Organization]:
    """The actor's offices from which a task at the school may be given: those whose scope
    covers the school; the town's before the county's within each kind."""
    offices = [
        org
        for org in actor_giver_offices(actor)
        if Organization.objects.filter(school_filter_for_org(org), pk=school.pk).exists()
    ]
    return sorted(
        offices,
        key=lambda o: (_GIVER_KIND_ORDER.get(o.kind, 9), o.town_id != school.town_id, o.pk),
    )


def may_give(actor, school) -> bool:
    return (
        school is not None and _may_give_at(actor, school.pk) and not is_member_of(actor, school.pk)
    )


def is_department_member(actor, task: SurroundingsTask) -> bool:
    return task.department_id in selectors.department_ids(actor)


def is_giver(actor, task: SurroundingsTask) -> bool:
    """A member of the giving office who may still give tasks at the school, from outside."""
    if not _may_give_at(actor, task.school_id) or is_member_of(actor, task.school_id):
        return False
    return any(
        m.organization_id == task.assigned_by_org_id
        and any(
            role_allows(m.role, a, county_level=m.organization.is_county_level)
            for a in GIVER_ACTIONS
        )
        for m in memberships_of(actor)
    )


def _may(actor, move: TaskMove, task: SurroundingsTask) -> bool:
    if move.side == "department":
        return is_department_member(actor, task)
    return is_giver(actor, task)


def _judges_own_feedback(actor, move: TaskMove, task: SurroundingsTask) -> bool:
    """Someone in both the department and the giving office may not confirm or return the
    feedback they gave themselves (the same independence as a hazard's verification)."""
    return (
        move.side == "giver"
        and task.feedback_by_id is not None
        and task.feedback_by_id == getattr(actor, "pk", None)
    )


def allowed_moves(actor, task: SurroundingsTask) -> list[str]:
    return [
        move.name
        for move in MOVES.values()
        if task.status in move.sources
        and _may(actor, move, task)
        and not _judges_own_feedback(actor, move, task)
    ]


def _candidates(region_ids):
    return Organization.objects.filter(
        kind=OrgKind.DEPARTMENT, is_active=True, region_id__in=list(region_ids)
    )


def department_candidates(region_ids) -> list[Organization]:
    """Active departments of the given counties (the create form's choices, and the only
    departments `task_create` accepts)."""
    return list(_candidates(region_ids).order_by("town_id", "name"))


# ------------------------------------------------------------------ helpers


def _event(task, *, actor, at, from_status, to_status, note="") -> SurroundingsTaskEvent:
    return SurroundingsTaskEvent.objects.create(
        task=task,
        at=at,
        actor=acting_user(actor),
        actor_label=actor_label(actor),
        from_status=from_status,
        to_status=to_status,
        note=note,
    )


def _department_members(department_id: int) -> list[int]:
    return list(
        Membership.objects.filter(
            organization_id=department_id, is_active=True, user__is_active=True
        ).values_list("user_id", flat=True)
    )


def _giver_people(task: SurroundingsTask) -> list[int]:
    ids = set(
        Membership.objects.filter(
            organization_id=task.assigned_by_org_id,
            role__in=GIVER_ROLES,
            is_active=True,
            user__is_active=True,
        ).values_list("user_id", flat=True)
    )
    if task.assigned_by_id and task.assigned_by.is_active:
        ids.add(task.assigned_by_id)
    return sorted(ids)


def _notify(task, *, event_type, title, body, recipients, actor=None):
    users = {pk for pk in recipients if pk}
    if actor is not None:
        users.discard(getattr(actor, "pk", None))
    if not users:
        return
    from huxiao.notify.services import notify_send

    params = {
        "title": task.title,
        "school": task.school.name,
        "department": task.department.name,
        "deadline": task.deadline.isoformat(),
    }
    notify_send(
        organizations=[],
        event_type=event_type,
        title=_message(title, params),
        body=_message(body, params) if body else "",
        payload={"task_id": task.pk, "school_id": task.school_id},
        recipients=sorted(users),
    )


def _lock(actor, task: SurroundingsTask) -> SurroundingsTask:
    locked = (
        selectors.visible_tasks(actor, SurroundingsTask.objects.select_for_update(of=("self",)))
        .select_related("school", "department", "assigned_by_org", "assigned_by")
        .filter(pk=task.pk)
        .first()
    )
    if locked is None:
        raise Http404
    return locked


def _begin(actor, task: SurroundingsTask, name: str) -> tuple[SurroundingsTask, TaskMove]:
    move = MOVES[name]
    task = _lock(actor, task)
    if not _may(actor, move, task):
        if move.side == "department":
            raise PermissionDenied(_("Only the department the task was given to may do this."))
        raise PermissionDenied(_("Only the office that gave the task may do this."))
    if task.status not in move.sources:
        raise TaskTransitionRefused(move.refusal)
    if _judges_own_feedback(actor, move, task):
        raise PermissionDenied(
            _(
                "You gave this feedback yourself: another member of the office that gave "
                "the task must confirm or return it."
            )
        )
    return task, move


def _move(actor, task, move: TaskMove, *, now, note="", **fields) -> SurroundingsTask:
    before = snapshot(task)
    from_status = task.status
    task.status = move.target
    for name, value in fields.items():
        setattr(task, name, value)
    task.save()
    audit_update(actor=actor, obj=task, before=before)
    _event(task, actor=actor, at=now, from_status=from_status, to_status=move.target, note=note)
    return task


# ------------------------------------------------------------------ create


@transaction.atomic
def task_create(
    *,
    actor,
    school=None,
    hazard=None,
    department=None,
    department_kind: str = "",
    title: str = "",
    description: str = "",
    location: str = "",
    deadline=None,
    assigned_by_org=None,
    now=None,
) -> SurroundingsTask:
    """Give a surroundings task of `school` (or of the hazard's school) to a department.
    Title and description default to the hazard's."""
    now = now or timezone.now()
    if hazard is not None:
        hazard = (
            Hazard.objects.visible_to(actor, Action.VIEW)
            .select_related("school")
            .filter(pk=hazard.pk)
            .first()
        )
        if hazard is None:
            raise Http404
        if school is not None and school.pk != hazard.school_id:
            raise ValidationError({"hazard": [_("The hazard is of another school.")]})
        school = hazard.school
    if school is None or not can(actor, Action.VIEW, school.pk):
        raise Http404
    if not _may_give_at(actor, school.pk):
        raise PermissionDenied(_("Your role does not allow this action."))
    if is_member_of(actor, school.pk):
        raise PermissionDenied(_("Surroundings tasks are given from outside the school."))
    errors = v.FieldErrors()
    if school.kind not in SCHOOL_KINDS:
        errors.add("school_id", _("This organization is not a school."))
    if hazard is not None and hazard.status == HazardStatus.CLOSED:
        errors.add("hazard", _("The hazard is verified and closed."))
    if department is None:
        errors.add("department", _("Choose a department."))
    else:
        # Read again among the school's candidates (an id from the API is unchecked); one
        # message whatever the reason, so that it tells nothing about other organizations.
        department = _candidates([school.region_id]).filter(pk=department.pk).first()
        if department is None:
            errors.add("department", _("Choose one of the departments offered for this school."))
    if department_kind not in DepartmentKind.values:
        errors.add("department_kind", _("Choose the kind of department."))
    title = errors.run(
        "title",
        v.clean_text,
        title or (hazard.title if hazard is not None else ""),
        max_length=200,
        required=True,
    )
    description = errors.run(
        "description",
        v.clean_text,
        description or (hazard.description if hazard is not None else ""),
        max_length=4000,
        required=True,
    )
    location = errors.run("location", v.clean_text, location, max_length=200)
    if location and "\n" in location:
        errors.add("location", _("The location is one line."))
    deadline = errors.run("deadline", clean_deadline, deadline, now=now, required=True)
    offices = giver_offices_of(actor, school)
    if assigned_by_org is None:
        if offices:
            assigned_by_org = offices[0]
        else:
            errors.add("assigned_by_org", _("You hold no office that may give this task."))
    else:
        assigned_by_org = next((o for o in offices if o.pk == assigned_by_org.pk), None)
        if assigned_by_org is None:
            errors.add("assigned_by_org", _("Choose one of your offices that covers this school."))
    errors.raise_if_any()

    task = SurroundingsTask.objects.create(
        school=school,
        hazard=hazard,
        department=department,
        department_kind=department_kind,
        title=title,
        description=description,
        location=location or "",
        deadline=deadline,
        status=T.ASSIGNED,
        assigned_by_org=assigned_by_org,
        assigned_by=acting_user(actor),
        assigned_at=now,
    )
    audit_create(actor=actor, obj=task)
    _event(task, actor=actor, at=now, from_status="", to_status=T.ASSIGNED)
    _notify(
        task,
        event_type="tasks.assigned",
        title=_("New surroundings task for %(department)s: %(title)s"),
        body=_("%(school)s, by %(deadline)s. Open your task list to accept it."),
        recipients=_department_members(department.pk),
        actor=actor,
    )
    return task


# ------------------------------------------------------------------ moves


@transaction.atomic
def task_accept(*, actor, task: SurroundingsTask, note: str = "", now=None) -> SurroundingsTask:
    """The department takes the task on."""
    now = now or timezone.now()
    task, move = _begin(actor, task, "accept")
    errors = v.FieldErrors()
    note = errors.run("note", v.clean_text, note, max_length=2000) or ""
    errors.raise_if_any()
    task = _move(actor, task, move, now=now, note=note)
    _notify(
        task,
        event_type="tasks.accepted",
        title=_("%(department)s accepted the task: %(title)s"),
        body=_("%(school)s, by %(deadline)s."),
        recipients=[task.assigned_by_id] if task.assigned_by_id else [],
        actor=actor,
    )
    return task


@transaction.atomic
def task_feedback(*, actor, task: SurroundingsTask, feedback: str, now=None) -> SurroundingsTask:
    """The department reports what it did (text required)."""
    now = now or timezone.now()
    task, move = _begin(actor, task, "feedback")
    errors = v.FieldErrors()
    feedback = errors.run("feedback", v.clean_text, feedback, max_length=2000, required=True)
    errors.raise_if_any()
    task = _move(
        actor,
        task,
        move,
        now=now,
        note=feedback,
        feedback=feedback,
        feedback_by=acting_user(actor),
        feedback_at=now,
    )
    _notify(
        task,
        event_type="tasks.feedback",
        title=_("%(department)s reported back on: %(title)s"),
        body=_("%(school)s. Confirm the task done, or return it with a reason."),
        recipients=_giver_people(task),
        actor=actor,
    )
    return task


@transaction.atomic
def task_confirm(*, actor, task: SurroundingsTask, note: str = "", now=None) -> SurroundingsTask:
    """The giving office confirms the task done."""
    now = now or timezone.now()
    task, move = _begin(actor, task, "confirm")
    errors = v.FieldErrors()
    note = errors.run("note", v.clean_text, note, max_length=2000) or ""
    errors.raise_if_any()
    task = _move(
        actor, task, move, now=now, note=note, confirmed_by=acting_user(actor), confirmed_at=now
    )
    _notify(
        task,
        event_type="tasks.confirmed",
        title=_("Task confirmed done: %(title)s"),
        body=_("%(school)s: the office that gave the task has confirmed it."),
        recipients=_department_members(task.department_id),
        actor=actor,
    )
    return task


@transaction.atomic
def task_return(*, actor, task: SurroundingsTask, reason: str, now=None) -> SurroundingsTask:
    """The giving office returns the feedback with a reason; the department works on."""
    now = now or timezone.now()
    task, move = _begin(actor, task, "return")
    errors = v.FieldErrors()
    reason = errors.run("reason", v.clean_text, reason, max_length=2000, required=True)
    errors.raise_if_any()
    task = _move(actor, task, move, now=now, note=reason)
    _notify(
        task,
        event_type="tasks.returned",
        title=_("Task returned: %(title)s"),
        body=_("%(school)s: the feedback was not accepted; see the reason on the task."),
        recipients=_department_members(task.department_id),
        actor=actor,
    )
    return task
