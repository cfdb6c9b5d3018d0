"""Reads of the four-party directory (issue 9 item 1; §3 1; ADR 0032 "Directory").

Who reads a school's directory: everybody of the school and of the offices who holds a
health action there (VIEW_HEALTH, RECORD_HEALTH or VIEW_SUSPENSION) — that is every school
role, the health centre, the education office, the governance office and the government,
never the police. A user with none of these actions anywhere gets 403; a school out of
reach 404, exactly like one that does not exist.

Who edits: MANAGE_HEALTH holders. Members of the school itself (principal, health staff)
edit every party; a health officer edits only the health-centre entries, of the schools
their health centre serves (`Organization.health_centre`, or a school of their town that
names no health centre yet); a county-level health officer edits the health-centre entries
of every school in the county (`editable_parties`).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from huxiao.core.roles import SCHOOL_KINDS, Action, OrgKind, role_allows
from huxiao.core.scoping import can, memberships_of, visible_school_ids
from huxiao.health.choices import Party
from huxiao.health.models import HealthContact
from huxiao.orgs.models import Organization

MAX_ID = 2**63 - 1
# The actions that let a user read a school's directory (every health action but police's,
# who hold none).
DIRECTORY_READ_ACTIONS = (Action.VIEW_HEALTH, Action.RECORD_HEALTH, Action.VIEW_SUSPENSION)
PARTY_ORDER = {party: index for index, party in enumerate(Party.values)}
# The organization kinds a contact of each party may be linked to.
PARTY_KINDS = {
    Party.HEALTH_CENTRE: (OrgKind.HEALTH_CENTRE,),
    Party.GOVERNMENT: (OrgKind.GOVERNMENT, OrgKind.DEPARTMENT),
    Party.CENTRAL_SCHOOL: (OrgKind.EDUCATION_OFFICE,),
    Party.SCHOOL: tuple(SCHOOL_KINDS),
}


def valid_id(value) -> int:
    """A database id from a URL, a query or a form; anything else is "not found"."""
    if isinstance(value, bool):
        raise Http404
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise Http404 from None
    if number < 1 or number > MAX_ID:
        raise Http404
    return number


# ------------------------------------------------------------------ access


def directory_school_ids(actor) -> frozenset[int]:
    """The schools whose directory `actor` may read (no 403 here)."""
    ids: frozenset[int] = frozenset()
    for action in DIRECTORY_READ_ACTIONS:
        ids |= visible_school_ids(actor, action)
    return ids


def require_directory_reader(actor) -> frozenset[int]:
    ids = directory_school_ids(actor)
    if not ids:
        raise PermissionDenied(_("Your role does not allow this action."))
    return ids


def school_get(*, actor, school_id) -> Organization:
    """A school whose directory `actor` may read: 403 without any health action, 404 for a
    school out of reach or not a school."""
    ids = require_directory_reader(actor)
    number = valid_id(school_id)
    school = (
        Organization.objects.filter(pk=number, kind__in=SCHOOL_KINDS)
        .select_related("town", "health_centre", "education_office")
        .first()
        if number in ids
        else None
    )
    if school is None:
        raise Http404
    return school


def contact_get(*, actor, contact_id) -> HealthContact:
    """A contact of a school whose directory `actor` may read (403 / 404 as `school_get`)."""
    ids = require_directory_reader(actor)
    contact = (
        HealthContact.objects.filter(pk=valid_id(contact_id), school_id__in=ids)
        .select_related("school", "organization", "updated_by")
        .first()
    )
    if contact is None:
        raise Http404
    return contact


def may_manage(actor, school_id: int) -> bool:
    return can(actor, Action.MANAGE_HEALTH, school_id)


def editable_parties(actor, school: Organization) -> frozenset[str]:
    """The parties of `school`'s directory that `actor` may add, change and delete."""
    if not may_manage(actor, school.pk):
        return frozenset()
    if getattr(actor, "is_superuser", False):
        return frozenset(Party.values)
    parties: set[str] = set()
    for m in memberships_of(actor):
        org = m.organization
        if not role_allows(m.role, Action.MANAGE_HEALTH, county_level=org.is_county_level):
            continue
        if org.pk == school.pk:
            return frozenset(Party.values)
        if org.kind == OrgKind.HEALTH_CENTRE and _serves(org, school):
            parties.add(Party.HEALTH_CENTRE)
    return frozenset(parties)


def _serves(centre: Organization, school: Organization) -> bool:
    """Does the health organization `centre` look after `school`? Its own schools; a school
    of its town naming no health centre yet; every school of the county for a county-level
    health organization."""
    if centre.is_county_level:
        return centre.region_id == school.region_id
    if school.health_centre_id:
        return school.health_centre_id == centre.pk
    return centre.town_id is not None and centre.town_id == school.town_id


# ------------------------------------------------------------------ lists


def contact_list(school: Organization) -> list[HealthContact]:
    """The school's named contacts, party by party (Party order), first-to-call first."""
    rows = list(
        HealthContact.objects.filter(school_id=school.pk).select_related(
            "organization", "updated_by"
        )
    )
    rows.sort(key=lambda c: (PARTY_ORDER.get(c.party, 99), not c.is_primary, c.sort_order, c.pk))
    return rows


def organization_choices(school: Organization, party: str) -> list[Organization]:
    """The organizations a contact of `party` may be linked to: the school itself; the
    town's (or county's) health centres, governments and departments, education offices —
    the school's own link first."""
    if party == Party.SCHOOL:
        return [school]
    kinds = PARTY_KINDS.get(party, ())
    near = Q(town_id=school.town_id) if school.town_id else Q(pk__in=[])
    county = Q(town__isnull=True, region_id=school.region_id)
    rows = list(
        Organization.objects.filter(near | county, kind__in=kinds, is_active=True).order_by(
            "town_id", "kind", "name", "pk"
        )
    )
    own = default_organization_id(school, party)
    rows.sort(key=lambda o: (o.pk != own, o.town_id is None))
    return rows


def default_organization_id(school: Organization, party: str) -> int | None:
    """The organization a new contact of `party` is linked to unless told otherwise."""
    if party == Party.SCHOOL:
        return school.pk
    if party == Party.HEALTH_CENTRE:
        return school.health_centre_id
    if party == Party.CENTRAL_SCHOOL:
        return school.education_office_id
    if party == Party.GOVERNMENT and school.town_id:
        return (
            Organization.objects.filter(
                kind=OrgKind.GOVERNMENT, town_id=school.town_id, is_active=True
            )
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
    return None


def party_organizations(school: Organization) -> dict[str, Organization | None]:
    """The default organization of each party (for "fill from organizations")."""
    wanted = {party: default_organization_id(school, party) for party in Party.values}
    found = Organization.objects.in_bulk([pk for pk in wanted.values() if pk])
    return {party: found.get(pk) if pk else None for party, pk in wanted.items()}
