"""REST handlers of the leading group and its meetings (ADR 0027, "Leading group and
meetings"): parse → call a selector/service → return.

Groups, their members and progress reports under /supervision/groups, meetings (plan,
change, record, correct the minutes, add an action item) under /supervision/meetings, and
action items with their moves under /supervision/actions. Someone with nothing in the area
gets 403; a record outside the caller's scope is 404, exactly like one that does not
exist; a write the role does not allow is 403; one the state does not allow is 409 with the
reason in `detail`; bad input is 400 with field errors.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from huxiao.core.api import DbId, ErrorOut, api, paginate
from huxiao.core.names import person_name
from huxiao.supervision import meeting_selectors as sel
from huxiao.supervision import meeting_services as services
from huxiao.supervision.choices import ActionStatus, GroupPosition, MeetingKind, MeetingStatus

router = Router(tags=["supervision"])

# ------------------------------------------------------------------ schemas


class MemberOut(Schema):
    id: int
    name: str
    user_id: int | None
    organization_id: int
    organization_name: str
    title: str
    position: str
    position_label: str
    duties: str
    order: int
    is_active: bool


class GroupOut(Schema):
    id: int
    name: str
    region_id: int
    town_id: int | None
    owner_id: int
    owner_name: str
    established_on: str | None
    duties: str


class GroupList(Schema):
    count: int
    items: list[GroupOut]


class GroupDetailOut(GroupOut):
    may_keep: bool
    members: list[MemberOut]


class GroupIn(Schema):
    owner_id: DbId | None = None
    name: str
    established_on: dt.date | None = None
    duties: str = ""


class GroupUpdateIn(Schema):
    name: str
    established_on: dt.date | None = None
    duties: str = ""


class MemberIn(Schema):
    organization_id: DbId
    user_id: DbId | None = None
    name: str = ""
    title: str = ""
    position: GroupPosition = GroupPosition.MEMBER
    duties: str = ""
    order: int | None = None


class MemberUpdateIn(Schema):
    name: str | None = None
    title: str = ""
    position: GroupPosition
    duties: str = ""
    order: int | None = None


class CandidateOut(Schema):
    key: str
    name: str
    organization_id: int
    organization_name: str
    user_id: int | None


class AttendeeOut(Schema):
    id: int
    name: str
    user_id: int | None
    organization_id: int
    organization_name: str
    present: bool


class ActionOut(Schema):
    id: int
    meeting_id: int
    meeting_title: str
    group_id: int
    decision: str
    owner_org_id: int
    owner_org_name: str
    owner_id: int | None
    owner_name: str
    deadline: str
    status: str
    status_label: str
    overdue: bool
    escalation_level: int
    progress: str
    submitted_at: str | None
    closed_at: str | None


class ActionList(Schema):
    count: int
    items: list[ActionOut]


class EventOut(Schema):
    at: str
    by: str
    from_status: str
    to_status: str
    note: str


class ActionDetailOut(ActionOut):
    events: list[EventOut]
    allowed_moves: list[str]


class MeetingOut(Schema):
    id: int
    group_id: int
    kind: str
    kind_label: str
    title: str
    starts_at: str
    location: str
    chair: str
    status: str
    status_label: str


class MeetingList(Schema):
    count: int
    items: list[MeetingOut]


class MeetingDetailOut(MeetingOut):
    agenda: str
    minutes: str
    held_recorded_at: str | None
    minutes_editable: bool
    attendees: list[AttendeeOut]
    actions: list[ActionOut]


class MeetingIn(Schema):
    group_id: DbId
    kind: MeetingKind
    title: str
    starts_at: dt.datetime
    location: str = ""
    chair: str = ""
    agenda: str = ""
    invitees: list[str] = []


class MeetingUpdateIn(Schema):
    kind: MeetingKind
    title: str
    starts_at: dt.datetime
    location: str = ""
    chair: str = ""
    agenda: str = ""


class ActionIn(Schema):
    decision: str
    owner_org_id: DbId
    owner_id: DbId | None = None
    deadline: dt.date


class RecordIn(Schema):
    minutes: str
    absent: list[DbId] = []
    actions: list[ActionIn] = []


class MinutesIn(Schema):
    minutes: str
    absent: list[DbId] = []


class NoteIn(Schema):
    note: str = ""


class ReasonIn(Schema):
    reason: str


class ReportIn(Schema):
    period_start: dt.date
    period_end: dt.date
    summary: str = ""


class ReportOut(Schema):
    id: int
    group_id: int
    period_start: str
    period_end: str
    summary: str
    sent_at: str
    sent_by: str
    sent_to: list[str]
    figures: dict


class ReportList(Schema):
    count: int
    items: list[ReportOut]


# ------------------------------------------------------------------ payloads


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def member_payload(m) -> dict:
    return {
        "id": m.pk,
        "name": m.name,
        "user_id": m.user_id,
        "organization_id": m.organization_id,
        "organization_name": m.organization.name,
        "title": m.title,
        "position": m.position,
        "position_label": str(GroupPosition(m.position).label),
        "duties": m.duties,
        "order": m.order,
        "is_active": m.is_active,
    }


def group_payload(g) -> dict:
    return {
        "id": g.pk,
        "name": g.name,
        "region_id": g.region_id,
        "town_id": g.town_id,
        "owner_id": g.owner_id,
        "owner_name": g.owner.name,
        "established_on": _iso(g.established_on),
        "duties": g.duties,
    }


def _group_detail(request, group_id: int) -> dict:
    group = sel.group_get(actor=request.auth, group_id=group_id)
    data = group_payload(group)
    data["may_keep"] = sel.may_keep(request.auth, group)
    data["members"] = [member_payload(m) for m in group.members.all()]
    return data


def action_payload(a, today: dt.date | None = None) -> dict:
    return {
        "id": a.pk,
        "meeting_id": a.meeting_id,
        "meeting_title": a.meeting.title,
        "group_id": a.meeting.group_id,
        "decision": a.decision,
        "owner_org_id": a.owner_org_id,
        "owner_org_name": a.owner_org.name,
        "owner_id": a.owner_id,
        "owner_name": person_name(a.owner) if a.owner_id else "",
        "deadline": a.deadline.isoformat(),
        "status": a.status,
        "status_label": str(ActionStatus(a.status).label),
        "overdue": sel.is_overdue(a, today),
        "escalation_level": a.escalation_level,
        "progress": a.progress,
        "submitted_at": _iso(a.submitted_at),
        "closed_at": _iso(a.closed_at),
    }


def _action_detail(request, action_id: int) -> dict:
    item = sel.action_get(actor=request.auth, action_id=action_id)
    data = action_payload(item)
    data["events"] = [
        {
            "at": e.at.isoformat(),
            "by": person_name(e.actor) if e.actor_id else e.actor_label,
            "from_status": e.from_status,
            "to_status": e.to_status,
            "note": e.note,
        }
        for e in item.events.all()
    ]
    data["allowed_moves"] = services.allowed_moves(request.auth, item)
    return data


def meeting_payload(m) -> dict:
    return {
        "id": m.pk,
        "group_id": m.group_id,
        "kind": m.kind,
        "kind_label": str(MeetingKind(m.kind).label),
        "title": m.title,
        "starts_at": timezone.localtime(m.starts_at).isoformat(),
        "location": m.location,
        "chair": m.chair,
        "status": m.status,
        "status_label": str(MeetingStatus(m.status).label),
    }


def _meeting_detail(request, meeting_id: int) -> dict:
    meeting = sel.meeting_get(actor=request.auth, meeting_id=meeting_id)
    today = sel.local_today()
    data = meeting_payload(meeting)
    data.update(
        {
            "agenda": meeting.agenda,
            "minutes": meeting.minutes,
            "held_recorded_at": _iso(meeting.held_recorded_at),
            "minutes_editable": services.minutes_editable(meeting),
            "attendees": [
                {
                    "id": a.pk,
                    "name": a.name,
                    "user_id": a.user_id,
                    "organization_id": a.organization_id,
                    "organization_name": a.organization.name,
                    "present": a.present,
                }
                for a in meeting.attendees.all()
            ],
            "actions": [],
        }
    )
    for item in meeting.actions.all():
        item.meeting = meeting
        data["actions"].append(action_payload(item, today))
    return data


def report_payload(r) -> dict:
    return {
        "id": r.pk,
        "group_id": r.group_id,
        "period_start": r.period_start.isoformat(),
        "period_end": r.period_end.isoformat(),
        "summary": r.summary,
        "sent_at": r.sent_at.isoformat(),
        "sent_by": person_name(r.sent_by) if r.sent_by_id else "",
        "sent_to": [o.name for o in r.sent_to.all()],
        "figures": r.snapshot,
    }


def _conflict(request, exc: services.MeetingConflict):
    return api.create_response(request, {"detail": exc.messages[0], "errors": {}}, status=409)


# ------------------------------------------------------------------ groups


@router.get("/supervision/groups", response={200: GroupList, 403: ErrorOut})
def group_list(request, limit: int = 50, offset: int = 0):
    """The leading groups the caller sees (their town's; a county office's, the county's)."""
    sel.require_area(request.auth)
    return paginate(
        sel.group_list(actor=request.auth), limit=limit, offset=offset, row=group_payload
    )


@router.post(
    "/supervision/groups",
    response={201: GroupDetailOut, 400: ErrorOut, 403: ErrorOut, 409: ErrorOut},
)
def group_create(request, payload: GroupIn):
    """Set up the leading group of the caller's town (or county); one per town (409).
    `owner_id`: the keeping organization, when the caller keeps groups in several places."""
    places = sel.keep_places(request.auth)
    if not places:
        sel.require_area(request.auth)
        raise PermissionDenied(_("Your role does not allow this action."))
    owner = places[0]
    if payload.owner_id is not None:
        owner = next((p for p in places if p.pk == payload.owner_id), None)
        if owner is None:
            raise PermissionDenied(_("Your role does not allow this action."))
    try:
        group = services.group_create(
            actor=request.auth,
            owner=owner,
            name=payload.name,
            established_on=payload.established_on,
            duties=payload.duties,
        )
    except services.MeetingConflict as exc:
        return _conflict(request, exc)
    return Status(201, _group_detail(request, group.pk))


@router.get(
    "/supervision/groups/{group_id}", response={200: GroupDetailOut, 403: ErrorOut, 404: ErrorOut}
)
def group_detail(request, group_id: DbId):
    sel.require_area(request.auth)
    return _group_detail(request, group_id)


@router.patch(
    "/supervision/groups/{group_id}",
    response={200: GroupDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def group_update(request, group_id: DbId, payload: GroupUpdateIn):
    sel.require_area(request.auth)
    group = sel.group_get(actor=request.auth, group_id=group_id)
    services.group_update(
        actor=request.auth,
        group=group,
        name=payload.name,
        established_on=payload.established_on,
        duties=payload.duties,
    )
    return _group_detail(request, group_id)


@router.get(
    "/supervision/groups/{group_id}/invitees",
    response={200: list[CandidateOut], 403: ErrorOut, 404: ErrorOut},
)
def group_invitees(request, group_id: DbId):
    """Who may be invited to the group's meetings: `key` goes into a meeting's `invitees`."""
    sel.require_area(request.auth)
    group = sel.group_get(actor=request.auth, group_id=group_id)
    sel.require_keep(request.auth, group)
    return [
        {
            "key": c.key,
            "name": c.name,
            "organization_id": c.organization_id,
            "organization_name": c.organization_name,
            "user_id": c.user_id,
        }
        for c in sel.invitee_candidates(group)
    ]


@router.post(
    "/supervision/groups/{group_id}/members",
    response={201: MemberOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def member_add(request, group_id: DbId, payload: MemberIn):
    """Add a member: `user_id` (an active member of the organization) or a `name`."""
    sel.require_area(request.auth)
    group = sel.group_get(actor=request.auth, group_id=group_id)
    member = services.member_add(
        actor=request.auth,
        group=group,
        organization_id=payload.organization_id,
        user_id=payload.user_id,
        name=payload.name,
        title=payload.title,
        position=payload.position,
        duties=payload.duties,
        order=payload.order,
    )
    return Status(201, member_payload(member))


@router.patch(
    "/supervision/groups/{group_id}/members/{member_id}",
    response={200: MemberOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def member_update(request, group_id: DbId, member_id: DbId, payload: MemberUpdateIn):
    sel.require_area(request.auth)
    member = sel.member_get(actor=request.auth, member_id=member_id)
    if member.group_id != group_id:
        raise Http404
    try:
        member = services.member_update(
            actor=request.auth,
            member=member,
            name=payload.name,
            title=payload.title,
            position=payload.position,
            duties=payload.duties,
            order=payload.order,
        )
    except services.MeetingConflict as exc:
        return _conflict(request, exc)
    return member_payload(member)


@router.post(
    "/supervision/groups/{group_id}/members/{member_id}/deactivate",
    response={200: MemberOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def member_deactivate(request, group_id: DbId, member_id: DbId):
    """The member leaves the group; the record stays (is_active false)."""
    sel.require_area(request.auth)
    member = sel.member_get(actor=request.auth, member_id=member_id)
    if member.group_id != group_id:
        raise Http404
    try:
        member = services.member_deactivate(actor=request.auth, member=member)
    except services.MeetingConflict as exc:
        return _conflict(request, exc)
    return member_payload(member)


# ------------------------------------------------------------------ progress reports


@router.get(
    "/supervision/groups/{group_id}/reports",
    response={200: ReportList, 403: ErrorOut, 404: ErrorOut},
)
def report_list(request, group_id: DbId, limit: int = 50, offset: int = 0):
    sel.require_area(request.auth)
    group = sel.group_get(actor=request.auth, group_id=group_id)
    qs = sel.report_list(actor=request.auth, group=group).prefetch_related("sent_to")
    return paginate(qs, limit=limit, offset=offset, row=report_payload)


@router.get(
    "/supervision/groups/{group_id}/reports/preview",
    response={200: dict, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def report_preview(request, group_id: DbId, period_start: dt.date, period_end: dt.date):
    """The figures a report for the period would carry, without sending it."""
    sel.require_area(request.auth)
    group = sel.group_get(actor=request.auth, group_id=group_id)
    sel.require_keep(request.auth, group)
    start, end = services.clean_period(period_start, period_end)
    return sel.progress_figures(group, start, end, sel.local_today())


@router.post(
    "/supervision/groups/{group_id}/reports",
    response={201: ReportOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def report_send(request, group_id: DbId, payload: ReportIn):
    """Build the figures for the period, keep them and send them to the government."""
    sel.require_area(request.auth)
    group = sel.group_get(actor=request.auth, group_id=group_id)
    report = services.report_send(
        actor=request.auth,
        group=group,
        period_start=payload.period_start,
        period_end=payload.period_end,
        summary=payload.summary,
    )
    return Status(201, report_payload(sel.report_get(actor=request.auth, report_id=report.pk)))


@router.get(
    "/supervision/groups/{group_id}/reports/{report_id}",
    response={200: ReportOut, 403: ErrorOut, 404: ErrorOut},
)
def report_detail(request, group_id: DbId, report_id: DbId):
    sel.require_area(request.auth)
    report = sel.report_get(actor=request.auth, report_id=report_id)
    if report.group_id != group_id:
        raise Http404
    return report_payload(report)


# ------------------------------------------------------------------ meetings


@router.get("/supervision/meetings", response={200: MeetingList, 400: ErrorOut, 403: ErrorOut})
def meeting_list(
    request,
    group_id: DbId | None = None,
    status: MeetingStatus | None = None,
    limit: int = 50,
    offset: int = 0,
):
    """Meetings the caller sees, newest first."""
    sel.require_any_membership(request.auth)
    qs = sel.meeting_list(actor=request.auth, group_id=group_id, status=status or "")
    return paginate(qs, limit=limit, offset=offset, row=meeting_payload)


@router.post(
    "/supervision/meetings",
    response={201: MeetingDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def meeting_plan(request, payload: MeetingIn):
    """Plan a meeting and invite people (`invitees`: keys from
    /supervision/groups/{id}/invitees)."""
    sel.require_area(request.auth)
    group = sel.group_get(actor=request.auth, group_id=payload.group_id)
    meeting = services.meeting_plan(
        actor=request.auth,
        group=group,
        kind=payload.kind,
        title=payload.title,
        starts_at=payload.starts_at,
        location=payload.location,
        chair=payload.chair,
        agenda=payload.agenda,
        invitees=payload.invitees,
    )
    return Status(201, _meeting_detail(request, meeting.pk))


@router.get(
    "/supervision/meetings/{meeting_id}",
    response={200: MeetingDetailOut, 403: ErrorOut, 404: ErrorOut},
)
def meeting_detail(request, meeting_id: DbId):
    sel.require_any_membership(request.auth)
    return _meeting_detail(request, meeting_id)


def _write(request, call, then):
    try:
        call()
    except services.MeetingConflict as exc:
        return _conflict(request, exc)
    return then()


_MEETING_WRITE = {
    200: MeetingDetailOut,
    400: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
}


@router.patch("/supervision/meetings/{meeting_id}", response=_MEETING_WRITE)
def meeting_update(request, meeting_id: DbId, payload: MeetingUpdateIn):
    """Change a planned meeting (409 once it is held)."""
    sel.require_any_membership(request.auth)
    meeting = sel.meeting_get(actor=request.auth, meeting_id=meeting_id)
    return _write(
        request,
        lambda: services.meeting_update(
            actor=request.auth,
            meeting=meeting,
            kind=payload.kind,
            title=payload.title,
            starts_at=payload.starts_at,
            location=payload.location,
            chair=payload.chair,
            agenda=payload.agenda,
        ),
        lambda: _meeting_detail(request, meeting_id),
    )


@router.post("/supervision/meetings/{meeting_id}/record", response=_MEETING_WRITE)
def meeting_record(request, meeting_id: DbId, payload: RecordIn):
    """Record the meeting as held: minutes (required), `absent` attendee ids, and its
    decisions as action items. All or nothing."""
    sel.require_any_membership(request.auth)
    meeting = sel.meeting_get(actor=request.auth, meeting_id=meeting_id)
    return _write(
        request,
        lambda: services.meeting_record(
            actor=request.auth,
            meeting=meeting,
            minutes=payload.minutes,
            absent_ids=payload.absent,
            actions=[a.model_dump() for a in payload.actions],
        ),
        lambda: _meeting_detail(request, meeting_id),
    )


@router.put("/supervision/meetings/{meeting_id}/minutes", response=_MEETING_WRITE)
def meeting_minutes(request, meeting_id: DbId, payload: MinutesIn):
    """Correct the minutes and the attendance, within a week of recording them (409
    after)."""
    sel.require_any_membership(request.auth)
    meeting = sel.meeting_get(actor=request.auth, meeting_id=meeting_id)
    return _write(
        request,
        lambda: services.meeting_minutes_edit(
            actor=request.auth, meeting=meeting, minutes=payload.minutes, absent_ids=payload.absent
        ),
        lambda: _meeting_detail(request, meeting_id),
    )


@router.post(
    "/supervision/meetings/{meeting_id}/actions",
    response={201: ActionDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def meeting_action_add(request, meeting_id: DbId, payload: ActionIn):
    """One more decision of a held meeting, while its minutes may be corrected."""
    sel.require_any_membership(request.auth)
    meeting = sel.meeting_get(actor=request.auth, meeting_id=meeting_id)
    try:
        item = services.action_add(
            actor=request.auth,
            meeting=meeting,
            decision=payload.decision,
            owner_org_id=payload.owner_org_id,
            owner_id=payload.owner_id,
            deadline=payload.deadline,
        )
    except services.MeetingConflict as exc:
        return _conflict(request, exc)
    return Status(201, _action_detail(request, item.pk))


# ------------------------------------------------------------------ action items


@router.get("/supervision/actions", response={200: ActionList, 400: ErrorOut, 403: ErrorOut})
def action_list(
    request,
    group_id: DbId | None = None,
    meeting_id: DbId | None = None,
    owner_org_id: DbId | None = None,
    status: ActionStatus | None = None,
    overdue: bool = False,
    mine: bool = False,
    limit: int = 50,
    offset: int = 0,
):
    """Action items the caller sees, by deadline; `overdue` keeps those in the owner's hands
    past their deadline, `mine` those the caller answers for."""
    sel.require_any_membership(request.auth)
    today = sel.local_today()
    qs = sel.action_list(
        actor=request.auth,
        filters=sel.ActionFilters(
            group_id=group_id,
            meeting_id=meeting_id,
            owner_org_id=owner_org_id,
            status=status or "",
            overdue=overdue,
            mine=mine,
        ),
        today=today,
    )
    return paginate(qs, limit=limit, offset=offset, row=lambda a: action_payload(a, today))


@router.get(
    "/supervision/actions/{action_id}",
    response={200: ActionDetailOut, 403: ErrorOut, 404: ErrorOut},
)
def action_detail(request, action_id: DbId):
    sel.require_any_membership(request.auth)
    return _action_detail(request, action_id)


_MOVE = {200: ActionDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


def _move(request, action_id: int, call):
    sel.require_any_membership(request.auth)
    item = sel.action_get(actor=request.auth, action_id=action_id)
    return _write(request, lambda: call(item), lambda: _action_detail(request, action_id))


@router.post("/supervision/actions/{action_id}/start", response=_MOVE)
def action_start(request, action_id: DbId, payload: NoteIn):
    """The responsible side starts the work (optional first progress note)."""
    return _move(
        request,
        action_id,
        lambda i: services.action_start(actor=request.auth, item=i, note=payload.note),
    )


@router.post("/supervision/actions/{action_id}/progress", response=_MOVE)
def action_progress(request, action_id: DbId, payload: NoteIn):
    """A progress note (required) on an item in progress."""
    return _move(
        request,
        action_id,
        lambda i: services.action_progress(actor=request.auth, item=i, note=payload.note),
    )


@router.post("/supervision/actions/{action_id}/submit", response=_MOVE)
def action_submit(request, action_id: DbId, payload: NoteIn):
    """Report the item done, saying what was done (required)."""
    return _move(
        request,
        action_id,
        lambda i: services.action_submit(actor=request.auth, item=i, note=payload.note),
    )


@router.post("/supervision/actions/{action_id}/close", response=_MOVE)
def action_close(request, action_id: DbId, payload: NoteIn):
    """The group's office closes an item reported done (never its own)."""
    return _move(
        request,
        action_id,
        lambda i: services.action_close(actor=request.auth, item=i, note=payload.note),
    )


@router.post("/supervision/actions/{action_id}/send-back", response=_MOVE)
def action_send_back(request, action_id: DbId, payload: ReasonIn):
    """The group's office sends an item reported done back, with a reason."""
    return _move(
        request,
        action_id,
        lambda i: services.action_send_back(actor=request.auth, item=i, reason=payload.reason),
    )
