"""Police bus checks of the demo township (issue 8 item 6; ADR 0031 "Inspections").

`load_demo_inspections()` runs after `load_demo_township()` and the fleet demo (it needs
the kindergarten 大杨树实验幼儿园, its buses 冀A·X3712 and 冀A·X5820, and the logins
`officer` and `principal`); without the first bus it does nothing. Demo mode only.
Everything goes through the real services with a clock (`now=`), so findings, deadlines,
the follow-up thread, audit rows and notifications are the real ones.

What a visitor of `make run` finds under /transport/inspections/ (D is the latest weekday
at least three days ago):
- a random spot check of 冀A·X3712 by 陈伟 (`officer`) on D at 07:25 at the G107 junction:
  23 children on board a bus of 19 seats → an overloading finding "核载19人，实载23人";
  the kindergarten's principal wrote what it did on D+1, the officer resolved it on D+2;
- a scheduled inspection of 冀A·X5820 at the kindergarten's car park on the second weekday
  before D at 15:30 with no problem found.

Idempotent: a bus that has any check is left alone. Everything is fictional.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from huxiao.access.plates import normalise_plate
from huxiao.demo.township import DemoModeOff
from huxiao.orgs.models import Organization
from huxiao.transport import inspection_services as services
from huxiao.transport.choices import FindingKind, InspectionKind
from huxiao.transport.models import Bus, BusInspection

KINDERGARTEN = "大杨树实验幼儿园"
SPOT_CHECK_PLATE = "冀A·X3712"
SCHEDULED_PLATE = "冀A·X5820"
FOLLOW_UP = "已将超载的4名幼儿调整至2号线乘车，并对驾驶员、照管员进行了批评教育；今后每趟发车前由照管员清点人数并签字。"
RESOLUTION = "经回访核实，该车连续三日早晚班乘车人数均未超过核载人数，问题已整改。"


def _aware(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _weekday_before(today: dt.date, days: int) -> dt.date:
    day = today - dt.timedelta(days=days)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def _bus(school, plate: str) -> Bus | None:
    return (
        Bus.objects.filter(school=school, plate__in={normalise_plate(plate), plate})
        .order_by("-is_active", "pk")
        .first()
    )


def _record(bus, officer, at: dt.datetime, **seen):
    """A check written a quarter of an hour after it was made, as on the roadside."""
    return services.inspection_record(
        actor=officer, plate=bus.plate, inspected_at=at, now=at + dt.timedelta(minutes=15), **seen
    )


def _spot_check(bus, officer, principal, day: dt.date) -> int:
    inspection = _record(
        bus,
        officer,
        _aware(day, 7, 25),
        kind=InspectionKind.RANDOM,
        location="G107国道与幸福路交叉口",
        riders_counted=23,
        notes="现场核对乘车幼儿23人，车辆核载19人；已责令超载幼儿由家长接回，车辆方可继续行驶。",
    )
    for finding in inspection.findings.filter(kind=FindingKind.OVERLOAD):
        services.finding_follow_up(
            actor=principal,
            finding_id=finding.pk,
            text=FOLLOW_UP,
            now=_aware(day + dt.timedelta(days=1), 10, 0),
        )
        services.finding_resolve(
            actor=officer,
            finding_id=finding.pk,
            note=RESOLUTION,
            now=_aware(day + dt.timedelta(days=2), 9, 30),
        )
    return inspection.findings.count()


def _scheduled(bus, officer, day: dt.date) -> int:
    inspection = _record(
        bus,
        officer,
        _aware(day, 15, 30),
        kind=InspectionKind.SCHEDULED,
        location="大杨树实验幼儿园校车停车场",
        notes="学期初例行检查：车况、校车标志、安全设施和随车证件均符合要求。",
    )
    return inspection.findings.count()


def load_demo_inspections(stdout=None, *, now: dt.datetime | None = None) -> dict:
    """Record the demo checks not yet there; return {"inspections": n, "findings": n}
    written by this run. Refuses with DemoModeOff unless settings.DEMO_MODE is on."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    created = {"inspections": 0, "findings": 0}
    school = Organization.objects.schools().filter(name=KINDERGARTEN).first()
    users = {
        u.username: u
        for u in get_user_model().objects.filter(
            username__in=("officer", "principal"), is_active=True
        )
    }
    if school is None or len(users) < 2:
        return created
    spot_bus = _bus(school, SPOT_CHECK_PLATE)
    if spot_bus is None:
        return created
    today = timezone.localtime(now or timezone.now()).date()
    day = _weekday_before(today, 3)
    plan = [(spot_bus, lambda bus: _spot_check(bus, users["officer"], users["principal"], day))]
    scheduled_bus = _bus(school, SCHEDULED_PLATE)
    if scheduled_bus is not None:
        plan.append(
            (scheduled_bus, lambda bus: _scheduled(bus, users["officer"], _weekday_before(day, 2)))
        )
    for bus, make in plan:
        if BusInspection.objects.filter(bus=bus).exists():
            continue
        with transaction.atomic():
            created["findings"] += make(bus)
        created["inspections"] += 1
        if stdout is not None:
            stdout.write(f"  {bus.plate}: police check recorded\n")
    return created
