"""REST handlers of safety activities (issue 8 item 1; ADR 0030): parse → call a selector or
service → return, with the same rights as the pages.

- GET    /drills/activities?school_id=&kind=&status=&date_from=&date_to=&police_officer_id=
         &unconfirmed=                                  activities in scope (VIEW)
- POST   /drills/activities                             plan or record one (201)
- GET    /drills/activities/{id}                        one activity with files and drill record
- PUT    /drills/activities/{id}                        change it (every field)
- POST   /drills/activities/{id}/cancel                 cancel a planned one with a reason
- POST   /drills/activities/{id}/confirm-presence       the named officer confirms
- POST   /drills/activities/{id}/attachments            add files (multipart, 201)
- GET    /drills/activities/{id}/attachments/{file_id}  the file (scoped)
- DELETE /drills/activities/{id}/attachments/{file_id}  remove a file (204)
- GET    /drills/schools/{id}/police-officers           the officers the school may name

Out of scope is 404, exactly like a record that does not exist; the wrong role 403; a step
the state does not allow 409 with the reason in `detail`; bad input 400 with `errors`.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import File, Router, Schema, Status, UploadedFile
from pydantic import Field

from huxiao.core.api import DbId, ErrorOut, api, paginate
from huxiao.core.names import person_name
from huxiao.drills import activity_selectors as sel
from huxiao.drills import activity_services as services
from huxiao.drills.choices import ActivityStatus
from huxiao.intel.warnings_api import attachment_response

router = Router(tags=["drills: activities"])
TEXT = 20000


# ------------------------------------------------------------------ schemas


class NamedOut(Schema):
    id: int
    name: str


class FileOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    url: str


class DrillBriefOut(Schema):
    signal_at: dt.datetime | None
    all_out_at: dt.datetime | None
    duration_seconds: int | None
    expected_headcount: int | None
    counted_headcount: int | None
    alarm_id: int | None


class ActivityOut(Schema):
    id: int
    school_id: int
    school_name: str
    kind: str
    kind_label: str
    drill_kind: str
    drill_kind_label: str
    status: str
    status_label: str
    title: str
    date: dt.date
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    location: str
    organiser_name: str
    whole_school: bool
    classes: list[NamedOut]
    headcount: int | None
    police_officer: NamedOut | None
    police_confirmed_at: dt.datetime | None
    content: str
    outcome: str
    cancel_reason: str
    attachment_count: int
    drill: DrillBriefOut | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ActivityDetailOut(ActivityOut):
    attachments: list[FileOut]


class ActivityPage(Schema):
    count: int
    items: list[ActivityOut]


class ActivityIn(Schema):
    status: str = Field(ActivityStatus.PLANNED.value, max_length=20)
    kind: str = Field(max_length=40)
    drill_kind: str = Field("", max_length=40)
    title: str = Field("", max_length=TEXT)
    starts_at: dt.datetime
    ends_at: dt.datetime | None = None
    location: str = Field("", max_length=TEXT)
    organiser_name: str = Field("", max_length=TEXT)
    whole_school: bool = False
    classes: list[DbId] = Field(default_factory=list, max_length=500)
    headcount: int | None = None
    police_officer: DbId | None = None
    content: str = Field("", max_length=TEXT)
    outcome: str = Field("", max_length=TEXT)


class ActivityCreateIn(ActivityIn):
    school_id: DbId


class CancelIn(Schema):
    reason: str = Field(max_length=TEXT)


# ------------------------------------------------------------------ payloads


def _named(obj, name: str) -> dict | None:
    return {"id": obj.pk, "name": name} if obj is not None else None


def drill_brief(activity) -> dict | None:
    record = getattr(activity, "drill", None)
    if record is None:
        return None
    return {
        "signal_at": record.signal_at,
        "all_out_at": record.all_out_at,
        "duration_seconds": record.duration_seconds,
        "expected_headcount": record.expected_headcount,
        "counted_headcount": record.counted_headcount,
        "alarm_id": record.alarm_id,
    }


def activity_payload(activity) -> dict:
    count = getattr(activity, "attachment_count", None)
    return {
        "id": activity.pk,
        "school_id": activity.school_id,
        "school_name": activity.school.name,
        "kind": activity.kind,
        "kind_label": str(sel.KIND_LABELS.get(activity.kind, "")),
        "drill_kind": activity.drill_kind,
        "drill_kind_label": str(sel.DRILL_KIND_LABELS.get(activity.drill_kind, "")),
        "status": activity.status,
        "status_label": str(sel.STATUS_LABELS.get(activity.status, "")),
        "title": activity.title,
        "date": activity.date,
        "starts_at": activity.starts_at,
        "ends_at": activity.ends_at,
        "location": activity.location,
        "organiser_name": activity.organiser_name,
        "whole_school": activity.whole_school,
        "classes": [{"id": c.pk, "name": c.name} for c in activity.classes.all()],
        "headcount": activity.headcount,
        "police_officer": _named(activity.police_officer, person_name(activity.police_officer)),
        "police_confirmed_at": activity.police_confirmed_at,
        "content": activity.content,
        "outcome": activity.outcome,
        "cancel_reason": activity.cancel_reason,
        "attachment_count": count if count is not None else activity.attachments.count(),
        "drill": drill_brief(activity),
        "created_at": activity.created_at,
        "updated_at": activity.updated_at,
    }


def file_url(activity_id: int, attachment_id: int) -> str:
    return reverse(
        "api:drills_activity_attachment",
        kwargs={"activity_id": activity_id, "attachment_id": attachment_id},
    )


def detail_payload(request, activity_id) -> dict:
    activity = sel.activity_get(actor=request.auth, activity_id=activity_id)
    files = list(activity.attachments.all())
    activity.attachment_count = len(files)
    return {
        **activity_payload(activity),
        "attachments": [
            {
                "id": f.pk,
                "name": f.original_name,
                "content_type": f.content_type,
                "size": f.size,
                "url": file_url(activity.pk, f.pk),
            }
            for f in files
        ],
    }


def refused(request, exc: services.ActivityRefused):
    return api.create_response(request, {"detail": exc.messages[0], "errors": {}}, status=409)


def _check_day(day, field: str):
    if day is not None and not sel.EARLIEST <= day <= sel.latest_day():
        raise ValidationError(
            {
                field: [
                    _("Choose a date between %(first)s and %(last)s.")
                    % {"first": sel.EARLIEST.isoformat(), "last": sel.latest_day().isoformat()}
                ]
            }
        )
    return day


# ------------------------------------------------------------------ activities

_ONE = {200: ActivityDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


@router.get(
    "/drills/activities", response={200: ActivityPage, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
)
def activity_list(
    request,
    school_id: DbId | None = None,
    kind: str = "",
    status: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    police_officer_id: DbId | None = None,
    unconfirmed: bool = False,
    limit: int = 50,
    offset: int = 0,
):
    """Activities in scope, newest first; `school_id` narrows to one school (404 out of
    scope); `police_officer_id` with `unconfirmed=true` lists what an officer is to
    confirm."""
    sel.require_any(request.auth)
    if school_id is not None:
        sel.school_get(actor=request.auth, school_id=school_id)
    filters = sel.ActivityFilters(
        school_id=school_id,
        kind=kind[:40],
        status=status[:20],
        date_from=_check_day(date_from, "date_from"),
        date_to=_check_day(date_to, "date_to"),
        police_officer_id=police_officer_id,
        unconfirmed=unconfirmed,
    )
    qs = sel.activity_list(actor=request.auth, filters=filters)
    return paginate(qs, limit=limit, offset=offset, row=activity_payload)


@router.post(
    "/drills/activities",
    response={201: ActivityDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def activity_create(request, payload: ActivityCreateIn):
    """Plan an activity (`status` planned) or record one that took place (held)."""
    data = payload.model_dump()
    school_id = data.pop("school_id")
    activity = services.activity_create(actor=request.auth, school_id=school_id, **data)
    return Status(201, detail_payload(request, activity.pk))


@router.get("/drills/activities/{activity_id}", response={200: ActivityDetailOut, 404: ErrorOut})
def activity_detail(request, activity_id: DbId):
    return detail_payload(request, activity_id)


@router.put("/drills/activities/{activity_id}", response=_ONE)
def activity_update(request, activity_id: DbId, payload: ActivityIn):
    """Change every field at once; a planned activity becomes one that took place with
    `status` held."""
    try:
        services.activity_update(
            actor=request.auth, activity_id=activity_id, **payload.model_dump()
        )
    except services.ActivityRefused as exc:
        return refused(request, exc)
    return detail_payload(request, activity_id)


@router.post("/drills/activities/{activity_id}/cancel", response=_ONE)
def activity_cancel(request, activity_id: DbId, payload: CancelIn):
    try:
        services.activity_cancel(actor=request.auth, activity_id=activity_id, reason=payload.reason)
    except services.ActivityRefused as exc:
        return refused(request, exc)
    return detail_payload(request, activity_id)


@router.post("/drills/activities/{activity_id}/confirm-presence", response=_ONE)
def activity_confirm(request, activity_id: DbId):
    """The officer named on a held activity confirms their presence (again: no change)."""
    try:
        services.activity_confirm_presence(actor=request.auth, activity_id=activity_id)
    except services.ActivityRefused as exc:
        return refused(request, exc)
    return detail_payload(request, activity_id)


# ------------------------------------------------------------------ files


@router.post(
    "/drills/activities/{activity_id}/attachments",
    response={201: ActivityDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def activity_attach(request, activity_id: DbId, files: File[list[UploadedFile]]):
    try:
        services.activity_attach(actor=request.auth, activity_id=activity_id, files=files)
    except services.ActivityRefused as exc:
        return refused(request, exc)
    return Status(201, detail_payload(request, activity_id))


@router.get(
    "/drills/activities/{activity_id}/attachments/{attachment_id}",
    url_name="drills_activity_attachment",
)
def activity_attachment(request, activity_id: DbId, attachment_id: DbId):
    attachment = sel.attachment_get(
        actor=request.auth, activity_id=activity_id, attachment_id=attachment_id
    )
    return attachment_response(attachment)


@router.delete(
    "/drills/activities/{activity_id}/attachments/{attachment_id}",
    response={204: None, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def activity_attachment_delete(request, activity_id: DbId, attachment_id: DbId):
    try:
        services.activity_attachment_delete(
            actor=request.auth, activity_id=activity_id, attachment_id=attachment_id
        )
    except services.ActivityRefused as exc:
        return refused(request, exc)
    return Status(204, None)


@router.get(
    "/drills/schools/{school_id}/police-officers",
    response={200: list[NamedOut], 404: ErrorOut},
)
def police_officers(request, school_id: DbId):
    """The officers of the school's police station and post: who may be named present."""
    school = sel.school_get(actor=request.auth, school_id=school_id)
    return [{"id": u.pk, "name": person_name(u)} for u in sel.police_officers(school)]
