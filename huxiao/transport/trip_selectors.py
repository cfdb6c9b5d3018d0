"""Reads of bus trips, boarding, trip flags and bus contacts (issue 8 items 5–6; ADR 0031
"Trips").

Who sees what: anyone with VIEW on a school (its members, the police of its jurisdiction,
the town's offices, the county) reads its trips, their riders and flags; out of scope is 404
exactly like a trip that does not exist. Writes need more (trip_services): RUN_TRIP starts
trips and ticks boarding, MANAGE_TRANSPORT (or the one who ran the trip) resolves flags.

`bus_contacts` is the read the health issue's contact tracing uses: the other children who
were on the same trips as a child, through VIEW like every read of children's data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from huxiao.core.roles import Action
from huxiao.core.scoping import can
from huxiao.duty.duty_selectors import _id, check_date
from huxiao.people.models import Child
from huxiao.transport.choices import Direction, TripFlagKind, TripStatus
from huxiao.transport.models import Boarding, Route, RouteRider, Trip, TripFlag

TRIP_RELATED = ("school", "route", "bus", "driver", "safety_officer", "started_by")
FLAG_RELATED = ("trip__school", "trip__route", "trip__bus", "child", "resolved_by")
# The longest period of one bus-contacts read (contact tracing looks back weeks, not years).
CONTACT_DAYS_MAX = 366


def trip_list(*, actor, school_id=None, date: dt.date | None = None, status: str = ""):
    """Trips in scope, newest first, each with `boarded` (children ticked on board) and
    `open_flags` (flags not resolved)."""
    qs = Trip.objects.visible_to(actor, Action.VIEW).select_related(*TRIP_RELATED)
    if school_id is not None:
        qs = qs.filter(school_id=school_id)
    if date is not None:
        qs = qs.filter(date=date)
    if status:
        qs = qs.filter(status=status)
    return qs.annotate(
        boarded=Count("boardings", distinct=True),
        open_flags=Count("flags", filter=Q(flags__resolved_at__isnull=True), distinct=True),
    ).order_by("-date", "route__name", "direction", "-started_at", "-id")


def trip_get(*, actor, trip_id) -> Trip:
    trip = (
        Trip.objects.visible_to(actor, Action.VIEW)
        .filter(pk=_id(trip_id))
        .select_related(*TRIP_RELATED)
        .first()
    )
    if trip is None:
        raise Http404
    return trip


def routes_of(school_id: int):
    """The school's routes in service, with their usual bus, driver and safety officer."""
    return (
        Route.objects.filter(school_id=school_id, is_active=True)
        .select_related("bus", "driver", "safety_officer")
        .order_by("name")
    )


def route_of_school(*, school_id: int, route_id) -> Route | None:
    try:
        pk = _id(route_id)
    except Http404:
        return None
    return (
        Route.objects.filter(pk=pk, school_id=school_id)
        .select_related("school", "bus", "driver", "safety_officer")
        .first()
    )


def runs_of_day(school_id: int, day: dt.date) -> dict[tuple[int, str], Trip]:
    """The (route, direction) pairs already run or running on `day` (refused starts do
    not count: the trip may be started again once the problem is fixed)."""
    return {
        (t.route_id, t.direction): t
        for t in Trip.objects.filter(school_id=school_id, date=day).exclude(
            status=TripStatus.REFUSED
        )
    }


# ------------------------------------------------------------------ the tick list


@dataclass
class SheetRow:
    child: Child
    boarding: Boarding | None = None
    on_route: bool = True

    @property
    def state(self) -> str:
        if self.boarding is None:
            return "waiting"
        return "off" if self.boarding.alighted_at else "on"


@dataclass
class StopGroup:
    stop: object  # RouteStop, or None for children boarded who are not riders of the route
    time: dt.time | None
    rows: list[SheetRow] = field(default_factory=list)


@dataclass
class Sheet:
    groups: list[StopGroup]
    on_board: int
    got_off: int
    waiting: int
    seats: int

    @property
    def seats_left(self) -> int:
        return max(self.seats - self.on_board, 0)


