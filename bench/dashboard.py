"""bench/dashboard: the command dashboard and the monthly report of a county (issue 10).

A generated county (bench/dashboard_seed.py): 1,000 schools over 12 towns with a year of
10 M gate events, 100 k hazards, gate posts, police visits, drills, alarms, warnings,
compliance, health alerts and a published assessment. Targets of issue 10 and what is
measured here:

- dashboard page p95 ≤ 300 ms warm: `reports:dashboard` (`/reports/dashboard/`) for the
  county's governance centre (the `county` user of the issue: every panel a county leader
  sees), its town drill-down (`?town=`) and the same figures as JSON
  (`GET /api/v1/reports/dashboard`). Served by granian WSGI under light load (wrk,
  --connections 2, --duration s per URL and round, --rounds rounds alternating the order)
  beside the floor page of bench/floor_app.py (the school home page as a bare view) served
  the same way in the same run: p50/p90/p95/p99 (medians of the rounds), each p95 over the
  floor's, queries per request in-process and a profile of one request. The two pages carry
  the target; the API is reported beside them. Before that, `dashboard_figures(user, area,
  today)` alone in-process (--repeats calls per area): where a page's time goes.
- monthly county report ≤ 60 s: `monthly_builders.monthly_request` + `services.
  report_build` in-process (what the task queue's worker runs: the figures, the PDF and the
  workbook, stored), for last month, --runs times (median, each a new report: a done job is
  never reused), and the same for a town. The queue's delivery is not measured: the build
  is called directly (`services._enqueue` is a no-op meanwhile). Its floor, interleaved run
  by run: the time to count the month's rows the report reads, one COUNT query per table
  for the area's schools (alarms, incidents, hazards found and closed, listings, compliance
  rows, gate-post shifts, police visits, activities, drill records, health alerts, cases and
  suspensions, warning receipts and signs, visits, vehicles, interceptions, assessment
  results, notices). Also the content alone (`monthly_selectors.monthly_report`, no PDF or
  workbook) once, to split the build.
- figures consistent with the selectors: dashboard figures against the apps' own selectors
  called directly for the same viewer, and against what the generator wrote (`truth`); the
  monthly report's figures against the selectors and raw counts for the month. Any
  mismatch is listed (there must be none) and fails the benchmark's `met`.

    .venv/bin/python bench/dashboard.py [--runs 5] [--rounds 3] [--duration 10] [--strict]
    .venv/bin/python bench/dashboard.py --database postgres
    .venv/bin/python bench/dashboard.py --smoke   # tiny county, seconds: it still works

Each run generates its county afresh (a few minutes for 10 M gate events: the seed time is
in `data.generated_s`, the database's size in `data.database_bytes`): SQLite in a new
temporary var directory (removed at the end), PostgreSQL in its own database
(--postgres-url, default huxiao_bench_dashboard at 127.0.0.1:5432 as postgres), recreated
at the start and dropped at the end (--keep keeps either). Prints JSON, writes
var/bench/dashboard.json and var/bench/dashboard-<database>.json (--smoke: only --output);
progress goes to stderr. Exits 2 on any error (a part whose code is not there yet is
reported in `errors`, after the JSON), and 1 on a missed target only with --strict. Needs
wrk (scripts/install-bench-tools.sh).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/dashboard.py` puts bench/ first
    sys.path.insert(0, str(ROOT))

from bench import dashboard_seed  # noqa: E402
from bench.common import (  # noqa: E402
    BenchError,
    add_arguments,
    check_arguments,
    machine,
    measure_pages,
    percentiles,
    profiled,
    queries_of,
    ratio,
    run,
    timed,
    warm_url_resolver,
)
from bench.dashboard_seed import log  # noqa: E402

TARGET_PAGE_P95_MS = 300.0
# The page's cache of its slow panels as deployed (config/settings.py DASHBOARD_CACHE_SECONDS).
PAGE_CACHE_SECONDS = 30
TARGET_MONTHLY_S = 60.0
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/huxiao_bench_dashboard"


class NotThereYet(BenchError):
    """The code a part measures is not written yet: reported, the other parts go on."""


def _dashboard_code():
    try:
        from huxiao.reports.dashboard_selectors import dashboard_figures, dashboard_json
    except ImportError as exc:
        raise NotThereYet(f"huxiao.reports.dashboard_selectors.dashboard_figures: {exc}") from None
    return dashboard_figures, dashboard_json


def _monthly_code():
    try:
        from huxiao.reports import monthly_builders, monthly_selectors
    except ImportError as exc:
        raise NotThereYet(f"huxiao.reports.monthly_builders: {exc}") from None
    from huxiao.reports import registry

    registry.load_builders()
    if registry.get("monthly") is None:
        raise NotThereYet("no builder registered for the monthly report (registry 'monthly')")
    return monthly_builders, monthly_selectors


def _areas(seeded: dict) -> dict:
    """The county user and the areas measured: the county and its first town."""
    from huxiao.reports.areas import dashboard_area

    ids = dashboard_seed.actors(seeded["region_id"])
    county = ids["county"]
    return {
        **ids,
        "county_area": dashboard_area(county),
        "town_area": dashboard_area(county, town_id=ids["town_id"]),
    }


def _today(seeded: dict) -> dt.date:
    return dt.date.fromisoformat(seeded["anchor"])


# ------------------------------------------------------------------ the figures in-process


def measure_figures(seeded: dict, args) -> dict:
    """`dashboard_figures` alone, per area: where a page's time goes."""
    dashboard_figures, _json = _dashboard_code()
    who = _areas(seeded)
    today = _today(seeded)
    result = {}
    for name in ("county", "town"):
        area = who[f"{name}_area"]
        cold_ms, _dash = timed(dashboard_figures, who["county"], area, today)
        samples = [
            timed(dashboard_figures, who["county"], area, today)[0] for _ in range(args.repeats)
        ]
        figures = percentiles(samples)
        log(f"dashboard_figures {name}: p50 {figures['p50_ms']:.0f} ms, cold {cold_ms:.0f} ms")
        result[name] = {
            "area": {"kind": area.kind, "name": area.name, "schools": len(area.school_ids)},
            "cold_ms": round(cold_ms, 1),
            **figures,
            "queries": queries_of(dashboard_figures, who["county"], area, today),
            "profile": profiled(dashboard_figures, who["county"], area, today, limit=12),
        }
    return result


