"""REST handlers of checklist templates (ADR 0026, "Templates").

Reading needs `view` or `inspect` somewhere; copying and publishing need `manage_templates`
(education and governance offices), publishing only of one's own office's draft. A draft of
another office is 404 like a missing template."""

from __future__ import annotations

from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from huxiao.core.api import DbId, ErrorOut, paginate
from huxiao.hazards import template_selectors as selectors
from huxiao.hazards import template_services as services

router = Router(tags=["hazards"])


class TemplateCopyIn(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=1000)


class ItemOut(Schema):
    id: int
    order: int
    text: str
    guidance: str
    reference: str
    max_score: str
    photo_required: bool
    category: str


class SectionOut(Schema):
    id: int
    order: int
    title: str
    items: list[ItemOut]


class TemplateOut(Schema):
    id: int
    code: str
    version: int
    name: str
    kind: str
    description: str
    owner_id: int | None
    owner_name: str
    is_published: bool
    is_current: bool
    published_at: str | None


class TemplateDetailOut(TemplateOut):
    max_score: str
    sections: list[SectionOut]


class TemplateList(Schema):
    count: int
    items: list[TemplateOut]


def template_payload(t) -> dict:
    return {
        "id": t.pk,
        "code": t.code,
        "version": t.version,
        "name": t.name,
        "kind": t.kind,
        "description": t.description,
        "owner_id": t.owner_id,
        "owner_name": t.owner.name if t.owner_id else "",
        "is_published": t.is_published,
        "is_current": t.is_current,
        "published_at": t.published_at.isoformat() if t.published_at else None,
    }


def template_detail_payload(t) -> dict:
    sections = [
        {
            "id": s.pk,
            "order": s.order,
            "title": s.title,
            "items": [
                {
                    "id": i.pk,
                    "order": i.order,
                    "text": i.text,
                    "guidance": i.guidance,
                    "reference": i.reference,
                    "max_score": str(i.max_score),
                    "photo_required": i.photo_required,
                    "category": i.category,
                }
                for i in s.items.all()
            ],
        }
        for s in t.sections.all()
    ]
    return {**template_payload(t), "max_score": str(t.max_score), "sections": sections}


@router.get("/hazards/templates", response={200: TemplateList, 403: ErrorOut})
def template_list(request, kind: str | None = None, limit: int = 50, offset: int = 0):
    """The current version of every checklist."""
    selectors.require_template_reader(request.auth)
    qs = selectors.template_list(actor=request.auth, kind=kind)
    return paginate(qs, limit=limit, offset=offset, row=template_payload)


@router.get(
    "/hazards/templates/{template_id}",
    response={200: TemplateDetailOut, 403: ErrorOut, 404: ErrorOut},
)
def template_detail(request, template_id: DbId):
    selectors.require_template_reader(request.auth)
    template = selectors.template_get(actor=request.auth, template_id=template_id)
    return template_detail_payload(template)


@router.post(
    "/hazards/templates/{template_id}/copy",
    response={201: TemplateDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def template_copy(request, template_id: DbId, payload: TemplateCopyIn):
    selectors.require_template_manager(request.auth)
    template = selectors.template_get(actor=request.auth, template_id=template_id, content=False)
    copy = services.template_copy(actor=request.auth, template=template, name=payload.name)
    return Status(
        201,
        template_detail_payload(selectors.template_get(actor=request.auth, template_id=copy.pk)),
    )


@router.post(
    "/hazards/templates/{template_id}/publish",
    response={200: TemplateOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def template_publish(request, template_id: DbId):
    selectors.require_template_manager(request.auth)
    template = selectors.template_get(actor=request.auth, template_id=template_id, content=False)
    return template_payload(services.template_publish(actor=request.auth, template=template))