def rider_sheet(trip: Trip, *, query: str = "") -> Sheet:
    """The route's riders grouped by stop — in stop order to school, reversed on the way
    home — each with their boarding on this trip; children boarded who do not ride the
    route come last. `query` narrows the rows by name (the counters stay whole)."""
    stops = list(trip.route.stops.all())
    if trip.direction == Direction.FROM_SCHOOL:
        stops.reverse()
    morning = trip.direction == Direction.TO_SCHOOL
    groups = {
        s.pk: StopGroup(stop=s, time=s.morning_time if morning else s.afternoon_time) for s in stops
    }
    boardings = {b.child_id: b for b in trip.boardings.select_related("child__school_class")}
    riders = RouteRider.objects.filter(route_id=trip.route_id, is_active=True).select_related(
        "child__school_class"
    )
    seen = set()
    for rider in riders.order_by("stop__order", "child__name", "child_id"):
        seen.add(rider.child_id)
        group = groups.get(rider.stop_id)
        if group is not None:
            group.rows.append(SheetRow(rider.child, boardings.get(rider.child_id)))
    extra = StopGroup(stop=None, time=None)
    for child_id, boarding in boardings.items():
        if child_id not in seen:
            extra.rows.append(SheetRow(boarding.child, boarding, on_route=False))
    ordered = [*groups.values(), extra]
    all_rows = [row for g in ordered for row in g.rows]
    sheet = Sheet(
        groups=[],
        on_board=sum(r.state == "on" for r in all_rows),
        got_off=sum(r.state == "off" for r in all_rows),
        waiting=sum(r.state == "waiting" for r in all_rows),
        seats=trip.bus.seats,
    )
    needle = query.strip()
    for group in ordered:
        if needle:
            group.rows = [r for r in group.rows if needle in r.child.name]
        if group.rows:
            sheet.groups.append(group)
    return sheet


# ------------------------------------------------------------------ the timeline


@dataclass
class TimelineEntry:
    at: dt.datetime
    kind: str  # started, refused, boarded, alighted, flag, resolved, ended
    text: str
    testid: str = ""


def trip_timeline(trip: Trip, flags: list[TripFlag]) -> list[TimelineEntry]:
    """What happened on the trip, in order: the start (or refusal), each boarding and
    alighting, the flags and their resolution, the end."""
    entries = [
        TimelineEntry(
            trip.started_at,
            "refused" if trip.status == TripStatus.REFUSED else "started",
            trip.refuse_reason,
        )
    ]
    for b in trip.boardings.select_related("child", "stop"):
        entries.append(TimelineEntry(b.boarded_at, "boarded", b.child.name))
        if b.alighted_at:
            entries.append(TimelineEntry(b.alighted_at, "alighted", b.child.name))
    for f in flags:
        entries.append(TimelineEntry(f.at, "flag", f.get_kind_display()))
        if f.resolved_at:
            entries.append(TimelineEntry(f.resolved_at, "resolved", f.resolution))
    if trip.ended_at:
        entries.append(TimelineEntry(trip.ended_at, "ended", ""))
    order = {"started": 0, "refused": 0, "boarded": 1, "alighted": 2, "flag": 3}
    return sorted(entries, key=lambda e: (e.at, order.get(e.kind, 4)))


# ------------------------------------------------------------------ flags


def flag_list(*, actor, school_id=None, state: str = "", kind: str = ""):
    """Trip flags in scope, newest first; `state` "open" or "resolved" narrows them."""
    qs = TripFlag.objects.visible_to(actor, Action.VIEW).select_related(*FLAG_RELATED)
    if school_id is not None:
        qs = qs.filter(trip__school_id=school_id)
    if state == "open":
        qs = qs.filter(resolved_at__isnull=True)
    elif state == "resolved":
        qs = qs.filter(resolved_at__isnull=False)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-at", "-id")


