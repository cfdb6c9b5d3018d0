"""Reads of legal vice-principal assignments (ADR 0020): whoever may view a school sees who
its legal vice-principal is — the school, the station, the offices of the town.

An assignment is current while it has not been ended and its term has not passed; a term
that ran out counts as ended at once, whether or not the nightly sweep has run yet."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from huxiao.core.roles import Action, Role
from huxiao.core.scoping import visible_school_ids
from huxiao.orgs.models import Organization
from huxiao.patrols.models import LegalVicePrincipal


def lvp_today(now: dt.datetime | None = None) -> dt.date:
    """The local date terms are counted in."""
    return timezone.localdate(now or timezone.now())


def lvp_current_q(today: dt.date) -> Q:
    """Assignments in force on `today`: not ended, and the term (if it has an end) not past."""
    return Q(ended_at__isnull=True) & (Q(term_end__isnull=True) | Q(term_end__gte=today))


def lvp_is_current(assignment: LegalVicePrincipal, today: dt.date | None = None) -> bool:
    current = getattr(assignment, "is_current", None)
    if current is not None:
        return bool(current)
    today = today or lvp_today()
    return assignment.ended_at is None and (
        assignment.term_end is None or assignment.term_end >= today
    )


def lvp_list(
    *,
    actor,
    school_id: int | None = None,
    station_id: int | None = None,
    active: bool | None = None,
    today: dt.date | None = None,
) -> QuerySet[LegalVicePrincipal]:
    current = lvp_current_q(today or lvp_today())
    qs = (
        LegalVicePrincipal.objects.visible_to(actor, Action.VIEW)
        .select_related("school", "station", "officer")
        .annotate(is_current=ExpressionWrapper(current, output_field=BooleanField()))
    )
    if school_id:
        qs = qs.filter(school_id=school_id)
    if station_id:
        qs = qs.filter(station_id=station_id)
    if active is True:
        qs = qs.filter(current)
    elif active is False:
        qs = qs.exclude(current)
    return qs.order_by("station__name", "school__name", "-term_start", "-id")


def lvp_get(*, actor, assignment_id: int) -> LegalVicePrincipal:
    return get_object_or_404(lvp_list(actor=actor), pk=assignment_id)


def lvp_active_for_school(
    *, actor, school_id: int, today: dt.date | None = None
) -> LegalVicePrincipal | None:
    if school_id not in visible_school_ids(actor, Action.VIEW):
        return None
    return lvp_list(actor=actor, school_id=school_id, active=True, today=today).first()


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
