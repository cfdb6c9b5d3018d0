"""REST handlers of activity compliance, terms, rules and the calendar (issue 8 item 3;
ADR 0030 "Compliance"): parse → call a selector/service → return, with the pages' rights.

- GET  /drills/compliance/schools/{id}?on=        a school's verdicts for the term of `on`
- GET  /drills/compliance/schools/{id}/flags      its reminders and flags (open or not)
- GET  /drills/compliance/towns/{id}?rule=&verdict=&on=   a town's figures and schools
- GET  /drills/compliance/overview?rule=&verdict=&on=     the caller's schools (offices,
                                                  police): figures per town and rule; the
                                                  schools when a rule or verdict is given
- GET  /drills/calendar?school_id=&month=YYYY-MM  a school's month
- GET  /drills/rules, GET/PATCH /drills/rules/{key}       the county's rules (keepers)
- GET/POST /drills/terms, GET/PATCH/DELETE /drills/terms/{id}   the county's terms

Texts come in the caller's language; the stored message keys and parameters come along for
clients that render their own. Out of scope 404; the wrong role 403; bad input 400 with the
fields in `errors`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from huxiao.core.api import DbId, ErrorOut
from huxiao.drills import calendar_selectors as cal
from huxiao.drills import compliance_selectors as selectors
from huxiao.drills import compliance_services as services
from huxiao.drills import rules as R
from huxiao.drills.compliance_forms import CalendarForm, DayForm
from huxiao.security.compliance_api import (
    MessageOut,
    RuleListOut,
    RuleOut,
    RulePatch,
)

router = Router(tags=["drills"])
_ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}

# ------------------------------------------------------------------ schemas


class TermOut(Schema):
    id: int | None
    region_id: int | None
    name: str
    starts_on: dt.date
    ends_on: dt.date
    breaks: list[list[str]]
    is_default: bool


class VerdictOut(Schema):
    rule: str
    label: str
    verdict: str
    verdict_label: str
    deadline: dt.date | None
    evidence: list[str]
    missing: list[str]
    evidence_data: list[MessageOut]
    missing_data: list[MessageOut]
    required: Any = None
    actual: Any = None


class SchoolComplianceOut(Schema):
    school_id: int
    school_name: str
    town_id: int | None
    term: TermOut | None
    is_compliant: bool
    missing_count: int
    due_count: int
    verdicts: list[VerdictOut]


class FlagOut(Schema):
    id: int
    rule: str
    label: str
    period: str
    state: str
    missing: str
    at: dt.datetime
    is_open: bool


class RuleRateOut(Schema):
    rule: str
    label: str
    passed: int
    due: int
    failed: int
    no_data: int
    rate: Decimal | None


class RatesOut(Schema):
    town_id: int | None = None
    label: str = ""
    schools: int
    compliant: int
    compliance_rate: Decimal | None
    rules: list[RuleRateOut]


class LackOut(Schema):
    rule: str
    label: str
    verdict: str
    missing: list[str]


class SchoolRowOut(Schema):
    school_id: int
    school_name: str
    is_compliant: bool
    missing_count: int
    due_count: int
    lacking: list[LackOut]


class OverviewOut(Schema):
    town_id: int | None = None
    town_name: str = ""
    term: TermOut | None
    rates: RatesOut
    towns: list[RatesOut]
    schools: list[SchoolRowOut]


class ActivityOut(Schema):
    id: int
    kind: str
    status: str
    title: str
    date: dt.date
    starts_at: dt.datetime


class DayOut(Schema):
    date: dt.date
    in_month: bool
    in_term: bool
    holiday: bool
    activities: list[ActivityOut]


class WeekOut(Schema):
    week: str
    monday: dt.date
    school_week: bool
    drills: int
    state: str
    days: list[DayOut]


class MonthOut(Schema):
    school_id: int
    month: str
    terms: list[TermOut]
    weeks: list[WeekOut]


class TermListOut(Schema):
    region_id: int
    region_name: str
    uses_default_calendar: bool
    terms: list[TermOut]


class TermIn(Schema):
    """Checked by the service, not coerced here (messages in the caller's language)."""

    name: Any = None
    starts_on: Any = None
    ends_on: Any = None
    breaks: Any = None


# ------------------------------------------------------------------ payloads


def _messages(items) -> list[dict]:
    return [
        {"key": str(m.get("key", "")), "params": dict(m.get("params") or {})}
        for m in items or []
        if isinstance(m, dict)
    ]


def term_payload(term) -> dict | None:
    if term is None:
        return None
    return {
        "id": term.pk,
        "region_id": term.region_id,
        "name": term.name,
        "starts_on": term.starts_on,
        "ends_on": term.ends_on,
        "breaks": [[str(a), str(b)] for a, b in term.breaks or []],
        "is_default": term.pk is None,
    }


def _day_param(on: str | None) -> dt.date | None:
    form = DayForm({"on": on or ""})
    if not form.is_valid():
        raise ValidationError({"on": form.errors["on"]})
    return form.cleaned_data["on"]


def _filters(rule, verdict, on) -> dict:
    errors = {}
    if rule and rule not in R.RULES:
        errors["rule"] = [_("Unknown rule.")]
    if verdict and verdict not in R.V.values:
        errors["verdict"] = [_("Unknown verdict.")]
    if errors:
        raise ValidationError(errors)
    return {"rule": rule or "", "verdict": verdict or "", "on": _day_param(on)}


def school_payload(school, result) -> dict:
    return {
        "school_id": school.pk,
        "school_name": school.name,
        "town_id": school.town_id,
        "term": term_payload(result.term),
        "is_compliant": result.is_compliant,
        "missing_count": result.missing_count,
        "due_count": result.due_count,
        "verdicts": [
            {
                "rule": row.key,
                "label": row.label,
                "verdict": row.verdict,
                "verdict_label": row.verdict_label,
                "deadline": row.deadline,
                "evidence": row.evidence,
                "missing": row.missing,
                "evidence_data": _messages(row.raw["evidence"]),
                "missing_data": _messages(row.raw["missing"]),
                "required": row.raw.get("required"),
                "actual": row.raw.get("actual"),
            }
            for row in selectors.verdict_rows(result)
        ],
    }


def rates_payload(rates) -> dict:
    return {
        "town_id": rates.town_id,
        "label": rates.label,
        "schools": rates.schools,
        "compliant": rates.compliant,
        "compliance_rate": rates.compliance_rate,
        "rules": [
            {
                "rule": r.key,
                "label": r.label,
                "passed": r["pass"],
                "due": r["due"],
                "failed": r["fail"],
                "no_data": r["no_data"],
                "rate": r.rate,
            }
            for r in rates.rule_list
        ],
    }


def overview_payload(overview) -> dict:
    return {
        "town_id": overview.town.pk if overview.town else None,
        "town_name": overview.town.name if overview.town else "",
        "term": term_payload(overview.term),
        "rates": rates_payload(overview.rates),
        "towns": [rates_payload(t) for t in overview.towns],
        "schools": [
            {
                "school_id": row.pk,
                "school_name": row.name,
                "is_compliant": row.result.is_compliant,
                "missing_count": row.result.missing_count,
                "due_count": row.result.due_count,
                "lacking": [
                    {"rule": key, "label": label, "verdict": verdict, "missing": missing}
                    for key, label, verdict, missing in row.lacking
                ],
            }
            for row in overview.rows
        ],
    }


def rule_payload(rule) -> dict:
    """A county's rule with its parameters (the security rules' schema, ADR 0028)."""
    kind, values = R.RULES[rule.key], R.effective_params(rule.key, rule.params)
    params = [
        {"name": n, "label": str(p.label), "value": values[n], "default": p.default}
        | {"minimum": p.minimum, "maximum": p.maximum}
        for n, p in kind.params.items()
    ]
    fields = ("key", "region_id", "enabled", "order", "updated_at")
    texts = {"label": str(kind.label), "description": str(kind.description)}
    return {**{f: getattr(rule, f) for f in fields}, **texts, "params": params}


# ------------------------------------------------------------------ compliance


@router.get(
    "/drills/compliance/schools/{school_id}", response={200: SchoolComplianceOut, **_ERRORS}
)
def compliance_school(request, school_id: DbId, on: str | None = None):
    """A school's verdicts for the term of `on` (default today), with what is missing."""
    school, result = selectors.school_compliance(
        actor=request.auth, school_id=school_id, on=_day_param(on)
    )
    return school_payload(school, result)


@router.get(
    "/drills/compliance/schools/{school_id}/flags", response={200: list[FlagOut], **_ERRORS}
)
def compliance_flags(request, school_id: DbId, on: str | None = None):
    """The reminders and flags of the school's term of `on` (default today), newest first;
    `is_open` while what it was about is still missing."""
    school, result = selectors.school_compliance(
        actor=request.auth, school_id=school_id, on=_day_param(on)
    )
    return [
        {
            "id": row.flag.pk,
            "rule": row.flag.rule,
            "label": row.label,
            "period": row.flag.period,
            "state": row.flag.state,
            "missing": row.flag.missing,
            "at": row.flag.at,
            "is_open": row.is_open,
        }
        for row in selectors.school_flags(actor=request.auth, school=school, result=result)
    ]


@router.get("/drills/compliance/towns/{town_id}", response={200: OverviewOut, **_ERRORS})
def compliance_town(
    request,
    town_id: DbId,
    rule: str | None = None,
    verdict: str | None = None,
    on: str | None = None,
):
    """A town's figures over the caller's schools in it and its schools (narrowed by
    `rule` and `verdict`)."""
    filters = _filters(rule, verdict, on)
    return overview_payload(selectors.town_overview(actor=request.auth, town_id=town_id, **filters))


@router.get("/drills/compliance/overview", response={200: OverviewOut, **_ERRORS})
def compliance_overview(
    request, rule: str | None = None, verdict: str | None = None, on: str | None = None
):
    """Every school the caller sees: the figures per town and rule; the schools listed when
    `rule` or `verdict` is given."""
    filters = _filters(rule, verdict, on)
    return overview_payload(selectors.schools_overview(actor=request.auth, **filters))


@router.get("/drills/calendar", response={200: MonthOut, **_ERRORS})
def calendar_month(request, school_id: str | None = None, month: str | None = None):
    """A school's month: activities by day, each week's drill state, the terms."""
    form = CalendarForm({"school": school_id or "", "month": month or ""})
    if not form.is_valid():
        raise ValidationError({k: list(v) for k, v in form.errors.items()})
    school = form.cleaned_data["school"] or cal.default_school_id(request.auth)
    first = form.cleaned_data["month"] or timezone.localdate().replace(day=1)
    data = cal.calendar_month(actor=request.auth, school_id=school, month=first)
    return {
        "school_id": data.school.pk,
        "month": first.strftime("%Y-%m"),
        "terms": [term_payload(t) for t in data.terms],
        "weeks": [
            {
                "week": w.key,
                "monday": w.monday,
                "school_week": w.school_week,
                "drills": w.drills,
                "state": w.state,
                "days": [
                    {
                        "date": d.date,
                        "in_month": d.in_month,
                        "in_term": d.term is not None,
                        "holiday": d.holiday,
                        "activities": d.items,
                    }
                    for d in w.days
                ],
            }
            for w in data.weeks
        ],
    }


# ------------------------------------------------------------------ rules


@router.get("/drills/rules", response={200: RuleListOut, **_ERRORS})
def rule_list(request, region_id: DbId | None = None):
    """The county's activity rules (county-level offices with MANAGE_ACTIVITY_RULES)."""
    region, rules = services.rule_list(actor=request.auth, region_id=region_id)
    return {
        "region_id": region.pk,
        "region_name": region.name,
        "rules": [rule_payload(r) for r in rules],
    }


@router.get("/drills/rules/{key}", response={200: RuleOut, **_ERRORS})
def rule_get(request, key: str, region_id: DbId | None = None):
    return rule_payload(services.rule_get(actor=request.auth, key=key, region_id=region_id))


@router.patch("/drills/rules/{key}", response={200: RuleOut, **_ERRORS})
def rule_update(request, key: str, payload: RulePatch, region_id: DbId | None = None):
    """Switch a rule on or off and set its parameters (those given; the others keep their
    value)."""
    services.rule_get(actor=request.auth, key=key, region_id=region_id)
    given = {k: val for k, val in payload.model_dump(exclude_unset=True).items() if val is not None}
    if not given:
        raise ValidationError({"__all__": [_("Nothing to change.")]})
    services.rules_update(actor=request.auth, region=region_id, changes={key: given})
    return rule_payload(services.rule_get(actor=request.auth, key=key, region_id=region_id))


# ------------------------------------------------------------------ terms


@router.get("/drills/terms", response={200: TermListOut, **_ERRORS})
def term_list(request, region_id: DbId | None = None):
    """The county's entered terms, newest first (none: the default calendar applies)."""
    region, terms = services.term_list(actor=request.auth, region_id=region_id)
    return {
        "region_id": region.pk,
        "region_name": region.name,
        "uses_default_calendar": not terms,
        "terms": [term_payload(t) for t in terms],
    }


@router.post("/drills/terms", response={201: TermOut, **_ERRORS})
def term_create(request, payload: TermIn, region_id: DbId | None = None):
    term = services.term_create(actor=request.auth, region=region_id, **payload.model_dump())
    return Status(201, term_payload(term))


@router.get("/drills/terms/{term_id}", response={200: TermOut, **_ERRORS})
def term_get(request, term_id: DbId):
    return term_payload(services.term_get(actor=request.auth, term_id=term_id))


@router.patch("/drills/terms/{term_id}", response={200: TermOut, **_ERRORS})
def term_update(request, term_id: DbId, payload: TermIn):
    term = services.term_get(actor=request.auth, term_id=term_id)
    values = payload.model_dump(exclude_unset=True)
    return term_payload(services.term_update(actor=request.auth, term=term, **values))


@router.delete("/drills/terms/{term_id}", response={204: None, **_ERRORS})
def term_delete(request, term_id: DbId):
    services.term_delete(
        actor=request.auth, term=services.term_get(actor=request.auth, term_id=term_id)
    )
    return Status(204, None)
