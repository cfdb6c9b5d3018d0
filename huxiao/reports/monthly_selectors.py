"""What the monthly report of a town or the county says (issue 10 item 4, ADR 0033).

The report is an office report of an **area** (a town, or the county), shared by everyone
who may request one for that area: two offices asking for the same area and month get the
same job, so nothing in it may depend on which of them asked. Its figures are therefore
read **as the area**, not as the requester:

- the apps' own scoped selectors (`hazard_list`, `visible_listings`, `response_stats`,
  `alarm_list`, `incident_list`, `coverage`, `visit_week`, `activity_list`, `run_results`,
  …) are called with an `AreaReader`: a principal whose reach, for the few read actions
  the report needs, is exactly the area's schools, and nothing for every other action
  (never the high-risk register, never children's health records, no membership — so a
  selector that widens what its reader sees through the reader's own organization, such
  as a non-public listed supervision, shows the report only what every reader of it may
  see);
- the apps' grouped counting selectors that take school ids (indicator sources, the
  compliance area overviews, health, warning and gate counts) are called with the area's
  school ids.

No number has a second definition here: where a figure is a filter on a selector's rows
(the hazards found in the month), the filter is the month, and the rows are the selector's.
Every query covers all the schools at once (grouped by school where a per-school figure is
shown): a county of 1,000 schools costs the same number of queries as a town.

No child is named anywhere in the report, and warnings are counts only.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from huxiao.core.roles import SCHOOL_KINDS, Action, OrgKind
from huxiao.reports.areas import COUNTY, Area

# The offices whose rankings and notices belong to an area (they report and assess).
OFFICE_KINDS = (OrgKind.EDUCATION_OFFICE, OrgKind.GOVERNANCE_OFFICE, OrgKind.GOVERNMENT)
# Rows of a list shown in the PDF; the Excel workbook has them all.
PDF_ROWS = 60
# Schools at the top and bottom of a county-wide ranking in the PDF.
PDF_RANKING_ENDS = 10
# Rankings of one month in a report (a county's own, and one per town at most).
MAX_RANKINGS = 40
FIRST_MONTH = dt.date(2000, 1, 1)


# ------------------------------------------------------------------ the period


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(first: dt.date) -> dt.date:
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def previous_month(today: dt.date) -> dt.date:
    return month_start(month_start(today) - dt.timedelta(days=1))


@dataclass(frozen=True)
class Period:
    """The days a report covers: a whole month, or the running month up to a day ("so
    far")."""

    month: dt.date  # the first day of the month
    last_day: dt.date  # the last day counted
    so_far: bool = False  # the month was still running (up to and including its last day)

    @classmethod
    def of(cls, month: dt.date, through: dt.date | None = None) -> Period:
        """The whole month, or — when `through` (the day it is asked for) falls within it —
        the month up to that day."""
        month = month_start(month)
        last = month_end(month)
        if through is not None and month <= through <= last:
            return cls(month, through, so_far=True)
        return cls(month, last)

    @property
    def first_day(self) -> dt.date:
        return self.month

    @property
    def since(self) -> dt.datetime:
        return _day_start(self.first_day)

    @property
    def until(self) -> dt.datetime:
        return _day_start(self.last_day + dt.timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def whole_weeks(self) -> list[dt.date]:
        """The Mondays of the whole weeks (Monday to Sunday) inside the period: the weeks of
        the ≥ 2 visits a week rule, as the `police_visits` indicator counts them."""
        first = self.first_day + dt.timedelta(days=(7 - self.first_day.weekday()) % 7)
        mondays = []
        while first + dt.timedelta(days=6) <= self.last_day:
            mondays.append(first)
            first += dt.timedelta(days=7)
        return mondays

    def week_slices(self) -> list[tuple[dt.date, dt.date]]:
        """The period cut at Mondays: (first day, last day) of each calendar week's part."""
        slices, start = [], self.first_day
        while start <= self.last_day:
            end = min(start + dt.timedelta(days=6 - start.weekday()), self.last_day)
            slices.append((start, end))
            start = end + dt.timedelta(days=1)
        return slices


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def month_label(month: dt.date) -> str:
    return _("%(year)d-%(month)02d") % {"year": month.year, "month": month.month}


def period_label(period: Period) -> str:
    if period.so_far:
        return _("%(month)s (up to %(day)s)") % {
            "month": month_label(period.month),
            "day": period.last_day.isoformat(),
        }
    return month_label(period.month)


# ------------------------------------------------------------------ reading as the area


class AreaReader:
    """The principal a monthly report reads as: the area's schools for `READ_ACTIONS`,
    nothing for any other action, no memberships. Only ever passed to selectors (reads);
    never to a service.

    It answers `visible_school_ids` through the scope cache every principal carries
    (`huxiao.core.scoping`, like `DevicePrincipal`): the reads below are filled in, and
    any other action finds no membership, hence no school."""

    # VIEW: hazards, public listings, activities; VIEW_ALARM: alarms and incidents;
    # VIEW_COVERAGE: gate posts and police visits; ASSESS: reading published rankings.
    READ_ACTIONS = (Action.VIEW, Action.VIEW_ALARM, Action.VIEW_COVERAGE, Action.ASSESS)
    is_authenticated = True
    is_active = True
    is_superuser = False
    # Not a user: `memberships_of` gives nothing, so no selector finds "own" organizations.
    is_device = True
    pk = None
    id = None

    def __init__(self, school_ids):
        ids = frozenset(school_ids)
        self.school_ids = ids
        self._huxiao_scope_cache = {
            "memberships": [],
            **{("schools", action): ids for action in self.READ_ACTIONS},
        }

    def __str__(self) -> str:
        return "area-reader"


# ------------------------------------------------------------------ the content


def _dec(value, places: str = "0.1") -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal(places), ROUND_HALF_UP)


def rate(part: int, whole: int) -> Decimal | None:
    """A percentage with one decimal, None when there is nothing to divide by."""
    if not whole:
        return None
    return _dec(Decimal(part) * 100 / Decimal(whole))


def mean(values) -> Decimal | None:
    values = [Decimal(str(v)) for v in values if v is not None]
    if not values:
        return None
    return _dec(sum(values) / len(values))


@dataclass
class Figure:
    key: str
    label: str
    value: object  # int, Decimal, None (no data) or text
    unit: str = ""
    note: str = ""

    @property
    def display(self) -> str:
        if self.value is None:
            return _("no data")
        return f"{self.value}{self.unit}"


@dataclass
class Section:
    key: str
    title: str
    figures: list[Figure]
    note: str = ""

    def figure(self, key: str) -> Figure:
        for f in self.figures:
            if f.key == key:
                return f
        raise KeyError(key)


class _PostAndVisitRates:
    """The posts' and visits' rates of a school's or a town's counts."""

    post_shifts: int
    post_staffed: int
    post_three: int
    visit_weeks: int
    visit_weeks_met: int

    @property
    def post_staffed_rate(self) -> Decimal | None:
        return rate(self.post_staffed, self.post_shifts)

    @property
    def post_three_rate(self) -> Decimal | None:
        return rate(self.post_three, self.post_shifts)

    @property
    def visit_rate(self) -> Decimal | None:
        return rate(self.visit_weeks_met, self.visit_weeks)


@dataclass
class SchoolFigures(_PostAndVisitRates):
    """One school's figures for the period (the per-school table)."""

    pk: int
    name: str
    town_id: int | None
    town_name: str
    alarms: int = 0
    hazards_found: int = 0
    hazards_closed: int = 0
    hazards_overdue: int = 0
    compliant: bool | None = None  # None: never evaluated
    networked: bool | None = None
    post_shifts: int = 0
    post_staffed: int = 0
    post_three: int = 0
    visit_weeks: int = 0
    visit_weeks_met: int = 0
    visits: int = 0
    drills_compliant: bool | None = None
    drills_held: Decimal | None = None
    visitors: int = 0
    vehicles: int = 0
    interceptions: int = 0
    alerts: int = 0
    cases: int = 0
    suspensions: int = 0
    rank: int | None = None
    score: Decimal | None = None


@dataclass
class TownFigures(_PostAndVisitRates):
    """A town's figures in a county report: sums of its schools' counts, and its rates as
    the compliance overviews compute them."""

    pk: int | None
    name: str
    schools: int = 0
    compliance_rate: Decimal | None = None
    network_rate: Decimal | None = None
    drills_rate: Decimal | None = None
    alarms: int = 0
    hazards_found: int = 0
    hazards_closed: int = 0
    hazards_overdue: int = 0
    post_shifts: int = 0
    post_staffed: int = 0
    post_three: int = 0
    visit_weeks: int = 0
    visit_weeks_met: int = 0
    alerts: int = 0
    cases: int = 0
    rank: int | None = None


@dataclass
class RankingRow:
    rank: int | None
    school: str
    town: str
    score: Decimal | None  # out of 100
    rating: str
    vetoed: bool


@dataclass
class TownRankingRow:
    rank: int | None
    town: str
    score: Decimal | None
    schools: int
    vetoed_schools: int


@dataclass
class Ranking:
    scheme: str
    office: str
    published_at: dt.datetime | None
    rows: list[RankingRow]
    towns: list[TownRankingRow]
    ranked_total: int  # schools ranked in the whole scheme

    @property
    def pdf_rows(self) -> list[RankingRow | None]:
        """The rows the PDF shows: all of a short list; the top and bottom of a long one,
        with None where rows are left out."""
        ends = PDF_RANKING_ENDS
        if len(self.rows) <= 2 * ends + 5:
            return list(self.rows)
        return [*self.rows[:ends], None, *self.rows[-ends:]]


@dataclass
class NoticeRow:
    published_at: dt.datetime | None
    kind: str
    reference: str
    title: str
    issuer: str
    subjects: str
    improve_by: dt.date | None
    resolved: bool


@dataclass
class ListingRow:
    reference: str
    title: str
    school: str
    town: str
    supervising: str
    listed_at: dt.datetime
    deadline: dt.date
    status: str
    lifted_at: dt.datetime | None
    overdue: bool


@dataclass
class IncidentRow:
    opened_at: dt.datetime
    title: str
    school: str
    status: str
    closed_at: dt.datetime | None


@dataclass
class AlarmRow:
    raised_at: dt.datetime
    school: str
    kind: str
    status: str
    false_alarm: bool
    ack_seconds: int | None
    arrival_seconds: int | None


@dataclass
class MonthlyReport:
    area: Area
    period: Period
    generated_at: dt.datetime
    sections: list[Section]
    schools: list[SchoolFigures]
    towns: list[TownFigures]
    rankings: list[Ranking]
    notices: list[NoticeRow]
    listings: list[ListingRow]
    incidents: list[IncidentRow]
    alarms: list[AlarmRow]
    charts: dict = field(default_factory=dict)  # name -> [(label, value)]

    @property
    def is_county(self) -> bool:
        return self.area.kind == COUNTY

    def section(self, key: str) -> Section:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)

    def figure(self, section: str, key: str):
        """The raw value of one figure (tests, the benchmark's consistency check)."""
        return self.section(section).figure(key).value

    @property
    def towns_by_compliance(self) -> list[TownFigures]:
        def key(t: TownFigures):
            return (t.compliance_rate is None, -(t.compliance_rate or 0), t.name)

        return sorted(self.towns, key=key)


