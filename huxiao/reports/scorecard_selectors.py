"""The school scorecard (issue 10 item 3, ADR 0033 "School scorecard").

One school, read by anyone with VIEW on it: every indicator of the assessment scheme that
covers it, the trend over the last months, and what the school still lacks, each item
linked to the page where it is put right. Nothing is defined twice:

- **Indicators** are the scheme's own (`supervision.Indicator`): a month's value is
  `indicators.run_source(source, [school], month start, min(month end, today), params)` —
  the call `assessment_compute` makes, with the same parameters — and the total is
  `assessment_services.score_school` (no data drops out of both sides). The last published
  result, the rank and the vetoes come from `assessment_selectors.school_results`.
- **The trend** takes a month's published result of the scheme where there is one (what
  was ranked stays as ranked), else computes the month live, the same way.
- **What is missing** comes from each app's own selectors (hazards, listed supervision,
  inspections, security and activity compliance, police visits and gate-post coverage,
  campaigns, vetoes and accountability, the health home's figures), each asked as the
  viewer: an area whose app does not let the viewer in is left out and named as such, so
  police never see health figures and nobody sees another school's.

Which scheme: the active schemes of the offices that see the school (its town's education
and governance offices, the county's) cover it. Shown by default is the scheme of the
school's latest published result, else the nearest office's (town before county,
education office before governance office); `?scheme=` picks another covering one. No
scheme at all: the indicators of the shipped default scheme
(`assessment_services.DEFAULT_INDICATORS`) are computed live and shown as such — they are
not an assessment, and "scored by hand" has no data outside a scheme.

Cost: a fixed number of queries whatever the data — one or a few per indicator and live
month (at most TREND_MONTHS months, fewer where results are published), and a few per
area of "what is missing".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Min, Q
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from huxiao.core.roles import SCHOOL_KINDS, Action, OrgKind
from huxiao.core.scoping import can, memberships_of, visible_school_ids
from huxiao.orgs.models import Organization
from huxiao.supervision import assessment_selectors as asel
from huxiao.supervision import indicators as registry
from huxiao.supervision.choices import PeriodKind
from huxiao.supervision.models import AssessmentScheme, Indicator

MAX_ID = 2**63 - 1
TREND_MONTHS = 6
EARLIEST = dt.date(2000, 1, 1)
# Published results read for the standing and the trend (newest first, all schemes).
PUBLISHED_LIMIT = 36
# How far back a veto or an accountability record still counts as "on record".
ON_RECORD = dt.timedelta(days=365)
# Gate posts are judged over the last seven days (today included).
COVERAGE_DAYS = 7
ITEMS_PER_AREA = 10
HUNDRED = Decimal(100)
CENT = Decimal("0.01")

AREAS = {
    "hazards": gettext_lazy("Hazards and rectification"),
    "inspections": gettext_lazy("Monthly self-check"),
    "security": gettext_lazy("Security compliance"),
    "drills": gettext_lazy("Drills and safety education"),
    "patrols": gettext_lazy("Police visits and gate posts"),
    "campaigns": gettext_lazy("Self-check campaigns"),
    "veto": gettext_lazy("One-vote veto"),
    "accountability": gettext_lazy("Accountability"),
    "health": gettext_lazy("Health"),
}
OVERDUE, DUE, INFO = 0, 1, 2


class MonthError(ValueError):
    """A `?month=` that cannot be shown; the message is for the user."""


# ------------------------------------------------------------------ months


@dataclass(frozen=True)
class Month:
    start: dt.date
    end: dt.date  # the month's last day
    as_of: dt.date  # the last day counted: the month's end, or today while it runs

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m}"

    @property
    def running(self) -> bool:
        return self.as_of < self.end


def month_of(day: dt.date, today: dt.date) -> Month:
    period = asel.period_of(PeriodKind.MONTH, day)
    return Month(period.start, period.end, min(period.end, today))


def months_until(month: Month, today: dt.date, n: int = TREND_MONTHS) -> list[Month]:
    """The `n` months ending with `month`, oldest first (none before 2000)."""
    months = [month]
    while len(months) < n:
        before = months[-1].start - dt.timedelta(days=1)
        if before < EARLIEST:
            break
        months.append(month_of(before, today))
    return months[::-1]


def parse_month(raw, today: dt.date) -> Month:
    """`YYYY-MM` (or a date in the month) from 2000-01 to this month; blank: this month."""
    if raw in (None, ""):
        return month_of(today, today)
    text = str(raw).strip()[:10]
    try:
        day = dt.date.fromisoformat(f"{text}-01" if len(text) == 7 else text)
    except ValueError:
        raise MonthError(_("Enter the month as YYYY-MM, e.g. 2025-03.")) from None
    if day.replace(day=1) > today.replace(day=1):
        raise MonthError(_("The month cannot be in the future."))
    if day < EARLIEST:
        raise MonthError(_("Choose a month from 2000 on."))
    return month_of(day, today)


# ------------------------------------------------------------------ the school and schemes


def school_get(*, actor, school_id) -> Organization:
    """The school if the actor may view it: 403 for someone who may view no school at all,
    404 for anything else (junk, huge, out of scope, not a school)."""
    if not visible_school_ids(actor, Action.VIEW):
        raise PermissionDenied(_("Your role does not allow this action."))
    try:
        school_id = int(school_id)
    except (TypeError, ValueError):
        raise Http404(_("There is no such school.")) from None
    if not 0 < school_id <= MAX_ID or not can(actor, Action.VIEW, school_id):
        raise Http404(_("There is no such school."))
    school = (
        Organization.objects.filter(pk=school_id, kind__in=SCHOOL_KINDS)
        .select_related("town", "region", "police_station")
        .first()
    )
    if school is None:
        raise Http404(_("There is no such school."))
    return school


def own_school_ids(actor) -> list[int]:
    """The schools the actor belongs to and may view, by name (for "my scorecard")."""
    ids = visible_school_ids(actor, Action.VIEW)
    members = {
        m.organization_id
        for m in memberships_of(actor)
        if m.organization.kind in SCHOOL_KINDS and m.organization_id in ids
    }
    ordered = sorted(
        (m.organization.name, m.organization_id)
        for m in memberships_of(actor)
        if m.organization_id in members
    )
    return list(dict.fromkeys(pk for _name, pk in ordered))


def covering_schemes(school: Organization) -> list[AssessmentScheme]:
    """The active schemes that assess the school (`assessment_selectors.covered_schools`:
    the owner's members see it), nearest office first."""
    q = Q(owner__town__isnull=True, owner__region_id=school.region_id)
    if school.town_id is not None:
        q |= Q(owner__town_id=school.town_id)
    schemes = list(
        AssessmentScheme.objects.filter(
            q, is_active=True, owner__kind__in=asel.ASSESSING_KINDS
        ).select_related("owner")
    )
    office_order = {OrgKind.EDUCATION_OFFICE: 0, OrgKind.GOVERNANCE_OFFICE: 1}
    schemes.sort(
        key=lambda s: (
            s.owner.town_id is None,
            office_order.get(s.owner.kind, 2),
            s.name,
            s.pk,
        )
    )
    return schemes


def default_indicators() -> list[Indicator]:
    """The shipped default scheme's indicators, unsaved (negative ids keep them apart)."""
    from huxiao.supervision.assessment_services import DEFAULT_INDICATORS

    rows = []
    for order, (name, source, weight, params) in enumerate(DEFAULT_INDICATORS, start=1):
        src = registry.get_source(source)
        rows.append(
            Indicator(
                pk=-order,
                order=order,
                name=name,
                source=source,
                weight=Decimal(weight),
                params={**(src.default_params if src else {}), **params},
            )
        )
    return rows


def _scheme_id(raw) -> int | None:
    if raw in (None, ""):
        return None
    text = str(raw).strip()
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= MAX_ID:
        raise Http404(_("No such assessment scheme covers this school."))
    return int(text)


# ------------------------------------------------------------------ indicators and trend


def live_values(indicators, school_id: int, month: Month) -> dict[int, Decimal | None]:
    """Each indicator's value for the school in the month, as `assessment_compute` computes
    it (same source, parameters and window)."""
    values: dict[int, Decimal | None] = {}
    for ind in indicators:
        if ind.pk < 0 and ind.source == registry.MANUAL:
            values[ind.pk] = None  # scored by hand only within a scheme
            continue
        answer = registry.run_source(
            ind.source,
            [school_id],
            month.start,
            month.as_of,
            {**(ind.params or {}), "indicator_id": ind.pk},
        )
        values[ind.pk] = answer.get(school_id)
    return values


def _decimal(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@dataclass
class TrendPoint:
    month: Month
    published: bool
    score: Decimal | None
    max_score: Decimal
    values: dict[int, Decimal | None]


@dataclass
class IndicatorRow:
    pk: int
    name: str
    source: str
    source_label: str
    source_description: str
    available: bool
    weight: Decimal
    value: Decimal | None  # the chosen month, live
    points: Decimal | None
    published_value: Decimal | None = None
    published_points: Decimal | None = None
    published_no_data: bool = True
    trend: list[Decimal | None] = field(default_factory=list)


def _points(ind, value) -> Decimal | None:
    """The points of one indicator, rounded as `score_school` rounds them."""
    if value is None:
        return None
    return (ind.weight * value / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)


def _published_point(month: Month, result, indicators) -> TrendPoint:
    details = result.details or {}
    values = {}
    for ind in indicators:
        detail = details.get(str(ind.pk)) or {}
        values[ind.pk] = None if detail.get("no_data", True) else _decimal(detail.get("value"))
    return TrendPoint(month, True, result.score, result.max_score, values)


def _live_point(month: Month, values, indicators) -> TrendPoint:
    from huxiao.supervision.assessment_services import score_school

    score, maximum, _details = score_school(indicators, values)
    return TrendPoint(month, False, score, maximum, values)


# ------------------------------------------------------------------ what is missing


@dataclass
class Gap:
    area: str
    severity: int  # OVERDUE (failed, past a deadline), DUE (open, due), INFO
    title: str
    detail: str = ""
    since: dt.date | None = None
    since_label: str = ""
    url: str = ""

    @property
    def area_label(self) -> str:
        return str(AREAS.get(self.area, self.area))


@dataclass
class Context:
    actor: object
    school: Organization
    today: dt.date
    now: dt.datetime


def _url(name: str, *args, query: dict | None = None) -> str:
    """The URL of another app's page, or "" while it does not exist."""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return ""
    return f"{url}?{urlencode(query)}" if query else url


def _local_date(value) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date()
    return value


def hazard_gaps(ctx: Context) -> list[Gap]:
    """Overdue hazards, and the others still being rectified (`hazard_list`, the list the
    link opens, with its own overdue rule)."""
    from huxiao.hazards import hazard_selectors as hsel
    from huxiao.hazards.choices import OPEN_HAZARD_STATUSES

    school_id = ctx.school.pk
    overdue = hsel.hazard_list(
        actor=ctx.actor,
        filters=hsel.HazardFilters(school_id=school_id, overdue=True),
        today=ctx.today,
    ).aggregate(n=Count("pk"), since=Min("deadline"))
    open_ = (
        hsel.hazard_list(
            actor=ctx.actor, filters=hsel.HazardFilters(school_id=school_id), today=ctx.today
        )
        .filter(status__in=OPEN_HAZARD_STATUSES)
        .aggregate(n=Count("pk"), oldest=Min("reported_at"))
    )
    gaps = []
    if overdue["n"]:
        gaps.append(
            Gap(
                "hazards",
                OVERDUE,
                ngettext(
                    "%(n)s hazard past its rectification deadline",
                    "%(n)s hazards past their rectification deadlines",
                    overdue["n"],
                )
                % {"n": overdue["n"]},
                since=overdue["since"],
                since_label=_("Earliest deadline"),
                url=_url("hazards:hazard_list", query={"school": school_id, "overdue": "on"}),
            )
        )
    rest = open_["n"] - overdue["n"]
    if rest > 0:
        gaps.append(
            Gap(
                "hazards",
                DUE,
                ngettext(
                    "%(n)s hazard being rectified, deadline not passed",
                    "%(n)s hazards being rectified, deadlines not passed",
                    rest,
                )
                % {"n": rest},
                since=_local_date(open_["oldest"]),
                since_label=_("Oldest reported on"),
                url=_url("hazards:hazard_list", query={"school": school_id}),
            )
        )
    return gaps


def listing_gaps(ctx: Context) -> list[Gap]:
    """Active listed supervisions (挂牌督办) of the school the viewer may see."""
    from huxiao.hazards import listing_selectors as lsel
    from huxiao.hazards.choices import ListingStatus

    listings = lsel.listing_list(
        actor=ctx.actor,
        filters=lsel.ListingFilters(status=ListingStatus.ACTIVE, school_id=ctx.school.pk),
    )[:ITEMS_PER_AREA]
    gaps = []
    for listing in listings:
        late = listing.deadline < ctx.today
        gaps.append(
            Gap(
                "hazards",
                OVERDUE if late else DUE,
                _("Under listed supervision: %(title)s") % {"title": listing.title},
                detail=(_("Deadline %(date)s (passed)") if late else _("Deadline %(date)s"))
                % {"date": listing.deadline.isoformat()},
                since=_local_date(listing.listed_at),
                since_label=_("Listed on"),
                url=_url("hazards:listing_detail", listing.pk),
            )
        )
    return gaps


def self_check_gaps(ctx: Context) -> list[Gap]:
    """The monthly self-check (§2 13): none signed off this month yet (due by the month's
    end), or none last month either (missed)."""
    from huxiao.hazards import inspection_selectors as isel
    from huxiao.hazards.choices import InspectionKind, InspectionStatus

    last = isel.inspection_list(
        actor=ctx.actor,
        school_id=ctx.school.pk,
        kind=InspectionKind.SELF_CHECK,
        status=InspectionStatus.SIGNED_OFF,
    ).aggregate(last=Max("signed_off_at"))["last"]
    last_day = _local_date(last)
    this_month = ctx.today.replace(day=1)
    if last_day is not None and last_day >= this_month:
        return []
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    missed = last_day is None or last_day < last_month
    title = (
        _("No monthly self-check signed off last month or this month")
        if missed
        else _("This month's self-check is not signed off yet")
    )
    return [
        Gap(
            "inspections",
            OVERDUE if missed else DUE,
            title,
            detail="" if last_day else _("No self-check signed off yet."),
            since=last_day,
            since_label=_("Last signed off on") if last_day else "",
            url=_url(
                "hazards:inspection_list",
                query={"school": ctx.school.pk, "kind": InspectionKind.SELF_CHECK},
            ),
        )
    ]


def security_gaps(ctx: Context) -> list[Gap]:
    """The compliance rules the school fails at its last evaluation (guards, equipment,
    defences, networking, rounds), each linked to the page where its facts are kept."""
    from huxiao.security import compliance_selectors as ssel
    from huxiao.security.choices import Verdict
    from huxiao.security.compliance_views import AREA_PAGES

    school, record = ssel.school_compliance(actor=ctx.actor, school_id=ctx.school.pk)
    page = _url("security:compliance_school", school.pk)
    if record is None:
        return [Gap("security", DUE, _("Security compliance not evaluated yet"), url=page)]
    evaluated = _local_date(record.evaluated_at)
    gaps, no_data = [], []
    for row in ssel.verdict_rows(record):
        if row.verdict == Verdict.FAIL:
            area_page = AREA_PAGES.get(row.area)
            gaps.append(
                Gap(
                    "security",
                    OVERDUE,
                    row.label,
                    detail="; ".join(row.missing),
                    since=evaluated,
                    since_label=_("Evaluated on"),
                    url=(_url(area_page, school.pk) if area_page else "") or page,
                )
            )
        elif row.verdict == Verdict.NO_DATA:
            no_data.append(row.label)
    if no_data:
        gaps.append(
            Gap(
                "security",
                INFO,
                ngettext(
                    "%(n)s compliance rule without data",
                    "%(n)s compliance rules without data",
                    len(no_data),
                )
                % {"n": len(no_data)},
                detail=", ".join(no_data),
                since=evaluated,
                since_label=_("Evaluated on"),
                url=page,
            )
        )
    return gaps


def drill_gaps(ctx: Context) -> list[Gap]:
    """The activity rules of the term (weekly drills, safety education per class, legal
    lectures, parent meetings, staff training) failed or still due."""
    from huxiao.drills import compliance_selectors as dsel
    from huxiao.drills.rules import V

    school, result = dsel.school_compliance(actor=ctx.actor, school_id=ctx.school.pk)
    page = _url("drills:compliance_school", school.pk)
    gaps, no_data = [], []
    for row in dsel.verdict_rows(result):
        deadline = None
        if row.deadline:
            try:
                deadline = dt.date.fromisoformat(str(row.deadline)[:10])
            except ValueError:
                deadline = None
        if row.verdict == V.FAIL:
            gaps.append(Gap("drills", OVERDUE, row.label, detail="; ".join(row.missing), url=page))
        elif row.verdict == V.DUE:
            gaps.append(
                Gap(
                    "drills",
                    DUE,
                    row.label,
                    detail="; ".join(row.missing),
                    since=deadline,
                    since_label=_("Due by") if deadline else "",
                    url=page,
                )
            )
        elif row.verdict == V.NO_DATA:
            no_data.append(row.label)
    if no_data:
        gaps.append(
            Gap(
                "drills",
                INFO,
                ngettext(
                    "%(n)s activity rule without data",
                    "%(n)s activity rules without data",
                    len(no_data),
                )
                % {"n": len(no_data)},
                detail=", ".join(no_data),
                url=page,
            )
        )
    return gaps


def patrol_gaps(ctx: Context) -> list[Gap]:
    """Police visits against the ≥ 2 a week rule (last week: missed; this week: still
    due) and the gate-post shifts of the last seven days nobody (or no police) staffed."""
    from huxiao.patrols import selectors as psel
    from huxiao.patrols.services import week_start_of

    if not can(ctx.actor, Action.VIEW_COVERAGE, ctx.school.pk):
        raise PermissionDenied
    school_id = ctx.school.pk
    gaps = []
    if ctx.school.police_station_id:
        this_week = week_start_of(ctx.today)
        for week, severity in ((this_week - dt.timedelta(days=7), OVERDUE), (this_week, DUE)):
            rows = [
                r
                for r in psel.visit_week(actor=ctx.actor, week_start=week)
                if r.school_id == school_id
            ]
            if not rows or rows[0].met:
                continue
            row = rows[0]
            title = (
                _("Police visits last week: %(n)s of the %(required)s required")
                if severity == OVERDUE
                else _("Police visits this week so far: %(n)s of the %(required)s required")
            )
            gaps.append(
                Gap(
                    "patrols",
                    severity,
                    title % {"n": row.visits, "required": row.required},
                    since=week,
                    since_label=_("Week starting"),
                    url=_url(
                        "patrols:visit_list", query={"school": school_id, "week": week.isoformat()}
                    ),
                )
            )
    first = ctx.today - dt.timedelta(days=COVERAGE_DAYS - 1)
    report = psel.coverage(
        actor=ctx.actor,
        first_day=first,
        last_day=ctx.today,
        group_by=("school",),
        school_id=school_id,
        now=ctx.now,
    )
    if report.total.missed:
        gaps.append(
            Gap(
                "patrols",
                OVERDUE,
                ngettext(
                    "%(n)s gate-post shift not staffed in the last 7 days",
                    "%(n)s gate-post shifts not staffed in the last 7 days",
                    report.total.missed,
                )
                % {"n": report.total.missed},
                detail=_("%(shifts)s shifts held or due in the period.")
                % {"shifts": report.total.shifts},
                since=first,
                since_label=_("Since"),
                url=_url(
                    "patrols:coverage",
                    query={
                        "school": school_id,
                        "since": first.isoformat(),
                        "until": ctx.today.isoformat(),
                    },
                ),
            )
        )
    return gaps


def campaign_gaps(ctx: Context) -> list[Gap]:
    """The school's places in running self-check campaigns not accepted yet, and gaps
    found there still open."""
    from huxiao.supervision import campaign_selectors as csel
    from huxiao.supervision.choices import CampaignSchoolStatus, CampaignStatus

    if not csel.is_campaign_user(ctx.actor):
        raise PermissionDenied
    entries = csel.school_entries(actor=ctx.actor, school_id=ctx.school.pk, today=ctx.today)
    if not entries and ctx.school.pk not in csel.entry_school_ids(ctx.actor):
        raise PermissionDenied  # the viewer manages campaigns of other schools only
    dates = {
        "self_check": ("self_check_due", _("Self-check was due on")),
        "spot_check": ("spot_check_due", _("Spot check was due on")),
        "acceptance": ("acceptance_due", _("Acceptance was due on")),
    }
    gaps = []
    for entry in entries:
        campaign = entry.campaign
        if campaign.status != CampaignStatus.RUNNING:
            continue
        accepted = entry.status == CampaignSchoolStatus.ACCEPTED
        if accepted and not entry.gaps_open:
            continue
        parts = []
        if entry.gaps_open:
            parts.append(
                ngettext("%(n)s gap open", "%(n)s gaps open", entry.gaps_open)
                % {"n": entry.gaps_open}
            )
        if entry.gaps_overdue:
            parts.append(
                ngettext(
                    "%(n)s past its deadline", "%(n)s past their deadlines", entry.gaps_overdue
                )
                % {"n": entry.gaps_overdue}
            )
        since, since_label = campaign.acceptance_due, _("Acceptance due by")
        if entry.overdue in dates:
            attr, since_label = dates[entry.overdue]
            since = getattr(campaign, attr)
        gaps.append(
            Gap(
                "campaigns",
                OVERDUE if entry.overdue or entry.gaps_overdue else DUE,
                _("%(campaign)s: %(status)s")
                % {"campaign": campaign.title, "status": entry.get_status_display()},
                detail="; ".join(parts),
                since=since,
                since_label=since_label,
                url=_url("supervision:entry_detail", campaign.pk, ctx.school.pk),
            )
        )
    return gaps[:ITEMS_PER_AREA]


def veto_gaps(ctx: Context) -> list[Gap]:
    """One-vote vetoes in force over a period of the last year (seen, like the school's
    results, by whoever may view the school)."""
    from huxiao.supervision.models import Veto

    vetoes = (
        Veto.objects.visible_to(ctx.actor, Action.VIEW)
        .filter(
            school_id=ctx.school.pk,
            revoked_at__isnull=True,
            period_end__gte=ctx.today - ON_RECORD,
        )
        .select_related("decided_by_org")
        .order_by("-period_start", "-pk")[:ITEMS_PER_AREA]
    )
    if asel.is_assessor(ctx.actor):
        url = _url("supervision:assessment_vetoes", query={"school": ctx.school.pk})
    else:
        url = _url("supervision:assessment_school", ctx.school.pk)
    return [
        Gap(
            "veto",
            OVERDUE,
            _("One-vote veto for %(start)s – %(end)s")
            % {"start": v.period_start.isoformat(), "end": v.period_end.isoformat()},
            detail=f"{v.reason} ({v.decided_by_org.name})",
            since=_local_date(v.decided_at),
            since_label=_("Decided on"),
            url=url,
        )
        for v in vetoes
    ]


def accountability_gaps(ctx: Context) -> list[Gap]:
    """Interviews, written warnings and referrals about the school in the last year, for
    those who may read them (governance offices, the school's principal)."""
    from huxiao.supervision import notice_selectors as nsel

    nsel.require_accountability_reader(ctx.actor)
    records = (
        nsel.accountability_list(
            actor=ctx.actor,
            filters=nsel.AccountabilityFilters(subject_id=ctx.school.pk),
        )
        .filter(decided_on__gte=ctx.today - ON_RECORD)
        .order_by("-decided_on", "-id")[:ITEMS_PER_AREA]
    )
    return [
        Gap(
            "accountability",
            DUE if not r.follow_up else INFO,
            _("%(kind)s on record") % {"kind": r.get_kind_display()},
            detail=r.reason[:200] + ("" if r.follow_up else " · " + _("No follow-up written yet.")),
            since=r.decided_on,
            since_label=_("Decided on"),
            url=_url("supervision:accountability_detail", r.pk),
        )
        for r in records
    ]


def health_gaps(ctx: Context) -> list[Gap]:
    """Today's health figures of the school (the health home's), for those who see health
    records only; counts, never a child's name. Checks and attendance are asked of school
    days only (Monday to Friday)."""
    from huxiao.health import home_selectors as hsel

    if not can(ctx.actor, Action.VIEW_HEALTH, ctx.school.pk):
        raise PermissionDenied
    suspended = hsel.suspended_on([ctx.school.pk], ctx.today)
    (day,) = hsel.school_days([ctx.school], ctx.today, suspended)
    url = _url("health:home", query={"school": ctx.school.pk})
    figures = [
        (
            day.unknown_unchased,
            OVERDUE,
            ngettext(
                "%(n)s absence today with an unknown cause not followed up",
                "%(n)s absences today with an unknown cause not followed up",
                day.unknown_unchased,
            ),
        ),
        (
            day.open_alerts,
            OVERDUE,
            ngettext(
                "%(n)s open illness-cluster alert",
                "%(n)s open illness-cluster alerts",
                day.open_alerts,
            ),
        ),
        (
            day.open_cases,
            DUE,
            ngettext(
                "%(n)s suspected-case procedure still open",
                "%(n)s suspected-case procedures still open",
                day.open_cases,
            ),
        ),
    ]
    if ctx.today.weekday() < 5:
        figures += [
            (
                day.morning_missing,
                DUE,
                ngettext(
                    "%(n)s class without a morning check today",
                    "%(n)s classes without a morning check today",
                    day.morning_missing,
                ),
            ),
            (
                day.attendance_missing,
                DUE,
                ngettext(
                    "%(n)s class without attendance taken today",
                    "%(n)s classes without attendance taken today",
                    day.attendance_missing,
                ),
            ),
        ]
    return [Gap("health", severity, text % {"n": n}, url=url) for n, severity, text in figures if n]


COLLECTORS = (
    ("hazards", hazard_gaps),
    ("hazards", listing_gaps),
    ("inspections", self_check_gaps),
    ("security", security_gaps),
    ("drills", drill_gaps),
    ("patrols", patrol_gaps),
    ("campaigns", campaign_gaps),
    ("veto", veto_gaps),
    ("accountability", accountability_gaps),
    ("health", health_gaps),
)


def missing(ctx: Context) -> tuple[list[Gap], list[str]]:
    """(what the school lacks, most serious first; the areas the viewer's role does not
    see). Each area asks its own app as the viewer: a refusal there leaves it out."""
    gaps: list[Gap] = []
    hidden: list[str] = []
    for area, collect in COLLECTORS:
        try:
            gaps.extend(collect(ctx))
        except (PermissionDenied, Http404):
            if area not in hidden:
                hidden.append(area)
    order = {area: i for i, area in enumerate(AREAS)}
    gaps.sort(key=lambda g: (g.severity, order.get(g.area, 99)))
    return gaps, [str(AREAS[a]) for a in hidden]


# ------------------------------------------------------------------ the scorecard


@dataclass
class Scorecard:
    school: Organization
    month: Month
    today: dt.date
    schemes: list[AssessmentScheme]
    scheme: AssessmentScheme | None  # None: the shipped default indicators, live only
    rows: list[IndicatorRow]
    live_score: Decimal | None
    live_max: Decimal
    trend: list[TrendPoint]
    standing: object | None  # assessment_selectors.SchoolResult of the latest publication
    gaps: list[Gap]
    hidden_areas: list[str]
    is_member: bool

    @property
    def is_default(self) -> bool:
        return self.scheme is None

    @property
    def scheme_name(self) -> str:
        from huxiao.supervision.assessment_services import DEFAULT_SCHEME_NAME

        return self.scheme.name if self.scheme is not None else DEFAULT_SCHEME_NAME

    @property
    def overdue(self) -> list[Gap]:
        return [g for g in self.gaps if g.severity == OVERDUE]

    def chart(self) -> dict:
        """The trend for ECharts (the table below it says the same)."""

        def number(value):
            return None if value is None else float(value)

        return {
            "months": [p.month.label for p in self.trend],
            "published": [p.published for p in self.trend],
            "total": {"name": _("Total (of 100)"), "data": [number(p.score) for p in self.trend]},
            "series": [
                {"name": row.name, "data": [number(v) for v in row.trend]} for row in self.rows
            ],
        }


def scorecard(*, actor, school_id, month=None, scheme_id=None, now=None) -> Scorecard:
    """The scorecard of one school for `month` (`YYYY-MM`, default this month). Http404 for
    a school out of reach or a scheme that does not cover it; MonthError for a month that
    cannot be shown (checked after the school, so out of scope stays 404)."""
    now = now or timezone.now()
    today = asel.local_today(now)
    school = school_get(actor=actor, school_id=school_id)
    chosen = parse_month(month, today)
    wanted = _scheme_id(scheme_id)

    published = asel.school_results(actor=actor, school_id=school.pk, limit=PUBLISHED_LIMIT)
    schemes = covering_schemes(school)
    by_id = {s.pk: s for s in schemes}
    if wanted is not None:
        scheme = by_id.get(wanted)
        if scheme is None:
            raise Http404(_("No such assessment scheme covers this school."))
    else:
        latest_scheme = next((r.run.scheme_id for r in published if r.run.scheme_id in by_id), None)
        scheme = by_id.get(latest_scheme) or (schemes[0] if schemes else None)
    indicators = asel.scheme_indicators(scheme) if scheme is not None else default_indicators()

    own = [r for r in published if scheme is not None and r.run.scheme_id == scheme.pk]
    standing = next((r for r in own if r.run.period_start <= chosen.start), None)
    monthly = {}
    if scheme is not None and scheme.period_kind == PeriodKind.MONTH:
        for r in own:
            monthly.setdefault(r.run.period_start, r)

    live = live_values(indicators, school.pk, chosen)
    trend = []
    for m in months_until(chosen, today):
        if m.start in monthly:
            trend.append(_published_point(m, monthly[m.start].result, indicators))
        elif m.start == chosen.start:
            trend.append(_live_point(m, live, indicators))
        else:
            trend.append(_live_point(m, live_values(indicators, school.pk, m), indicators))
    now_point = _live_point(chosen, live, indicators)

    cells = {c.indicator_id: c for c in standing.cells} if standing is not None else {}
    rows = []
    for ind in indicators:
        source = registry.get_source(ind.source)
        cell = cells.get(ind.pk)
        value = live.get(ind.pk)
        rows.append(
            IndicatorRow(
                pk=ind.pk,
                name=ind.name,
                source=ind.source,
                source_label=str(source.label) if source else ind.source,
                source_description=str(source.description) if source else "",
                available=bool(source and source.available),
                weight=ind.weight,
                value=value,
                points=_points(ind, value),
                published_value=None if cell is None or cell.no_data else _decimal(cell.value),
                published_points=None if cell is None or cell.no_data else _decimal(cell.score),
                published_no_data=cell is None or cell.no_data,
                trend=[p.values.get(ind.pk) for p in trend],
            )
        )

    ctx = Context(actor=actor, school=school, today=today, now=now)
    gaps, hidden = missing(ctx)
    return Scorecard(
        school=school,
        month=chosen,
        today=today,
        schemes=schemes,
        scheme=scheme,
        rows=rows,
        live_score=now_point.score,
        live_max=now_point.max_score,
        trend=trend,
        standing=standing,
        gaps=gaps,
        hidden_areas=hidden,
        is_member=school.pk in own_school_ids(actor),
    )
