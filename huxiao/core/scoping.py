"""Who may see what — computed in one place.

Every scoped model's manager is built from `ScopedQuerySet` and answers
`Model.objects.visible_to(principal, action)`. A principal is a user (through their
memberships) or a device (bound to one school). The set of visible schools is computed once
per principal and action and kept on the principal object for the rest of the request.

Rules (DESIGN.md §1):
- a school member sees only their school;
- a police station sees the schools of its jurisdiction, a police post those it covers;
- a town-level office sees the schools of its town;
- a county-level office (no town) sees every school of the county.
The role of the membership decides the actions (core/roles.py). Out of scope behaves exactly
like "does not exist": callers use `get_object_or_404` on the scoped queryset.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models
from django.db.models import Q

from huxiao.core.roles import POLICE_KINDS, SCHOOL_KINDS, OrgKind, role_allows

_CACHE_ATTR = "_huxiao_scope_cache"


@dataclass
class DevicePrincipal:
    """A gate terminal or alarm box authenticated by its device token."""

    device_id: int
    school_id: int
    name: str
    actions: frozenset[str]
    is_authenticated: bool = True
    is_device: bool = True
    pk: None = None
    _huxiao_scope_cache: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return f"device:{self.name}"


def _memberships(user) -> list:
    cache = _scope_cache(user)
    if "memberships" not in cache:
        from huxiao.orgs.models import Membership

        cache["memberships"] = list(
            Membership.objects.filter(user_id=user.pk, is_active=True).select_related(
                "organization"
            )
        )
    return cache["memberships"]


def _scope_cache(principal) -> dict:
    cache = getattr(principal, _CACHE_ATTR, None)
    if cache is None:
        cache = {}
        setattr(principal, _CACHE_ATTR, cache)
    return cache


def clear_scope_cache(principal) -> None:
    """Forget the computed scope (after memberships change)."""
    if hasattr(principal, _CACHE_ATTR):
        getattr(principal, _CACHE_ATTR).clear()


def memberships_of(user) -> list:
    if not _is_user(user):
        return []
    return _memberships(user)


def _is_user(principal) -> bool:
    return (
        principal is not None
        and getattr(principal, "is_authenticated", False)
        and not getattr(principal, "is_device", False)
    )


def school_filter_for_org(org) -> Q:
    """The schools an organization's members see, as a filter on Organization."""
    if org.kind in SCHOOL_KINDS:
        return Q(pk=org.pk)
    if org.kind == OrgKind.POLICE_STATION:
        return Q(police_station_id=org.pk)
    if org.kind == OrgKind.POLICE_POST:
        return Q(police_post_id=org.pk)
    if org.town_id:
        return Q(town_id=org.town_id)
    return Q(region_id=org.region_id)


def _schools_of_org(principal, org) -> frozenset[int]:
    """The schools an organization's members see; computed once per request and shared by
    every action (the role decides the actions, not the set). A school sees itself: no query."""
    cache = _scope_cache(principal)
    key = ("org_schools", org.pk)
    if key not in cache:
        if org.kind in SCHOOL_KINDS:
            cache[key] = frozenset({org.pk})
        else:
            from huxiao.orgs.models import Organization

            cache[key] = frozenset(
                Organization.objects.filter(
                    school_filter_for_org(org), kind__in=SCHOOL_KINDS
                ).values_list("pk", flat=True)
            )
    return cache[key]


def visible_school_ids(principal, action: str = "view") -> frozenset[int]:
    """Primary keys of the schools on which `principal` may perform `action`."""
    if principal is None or not getattr(principal, "is_authenticated", False):
        return frozenset()
    cache = _scope_cache(principal)
    key = ("schools", action)
    if key in cache:
        return cache[key]
    if isinstance(principal, DevicePrincipal):
        ids = frozenset({principal.school_id}) if action in principal.actions else frozenset()
        cache[key] = ids
        return ids
    if principal.is_superuser:
        all_key = ("schools", "*")
        if all_key not in cache:
            from huxiao.orgs.models import Organization

            cache[all_key] = frozenset(
                Organization.objects.filter(kind__in=SCHOOL_KINDS).values_list("pk", flat=True)
            )
        ids = cache[all_key]
    else:
        ids = frozenset().union(
            *(
                _schools_of_org(principal, m.organization)
                for m in _memberships(principal)
                if role_allows(m.role, action, county_level=m.organization.is_county_level)
            )
        )
    cache[key] = ids
    return ids


def can(principal, action: str, school_id: int | None) -> bool:
    """May `principal` perform `action` on records of the school `school_id`?"""
    return school_id is not None and school_id in visible_school_ids(principal, action)


def is_police(principal) -> bool:
    return any(m.organization.kind in POLICE_KINDS for m in memberships_of(principal))


class ScopedQuerySet(models.QuerySet):
    """A queryset that knows the path from its model to the owning school.

    Models set `scope_school_field` (default "school"), e.g. "child__school" for guardians.
    """

    def visible_to(self, principal, action: str = "view"):
        school_field = getattr(self.model, "scope_school_field", "school")
        ids = visible_school_ids(principal, action)
        if not ids:
            return self.none()
        return self.filter(**{f"{school_field}_id__in": ids})


class MultiSchoolQuerySet(models.QuerySet):
    """Records linked to several schools through a many-to-many field (default "schools",
    or the model's `scope_schools_field`): visible when at least one of them is."""

    def visible_to(self, principal, action: str = "view"):
        ids = visible_school_ids(principal, action)
        if not ids:
            return self.none()
        field = self.model._meta.get_field(getattr(self.model, "scope_schools_field", "schools"))
        links = field.remote_field.through.objects.filter(
            **{f"{field.m2m_reverse_field_name()}_id__in": ids}
        )
        return self.filter(pk__in=links.values(f"{field.m2m_field_name()}_id"))


ScopedManager = models.Manager.from_queryset(ScopedQuerySet)


class _NarrowedScope(dict):
    """The scope cache of a `narrowed_to` principal: every ("schools", action) asked is the
    user's own set for that action cut down to the chosen schools, computed when first
    asked; the memberships are the user's."""

    def __init__(self, user, school_ids: frozenset[int]):
        super().__init__()
        self.user = user
        self.school_ids = school_ids

    def __contains__(self, key) -> bool:
        return _is_narrowed_key(key) or super().__contains__(key)

    def __missing__(self, key):
        if key == "memberships":
            value = list(memberships_of(self.user))
        elif _is_narrowed_key(key):
            value = visible_school_ids(self.user, key[1]) & self.school_ids
        else:
            raise KeyError(key)
        self[key] = value
        return value


def _is_narrowed_key(key) -> bool:
    return key == "memberships" or (
        isinstance(key, tuple) and len(key) == 2 and key[0] == "schools"
    )


class NarrowedPrincipal:
    """A user who, for this one read, sees only some of their schools (see `narrowed_to`).
    Everything else (pk, username, memberships…) is the user's."""

    def __init__(self, user, school_ids):
        self._user = user
        self._huxiao_scope_cache = _NarrowedScope(user, frozenset(school_ids))

    def __getattr__(self, name):
        return getattr(self._user, name)

    def __str__(self) -> str:
        return str(self._user)


def narrowed_to(user, school_ids) -> NarrowedPrincipal:
    """`user` seeing only `school_ids` of what they see, for every action: a county leader's
    dashboard of one town reads the same selectors as the county's, each cut down to the
    town (ADR 0033). Never widens: a school the user does not see for an action stays out.
    For reads only — pass the user itself to services."""
    return NarrowedPrincipal(user, school_ids)
