"""Reads of a school's fleet (issue 8 item 4; ADR 0031 "Fleet"): school buses, drivers
with their violations, the status badges of their documents, and the overviews (one
school; the schools of a police station, town or county).

Everyone with VIEW on the school reads (its staff, the police of the jurisdiction, the
town's offices, the county); MANAGE_TRANSPORT writes (principal, security officer). A
record out of scope is "not found" exactly like a missing one; a user who sees no school
at all gets 403. Document validity is judged by `transport.checks` only.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.core.roles import SCHOOL_KINDS, Action
from huxiao.core.scoping import can, memberships_of, visible_school_ids
from huxiao.orgs.models import Organization
from huxiao.transport import checks
from huxiao.transport.models import Bus, Driver, DriverViolation, Route, RouteRider

MAX_ID = 2**63 - 1
# Penalty points are counted over the last twelve months (one scoring cycle).
POINTS_PERIOD_DAYS = 365
BUS_DOCUMENTS = (
    ("permit_expires_on", _("School-bus permit")),
    ("insurance_expires_on", _("Insurance")),
    ("inspection_expires_on", _("Safety inspection")),
)
DRIVER_DOCUMENTS = (
    ("licence_expires_on", _("Driving licence")),
    ("qualification_expires_on", _("School-bus driver qualification")),
    ("health_check_expires_on", _("Health check")),
)


def today_local(now: dt.datetime | None = None) -> dt.date:
    return timezone.localdate(now or timezone.now())


def valid_id(value) -> int:
    """A database id from a URL or a form; anything else is "not found"."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Http404 from None
    if isinstance(value, bool) or number < 1 or number > MAX_ID:
        raise Http404
    return number


# ------------------------------------------------------------------ access


def require_viewer(actor) -> frozenset[int]:
    """The schools the actor may read; 403 when there are none."""
    ids = visible_school_ids(actor, Action.VIEW)
    if not ids:
        raise PermissionDenied(_("Your role does not allow this action."))
    return ids


def school_get(*, actor, school_id) -> Organization:
    """A school the actor may read (404 otherwise, also for a non-school organization)."""
    ids = require_viewer(actor)
    school_id = valid_id(school_id)
    school = (
        Organization.objects.filter(pk=school_id, kind__in=SCHOOL_KINDS)
        .select_related("town")
        .first()
        if school_id in ids
        else None
    )
    if school is None:
        raise Http404
    return school


def may_manage(actor, school_id: int) -> bool:
    return can(actor, Action.MANAGE_TRANSPORT, school_id)


def scoped_get(queryset, actor, pk):
    require_viewer(actor)
    obj = queryset.visible_to(actor, Action.VIEW).filter(pk=valid_id(pk)).first()
    if obj is None:
        raise Http404
    return obj


def bus_get(*, actor, bus_id) -> Bus:
    return scoped_get(Bus.objects.select_related("school"), actor, bus_id)


def driver_get(*, actor, driver_id) -> Driver:
    return scoped_get(Driver.objects.select_related("school"), actor, driver_id)


def violation_get(*, actor, violation_id) -> DriverViolation:
    return scoped_get(
        DriverViolation.objects.select_related("driver", "driver__school"), actor, violation_id
    )


# ------------------------------------------------------------------ lists


def bus_list(*, actor, school_id: int, active: bool | None = True):
    """The school's buses by plate; `active=None` gives all, `False` the retired ones."""
    qs = Bus.objects.visible_to(actor, Action.VIEW).filter(school_id=school_id)
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs.order_by("-is_active", "plate", "pk")


def driver_list(*, actor, school_id: int, active: bool | None = True):
    qs = Driver.objects.visible_to(actor, Action.VIEW).filter(school_id=school_id)
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs.annotate(
        points_12m=Sum(
            "violations__points",
            filter=Q(violations__occurred_on__gte=points_cutoff(today_local())),
            default=0,
        )
    ).order_by("-is_active", "name", "pk")