# ------------------------------------------------------------------ the pages


def _page_urls(seeded: dict) -> list[dict]:
    from django.urls import NoReverseMatch, reverse

    try:
        path = reverse("reports:dashboard")
    except NoReverseMatch:
        raise NotThereYet("the page reports:dashboard is not there yet") from None
    town = dashboard_seed.actors(seeded["region_id"])["town_id"]
    return [
        {"name": "dashboard", "actor": "county", "path": path, "target": True},
        {
            "name": "dashboard_town",
            "actor": "county",
            "path": f"{path}?town={town}",
            "target": True,
        },
        {
            "name": "dashboard_api",
            "actor": "county",
            "path": "/api/v1/reports/dashboard",
            "target": False,
        },
    ]


def _page_checker(seeded: dict):
    """A check of a served body: the right area's dashboard with its panels (HTML), or its
    JSON with its panels."""
    from huxiao.orgs.models import Region, Town

    county = Region.objects.get(pk=seeded["region_id"]).name
    town = Town.objects.get(pk=dashboard_seed.actors(seeded["region_id"])["town_id"]).name

    def check(url: dict, body: bytes) -> dict:
        if url["name"] == "dashboard_api":
            try:
                data = json.loads(body)
            except ValueError:
                raise BenchError(f"{url['name']}: not JSON: {body[:200]!r}") from None
            panels = sorted(data.get("panels", {}))
            if len(panels) < 5 or data.get("area", {}).get("kind") != "county":
                raise BenchError(f"{url['name']}: not the county's figures: {panels}")
            return {"panels": panels}
        text = body.decode("utf-8", errors="replace")
        name = town if url["name"] == "dashboard_town" else county
        if 'data-testid="dashboard"' not in text or name not in text:
            raise BenchError(f"{url['name']}: not the dashboard of {name}")
        panels = text.count('data-testid="panel-')
        if panels < 5:
            raise BenchError(f"{url['name']}: {panels} panels shown")
        return {"panels": panels}

    return check


