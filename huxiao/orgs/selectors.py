from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from huxiao.core.roles import Action
from huxiao.orgs.models import Organization


def school_list(*, actor, action: str = Action.VIEW, town_id: int | None = None) -> QuerySet:
    qs = (
        Organization.objects.visible_to(actor, action)
        .schools()
        .select_related("town", "police_station", "police_post")
    )
    if town_id:
        qs = qs.filter(town_id=town_id)
    return qs.annotate(
        children_count=Count("children_enrolled", filter=Q(children_enrolled__is_active=True))
    ).order_by("town_id", "name")


def organization_list(*, actor) -> QuerySet[Organization]:
    return Organization.objects.visible_to(actor, Action.VIEW).select_related("town", "region")


def organization_get(*, actor, organization_id: int) -> Organization:
    return get_object_or_404(
        Organization.objects.visible_to(actor, Action.VIEW).select_related(
            "town", "region", "police_station", "police_post", "education_office", "health_centre"
        ),
        pk=organization_id,
    )


def school_get(*, actor, school_id: int) -> Organization:
    return get_object_or_404(
        Organization.objects.visible_to(actor, Action.VIEW)
        .schools()
        .select_related(
            "town", "region", "police_station", "police_post", "education_office", "health_centre"
        ),
        pk=school_id,
    )
