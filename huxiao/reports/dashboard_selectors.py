"""The command dashboard's figures (issue 10 items 1–2, ADR 0033 "Dashboard").

One entry point, `dashboard_figures(user, area, today) -> Dashboard`, serves the page, its
live fragments, the big screen, the API (`GET /api/v1/reports/dashboard`) and the benchmark.
Each panel is a function `(user, area, today) -> <Panel> | None`:

- **Same numbers everywhere.** Every figure is read through the selector of the app that
  owns it (alarms `response_stats`, hazards `hazard_list`, security `county_overview`, …),
  never through a second definition. The area is applied by reading those selectors as
  `narrowed_to(user, area.school_ids)`: the viewer's own scope for each action, cut down to
  the area's schools (a county leader's view of one town reads the county's selectors).
- **Absent, not zero.** A panel whose action the viewer holds at none of the area's schools
  is None and is not shown (police never get the health panel; only police holding
  VIEW_REGISTER get the register's counts, and only on their jurisdiction's dashboard).
- **No data, not zero.** A rate over nothing is None ("no data"): compliance before any
  school is evaluated, 三见 before any gate post was held, drills without a term.
- **Every number links to the list behind it**, within the viewer's scope (`links`); a
  number without a list the viewer may open has no link.
- **Fixed cost.** Every panel is a fixed number of grouped queries whatever the number of
  schools (a county has a thousand); nothing is queried per school or per town.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import get_language

from huxiao.core.roles import Action
from huxiao.core.scoping import memberships_of, narrowed_to, visible_school_ids
from huxiao.reports.areas import COUNTY, STATION, TOWN, Area

logger = logging.getLogger(__name__)

# Panels in the order the page shows them; `dashboard_figures(panels=…)` names a subset.
PANELS = (
    "alarms",
    "hazards",
    "compliance",
    "patrols",
    "drills",
    "health",
    "warnings",
    "gate",
    "register",
)
# The live parts: what an alarm or health-alert event refreshes.
LIVE_PANELS = {"alarm": ("alarms",), "health": ("health",)}
# The rest: read over every school of the area through their apps' selectors, a few hundred
# milliseconds for a county; the page keeps them DASHBOARD_CACHE_SECONDS (ADR 0033).
SLOW_PANELS = tuple(name for name in PANELS if name not in ("alarms", "health"))
WARNING_DAYS = 30


def link(name: str, *args, query: dict | None = None) -> str:
    """The URL of a list page (with its filters), or "" while the page does not exist."""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return ""
    query = {k: v for k, v in (query or {}).items() if v not in (None, "")}
    return f"{url}?{urlencode(query)}" if query else url


def start_of(day: dt.date) -> dt.datetime:
    """Local midnight at the start of `day`, aware."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def day_window(today: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[today 00:00, now) while `today` is running, else the whole day."""
    since = start_of(today)
    until = min(start_of(today + dt.timedelta(days=1)), timezone.now())
    return since, max(until, since)


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _rate(value) -> float | None:
    """A percentage (Decimal or a 0–1 ratio already scaled) as a float with one place."""
    if value is None:
        return None
    return round(float(value), 1)


def _share(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 1) if whole else None


def _town_query(area: Area) -> dict:
    """The town filter of the list pages that have one, when the dashboard is a town's."""
    return {"town": area.pk} if area.kind == TOWN else {}


# ------------------------------------------------------------------ panels


@dataclass
class AlarmsPanel:
    """Panel 1: alarms now and today, drills apart, response times today (seconds)."""

    open_now: int
    open_drills: int
    raised_today: int
    drills_today: int
    not_acknowledged_today: int
    ack_median: float | None
    ack_worst: float | None
    arrival_median: float | None
    arrival_worst: float | None
    medians_complete: bool
    by_hour: dict[str, list[int]]
    links: dict[str, str] = field(default_factory=dict)


def _open_alarm_rows(viewer) -> list[tuple[int, bool, int]]:
    """Open alarms per (school, drill or not): one grouped query on the console's list."""
    from huxiao.alarms import selectors as alarms

    return list(
        alarms.alarm_list(actor=viewer, status="open")
        .order_by()
        .values_list("school_id", "is_drill")
        .annotate(n=Count("pk"))
    )


def alarms_panel(user, area: Area, today: dt.date, open_rows=None) -> AlarmsPanel | None:
    from huxiao.alarms import selectors as alarms

    viewer = narrowed_to(user, area.school_ids)
    if not visible_school_ids(viewer, Action.VIEW_ALARM):
        return None
    open_now = open_drills = 0
    for _school, is_drill, n in open_rows if open_rows is not None else _open_alarm_rows(viewer):
        if is_drill:
            open_drills += n
        else:
            open_now += n
    since, until = day_window(today)
    real = alarms.response_stats(actor=viewer, since=since, until=until, group_by="station")
    # Counted as response_stats counts them (accidental presses out): its total with
    # drills included, less the one without.
    by_hour = alarms.raised_by_hour(actor=viewer, since=since, until=until)
    total = real.total
    stats = {"period": "custom", "since": today.isoformat(), "until": today.isoformat()}
    return AlarmsPanel(
        open_now=open_now,
        open_drills=open_drills,
        raised_today=total.alarms,
        drills_today=sum(by_hour["drills"]),
        not_acknowledged_today=total.not_acknowledged,
        ack_median=total.ack_seconds_median,
        ack_worst=total.ack_seconds_max,
        arrival_median=total.arrival_seconds_median,
        arrival_worst=total.arrival_seconds_max,
        medians_complete=real.medians_complete,
        by_hour=by_hour,
        links={
            "open_now": link("alarms:console"),
            "open_drills": link("alarms:console"),
            "raised_today": link("alarms:stats", query=stats),
            "not_acknowledged_today": link("alarms:stats", query=stats),
            "drills_today": link("alarms:stats", query={**stats, "drills": "on"}),
            "response": link("alarms:stats", query=stats),
        },
    )


@dataclass
class HazardsPanel:
    """Panel 2: hazards open (by status), past their deadline, under listed supervision."""

    open: int
    by_status: dict[str, int]
    status_labels: dict[str, str]
    overdue: int
    listed: int
    links: dict[str, str] = field(default_factory=dict)

    @property
    def status_rows(self) -> list[tuple[str, str, int, str]]:
        """(status, label, count, list URL) in the order of the statuses."""
        return [
            (k, self.status_labels[k], n, self.links.get(f"status_{k}", ""))
            for k, n in self.by_status.items()
        ]


def _hazard_rows(viewer, today: dt.date):
    """Open hazards per (school, status) and overdue ones per school: two grouped queries
    on the hazard list's own selector."""
    from huxiao.hazards import hazard_selectors as hazards
    from huxiao.hazards.choices import OPEN_HAZARD_STATUSES

    open_rows = list(
        hazards.hazard_list(actor=viewer, today=today)
        .filter(status__in=OPEN_HAZARD_STATUSES)
        .order_by()
        .values_list("school_id", "status")
        .annotate(n=Count("pk"))
    )
    overdue_rows = dict(
        hazards.hazard_list(actor=viewer, filters=hazards.HazardFilters(overdue=True), today=today)
        .order_by()
        .values_list("school_id")
        .annotate(n=Count("pk"))
        .values_list("school_id", "n")
    )
    return open_rows, overdue_rows


def hazards_panel(user, area: Area, today: dt.date, rows=None) -> HazardsPanel | None:
    from huxiao.hazards import listing_selectors as listings
    from huxiao.hazards.choices import OPEN_HAZARD_STATUSES, HazardStatus, ListingStatus

    viewer = narrowed_to(user, area.school_ids)
    if not visible_school_ids(viewer, Action.VIEW):
        return None
    open_rows, overdue_rows = rows if rows is not None else _hazard_rows(viewer, today)
    by_status = dict.fromkeys(OPEN_HAZARD_STATUSES, 0)
    for _school, status, n in open_rows:
        by_status[status] += n
    listed = listings.listing_list(
        actor=viewer, filters=listings.ListingFilters(status=ListingStatus.ACTIVE)
    ).count()
    town = _town_query(area)
    links = {
        # The hazard list has no "open" filter: the closest is the list itself; each
        # status below is exact.
        "open": link("hazards:hazard_list", query=town),
        "overdue": link("hazards:hazard_list", query={**town, "overdue": "on"}),
        "listed": link(
            "hazards:listing_board", query={**town, "status": ListingStatus.ACTIVE.value}
        ),
    }
    for status in by_status:
        links[f"status_{status}"] = link("hazards:hazard_list", query={**town, "status": status})
    return HazardsPanel(
        open=sum(by_status.values()),
        by_status={str(k): v for k, v in by_status.items()},
        status_labels={str(k): str(HazardStatus(k).label) for k in by_status},
        overdue=sum(overdue_rows.values()),
        listed=listed,
        links=links,
    )