def measure_page(args, env: dict, seeded: dict) -> dict:
    _dashboard_code()
    urls = _page_urls(seeded)
    ids = dashboard_seed.actors(seeded["region_id"])
    from huxiao.orgs.models import Membership

    floor_school = (
        Membership.objects.filter(user=ids["principal"]).values_list("organization_id", flat=True)
    ).get()
    # What a deployment runs with (config/settings.py): the page keeps its slow panels this
    # long per viewer; so every `seconds` one request reads them all again (the API never
    # keeps them and is reported beside the pages).
    env = {**env, "HUXIAO_DASHBOARD_CACHE_SECONDS": str(PAGE_CACHE_SECONDS)}
    page = measure_pages(
        args,
        env,
        urls=urls,
        users={"county": ids["county"], "principal": ids["principal"]},
        floor_actor="principal",
        floor_school_id=floor_school,
        target_ms=TARGET_PAGE_P95_MS,
        check=_page_checker(seeded),
        log=log,
    )
    page["server"]["dashboard_cache_seconds"] = PAGE_CACHE_SECONDS
    return page


# ------------------------------------------------------------------ the monthly report


def read_month_rows(area, first: dt.date, last: dt.date) -> dict[str, tuple[int, float]]:
    """The floor: how many of the month's rows the report reads, one COUNT per table for the
    area's schools. Returns table → (rows, ms)."""
    from django.utils import timezone

    from huxiao.access.models import Interception, VehicleMovement, Visit
    from huxiao.alarms.models import Alarm
    from huxiao.drills.models import Activity, DrillRecord
    from huxiao.hazards.models import Hazard, ListedSupervision
    from huxiao.health.models import ClassSuspension, ClusterAlert, HealthCase
    from huxiao.incidents.models import Incident
    from huxiao.intel.models import EarlyWarningRecipient, WarningSign
    from huxiao.patrols.models import PoliceVisit, PostShift
    from huxiao.security.models import SchoolCompliance
    from huxiao.supervision.models import AssessmentResult, Notice

    since = timezone.make_aware(dt.datetime.combine(first, dt.time()))
    until = timezone.make_aware(dt.datetime.combine(last + dt.timedelta(days=1), dt.time()))
    ids = list(area.school_ids)
    at = {"school_id__in": ids}
    counts = {
        "alarms": Alarm.objects.filter(**at, raised_at__gte=since, raised_at__lt=until),
        "incidents": Incident.objects.filter(**at, opened_at__gte=since, opened_at__lt=until),
        "hazards_found": Hazard.objects.filter(**at, reported_at__gte=since, reported_at__lt=until),
        "hazards_closed": Hazard.objects.filter(**at, closed_at__gte=since, closed_at__lt=until),
        "listings": ListedSupervision.objects.filter(**at, listed_at__lt=until),
        "compliance": SchoolCompliance.objects.filter(**at),
        "post_shifts": PostShift.objects.filter(**at, date__gte=first, date__lte=last),
        "police_visits": PoliceVisit.objects.filter(
            **at, arrived_at__gte=since, arrived_at__lt=until
        ),
        "activities": Activity.objects.filter(**at, date__gte=first, date__lte=last),
        "drill_records": DrillRecord.objects.filter(
            activity__school_id__in=ids, activity__date__gte=first, activity__date__lte=last
        ),
        "health_alerts": ClusterAlert.objects.filter(**at, raised_at__lt=until),
        "health_cases": HealthCase.objects.filter(**at, reported_at__lt=until),
        "suspensions": ClassSuspension.objects.filter(**at, starts_on__lte=last),
        "warning_receipts": EarlyWarningRecipient.objects.filter(
            **at, warning__issued_at__gte=since, warning__issued_at__lt=until
        ),
        "warning_signs": WarningSign.objects.filter(
            **at, reported_at__gte=since, reported_at__lt=until
        ),
        "visits": Visit.objects.filter(**at, checked_in_at__gte=since, checked_in_at__lt=until),
        "vehicles": VehicleMovement.objects.filter(
            **at, entered_at__gte=since, entered_at__lt=until
        ),
        "interceptions": Interception.objects.filter(**at, at__gte=since, at__lt=until),
        "assessment_results": AssessmentResult.objects.filter(
            **at, run__period_start__gte=first, run__period_start__lte=last
        ),
        "notices": Notice.objects.filter(published_at__gte=since, published_at__lt=until),
    }
    return {name: tuple(reversed(timed(qs.count))) for name, qs in counts.items()}


@contextlib.contextmanager
def _no_queue():
    """The build is called directly, as the worker would: the queue is not involved."""
    from huxiao.reports import services

    enqueue = services._enqueue
    services._enqueue = lambda report_id: None
    try:
        yield
    finally:
        services._enqueue = enqueue


def _build_once(monthly_builders, actor, area, month: dt.date, today: dt.date) -> dict:
    from huxiao.reports import services

    request_ms, (report, created) = timed(
        monthly_builders.monthly_request, actor=actor, area=area, month=month, today=today
    )
    if not created:
        raise BenchError(f"monthly report of {area.name}: a job was already waiting")
    build_ms, built = timed(services.report_build, report.pk)
    if built is None or built.status != "done":
        error = built.error if built is not None else "not claimed"
        raise BenchError(f"monthly report of {area.name} failed: {error}")
    return {
        "ms": request_ms + build_ms,
        "request_ms": request_ms,
        "build_ms": build_ms,
        "pdf_bytes": built.pdf.size if built.pdf else 0,
        "xlsx_bytes": built.xlsx.size if built.xlsx else 0,
    }


def measure_monthly(seeded: dict, runs: int) -> dict:
    monthly_builders, monthly_selectors = _monthly_code()
    # WeasyPrint reports each layout step at INFO: not the benchmark's progress.
    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.WARNING)
    from huxiao.reports.areas import COUNTY, TOWN, report_area

    ids = dashboard_seed.actors(seeded["region_id"])
    actor = ids["county"]
    today = _today(seeded)
    month = monthly_selectors.previous_month(today)
    period = monthly_selectors.Period.of(month, through=today)
    areas = {
        "county": report_area(actor, kind=COUNTY, pk=seeded["region_id"]),
        "town": report_area(actor, kind=TOWN, pk=ids["town_id"]),
    }
    result = {}
    with _no_queue():
        for name, area in areas.items():
            content_ms, content = timed(monthly_selectors.monthly_report, area, period)
            builds, floors, tables = [], [], {}
            read_month_rows(area, period.first_day, period.last_day)  # warm, as a build warms
            for n in range(runs):
                for step in ("build", "floor") if n % 2 == 0 else ("floor", "build"):
                    if step == "build":
                        builds.append(_build_once(monthly_builders, actor, area, month, today))
                        continue
                    rows = read_month_rows(area, period.first_day, period.last_day)
                    floors.append(sum(ms for _, ms in rows.values()))
                    for table, (count, ms) in rows.items():
                        tables.setdefault(table, [count, []])[1].append(ms)
                log(
                    f"monthly {name} {n + 1}/{runs}: {builds[-1]['ms'] / 1000:.1f} s "
                    f"(build {builds[-1]['build_ms'] / 1000:.1f} s); floor {floors[-1]:.0f} ms"
                )
            median_ms = statistics.median(b["ms"] for b in builds)
            floor_ms = statistics.median(floors)
            result[name] = {
                "area": {"kind": area.kind, "name": area.name, "schools": len(area.school_ids)},
                "month": f"{period.first_day:%Y-%m}",
                "median_s": round(median_ms / 1000, 2),
                "max_s": round(max(b["ms"] for b in builds) / 1000, 2),
                "runs_s": [round(b["ms"] / 1000, 2) for b in builds],
                "request_ms_median": round(statistics.median(b["request_ms"] for b in builds), 1),
                "content_only_s": round(content_ms / 1000, 2),
                "content": {
                    "sections": len(content.sections),
                    "schools": len(content.schools),
                    "towns": len(content.towns),
                    "ranked": sum(len(r.rows) for r in content.rankings),
                    "notices": len(content.notices),
                    "listings": len(content.listings),
                    "incidents": len(content.incidents),
                },
                "pdf_bytes": builds[-1]["pdf_bytes"],
                "xlsx_bytes": builds[-1]["xlsx_bytes"],
                "floor": {
                    "what": "count the month's rows the report reads, one COUNT per table",
                    "median_ms": round(floor_ms, 1),
                    "tables": {
                        table: {"rows": count, "median_ms": round(statistics.median(ms), 1)}
                        for table, (count, ms) in tables.items()
                    },
                },
                "ratio_to_floor": ratio(median_ms, floor_ms),
                "target_s": TARGET_MONTHLY_S,
                "met": median_ms <= TARGET_MONTHLY_S * 1000,
            }
    return result


