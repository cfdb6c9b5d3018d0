"""Reads of police bus inspections and their findings (issue 8 item 6; ADR 0031
"Inspections").

Who sees what: everyone with VIEW on the bus's school (its people, the police of its
jurisdiction, the town's offices, the county) reads its checks and findings; out of scope is
404 exactly like a check that does not exist. A bus is found by its plate only among the
schools where the actor may inspect buses (INSPECT_BUS): an unknown plate and a bus of
another jurisdiction get the same field message.

A finding's follow-up is a short thread kept in `BusFinding.follow_up` (the model has no
event table): the school's accounts of what it did and the police's send-backs, each entry
under a header line written by the services only (`followup_entries` reads it back).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.access.plates import normalise_plate
from huxiao.core.roles import SCHOOL_KINDS, Action
from huxiao.core.scoping import can, visible_school_ids
from huxiao.duty.duty_selectors import _id
from huxiao.orgs.models import Organization
from huxiao.transport.choices import FindingStatus, TripStatus
from huxiao.transport.models import Bus, BusFinding, BusInspection, Route, Trip

# The states a finding goes through (derived: the model keeps open/resolved only).
AWAITING_FOLLOW_UP = "follow_up"  # the school has to say what it did
AWAITING_REVIEW = "review"  # the school has answered; the police resolve or send back
RESOLVED = "resolved"
STATES = (AWAITING_FOLLOW_UP, AWAITING_REVIEW, RESOLVED)

# Kinds of follow-up entries (machine words in the header; labels on the page).
ENTRY_SCHOOL = "school"
ENTRY_RETURNED = "returned"
ENTRY_RESOLVED = "resolved"
ENTRY_KINDS = (ENTRY_SCHOOL, ENTRY_RETURNED, ENTRY_RESOLVED)
_HEADER = re.compile(
    r"^\[(?P<kind>school|returned|resolved) (?P<at>\d{4}-\d\d-\d\d \d\d:\d\d|-) "
    r"#(?P<user>\d*)\] ?(?P<name>.*)$"
)


def local_today(now: dt.datetime | None = None) -> dt.date:
    return timezone.localtime(now or timezone.now()).date()


# ------------------------------------------------------------------ the follow-up thread


@dataclass(frozen=True)
class FollowUpEntry:
    kind: str
    at: str  # local "YYYY-MM-DD HH:MM" as written ("" for text typed outside the platform)
    user_id: int | None
    name: str
    text: str

    @property
    def label(self):
        return ENTRY_LABELS[self.kind]


ENTRY_LABELS = {
    ENTRY_SCHOOL: _("School's follow-up"),
    ENTRY_RETURNED: _("Sent back by the police"),
    ENTRY_RESOLVED: _("Resolved by the police"),
}


def followup_entries(text: str) -> list[FollowUpEntry]:
    """The entries of a finding's follow-up, oldest first. Text without a header (typed in
    the admin) reads as the school's follow-up."""
    entries: list[FollowUpEntry] = []
    head: dict | None = None
    lines: list[str] = []

    def close():
        body = "\n".join(lines).strip()
        if head is not None:
            user = head["user"]
            entries.append(
                FollowUpEntry(
                    kind=head["kind"],
                    at=head["at"],
                    user_id=int(user) if user else None,
                    name=head["name"].strip(),
                    text=body,
                )
            )
        elif body:
            entries.append(FollowUpEntry(ENTRY_SCHOOL, "", None, "", body))

    for line in (text or "").splitlines():
        match = _HEADER.match(line)
        if match:
            close()
            head, lines = match.groupdict(), []
        else:
            lines.append(line)
    close()
    return entries


def finding_state(finding: BusFinding) -> str:
    if finding.status == FindingStatus.RESOLVED:
        return RESOLVED
    entries = followup_entries(finding.follow_up)
    if entries and entries[-1].kind == ENTRY_SCHOOL:
        return AWAITING_REVIEW
    return AWAITING_FOLLOW_UP


def is_overdue(finding: BusFinding, today: dt.date | None = None) -> bool:
    return (
        finding.status == FindingStatus.OPEN
        and finding.deadline is not None
        and finding.deadline < (today or local_today())
    )


def was_sent_back(finding: BusFinding) -> bool:
    entries = followup_entries(finding.follow_up)
    return (
        finding.status == FindingStatus.OPEN
        and bool(entries)
        and entries[-1].kind == (ENTRY_RETURNED)
    )


# ------------------------------------------------------------------ who may do what


def require_any(actor, action: str = Action.VIEW) -> frozenset[int]:
    """The schools where the actor may do `action`; 403 when there are none."""
    ids = visible_school_ids(actor, action)
    if not ids:
        raise PermissionDenied(_("Your role does not allow this."))
    return ids


def may_inspect(actor, school_id: int | None = None) -> bool:
    """May inspect the school's buses (or any bus, without `school_id`)."""
    if school_id is None:
        return bool(visible_school_ids(actor, Action.INSPECT_BUS))
    return can(actor, Action.INSPECT_BUS, school_id)