@dataclass
class RateRow:
    key: str
    label: str
    rate: float | None
    detail: str = ""
    url: str = ""


@dataclass
class TownRates:
    town_id: int | None
    name: str
    schools: int
    evaluated: int
    compliance_rate: float | None  # None: no school of the town evaluated yet
    network_rate: float | None
    url: str = ""


@dataclass
class CompliancePanel:
    """Panel 3: 达标率 and 联网率 of the area's schools, by town and by rule."""

    schools: int
    evaluated: int
    compliant: int
    networked: int
    compliance_rate: float | None  # None: no school evaluated yet
    network_rate: float | None
    towns: list[TownRates]
    rules: list[RateRow]  # per rule: pass rate; the link lists the schools failing it
    links: dict[str, str] = field(default_factory=dict)


def _compliance_overview(viewer, area: Area):
    from huxiao.security import compliance_selectors as security

    if area.kind == COUNTY:
        return security.county_overview(actor=viewer)
    return security.schools_overview(actor=viewer)


def compliance_panel(user, area: Area, today: dt.date, overview=None) -> CompliancePanel | None:
    """For the offices and the police (the compliance overviews' readers). Schools never
    evaluated count in every denominator as not meeting, as on the overviews; before any
    school is evaluated the rates are "no data"."""
    viewer = narrowed_to(user, area.school_ids)
    if overview is None:
        try:
            overview = _compliance_overview(viewer, area)
        except (PermissionDenied, Http404):
            return None
    rates = overview.rates
    if area.kind == COUNTY:
        home = link("security:compliance_county")
    elif area.kind == TOWN:
        home = link("security:compliance_town", area.pk)
    else:
        home = link("security:compliance_schools")
    evaluated = rates.evaluated > 0
    towns = [
        TownRates(
            town_id=t.town_id,
            name=t.label,
            schools=t.schools,
            evaluated=t.evaluated,
            compliance_rate=_rate(t.compliance_rate) if t.evaluated else None,
            network_rate=_rate(t.network_rate) if t.evaluated else None,
            url=link("security:compliance_town", t.town_id) if t.town_id else "",
        )
        for t in overview.towns
    ]
    failing = {"verdict": "fail"}
    rules = [
        RateRow(
            key=r.key,
            label=r.label,
            rate=_rate(r.rate) if evaluated else None,
            detail=str(r.failed),
            url=(
                link("security:compliance_town", area.pk, query={"rule": r.key, **failing})
                if area.kind == TOWN
                else link("security:compliance_schools", query={"rule": r.key, **failing})
            ),
        )
        for r in rates.rule_list
    ]
    return CompliancePanel(
        schools=rates.schools,
        evaluated=rates.evaluated,
        compliant=rates.compliant,
        networked=rates.networked,
        compliance_rate=_rate(rates.compliance_rate) if evaluated else None,
        network_rate=_rate(rates.network_rate) if evaluated else None,
        towns=towns,
        rules=rules,
        links={"compliance": home, "network": home, "evaluated": home},
    )


@dataclass
class PatrolsPanel:
    """Panel 4: gate posts (护学岗) this week and the "三见" rate; police visits against the
    weekly rule this week (so far) and last week."""

    week_start: str
    shifts: int
    staffed: int
    staffed_rate: float | None
    all_three: int
    three_rate: float | None
    missed: int
    visits_required: int
    visit_schools: int
    visit_met: int
    visit_rate: float | None
    last_week_schools: int
    last_week_met: int
    last_week_rate: float | None
    links: dict[str, str] = field(default_factory=dict)


def _coverage(viewer, today: dt.date):
    from huxiao.patrols import selectors as patrols

    monday = monday_of(today)
    return patrols.coverage(
        actor=viewer,
        first_day=monday,
        last_day=monday + dt.timedelta(days=6),
        group_by=("school",),
    )


def _visit_weeks(viewer, today: dt.date):
    from huxiao.patrols import selectors as patrols

    monday = monday_of(today)
    return (
        patrols.visit_week(actor=viewer, week_start=monday),
        patrols.visit_week(actor=viewer, week_start=monday - dt.timedelta(days=7)),
    )


