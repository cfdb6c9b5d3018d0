"""Reads of legal vice-principal assignments (ADR 0020): whoever may view a school sees who
its legal vice-principal is — the school, the station, the offices of the town."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from huxiao.core.roles import Action, Role
from huxiao.core.scoping import visible_school_ids
from huxiao.orgs.models import Organization
from huxiao.patrols.models import LegalVicePrincipal


def lvp_list(
    *,
    actor,
    school_id: int | None = None,
    station_id: int | None = None,
    active: bool | None = None,
) -> QuerySet[LegalVicePrincipal]:
    qs = LegalVicePrincipal.objects.visible_to(actor, Action.VIEW).select_related(
        "school", "station", "officer"
    )
    if school_id:
        qs = qs.filter(school_id=school_id)
    if station_id:
        qs = qs.filter(station_id=station_id)
    if active is True:
        qs = qs.filter(ended_at__isnull=True)
    elif active is False:
        qs = qs.filter(ended_at__isnull=False)
    return qs.order_by("station__name", "school__name", "-term_start", "-id")


def lvp_get(*, actor, assignment_id: int) -> LegalVicePrincipal:
    return get_object_or_404(lvp_list(actor=actor), pk=assignment_id)


def lvp_active_for_school(*, actor, school_id: int) -> LegalVicePrincipal | None:
    if school_id not in visible_school_ids(actor, Action.VIEW):
        return None
    return lvp_list(actor=actor, school_id=school_id, active=True).first()


def lvp_officer_choices(*, actor):
    """Officers the actor may appoint: commanders and officers of the stations whose schools
    the actor assigns legal vice-principals for."""
    ids = visible_school_ids(actor, Action.ASSIGN_LVP)
    if not ids:
        return get_user_model().objects.none()
    stations = set(
        Organization.objects.filter(pk__in=ids).values_list("police_station_id", flat=True)
    ) - {None}
    # One filter() call: every condition applies to the same membership.
    return (
        get_user_model()
        .objects.filter(
            memberships__organization_id__in=stations,
            memberships__is_active=True,
            memberships__role__in=[Role.POLICE_COMMANDER, Role.POLICE_OFFICER],
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )
