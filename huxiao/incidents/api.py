"""REST handlers for incidents: parse → call a selector/service → return the incident.

Every write answers with the whole incident (groups, tasks, timeline) so that a client
redraws from one response.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from ninja import Router, Status

from huxiao.core.api import DbId, paginate
from huxiao.incidents import rules, selectors, services
from huxiao.incidents.schemas import (
    CloseIn,
    IncidentList,
    IncidentOpenIn,
    IncidentOut,
    MemberIn,
    NoteIn,
    PersonIn,
    TaskIn,
)

router = Router(tags=["incidents"])


def _iso(value):
    return value.isoformat() if value else None


def _person(user):
    if user is None:
        return None
    return {"id": user.pk, "name": services.display_name(user)}


def _summary(incident) -> dict:
    return {
        "id": incident.pk,
        "school_id": incident.school_id,
        "school_name": incident.school.name,
        "alarm_id": incident.alarm_id,
        "title": incident.title,
        "status": incident.status,
        "status_label": str(incident.get_status_display()),
        "is_drill": incident.is_drill,
        "opened_at": incident.opened_at.isoformat(),
        "opened_by": services.display_name(incident.opened_by) or None,
        "commander": _person(incident.commander),
        "closed_at": _iso(incident.closed_at),
    }


def incident_payload(incident, *, actor) -> dict:
    groups = selectors.incident_groups(incident=incident)
    data = _summary(incident)
    data.update(
        closed_by=services.display_name(incident.closed_by) or None,
        summary=incident.summary,
        casualties=incident.casualties,
        actions_taken=incident.actions_taken,
        lessons=incident.lessons,
        can_manage=rules.can_manage(actor, incident.school_id),
        groups=[
            {
                "kind": g.kind,
                "label": str(g.get_kind_display()),
                "leader": _person(g.leader),
                "members": [
                    {
                        "id": m.pk,
                        "user": _person(m.user),
                        "organization_id": m.organization_id,
                        "organization_name": m.organization.name,
                        "role": m.role,
                        "is_leader": m.user_id == g.leader_id,
                    }
                    for m in g.members.all()
                ],
            }
            for g in groups
        ],
        tasks=[
            {
                "id": t.pk,
                "title": t.title,
                "group": t.group.kind if t.group_id else "",
                "owner": _person(t.owner),
                "due_at": t.due_at.isoformat(),
                "status": t.status,
                "overdue": t.overdue,
                "done_at": _iso(t.done_at),
                "done_by": services.display_name(t.done_by) or None,
            }
            for t in selectors.incident_tasks(incident=incident)
        ],
        timeline=[
            {
                "source": e.source,
                "type": e.type,
                "label": e.label,
                "at": e.at.isoformat(),
                "by": e.by,
                "text": e.text,
                "data": e.data,
            }
            for e in selectors.incident_timeline(incident=incident)
        ],
    )
    return data


def _user(user_id):
    """A user by id, or None: the service answers both "no such person" and "not eligible"
    with the same field error."""
    return get_user_model().objects.filter(pk=user_id).first()


def _detail(request, incident_id, *, status=200):
    incident = selectors.incident_get(actor=request.auth, incident_id=incident_id)
    return Status(status, incident_payload(incident, actor=request.auth))


@router.get("/incidents", response=IncidentList)
def incident_list(
    request,
    status: str = "",
    school_id: DbId | None = None,
    limit: int = 50,
    offset: int = 0,
):
    qs = selectors.incident_list(actor=request.auth, status=status[:20], school_id=school_id)
    return paginate(qs, limit=limit, offset=offset, row=_summary)


@router.post("/incidents", response={200: IncidentOut, 201: IncidentOut})
def incident_open(request, payload: IncidentOpenIn):
    """Open the incident of an alarm (201); if it is already open, return it (200)."""
    from huxiao.alarms.selectors import alarm_get

    alarm = alarm_get(actor=request.auth, alarm_id=payload.alarm_id)
    incident, created = services.incident_open_from_alarm(
        actor=request.auth, alarm=alarm, title=payload.title
    )
    return _detail(request, incident.pk, status=201 if created else 200)


@router.get("/incidents/{incident_id}", response=IncidentOut)
def incident_detail(request, incident_id: DbId):
    return _detail(request, incident_id)


@router.post("/incidents/{incident_id}/commander", response=IncidentOut)
def incident_commander(request, incident_id: DbId, payload: PersonIn):
    incident = selectors.incident_get(actor=request.auth, incident_id=incident_id)
    services.incident_commander_set(
        actor=request.auth, incident=incident, user=_user(payload.user_id)
    )
    return _detail(request, incident_id)


@router.post("/incidents/{incident_id}/members", response={201: IncidentOut})
def incident_member_add(request, incident_id: DbId, payload: MemberIn):
    incident = selectors.incident_get(actor=request.auth, incident_id=incident_id)
    services.incident_member_add(
        actor=request.auth,
        incident=incident,
        group_kind=payload.group,
        user=_user(payload.user_id),
        organization=payload.organization_id,
        role=payload.role,
        leader=payload.leader,
    )
    return _detail(request, incident_id, status=201)


@router.delete("/incidents/{incident_id}/members/{member_id}", response=IncidentOut)
def incident_member_remove(request, incident_id: DbId, member_id: DbId):
    incident = selectors.incident_get(actor=request.auth, incident_id=incident_id)
    member = selectors.member_get(incident=incident, member_id=member_id)
    services.incident_member_remove(actor=request.auth, member=member)
    return _detail(request, incident_id)


@router.post("/incidents/{incident_id}/groups/{group}/leader", response=IncidentOut)
def incident_leader(request, incident_id: DbId, group: str, payload: PersonIn):
    incident = selectors.incident_get(actor=request.auth, incident_id=incident_id)
    services.incident_leader_set(
        actor=request.auth, incident=incident, group_kind=group, user=_user(payload.user_id)
    )
    return _detail(request, incident_id)


@router.post("/incidents/{incident_id}/tasks", response={201: IncidentOut})
def incident_task_add(request, incident_id: DbId, payload: TaskIn):
    incident = selectors.incident_get(actor=request.auth, incident_id=incident_id)
    services.task_add(
        actor=request.auth,
        incident=incident,
        title=payload.title,
        owner=_user(payload.owner_id),
        due_at=payload.due_at,
        group_kind=payload.group,
    )
    return _detail(request, incident_id, status=201)


@router.post("/incidents/{incident_id}/tasks/{task_id}/complete", response=IncidentOut)
def incident_task_complete(request, incident_id: DbId, task_id: DbId):
    """No body, like the alarm's acknowledge: a remark goes to /notes."""
    incident = selectors.incident_get(actor=request.auth, incident_id=incident_id)
    task = selectors.task_get(incident=incident, task_id=task_id)
    services.task_complete(actor=request.auth, task=task)
    return _detail(request, incident_id)


@router.post("/incidents/{incident_id}/notes", response={201: IncidentOut})
def incident_note(request, incident_id: DbId, payload: NoteIn):
    incident = selectors.incident_get(actor=request.auth, incident_id=incident_id)
    services.incident_note_add(actor=request.auth, incident=incident, text=payload.text)
    return _detail(request, incident_id, status=201)


@router.post("/incidents/{incident_id}/close", response=IncidentOut)
def incident_close(request, incident_id: DbId, payload: CloseIn):
    incident = selectors.incident_get(actor=request.auth, incident_id=incident_id)
    services.incident_close(
        actor=request.auth,
        incident=incident,
        summary=payload.summary,
        casualties=payload.casualties,
        actions_taken=payload.actions_taken,
        lessons=payload.lessons,
    )
    return _detail(request, incident_id)