def patrols_panel(user, area: Area, today: dt.date, data=None) -> PatrolsPanel | None:
    from huxiao.patrols import conf

    viewer = narrowed_to(user, area.school_ids)
    if not visible_school_ids(viewer, Action.VIEW_COVERAGE):
        return None
    coverage, (this_week, last_week) = data or (
        _coverage(viewer, today),
        _visit_weeks(viewer, today),
    )
    total = coverage.total
    monday = monday_of(today)
    met = sum(r.met for r in this_week)
    last_met = sum(r.met for r in last_week)
    week = {"since": monday.isoformat(), "until": (monday + dt.timedelta(days=6)).isoformat()}
    return PatrolsPanel(
        week_start=monday.isoformat(),
        shifts=total.shifts,
        staffed=total.staffed,
        staffed_rate=_rate(total.staffed_rate * 100) if total.shifts else None,
        all_three=total.all_three,
        three_rate=_rate(total.three_rate * 100) if total.shifts else None,
        missed=total.missed,
        visits_required=conf.visits_required(),
        visit_schools=len(this_week),
        visit_met=met,
        visit_rate=_share(met, len(this_week)),
        last_week_schools=len(last_week),
        last_week_met=last_met,
        last_week_rate=_share(last_met, len(last_week)),
        links={
            "shifts": link("patrols:coverage", query=week),
            "three": link("patrols:coverage", query=week),
            "visits": link("patrols:visit_list", query={"week": monday.isoformat()}),
            "last_week": link(
                "patrols:visit_list",
                query={"week": (monday - dt.timedelta(days=7)).isoformat()},
            ),
        },
    )


@dataclass
class DrillsPanel:
    """Panel 5: drills and safety education against the county's activity rules (this
    term): schools meeting every rule, and each rule's rate."""

    term: str
    schools: int
    compliant: int
    compliance_rate: float | None  # None: no rule judged (no term, no rules)
    rules: list[RateRow]
    links: dict[str, str] = field(default_factory=dict)


def _drills_overview(viewer, area: Area):
    from huxiao.drills import compliance_selectors as drills

    if area.kind == TOWN:
        return drills.town_overview(actor=viewer, town_id=area.pk)
    return drills.schools_overview(actor=viewer)


def drills_panel(user, area: Area, today: dt.date, overview=None) -> DrillsPanel | None:
    viewer = narrowed_to(user, area.school_ids)
    if overview is None:
        try:
            overview = _drills_overview(viewer, area)
        except (PermissionDenied, Http404):
            return None
    rates = overview.rates
    judged = any(r.judged for r in rates.rule_list)
    if area.kind == TOWN:
        home = link("drills:compliance_town", area.pk)
    else:
        home = link("drills:compliance_overview")
    term = overview.term
    rules = [
        RateRow(
            key=r.key,
            label=r.label,
            rate=_rate(r.rate),
            detail=str(r.counts.get("fail", 0)),
            url=f"{home}?{urlencode({'rule': r.key, 'verdict': 'fail'})}" if home else "",
        )
        for r in rates.rule_list
    ]
    return DrillsPanel(
        term=term.name if term is not None else "",
        schools=rates.schools,
        compliant=rates.compliant,
        compliance_rate=_rate(rates.compliance_rate) if judged else None,
        rules=rules,
        links={"compliance": home},
    )


@dataclass
class HealthPanel:
    """Panel 6: open cluster alerts and open suspected cases (VIEW_HEALTH), classes
    suspended today (VIEW_SUSPENSION). A figure the viewer may not see is None."""

    open_alerts: int | None
    open_cases: int | None
    suspended_classes: int | None
    links: dict[str, str] = field(default_factory=dict)


def health_panel(user, area: Area, today: dt.date) -> HealthPanel | None:
    from huxiao.health import case_selectors as cases
    from huxiao.health import surveillance_selectors as surveillance
    from huxiao.health.choices import AlertStatus
    from huxiao.health.suspensions import suspended_class_ids_at

    viewer = narrowed_to(user, area.school_ids)
    view_ids = visible_school_ids(viewer, Action.VIEW_HEALTH)
    suspension_ids = visible_school_ids(viewer, Action.VIEW_SUSPENSION)
    if not (view_ids or suspension_ids):
        return None
    panel = HealthPanel(open_alerts=None, open_cases=None, suspended_classes=None)
    if view_ids:
        panel.open_alerts = (
            surveillance.alert_list(actor=viewer, status=AlertStatus.OPEN).order_by().count()
        )
        panel.open_cases = cases.case_list(actor=viewer, status="open").order_by().count()
        panel.links["open_alerts"] = link("health:alerts", query={"status": AlertStatus.OPEN})
        panel.links["open_cases"] = link("health:cases", query={"status": "open"})
    if suspension_ids:
        panel.suspended_classes = len(suspended_class_ids_at(suspension_ids, today))
        panel.links["suspended_classes"] = link("health:suspensions")
    return panel


