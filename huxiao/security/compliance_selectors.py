"""Reads of computed compliance (issue 7 item 4; ADR 0028 "Compliance").

Who reads what:
- **A school's compliance** is read by whoever may view the school (its members, its
  police, its town's offices, the county); a school out of reach is 404, someone who may
  view no school at all gets 403.
- **The overviews** (town, county, a police station's list) are for the offices and the
  police: school members get 403 (their page is their school's). Every rate is over the
  schools the reader can see; a town without any such school is 404.
- **The rule set** is kept by the county-level offices holding MANAGE_SECURITY_RULES of
  their county; a town-level office gets 403 (`compliance_services.require_rules_manager`).

The overviews read `SchoolCompliance` rows and school names only (two queries whatever the
number of schools): the evaluation did the work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import TextField
from django.db.models.functions import Cast
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from huxiao.core.roles import SCHOOL_KINDS, Action, OrgKind, role_allows
from huxiao.core.scoping import memberships_of, visible_school_ids
from huxiao.orgs.models import Organization, Town
from huxiao.security import rules as R
from huxiao.security.choices import Verdict
from huxiao.security.models import SchoolCompliance

MAX_ID = 2**63 - 1
POLICE = (OrgKind.POLICE_STATION, OrgKind.POLICE_POST)
# The headline rates besides 达标率 and 联网率: 保安配备率 and 封闭化管理率.
HEADLINE_RULES = ("guards_staffing", "closed_management")


def _check_id(value: int) -> int:
    if not 0 < value <= MAX_ID:
        raise Http404
    return value


# ------------------------------------------------------------------ who


def require_reader(actor) -> frozenset[int]:
    """The schools the actor may view; 403 when there is none."""
    ids = visible_school_ids(actor, Action.VIEW)
    if not ids:
        raise PermissionDenied(_("Your role does not allow this action."))
    return ids


def _overview_memberships(actor) -> list:
    return [
        m
        for m in memberships_of(actor)
        if m.organization.is_active
        and m.organization.kind not in SCHOOL_KINDS
        and role_allows(m.role, Action.VIEW, county_level=m.organization.is_county_level)
    ]


def is_overview_reader(actor) -> bool:
    if getattr(actor, "is_superuser", False):
        return True
    return bool(_overview_memberships(actor)) and bool(visible_school_ids(actor, Action.VIEW))


def require_overview_reader(actor) -> frozenset[int]:
    """The schools an office or police reader sees; 403 for school members and others."""
    if not is_overview_reader(actor):
        raise PermissionDenied(_("The overview is for the offices and the police."))
    return visible_school_ids(actor, Action.VIEW)


def home_target(actor) -> tuple[str, tuple]:
    """The widest compliance page of the actor: (URL name, args). County-level office →
    county; town office → its town; police → their schools; school → its own page."""
    if getattr(actor, "is_superuser", False):
        return "security:compliance_county", ()
    overview = _overview_memberships(actor)
    if any(m.organization.is_county_level for m in overview):
        return "security:compliance_county", ()
    towns = [
        m.organization.town_id
        for m in overview
        if m.organization.kind not in POLICE and m.organization.town_id
    ]
    if towns:
        return "security:compliance_town", (towns[0],)
    if overview:
        return "security:compliance_schools", ()
    ids = visible_school_ids(actor, Action.VIEW)
    own = [
        m.organization_id
        for m in memberships_of(actor)
        if m.organization.kind in SCHOOL_KINDS and m.organization_id in ids
    ]
    if own:
        return "security:compliance_school", (own[0],)
    raise PermissionDenied(_("Your role does not allow this action."))


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
    required: object
    actual: object
    area: str
    raw: dict


def verdict_rows(record: SchoolCompliance | None) -> list[VerdictRow]:
    """The stored verdicts rendered in the active language, in rule order."""
    rows = []
    for v in (record.verdicts if record is not None else None) or []:
        if not isinstance(v, dict):
            continue
        key = str(v.get("rule", ""))
        kind = R.RULES.get(key)
        verdict = v.get("verdict", Verdict.NO_DATA)
        rows.append(
            VerdictRow(
                key=key,
                label=str(kind.label) if kind else key,
                description=str(kind.description) if kind else "",
                verdict=verdict,
                verdict_label=str(Verdict(verdict).label) if verdict in Verdict.values else verdict,
                evidence=[R.render_message(m) for m in v.get("evidence") or []],
                missing=[R.render_message(m) for m in v.get("missing") or []],
                required=v.get("required"),
                actual=v.get("actual"),
                area=kind.area if kind else "",
                raw=v,
            )
        )
    return rows


def school_compliance(*, actor, school_id: int) -> tuple[Organization, SchoolCompliance | None]:
    """The school (in VIEW scope, else 404) and its last evaluation (None: never)."""
    ids = require_reader(actor)
    _check_id(school_id)
    if school_id not in ids:
        raise Http404
    school = (
        Organization.objects.filter(pk=school_id, kind__in=SCHOOL_KINDS)
        .select_related("town", "region")
        .first()
    )
    if school is None:
        raise Http404
    record = SchoolCompliance.objects.visible_to(actor, Action.VIEW).filter(school=school).first()
    return school, record


# ------------------------------------------------------------------ overviews


def percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass
class RuleRate:
    key: str
    label: str
    counts: dict = field(default_factory=lambda: {v: 0 for v in Verdict.values})

    @property
    def passed(self) -> int:
        return self.counts[Verdict.PASS]

    @property
    def failed(self) -> int:
        return self.counts[Verdict.FAIL]

    @property
    def not_applicable(self) -> int:
        return self.counts[Verdict.NOT_APPLICABLE]

    @property
    def no_data(self) -> int:
        return self.counts[Verdict.NO_DATA]

    applicable: int = 0

    @property
    def rate(self) -> Decimal | None:
        return percent(self.passed, self.applicable)


@dataclass(slots=True)
class Record:
    """What an overview keeps of one SchoolCompliance row: its figures, each rule's verdict
    and what the failed rules lack, already rendered. The decoded JSON is dropped as soon as
    the row is read, so a page never holds thousands of decoded objects at once (their
    survival is what sets off the garbage collector's full passes)."""

    school_id: int
    evaluated_at: object
    is_compliant: bool
    is_networked: bool
    passed: int
    failed: int
    no_data: int
    verdict_of: dict[str, str]
    lacking: list[tuple[str, str, list[str]]]  # (rule, label, what is missing) if failed
    no_data_rules: list[str]  # labels

    @property
    def judged(self) -> int:
        return self.passed + self.failed + self.no_data

    def pairs(self):
        return self.verdict_of.items()


# "rule" and "verdict" of each stored verdict, read from the column's JSON text. Both key
# orders seen (SQLite keeps ours: rule, verdict; PostgreSQL's jsonb sorts keys by length:
# rule, …, verdict) put an object's rule before its verdict, and no other key of a verdict
# (messages hold "key" and "params") is named so; a quote inside a value is escaped, so the
# pattern cannot match inside one.
_PAIR = re.compile(r'"(?:rule|verdict)":\s*"([a-z0-9_]+)"')


@dataclass(slots=True)
class Summary:
    """What the rates need of one row, without decoding its JSON: a county's thousand rows
    decoded make some hundred thousand objects, and the garbage collector's full passes
    they trigger cost more than the page."""

    school_id: int
    is_compliant: bool
    is_networked: bool
    text: str

    def pairs(self):
        # Strings only (no tuple per match): rule, verdict, rule, verdict, …
        values = _PAIR.findall(self.text or "")
        for i in range(0, len(values) - 1, 2):
            yield values[i], values[i + 1]


RECORD_COLUMNS = (
    "school_id",
    "evaluated_at",
    "is_compliant",
    "is_networked",
    "passed",
    "failed",
    "no_data",
    "verdicts",
)


@dataclass
class Rates:
    """达标率, 联网率, 保安配备率, 封闭化管理率 and the pass counts per rule of a set of
    schools. Schools never evaluated count in every denominator as not meeting."""

    label: str = ""
    town_id: int | None = None
    schools: int = 0
    evaluated: int = 0
    compliant: int = 0
    networked: int = 0
    rules: dict[str, RuleRate] = field(default_factory=dict)

    @property
    def compliance_rate(self) -> Decimal | None:
        return percent(self.compliant, self.schools)

    @property
    def network_rate(self) -> Decimal | None:
        return percent(self.networked, self.schools)

    def rule_rate(self, key: str) -> Decimal | None:
        rate = self.rules.get(key)
        return rate.rate if rate is not None else None

    @property
    def staffing_rate(self) -> Decimal | None:
        return self.rule_rate("guards_staffing")

    @property
    def closed_rate(self) -> Decimal | None:
        return self.rule_rate("closed_management")

    @property
    def rule_list(self) -> list[RuleRate]:
        return [self.rules[k] for k in R.RULES if k in self.rules]

    @property
    def not_evaluated(self) -> int:
        return self.schools - self.evaluated

    def add(self, record, labels: dict[str, str]) -> None:
        """Count one school: its Record, a Summary, or None (never evaluated)."""
        self.schools += 1
        if record is None:
            return
        self.evaluated += 1
        self.compliant += record.is_compliant
        self.networked += record.is_networked
        rules = self.rules
        for key, verdict in record.pairs():
            rate = rules.get(key)
            if rate is None:
                if key not in labels:
                    continue
                rate = rules[key] = RuleRate(key=key, label=labels[key])
            if verdict in rate.counts:
                rate.counts[verdict] += 1

    def close(self) -> Rates:
        """Denominators per rule: the schools it applies to (never-evaluated ones
        included)."""
        for rate in self.rules.values():
            rate.applicable = self.schools - rate.not_applicable
        return self


@dataclass(slots=True)
class SchoolRef:
    pk: int
    name: str
    town_id: int | None
    town_name: str


@dataclass
class SchoolRow:
    school: SchoolRef
    record: Record | None
    url: str

    @property
    def lacking(self) -> list[tuple[str, str]]:
        """(rule label, what is missing) of the failed rules."""
        if self.record is None:
            return []
        return [(label, "; ".join(missing)) for _key, label, missing in self.record.lacking]

    @property
    def no_data(self) -> str:
        return ", ".join(self.record.no_data_rules) if self.record is not None else ""


def _labels() -> dict[str, str]:
    """Rule labels in the active language, translated once per page."""
    return {key: str(kind.label) for key, kind in R.RULES.items()}


def _schools(ids, **filters) -> list[SchoolRef]:
    rows = (
        Organization.objects.filter(pk__in=ids, kind__in=SCHOOL_KINDS, is_active=True, **filters)
        .order_by("town__code", "name", "pk")
        .values_list("pk", "name", "town_id", "town__name")
    )
    return [SchoolRef(pk, name, town_id, town_name or "") for pk, name, town_id, town_name in rows]


def _summaries(actor, **filters) -> dict[int, Summary]:
    rows = (
        SchoolCompliance.objects.visible_to(actor, Action.VIEW)
        .filter(school__is_active=True, **filters)
        .order_by()
        .annotate(text=Cast("verdicts", output_field=TextField()))
        .values_list("school_id", "is_compliant", "is_networked", "text")
    )
    return {row[0]: Summary(*row) for row in rows}


def _record(row, labels: dict[str, str]) -> Record:
    *figures, verdicts = row
    verdict_of, lacking, no_data = {}, [], []
    for v in verdicts if isinstance(verdicts, list) else ():
        if not isinstance(v, dict):
            continue
        key, verdict = v.get("rule"), v.get("verdict")
        label = labels.get(key)
        if label is None:
            continue
        verdict_of[key] = verdict
        if verdict == Verdict.FAIL:
            lacking.append((key, label, [R.render_message(m) for m in v.get("missing") or []]))
        elif verdict == Verdict.NO_DATA:
            no_data.append(label)
    return Record(*figures, verdict_of=verdict_of, lacking=lacking, no_data_rules=no_data)


def _records(actor, labels: dict[str, str], **filters) -> dict[int, Record]:
    """The rows in scope, read one chunk at a time and reduced to Records."""
    rows = (
        SchoolCompliance.objects.visible_to(actor, Action.VIEW)
        .filter(school__is_active=True, **filters)
        .order_by()
        .values_list(*RECORD_COLUMNS)
    )
    return {row[0]: _record(row, labels) for row in rows.iterator(chunk_size=100)}


@dataclass
class Overview:
    rates: Rates
    rows: list[SchoolRow]
    town: Town | None = None
    towns: list[Rates] = field(default_factory=list)


def _matches(record: Record | None, rule: str, verdict: str) -> bool:
    if not rule and not verdict:
        return True
    if record is None:
        return False
    if rule:
        found = record.verdict_of.get(rule)
        return found is not None and (not verdict or found == verdict)
    return verdict in record.verdict_of.values()


def _overview(schools, records, labels, *, rule: str = "", verdict: str = "", rows=True):
    url = reverse("security:compliance_school", args=[MAX_ID])
    rates = Rates()
    towns: dict[int | None, Rates] = {}
    listed = []
    for school in schools:
        record = records.get(school.pk)
        rates.add(record, labels)
        town_rates = towns.get(school.town_id)
        if town_rates is None:
            town_rates = towns[school.town_id] = Rates(
                label=school.town_name, town_id=school.town_id
            )
        town_rates.add(record, labels)
        if rows and _matches(record, rule, verdict):
            listed.append(SchoolRow(school, record, url.replace(str(MAX_ID), str(school.pk))))
    return rates.close(), [t.close() for t in towns.values()], listed


def town_overview(*, actor, town_id: int, rule: str = "", verdict: str = "") -> Overview:
    """A town's rates over the reader's schools in it and its schools table (filtered by
    `rule` and `verdict`); 404 when the reader sees no school of the town."""
    ids = require_overview_reader(actor)
    _check_id(town_id)
    town = Town.objects.filter(pk=town_id).first()
    if town is None:
        raise Http404
    schools = _schools(ids, town_id=town_id)
    if not schools:
        raise Http404
    labels = _labels()
    records = _records(actor, labels, school__town_id=town_id)
    rates, _towns, rows = _overview(schools, records, labels, rule=rule, verdict=verdict)
    rates.label, rates.town_id = town.name, town.pk
    return Overview(rates=rates, rows=rows, town=town)


def schools_overview(*, actor, rule: str = "", verdict: str = "") -> Overview:
    """Every school the reader sees (a police station's list), with the rates per town."""
    ids = require_overview_reader(actor)
    schools = _schools(ids)
    labels = _labels()
    records = _records(actor, labels)
    rates, towns, rows = _overview(schools, records, labels, rule=rule, verdict=verdict)
    return Overview(rates=rates, rows=rows, towns=towns)


def county_overview(*, actor) -> Overview:
    """The reader's schools by town: the rates of each town and of all of them."""
    ids = require_overview_reader(actor)
    schools = _schools(ids)
    rates, towns, _rows = _overview(schools, _summaries(actor), _labels(), rows=False)
    return Overview(rates=rates, rows=[], towns=towns)


def area_overview(*, school_ids, rows: bool = False) -> Overview:
    """The rates of a set of schools whose reading the caller has already decided (the
    monthly report of a town or the county, ADR 0033), overall and per town, as the county
    overview computes them; with `rows`, one row per school (its figures only: the record
    is a `Summary`, no verdict decoded). Two queries whatever the number of schools."""
    ids = frozenset(school_ids)
    schools = _schools(ids)
    found = (
        SchoolCompliance.objects.filter(school_id__in=[s.pk for s in schools])
        .order_by()
        .annotate(text=Cast("verdicts", output_field=TextField()))
        .values_list("school_id", "is_compliant", "is_networked", "text")
    )
    summaries = {row[0]: Summary(*row) for row in found}
    rates, towns, listed = _overview(schools, summaries, _labels(), rows=rows)
    return Overview(rates=rates, rows=listed, towns=towns)
