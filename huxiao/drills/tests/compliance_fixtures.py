"""Helpers of the compliance tests (ADR 0030 "Compliance"): a hand-worked term and activities
written straight into the tables (the activities area's services are tested there).

The term (Monday 2 March – Sunday 26 April 2026) has two holidays: the whole week of
16–22 March, and 4–6 April (Saturday to Monday). Its school weeks are the weeks of 2, 9,
23 and 30 March and 6, 13 and 20 April: seven (the week of 16 March has no school day;
the week of 6 April keeps Tuesday to Friday).
"""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from huxiao.drills.models import Activity, Term
from huxiao.patrols.models import LegalVicePrincipal

TERM_START = dt.date(2026, 3, 2)
TERM_END = dt.date(2026, 4, 26)
BREAKS = [["2026-03-16", "2026-03-22"], ["2026-04-04", "2026-04-06"]]
SCHOOL_WEEKS = [
    dt.date(2026, 3, 2),
    dt.date(2026, 3, 9),
    dt.date(2026, 3, 23),
    dt.date(2026, 3, 30),
    dt.date(2026, 4, 6),
    dt.date(2026, 4, 13),
    dt.date(2026, 4, 20),
]
# A Thursday in the fourth calendar week: the weeks of 2 and 9 March are over (16 March
# was a holiday), the week of 23 March is running.
TODAY = dt.date(2026, 3, 26)
AFTER = dt.date(2026, 4, 27)  # the day after the term
_serial = itertools.count(1)


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def term(region, *, start=TERM_START, end=TERM_END, breaks=None, name="2025—2026学年第二学期"):
    return Term.objects.create(
        region=region,
        name=name,
        starts_on=start,
        ends_on=end,
        breaks=BREAKS if breaks is None else breaks,
    )


def activity(
    school,
    kind,
    day: dt.date,
    *,
    status="held",
    classes=(),
    whole=False,
    officer=None,
    hour=10,
):
    item = Activity.objects.create(
        school=school,
        kind=kind,
        drill_kind="fire" if kind == "drill" else "",
        status=status,
        title=f"活动{next(_serial)}",
        date=day,
        starts_at=at(day, hour),
        ends_at=at(day, hour) + dt.timedelta(minutes=30),
        whole_school=whole,
        police_officer=officer,
    )
    if classes:
        item.classes.set(classes)
    return item


def drill(school, day: dt.date, **kwargs):
    return activity(school, "drill", day, **kwargs)


def drills(school, days, **kwargs):
    return [drill(school, day, **kwargs) for day in days]


def lvp(school, station, officer, *, start=dt.date(2025, 9, 1), end=None, ended_at=None):
    return LegalVicePrincipal.objects.create(
        school=school,
        station=station,
        officer=officer,
        term_start=start,
        term_end=end,
        appointment_no=f"任字{next(_serial)}号",
        ended_at=ended_at,
    )