@dataclass
class WarningsPanel:
    """Panel 7: early warnings issued / acknowledged and warning signs (counts only)."""

    days: int
    early_issued: int
    early_active: int
    receipts: int
    acknowledged: int
    ack_rate: float | None
    signs_reported: int
    signs_open: int
    links: dict[str, str] = field(default_factory=dict)


def warnings_panel(user, area: Area, today: dt.date) -> WarningsPanel | None:
    """The police of the schools (HANDLE_WARNING) with links to their lists; the offices
    that follow the police–school linkage (VIEW_COVERAGE) see the counts only: the lists
    are the police's and the schools' (ADR 0019)."""
    from huxiao.intel import warnings_selectors as warnings

    viewer = narrowed_to(user, area.school_ids)
    police_ids = visible_school_ids(viewer, Action.HANDLE_WARNING)
    ids = police_ids | visible_school_ids(viewer, Action.VIEW_COVERAGE)
    if not ids:
        return None
    since = start_of(today - dt.timedelta(days=WARNING_DAYS - 1))
    _since, until = day_window(today)
    counts = warnings.warning_counts(school_ids=ids, since=since, until=until)
    links = {}
    if police_ids:
        links = {
            "early_issued": link("intel:early_list"),
            "early_active": link("intel:early_list"),
            "acknowledged": link("intel:early_list"),
            "signs_reported": link("intel:sign_list"),
            "signs_open": link("intel:sign_list"),
        }
    return WarningsPanel(
        days=WARNING_DAYS,
        ack_rate=_share(counts.acknowledged, counts.receipts),
        links=links,
        **asdict(counts),
    )


@dataclass
class GatePanel:
    """Panel 8: the gate today (visitors, vehicles) and contraband stopped this week."""

    visitors: int
    vehicles: int
    interceptions: int
    links: dict[str, str] = field(default_factory=dict)


def gate_panel(user, area: Area, today: dt.date) -> GatePanel | None:
    """For those who follow the police–school linkage (VIEW_COVERAGE: offices and police);
    counts only, and never how many were held at the gate (register information). The
    police open the interceptions list; no office has a list of visitors or vehicles."""
    from huxiao.access import contraband_selectors, report_selectors

    viewer = narrowed_to(user, area.school_ids)
    ids = visible_school_ids(viewer, Action.VIEW_COVERAGE)
    if not ids:
        return None
    counts = report_selectors.gate_counts(school_ids=ids, day=today, week_start=monday_of(today))
    links = {}
    if contraband_selectors.reader_school_ids(viewer):
        links["interceptions"] = link("access:contraband_list")
    return GatePanel(**counts, links=links)


@dataclass
class RegisterPanel:
    """Panel 9 (police holding VIEW_REGISTER, their jurisdiction's dashboard only): the
    register's active persons by risk level and the follow-up reviews due."""

    active: int
    by_level: dict[str, int]
    level_labels: dict[str, str]
    reviews_due: int  # review date reached (today or earlier)
    reviews_week: int  # due within seven days (those above included)
    links: dict[str, str] = field(default_factory=dict)

    @property
    def level_rows(self) -> list[tuple[str, str, int, str]]:
        """(risk level, label, count, list URL), highest risk first."""
        return [
            (k, self.level_labels[k], n, self.links.get(f"level_{k}", ""))
            for k, n in self.by_level.items()
        ]


