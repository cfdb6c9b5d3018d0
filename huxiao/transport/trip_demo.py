"""Bus trips of the demo township (issue 8 items 5–6; ADR 0031 "Trips").

`load_demo_trips()` runs after the fleet demo (`load_demo_fleet`): it needs the routes
"1号线（东线）" and "2号线（西线）" of 大杨树实验幼儿园 with their riders, and the logins
`principal`, `teacher` and `guard`; without them it does nothing. Demo mode only.
Everything goes through the real services with a clock (`now=`), so the checks at
departure, audit rows, flags and notifications are the real ones.

What a visitor of `make run` finds under /transport/trips/:
- the last five school days (Monday–Friday before today), each route run both ways: in the
  morning the children board at their stops and all get off at the kindergarten; in the
  afternoon they are ticked on board before the bus leaves and off at their stops; a child
  or two of a route is absent on some days. Route 1's safety officer is 李静 (`teacher`),
  who runs its trips; route 2's has no login, so the guard `guard` ticks its list;
- on the third of those days, route 2's afternoon trip ended with one child never ticked
  off: a "boarded but never arrived" flag, resolved by the principal 25 minutes later
  ("家长临时接走，已电话确认");
- today's morning trips done (on a school day, once they would have ended).

Idempotent: if either route has a trip from the first demo day on, nothing is done, so a
second run adds nothing and changes nothing. Everything is fictional.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from huxiao.demo.township import DemoModeOff
from huxiao.orgs.models import Organization
from huxiao.transport import trip_services as services
from huxiao.transport.choices import Direction
from huxiao.transport.fleet_demo import KINDERGARTEN, ROUTE_EAST, ROUTE_WEST
from huxiao.transport.models import Route, RouteRider, Trip

USERNAMES = ("principal", "teacher", "guard")
SCHOOL_DAYS = 5
# The trip whose child was never ticked off: (school day index, oldest first; route; way).
NOT_ARRIVED = (2, ROUTE_WEST, Direction.FROM_SCHOOL)
RESOLUTION = "家长临时接走，已电话确认"
# Every so many riders (shifting by the day) one is absent.
ABSENT_EVERY = 11


def load_demo_trips(stdout=None, *, now: dt.datetime | None = None) -> dict:
    """Run the demo trips up to now; return what was created."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    created = {"trips": 0, "boardings": 0, "flags": 0}
    school = Organization.objects.schools().filter(name=KINDERGARTEN).first()
    users = {
        u.username: u
        for u in get_user_model().objects.filter(username__in=USERNAMES, is_active=True)
    }
    routes = list(
        Route.objects.filter(school=school, name__in=(ROUTE_EAST, ROUTE_WEST), is_active=True)
        .select_related("safety_officer__user")
        .order_by("name")
    )
    if school is None or len(users) < len(USERNAMES) or len(routes) < 2:
        return created
    now = now or timezone.now()
    today = timezone.localdate(now)
    days = _school_days(today)
    if Trip.objects.filter(route__in=routes, date__gte=days[0]).exists():
        return created
    with transaction.atomic():
        for index, day in enumerate(days):
            for route in routes:
                for direction in (Direction.TO_SCHOOL, Direction.FROM_SCHOOL):
                    plan = _Run(route, day, direction, users)
                    if plan.ends_at > now:
                        continue
                    lost = (index, route.name, direction) == NOT_ARRIVED
                    trip = plan.run(lost=lost)
                    created["trips"] += 1
                    created["boardings"] += trip.boardings.count()
                    for flag in trip.flags.all():
                        created["flags"] += 1
                        services.flag_resolve(
                            actor=users["principal"],
                            flag_id=flag.pk,
                            resolution=RESOLUTION,
                            now=flag.at + dt.timedelta(minutes=25),
                        )
    if stdout is not None:
        stdout.write(
            f"  trips: +{created['trips']} trips, {created['boardings']} boardings, "
            f"{created['flags']} flag(s) resolved\n"
        )
    return created


def _school_days(today: dt.date) -> list[dt.date]:
    """The SCHOOL_DAYS weekdays before today, oldest first, then today on a weekday."""
    days: list[dt.date] = []
    day = today
    while len(days) < SCHOOL_DAYS:
        day -= dt.timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    days.reverse()
    if today.weekday() < 5:
        days.append(today)
    return days


def _at(day: dt.date, time: dt.time, minutes: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, time)) + dt.timedelta(minutes=minutes)


class _Run:
    """One demo trip: who runs it, when each rider boards and gets off."""

    def __init__(self, route: Route, day: dt.date, direction: str, users: dict):
        self.route = route
        self.day = day
        self.direction = direction
        officer = route.safety_officer
        self.runner = officer.user if officer is not None and officer.user_id else users["guard"]
        riders = list(
            RouteRider.objects.filter(route=route, is_active=True)
            .select_related("stop", "child")
            .order_by("stop__order", "child__name", "child_id")
        )
        self.riders = [
            r for i, r in enumerate(riders) if (i * 7 + day.toordinal()) % ABSENT_EVERY != 0
        ]
        self.stop_times = {r.stop_id: self._stop_time(r.stop) for r in riders}
        times = list(self.stop_times.values()) or [self._default_time(1)]
        if direction == Direction.TO_SCHOOL:
            self.starts_at = min(times) - dt.timedelta(minutes=10)
            self.arrives_at = max(times) + dt.timedelta(minutes=15)
        else:
            self.starts_at = min(times) - dt.timedelta(minutes=20)
            self.arrives_at = max(times) + dt.timedelta(minutes=5)
        self.ends_at = self.arrives_at + dt.timedelta(minutes=2)

    def _default_time(self, order: int) -> dt.time:
        if self.direction == Direction.TO_SCHOOL:
            return dt.time(7, min(10 * order, 50))
        return dt.time(17, max(50 - 10 * order, 0))

    def _stop_time(self, stop) -> dt.datetime:
        time = stop.morning_time if self.direction == Direction.TO_SCHOOL else stop.afternoon_time
        return _at(self.day, time or self._default_time(stop.order))

    def run(self, *, lost: bool) -> Trip:
        start = dict(actor=self.runner, route_id=self.route.pk, direction=self.direction)
        if self.direction == Direction.TO_SCHOOL:
            trip = services.trip_start(**start, now=self.starts_at)
            for i, rider in enumerate(self.riders):
                services.boarding_board(
                    actor=self.runner,
                    trip_id=trip.pk,
                    child_id=rider.child_id,
                    now=self.stop_times[rider.stop_id] + dt.timedelta(minutes=i % 3),
                )
            services.boarding_alight_all(actor=self.runner, trip_id=trip.pk, now=self.arrives_at)
        else:
            trip = services.trip_start(
                **start, children=[r.child_id for r in self.riders], now=self.starts_at
            )
            # The last child of the list is never ticked off.
            leaving = self.riders[:-1] if lost else self.riders
            for i, rider in enumerate(leaving):
                services.boarding_alight(
                    actor=self.runner,
                    trip_id=trip.pk,
                    child_id=rider.child_id,
                    now=self.stop_times[rider.stop_id] + dt.timedelta(minutes=i % 2),
                )
        return services.trip_end(actor=self.runner, trip_id=trip.pk, now=self.ends_at)