# ------------------------------------------------------------------ consistency


class Checks:
    """Figure against reference; a reference that cannot be computed is `not_checked`."""

    def __init__(self):
        self.checked: list[dict] = []
        self.mismatches: list[dict] = []
        self.not_checked: list[str] = []

    def add(self, name: str, figure, reference, source: str) -> None:
        try:
            value, expected = figure(), reference()
        except Exception as exc:  # noqa: BLE001 - reported, not fatal
            self.not_checked.append(f"{name} ({source}): {type(exc).__name__}: {exc}")
            return
        row = {
            "figure": name,
            "source": source,
            "value": _plain(value),
            "expected": _plain(expected),
        }
        self.checked.append(row)
        if _plain(value) != _plain(expected):
            self.mismatches.append(row)

    def document(self) -> dict:
        return {
            "checked": len(self.checked),
            "mismatches": self.mismatches,
            "not_checked": self.not_checked,
            "figures": self.checked,
        }


def _plain(value):
    from decimal import Decimal

    if isinstance(value, Decimal | float):
        return round(float(value), 1)
    return value


def _window(first: dt.date, last: dt.date):
    from django.utils import timezone

    since = timezone.make_aware(dt.datetime.combine(first, dt.time()))
    until = timezone.make_aware(dt.datetime.combine(last + dt.timedelta(days=1), dt.time()))
    return since, min(until, timezone.now())


