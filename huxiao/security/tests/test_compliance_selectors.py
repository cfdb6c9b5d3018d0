"""The overview reads: the county page's undecoded rows give the same rates as the decoded
ones, whatever key order the database hands the JSON back in."""

from __future__ import annotations

import json

import pytest

from huxiao.core.roles import Action
from huxiao.core.scoping import visible_school_ids
from huxiao.security import compliance
from huxiao.security import compliance_selectors as sel
from huxiao.security.tests import compliance_fixtures as fx

VERDICTS = [
    {
        "rule": "guards_staffing",
        "verdict": "fail",
        "evidence": [{"key": "guards_full_time", "params": {"n": 3}}],
        "missing": [{"key": "guards_need", "params": {"n": 1}}],
        "required": 4,
        "actual": 3,
    },
    {
        "rule": "guards_certified",
        "verdict": "fail",
        # A name that looks like a key: escaped in the JSON text, never matched.
        "missing": [{"key": "guard_not_filed", "params": {"name": '"rule": "x" "verdict": "y"'}}],
        "evidence": [],
        "required": 1,
        "actual": 0,
    },
    {"rule": "dormitory_managers", "verdict": "na", "evidence": [], "missing": []},
    {"rule": "closed_management", "verdict": "no_data", "evidence": [], "missing": []},
]


def _jsonb_text(value) -> str:
    """PostgreSQL's jsonb text: keys of each object sorted by length, then bytes."""

    def order(obj):
        if isinstance(obj, dict):
            return {k: order(obj[k]) for k in sorted(obj, key=lambda k: (len(k), k))}
        if isinstance(obj, list):
            return [order(x) for x in obj]
        return obj

    return json.dumps(order(value), ensure_ascii=False)


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(VERDICTS),
        json.dumps(VERDICTS, ensure_ascii=False),
        json.dumps(VERDICTS, separators=(",", ":")),
        _jsonb_text(VERDICTS),
    ],
)
def test_summary_pairs_in_any_key_order(text):
    summary = sel.Summary(school_id=1, is_compliant=False, is_networked=False, text=text)
    assert list(summary.pairs()) == [(v["rule"], v["verdict"]) for v in VERDICTS]


def test_summary_of_nothing():
    assert list(sel.Summary(1, False, False, None).pairs()) == []
    assert list(sel.Summary(1, False, False, "[]").pairs()) == []


@pytest.mark.django_db
def test_county_rates_equal_the_decoded_rates(world):
    fx.make_compliant(world.school)
    world.other_school.enrolment = 1600
    world.other_school.save()
    fx.guard(world.other_school, certificate="")
    compliance.evaluate_region(world.region.pk, now=fx.NOW)
    actor = world.users["county"]
    schools = sel._schools(visible_school_ids(actor, Action.VIEW))
    labels = sel._labels()
    fast, fast_towns, _ = sel._overview(schools, sel._summaries(actor), labels, rows=False)
    slow, slow_towns, _ = sel._overview(schools, sel._records(actor, labels), labels, rows=False)

    def figures(rates):
        return (
            rates.schools,
            rates.evaluated,
            rates.compliant,
            rates.networked,
            {k: dict(r.counts) for k, r in rates.rules.items()},
        )

    assert figures(fast) == figures(slow)
    assert [figures(t) for t in fast_towns] == [figures(t) for t in slow_towns]
    assert fast.rules["guards_certified"].failed == 1
    overview = sel.county_overview(actor=actor)
    assert figures(overview.rates) == figures(slow)
