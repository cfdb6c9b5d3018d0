"""Reads of assessment and ranking (issue 6 item 5, ADR 0027 "Assessment and ranking").

Who reads what:
- **Schemes and rankings** are read by assessors: anyone holding `ASSESS` or
  `HOLD_ACCOUNTABLE` on a school the scheme covers (the owning office's schools), and the
  owning office's assessors. Everyone else gets 403 when they may assess nowhere, 404 for
  a scheme or run outside their reach. A ranking lists only the schools of the reader's
  own scope (ranks are those of the whole scheme).
- **Managing** a scheme (edit, manual scores, compute, publish) is for the `ASSESS` members
  of the owning office.
- **A school's own results** (published runs only) are read by whoever may view that school:
  its score, rating, rank position among the ranked schools, its indicator breakdown, its
  veto and its town's mean — never another school's name or score.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.core.roles import SCHOOL_KINDS, Action, OrgKind, role_allows
from huxiao.core.scoping import can, memberships_of, school_filter_for_org, visible_school_ids
from huxiao.orgs.models import Organization
from huxiao.supervision.choices import PeriodKind, RunStatus
from huxiao.supervision.models import (
    AssessmentResult,
    AssessmentRun,
    AssessmentScheme,
    Indicator,
    TownResult,
    Veto,
)

MAX_ID = 2**63 - 1
ASSESSING_KINDS = (OrgKind.EDUCATION_OFFICE, OrgKind.GOVERNANCE_OFFICE)


# ------------------------------------------------------------------ periods


@dataclass(frozen=True)
class Period:
    kind: str
    start: dt.date
    end: dt.date

    @property
    def label(self) -> str:
        if self.kind == PeriodKind.YEAR:
            return f"{self.start.year}"
        if self.kind == PeriodKind.QUARTER:
            return f"{self.start.year} Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start:%Y-%m}"


def period_of(kind: str, day: dt.date) -> Period:
    """The month, quarter or year that contains `day`."""
    if kind == PeriodKind.YEAR:
        return Period(kind, dt.date(day.year, 1, 1), dt.date(day.year, 12, 31))
    months = 3 if kind == PeriodKind.QUARTER else 1
    first_month = (day.month - 1) // months * months + 1
    start = dt.date(day.year, first_month, 1)
    after = first_month + months  # 13 is January of the next year
    following = dt.date(day.year + (after - 1) // 12, (after - 1) % 12 + 1, 1)
    return Period(kind, start, following - dt.timedelta(days=1))


def previous_period(kind: str, day: dt.date) -> Period:
    return period_of(kind, period_of(kind, day).start - dt.timedelta(days=1))


def local_today(now: dt.datetime | None = None) -> dt.date:
    return timezone.localtime(now or timezone.now()).date()


# ------------------------------------------------------------------ who


def assessor_offices(actor, action: str = Action.ASSESS) -> list[Organization]:
    """The actor's active education and governance offices where a role allows `action`."""
    return [
        m.organization
        for m in memberships_of(actor)
        if m.organization.is_active
        and m.organization.kind in ASSESSING_KINDS
        and role_allows(m.role, action, county_level=m.organization.is_county_level)
    ]


def reader_school_ids(actor) -> frozenset[int]:
    """The schools whose results the actor may read in a ranking."""
    return visible_school_ids(actor, Action.ASSESS) | visible_school_ids(
        actor, Action.HOLD_ACCOUNTABLE
    )


def is_assessor(actor) -> bool:
    return bool(reader_school_ids(actor) or assessor_offices(actor))


def require_assessor(actor) -> None:
    """403 for someone who may assess nowhere (a later 404 only means "not there")."""
    if not is_assessor(actor):
        raise PermissionDenied(_("Your role does not allow this action."))


def _scheme_q(actor) -> Q:
    """Schemes owned by the actor's assessing offices, or covering a school they read."""
    ids = reader_school_ids(actor)
    q = Q(owner_id__in=[o.pk for o in assessor_offices(actor)])
    if ids:
        places = Organization.objects.filter(pk__in=ids).values_list("town_id", "region_id")
        towns = {town for town, _region in places if town is not None}
        regions = {region for _town, region in places}
        q |= Q(owner__town_id__in=towns) | Q(owner__town__isnull=True, owner__region_id__in=regions)
    return q


def may_manage(actor, scheme: AssessmentScheme) -> bool:
    return any(o.pk == scheme.owner_id for o in assessor_offices(actor))


def may_hold_accountable(actor) -> bool:
    return bool(visible_school_ids(actor, Action.HOLD_ACCOUNTABLE))