def _dashboard_checks(checks: Checks, seeded: dict) -> None:
    from huxiao.access.models import Interception, VehicleMovement, Visit
    from huxiao.alarms import selectors as alarms
    from huxiao.hazards import hazard_selectors as hazards
    from huxiao.hazards import listing_selectors as listings
    from huxiao.hazards.choices import OPEN_HAZARD_STATUSES, ListingStatus
    from huxiao.health.suspensions import suspended_class_ids_at
    from huxiao.patrols import selectors as patrols
    from huxiao.security import compliance_selectors as security

    dashboard_figures, _json = _dashboard_code()
    who = _areas(seeded)
    user, today = who["county"], _today(seeded)
    dash = dashboard_figures(user, who["county_area"], today)
    town = dashboard_figures(user, who["town_area"], today)
    town_ids = list(who["town_area"].school_ids)
    monday = today - dt.timedelta(days=today.weekday())
    since, until = _window(today, today)
    week_since, _until = _window(monday, today)
    truth = seeded
    add = checks.add

    add(
        "alarms.open_now",
        lambda: dash.alarms.open_now,
        lambda: alarms.alarm_list(actor=user, status="open").filter(is_drill=False).count(),
        "alarms.selectors.alarm_list",
    )
    add("alarms.open_now", lambda: dash.alarms.open_now, lambda: truth["alarms"]["open"], "truth")
    add(
        "alarms.raised_today",
        lambda: dash.alarms.raised_today,
        lambda: alarms.response_stats(actor=user, since=since, until=until).total.alarms,
        "alarms.selectors.response_stats",
    )
    open_hazards = hazards.hazard_list(actor=user, today=today).filter(
        status__in=OPEN_HAZARD_STATUSES
    )
    add("hazards.open", lambda: dash.hazards.open, open_hazards.count, "hazard_list")
    add("hazards.open", lambda: dash.hazards.open, lambda: truth["hazards"]["open"], "truth")
    add(
        "hazards.overdue",
        lambda: dash.hazards.overdue,
        lambda: hazards.hazard_list(
            actor=user, filters=hazards.HazardFilters(overdue=True), today=today
        ).count(),
        "hazard_list(overdue)",
    )
    add(
        "hazards.overdue",
        lambda: dash.hazards.overdue,
        lambda: truth["hazards"]["overdue"],
        "truth",
    )
    add(
        "hazards.listed",
        lambda: dash.hazards.listed,
        lambda: listings.listing_list(
            actor=user, filters=listings.ListingFilters(status=ListingStatus.ACTIVE)
        ).count(),
        "listing_list(active)",
    )
    add(
        "hazards.listed",
        lambda: dash.hazards.listed,
        lambda: truth["hazards"]["listed_active"],
        "truth",
    )
    overview = security.county_overview(actor=user)
    add(
        "compliance.compliant",
        lambda: dash.compliance.compliant,
        lambda: overview.rates.compliant,
        "security.county_overview",
    )
    add(
        "compliance.compliance_rate",
        lambda: dash.compliance.compliance_rate,
        lambda: overview.rates.compliance_rate,
        "security.county_overview",
    )
    add(
        "compliance.network_rate",
        lambda: dash.compliance.network_rate,
        lambda: overview.rates.network_rate,
        "security.county_overview",
    )
    add(
        "compliance.networked",
        lambda: dash.compliance.networked,
        lambda: truth["compliance"]["networked"],
        "truth",
    )
    coverage = patrols.coverage(
        actor=user, first_day=monday, last_day=monday + dt.timedelta(days=6), group_by=()
    )
    add("patrols.shifts", lambda: dash.patrols.shifts, lambda: coverage.total.shifts, "coverage")
    add(
        "patrols.all_three",
        lambda: dash.patrols.all_three,
        lambda: coverage.total.all_three,
        "coverage",
    )
    last_week = patrols.visit_week(actor=user, week_start=monday - dt.timedelta(days=7))
    add(
        "patrols.last_week_met",
        lambda: dash.patrols.last_week_met,
        lambda: sum(r.met for r in last_week),
        "patrols.visit_week",
    )
    add(
        "health.suspended_classes",
        lambda: dash.health.suspended_classes,
        lambda: len(suspended_class_ids_at(who["county_area"].school_ids, today)),
        "health.suspensions",
    )
    add(
        "health.suspended_classes",
        lambda: dash.health.suspended_classes,
        lambda: truth["health"]["suspended_today"],
        "truth",
    )
    gate_today = truth["gate_events"]["today"]
    add("gate.visitors", lambda: dash.gate.visitors, lambda: gate_today["visits"], "truth")
    add("gate.vehicles", lambda: dash.gate.vehicles, lambda: gate_today["vehicles"], "truth")
    add(
        "gate.interceptions",
        lambda: dash.gate.interceptions,
        lambda: Interception.objects.filter(at__gte=week_since, at__lt=until).count(),
        "count of this week's interceptions",
    )
    # The town drill-down: the same figures for the town's schools only.
    add(
        "town.hazards.open",
        lambda: town.hazards.open,
        lambda: open_hazards.filter(school_id__in=town_ids).count(),
        "hazard_list",
    )
    add(
        "town.gate.visitors",
        lambda: town.gate.visitors,
        lambda: Visit.objects.filter(
            school_id__in=town_ids, checked_in_at__gte=since, checked_in_at__lt=until
        ).count(),
        "count of today's visits",
    )
    add(
        "town.gate.vehicles",
        lambda: town.gate.vehicles,
        lambda: VehicleMovement.objects.filter(
            school_id__in=town_ids, entered_at__gte=since, entered_at__lt=until
        ).count(),
        "count of today's vehicle entries",
    )
    add(
        "town.breakdown",
        lambda: len(dash.breakdown.rows),
        lambda: seeded["towns"],
        "one breakdown row per town",
    )