def register_panel(user, area: Area, today: dt.date) -> RegisterPanel | None:
    from huxiao.intel import rules
    from huxiao.intel import selectors as register
    from huxiao.intel.choices import PersonStatus, RiskLevel
    from huxiao.orgs.models import Organization

    if area.kind != STATION:
        return None
    stations = rules.register_station_ids(user, rules.VIEW)
    if not stations:
        return None
    if area.pk in stations:
        station_id = area.pk
    else:  # a police post's dashboard: its parent station's register
        parent = Organization.objects.filter(pk=area.pk).values_list("parent_id", flat=True)
        station_id = parent.first()
        if station_id not in stations:
            return None
    active = register.person_list(
        actor=user, status=PersonStatus.ACTIVE, station_id=station_id, today=today
    )
    by_level = dict.fromkeys(RiskLevel.values, 0)
    for level, n in active.order_by().values_list("risk_level").annotate(n=Count("pk")):
        by_level[level] = n
    due = register.person_list(actor=user, review="due", station_id=station_id, today=today)
    week = register.person_list(actor=user, review="week", station_id=station_id, today=today)
    links = {"active": link("intel:register_list")}
    for level in by_level:
        links[f"level_{level}"] = link("intel:register_list", query={"risk": level})
    links["reviews_due"] = link("intel:register_list", query={"review": "due"})
    links["reviews_week"] = link("intel:register_list", query={"review": "week"})
    return RegisterPanel(
        active=sum(by_level.values()),
        by_level=by_level,
        level_labels={k: str(RiskLevel(k).label) for k in by_level},
        reviews_due=due.order_by().count(),
        reviews_week=week.order_by().count(),
        links=links,
    )


# ------------------------------------------------------------------ breakdown


@dataclass
class BreakdownRow:
    """One town of a county, or one school of a town or jurisdiction. A figure the viewer
    may not see (its panel is absent) is None; so is a rate over nothing."""

    pk: int
    name: str
    url: str
    schools: int = 0
    open_alarms: int | None = None
    open_hazards: int | None = None
    overdue_hazards: int | None = None
    compliance: str | float | None = None  # a town: rate; a school: "yes" | "no" | None
    network: str | float | None = None
    three_rate: float | None = None
    visits: str | float | None = None  # a town: % of schools meeting; a school: "n/2"
    drills: str | float | None = None


@dataclass
class Breakdown:
    kind: str  # "towns" | "schools"
    rows: list[BreakdownRow]
    row_of: dict[int, int | None] = field(default_factory=dict, repr=False)  # school → row pk


def _scorecard_url(school_id: int) -> str:
    return link("reports:scorecard", school_id)


# ------------------------------------------------------------------ the dashboard


@dataclass
class Dashboard:
    area: Area
    today: dt.date
    generated_at: dt.datetime
    figures_at: dt.datetime | None  # when the slow panels were read (see dashboard_figures)
    alarms: AlarmsPanel | None = None
    hazards: HazardsPanel | None = None
    compliance: CompliancePanel | None = None
    patrols: PatrolsPanel | None = None
    drills: DrillsPanel | None = None
    health: HealthPanel | None = None
    warnings: WarningsPanel | None = None
    gate: GatePanel | None = None
    register: RegisterPanel | None = None
    breakdown: Breakdown | None = None
    towns: list = field(default_factory=list)  # a county's towns (id, name) to drill into

    def panel_list(self) -> list[tuple[str, object]]:
        return [(name, getattr(self, name)) for name in PANELS if getattr(self, name) is not None]


def dashboard_figures(
    user, area: Area, today: dt.date, *, panels=None, cached: bool = False
) -> Dashboard:
    """Everything the dashboard shows for `area` as `user` sees it on `today` (local date).
    `panels`: a subset of PANELS (the live fragments); None: every panel and the breakdown
    by town (a county) or by school (a town or a jurisdiction).

    `cached`: the slow panels (SLOW_PANELS, with their part of the breakdown) may come from
    what this user was shown of this area today within DASHBOARD_CACHE_SECONDS (the page and
    the big screen: a refresh or a second screen costs nothing); the live panels are read
    every time, and `figures_at` says when the slow ones were."""
    wanted = set(PANELS if panels is None else panels)
    dash = Dashboard(area=area, today=today, generated_at=timezone.now(), figures_at=None)
    viewer = narrowed_to(user, area.school_ids)
    full = panels is None
    slow = [name for name in SLOW_PANELS if name in wanted]
    seconds = settings.DASHBOARD_CACHE_SECONDS if cached else 0
    key = _slow_key(user, area, today, slow, full) if seconds > 0 and slow else None
    part = _kept(key) if key else None
    if part is None:
        part = _slow_part(user, viewer, area, today, slow, full)
        if key:
            _keep(key, part, seconds)
    for name, panel in part.panels.items():
        setattr(dash, name, panel)
    dash.figures_at = part.at if slow else None  # a live fragment says nothing of them
    dash.breakdown, dash.towns = part.breakdown, part.towns
    if "alarms" in wanted and visible_school_ids(viewer, Action.VIEW_ALARM):
        open_rows = _open_alarm_rows(viewer)
        dash.alarms = alarms_panel(user, area, today, open_rows=open_rows)
        if dash.breakdown is not None:
            _breakdown_alarms(dash.breakdown, open_rows)
    if "health" in wanted:
        dash.health = health_panel(user, area, today)
    return dash


