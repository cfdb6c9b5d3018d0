"""School terms: the period the per-term activity rules count in (issue 8; ADR 0030).

A county enters its own terms (`drills.Term`); until it does, or for a date its terms do not
cover, the shipped default calendar applies: autumn term 1 September – 20 January (National
Day week off), spring term 20 February – 10 July. Dates in the summer or winter holiday
belong to no term. A default term that overlaps an entered term gives way to it.

The rules count in school weeks (`school_weeks`): Monday–Sunday weeks with at least one
weekday inside the term and outside its holidays.
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
    """The county's term containing `on`: its own entered term, else the default one (unless
    an entered term overlaps that default term: then `on` is a holiday)."""
    if region_id is None:
        return default_term(region_id, on)
    return term_at(county_terms([region_id], on, on)[region_id], on, or_last=False)


# ------------------------------------------------------------------ resolution
#
# A county's terms are its entered ones plus the default terms that overlap none of them:
# an entered term replaces the default term it overlaps (a county that ends its autumn term
# on 15 January has no "default" term running to the 20th). Dates in no term are holidays.

# How far back the last term before a date can lie (a summer holiday plus a term).
LOOK_BACK = dt.timedelta(days=400)


def default_terms_between(region_id: int | None, first: dt.date, last: dt.date) -> list[Term]:
    """The default terms overlapping [first, last] (unsaved), oldest first."""
    terms = []
    for year in range(first.year - 1, last.year + 1):
        for start in (dt.date(year, *SPRING_START), dt.date(year, *AUTUMN_START)):
            term = default_term(region_id, start)
            if term is not None and term.starts_on <= last and term.ends_on >= first:
                terms.append(term)
    return terms


def _overlaps(a: Term, b: Term) -> bool:
    return a.starts_on <= b.ends_on and b.starts_on <= a.ends_on


def merge_terms(region_id: int, entered, first: dt.date, last: dt.date) -> list[Term]:
    """The county's terms overlapping [first, last]: `entered` (its Term rows, any span)
    and the default terms that overlap none of them, oldest first."""
    entered = [t for t in entered if t.region_id == region_id]
    defaults = [
        d
        for d in default_terms_between(region_id, first, last)
        if not any(_overlaps(d, t) for t in entered)
    ]
    inside = [t for t in entered if t.starts_on <= last and t.ends_on >= first]
    return sorted(inside + defaults, key=lambda t: t.starts_on)


def county_terms(region_ids, first: dt.date, last: dt.date) -> dict[int, list[Term]]:
    """Per county: its terms overlapping [first, last], oldest first (one query)."""
    ids = sorted({int(r) for r in region_ids})
    # Entered terms near the window decide which default terms give way.
    near = Term.objects.filter(
        region_id__in=ids,
        starts_on__lte=last + LOOK_BACK,
        ends_on__gte=first - LOOK_BACK,
    ).order_by("starts_on")
    entered = list(near)
    return {r: merge_terms(r, entered, first, last) for r in ids}


def term_at(terms: list[Term], on: dt.date, *, or_last: bool = True) -> Term | None:
    """The term containing `on`; else (with `or_last`) the last one ended before it."""
    for term in terms:
        if term.starts_on <= on <= term.ends_on:
            return term
    if not or_last:
        return None
    ended = [t for t in terms if t.ends_on < on]
    return max(ended, key=lambda t: t.ends_on) if ended else None


def current_terms(region_ids, on: dt.date) -> dict[int, Term | None]:
    """Per county: the term containing `on`, else the last one before it (one query)."""
    return {
        r: term_at(terms, on) for r, terms in county_terms(region_ids, on - LOOK_BACK, on).items()
    }


def term_breaks(term: Term) -> list[tuple[dt.date, dt.date]]:
    """The holidays of a term as date pairs; malformed entries are skipped."""
    out = []
    for item in term.breaks or []:
        try:
            first, last = (dt.date.fromisoformat(str(x)) for x in item)
        except (TypeError, ValueError):
            continue
        if first <= last:
            out.append((first, last))
    return out


def term_key(term: Term) -> str:
    """The period key of a term for reminders and flags: its id once entered, else the
    default term's first day (a default term has no row)."""
    return f"term:{term.pk}" if term.pk else f"term:{term.starts_on.isoformat()}"


def school_weeks(term: Term) -> list[dt.date]:
    """The Mondays of the term's school weeks: Monday–Sunday weeks with at least one
    weekday (Monday–Friday) inside the term and outside its holidays."""
    breaks = term_breaks(term)
    monday = term.starts_on - dt.timedelta(days=term.starts_on.weekday())
    weeks = []
    while monday <= term.ends_on:
        for offset in range(5):
            day = monday + dt.timedelta(days=offset)
            if term.starts_on <= day <= term.ends_on and not any(a <= day <= b for a, b in breaks):
                weeks.append(monday)
                break
        monday += dt.timedelta(days=7)
    return weeks


def week_key(monday: dt.date) -> str:
    """ "2026-W48": the ISO week of a Monday."""
    year, week, _day = monday.isocalendar()
    return f"{year}-W{week:02d}"