def _monthly_checks(checks: Checks, seeded: dict) -> None:
    from huxiao.access.models import Interception, VehicleMovement, Visit
    from huxiao.access.report_selectors import report_totals
    from huxiao.alarms import selectors as alarms
    from huxiao.hazards.models import Hazard
    from huxiao.orgs.models import Organization
    from huxiao.patrols import selectors as patrols
    from huxiao.patrols.models import PoliceVisit
    from huxiao.reports.areas import COUNTY, report_area
    from huxiao.security import compliance_selectors as security
    from huxiao.supervision.indicators import run_source

    _builders, sel = _monthly_code()
    user, today = dashboard_seed.actors(seeded["region_id"])["county"], _today(seeded)
    area = report_area(user, kind=COUNTY, pk=seeded["region_id"])
    period = sel.Period.of(sel.previous_month(today), through=today)
    first, last = period.first_day, period.last_day
    content = sel.monthly_report(area, period)
    since, until = _window(first, last)
    ids = list(area.school_ids)
    figure = content.figure
    add = checks.add

    def raw(model, field):
        return lambda: model.objects.filter(
            school_id__in=ids, **{f"{field}__gte": since, f"{field}__lt": until}
        ).count()

    add(
        "monthly.gate.visitors",
        lambda: figure("gate", "visitors"),
        raw(Visit, "checked_in_at"),
        "count",
    )
    add(
        "monthly.gate.vehicles",
        lambda: figure("gate", "vehicles"),
        raw(VehicleMovement, "entered_at"),
        "count",
    )
    add(
        "monthly.gate.interceptions",
        lambda: figure("gate", "interceptions"),
        raw(Interception, "at"),
        "count",
    )
    sample = list(Organization.objects.filter(pk__in=ids).order_by("pk")[:3])
    by_school = {s.pk: s for s in content.schools}
    for school in sample:
        totals = report_totals(school=school, start=first, end=last)
        for name, key in (("visitors", "visits"), ("vehicles", "vehicles")):
            add(
                f"monthly.school[{school.name}].{name}",
                lambda school=school, name=name: getattr(by_school[school.pk], name),
                lambda totals=totals, key=key: totals[key],
                "access.report_selectors.report_totals",
            )
    add(
        "monthly.alarms.alarms",
        lambda: figure("alarms", "alarms"),
        lambda: alarms.response_stats(actor=user, since=since, until=until).total.alarms,
        "alarms.selectors.response_stats",
    )
    add(
        "monthly.hazards.found",
        lambda: figure("hazards", "found"),
        raw(Hazard, "reported_at"),
        "count",
    )
    add(
        "monthly.hazards.closed",
        lambda: figure("hazards", "closed"),
        raw(Hazard, "closed_at"),
        "count",
    )
    coverage = patrols.coverage(actor=user, first_day=first, last_day=last, group_by=())
    add(
        "monthly.posts.shifts",
        lambda: figure("posts", "shifts"),
        lambda: coverage.total.shifts,
        "coverage",
    )
    add(
        "monthly.posts.all_three",
        lambda: figure("posts", "all_three"),
        lambda: coverage.total.all_three,
        "coverage",
    )
    add(
        "monthly.visits.visits",
        lambda: figure("visits", "visits"),
        raw(PoliceVisit, "arrived_at"),
        "count",
    )
    overview = security.county_overview(actor=user)
    add(
        "monthly.compliance.compliance_rate",
        lambda: figure("compliance", "compliance_rate"),
        lambda: overview.rates.compliance_rate,
        "security.county_overview",
    )
    add(
        "monthly.drills.weekly_drills",
        lambda: figure("drills", "weekly_drills"),
        lambda: _mean(run_source("drills_held", ids, first, last, {}).values()),
        "supervision indicator drills_held (mean of the schools)",
    )


