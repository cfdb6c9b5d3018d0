"""Reads of activity compliance (issue 8 item 3; ADR 0030 "Compliance").

Who reads what (the same as security compliance, ADR 0028, whose reader checks are reused):
- **a school's compliance** and its reminders and flags: whoever may view the school (its
  members, its police, its town's offices, the county); a school out of reach is 404,
  someone who may view no school at all 403;
- **the overviews** (town; county or, for the police, their schools): offices and police
  only, school members 403; every figure is over the schools the reader can see; a town
  without such a school is 404.

A school's page is judged on the fly by `compliance.evaluate_schools` (a fixed number of
queries for any number of schools); the overviews read the stored standings of today
(`drills.standings`, the same verdicts kept until anything they read changes).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.http import Http404

from huxiao.core.roles import POLICE_KINDS, SCHOOL_KINDS, Action
from huxiao.core.scoping import memberships_of
from huxiao.drills import compliance
from huxiao.drills import rules as R
from huxiao.drills import terms as T
from huxiao.drills.models import ActivityFlag
from huxiao.orgs.models import Organization, Town
from huxiao.security.compliance_selectors import (
    is_overview_reader,
    percent,
    require_overview_reader,
    require_reader,
)

MAX_ID = 2**63 - 1

__all__ = ["is_overview_reader", "require_overview_reader", "require_reader"]


def check_id(value: int) -> int:
    if not 0 < value <= MAX_ID:
        raise Http404
    return value


def home_target(actor) -> tuple[str, tuple]:
    """The widest compliance page of the actor: (URL name, args). A town-level office →
    its town; other offices and the police → the overview of their schools; a school
    member → their school."""
    if getattr(actor, "is_superuser", False):
        return "drills:compliance_overview", ()
    ids = require_reader(actor)
    orgs = [m.organization for m in memberships_of(actor) if m.organization.is_active]
    if is_overview_reader(actor):
        offices = [o for o in orgs if o.kind not in SCHOOL_KINDS]
        towns = [o.town_id for o in offices if o.kind not in POLICE_KINDS and o.town_id]
        if towns and len(towns) == len(offices):
            return "drills:compliance_town", (towns[0],)
        return "drills:compliance_overview", ()
    own = [o.pk for o in orgs if o.kind in SCHOOL_KINDS and o.pk in ids]
    return "drills:compliance_school", (own[0] if own else min(ids),)


# ------------------------------------------------------------------ one school


@dataclass
class VerdictRow:
    key: str
    label: str
    description: str
    verdict: str
    verdict_label: str
    evidence: list[str]
    missing: list[str]
    deadline: str | None
    activity_kind: str
    raw: dict


def verdict_rows(result) -> list[VerdictRow]:
    """The verdicts rendered in the active language, in rule order."""
    rows = []
    for v in result.verdicts if result is not None else []:
        kind = R.RULES[v["rule"]]
        verdict = v["verdict"]
        rows.append(
            VerdictRow(
                key=kind.key,
                label=str(kind.label),
                description=str(kind.description),
                verdict=verdict,
                verdict_label=str(R.V(verdict).label),
                evidence=[R.render_message(m) for m in v["evidence"]],
                missing=[R.render_message(m) for m in v["missing"]],
                deadline=v.get("deadline"),
                activity_kind=kind.area,
                raw=v,
            )
        )
    return rows


def school_compliance(*, actor, school_id: int, on: dt.date | None = None):
    """(the school, its SchoolResult for the term of `on`, default today); 404 out of
    view."""
    ids = require_reader(actor)
    if check_id(school_id) not in ids:
        raise Http404
    school = (
        Organization.objects.filter(pk=school_id, kind__in=SCHOOL_KINDS, is_active=True)
        .select_related("town", "region")
        .first()
    )
    if school is None:
        raise Http404
    result = compliance.evaluate_schools([school.pk], today=on)[school.pk]
    return school, result


@dataclass
class FlagRow:
    flag: ActivityFlag
    label: str
    is_open: bool


def open_items(result) -> set[tuple[str, str]]:
    """(rule, period) of what the school still lacks now, to tell open flags from closed."""
    if result is None or result.term is None:
        return set()
    items = set()
    term_key = T.term_key(result.term)
    for v in result.verdicts:
        if v["verdict"] not in (R.V.FAIL, R.V.DUE):
            continue
        if v["rule"] != "weekly_drill":
            items.add((v["rule"], term_key))
            continue
        for m in v["missing"]:
            monday = (m.get("params") or {}).get("monday")
            if monday:
                items.add((v["rule"], T.week_key(dt.date.fromisoformat(monday))))
    return items


def school_flags(*, actor, school, result, limit: int = 50) -> list[FlagRow]:
    """The school's reminders and flags of the judged term (newest first), each open while
    what it was about is still missing."""
    qs = ActivityFlag.objects.visible_to(actor, Action.VIEW).filter(school=school)
    if result is not None and result.term is not None:
        qs = qs.filter(at__date__gte=result.term.starts_on)
    still = open_items(result)
    return [
        FlagRow(
            flag=f,
            label=str(R.RULES[f.rule].label) if f.rule in R.RULES else f.rule,
            is_open=(f.rule, f.period) in still,
        )
        for f in qs.order_by("-at", "-id")[:limit]
    ]


# ------------------------------------------------------------------ overviews


@dataclass
class RuleRate:
    key: str
    label: str
    counts: dict = field(default_factory=lambda: dict.fromkeys(R.V.values, 0))

    @property
    def judged(self) -> int:
        return sum(self.counts.values())

    @property
    def rate(self) -> Decimal | None:
        """Schools not failing the rule (met, or due before its deadline)."""
        return percent(self.counts[R.V.PASS] + self.counts[R.V.DUE], self.judged)

    def __getitem__(self, verdict: str) -> int:
        return self.counts[verdict]


@dataclass
class Rates:
    label: str = ""
    town_id: int | None = None
    schools: int = 0
    compliant: int = 0
    rules: dict[str, RuleRate] = field(default_factory=dict)

    @property
    def compliance_rate(self) -> Decimal | None:
        return percent(self.compliant, self.schools)

    @property
    def rule_list(self) -> list[RuleRate]:
        return [self.rules[k] for k in R.RULES if k in self.rules]

    def add(self, result) -> None:
        self.schools += 1
        self.compliant += result.is_compliant
        for rule, verdict in result.outcomes():
            rate = self.rules.get(rule)
            if rate is None:
                rate = self.rules[rule] = RuleRate(key=rule, label=str(R.RULES[rule].label))
            rate.counts[verdict] += 1


@dataclass
class SchoolRow:
    pk: int
    name: str
    town_name: str
    result: object

    @property
    def lacking(self) -> list[tuple[str, str, str, list[str]]]:
        """(rule, its label, verdict, what is missing) of the rules not met."""
        return [
            (
                v["rule"],
                str(R.RULES[v["rule"]].label),
                v["verdict"],
                [R.render_message(m) for m in v["missing"]],
            )
            for v in self.result.verdicts
            if v["verdict"] != R.V.PASS
        ]


@dataclass
class Overview:
    rates: Rates
    towns: list[Rates]
    rows: list[SchoolRow]
    term: object = None
    town: Town | None = None


def _matches(result, rule: str, verdict: str) -> bool:
    if rule:
        v = result.verdict_of(rule)
        return v is not None and (not verdict or v["verdict"] == verdict)
    return not verdict or any(judged == verdict for _rule, judged in result.outcomes())


def _overview(schools, on, *, rule="", verdict="", rows=True) -> Overview:
    results = compliance.evaluate_schools([s[0] for s in schools], today=on, stored=True)
    rates, towns, listed = Rates(), {}, []
    for pk, name, town_id, town_name in schools:
        result = results.get(pk)
        if result is None:
            continue
        rates.add(result)
        towns.setdefault(town_id, Rates(label=town_name or "", town_id=town_id)).add(result)
        if rows and _matches(result, rule, verdict):
            listed.append(SchoolRow(pk, name, town_name or "", result))
    terms = {id(r.term): r.term for r in results.values() if r.term is not None}
    term = next(iter(terms.values())) if len(terms) == 1 else None
    return Overview(rates=rates, towns=list(towns.values()), rows=listed, term=term)


def _schools(ids, **filters) -> list[tuple]:
    return list(
        Organization.objects.filter(pk__in=ids, kind__in=SCHOOL_KINDS, is_active=True, **filters)
        .order_by("town__code", "name", "pk")
        .values_list("pk", "name", "town_id", "town__name")
    )


def town_overview(*, actor, town_id: int, rule="", verdict="", on=None) -> Overview:
    ids = require_overview_reader(actor)
    town = Town.objects.filter(pk=check_id(town_id)).first()
    schools = _schools(ids, town_id=town_id) if town is not None else []
    if not schools:
        raise Http404
    overview = _overview(schools, on, rule=rule, verdict=verdict)
    overview.rates.label, overview.rates.town_id, overview.town = town.name, town.pk, town
    return overview


def schools_overview(*, actor, rule="", verdict="", on=None) -> Overview:
    """Every school the reader sees, with the figures per town; the schools listed only
    when a rule or verdict is chosen (a county has a thousand)."""
    ids = require_overview_reader(actor)
    filtered = bool(rule or verdict)
    return _overview(_schools(ids), on, rule=rule, verdict=verdict, rows=filtered)


def area_overview(*, school_ids, on=None, rows: bool = False) -> Overview:
    """Every active school of `school_ids`, whose reading the caller has already decided
    (the monthly report of a town or the county, ADR 0033), evaluated on `on`, with the
    figures per town; with `rows`, every school listed."""
    return _overview(_schools(frozenset(school_ids)), on, rows=rows)
