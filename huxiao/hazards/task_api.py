"""REST handlers of surroundings tasks: list, detail, give (create), and the moves accept,
feedback (the department), confirm and return (the giving office).

Someone who neither gives tasks nor belongs to a department gets 403; a task the caller may
not see is 404; a move the role does not allow 403, one the state does not allow 409 with
the reason in `detail`; bad input 400.
"""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from ninja import Router, Schema, Status

from huxiao.core.api import DbId, ErrorOut, api, paginate
from huxiao.core.names import person_name
from huxiao.hazards import task_selectors as selectors
from huxiao.hazards import task_services as services
from huxiao.hazards.choices import DepartmentKind, TaskStatus
from huxiao.hazards.hazard_services import local_today
from huxiao.hazards.models import Hazard
from huxiao.orgs.models import Organization

router = Router(tags=["surroundings tasks"])


class TaskOut(Schema):
    id: int
    school_id: int
    school_name: str
    hazard_id: int | None
    department_id: int
    department_name: str
    department_kind: str
    department_kind_label: str
    title: str
    location: str
    deadline: str
    overdue: bool
    status: str
    status_label: str
    assigned_by_org_id: int
    assigned_by_org_name: str
    assigned_at: str


class TaskList(Schema):
    count: int
    items: list[TaskOut]


class TaskEventOut(Schema):
    at: str
    by: str
    from_status: str
    to_status: str
    note: str


class TaskDetailOut(TaskOut):
    description: str
    assigned_by: str
    feedback: str
    feedback_by: str
    feedback_at: str | None
    confirmed_by: str
    confirmed_at: str | None
    events: list[TaskEventOut]
    allowed_moves: list[str]


class TaskIn(Schema):
    school_id: DbId | None = None
    hazard_id: DbId | None = None
    department_id: DbId
    department_kind: str
    title: str = ""
    description: str = ""
    location: str = ""
    deadline: dt.date
    assigned_by_org_id: DbId | None = None


class NoteIn(Schema):
    note: str = ""


class FeedbackIn(Schema):
    feedback: str


class ReasonIn(Schema):
    reason: str


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _name(user) -> str:
    return person_name(user) if user is not None else ""


def task_payload(task, today: dt.date | None = None) -> dict:
    return {
        "id": task.pk,
        "school_id": task.school_id,
        "school_name": task.school.name,
        "hazard_id": task.hazard_id,
        "department_id": task.department_id,
        "department_name": task.department.name,
        "department_kind": task.department_kind,
        "department_kind_label": str(DepartmentKind(task.department_kind).label),
        "title": task.title,
        "location": task.location,
        "deadline": task.deadline.isoformat(),
        "overdue": selectors.is_overdue(task, today),
        "status": task.status,
        "status_label": str(TaskStatus(task.status).label),
        "assigned_by_org_id": task.assigned_by_org_id,
        "assigned_by_org_name": task.assigned_by_org.name,
        "assigned_at": task.assigned_at.isoformat(),
    }


def _detail(request, task_id: int) -> dict:
    task = selectors.task_get(actor=request.auth, task_id=task_id)
    data = task_payload(task)
    data.update(
        {
            "description": task.description,
            "assigned_by": _name(task.assigned_by),
            "feedback": task.feedback,
            "feedback_by": _name(task.feedback_by),
            "feedback_at": _iso(task.feedback_at),
            "confirmed_by": _name(task.confirmed_by),
            "confirmed_at": _iso(task.confirmed_at),
            "events": [
                {
                    "at": e.at.isoformat(),
                    "by": person_name(e.actor) if e.actor_id else e.actor_label,
                    "from_status": e.from_status,
                    "to_status": e.to_status,
                    "note": e.note,
                }
                for e in task.events.all()
            ],
            "allowed_moves": services.allowed_moves(request.auth, task),
        }
    )
    return data


@router.get("/hazards/tasks", response={200: TaskList, 400: ErrorOut, 403: ErrorOut})
def task_list(
    request,
    status: TaskStatus | None = None,
    school_id: DbId | None = None,
    department_id: DbId | None = None,
    overdue: bool = False,
    limit: int = 50,
    offset: int = 0,
):
    """A department's own tasks, or the tasks of the caller's schools (giving side)."""
    selectors.require_tasks(request.auth)
    today = local_today()
    qs = selectors.task_list(
        actor=request.auth,
        filters=selectors.TaskFilters(
            status=status or "",
            school_id=school_id,
            department_id=department_id,
            overdue=overdue,
        ),
        today=today,
    )
    return paginate(qs, limit=limit, offset=offset, row=lambda t: task_payload(t, today))


@router.get("/hazards/tasks/{task_id}", response={200: TaskDetailOut, 403: ErrorOut, 404: ErrorOut})
def task_detail(request, task_id: DbId):
    selectors.require_tasks(request.auth)
    return _detail(request, task_id)


@router.post(
    "/hazards/tasks", response={201: TaskDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
)
def task_create(request, payload: TaskIn):
    """Give a task of a school (`school_id`) or of a hazard (`hazard_id`) to a department."""
    selectors.require_tasks(request.auth)
    school = None
    if payload.school_id is not None:
        school = Organization.objects.visible_to(request.auth).filter(pk=payload.school_id).first()
        if school is None:
            raise Http404
    hazard = Hazard(pk=payload.hazard_id) if payload.hazard_id is not None else None
    task = services.task_create(
        actor=request.auth,
        school=school,
        hazard=hazard,
        # Not read here: the service looks it up among the school's candidate departments
        # (active, of the school's county) and answers one message for any other id.
        department=Organization(pk=payload.department_id),
        department_kind=payload.department_kind,
        title=payload.title,
        description=payload.description,
        location=payload.location,
        deadline=payload.deadline,
        assigned_by_org=(
            Organization(pk=payload.assigned_by_org_id)
            if payload.assigned_by_org_id is not None
            else None
        ),
    )
    return Status(201, _detail(request, task.pk))


_MOVE_RESPONSES = {200: TaskDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


def _move(request, task_id: int, call):
    selectors.require_tasks(request.auth)
    task = selectors.task_get(actor=request.auth, task_id=task_id)
    try:
        call(task)
    except services.TaskTransitionRefused as refused:
        return api.create_response(
            request, {"detail": refused.messages[0], "errors": {}}, status=409
        )
    return _detail(request, task_id)


@router.post("/hazards/tasks/{task_id}/accept", response=_MOVE_RESPONSES)
def task_accept(request, task_id: DbId, payload: NoteIn):
    return _move(
        request,
        task_id,
        lambda t: services.task_accept(actor=request.auth, task=t, note=payload.note),
    )


@router.post("/hazards/tasks/{task_id}/feedback", response=_MOVE_RESPONSES)
def task_feedback(request, task_id: DbId, payload: FeedbackIn):
    return _move(
        request,
        task_id,
        lambda t: services.task_feedback(actor=request.auth, task=t, feedback=payload.feedback),
    )


@router.post("/hazards/tasks/{task_id}/confirm", response=_MOVE_RESPONSES)
def task_confirm(request, task_id: DbId, payload: NoteIn):
    return _move(
        request,
        task_id,
        lambda t: services.task_confirm(actor=request.auth, task=t, note=payload.note),
    )


@router.post("/hazards/tasks/{task_id}/return", response=_MOVE_RESPONSES)
def task_return(request, task_id: DbId, payload: ReasonIn):
    return _move(
        request,
        task_id,
        lambda t: services.task_return(actor=request.auth, task=t, reason=payload.reason),
    )
