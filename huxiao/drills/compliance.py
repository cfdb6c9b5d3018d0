"""Activity compliance, computed on the fly (issue 8 item 3; ADR 0030 "Compliance").

CONTRACT (the benchmark and the pages call it):
`evaluate_schools(school_ids, *, term=None, today=None) -> dict[int, SchoolResult]` — each
active school among `school_ids` judged against its county's activity rules in force, for
`term` or (None) the county's term containing `today`, else the last one before it.

How: a fixed number of grouped queries whatever the number of schools — the schools, the
counties' terms and rules, held drills per school and day, other held activities per
school, kind, day and officer, whole-school and per-class safety-education sessions, the
classes, the legal vice-principal assignments — then each rule kind of `rules.RULES` judges
one school's facts in Python. A county of 1,000 schools with three years of weekly drills
takes well under the 2 s target (bench/activities); the overviews and the command dashboard,
which read a county on every page, ask for the stored verdicts instead (`stored=True`,
`drills.standings`: kept per school and day, and judged again as soon as anything they read
changes).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone

from huxiao.core.roles import SCHOOL_KINDS
from huxiao.drills import rules as R
from huxiao.drills import terms as T
from huxiao.drills.choices import ActivityKind, ActivityStatus
from huxiao.drills.models import Activity, Term

WEEK = dt.timedelta(days=6)
OFFICER_KINDS = {
    "lvp_lecture": ActivityKind.LEGAL_LECTURE,
    "parent_meeting_lvp": ActivityKind.PARENT_MEETING,
    "staff_training": ActivityKind.STAFF_TRAINING,
}


@dataclass
class SchoolResult:
    """One school's verdicts for one term (`term` None: the county has no term)."""

    school_id: int
    region_id: int
    term: Term | None
    verdicts: list[dict] = field(default_factory=list)

    def outcomes(self) -> list[tuple[str, str]]:
        """(rule, verdict) of every rule judged, in rule order."""
        return [(v["rule"], v["verdict"]) for v in self.verdicts]

    def count(self, verdict: str) -> int:
        return sum(judged == verdict for _rule, judged in self.outcomes())

    @property
    def is_compliant(self) -> bool:
        """No rule failed and none without data (a rule still due is not failed yet)."""
        return bool(self.outcomes()) and not (self.count(R.V.FAIL) or self.count(R.V.NO_DATA))

    @property
    def missing_count(self) -> int:
        """What the failed rules lack (weeks without a drill, classes, lectures …)."""
        return sum(
            m.get("key") not in R.STILL_DUE
            for v in self.verdicts
            if v["verdict"] == R.V.FAIL
            for m in v["missing"]
        )

    @property
    def due_count(self) -> int:
        """What is still due before its deadline."""
        return sum(
            v["verdict"] == R.V.DUE or m.get("key") in R.STILL_DUE
            for v in self.verdicts
            for m in v["missing"]
        )

    def verdict_of(self, key: str) -> dict | None:
        return next((v for v in self.verdicts if v["rule"] == key), None)


def _window(term: Term) -> tuple[dt.date, dt.date]:
    """From the Monday of the term's first week to the Sunday of its last."""
    first = term.starts_on - dt.timedelta(days=term.starts_on.weekday())
    last = term.ends_on + dt.timedelta(days=6 - term.ends_on.weekday())
    return first, last