def flag_get(*, actor, flag_id) -> TripFlag:
    flag = (
        TripFlag.objects.visible_to(actor, Action.VIEW)
        .filter(pk=_id(flag_id))
        .select_related(*FLAG_RELATED, "trip__started_by")
        .first()
    )
    if flag is None:
        raise Http404
    return flag


def may_resolve(actor, flag: TripFlag) -> bool:
    """The school's transport keepers, or the one who ran the trip while they still run
    trips there."""
    school_id = flag.trip.school_id
    if can(actor, Action.MANAGE_TRANSPORT, school_id):
        return True
    return (
        getattr(actor, "pk", None) is not None
        and flag.trip.started_by_id == actor.pk
        and can(actor, Action.RUN_TRIP, school_id)
    )


def open_flag_counts(school_ids) -> dict[int, int]:
    """Open trip flags per school, one grouped query."""
    return dict(
        TripFlag.objects.filter(trip__school_id__in=list(school_ids), resolved_at__isnull=True)
        .values("trip__school_id")
        .annotate(n=Count("pk"))
        .values_list("trip__school_id", "n")
        .order_by()
    )


# ------------------------------------------------------------------ bus contacts


@dataclass
class SharedTrip:
    trip_id: int
    date: dt.date
    direction: str
    direction_label: str
    route_id: int
    route_name: str


@dataclass
class BusContact:
    child: Child
    trips: list[SharedTrip] = field(default_factory=list)


def contact_period(start, end) -> tuple[dt.date, dt.date]:
    """The period of a bus-contacts read, checked: both dates within the platform's range,
    the start not after the end, at most CONTACT_DAYS_MAX days."""
    errors: dict[str, list] = {}
    for name, day in (("start", start), ("end", end)):
        if not isinstance(day, dt.date):
            errors[name] = [_("Enter a date as YYYY-MM-DD.")]
            continue
        try:
            check_date(day, name)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if not errors and start > end:
        errors["end"] = [_("The end of the period cannot be before its start.")]
    if not errors and (end - start).days >= CONTACT_DAYS_MAX:
        errors["end"] = [
            _("Look at most %(days)s days back at a time.") % {"days": CONTACT_DAYS_MAX}
        ]
    if errors:
        raise ValidationError(errors)
    return start, end


def bus_contacts(*, actor, child_id, start: dt.date, end: dt.date) -> list[BusContact]:
    """The other children who were on the same bus trips as the child between `start` and
    `end` (trip dates, inclusive), each with the trips shared, by name. The child out of
    scope is 404; bad dates are a ValidationError by field."""
    child = Child.objects.visible_to(actor, Action.VIEW).filter(pk=_id(child_id)).first()
    if child is None:
        raise Http404
    start, end = contact_period(start, end)
    boardings = Boarding.objects.visible_to(actor, Action.VIEW)
    own_trips = boardings.filter(child_id=child.pk, trip__date__range=(start, end)).values(
        "trip_id"
    )
    rows = (
        boardings.filter(trip_id__in=own_trips)
        .exclude(child_id=child.pk)
        .select_related("child__school_class", "trip__route")
        .order_by("child__name", "child_id", "trip__date", "trip__started_at")
    )
    contacts: dict[int, BusContact] = {}
    for b in rows:
        contact = contacts.setdefault(b.child_id, BusContact(child=b.child))
        trip = b.trip
        contact.trips.append(
            SharedTrip(
                trip_id=trip.pk,
                date=trip.date,
                direction=trip.direction,
                direction_label=str(trip.get_direction_display()),
                route_id=trip.route_id,
                route_name=trip.route.name,
            )
        )
    return list(contacts.values())


def children_of_trip(trip: Trip) -> list[Child]:
    """The children ticked on board a trip, by name (the bus-contacts section's choices)."""
    return [b.child for b in trip.boardings.select_related("child").order_by("child__name", "id")]


def overdue_flag_exists(trip: Trip) -> bool:
    return trip.flags.filter(kind=TripFlagKind.NOT_ARRIVED, child__isnull=True).exists()
