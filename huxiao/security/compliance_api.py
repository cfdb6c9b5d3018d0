"""REST handlers of computed compliance (issue 7 item 4; ADR 0028 "Compliance"): parse →
call a selector/service → return, with the same rights as the pages.

Texts (rule labels, evidence, what is missing) come in the caller's language; the stored
message keys and parameters come along (`evidence_data`, `missing_data`) for clients that
render their own. Someone who may view no school gets 403, an overview for a school member
403, a school or town out of reach 404, the rules for anyone but the county's offices 403,
bad input 400 with the fields in `errors`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import Field, StrictBool

from huxiao.core.api import DbId, ErrorOut
from huxiao.security import compliance_selectors as selectors
from huxiao.security import compliance_services as services
from huxiao.security import rules as R
from huxiao.security.choices import Verdict

router = Router(tags=["security"])


# ------------------------------------------------------------------ schemas


class MessageOut(Schema):
    key: str
    params: dict[str, Any]


class VerdictOut(Schema):
    rule: str
    label: str
    verdict: str
    verdict_label: str
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
    evaluated_at: dt.datetime | None
    is_compliant: bool
    is_networked: bool
    passed: int
    failed: int
    no_data: int
    verdicts: list[VerdictOut]


class RuleRateOut(Schema):
    rule: str
    label: str
    passed: int
    failed: int
    no_data: int
    not_applicable: int
    rate: Decimal | None


class RatesOut(Schema):
    town_id: int | None = None
    label: str = ""
    schools: int
    evaluated: int
    compliant: int
    networked: int
    compliance_rate: Decimal | None
    network_rate: Decimal | None
    staffing_rate: Decimal | None
    closed_rate: Decimal | None
    rules: list[RuleRateOut]


class LackOut(Schema):
    rule: str
    label: str
    missing: list[str]


class SchoolRowOut(Schema):
    school_id: int
    school_name: str
    evaluated_at: dt.datetime | None
    is_compliant: bool
    is_networked: bool
    passed: int
    failed: int
    no_data: int
    lacking: list[LackOut]


class TownOut(Schema):
    town_id: int
    town_name: str
    rates: RatesOut
    schools: list[SchoolRowOut]


class CountyOut(Schema):
    rates: RatesOut
    towns: list[RatesOut]


class ParamOut(Schema):
    name: str
    label: str
    value: float | int
    default: float | int
    minimum: float | int
    maximum: float | int


class RuleOut(Schema):
    key: str
    # The county the rule belongs to (a keeper of several names it with `region_id`).
    region_id: int
    label: str
    description: str
    enabled: bool
    order: int
    params: list[ParamOut]
    updated_at: dt.datetime | None


class RuleSavedOut(RuleOut):
    evaluated: int | None


class RuleListOut(Schema):
    region_id: int
    region_name: str
    rules: list[RuleOut]


class RulePatch(Schema):
    """Only what is given changes; parameters not given keep their value."""

    enabled: StrictBool | None = None
    # Checked by the service (numbers within each parameter's bounds), not coerced here.
    params: dict[str, Any] | None = Field(None, max_length=50)


class EvaluatedOut(Schema):
    evaluated: int
    compliance: SchoolComplianceOut


# ------------------------------------------------------------------ payloads


def _messages(items) -> list[dict]:
    return [
        {"key": str(m.get("key", "")), "params": dict(m.get("params") or {})}
        for m in items or []
        if isinstance(m, dict)
    ]


def school_payload(school, record) -> dict:
    return {
        "school_id": school.pk,
        "school_name": school.name,
        "town_id": school.town_id,
        "evaluated_at": record.evaluated_at if record else None,
        "is_compliant": bool(record and record.is_compliant),
        "is_networked": bool(record and record.is_networked),
        "passed": record.passed if record else 0,
        "failed": record.failed if record else 0,
        "no_data": record.no_data if record else 0,
        "verdicts": [
            {
                "rule": row.key,
                "label": row.label,
                "verdict": row.verdict,
                "verdict_label": row.verdict_label,
                "evidence": row.evidence,
                "missing": row.missing,
                "evidence_data": _messages(row.raw.get("evidence")),
                "missing_data": _messages(row.raw.get("missing")),
                "required": row.required,
                "actual": row.actual,
            }
            for row in selectors.verdict_rows(record)
        ],
    }


def rates_payload(rates) -> dict:
    return {
        "town_id": rates.town_id,
        "label": rates.label,
        "schools": rates.schools,
        "evaluated": rates.evaluated,
        "compliant": rates.compliant,
        "networked": rates.networked,
        "compliance_rate": rates.compliance_rate,
        "network_rate": rates.network_rate,
        "staffing_rate": rates.staffing_rate,
        "closed_rate": rates.closed_rate,
        "rules": [
            {
                "rule": r.key,
                "label": r.label,
                "passed": r.passed,
                "failed": r.failed,
                "no_data": r.no_data,
                "not_applicable": r.not_applicable,
                "rate": r.rate,
            }
            for r in rates.rule_list
        ],
    }


def row_payload(row) -> dict:
    record = row.record
    return {
        "school_id": row.school.pk,
        "school_name": row.school.name,
        "evaluated_at": record.evaluated_at if record else None,
        "is_compliant": bool(record and record.is_compliant),
        "is_networked": bool(record and record.is_networked),
        "passed": record.passed if record else 0,
        "failed": record.failed if record else 0,
        "no_data": record.no_data if record else 0,
        "lacking": [
            {"rule": key, "label": label, "missing": missing}
            for key, label, missing in (record.lacking if record else [])
        ],
    }


def rule_payload(rule) -> dict:
    kind = R.RULES[rule.key]
    values = R.effective_params(rule.key, rule.params)
    return {
        "key": rule.key,
        "region_id": rule.region_id,
        "label": str(kind.label),
        "description": str(kind.description),
        "enabled": rule.enabled,
        "order": rule.order,
        "params": [
            {
                "name": name,
                "label": str(spec.label),
                "value": values[name],
                "default": spec.default,
                "minimum": spec.minimum,
                "maximum": spec.maximum,
            }
            for name, spec in kind.params.items()
        ],
        "updated_at": rule.updated_at,
    }


# ------------------------------------------------------------------ compliance

_READ = {200: SchoolComplianceOut, 403: ErrorOut, 404: ErrorOut}


@router.get("/security/compliance/schools/{school_id}", response=_READ)
def compliance_school(request, school_id: DbId):
    """A school's last evaluation: each rule's verdict, evidence and what is missing."""
    school, record = selectors.school_compliance(actor=request.auth, school_id=school_id)
    return school_payload(school, record)


@router.post(
    "/security/compliance/schools/{school_id}/evaluate",
    response={200: EvaluatedOut, 403: ErrorOut, 404: ErrorOut},
)
def compliance_reevaluate(request, school_id: DbId):
    """Evaluate the school now (its MANAGE_SECURITY members or the county's rule keepers)."""
    evaluated = services.compliance_reevaluate(actor=request.auth, school_id=school_id)
    school, record = selectors.school_compliance(actor=request.auth, school_id=school_id)
    return {"evaluated": evaluated, "compliance": school_payload(school, record)}


@router.get(
    "/security/compliance/towns/{town_id}",
    response={200: TownOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def compliance_town(
    request, town_id: DbId, rule: str | None = None, verdict: Verdict | None = None
):
    """A town's rates over the caller's schools in it and its schools with what each
    lacks; `rule` and `verdict` narrow the schools (not the rates)."""
    if rule and rule not in R.RULES:
        raise ValidationError({"rule": [_("Unknown rule.")]})
    overview = selectors.town_overview(
        actor=request.auth, town_id=town_id, rule=rule or "", verdict=verdict or ""
    )
    return {
        "town_id": overview.town.pk,
        "town_name": overview.town.name,
        "rates": rates_payload(overview.rates),
        "schools": [row_payload(row) for row in overview.rows],
    }


@router.get("/security/compliance/county", response={200: CountyOut, 403: ErrorOut})
def compliance_county(request):
    """The caller's schools by town: each town's rates and those of all of them."""
    overview = selectors.county_overview(actor=request.auth)
    return {
        "rates": rates_payload(overview.rates),
        "towns": [rates_payload(t) for t in overview.towns],
    }


# ------------------------------------------------------------------ rules


@router.get("/security/rules", response={200: RuleListOut, 403: ErrorOut, 404: ErrorOut})
def rule_list(request, region_id: DbId | None = None):
    """The county's rule set (county-level offices with MANAGE_SECURITY_RULES): the
    keeper's county, or `region_id` among theirs (another county is 404)."""
    region, rules = services.rule_list(actor=request.auth, region_id=region_id)
    return {
        "region_id": region.pk,
        "region_name": region.name,
        "rules": [rule_payload(r) for r in rules],
    }


@router.get("/security/rules/{key}", response={200: RuleOut, 403: ErrorOut, 404: ErrorOut})
def rule_get(request, key: str, region_id: DbId | None = None):
    return rule_payload(services.rule_get(actor=request.auth, key=key, region_id=region_id))


@router.patch(
    "/security/rules/{key}",
    response={200: RuleSavedOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def rule_update(request, key: str, payload: RulePatch, region_id: DbId | None = None):
    """Switch a rule on or off and set its parameters; the county is evaluated again after
    the commit (`evaluated`: how many schools; null when it waits for an outer commit).
    `region_id` names the county for a keeper of several (default: their first)."""
    services.rule_get(actor=request.auth, key=key, region_id=region_id)
    change = {}
    given = payload.model_dump(exclude_unset=True)
    if given.get("enabled") is not None:
        change["enabled"] = given["enabled"]
    if given.get("params") is not None:
        change["params"] = given["params"]
    saved = services.rules_update(actor=request.auth, region=region_id, changes={key: change})
    rule = services.rule_get(actor=request.auth, key=key, region_id=region_id)
    return {**rule_payload(rule), "evaluated": saved.evaluated}
