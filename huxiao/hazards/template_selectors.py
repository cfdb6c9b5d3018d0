"""Reads of checklist templates (ADR 0026, "Templates").

Published versions are shared by the county: anyone who may view or inspect a school reads
them. A draft is seen only by the template managers (MANAGE_TEMPLATES) of the office that
owns it; for everyone else it behaves like a template that does not exist (404)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from huxiao.core.roles import Action, role_allows
from huxiao.core.scoping import memberships_of, visible_school_ids
from huxiao.hazards.models import ChecklistTemplate, TemplateItem, TemplateSection

MAX_ID = 2**63 - 1


def manager_offices(actor) -> list:
    """The organizations whose templates `actor` may edit (education and governance offices
    where the actor holds a MANAGE_TEMPLATES role)."""
    return [
        m.organization
        for m in memberships_of(actor)
        if m.organization.is_active
        and role_allows(
            m.role, Action.MANAGE_TEMPLATES, county_level=m.organization.is_county_level
        )
    ]


def manager_office_ids(actor) -> frozenset[int]:
    return frozenset(org.pk for org in manager_offices(actor))


def is_template_reader(actor) -> bool:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    return bool(
        visible_school_ids(actor, Action.VIEW)
        or visible_school_ids(actor, Action.INSPECT)
        or manager_office_ids(actor)
    )


def require_template_reader(actor) -> None:
    """403 when the actor may neither view nor inspect anywhere (a 404 then only ever means
    "not there or not yours")."""
    if not is_template_reader(actor):
        raise PermissionDenied(_("Your role does not allow this action."))


def require_template_manager(actor) -> list:
    offices = manager_offices(actor)
    if not offices:
        raise PermissionDenied(_("Your role does not allow this action."))
    return offices


def _readable_q(actor) -> Q:
    return Q(is_published=True) | Q(owner_id__in=manager_office_ids(actor))


def _with_content(qs: QuerySet) -> QuerySet:
    return qs.select_related("owner").prefetch_related(
        Prefetch(
            "sections",
            queryset=TemplateSection.objects.order_by("order", "id").prefetch_related(
                Prefetch("items", queryset=TemplateItem.objects.order_by("order", "id"))
            ),
        )
    )


def template_list(*, actor, kind: str | None = None) -> QuerySet[ChecklistTemplate]:
    """The current version of every checklist, shipped ones first."""
    qs = ChecklistTemplate.objects.filter(is_current=True, is_published=True).select_related(
        "owner"
    )
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("owner_id", "name", "code").distinct()


def template_drafts(*, actor) -> QuerySet[ChecklistTemplate]:
    """Drafts of the actor's own offices, newest first."""
    return (
        ChecklistTemplate.objects.filter(is_published=False, owner_id__in=manager_office_ids(actor))
        .select_related("owner")
        .order_by("-created_at", "-id")
    )


def template_get(*, actor, template_id: int, content: bool = True) -> ChecklistTemplate:
    if not 0 < template_id <= MAX_ID:
        raise Http404
    qs = ChecklistTemplate.objects.filter(_readable_q(actor))
    if content:
        qs = _with_content(qs)
    template = qs.filter(pk=template_id).first()
    if template is None:
        raise Http404
    return template


def template_versions(*, actor, template: ChecklistTemplate) -> QuerySet[ChecklistTemplate]:
    """Every version of the template's checklist the actor may read, newest first."""
    return ChecklistTemplate.objects.filter(_readable_q(actor), code=template.code).order_by(
        "-version"
    )


def _editable_or_404(actor, qs, pk: int):
    if not 0 < pk <= MAX_ID:
        raise Http404
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj


def section_get(*, actor, section_id: int) -> TemplateSection:
    """A section of a template the actor may read (the service decides about editing)."""
    return _editable_or_404(
        actor,
        TemplateSection.objects.select_related("template").filter(
            Q(template__is_published=True) | Q(template__owner_id__in=manager_office_ids(actor))
        ),
        section_id,
    )


def item_get(*, actor, item_id: int) -> TemplateItem:
    return _editable_or_404(
        actor,
        TemplateItem.objects.select_related("section__template").filter(
            Q(section__template__is_published=True)
            | Q(section__template__owner_id__in=manager_office_ids(actor))
        ),
        item_id,
    )


def can_edit(actor, template: ChecklistTemplate) -> bool:
    return (
        not template.is_published
        and template.owner_id is not None
        and template.owner_id in manager_office_ids(actor)
    )