def in_service(school_id: int):
    """The school's buses and drivers in service, for the route and trip forms (the caller
    has already checked the school is in scope)."""
    return (
        Bus.objects.filter(school_id=school_id, is_active=True).order_by("plate"),
        Driver.objects.filter(school_id=school_id, is_active=True).order_by("name"),
    )


def violation_list(driver: Driver):
    return DriverViolation.objects.filter(driver=driver).order_by("-occurred_on", "-id")


def points_cutoff(today: dt.date) -> dt.date:
    return today - dt.timedelta(days=POINTS_PERIOD_DAYS)


def points_in_period(driver: Driver, today: dt.date) -> int:
    """Penalty points of the last twelve months (annotated by driver_list, else counted)."""
    if hasattr(driver, "points_12m"):
        return driver.points_12m or 0
    total = driver.violations.filter(occurred_on__gte=points_cutoff(today)).aggregate(
        total=Sum("points", default=0)
    )["total"]
    return total or 0


def routes_of_bus(bus: Bus):
    return Route.objects.filter(bus=bus).order_by("-is_active", "name")


def routes_of_driver(driver: Driver):
    return Route.objects.filter(driver=driver).order_by("-is_active", "name")


# ------------------------------------------------------------------ documents and badges


@dataclass(frozen=True)
class Badge:
    code: str  # "<state>-<field>": expired-…, missing-…, expiring-…; retired, markings…
    level: str  # danger | warning
    label: str


@dataclass(frozen=True)
class Document:
    field: str
    label: str
    expires_on: dt.date | None
    state: str  # valid | expiring | expired | missing
    days: int | None  # days until expiry (negative: since)


def _documents(obj, specs, today: dt.date) -> list[Document]:
    documents = []
    for name, label in specs:
        expires = getattr(obj, name)
        days = (expires - today).days if expires is not None else None
        if expires is None:
            state = "missing"
        elif expires < today:
            state = "expired"
        elif checks.expiring_soon(expires, today):
            state = "expiring"
        else:
            state = "valid"
        documents.append(Document(name, str(label), expires, state, days))
    return documents


def bus_documents(bus: Bus, today: dt.date) -> list[Document]:
    return _documents(bus, BUS_DOCUMENTS, today)


def driver_documents(driver: Driver, today: dt.date) -> list[Document]:
    return _documents(driver, DRIVER_DOCUMENTS, today)


def _badges(problems, documents: list[Document]) -> list[Badge]:
    """checks' problems (danger) then the documents running out soon (warning)."""
    states = {d.field: d.state for d in documents}
    badges = []
    for name, message in problems:
        code = f"{states[name]}-{name}" if name in states else name
        badges.append(Badge(code, "danger", str(message)))
    for document in documents:
        if document.state == "expiring":
            label = _("%(doc)s expires on %(date)s (in %(days)s day(s)).") % {
                "doc": document.label,
                "date": document.expires_on.isoformat(),
                "days": document.days,
            }
            badges.append(Badge(f"expiring-{document.field}", "warning", str(label)))
    return badges


def bus_badges(bus: Bus, today: dt.date) -> list[Badge]:
    badges = _badges(checks.bus_problems(bus, today), bus_documents(bus, today))
    if not bus.markings_compliant:
        badges.append(
            Badge("markings", "danger", str(_("School-bus markings (GB 24315) not compliant.")))
        )
    return badges


def driver_badges(driver: Driver, today: dt.date, *, bus: Bus | None = None) -> list[Badge]:
    badges = _badges(
        checks.driver_problems(driver, today, bus=bus), driver_documents(driver, today)
    )
    points = points_in_period(driver, today)
    if points:
        label = _("%(points)s penalty point(s) in the last 12 months.") % {"points": points}
        badges.append(Badge("points", "warning", str(label)))
    return badges


@dataclass
class Status:
    obj: object
    badges: list[Badge] = field(default_factory=list)

    @property
    def problems(self) -> int:
        return sum(1 for b in self.badges if b.level == "danger")

    @property
    def warnings(self) -> int:
        return sum(1 for b in self.badges if b.level == "warning")


