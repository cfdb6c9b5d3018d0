"""Reads of school-related cases, always scoped (ADR 0021).

Three ways of seeing a case, decided per school:
- MANAGE: police holding MANAGE_CASES for the school (station commander and officers, and
  officers of the campus post that covers it) see everything and edit;
- COMMAND: education, governance and government offices holding VIEW_COVERAGE (town or
  county) see cases and timelines, never the high-risk person links;
- SCHOOL: the school's principal and security officer see their own school's cases (title,
  status, officer, dates), no notes and no links.
Anything else is 404 for a record and 403 for a list. Person links are shown only to the
keepers of the station's register (rules.register_station_ids), and only at MANAGE.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404

from huxiao.core.roles import POLICE_KINDS, SCHOOL_KINDS, Action, Role, role_allows
from huxiao.core.scoping import _schools_of_org, memberships_of, visible_school_ids
from huxiao.intel import rules
from huxiao.intel.cases_choices import OPEN_STATUSES, CaseStatus
from huxiao.intel.models import CaseEvent, SchoolCase

MANAGE = "manage"
COMMAND = "command"
SCHOOL = "school"
_RANK = {SCHOOL: 1, COMMAND: 2, MANAGE: 3}
SCHOOL_READER_ROLES = frozenset({Role.PRINCIPAL, Role.SECURITY_OFFICER})


def case_levels(actor) -> dict[int, str]:
    """School id → the strongest way the actor sees that school's cases."""
    levels: dict[int, str] = {}

    def grant(ids, level):
        for school_id in ids:
            if _RANK[level] > _RANK.get(levels.get(school_id, ""), 0):
                levels[school_id] = level

    for membership in memberships_of(actor):
        org = membership.organization
        if not org.is_active:
            continue
        if org.kind in SCHOOL_KINDS and membership.role in SCHOOL_READER_ROLES:
            grant({org.pk}, SCHOOL)
        elif org.kind not in SCHOOL_KINDS | POLICE_KINDS and role_allows(
            membership.role, Action.VIEW_COVERAGE
        ):
            grant(_schools_of_org(actor, org), COMMAND)
    grant(visible_school_ids(actor, Action.MANAGE_CASES), MANAGE)
    return levels


def require_case_access(actor) -> dict[int, str]:
    levels = case_levels(actor)
    if not levels:
        raise PermissionDenied
    return levels


def shows_persons(actor, case: SchoolCase, levels: dict[int, str] | None = None) -> bool:
    """Person links are for the keepers of the station's register who manage the case."""
    levels = case_levels(actor) if levels is None else levels
    return levels.get(case.school_id) == MANAGE and case.station_id in rules.register_station_ids(
        actor
    )


def case_list(*, actor, status: str = "", school_id: int | None = None):
    levels = require_case_access(actor)
    qs = SchoolCase.objects.filter(school_id__in=levels).select_related(
        "school", "station", "officer"
    )
    if status:
        qs = qs.filter(status=status)
    if school_id is not None:
        qs = qs.filter(school_id=school_id)
    return qs


def case_get(*, actor, case_id: int) -> SchoolCase:
    levels = case_levels(actor)
    return get_object_or_404(
        SchoolCase.objects.filter(school_id__in=levels)
        .select_related("school", "station", "officer")
        .prefetch_related(
            Prefetch("events", queryset=CaseEvent.objects.order_by("at", "id")),
            "alarms",
            "warning_signs",
            "persons",
        ),
        pk=case_id,
    )


@dataclass
class StationStats:
    station_id: int
    station_name: str
    open: int
    solved: int
    referred: int
    closed: int
    median_days_to_solve: float | None


def case_stats(*, actor) -> list[StationStats]:
    """Per station: open and solved counts and the median days from registration to
    solution (a referred or closed case that was solved counts as solved)."""
    levels = case_levels(actor)
    if not any(level in (MANAGE, COMMAND) for level in levels.values()):
        raise PermissionDenied
    ids = [school_id for school_id, level in levels.items() if level in (MANAGE, COMMAND)]
    rows = SchoolCase.objects.filter(school_id__in=ids).select_related("station")
    by_station: dict[int, list[SchoolCase]] = {}
    for case in rows:
        by_station.setdefault(case.station_id, []).append(case)
    stats = []
    for station_id, cases in sorted(by_station.items()):
        days = [c.days_to_solve for c in cases if c.days_to_solve is not None]
        stats.append(
            StationStats(
                station_id=station_id,
                station_name=cases[0].station.name,
                open=sum(1 for c in cases if c.status in OPEN_STATUSES),
                solved=len(days),
                referred=sum(1 for c in cases if c.status == CaseStatus.REFERRED),
                closed=sum(1 for c in cases if c.status == CaseStatus.CLOSED),
                median_days_to_solve=round(statistics.median(days), 1) if days else None,
            )
        )
    return stats