# ------------------------------------------------------------------ schemes


def covered_schools(owner: Organization) -> QuerySet[Organization]:
    """The active schools a scheme of `owner` assesses: those its members see."""
    return Organization.objects.filter(
        school_filter_for_org(owner), kind__in=SCHOOL_KINDS, is_active=True
    )


def scheme_list(*, actor) -> QuerySet[AssessmentScheme]:
    require_assessor(actor)
    return (
        AssessmentScheme.objects.filter(_scheme_q(actor))
        .select_related("owner")
        .annotate(
            published_runs=Count("runs", filter=Q(runs__status=RunStatus.PUBLISHED), distinct=True)
        )
        .order_by("-is_active", "name", "id")
    )


def scheme_get(*, actor, scheme_id: int) -> AssessmentScheme:
    require_assessor(actor)
    if scheme_id > MAX_ID:
        raise Http404
    scheme = (
        AssessmentScheme.objects.filter(_scheme_q(actor), pk=scheme_id)
        .select_related("owner")
        .first()
    )
    if scheme is None:
        raise Http404
    return scheme


def scheme_indicators(scheme: AssessmentScheme) -> list[Indicator]:
    return list(scheme.indicators.order_by("order", "id"))


def has_published_runs(scheme: AssessmentScheme) -> bool:
    return scheme.runs.filter(status=RunStatus.PUBLISHED).exists()


# ------------------------------------------------------------------ runs and rankings


def run_list(*, actor, scheme: AssessmentScheme | None = None) -> QuerySet[AssessmentRun]:
    require_assessor(actor)
    qs = AssessmentRun.objects.filter(
        scheme__in=AssessmentScheme.objects.filter(_scheme_q(actor))
    ).select_related("scheme", "computed_by", "published_by")
    if scheme is not None:
        qs = qs.filter(scheme=scheme)
    return qs.order_by("-period_start", "-computed_at", "-id")


def run_get(*, actor, run_id: int) -> AssessmentRun:
    require_assessor(actor)
    if run_id > MAX_ID:
        raise Http404
    run = (
        AssessmentRun.objects.filter(
            pk=run_id, scheme__in=AssessmentScheme.objects.filter(_scheme_q(actor))
        )
        .select_related("scheme__owner", "computed_by", "published_by")
        .first()
    )
    if run is None:
        raise Http404
    return run


def run_results(*, actor, run: AssessmentRun, town_id: int | None = None):
    """The run's school results the actor may read, best first (unranked last)."""
    qs = AssessmentResult.objects.filter(
        run=run, school_id__in=reader_school_ids(actor)
    ).select_related("school", "town")
    if town_id is not None:
        qs = qs.filter(town_id=town_id)
    # NULL ranks sort first on PostgreSQL and last on SQLite: say it explicitly.
    return qs.order_by(F("rank").asc(nulls_last=True), "school__name", "school_id")


def run_towns(*, actor, run: AssessmentRun) -> list[TownResult]:
    """Town results of the towns where the actor reads at least one school."""
    towns = (
        Organization.objects.filter(pk__in=reader_school_ids(actor))
        .exclude(town__isnull=True)
        .values("town_id")
    )
    return list(
        TownResult.objects.filter(run=run, town_id__in=towns)
        .select_related("town")
        .order_by(F("rank").asc(nulls_last=True), "town__name", "town_id")
    )


def published_runs_of(*, owner_ids, period_start: dt.date, kind: str = PeriodKind.MONTH):
    """The published runs of the `kind` schemes of the offices `owner_ids` for the period
    that starts on `period_start`, the latest published first (the monthly report of a town
    or the county, ADR 0033: the caller has decided that these offices' rankings are
    read; `run_results` / `run_towns` then give the rows of the reader's schools)."""
    return (
        AssessmentRun.objects.filter(
            scheme__owner_id__in=list(owner_ids),
            scheme__period_kind=kind,
            period_start=period_start,
            status=RunStatus.PUBLISHED,
        )
        .select_related("scheme__owner")
        .order_by("-published_at", "-id")
    )


def ranked_count(run: AssessmentRun) -> int:
    return run.results.filter(rank__isnull=False).count()


@dataclass
class IndicatorCell:
    indicator_id: int
    name: str
    weight: object
    value: str | None
    score: str | None
    no_data: bool


def cells_of(result: AssessmentResult, indicators: list[Indicator]) -> list[IndicatorCell]:
    """The per-indicator breakdown of one result, in the scheme's order."""
    cells = []
    for ind in indicators:
        detail = (result.details or {}).get(str(ind.pk)) or {}
        cells.append(
            IndicatorCell(
                indicator_id=ind.pk,
                name=ind.name,
                weight=ind.weight,
                value=detail.get("value"),
                score=detail.get("score"),
                no_data=detail.get("no_data", True),
            )
        )
    return cells