Progress = Callable[[float, str], None]


def _no_progress(percent: float, stage: str = "") -> None:
    return None


def monthly_report(area: Area, period: Period, *, progress: Progress | None = None):
    """The report of `area` over `period`, read as the area (see the module's docstring)."""
    progress = progress or _no_progress
    reader = AreaReader(area.school_ids)
    schools = _school_rows(area)
    by_pk = {s.pk: s for s in schools}
    sections: list[Section] = []

    progress(5, _("Alarms and incidents"))
    alarms_section, alarms, incidents, weekly_alarms = _alarms(reader, period, by_pk)
    sections.append(alarms_section)

    progress(15, _("Hazards and listed supervision"))
    hazards_section, by_status = _hazards(reader, period, by_pk)
    sections.append(hazards_section)
    listings_section, listings = _listings(reader, period)
    sections.append(listings_section)

    progress(30, _("Security compliance"))
    compliance_section, security = _compliance(area, by_pk)
    sections.append(compliance_section)

    progress(40, _("Gate posts and police visits"))
    sections.append(_posts(reader, period, by_pk))
    sections.append(_visits(reader, period, by_pk))

    progress(55, _("Drills and safety education"))
    drills_section, drills = _drills(reader, area, period, by_pk)
    sections.append(drills_section)

    progress(65, _("Health, warnings and the gate"))
    sections.append(_health(area, period, by_pk))
    sections.append(_warnings(area, period))
    sections.append(_gate(area, period, by_pk))

    progress(75, _("Rankings and notices"))
    rankings = _rankings(reader, area, period, by_pk)
    notices = _notices(area, period)

    towns = _towns(area, schools, security, drills, rankings)
    listed = [
        s
        for s in schools
        if s.active or any((s.alarms, s.hazards_found, s.post_shifts, s.visits, s.visitors))
    ]
    charts = {
        "compliance": (
            [(t.name, t.compliance_rate) for t in sorted(towns, key=lambda t: t.name)]
            if area.kind == COUNTY
            else [(r.label, r.rate) for r in security.rates.rule_list]
        ),
        "hazards": by_status,
        "alarms": weekly_alarms,
    }
    return MonthlyReport(
        area=area,
        period=period,
        generated_at=timezone.now(),
        sections=sections,
        schools=[s.figures for s in listed],
        towns=towns,
        rankings=rankings,
        notices=notices,
        listings=listings,
        incidents=incidents,
        alarms=alarms,
        charts=charts,
    )


