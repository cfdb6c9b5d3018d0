"""Reads of inspections, always scoped (ADR 0026, "Inspections").

An unannounced inspection is not shown to the inspected school's own people until it has
started: a school member sees it only from the moment the inspectors begin. Someone who
also sees the school from outside (a county office member who is also on the school's
staff) or who is one of its inspectors still sees it.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from huxiao.core.roles import SCHOOL_KINDS, Action, role_allows
from huxiao.core.scoping import memberships_of, school_filter_for_org, visible_school_ids
from huxiao.hazards.choices import InspectionStatus
from huxiao.hazards.models import (
    ChecklistTemplate,
    HazardPhoto,
    Inspection,
    InspectionAnswer,
    TemplateSection,
)
from huxiao.orgs.models import Organization


def require_any(actor, action: str) -> frozenset[int]:
    """The schools where `actor` may `action`; 403 when the role allows it nowhere, so that
    a 404 below only ever means "not in your scope"."""
    ids = visible_school_ids(actor, action)
    if not ids:
        raise PermissionDenied(_("Your role does not allow this action."))
    return ids


def _school_only_ids(actor) -> frozenset[int]:
    """Schools the actor sees only as a member of the school itself (not from outside)."""
    if getattr(actor, "is_superuser", False):
        return frozenset()
    inside, outside = set(), Q(pk__in=[])
    has_outside = False
    for membership in memberships_of(actor):
        org = membership.organization
        if not role_allows(membership.role, Action.VIEW):
            continue
        if org.kind in SCHOOL_KINDS:
            inside.add(org.pk)
        else:
            outside |= school_filter_for_org(org)
            has_outside = True
    if inside and has_outside:
        inside -= set(
            Organization.objects.filter(outside, pk__in=inside).values_list("pk", flat=True)
        )
    return frozenset(inside)


def inspection_base(actor, action: str = Action.VIEW) -> QuerySet[Inspection]:
    qs = Inspection.objects.visible_to(actor, action)
    hidden = _school_only_ids(actor)
    if hidden:
        not_yet = (
            Inspection.objects.filter(
                unannounced=True, status=InspectionStatus.PLANNED, school_id__in=hidden
            )
            .exclude(created_by_id=actor.pk)
            .exclude(inspectors=actor)
        )
        qs = qs.exclude(pk__in=not_yet.values("pk"))
    return qs


def inspection_list(
    *,
    actor,
    school_id: int | None = None,
    kind: str | None = None,
    status: str | None = None,
) -> QuerySet[Inspection]:
    qs = (
        inspection_base(actor)
        .select_related("school", "template", "organization")
        .prefetch_related("inspectors")
        .order_by("-planned_on", "-id")
    )
    if school_id:
        qs = qs.filter(school_id=school_id)
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    return qs


def inspection_get(*, actor, inspection_id: int) -> Inspection:
    return get_object_or_404(
        inspection_base(actor).select_related(
            "school", "template", "organization", "signed_off_by", "created_by"
        ),
        pk=inspection_id,
    )


def inspection_sections(inspection: Inspection) -> list[TemplateSection]:
    """The checklist's sections with their items; each item carries `.answer` (or None)."""
    answers = {
        a.item_id: a
        for a in InspectionAnswer.objects.filter(inspection=inspection)
        .select_related("answered_by", "hazard")
        .prefetch_related(Prefetch("photos", queryset=HazardPhoto.objects.order_by("id")))
    }
    sections = list(
        TemplateSection.objects.filter(template_id=inspection.template_id)
        .prefetch_related("items")
        .order_by("order", "id")
    )
    for section in sections:
        section.item_rows = list(section.items.all())
        for item in section.item_rows:
            item.answer = answers.get(item.pk)
    return sections


def answer_get(*, actor, inspection: Inspection, answer_id: int) -> InspectionAnswer:
    return get_object_or_404(
        InspectionAnswer.objects.select_related("item", "inspection"),
        inspection=inspection,
        pk=answer_id,
    )


def photo_get(*, actor, photo_id: int) -> HazardPhoto:
    """A finding photo of an inspection answer the actor may see."""
    photo = get_object_or_404(
        HazardPhoto.objects.visible_to(actor, Action.VIEW).filter(answer__isnull=False),
        pk=photo_id,
    )
    # The photo of an unannounced inspection is as hidden as the inspection.
    get_object_or_404(inspection_base(actor), pk=photo.answer.inspection_id)
    return photo


def usable_templates() -> QuerySet[ChecklistTemplate]:
    """Published versions a new inspection may use, current ones first."""
    return ChecklistTemplate.objects.filter(is_published=True).order_by(
        "-is_current", "name", "-version"
    )


def plannable_schools(actor) -> QuerySet[Organization]:
    ids = visible_school_ids(actor, Action.INSPECT)
    return Organization.objects.filter(pk__in=ids).order_by("name")
