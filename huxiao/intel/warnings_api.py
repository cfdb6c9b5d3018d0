"""REST handlers of warnings both ways (ADR 0019): parse → call → return.

Mounted under the intel router (`/warning-signs/…`, `/early-warnings/…`). A role that may
use neither side gets 403 on the lists; a record outside the caller's scope is 404.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Router, Status, UploadedFile

from huxiao.core.api import DbId, paginate
from huxiao.core.names import person_name
from huxiao.core.roles import Action
from huxiao.core.scoping import visible_school_ids
from huxiao.intel import warnings_selectors as selectors
from huxiao.intel import warnings_services as services
from huxiao.intel.warnings_choices import SignStatus, TimeNode
from huxiao.intel.warnings_schemas import (
    EarlyIn,
    EarlyOut,
    EarlyPage,
    SignIn,
    SignOut,
    SignPage,
    TransitionIn,
)
from huxiao.orgs.models import Organization

router = Router(tags=["intel: warnings"])


def attachment_url(sign_id: int, attachment_id: int) -> str:
    return reverse(
        "api:warning_sign_attachment", kwargs={"sign_id": sign_id, "attachment_id": attachment_id}
    )


def sign_payload(sign, *, detail: bool = False) -> dict:
    data = {
        "id": sign.pk,
        "school": {"id": sign.school_id, "name": sign.school.name},
        "category": sign.category,
        "category_label": str(sign.get_category_display()),
        "description": sign.description,
        "observed_at": sign.observed_at,
        "observed_place": sign.observed_place,
        "time_node": sign.time_node,
        "time_node_label": str(TimeNode(sign.time_node).label) if sign.time_node else "",
        "status": sign.status,
        "status_label": str(sign.get_status_display()),
        "reported_at": sign.reported_at,
        "reported_by": person_name(sign.reported_by),
        "feedback": sign.feedback,
        "closed_at": sign.closed_at,
        "attachments": [],
        "events": [],
    }
    if detail:
        data["attachments"] = [
            {
                "id": a.pk,
                "name": a.original_name,
                "content_type": a.content_type,
                "size": a.size,
                "url": attachment_url(sign.pk, a.pk),
            }
            for a in sign.attachments.all()
        ]
        data["events"] = [
            {
                "status": e.status,
                "status_label": str(e.get_status_display()),
                "at": e.at,
                "by": e.actor_label,
                "note": e.note,
            }
            for e in sign.events.all()
        ]
    return data


def _one_school(ids, school_id, field="school_id"):
    """The school the caller acts for: given, or their only one."""
    if school_id is not None:
        if school_id not in ids:
            raise ValidationError({field: [_("Not a school you can act for.")]})
        return school_id
    if len(ids) != 1:
        raise ValidationError({field: [_("Choose the school.")]})
    return next(iter(ids))


# ------------------------------------------------------------------ warning signs


@router.get("/warning-signs", response=SignPage)
def warning_sign_list(
    request, status: str = "", school_id: DbId | None = None, limit: int = 50, offset: int = 0
):
    ids = selectors.require_sign_access(request.auth)
    if school_id is not None and school_id not in ids:
        return {"count": 0, "items": []}
    if status and status not in SignStatus.values:
        raise ValidationError({"status": [_("Choose one of the offered states.")]})
    qs = selectors.warning_sign_list(actor=request.auth, status=status, school_id=school_id)
    page = paginate(qs, limit=limit, offset=offset)
    return {"count": page["count"], "items": [sign_payload(s) for s in page["items"]]}


@router.post("/warning-signs", response={201: SignOut})
def warning_sign_report(request, payload: SignIn):
    ids = visible_school_ids(request.auth, Action.REPORT_WARNING)
    if not ids:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied(_("Your role does not allow this action."))
    school_id = _one_school(ids, payload.school_id)
    school = Organization.objects.get(pk=school_id)
    data = payload.dict(exclude={"school_id"})
    sign = services.warning_sign_report(actor=request.auth, school=school, **data)
    sign = selectors.warning_sign_get(actor=request.auth, sign_id=sign.pk)
    return Status(201, sign_payload(sign, detail=True))


@router.get("/warning-signs/{sign_id}", response=SignOut)
def warning_sign_detail(request, sign_id: DbId):
    selectors.require_sign_access(request.auth)
    sign = selectors.warning_sign_get(actor=request.auth, sign_id=sign_id)
    return sign_payload(sign, detail=True)


@router.post("/warning-signs/{sign_id}/attachments", response={201: SignOut})
def warning_sign_attach(request, sign_id: DbId, files: File[list[UploadedFile]]):
    selectors.require_sign_access(request.auth)
    sign = selectors.warning_sign_get(actor=request.auth, sign_id=sign_id)
    services.warning_sign_attach(actor=request.auth, sign=sign, files=files)
    sign = selectors.warning_sign_get(actor=request.auth, sign_id=sign_id)
    return Status(201, sign_payload(sign, detail=True))


@router.get(
    "/warning-signs/{sign_id}/attachments/{attachment_id}", url_name="warning_sign_attachment"
)
def warning_sign_attachment(request, sign_id: DbId, attachment_id: DbId):
    selectors.require_sign_access(request.auth)
    attachment = selectors.attachment_get(
        actor=request.auth, sign_id=sign_id, attachment_id=attachment_id
    )
    return attachment_response(attachment)


def attachment_response(attachment) -> FileResponse:
    response = FileResponse(
        attachment.file.open("rb"),
        content_type=attachment.content_type,
        as_attachment=not attachment.content_type.startswith("image/"),
        filename=attachment.original_name,
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@router.post("/warning-signs/{sign_id}/transition", response=SignOut)
def warning_sign_transition(request, sign_id: DbId, payload: TransitionIn):
    selectors.require_sign_access(request.auth)
    sign = selectors.warning_sign_get(actor=request.auth, sign_id=sign_id)
    services.warning_sign_transition(
        actor=request.auth, sign=sign, status=payload.status, note=payload.note
    )
    sign = selectors.warning_sign_get(actor=request.auth, sign_id=sign_id)
    return sign_payload(sign, detail=True)


# ------------------------------------------------------------------ early warnings


def early_payload(view, *, now=None) -> dict:
    warning = view.warning
    now = now or timezone.now()
    return {
        "id": warning.pk,
        "issuer": {"id": warning.issuer_id, "name": warning.issuer.name},
        "title": warning.title,
        "content": warning.content,
        "level": warning.level,
        "level_label": str(warning.get_level_display()),
        "valid_from": warning.valid_from,
        "valid_until": warning.valid_until,
        "is_active": warning.is_active_at(now),
        "issued_at": warning.issued_at,
        "issued_by": person_name(warning.issued_by),
        "acknowledged_count": view.acknowledged,
        "recipient_count": len(view.recipients),
        "recipients": [
            {
                "school": {"id": r.school_id, "name": r.school.name},
                "acknowledged_at": r.acknowledged_at,
                "acknowledged_by": r.acknowledged_by_label,
                "reminders_sent": r.chase_count,
            }
            for r in view.recipients
        ],
    }


@router.get("/early-warnings", response=EarlyPage)
def early_warning_list(request, active: bool = False, limit: int = 50, offset: int = 0):
    selectors.require_early_access(request.auth)
    qs = selectors.early_warning_queryset(actor=request.auth, active_only=active)
    page = paginate(qs, limit=limit, offset=offset)
    views = selectors.early_warning_views(request.auth, page["items"])
    return {"count": page["count"], "items": [early_payload(v) for v in views]}


@router.post("/early-warnings", response={201: EarlyOut})
def early_warning_issue(request, payload: EarlyIn):
    warning = services.early_warning_issue(actor=request.auth, **payload.dict())
    view = selectors.early_warning_get(actor=request.auth, warning_id=warning.pk)
    return Status(201, early_payload(view))


@router.get("/early-warnings/{warning_id}", response=EarlyOut)
def early_warning_detail(request, warning_id: DbId):
    selectors.require_early_access(request.auth)
    return early_payload(selectors.early_warning_get(actor=request.auth, warning_id=warning_id))


@router.post("/early-warnings/{warning_id}/acknowledge", response=EarlyOut)
def early_warning_acknowledge(request, warning_id: DbId, school_id: DbId | None = None):
    """`?school_id=` only for staff who receive warnings for several schools."""
    selectors.require_early_access(request.auth)
    recipient = selectors.recipient_for_ack(
        actor=request.auth, warning_id=warning_id, school_id=school_id
    )
    services.early_warning_acknowledge(actor=request.auth, recipient=recipient)
    return early_payload(selectors.early_warning_get(actor=request.auth, warning_id=warning_id))
