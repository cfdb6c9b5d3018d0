"""Reads of hazards: the filtered list (paginated by the caller in the database), one hazard
with its timeline and photos, and the people who may be named its owner."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404

from huxiao.core.roles import Action
from huxiao.core.scoping import visible_school_ids
from huxiao.hazards.choices import OPEN_HAZARD_STATUSES
from huxiao.hazards.hazard_services import local_today
from huxiao.hazards.models import Hazard, HazardEvent, HazardPhoto
from huxiao.orgs.models import Membership


@dataclass
class HazardFilters:
    school_id: int | None = None
    status: str = ""
    category: str = ""
    level: str = ""
    overdue: bool = False


def require_any(actor, action: str = Action.VIEW) -> frozenset[int]:
    """The schools where the actor may do `action`; 403 if there are none."""
    ids = visible_school_ids(actor, action)
    if not ids:
        raise PermissionDenied
    return ids


def hazard_list(*, actor, filters: HazardFilters | None = None, today: dt.date | None = None):
    """Hazards the actor may see, newest first, narrowed by the filters. A school outside
    the actor's scope gives an empty list, like one without hazards."""
    filters = filters or HazardFilters()
    qs = Hazard.objects.visible_to(actor, Action.VIEW).select_related("school", "owner")
    if filters.school_id is not None:
        qs = qs.filter(school_id=filters.school_id)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.level:
        qs = qs.filter(level=filters.level)
    if filters.overdue:
        qs = qs.filter(status__in=OPEN_HAZARD_STATUSES, deadline__lt=today or local_today())
    return qs.order_by("-reported_at", "-id")


def hazard_get(*, actor, hazard_id: int) -> Hazard:
    """One hazard with its timeline and photos; out of scope is 404."""
    hazard = (
        Hazard.objects.visible_to(actor, Action.VIEW)
        .select_related("school", "owner", "reported_by", "verified_by", "inspection")
        .prefetch_related(
            Prefetch("events", queryset=HazardEvent.objects.select_related("actor")),
            Prefetch("photos", queryset=HazardPhoto.objects.order_by("uploaded_at", "id")),
        )
        .filter(pk=hazard_id)
        .first()
    )
    if hazard is None:
        raise Http404
    return hazard


def photo_get(*, actor, photo_id: int) -> HazardPhoto:
    photo = HazardPhoto.objects.visible_to(actor, Action.VIEW).filter(pk=photo_id).first()
    if photo is None or not photo.file:
        raise Http404
    return photo


def owner_candidates(school_id: int) -> list:
    """Active members of the school, each once, by name."""
    seen, users = set(), []
    for m in (
        Membership.objects.filter(organization_id=school_id, is_active=True, user__is_active=True)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__username")
    ):
        if m.user_id not in seen:
            seen.add(m.user_id)
            users.append(m.user)
    return users


def is_overdue(hazard: Hazard, today: dt.date | None = None) -> bool:
    return (
        hazard.status in OPEN_HAZARD_STATUSES
        and hazard.deadline is not None
        and hazard.deadline < (today or local_today())
    )