@dataclass
class SlowPart:
    """The slow panels of one dashboard, their part of the breakdown, and when they were
    read: what DASHBOARD_CACHE_SECONDS keeps."""

    at: dt.datetime
    panels: dict
    breakdown: Breakdown | None = None
    towns: list = field(default_factory=list)


def _slow_key(user, area: Area, today: dt.date, slow: list[str], full: bool) -> str:
    """Per viewer with their memberships (a role taken away is a new key: no register
    counts kept for someone who lost them), area with the schools the viewer's scope gives
    it, day, language and panels: nobody is ever shown figures read for someone else."""
    schools = ",".join(map(str, sorted(area.school_ids)))
    roles = ",".join(sorted(f"{m.organization_id}:{m.role}" for m in memberships_of(user)))
    digest = hashlib.blake2b(
        f"{area.key}|{schools}|{roles}|{today.isoformat()}|{get_language()}|{','.join(slow)}|{full}".encode(),
        digest_size=16,
    ).hexdigest()
    return f"reports:dashboard:v1:{user.pk}:{digest}"


def _kept(key: str) -> SlowPart | None:
    try:
        part = cache.get(key)
    except Exception:  # noqa: BLE001 - a broken cache (Redis restarting) costs a read, not a 500
        logger.warning("dashboard cache unavailable; figures read afresh", exc_info=True)
        return None
    return part if isinstance(part, SlowPart) else None


def _keep(key: str, part: SlowPart, seconds: int) -> None:
    try:
        cache.set(key, part, seconds)
    except Exception:  # noqa: BLE001 - see _kept
        logger.warning("dashboard cache unavailable; figures not kept", exc_info=True)


def _slow_part(user, viewer, area: Area, today: dt.date, slow: list[str], full: bool) -> SlowPart:
    part = SlowPart(at=timezone.now(), panels={})
    shared: dict = {}
    if "hazards" in slow and visible_school_ids(viewer, Action.VIEW):
        shared["hazards"] = _hazard_rows(viewer, today)
        part.panels["hazards"] = hazards_panel(user, area, today, rows=shared["hazards"])
    if "compliance" in slow:
        try:
            shared["compliance"] = _compliance_overview(viewer, area)
        except (PermissionDenied, Http404):
            shared["compliance"] = None
        if shared["compliance"] is not None:
            part.panels["compliance"] = compliance_panel(
                user, area, today, overview=shared["compliance"]
            )
    if "patrols" in slow and visible_school_ids(viewer, Action.VIEW_COVERAGE):
        shared["patrols"] = (_coverage(viewer, today), _visit_weeks(viewer, today))
        part.panels["patrols"] = patrols_panel(user, area, today, data=shared["patrols"])
    if "drills" in slow:
        try:
            shared["drills"] = _drills_overview(viewer, area)
        except (PermissionDenied, Http404):
            shared["drills"] = None
        if shared["drills"] is not None:
            part.panels["drills"] = drills_panel(user, area, today, overview=shared["drills"])
    if "warnings" in slow:
        part.panels["warnings"] = warnings_panel(user, area, today)
    if "gate" in slow:
        part.panels["gate"] = gate_panel(user, area, today)
    if "register" in slow:
        part.panels["register"] = register_panel(user, area, today)
    if full:
        part.breakdown = _breakdown(area, viewer, part.panels, shared)
        if area.kind == COUNTY:
            from huxiao.reports.areas import towns_of

            part.towns = [(t.pk, t.name) for t in towns_of(area)]
    return part


def _breakdown_alarms(breakdown: Breakdown, open_rows) -> None:
    """The live column of the breakdown: open alarms (drills aside) per town or school."""
    for row in breakdown.rows:
        row.open_alarms = 0
    rows = {row.pk: row for row in breakdown.rows}
    for school_id, is_drill, n in open_rows:
        row = rows.get(breakdown.row_of.get(school_id))
        if row is not None and not is_drill:
            row.open_alarms += n


