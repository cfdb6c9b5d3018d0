"""REST handlers of inspections: list, detail, plan, start, answer (JSON; photos as
multipart on their own endpoint), sign-off, and a failed item to a hazard.

Rights as on the pages: reading needs VIEW (an unannounced inspection is hidden from its
school until it starts); planning and filling need INSPECT and being an inspector of it. A
user whose role allows the action nowhere gets 403; a record outside the scope is 404.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import File, Router, Status
from ninja.files import UploadedFile

from huxiao.core.api import DbId, ErrorOut, paginate
from huxiao.core.roles import Action
from huxiao.hazards import inspection_selectors as selectors
from huxiao.hazards import inspection_services as services
from huxiao.hazards.choices import AnswerResult
from huxiao.hazards.inspection_schemas import (
    AnswerIn,
    AnswerOut,
    FindingHazardIn,
    HazardRefOut,
    InspectionDetailOut,
    InspectionList,
    InspectionOut,
    InspectionPlanIn,
    SignOffIn,
)
from huxiao.hazards.models import TemplateItem
from huxiao.hazards.template_selectors import template_drafts
from huxiao.orgs.models import Organization

router = Router(tags=["inspections"])


def _dec(value) -> str | None:
    return None if value is None else str(value)


def inspection_payload(inspection) -> dict:
    return {
        "id": inspection.pk,
        "school_id": inspection.school_id,
        "school_name": inspection.school.name,
        "template_id": inspection.template_id,
        "template_name": inspection.template.name,
        "template_version": inspection.template.version,
        "kind": inspection.kind,
        "kind_label": inspection.get_kind_display(),
        "unannounced": inspection.unannounced,
        "organization_id": inspection.organization_id,
        "organization_name": inspection.organization.name,
        "inspector_ids": sorted(p.pk for p in inspection.inspectors.all()),
        "planned_on": inspection.planned_on,
        "status": inspection.status,
        "status_label": inspection.get_status_display(),
        "started_at": inspection.started_at,
        "signed_off_at": inspection.signed_off_at,
        "score": _dec(inspection.score),
        "max_score": _dec(inspection.max_score),
        "summary": inspection.summary,
    }


def answer_payload(answer) -> dict:
    hazard = getattr(answer, "hazard", None)
    return {
        "id": answer.pk,
        "item_id": answer.item_id,
        "result": answer.result,
        "result_label": str(AnswerResult(answer.result).label),
        "score": str(answer.score),
        "note": answer.note,
        "photo_ids": [p.pk for p in answer.photos.all()],
        "hazard_id": hazard.pk if hazard else None,
        "answered_at": answer.answered_at,
    }


def detail_payload(inspection) -> dict:
    progress = services.inspection_progress(inspection)
    return {
        **inspection_payload(inspection),
        "answers": [answer_payload(a) for a in progress["answers"].values()],
        "unanswered_item_ids": [i.pk for i in progress["unanswered"]],
        "missing_photo_item_ids": [i.pk for i in progress["missing_photos"]],
    }


def _get(request, inspection_id):
    selectors.require_any(request.auth, Action.VIEW)
    return selectors.inspection_get(actor=request.auth, inspection_id=inspection_id)


@router.get("/inspections", response={200: InspectionList, 403: ErrorOut})
def inspection_list(
    request,
    school_id: DbId | None = None,
    kind: str = "",
    status: str = "",
    limit: int = 50,
    offset: int = 0,
):
    selectors.require_any(request.auth, Action.VIEW)
    qs = selectors.inspection_list(
        actor=request.auth, school_id=school_id, kind=kind or None, status=status or None
    )
    return paginate(qs, limit=limit, offset=offset, row=inspection_payload)


@router.post("/inspections", response={201: InspectionOut, 400: ErrorOut, 403: ErrorOut})
def inspection_plan(request, payload: InspectionPlanIn):
    actor = request.auth
    ids = selectors.require_any(actor, Action.INSPECT)
    if payload.school_id not in ids:
        raise ValidationError({"school_id": [_("Unknown or inaccessible record.")]})
    school = Organization.objects.get(pk=payload.school_id)
    template = selectors.usable_templates().filter(pk=payload.template_id).first()
    if template is None:
        # Only the actor's own offices' drafts: another office's draft answers like an
        # unknown id.
        draft = template_drafts(actor=actor).filter(pk=payload.template_id).first()
        if draft is None:
            raise ValidationError({"template_id": [_("Unknown or inaccessible record.")]})
        template = draft  # the service explains why a draft is refused
    organization = None
    if payload.organization_id is not None:
        organization = Organization.objects.filter(pk=payload.organization_id).first()
        if organization is None:
            raise ValidationError({"organization_id": [_("Unknown or inaccessible record.")]})
    from django.contrib.auth import get_user_model

    people = list(get_user_model().objects.filter(pk__in=payload.inspector_ids))
    if len(people) != len(set(payload.inspector_ids)):
        raise ValidationError({"inspector_ids": [_("Unknown or inaccessible record.")]})
    inspection = services.inspection_plan(
        actor=actor,
        school=school,
        template=template,
        kind=payload.kind,
        planned_on=payload.planned_on,
        unannounced=payload.unannounced,
        inspectors=people,
        organization=organization,
    )
    return Status(201, inspection_payload(inspection))


@router.get("/inspections/{inspection_id}", response={200: InspectionDetailOut, 404: ErrorOut})
def inspection_detail(request, inspection_id: DbId):
    return detail_payload(_get(request, inspection_id))


@router.post(
    "/inspections/{inspection_id}/start",
    response={200: InspectionOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def inspection_start(request, inspection_id: DbId):
    inspection = services.inspection_start(
        actor=request.auth, inspection=_get(request, inspection_id)
    )
    return inspection_payload(inspection)


def _item(inspection, item_id) -> TemplateItem:
    item = (
        TemplateItem.objects.filter(pk=item_id, section__template_id=inspection.template_id)
        .select_related("section")
        .first()
    )
    if item is None:
        raise ValidationError({"item_id": [_("This item is not on this inspection's checklist.")]})
    return item


@router.post(
    "/inspections/{inspection_id}/answers",
    response={200: AnswerOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def inspection_answer(request, inspection_id: DbId, payload: AnswerIn):
    inspection = _get(request, inspection_id)
    answer = services.inspection_answer(
        actor=request.auth,
        inspection=inspection,
        item=_item(inspection, payload.item_id),
        result=payload.result,
        note=payload.note,
        score=payload.score,
    )
    return answer_payload(answer)


@router.post(
    "/inspections/{inspection_id}/answers/{item_id}/photo",
    response={200: AnswerOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def inspection_answer_photo(
    request,
    inspection_id: DbId,
    item_id: DbId,
    photo: UploadedFile = File(...),  # noqa: B008
):
    """Add a photo (JPEG or PNG, multipart field `photo`) to the answer of an item."""
    inspection = _get(request, inspection_id)
    item = _item(inspection, item_id)
    answer = get_object_or_404(inspection.answers, item=item)
    answer = services.inspection_answer(
        actor=request.auth,
        inspection=inspection,
        item=item,
        result=answer.result,
        note=answer.note,
        score=answer.score,
        photos=[photo],
    )
    return answer_payload(answer)


@router.post(
    "/inspections/{inspection_id}/sign-off",
    response={200: InspectionDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def inspection_sign_off(request, inspection_id: DbId, payload: SignOffIn):
    inspection = services.inspection_sign_off(
        actor=request.auth, inspection=_get(request, inspection_id), summary=payload.summary
    )
    return detail_payload(inspection)


@router.post(
    "/inspections/{inspection_id}/answers/{item_id}/hazard",
    response={201: HazardRefOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def inspection_finding_hazard(
    request, inspection_id: DbId, item_id: DbId, payload: FindingHazardIn
):
    """生成隐患: the failed item becomes a hazard in one step."""
    inspection = _get(request, inspection_id)
    answer = get_object_or_404(inspection.answers, item_id=item_id)
    hazard = services.finding_to_hazard(
        actor=request.auth,
        answer=answer,
        title=payload.title,
        level=payload.level,
        deadline=payload.deadline,
    )
    return Status(201, {"id": hazard.pk, "title": hazard.title})
