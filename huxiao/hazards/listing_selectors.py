"""Reads of listed supervision (挂牌督办): the board of a town or county, one listing, and
who may do what on it (ADR 0026, "Listed supervision and surroundings tasks").

Who sees a listing: anyone with `view` on its school sees the *public* listings (the board
is public at town and county level by design, §2 三); a listing that is not public is seen
only by the supervising side (`list_supervision` on the school, or a member of the
supervising organization) and by the school's own members. Out of scope is 404.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from huxiao.core.roles import Action
from huxiao.core.scoping import memberships_of, visible_school_ids
from huxiao.hazards.choices import HazardStatus, ListingStatus
from huxiao.hazards.hazard_services import local_today
from huxiao.hazards.models import ListedSupervision
from huxiao.orgs.models import Town


@dataclass
class ListingFilters:
    status: str = ""
    town_id: int | None = None
    school_id: int | None = None


def require_board(actor) -> frozenset[int]:
    """The schools whose listings the actor may see; 403 if none."""
    ids = visible_school_ids(actor, Action.VIEW)
    if not ids:
        raise PermissionDenied
    return ids


def visible_listings(actor, qs=None):
    """Listings the actor may see (public ones of the schools in view, plus the ones the
    actor supervises or belongs to)."""
    qs = ListedSupervision.objects.all() if qs is None else qs
    view_ids = visible_school_ids(actor, Action.VIEW)
    if not view_ids:
        return qs.none()
    supervise_ids = visible_school_ids(actor, Action.LIST_SUPERVISION)
    own_orgs = {m.organization_id for m in memberships_of(actor)}
    if getattr(actor, "is_superuser", False):
        return qs.filter(school_id__in=view_ids)
    return qs.filter(school_id__in=view_ids).filter(
        Q(is_public=True)
        | Q(school_id__in=supervise_ids)
        | Q(school_id__in=own_orgs)
        | Q(supervising_org_id__in=own_orgs)
    )


def listing_list(*, actor, filters: ListingFilters | None = None):
    """The board: active listings first, the nearest deadline first."""
    filters = filters or ListingFilters()
    qs = visible_listings(actor).select_related("school__town", "supervising_org", "hazard")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.town_id is not None:
        qs = qs.filter(school__town_id=filters.town_id)
    if filters.school_id is not None:
        qs = qs.filter(school_id=filters.school_id)
    return qs.order_by("status", "deadline", "id")


def listing_get(*, actor, listing_id: int) -> ListedSupervision:
    listing = (
        visible_listings(actor)
        .select_related(
            "school__town", "supervising_org", "hazard", "listed_by", "lifted_by", "hazard__owner"
        )
        .filter(pk=listing_id)
        .first()
    )
    if listing is None:
        raise Http404
    return listing


def listing_of_hazard(*, actor, hazard) -> ListedSupervision | None:
    """The hazard's listing if the actor may see it (the hazard page's block): the active
    one, else the latest lifted one (a reopened hazard may have been listed more than
    once)."""
    return (
        visible_listings(actor)
        .select_related("supervising_org", "hazard")
        .filter(hazard_id=hazard.pk)
        .order_by("status", "-listed_at", "-pk")
        .first()
    )


def board_towns(school_ids) -> list[Town]:
    """The towns of the schools in view (the board's town filter)."""
    return list(
        Town.objects.filter(organizations__pk__in=list(school_ids)).distinct().order_by("code")
    )


def days_left(listing: ListedSupervision, today: dt.date | None = None) -> int:
    """Days until the deadline (negative: overdue)."""
    return (listing.deadline - (today or local_today())).days


def awaits_lifting(listing: ListedSupervision) -> bool:
    """An active listing whose hazard is verified and closed (待摘牌): the deadline no
    longer counts; the supervising office has only to lift it."""
    return (
        listing.status == ListingStatus.ACTIVE
        and listing.hazard_id is not None
        and listing.hazard.status == HazardStatus.CLOSED
    )


def countdown(listing: ListedSupervision, today: dt.date | None = None) -> dict:
    """What the board shows: {"days": n, "state": "left" | "today" | "overdue" |
    "awaiting" | "lifted"} with n ≥ 0 (days left, or days overdue; 0 when awaiting
    lifting or lifted). Reads `listing.hazard` (select it with the listing)."""
    if listing.status != ListingStatus.ACTIVE:
        return {"days": 0, "state": "lifted"}
    if awaits_lifting(listing):
        return {"days": 0, "state": "awaiting"}
    n = days_left(listing, today)
    if n > 0:
        return {"days": n, "state": "left"}
    if n == 0:
        return {"days": 0, "state": "today"}
    return {"days": -n, "state": "overdue"}
