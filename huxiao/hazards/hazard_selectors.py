"""Reads of hazards: the filtered list (paginated by the caller in the database, a page's
rows loaded by id: `HazardRows`), the school picker of its filter, one hazard with its
timeline and photos, and the people who may be named its owner."""

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
from huxiao.orgs.models import Membership, Organization


@dataclass
class HazardFilters:
    school_id: int | None = None
    town_id: int | None = None
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
    """Hazards the actor may see, newest first, narrowed by the filters. A school or town
    outside the actor's scope gives an empty list, like one without hazards.

    The school and town filters narrow the scope's set of schools itself, so the query
    names only the schools it may return (one school, not a county's thousand and then
    one). The order is served by the index `hazard_list_cover`, which also holds every
    filtered column: the rows a page skips are read from the index alone."""
    filters = filters or HazardFilters()
    ids = visible_school_ids(actor, Action.VIEW)
    if filters.school_id is not None:
        ids = ids & {filters.school_id}
    if filters.town_id is not None:
        ids = ids & set(
            Organization.objects.filter(town_id=filters.town_id).values_list("pk", flat=True)
        )
    if not ids:
        return Hazard.objects.none()
    qs = Hazard.objects.filter(school_id__in=ids).select_related("school", "owner")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.level:
        qs = qs.filter(level=filters.level)
    if filters.overdue:
        qs = qs.filter(status__in=OPEN_HAZARD_STATUSES, deadline__lt=today or local_today())
    return qs.order_by("-reported_at", "-id")


class HazardRows:
    """The filtered list as a paginator sees it (Django's `Paginator`, core/api `paginate`):
    `count()` counts the filtered query; a slice first takes the page's ids — ordered,
    filtered and offset within the covering index, no table row read nor joined for the
    rows it skips — then loads those thirty or fifty rows with their school and owner.
    A slice past the middle of a counted list walks the index from the other end (oldest
    first, then turned round): page 3,000 of 3,334 skips 10,000 index entries, not 90,000."""

    def __init__(self, queryset):
        self.queryset = queryset
        self.total: int | None = None

    def count(self) -> int:
        if self.total is None:
            self.total = self.queryset.count()
        return self.total

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key):
        if not isinstance(key, slice):
            return self[key : key + 1][0]
        start, stop = key.start or 0, key.stop
        ids = self.queryset.values_list("pk", flat=True)
        if self.total is not None and stop is not None and start > self.total // 2:
            if start >= self.total:
                return []
            ids = list(ids.reverse()[max(0, self.total - stop) : self.total - start])[::-1]
        else:
            ids = list(ids[key])
        rows = self.queryset.model.objects.select_related("school", "owner").in_bulk(ids)
        return [rows[pk] for pk in ids if pk in rows]


@dataclass
class SchoolPicker:
    """The choices of the list's school filter. A county sees a thousand schools: listing
    them all made the page's one select weigh more than its rows (every option rendered
    by the form widget), so past `SCHOOL_CHOICES_MAX` the school filter lists one town's
    schools — the chosen town's, or the chosen school's — and a town filter comes first."""

    towns: list  # (id, name) of the towns of the visible schools; empty: no town filter
    schools: list  # (id, name) offered by the school filter
    town_id: int | None  # the town whose schools are offered (None: all, or none yet)
    complete: bool  # every visible school is offered


SCHOOL_CHOICES_MAX = 60


def school_picker(*, actor, town_id: int | None = None, school_id: int | None = None):
    """The school and town choices of the hazard list's filter (one query). Past
    `SCHOOL_CHOICES_MAX` schools, those of `town_id` — or of the town of `school_id` when
    no town is given — are offered (with no town at all: the schools that have none)."""
    ids = visible_school_ids(actor, Action.VIEW)
    rows = list(
        Organization.objects.filter(pk__in=ids)
        .order_by("name", "pk")
        .values_list("pk", "name", "town_id", "town__name")
    )
    towns = sorted({(t, name) for _pk, _name, t, name in rows if t is not None}, key=_by_name)
    if len(towns) < 2:
        towns = []
    if len(rows) <= SCHOOL_CHOICES_MAX:
        return SchoolPicker(towns, [(pk, name) for pk, name, *_ in rows], town_id, True)
    if town_id is None and school_id is not None:
        town_id = next((t for pk, _name, t, _town in rows if pk == school_id), None)
    offered = [(pk, name) for pk, name, t, _town in rows if t == town_id]
    return SchoolPicker(towns, offered, town_id, False)


def _by_name(pair):
    return (pair[1], pair[0])


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