def bus_statuses(buses, today: dt.date) -> list[Status]:
    return [Status(bus, bus_badges(bus, today)) for bus in buses]


def driver_statuses(drivers, today: dt.date) -> list[Status]:
    return [Status(driver, driver_badges(driver, today)) for driver in drivers]


# ------------------------------------------------------------------ overviews


@dataclass
class SchoolFleet:
    """One school's fleet in figures: what is in service and how many documents are
    expired or missing (`problems`) or run out within 30 days (`expiring`)."""

    school: Organization
    buses: int = 0
    seats: int = 0
    drivers: int = 0
    routes: int = 0
    riders: int = 0
    problems: int = 0
    expiring: int = 0

    @property
    def has_fleet(self) -> bool:
        return bool(self.buses or self.drivers or self.routes)


def fleet_figures(schools, today: dt.date) -> list[SchoolFleet]:
    """SchoolFleet of each school, in the order given, in a fixed number of queries."""
    rows = {school.pk: SchoolFleet(school) for school in schools}
    ids = list(rows)
    for bus in Bus.objects.filter(school_id__in=ids, is_active=True):
        row = rows[bus.school_id]
        row.buses += 1
        row.seats += bus.seats
        _count(row, bus_badges(bus, today))
    drivers = Driver.objects.filter(school_id__in=ids, is_active=True).annotate(
        points_12m=Sum(
            "violations__points", filter=Q(violations__occurred_on__gte=points_cutoff(today))
        )
    )
    for driver in drivers:
        rows[driver.school_id].drivers += 1
        _count(rows[driver.school_id], driver_badges(driver, today))
    for school_id, routes, riders in (
        Route.objects.filter(school_id__in=ids, is_active=True)
        .values("school_id")
        .annotate(n=Count("pk", distinct=True), r=Count("riders", filter=Q(riders__is_active=True)))
        .values_list("school_id", "n", "r")
    ):
        rows[school_id].routes = routes
        rows[school_id].riders = riders
    return list(rows.values())


def _count(row: SchoolFleet, badges: list[Badge]) -> None:
    row.problems += sum(1 for b in badges if b.level == "danger" and b.code != "points")
    row.expiring += sum(1 for b in badges if b.code.startswith("expiring-"))


def schools_in_scope(actor):
    return (
        Organization.objects.filter(pk__in=require_viewer(actor), kind__in=SCHOOL_KINDS)
        .select_related("town")
        .order_by("town__name", "name", "pk")
    )


def overview_target(actor) -> int | None:
    """The school a member of one school lands on; None for the list of schools (police,
    town and county offices, people of several schools)."""
    ids = require_viewer(actor)
    kinds = {m.organization.kind for m in memberships_of(actor)}
    only_school = bool(kinds) and kinds <= SCHOOL_KINDS
    return next(iter(ids)) if only_school and len(ids) == 1 else None


# ------------------------------------------------------------------ safety officers


def safety_officers(*, actor, school_id: int) -> list[dict]:
    """Staff of the school who look after a route (照管员), each with their routes."""
    routes = (
        Route.objects.visible_to(actor, Action.VIEW)
        .filter(school_id=school_id, safety_officer__isnull=False)
        .select_related("safety_officer")
        .order_by("safety_officer__name", "safety_officer_id", "-is_active", "name")
    )
    by_staff: dict[int, dict] = {}
    for route in routes:
        entry = by_staff.setdefault(
            route.safety_officer_id, {"staff": route.safety_officer, "routes": []}
        )
        entry["routes"].append(route)
    return list(by_staff.values())


def rider_counts(route_ids) -> dict[int, int]:
    counts: dict[int, int] = defaultdict(int)
    for route_id, n in (
        RouteRider.objects.filter(route_id__in=list(route_ids), is_active=True)
        .values("route_id")
        .annotate(n=Count("pk"))
        .values_list("route_id", "n")
    ):
        counts[route_id] = n
    return counts
