"""Helpers of the case tests (ADR 0032 "Case"): a fixed clock, cases made directly with the
ORM, and the records of the school day (attendance, checks, absences, seats, rooms, bus
trips) that contact tracing reads."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from huxiao.health.choices import AbsenceCause, CaseStatus, CheckSession, Step
from huxiao.health.models import (
    Absence,
    AttendanceDay,
    ChildCheck,
    DiningSeat,
    DormAssignment,
    HealthCase,
    HealthCheck,
)
from huxiao.health.steps import step_record

# A Wednesday; every clock in these tests is local time (Asia/Shanghai).
DAY = dt.date(2026, 3, 11)


def at(hour: int, minute: int = 0, day: dt.date = DAY, second: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute, second)))


def d(day: int, month: int = 3) -> dt.date:
    return dt.date(2026, month, day)


def make_case(
    world,
    *,
    child=None,
    onset=None,
    window=2,
    isolated_at=None,
    status=None,
    steps=(),
    by=None,
    **extra,
) -> HealthCase:
    """A case of `child` (default `world.child`) made with the ORM, with `steps` recorded."""
    child = child or world.child
    case = HealthCase.objects.create(
        school=child.school,
        school_class=child.school_class,
        child=child,
        status=status or CaseStatus.REPORTED,
        symptoms=["fever"],
        temperature=Decimal("38.5"),
        onset_date=onset or DAY,
        contact_window_days=window,
        isolated_at=isolated_at,
        reported_by=by or world.users["teacher"],
        reported_at=at(8, 0),
        **extra,
    )
    for step in (Step.REPORTED, *steps):
        step_record(actor=by or world.users["principal"], case=case, step=step, at=at(8, 1))
    return case


def attendance(school_class, day: dt.date, *, absent=()) -> AttendanceDay:
    """The class's attendance of the day, with the children `absent` (illness)."""
    row = AttendanceDay.objects.create(
        school=school_class.school,
        school_class=school_class,
        date=day,
        enrolled=school_class.children.count(),
        absent=len(absent),
        recorded_at=at(8, 0, day),
    )
    for child in absent:
        absence(child, day)
    return row


def absence(child, day: dt.date, cause=AbsenceCause.ILLNESS) -> Absence:
    return Absence.objects.create(
        school=child.school,
        school_class=child.school_class,
        child=child,
        date=day,
        cause=cause,
        recorded_at=at(8, 0, day),
    )


def check(
    child,
    day: dt.date,
    checkpoint: str,
    when: dt.datetime,
    session=CheckSession.MORNING,
    saved_at: dt.datetime | None = None,
    **values,
) -> ChildCheck:
    """A child's check, ticked at `when`, in the class's check of the day (made when
    missing, saved at `saved_at`: by default 09:00 that day, after every tick). A child
    `when` equal to the save time was not ticked (a save without the page's script)."""
    health_check, _created = HealthCheck.objects.get_or_create(
        school_class=child.school_class,
        date=day,
        session=session,
        defaults={
            "school": child.school,
            "checkpoint": checkpoint,
            "recorded_at": saved_at or at(9, 0, day),
        },
    )
    return ChildCheck.objects.create(
        health_check=health_check,
        school=child.school,
        child=child,
        date=day,
        checkpoint=checkpoint,
        checked_at=when,
        **values,
    )


def seat(child, day: dt.date, table: str) -> DiningSeat:
    return DiningSeat.objects.create(
        school=child.school, school_class=child.school_class, child=child, date=day, table=table
    )


def room(child, name: str, starts_on: dt.date, ends_on: dt.date | None = None):
    return DormAssignment.objects.create(
        school=child.school, child=child, room=name, starts_on=starts_on, ends_on=ends_on
    )


def bus_trip(school, day: dt.date, children, *, route_name="1号线", direction="to_school"):
    """A finished bus trip of the day with `children` on board."""
    from huxiao.transport.models import Boarding, Route, Trip
    from huxiao.transport.tests.trip_fixtures import make_bus, make_driver

    route = Route.objects.filter(school=school, name=route_name).first()
    if route is None:
        from huxiao.transport.models import Bus

        route = Route.objects.create(
            school=school,
            name=route_name,
            bus=make_bus(school, plate=f"冀A·C{Bus.objects.count() + 1:04d}"),
            driver=make_driver(school),
        )
    trip = Trip.objects.create(
        school=school,
        route=route,
        date=day,
        direction=direction,
        bus=route.bus,
        driver=route.driver,
        status="finished",
        started_at=at(7, 0, day),
        ended_at=at(7, 50, day),
    )
    for child in children:
        Boarding.objects.create(trip=trip, child=child, boarded_at=at(7, 10, day))
    return trip


def capture_notify(monkeypatch) -> list[dict]:
    """Every notify_send call of the case services, in order (and still sent)."""
    from huxiao.health import case_services

    calls: list[dict] = []
    real = case_services.notify_send

    def recording(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(case_services, "notify_send", recording)
    return calls


def inbox(event_type: str) -> list[str]:
    """Usernames that got `event_type` in their inbox."""
    from huxiao.notify.models import Delivery

    return sorted(
        Delivery.objects.filter(notification__event_type=event_type, channel="inbox").values_list(
            "recipient__username", flat=True
        )
    )
