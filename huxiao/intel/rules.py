"""Who may see and keep the high-risk persons register (ADR 0017).

The register is scoped by police station, not by school: a record belongs to the station
that keeps it, and is seen by the members of that station, and of the campus police posts
under it (`Organization.parent`), whose role grants the action (core/roles.py: commanders
and officers; not legal vice-principals, not any school, office or health role). A
superuser without such a membership sees nothing: operating the platform is not police
work. Devices never see it.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from huxiao.core.roles import OrgKind, Role, role_allows
from huxiao.core.scoping import memberships_of

VIEW = "view_register"
EDIT = "edit_register"


def register_station_ids(principal, action: str = VIEW, *, roles=None) -> frozenset[int]:
    """The police stations whose register `principal` may use for `action`.

    `roles`, if given, narrows the memberships counted to those roles (e.g. commanders).
    A post counts for its parent only if that parent is a police station.
    """
    ids: set[int] = set()
    post_parents: set[int] = set()
    for membership in memberships_of(principal):
        if roles is not None and membership.role not in roles:
            continue
        if not role_allows(membership.role, action):
            continue
        org = membership.organization
        if not org.is_active:
            continue
        if org.kind == OrgKind.POLICE_STATION:
            ids.add(org.pk)
        elif org.kind == OrgKind.POLICE_POST and org.parent_id:
            post_parents.add(org.parent_id)
    if post_parents - ids:
        from huxiao.orgs.models import Organization

        ids |= set(
            Organization.objects.filter(
                pk__in=post_parents - ids, kind=OrgKind.POLICE_STATION, is_active=True
            ).values_list("pk", flat=True)
        )
    return frozenset(ids)


def can_use_register(principal) -> bool:
    return bool(register_station_ids(principal, VIEW))


def can_edit(principal, station_id: int) -> bool:
    return station_id in register_station_ids(principal, EDIT)


def require_edit(principal, station_id: int) -> None:
    """Seeing a record is checked first (404); this separates seeing from keeping."""
    if not can_edit(principal, station_id):
        raise PermissionDenied(_("Your role does not allow this action."))


def require_view(principal, station_id: int) -> None:
    if station_id not in register_station_ids(principal, VIEW):
        raise Http404


def is_commander(principal, station_id: int) -> bool:
    """The station's commander reads who accessed a record and exports the register."""
    return station_id in register_station_ids(principal, VIEW, roles={Role.POLICE_COMMANDER})


def register_members(station_id: int, *, roles=None):
    """Active users who may use the station's register (for officers and alerts)."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    from huxiao.orgs.models import Membership

    allowed_roles = [
        role for role in Role.values if role_allows(role, VIEW) and (roles is None or role in roles)
    ]
    memberships = Membership.objects.filter(
        Q(organization_id=station_id) | Q(organization__parent_id=station_id),
        organization__kind__in=(OrgKind.POLICE_STATION, OrgKind.POLICE_POST),
        organization__is_active=True,
        role__in=allowed_roles,
        is_active=True,
    )
    return (
        get_user_model()
        .objects.filter(pk__in=memberships.values("user_id"), is_active=True)
        .order_by("last_name", "first_name", "username")
    )