@dataclass
class _School:
    pk: int
    active: bool
    figures: SchoolFigures

    def __getattr__(self, name):
        if name == "figures":  # not set yet (copying): no recursion
            raise AttributeError(name)
        return getattr(self.figures, name)


def _school_rows(area: Area) -> list[_School]:
    from huxiao.orgs.models import Organization

    rows = (
        Organization.objects.filter(pk__in=list(area.school_ids), kind__in=SCHOOL_KINDS)
        .order_by("town__code", "town__name", "name", "pk")
        .values_list("pk", "name", "town_id", "town__name", "is_active")
    )
    return [
        _School(pk, active, SchoolFigures(pk, name, town_id, town_name or ""))
        for pk, name, town_id, town_name, active in rows
    ]


def _set(by_pk: dict, school_id, **values) -> None:
    school = by_pk.get(school_id)
    if school is not None:
        for name, value in values.items():
            setattr(school.figures, name, value)


def _secs(value) -> int | None:
    return None if value is None else round(value)


# ------------------------------------------------------------------ alarms and incidents


def _alarms(reader, period: Period, by_pk):
    from huxiao.alarms.choices import AlarmStatus
    from huxiao.alarms.selectors import alarm_list, response_stats
    from huxiao.incidents.selectors import incident_list

    stats = response_stats(actor=reader, since=period.since, until=period.until)
    seconds = " " + _("sec")
    for row in stats.rows:
        _set(by_pk, row.group_id, alarms=row.alarms)
    t = stats.total
    section = Section(
        "alarms",
        _("Alarms and response"),
        [
            Figure("alarms", _("Alarms raised (drills left out)"), t.alarms),
            Figure("acknowledged", _("Acknowledged by the police"), t.acknowledged),
            Figure("not_acknowledged", _("Never acknowledged"), t.not_acknowledged),
            Figure("arrived", _("Police on scene"), t.arrived),
            Figure("false_alarms", _("False alarms"), t.false_alarms),
            Figure("accidental", _("Accidental presses cancelled in time"), t.accidental_presses),
            Figure(
                "ack_median",
                _("Raise → acknowledgement, median"),
                _secs(t.ack_seconds_median),
                seconds,
            ),
            Figure(
                "ack_max", _("Raise → acknowledgement, longest"), _secs(t.ack_seconds_max), seconds
            ),
            Figure(
                "arrival_median",
                _("Raise → police on scene, median"),
                _secs(t.arrival_seconds_median),
                seconds,
            ),
            Figure(
                "arrival_max",
                _("Raise → police on scene, longest"),
                _secs(t.arrival_seconds_max),
                seconds,
            ),
        ],
        note="" if stats.medians_complete else _("Too many alarms to compute the medians."),
    )
    weekly = []
    for first, last in period.week_slices():
        week = response_stats(
            actor=reader, since=_day_start(first), until=_day_start(last + dt.timedelta(days=1))
        )
        weekly.append((f"{first:%m-%d}–{last:%m-%d}", week.total.alarms))

    alarms = [
        AlarmRow(
            raised_at=a.raised_at,
            school=a.school.name,
            kind=a.get_kind_display(),
            status=a.get_status_display(),
            false_alarm=a.is_false_alarm,
            ack_seconds=_seconds_between(a.raised_at, a.acknowledged_at),
            arrival_seconds=_seconds_between(a.raised_at, a.arrived_at),
        )
        for a in alarm_list(actor=reader)
        .filter(raised_at__gte=period.since, raised_at__lt=period.until, is_drill=False)
        # An accidental press cancelled in the free window is not an alarm (ADR 0014).
        .exclude(status=AlarmStatus.CANCELLED, is_false_alarm=False)
        .order_by("raised_at", "id")
    ]
    incidents = [
        IncidentRow(
            opened_at=i.opened_at,
            title=i.title,
            school=i.school.name,
            status=i.get_status_display(),
            closed_at=i.closed_at,
        )
        for i in incident_list(actor=reader)
        .filter(opened_at__gte=period.since, opened_at__lt=period.until)
        .order_by("opened_at", "id")
    ]
    section.figures.append(Figure("incidents", _("Emergency incidents opened"), len(incidents)))
    return section, alarms, incidents, weekly


