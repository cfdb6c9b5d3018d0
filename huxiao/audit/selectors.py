from __future__ import annotations

from django.apps import apps
from django.db.models import Q, QuerySet

from huxiao.audit.models import AuditEvent
from huxiao.core.roles import Action
from huxiao.core.scoping import visible_school_ids


def audit_event_list(
    *,
    actor,
    object_type: str = "",
    object_id: str = "",
    user_id: int | None = None,
    school_id: int | None = None,
) -> QuerySet[AuditEvent]:
    """The trail the actor may read: events of schools in their audit scope.

    Events without a school (logins, token issues) are shown only to those whose audit
    scope is the whole county, and only for users who belong to that county.
    """
    ids = visible_school_ids(actor, Action.VIEW_AUDIT)
    if not ids:
        return AuditEvent.objects.none()
    scope = Q(school_id__in=ids)
    if _audits_whole_county(actor):
        from huxiao.orgs.models import Membership

        county_users = Membership.objects.filter(
            organization__region_id__in=_county_ids(actor)
        ).values("user_id")
        scope |= Q(school__isnull=True, actor_id__in=county_users)
    qs = (
        AuditEvent.objects.filter(scope)
        .exclude(object_type__in=sealed_object_types())
        .select_related("actor", "school")
    )
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=str(object_id))
    if user_id:
        qs = qs.filter(actor_id=user_id)
    if school_id:
        qs = qs.filter(school_id=school_id)
    return qs


def sealed_object_types() -> list[str]:
    """Object types whose trail the general audit pages never list (models marked
    `audit_sealed`, the high-risk register: ADR 0017); their own pages show it to those
    entitled to it."""
    return sorted(
        model._meta.label_lower
        for model in apps.get_models()
        if getattr(model, "audit_sealed", False)
    )


def _county_ids(actor) -> set[int]:
    from huxiao.core.roles import role_allows
    from huxiao.core.scoping import memberships_of

    return {
        m.organization.region_id
        for m in memberships_of(actor)
        if m.organization.is_county_level
        and role_allows(m.role, Action.VIEW_AUDIT, county_level=True)
    }


def _audits_whole_county(actor) -> bool:
    return bool(_county_ids(actor)) or getattr(actor, "is_superuser", False)