def _mean(values):
    from decimal import ROUND_HALF_UP, Decimal

    values = [Decimal(str(v)) for v in values if v is not None]
    if not values:
        return None
    return (sum(values) / len(values)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def check_consistency(seeded: dict) -> dict:
    checks = Checks()
    for part, function in (("dashboard", _dashboard_checks), ("monthly", _monthly_checks)):
        try:
            function(checks, seeded)
        except NotThereYet as exc:
            checks.not_checked.append(f"{part}: {exc}")
    document = checks.document()
    document["met"] = not checks.mismatches and checks.checked != []
    log(
        f"consistency: {len(checks.checked)} figures checked, {len(checks.mismatches)} "
        f"mismatches, {len(checks.not_checked)} not checked"
    )
    return document


# ------------------------------------------------------------------ main


def _parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser, postgres_url=DEFAULT_POSTGRES)
    parser.set_defaults(runs=5, duration=10)
    parser.add_argument("--schools", type=int, default=dashboard_seed.SCHOOLS)
    parser.add_argument("--towns", type=int, default=dashboard_seed.TOWNS)
    parser.add_argument("--gate-events", type=int, default=dashboard_seed.GATE_EVENTS)
    parser.add_argument("--hazards", type=int, default=dashboard_seed.HAZARDS)
    parser.add_argument("--repeats", type=int, default=20, help="in-process figure calls")
    args = parser.parse_args(argv)
    if args.smoke:
        args.schools, args.towns, args.gate_events, args.hazards = 12, 2, 20_000, 600
        args.repeats = 3
    check_arguments(parser, args)
    if args.schools < 2 or not 1 <= args.towns <= args.schools:
        parser.error("--schools must be >= 2 and 1 <= --towns <= --schools")
    if args.gate_events < 0 or args.hazards < 0 or args.repeats < 1:
        parser.error("--gate-events and --hazards must be >= 0, --repeats >= 1")
    return args


def _part(errors: list[str], function, *args):
    """A part's figures, or None and a line in `errors` when its code is not there yet or
    it failed (a failed report, a wrong page): the other parts are still measured and the
    JSON still written (the exit code is 2)."""
    try:
        return function(*args)
    except NotThereYet as exc:
        log(f"not measured: {exc}")
        errors.append(str(exc))
    except BenchError as exc:
        log(f"FAILED: {exc}")
        errors.append(f"failed: {exc}")
    return None


def _database_bytes(args) -> int | None:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            return cursor.fetchone()[0]
    return sum(
        (args.var_dir / f"huxiao.sqlite3{suffix}").stat().st_size
        for suffix in ("", "-wal")
        if (args.var_dir / f"huxiao.sqlite3{suffix}").exists()
    )


def measure(args, env: dict) -> dict:
    from django.utils import timezone

    anchor = args.today or timezone.localdate()
    sizes = {k: getattr(args, k) for k in ("schools", "towns", "gate_events", "hazards")}
    log(f"generating the county: {sizes}")
    seeded = dashboard_seed.build(anchor=anchor, **sizes)
    seeded["database_bytes"] = _database_bytes(args)
    warm_url_resolver()
    errors: list[str] = []
    load_before = os.getloadavg()
    log("consistency of the figures with the selectors")
    consistency = check_consistency(seeded)
    log("dashboard_figures in-process")
    figures = _part(errors, measure_figures, seeded, args)
    log("the dashboard pages against the floor page")
    page = _part(errors, measure_page, args, env, seeded)
    log("the monthly reports against their floor")
    # --smoke: two builds per area are enough to show it works.
    monthly = _part(errors, measure_monthly, seeded, 2 if args.smoke else args.runs)
    load_after = os.getloadavg()
    return {
        "data": {k: v for k, v in seeded.items() if k != "region_id"},
        "consistency": consistency,
        "dashboard_figures": figures,
        "dashboard_page": page,
        "monthly_report": monthly,
        "machine": machine((load_before, load_after)),
        "targets": {
            "dashboard_page_p95_ms": TARGET_PAGE_P95_MS,
            "monthly_county_report_median_s": TARGET_MONTHLY_S,
            "consistency_mismatches": 0,
        },
        "met": {
            "dashboard_page": bool(page and page["met"]),
            "monthly_county_report": bool(monthly and monthly["county"]["met"]),
            "consistency": consistency["met"],
        },
        "errors": errors,
    }


def main(argv: list[str] | None = None) -> int:
    return run(_parse(argv), "dashboard", measure, log)


if __name__ == "__main__":
    sys.exit(main())