def may_follow_up(actor, school_id: int) -> bool:
    return can(actor, Action.MANAGE_TRANSPORT, school_id)


def may_make_hazard(actor, finding: BusFinding) -> bool:
    return finding.hazard_id is None and can(
        actor, Action.REPORT_HAZARD, finding.inspection.school_id
    )


def schools_in_scope(actor):
    """The schools whose checks the actor reads, for the list's school filter."""
    return (
        Organization.objects.filter(pk__in=visible_school_ids(actor, Action.VIEW))
        .filter(kind__in=SCHOOL_KINDS)
        .only("pk", "name")
        .order_by("name", "pk")
    )


# ------------------------------------------------------------------ buses, trips, drivers


def bus_by_plate(*, actor, plate) -> Bus | None:
    """The bus with this plate among the schools where the actor inspects buses (the one in
    service first), or None. The plate is compared normalised (冀A·X3712 = 冀AX3712)."""
    plain = normalise_plate(plate)
    if not plain:
        return None
    # As typed too, for plates stored before normalisation; never with a NUL, which no
    # stored plate has and PostgreSQL refuses in a query (found by the fuzz tests).
    typed = str(plate or "").replace("\x00", "").strip()[:40]
    return (
        Bus.objects.visible_to(actor, Action.INSPECT_BUS)
        .filter(plate__in={plain, typed})
        .select_related("school")
        .order_by("-is_active", "-updated_at", "-pk")
        .first()
    )


def trip_under_way(bus: Bus, at: dt.datetime) -> Trip | None:
    """The bus's trip running at `at`: started by then and not ended before (a refused trip
    never ran). A trip is dated by the local day it started, so one still running past
    midnight is found under the day before."""
    day = timezone.localtime(at).date()
    return (
        Trip.objects.filter(bus=bus, date__in=[day, day - dt.timedelta(days=1)], started_at__lte=at)
        .exclude(status=TripStatus.REFUSED)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=at))
        .select_related("driver", "route")
        .order_by("-started_at", "-pk")
        .first()
    )


def usual_route(bus: Bus) -> Route | None:
    return (
        Route.objects.filter(bus=bus, is_active=True)
        .select_related("driver")
        .order_by("name", "pk")
        .first()
    )


def default_driver(bus: Bus, trip: Trip | None):
    """The trip's driver, else the driver of the bus's usual route, else None."""
    if trip is not None:
        return trip.driver
    route = usual_route(bus)
    return route.driver if route is not None else None


def driver_choices(school_id: int):
    """Drivers of the school in service, for the check form."""
    from huxiao.transport.models import Driver

    return Driver.objects.filter(school_id=school_id, is_active=True).order_by("name", "pk")


# ------------------------------------------------------------------ checks and findings


def _inspections(actor):
    return BusInspection.objects.visible_to(actor, Action.VIEW).select_related(
        "school", "bus", "driver", "inspector", "station", "trip__route"
    )


def inspection_list(*, actor, school_id: int | None = None, kind: str = ""):
    """Checks in scope, newest first, each with its number of findings and of open ones."""
    qs = _inspections(actor).annotate(
        finding_count=Count("findings", distinct=True),
        open_count=Count("findings", filter=Q(findings__status=FindingStatus.OPEN), distinct=True),
    )
    if school_id is not None:
        qs = qs.filter(school_id=school_id)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-inspected_at", "-pk")


def inspection_get(*, actor, inspection_id) -> BusInspection:
    inspection = _inspections(actor).filter(pk=_id(inspection_id)).first()
    if inspection is None:
        raise Http404
    return inspection


def findings_of(inspection: BusInspection) -> list[BusFinding]:
    return list(inspection.findings.select_related("resolved_by", "hazard").order_by("pk"))


def _findings(actor):
    return BusFinding.objects.visible_to(actor, Action.VIEW).select_related(
        "inspection__school", "inspection__bus", "inspection__inspector", "resolved_by", "hazard"
    )


def finding_list(
    *, actor, school_id: int | None = None, state: str = "", today: dt.date | None = None
) -> list[BusFinding]:
    """Findings in scope: `state` is "open" (default: every open one), "overdue",
    "follow_up", "review" (awaiting the police) or "resolved". Open ones by deadline."""
    today = today or local_today()
    qs = _findings(actor)
    if school_id is not None:
        qs = qs.filter(inspection__school_id=school_id)
    if state == RESOLVED:
        return list(qs.filter(status=FindingStatus.RESOLVED).order_by("-resolved_at", "-pk"))
    qs = qs.filter(status=FindingStatus.OPEN)
    if state == "overdue":
        qs = qs.filter(deadline__lt=today)
    rows = list(qs.order_by("deadline", "inspection__inspected_at", "pk"))
    if state in (AWAITING_FOLLOW_UP, AWAITING_REVIEW):
        rows = [f for f in rows if finding_state(f) == state]
    return rows


def finding_get(*, actor, finding_id) -> BusFinding:
    finding = _findings(actor).filter(pk=_id(finding_id)).first()
    if finding is None:
        raise Http404
    return finding
