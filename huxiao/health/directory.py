"""The four-party directory of a school (§3 1), as every health page shows it (ADR 0032).

The school's named contacts (`HealthContact`) come first, by party; a party with no named
contact falls back to its organization's switchboard: the school's health centre
(`Organization.health_centre`), the town government, the school's education office (the
central school) and the school itself. So a school whose directory nobody has filled in yet
still shows whom to call, and says that the names are missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from huxiao.core.roles import OrgKind
from huxiao.health.choices import Party
from huxiao.health.models import HealthContact
from huxiao.orgs.models import Organization


@dataclass
class DirectoryEntry:
    party: str
    party_label: str
    name: str
    title: str
    phone: str
    is_primary: bool = False
    is_switchboard: bool = False  # an organization's phone, no named person yet


def _tel(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit() or ch == "+")


def four_party_directory(school: Organization) -> list[DirectoryEntry]:
    """The directory of `school`, in the order of `Party` (two queries)."""
    named: dict[str, list[DirectoryEntry]] = {p: [] for p in Party.values}
    for c in HealthContact.objects.filter(school_id=school.pk).select_related("organization"):
        named[c.party].append(
            DirectoryEntry(
                party=c.party,
                party_label=str(Party(c.party).label),
                name=c.name,
                title=c.title
                or (c.organization.short_name or c.organization.name if c.organization else ""),
                phone=c.phone,
                is_primary=c.is_primary,
            )
        )
    orgs = _party_organizations(school)
    entries: list[DirectoryEntry] = []
    for party in Party.values:
        if named[party]:
            entries += named[party]
            continue
        org = orgs.get(party)
        if org is not None and org.phone:
            entries.append(
                DirectoryEntry(
                    party=party,
                    party_label=str(Party(party).label),
                    name=org.short_name or org.name,
                    title="",
                    phone=org.phone,
                    is_switchboard=True,
                )
            )
    return entries


def _party_organizations(school: Organization) -> dict[str, Organization]:
    wanted = [pk for pk in (school.health_centre_id, school.education_office_id) if pk]
    found = {o.pk: o for o in Organization.objects.filter(pk__in=wanted)}
    government = None
    if school.town_id:
        government = (
            Organization.objects.filter(
                kind=OrgKind.GOVERNMENT, town_id=school.town_id, is_active=True
            )
            .order_by("pk")
            .first()
        )
    return {
        Party.HEALTH_CENTRE: found.get(school.health_centre_id),
        Party.GOVERNMENT: government,
        Party.CENTRAL_SCHOOL: found.get(school.education_office_id),
        Party.SCHOOL: school,
    }


def tel_href(phone: str) -> str:
    """`tel:` link of a phone number as written (digits and a leading + kept)."""
    return f"tel:{_tel(phone)}"