def _seconds_between(start, end) -> int | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds())


# ------------------------------------------------------------------ hazards and listings


def _hazards(reader, period: Period, by_pk):
    from huxiao.hazards.choices import HazardStatus
    from huxiao.hazards.hazard_selectors import hazard_list

    since, until = period.since, period.until
    found = Q(reported_at__gte=since, reported_at__lt=until)
    closed = Q(status=HazardStatus.CLOSED, closed_at__gte=since, closed_at__lt=until)
    # As the assessment counts them (indicators `hazards_closed_on_time`, `overdue_hazards`):
    # closed on or before the deadline (local date); open when the period ended and past the
    # deadline on its last day. A reopened hazard has no closed_at: it counts as open.
    on_time = Q(deadline__isnull=True) | Q(deadline__gte=TruncDate("closed_at"))
    open_at_end = Q(reported_at__lt=until) & (Q(closed_at__isnull=True) | Q(closed_at__gte=until))
    overdue = open_at_end & Q(deadline__lt=period.last_day)
    base = hazard_list(actor=reader).order_by()
    rows = base.values("school_id").annotate(
        found=Count("pk", filter=found),
        closed=Count("pk", filter=closed),
        on_time=Count("pk", filter=closed & on_time),
        open=Count("pk", filter=open_at_end),
        overdue=Count("pk", filter=overdue),
    )
    totals = defaultdict(int)
    for row in rows:
        for key in ("found", "closed", "on_time", "open", "overdue"):
            totals[key] += row[key]
        _set(
            by_pk,
            row["school_id"],
            hazards_found=row["found"],
            hazards_closed=row["closed"],
            hazards_overdue=row["overdue"],
        )
    status_counts = dict(
        base.filter(found).values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    by_status = [(str(label), status_counts.get(value, 0)) for value, label in HazardStatus.choices]
    section = Section(
        "hazards",
        _("Hazards and rectification"),
        [
            Figure("found", _("Hazards found"), totals["found"]),
            Figure("closed", _("Verified and closed"), totals["closed"]),
            Figure("closed_on_time", _("Closed by their deadline"), totals["on_time"]),
            Figure(
                "closed_on_time_rate",
                _("Rectified on time"),
                rate(totals["on_time"], totals["closed"]),
                "%",
            ),
            Figure("open_at_end", _("Still open at the end of the period"), totals["open"]),
            Figure("overdue_at_end", _("Overdue at the end of the period"), totals["overdue"]),
        ],
    )
    return section, by_status


def _listings(reader, period: Period):
    from huxiao.hazards.choices import ListingStatus
    from huxiao.hazards.listing_selectors import visible_listings

    since, until = period.since, period.until
    base = visible_listings(reader).order_by()
    active_at_end = Q(listed_at__lt=until) & (Q(lifted_at__isnull=True) | Q(lifted_at__gte=until))
    counts = base.aggregate(
        listed=Count("pk", filter=Q(listed_at__gte=since, listed_at__lt=until)),
        lifted=Count("pk", filter=Q(lifted_at__gte=since, lifted_at__lt=until)),
        active=Count("pk", filter=active_at_end),
        overdue=Count("pk", filter=active_at_end & Q(deadline__lt=period.last_day)),
    )
    during = Q(listed_at__lt=until) & (Q(lifted_at__isnull=True) | Q(lifted_at__gte=since))
    rows = [
        ListingRow(
            reference=listing.reference,
            title=listing.title,
            school=listing.school.name,
            town=listing.school.town.name if listing.school.town_id else "",
            supervising=listing.supervising_org.name if listing.supervising_org_id else "",
            listed_at=listing.listed_at,
            deadline=listing.deadline,
            status=(
                str(ListingStatus(listing.status).label)
                if listing.lifted_at is None or listing.lifted_at < until
                else str(ListingStatus.ACTIVE.label)
            ),
            lifted_at=listing.lifted_at
            if listing.lifted_at and listing.lifted_at < until
            else None,
            overdue=(listing.lifted_at is None or listing.lifted_at >= until)
            and listing.deadline < period.last_day,
        )
        for listing in base.filter(during)
        .select_related("school__town", "supervising_org")
        .order_by("listed_at", "id")
    ]
    section = Section(
        "listings",
        _("Listed supervision (挂牌督办)"),
        [
            Figure("listed", _("Listed in the period"), counts["listed"]),
            Figure("lifted", _("Lifted in the period"), counts["lifted"]),
            Figure("active_at_end", _("Under listed supervision at the end"), counts["active"]),
            Figure("overdue_at_end", _("Of those, past their deadline"), counts["overdue"]),
        ],
        note=_("Public listings, as on the town and county boards."),
    )
    return section, rows


# ------------------------------------------------------------------ compliance


def _compliance(area: Area, by_pk):
    from huxiao.security.compliance_selectors import area_overview

    overview = area_overview(school_ids=area.school_ids, rows=True)
    for row in overview.rows:
        record = row.record
        _set(
            by_pk,
            row.school.pk,
            compliant=None if record is None else record.is_compliant,
            networked=None if record is None else record.is_networked,
        )
    r = overview.rates
    section = Section(
        "compliance",
        _("Security compliance (人防 · 物防 · 技防)"),
        [
            Figure("schools", _("Schools"), r.schools),
            Figure("evaluated", _("Schools evaluated"), r.evaluated),
            Figure("compliant", _("Schools fully compliant"), r.compliant),
            Figure("compliance_rate", _("Compliance rate (达标率)"), r.compliance_rate, "%"),
            Figure("network_rate", _("Networking rate (联网率)"), r.network_rate, "%"),
            Figure("staffing_rate", _("Guard staffing rate (保安配备率)"), r.staffing_rate, "%"),
            Figure("closed_rate", _("Closed management rate (封闭化管理率)"), r.closed_rate, "%"),
        ],
        note=_("As last evaluated when the report was generated (compliance keeps no history)."),
    )
    return section, overview


# ------------------------------------------------------------------ posts and visits


def _posts(reader, period: Period, by_pk) -> Section:
    from huxiao.patrols.selectors import coverage

    cover = coverage(
        actor=reader, first_day=period.first_day, last_day=period.last_day, group_by=("school",)
    )
    for row in cover.rows["school"]:
        _set(
            by_pk,
            row.key,
            post_shifts=row.shifts,
            post_staffed=row.staffed,
            post_three=row.all_three,
        )
    t = cover.total
    return Section(
        "posts",
        _("Gate posts (护学岗)"),
        [
            Figure("shifts", _("Gate-post shifts"), t.shifts),
            Figure("staffed", _("Staffed"), t.staffed),
            Figure("staffed_rate", _("Staffed rate"), rate(t.staffed, t.shifts), "%"),
            Figure("all_three", _("Police, car and lights all seen (三见)"), t.all_three),
            Figure("three_rate", _("三见 rate"), rate(t.all_three, t.shifts), "%"),
            Figure("late", _("Arrived late"), t.late),
            Figure("missed", _("Missed"), t.missed),
        ],
    )


def _visits(reader, period: Period, by_pk) -> Section:
    from huxiao.patrols.selectors import visit_list, visit_week

    counts = dict(
        visit_list(actor=reader)
        .filter(arrived_at__gte=period.since, arrived_at__lt=period.until)
        .order_by()
        .values("school_id")
        .annotate(n=Count("pk"))
        .values_list("school_id", "n")
    )
    for school_id, n in counts.items():
        _set(by_pk, school_id, visits=n)
    weeks = period.whole_weeks()
    school_weeks = met = 0
    required = None
    per_school: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for monday in weeks:
        for row in visit_week(actor=reader, week_start=monday):
            required = row.required
            school_weeks += 1
            met += row.met
            per_school[row.school_id][0] += 1
            per_school[row.school_id][1] += row.met
    for school_id, (n, ok) in per_school.items():
        _set(by_pk, school_id, visit_weeks=n, visit_weeks_met=ok)
    return Section(
        "visits",
        _("Police-post visits"),
        [
            Figure("visits", _("Police visits to schools"), sum(counts.values())),
            Figure("weeks", _("Whole weeks in the period"), len(weeks)),
            Figure("required", _("Visits required a week"), required),
            Figure("school_weeks", _("School-weeks under the rule"), school_weeks),
            Figure("school_weeks_met", _("School-weeks meeting the rule"), met),
            Figure("met_rate", _("Rule met"), rate(met, school_weeks), "%"),
        ],
        note=_("Weeks run Monday to Sunday; only whole weeks inside the period count."),
    )


# ------------------------------------------------------------------ drills and education


def _drills(reader, area: Area, period: Period, by_pk):
    from huxiao.drills.activity_selectors import ActivityFilters, activity_list
    from huxiao.drills.choices import ActivityKind, ActivityStatus
    from huxiao.drills.compliance_selectors import area_overview
    from huxiao.supervision.indicators import run_source

    held = {}
    for kind in ActivityKind:
        held[kind.value] = activity_list(
            actor=reader,
            filters=ActivityFilters(
                kind=kind.value,
                status=ActivityStatus.HELD,
                date_from=period.first_day,
                date_to=period.last_day,
            ),
        ).count()
    weekly = run_source("drills_held", list(area.school_ids), period.first_day, period.last_day, {})
    for school_id, value in weekly.items():
        _set(by_pk, school_id, drills_held=_dec(value))
    overview = area_overview(school_ids=area.school_ids, on=period.last_day, rows=True)
    for row in overview.rows:
        _set(by_pk, row.pk, drills_compliant=row.result.is_compliant)
    r = overview.rates
    figures = [
        Figure(f"held_{kind.value}", str(kind.label), held[kind.value]) for kind in ActivityKind
    ]
    figures += [
        Figure(
            "weekly_drills",
            _("Weekly drills held (mean of the schools)"),
            mean(weekly.values()),
            "%",
        ),
        Figure("schools", _("Schools evaluated"), r.schools),
        Figure("compliant", _("Schools meeting every activity rule"), r.compliant),
        Figure("compliance_rate", _("Activity compliance rate"), r.compliance_rate, "%"),
    ]
    section = Section(
        "drills",
        _("Drills and safety education"),
        figures,
        note=_("Activities held in the period; the rules as they stood on its last day."),
    )
    return section, overview


# ------------------------------------------------------------------ health, warnings, gate


def _health(area: Area, period: Period, by_pk) -> Section:
    from huxiao.health.home_selectors import period_counts
    from huxiao.health.suspensions import suspended_class_ids_at

    counts = period_counts(area.school_ids, period.first_day, period.last_day)
    totals = defaultdict(int)
    for school_id, values in counts.items():
        for key, n in values.items():
            totals[key] += n
        _set(by_pk, school_id, **values)
    suspended = len(suspended_class_ids_at(area.school_ids, period.last_day))
    return Section(
        "health",
        _("Health (four-party linkage)"),
        [
            Figure("alerts", _("Illness-absence cluster alerts"), totals["alerts"]),
            Figure("cases", _("Suspected cases reported"), totals["cases"]),
            Figure("suspensions", _("Class suspensions begun"), totals["suspensions"]),
            Figure("suspended_at_end", _("Classes suspended on the last day"), suspended),
        ],
        note=_("Counts only; no child is named in this report."),
    )


def _warnings(area: Area, period: Period) -> Section:
    from huxiao.intel.warnings_selectors import warning_counts

    c = warning_counts(school_ids=area.school_ids, since=period.since, until=period.until)
    return Section(
        "warnings",
        _("Warnings"),
        [
            Figure("early_issued", _("Early warnings issued to the schools"), c.early_issued),
            Figure("receipts", _("Schools to acknowledge them"), c.receipts),
            Figure("acknowledged", _("Acknowledged by the schools"), c.acknowledged),
            Figure("ack_rate", _("Acknowledged rate"), rate(c.acknowledged, c.receipts), "%"),
            Figure("signs_reported", _("Warning signs reported by the schools"), c.signs_reported),
        ],
        note=_("Counts only."),
    )


def _gate(area: Area, period: Period, by_pk) -> Section:
    from huxiao.access.report_selectors import gate_counts_by_school

    counts = gate_counts_by_school(
        school_ids=area.school_ids, start=period.first_day, end=period.last_day
    )
    totals = defaultdict(int)
    for school_id, values in counts.items():
        for key, n in values.items():
            totals[key] += n
        _set(by_pk, school_id, **values)
    return Section(
        "gate",
        _("The school gate"),
        [
            Figure("visitors", _("Visitors at the gate"), totals["visitors"]),
            Figure("vehicles", _("Vehicle entries"), totals["vehicles"]),
            Figure("interceptions", _("Contraband interceptions"), totals["interceptions"]),
        ],
    )


# ------------------------------------------------------------------ rankings and notices


def _area_offices(area: Area):
    """The offices of the area: the town's (town report) or every office of the county."""
    from huxiao.orgs.models import Organization

    qs = Organization.objects.filter(kind__in=OFFICE_KINDS, region_id=area.region_id)
    if area.kind != COUNTY:
        qs = qs.filter(town_id=area.town_id)
    return qs


def _rankings(reader, area: Area, period: Period, by_pk) -> list[Ranking]:
    """The published rankings of the month by the area's offices — for a town also the
    county's (the town's schools with their county rank), for the county also each town's
    — the area's own level first. A school's rank in the schools table is its rank in the
    first ranking that holds it."""
    from huxiao.orgs.models import Organization
    from huxiao.supervision.assessment_selectors import (
        published_runs_of,
        ranked_count,
        run_results,
        run_towns,
    )

    owners = Organization.objects.filter(kind__in=OFFICE_KINDS, region_id=area.region_id)
    if area.kind != COUNTY:
        owners = owners.filter(Q(town_id=area.town_id) | Q(town__isnull=True))
    runs = sorted(
        published_runs_of(owner_ids=owners.values_list("pk", flat=True), period_start=period.month),
        # Own level first: the county's rankings in a county report, the town's in a town's.
        key=lambda run: (run.scheme.owner.town_id is None) != (area.kind == COUNTY),
    )
    rankings = []
    ranked: set[int] = set()
    for run in runs[:MAX_RANKINGS]:
        results = list(run_results(actor=reader, run=run))
        if not results:
            continue
        rows = [
            RankingRow(
                rank=r.rank,
                school=r.school.name,
                town=r.town.name if r.town_id else "",
                score=r.score,
                rating=r.get_rating_display(),
                vetoed=r.vetoed,
            )
            for r in results
        ]
        for r in results:
            if r.school_id not in ranked:
                ranked.add(r.school_id)
                _set(by_pk, r.school_id, rank=r.rank, score=r.score)
        towns = []
        if area.kind == COUNTY and run.scheme.owner.town_id is None:
            towns = [
                TownRankingRow(t.rank, t.town.name, t.score, t.schools, t.vetoed_schools)
                for t in run_towns(actor=reader, run=run)
            ]
        rankings.append(
            Ranking(
                scheme=run.scheme.name,
                office=run.scheme.owner.name,
                published_at=run.published_at,
                rows=rows,
                towns=towns,
                ranked_total=ranked_count(run),
            )
        )
    return rankings


def _notices(area: Area, period: Period) -> list[NoticeRow]:
    from huxiao.supervision.notice_selectors import published_between

    notices = published_between(
        issuer_ids=_area_offices(area).values_list("pk", flat=True),
        school_ids=area.school_ids,
        since=period.since,
        until=period.until,
    )
    return [
        NoticeRow(
            published_at=n.published_at,
            kind=n.get_kind_display(),
            reference=n.reference,
            title=n.title,
            issuer=n.issuer.name,
            subjects=_(", ").join(s.name for s in n.subjects.all()),
            improve_by=n.improve_by,
            resolved=n.resolved_at is not None,
        )
        for n in notices
    ]


# ------------------------------------------------------------------ towns (county report)


def _towns(area: Area, schools: list[_School], security, drills, rankings) -> list[TownFigures]:
    if area.kind != COUNTY:
        return []
    towns: dict[int | None, TownFigures] = {}
    for s in schools:
        t = towns.get(s.town_id)
        if t is None:
            t = towns[s.town_id] = TownFigures(s.town_id, s.town_name or _("No town"))
        f = s.figures
        t.schools += s.active
        for name in (
            "alarms",
            "hazards_found",
            "hazards_closed",
            "hazards_overdue",
            "post_shifts",
            "post_staffed",
            "post_three",
            "visit_weeks",
            "visit_weeks_met",
            "alerts",
            "cases",
        ):
            setattr(t, name, getattr(t, name) + getattr(f, name))
    for rates in security.towns:
        if rates.town_id in towns:
            towns[rates.town_id].compliance_rate = rates.compliance_rate
            towns[rates.town_id].network_rate = rates.network_rate
    for rates in drills.towns:
        if rates.town_id in towns:
            towns[rates.town_id].drills_rate = rates.compliance_rate
    county_ranking = next((r for r in rankings if r.towns), None)
    if county_ranking is not None:
        by_name = {row.town: row.rank for row in county_ranking.towns}
        for t in towns.values():
            t.rank = by_name.get(t.name)
    return sorted(towns.values(), key=lambda t: (t.pk is None, t.name))