# ------------------------------------------------------------------ a school's own results


@dataclass
class SchoolResult:
    result: AssessmentResult
    run: AssessmentRun
    ranked: int
    town_score: object
    cells: list[IndicatorCell]
    vetoes: list[Veto]
    # Vetoes that counted in this (frozen) result but were revoked after it was computed:
    # the page says so, with when and why (ADR 0027, "Review fixes").
    revoked_vetoes: list[Veto] = field(default_factory=list)


def school_results(*, actor, school_id: int, limit: int = 12) -> list[SchoolResult]:
    """The school's results in published runs, newest period first (the latest published
    run of each scheme and period). 404 when the actor may not view the school."""
    if school_id > MAX_ID or not can(actor, Action.VIEW, school_id):
        raise Http404
    results = list(
        AssessmentResult.objects.filter(school_id=school_id, run__status=RunStatus.PUBLISHED)
        .select_related("run__scheme", "school")
        .order_by("-run__period_start", "run__scheme_id", "-run__published_at", "-run_id")
    )
    latest, seen = [], set()
    for result in results:
        key = (result.run.scheme_id, result.run.period_start)
        if key not in seen:
            seen.add(key)
            latest.append(result)
    latest = latest[:limit]
    run_ids = [r.run_id for r in latest]
    ranked = dict(
        AssessmentResult.objects.filter(run_id__in=run_ids, rank__isnull=False)
        .values("run_id")
        .annotate(n=Count("pk"))
        .values_list("run_id", "n")
        .order_by()
    )
    towns = {
        (t.run_id, t.town_id): t.score
        for t in TownResult.objects.filter(run_id__in=run_ids).only("run_id", "town_id", "score")
    }
    indicators: dict[int, list[Indicator]] = {}
    for ind in Indicator.objects.filter(scheme_id__in={r.run.scheme_id for r in latest}).order_by(
        "order", "id"
    ):
        indicators.setdefault(ind.scheme_id, []).append(ind)
    vetoes = list(
        Veto.objects.filter(school_id=school_id)
        .select_related("decided_by_org")
        .order_by("decided_at", "pk")
    )

    def overlapping(run):
        return [
            v
            for v in vetoes
            if v.period_start <= run.period_end and v.period_end >= run.period_start
        ]

    return [
        SchoolResult(
            result=r,
            run=r.run,
            ranked=ranked.get(r.run_id, 0),
            town_score=towns.get((r.run_id, r.town_id)),
            cells=cells_of(r, indicators.get(r.run.scheme_id, [])),
            vetoes=[v for v in overlapping(r.run) if v.revoked_at is None],
            # Revoked after the run was computed, so it still counted there (one revoked
            # before did not, and is not shown).
            revoked_vetoes=[
                v
                for v in overlapping(r.run)
                if v.revoked_at is not None and v.revoked_at > r.run.computed_at
            ],
        )
        for r in latest
    ]


def own_schools(actor) -> list[Organization]:
    """The schools the actor belongs to (for "my school's results")."""
    ids = {m.organization_id for m in memberships_of(actor) if m.organization.kind in SCHOOL_KINDS}
    return list(Organization.objects.filter(pk__in=ids, is_active=True).order_by("name"))


# ------------------------------------------------------------------ vetoes


def veto_list(*, actor, school_id: int | None = None) -> QuerySet[Veto]:
    require_assessor(actor)
    qs = Veto.objects.filter(school_id__in=reader_school_ids(actor)).select_related(
        "school", "decided_by_org", "decided_by", "revoked_by"
    )
    if school_id is not None:
        qs = qs.filter(school_id=school_id)
    return qs.order_by("-period_start", "-decided_at", "-id")


def veto_get(*, actor, veto_id: int) -> Veto:
    if veto_id > MAX_ID:
        raise Http404
    veto = (
        Veto.objects.visible_to(actor, Action.VIEW)
        .filter(pk=veto_id, school_id__in=reader_school_ids(actor))
        .select_related("school")
        .first()
    )
    if veto is None:
        raise Http404
    return veto


def veto_schools(actor) -> list[Organization]:
    """Schools on which the actor may record a veto."""
    ids = visible_school_ids(actor, Action.HOLD_ACCOUNTABLE)
    return list(Organization.objects.filter(pk__in=ids, is_active=True).order_by("name"))
