"""The areas a dashboard or a monthly report covers, derived from memberships (ADR 0033).

An area is the county (a region), a town, a police jurisdiction (station or post) or one
school, with the ids of the schools it holds **within the viewer's scope** for the action
that opens it. Nothing here trusts a client: `?town=` names an area that must be reachable
from one of the user's memberships, or the answer is 404 (as for any record out of scope).

- VIEW_DASHBOARD: a county-level office sees the county and may drill into any of its
  towns; a town-level office sees its town; a police station or post its jurisdiction.
- GENERATE_REPORTS: a county-level office may report on the county or any of its towns; a
  town-level office on its own town.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from huxiao.core.roles import POLICE_KINDS, SCHOOL_KINDS, Action, OrgKind, role_allows
from huxiao.core.scoping import memberships_of, visible_school_ids

COUNTY, TOWN, STATION, SCHOOL = "county", "town", "station", "school"
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class Area:
    kind: str  # county | town | station | school
    pk: int  # region, town, police organization or school id
    name: str
    region_id: int
    town_id: int | None
    school_ids: frozenset[int]

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.pk}"

    @property
    def is_police(self) -> bool:
        return self.kind == STATION


def _allowed(membership, action: str) -> bool:
    org = membership.organization
    return role_allows(membership.role, action, county_level=org.is_county_level)


def _schools(user, action: str, **filters) -> frozenset[int]:
    from huxiao.orgs.models import Organization

    visible = visible_school_ids(user, action)
    if not visible:
        return frozenset()
    ids = Organization.objects.filter(kind__in=SCHOOL_KINDS, **filters).values_list("pk", flat=True)
    return frozenset(ids) & visible


def _county(user, action: str, region) -> Area:
    return Area(
        COUNTY, region.pk, region.name, region.pk, None, _schools(user, action, region_id=region.pk)
    )


def _town(user, action: str, town) -> Area:
    return Area(
        TOWN, town.pk, town.name, town.region_id, town.pk, _schools(user, action, town_id=town.pk)
    )


def _home_areas(user, action: str) -> list[Area]:
    """The areas the user's own memberships give for `action`, widest first."""
    areas: dict[str, Area] = {}
    for m in memberships_of(user):
        if not _allowed(m, action):
            continue
        org = m.organization
        if org.kind in SCHOOL_KINDS:
            continue
        if action == Action.GENERATE_REPORTS and org.kind == OrgKind.DEPARTMENT:
            continue  # a department's liaison follows its tasks; the offices report
        if org.kind in POLICE_KINDS:
            if action != Action.VIEW_DASHBOARD:
                continue
            from huxiao.core.scoping import school_filter_for_org
            from huxiao.orgs.models import Organization

            ids = frozenset(
                Organization.objects.filter(
                    school_filter_for_org(org), kind__in=SCHOOL_KINDS
                ).values_list("pk", flat=True)
            ) & visible_school_ids(user, action)
            area = Area(STATION, org.pk, org.name, org.region_id, org.town_id, ids)
        elif org.town_id is None:
            area = _county(user, action, org.region)
        else:
            area = _town(user, action, org.town)
        areas.setdefault(area.key, area)
    order = {COUNTY: 0, TOWN: 1, STATION: 2}
    return sorted(areas.values(), key=lambda a: (order[a.kind], a.name, a.pk))


def _county_regions(user, action: str) -> set[int]:
    return {
        m.organization.region_id
        for m in memberships_of(user)
        if _allowed(m, action)
        and m.organization.kind not in SCHOOL_KINDS
        and m.organization.kind not in POLICE_KINDS
        and not (action == Action.GENERATE_REPORTS and m.organization.kind == OrgKind.DEPARTMENT)
        and m.organization.town_id is None
    }


def _town_or_404(user, action: str, town_id) -> Area:
    from huxiao.orgs.models import Town

    try:
        town_id = int(town_id)
    except (TypeError, ValueError):
        raise Http404(_("There is no such town.")) from None
    if not 0 < town_id <= MAX_ID:
        raise Http404(_("There is no such town."))
    town = Town.objects.filter(pk=town_id).first()
    if town is None:
        raise Http404(_("There is no such town."))
    if town.region_id in _county_regions(user, action):
        return _town(user, action, town)
    for area in _home_areas(user, action):
        if area.kind == TOWN and area.pk == town.pk:
            return area
    raise Http404(_("This town is outside your area."))


def dashboard_areas(user) -> list[Area]:
    """The dashboards the user may open from their memberships (county, towns, stations)."""
    return _home_areas(user, Action.VIEW_DASHBOARD)


def dashboard_area(user, *, town_id=None, station_id=None) -> Area:
    """The area of a dashboard request: the user's widest area, or `?town=` / `?station=`
    within it. PermissionDenied without VIEW_DASHBOARD; Http404 for an area out of reach."""
    homes = dashboard_areas(user)
    if not homes:
        raise PermissionDenied
    if town_id not in (None, ""):
        return _town_or_404(user, Action.VIEW_DASHBOARD, town_id)
    if station_id not in (None, ""):
        for area in homes:
            if area.kind == STATION and str(area.pk) == str(station_id):
                return area
        raise Http404(_("This police station is outside your area."))
    return homes[0]


def towns_of(area: Area) -> list:
    """The towns of a county area (for drill-down), by name."""
    from huxiao.orgs.models import Town

    if area.kind != COUNTY:
        return []
    return list(Town.objects.filter(region_id=area.pk).order_by("name", "pk"))


def report_areas(user) -> list[Area]:
    """The areas the user may request monthly reports for: their own areas and, for a
    county-level office, every town of the county."""
    homes = _home_areas(user, Action.GENERATE_REPORTS)
    areas = {a.key: a for a in homes}
    for area in homes:
        if area.kind == COUNTY:
            for town in towns_of(area):
                t = _town(user, Action.GENERATE_REPORTS, town)
                areas.setdefault(t.key, t)
    order = {COUNTY: 0, TOWN: 1}
    return sorted(areas.values(), key=lambda a: (order.get(a.kind, 2), a.name, a.pk))


def report_area(user, *, kind: str, pk) -> Area:
    """One area the user may request a monthly report for. PermissionDenied without
    GENERATE_REPORTS; Http404 (with a message) for a county or town out of reach."""
    if not _home_areas(user, Action.GENERATE_REPORTS):
        raise PermissionDenied
    if kind == TOWN:
        return _town_or_404(user, Action.GENERATE_REPORTS, pk)
    if kind == COUNTY:
        for area in _home_areas(user, Action.GENERATE_REPORTS):
            if area.kind == COUNTY and str(area.pk) == str(pk):
                return area
        raise Http404(_("This county is outside your area."))
    raise Http404(_("There is no such area."))


def area_of_report(report) -> tuple[str, int]:
    """(kind, pk) of the area a monthly report row covers."""
    if report.town_id:
        return TOWN, report.town_id
    return COUNTY, report.region_id
