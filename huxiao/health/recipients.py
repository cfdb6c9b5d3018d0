"""Who is told about a school's health events (ADR 0032).

The school side: its health staff (the school's epidemic reporter) and principals (the
leading group's leader); the health centre side: the health officers of the school's health
centre (`Organization.health_centre`). Suspension decisions also go to the school's
education office supervisors and the town's government liaisons (`with_offices=True`).
Only active memberships of active users; each user once; two queries whatever the number of
schools. Police are never told about health events.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from huxiao.core.roles import OrgKind, Role
from huxiao.orgs.models import Membership, Organization

SCHOOL_SIDE = (Role.HEALTH_STAFF, Role.PRINCIPAL)


def health_recipients(
    schools: Iterable[Organization | int],
    *,
    school_roles: tuple = SCHOOL_SIDE,
    health_centre: bool = True,
    with_offices: bool = False,
) -> dict[int, list[int]]:
    """User ids told about each school's health events, by school id (every school given
    has a key): the school side by role in the order given, then the health centre's
    officers (then, with `with_offices`, the education office's supervisors and the town
    government's liaisons)."""
    ids = [getattr(s, "pk", s) for s in schools]
    links = {
        row["pk"]: row
        for row in Organization.objects.filter(pk__in=ids).values(
            "pk", "health_centre_id", "education_office_id", "town_id"
        )
    }
    outside: dict[int, list[tuple[str, int | None]]] = {}
    for pk, row in links.items():
        parts = []
        if health_centre and row["health_centre_id"]:
            parts.append((Role.HEALTH_OFFICER, row["health_centre_id"]))
        if with_offices:
            parts.append((Role.EDUCATION_SUPERVISOR, row["education_office_id"]))
            parts.append((Role.GOVERNMENT_LIAISON, ("town", row["town_id"])))
        outside[pk] = parts
    org_ids = set(ids) | {
        org for parts in outside.values() for _role, org in parts if isinstance(org, int)
    }
    towns = {org[1] for parts in outside.values() for _role, org in parts if isinstance(org, tuple)}
    rows = Membership.objects.filter(is_active=True, user__is_active=True)
    members: dict[object, list[tuple[str, int]]] = defaultdict(list)
    for org_id, role, user_id in rows.filter(organization_id__in=org_ids).values_list(
        "organization_id", "role", "user_id"
    ):
        members[org_id].append((role, user_id))
    if towns:
        for town_id, role, user_id in rows.filter(
            organization__kind=OrgKind.GOVERNMENT, organization__town_id__in=towns
        ).values_list("organization__town_id", "role", "user_id"):
            members[("town", town_id)].append((role, user_id))
    result: dict[int, list[int]] = {}
    for pk in ids:
        ordered: list[int] = []
        for role in school_roles:
            ordered += sorted(u for r, u in members[pk] if r == role)
        for role, org in outside.get(pk, []):
            if org is not None:
                ordered += sorted(u for r, u in members[org] if r == role)
        result[pk] = list(dict.fromkeys(ordered))
    return result