def _breakdown(area: Area, viewer, panels: dict, shared: dict) -> Breakdown:
    """Per town (a county) or per school: the panels' own grouped rows regrouped; one
    query for the schools' names and towns."""
    from huxiao.orgs.models import Organization

    schools = list(
        Organization.objects.filter(pk__in=area.school_ids)
        .order_by("town__code", "name", "pk")
        .values_list("pk", "name", "town_id", "town__name")
    )
    by_town = area.kind == COUNTY
    town_of = {pk: town_id for pk, _name, town_id, _town in schools}
    rows: dict[int, BreakdownRow] = {}
    if by_town:
        for _pk, _name, town_id, town_name in schools:
            if town_id is None:
                continue
            row = rows.get(town_id)
            if row is None:
                url = f"{link('reports:dashboard')}?{urlencode({'town': town_id})}"
                row = rows[town_id] = BreakdownRow(pk=town_id, name=town_name, url=url)
            row.schools += 1
    else:
        for pk, name, _town_id, _town in schools:
            rows[pk] = BreakdownRow(pk=pk, name=name, url=_scorecard_url(pk), schools=1)

    def key(school_id):
        return town_of.get(school_id) if by_town else school_id

    def add(attr, school_id, n):
        row = rows.get(key(school_id))
        if row is not None:
            setattr(row, attr, (getattr(row, attr) or 0) + n)

    if panels.get("hazards") is not None:
        open_rows, overdue_rows = shared["hazards"]
        for row in rows.values():
            row.open_hazards = row.overdue_hazards = 0
        for school_id, _status, n in open_rows:
            add("open_hazards", school_id, n)
        for school_id, n in overdue_rows.items():
            add("overdue_hazards", school_id, n)
    overview = shared.get("compliance")
    if panels.get("compliance") is not None and overview is not None:
        if by_town:
            for town in overview.towns:
                row = rows.get(town.town_id)
                if row is not None and town.evaluated:
                    row.compliance = _rate(town.compliance_rate)
                    row.network = _rate(town.network_rate)
        else:
            for school_row in overview.rows:
                row = rows.get(school_row.school.pk)
                if row is not None and school_row.record is not None:
                    row.compliance = "yes" if school_row.record.is_compliant else "no"
                    row.network = "yes" if school_row.record.is_networked else "no"
    if panels.get("patrols") is not None:
        coverage, (this_week, _last) = shared["patrols"]
        sums: dict = defaultdict(lambda: [0, 0])
        for cov in coverage.rows.get("school", []):
            cell = sums[key(cov.key)]
            cell[0] += cov.shifts
            cell[1] += cov.all_three
        for row_key, (shifts, three) in sums.items():
            if row_key in rows:
                rows[row_key].three_rate = _share(three, shifts)
        if by_town:
            under: dict = defaultdict(lambda: [0, 0])
            for visit in this_week:
                cell = under[key(visit.school_id)]
                cell[0] += 1
                cell[1] += visit.met
            for row_key, (n, met) in under.items():
                if row_key in rows:
                    rows[row_key].visits = _share(met, n)
        else:
            for visit in this_week:
                if visit.school_id in rows:
                    rows[visit.school_id].visits = f"{visit.visits}/{visit.required}"
    drills = shared.get("drills")
    if panels.get("drills") is not None and drills is not None:
        if by_town:
            for town in drills.towns:
                row = rows.get(town.town_id)
                if row is not None and any(r.judged for r in town.rule_list):
                    row.drills = _rate(town.compliance_rate)
        else:
            for school_row in drills.rows:
                row = rows.get(school_row.pk)
                if row is not None and school_row.result.outcomes():
                    row.drills = "yes" if school_row.result.is_compliant else "no"
    return Breakdown(
        kind="towns" if by_town else "schools",
        rows=list(rows.values()),
        row_of={school_id: key(school_id) for school_id in town_of},
    )


# ------------------------------------------------------------------ JSON


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def dashboard_json(dash: Dashboard) -> dict:
    """The dashboard as the API gives it: a panel the viewer may not see is absent (not
    null), so its fields never appear."""
    area = dash.area
    data = {
        "area": {
            "kind": area.kind,
            "id": area.pk,
            "name": area.name,
            "town_id": area.town_id,
            "schools": len(area.school_ids),
        },
        "today": dash.today.isoformat(),
        "generated_at": dash.generated_at.isoformat(),
        "panels": {name: _plain(asdict(panel)) for name, panel in dash.panel_list()},
    }
    if dash.breakdown is not None:
        data["breakdown"] = {
            "kind": dash.breakdown.kind,
            "rows": [_plain(asdict(row)) for row in dash.breakdown.rows],
        }
    if dash.towns:
        data["towns"] = [{"id": pk, "name": name} for pk, name in dash.towns]
    return data
