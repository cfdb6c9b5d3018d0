"""School terms: the period the per-term activity rules count in (issue 8; ADR 0030).

A county enters its own terms (`drills.Term`); until it does, or for a date its terms do not
cover, the shipped default calendar applies: autumn term 1 September – 20 January (National
Day week off), spring term 20 February – 10 July. Dates in the summer or winter holiday
belong to no term.
"""

from __future__ import annotations

import datetime as dt

from huxiao.drills.models import Term

AUTUMN_START = (9, 1)
AUTUMN_END = (1, 20)
SPRING_START = (2, 20)
SPRING_END = (7, 10)
NATIONAL_DAY = ((10, 1), (10, 7))


def default_term(region_id: int | None, on: dt.date) -> Term | None:
    """The shipped default term containing `on` (unsaved), or None in the holidays."""
    year = on.year
    autumn_year = year if on.month >= 9 else year - 1
    autumn = (dt.date(autumn_year, *AUTUMN_START), dt.date(autumn_year + 1, *AUTUMN_END))
    if autumn[0] <= on <= autumn[1]:
        first, last = NATIONAL_DAY
        return Term(
            region_id=region_id,
            name=f"{autumn_year}—{autumn_year + 1}学年第一学期",
            starts_on=autumn[0],
            ends_on=autumn[1],
            breaks=[
                [dt.date(autumn_year, *first).isoformat(), dt.date(autumn_year, *last).isoformat()]
            ],
        )
    spring = (dt.date(year, *SPRING_START), dt.date(year, *SPRING_END))
    if spring[0] <= on <= spring[1]:
        return Term(
            region_id=region_id,
            name=f"{year - 1}—{year}学年第二学期",
            starts_on=spring[0],
            ends_on=spring[1],
            breaks=[],
        )
    return None


def term_for(region_id: int | None, on: dt.date) -> Term | None:
    """The county's term containing `on`: its own entered term, else the default one."""
    if region_id is not None:
        term = (
            Term.objects.filter(region_id=region_id, starts_on__lte=on, ends_on__gte=on)
            .order_by("-starts_on")
            .first()
        )
        if term is not None:
            return term
    return default_term(region_id, on)
