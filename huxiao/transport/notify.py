"""Who hears about a school's buses, and in which words (ADR 0031).

One place decides who is told: the school's principals and security officers, and the
police of the school's jurisdiction (its police station and campus police post). Trip flags,
inspection findings and their follow-up, and the daily document reminder all ask
`told_about`, each for the sides it needs. Only active members who can log in are told.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Q
from django.utils import translation

from huxiao.core.roles import Role
from huxiao.orgs.models import Membership, Organization

SCHOOL_LEADS = (Role.PRINCIPAL, Role.SECURITY_OFFICER)
POLICE = (Role.POLICE_COMMANDER, Role.POLICE_OFFICER)
COMMANDERS = (Role.POLICE_COMMANDER,)


def told_about(
    schools: Iterable[Organization | int],
    *,
    school_roles: tuple = SCHOOL_LEADS,
    police_roles: tuple = POLICE,
    posts: bool = True,
) -> dict[int, list[int]]:
    """User ids told about each school's buses, by school id (every school given has a key).

    First the school's members with `school_roles`, then the members with `police_roles` of
    its police station and (with `posts`) of its campus police post; by role in the order
    given, then by user id; each user once. Two queries at most, whatever the number of
    schools. `schools` are organizations or their ids."""
    schools = list(schools)
    ids = [getattr(school, "pk", school) for school in schools]
    police = _police_of(schools, posts=posts) if police_roles else {}
    wanted = Q(organization_id__in=ids, role__in=school_roles) if school_roles else Q()
    police_ids = {pk for orgs in police.values() for pk in orgs}
    if police_ids:
        wanted |= Q(organization_id__in=police_ids, role__in=police_roles)
    members: dict[int, list[tuple[int, int]]] = defaultdict(list)
    if wanted:
        rank = {role: n for n, role in enumerate((*school_roles, *police_roles))}
        rows = Membership.objects.filter(wanted, is_active=True, user__is_active=True)
        for org_id, role, user_id in rows.values_list("organization_id", "role", "user_id"):
            members[org_id].append((rank[role], user_id))
    result = {}
    for pk in ids:
        school_side = sorted(members[pk]) if school_roles else []
        police_side = [sorted(members[org]) for org in police.get(pk, [])]
        ordered = [user for side in (school_side, *police_side) for _rank, user in side]
        result[pk] = list(dict.fromkeys(ordered))
    return result


def told_about_one(school: Organization | int, **sides) -> list[int]:
    """`told_about` for a single school."""
    return told_about([school], **sides)[getattr(school, "pk", school)]


def _police_of(schools: list, *, posts: bool) -> dict[int, list[int]]:
    """The police organizations of each school: its station, then its campus post."""
    known = {school.pk: school for school in schools if isinstance(school, Organization)}
    missing = [pk for pk in schools if not isinstance(pk, Organization)]
    if missing:
        known.update(
            Organization.objects.only("pk", "police_station_id", "police_post_id").in_bulk(missing)
        )
    result = {}
    for pk, school in known.items():
        orgs = (school.police_station_id, school.police_post_id if posts else None)
        result[pk] = [org for org in dict.fromkeys(orgs) if org]
    return result


def platform_text(template, params: dict | None = None) -> str:
    """A stored or sent sentence in the platform's language, whoever acted."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(template) % params if params else str(template)
