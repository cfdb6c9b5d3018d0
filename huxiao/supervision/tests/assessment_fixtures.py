"""Fixtures of the assessment area's tests (issue 6 item 5), on top of `sworld`:

- `add_schools(sworld)` (each test module's `aworld` fixture): two more schools in `world.town` — `school3` (三校) and `school4` (四校, which
  never has data) — so the town has four; `world.far_school` is in the other town.
- `MARCH`: the assessed month (2025-03), computed on `AFTER` (2025-04-02 09:00, the month
  is over) unless a test says otherwise.
- `scheme(w, rows, owner=…, actor=…)`: a scheme through the service; by default owned by
  the town's education office (`edu`).
- `hazard_row(...)`: a hazard written directly with the dates a test needs.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from huxiao.core.roles import OrgKind
from huxiao.hazards.models import Hazard
from huxiao.orgs.models import Organization
from huxiao.orgs.tests.factories import SchoolFactory
from huxiao.supervision import assessment_services as svc
from huxiao.supervision.models import Indicator

MARCH = dt.date(2025, 3, 15)
MARCH_START = dt.date(2025, 3, 1)


def at(day: dt.date, hhmm: str = "09:00") -> dt.datetime:
    hour, minute = hhmm.split(":")
    return timezone.make_aware(dt.datetime.combine(day, dt.time(int(hour), int(minute))))


AFTER = at(dt.date(2025, 4, 2))


def add_schools(sworld):
    w = sworld
    w.school3 = SchoolFactory(town=w.town, police_station=w.station, name="三校")
    w.school4 = SchoolFactory(town=w.town, police_station=w.station, name="四校")
    w.gov_office = Organization.objects.get(kind=OrgKind.GOVERNANCE_OFFICE, town=w.town)
    w.county_office = Organization.objects.get(kind=OrgKind.GOVERNANCE_OFFICE, town__isnull=True)
    return w


def scheme(w, rows, *, owner=None, actor=None, **fields):
    """rows: (name, source, weight, params) tuples."""
    return svc.scheme_create(
        actor=actor or w.users["edu"],
        owner=owner or w.edu_office,
        name=fields.pop("name", "测试方案"),
        indicators=[
            {"name": name, "source": source, "weight": weight, "params": params}
            for name, source, weight, params in rows
        ],
        **fields,
    )


def indicator(s, name) -> Indicator:
    return s.indicators.get(name=name)


def manual(w, s, name, school, value, *, actor=None, day=MARCH, now=AFTER):
    return svc.manual_score_set(
        actor=actor or w.users["edu"],
        indicator=indicator(s, name),
        school=school,
        day=day,
        percent=value,
        now=now,
    )


def hazard_row(school, *, deadline, reported=MARCH_START, closed=None, title="隐患"):
    return Hazard.objects.create(
        school=school,
        category="physical",
        title=title,
        description="测试",
        status="closed" if closed else "rectifying",
        deadline=deadline,
        reported_at=at(reported),
        closed_at=at(closed, "17:00") if closed else None,
    )


def compute(w, s, *, actor=None, day=MARCH, now=AFTER):
    return svc.assessment_compute(actor=actor or w.users["edu"], scheme=s, day=day, now=now)


def results_by_name(run) -> dict:
    return {r.school.name: r for r in run.results.select_related("school")}