class _Facts:
    """The facts of every school, read with grouped queries over the union of the terms'
    windows and sorted into each school's own term in Python."""

    def __init__(self, schools: dict[int, R.SchoolFacts], in_force: set[str]):
        self.schools = schools
        self.in_force = in_force
        windows = [_window(f.term) for f in schools.values() if f.term is not None]
        self.lo = min(w[0] for w in windows)
        self.hi = max(w[1] for w in windows)
        self.ids = [pk for pk, f in schools.items() if f.term is not None]

    def held(self):
        return Activity.objects.filter(
            school_id__in=self.ids,
            status=ActivityStatus.HELD,
            date__gte=self.lo,
            date__lte=self.hi,
        ).order_by()

    def read(self) -> None:
        if "weekly_drill" in self.in_force:
            self._drills()
        kinds = [OFFICER_KINDS[k] for k in OFFICER_KINDS if k in self.in_force]
        if kinds:
            self._officer_kinds(kinds)
        if "safety_education_per_class" in self.in_force:
            self._safety_education()
        if {"lvp_lecture", "parent_meeting_lvp"} & self.in_force:
            self._lvps()

    def _drills(self) -> None:
        rows = (
            self.held()
            .filter(kind=ActivityKind.DRILL)
            .values("school_id", "date")
            .annotate(n=Count("pk"))
            .values_list("school_id", "date", "n")
        )
        for school_id, day, n in rows:
            facts = self.schools[school_id]
            first, last = _window(facts.term)
            if first <= day <= last:
                facts.drills[day] = n

    def _officer_kinds(self, kinds) -> None:
        rows = (
            self.held()
            .filter(kind__in=kinds)
            .values("school_id", "kind", "date", "police_officer_id")
            .annotate(n=Count("pk"))
            .values_list("school_id", "kind", "date", "police_officer_id", "n")
        )
        for school_id, kind, day, officer, n in rows:
            facts = self.schools[school_id]
            if facts.in_term(day):
                facts.held.setdefault(kind, []).extend([(day, officer)] * n)

    def _safety_education(self) -> None:
        from huxiao.people.models import SchoolClass

        for pk, school_id, name in (
            SchoolClass.objects.filter(school_id__in=self.ids)
            .order_by("school_id", "grade", "name", "pk")
            .values_list("pk", "school_id", "name")
        ):
            self.schools[school_id].classes.append((pk, name))
        sessions = self.held().filter(kind=ActivityKind.SAFETY_EDUCATION)
        whole = (
            sessions.filter(Q(whole_school=True) | Q(classes__isnull=True))
            .values("school_id", "date")
            .annotate(n=Count("pk", distinct=True))
            .values_list("school_id", "date", "n")
        )
        for school_id, day, n in whole:
            facts = self.schools[school_id]
            if facts.in_term(day):
                facts.whole_school_sessions.extend([day] * n)
        through = Activity.classes.through
        per_class = (
            through.objects.filter(activity__in=sessions.filter(whole_school=False).values("pk"))
            .values("schoolclass_id", "activity__school_id", "activity__date")
            .annotate(n=Count("activity_id"))
            .values_list("schoolclass_id", "activity__school_id", "activity__date", "n")
            .order_by()
        )
        for class_id, school_id, day, n in per_class:
            facts = self.schools[school_id]
            if facts.in_term(day):
                facts.class_sessions.setdefault(class_id, []).extend([day] * n)

    def _lvps(self) -> None:
        from huxiao.patrols.models import LegalVicePrincipal

        rows = LegalVicePrincipal.objects.filter(
            school_id__in=self.ids, term_start__lte=self.hi
        ).values_list("school_id", "officer_id", "term_start", "term_end", "ended_at")
        for school_id, officer, first, last, ended_at in rows:
            if ended_at is not None:
                ended = timezone.localdate(ended_at)
                last = ended if last is None else min(last, ended)
            self.schools[school_id].lvps.append((officer, first, last))


def school_rows(school_ids) -> list[tuple[int, int]]:
    """(id, county id) of the active schools among `school_ids`."""
    from huxiao.orgs.models import Organization

    ids = sorted({int(pk) for pk in school_ids})
    if not ids:
        return []
    return list(
        Organization.objects.filter(pk__in=ids, kind__in=SCHOOL_KINDS, is_active=True)
        .order_by("pk")
        .values_list("pk", "region_id")
    )


def evaluate_terms(
    rows: list[tuple[int, int]], terms: dict[int, Term | None], today: dt.date
) -> dict[int, SchoolResult]:
    """Judge the schools `rows` ((id, county id)) for the term of their county in `terms`."""
    if not rows:
        return {}
    rule_sets = R.rule_sets({region_id for _pk, region_id in rows})
    weeks = {}
    schools = {}
    for pk, region_id in rows:
        term = terms.get(region_id)
        key = id(term)
        if term is not None and key not in weeks:
            weeks[key] = T.school_weeks(term)
        schools[pk] = R.SchoolFacts(
            school_id=pk,
            region_id=region_id,
            today=today,
            term=term,
            weeks=weeks.get(key, []),
        )
    in_force = {key for keys in rule_sets.values() for key, _p in keys}
    if any(f.term is not None for f in schools.values()) and in_force:
        _Facts(schools, in_force).read()
    return {
        pk: SchoolResult(
            school_id=pk,
            region_id=f.region_id,
            term=f.term,
            verdicts=R.evaluate(f, rule_sets.get(f.region_id, [])),
        )
        for pk, f in schools.items()
    }


def evaluate_schools(
    school_ids,
    *,
    term: Term | None = None,
    today: dt.date | None = None,
    stored: bool = False,
) -> dict[int, SchoolResult]:
    """Each active school among `school_ids` against its county's rules in force, for
    `term` (every school) or, when None, its county's term containing `today` (local date,
    default today), else the last term before it.

    With `stored`, the verdicts of the current term judged today are read from the stored
    standings where they still count (`drills.standings`: the same verdicts, kept), and
    stored for the others; any other term or day is judged afresh."""
    today = today or timezone.localdate()
    rows = school_rows(school_ids)
    regions = {region_id for _pk, region_id in rows}
    terms = T.current_terms(regions, today) if term is None else dict.fromkeys(regions, term)
    if stored and term is None and today == timezone.localdate():
        from huxiao.drills import standings

        return standings.stored_results(rows, terms, today, evaluate_terms)
    return evaluate_terms(rows, terms, today)


def region_school_ids(region_id: int) -> list[int]:
    from huxiao.orgs.models import Organization

    return list(
        Organization.objects.filter(
            region_id=region_id, kind__in=SCHOOL_KINDS, is_active=True
        ).values_list("pk", flat=True)
    )
