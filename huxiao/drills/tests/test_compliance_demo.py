"""The demo terms and activity rules (huxiao.drills.compliance_demo): demo mode only, the
county's current term entered with the default calendar's dates (or the last one in a
holiday), the default rule set, audited, and a second run adds and changes nothing.
Loading the township takes a while, so it is checked in one test."""

from __future__ import annotations

import datetime as dt

import pytest

from huxiao.audit.models import AuditEvent
from huxiao.demo.township import REGION_CODE, DemoModeOff, load_demo_township
from huxiao.drills import compliance
from huxiao.drills.compliance_demo import load_demo_compliance_rules
from huxiao.drills.models import ActivityRule, Term
from huxiao.drills.rules import RULES
from huxiao.orgs.models import Region

pytestmark = pytest.mark.django_db


def test_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(DemoModeOff):
        load_demo_compliance_rules()
    assert not Term.objects.exists()


def test_does_nothing_without_the_township(settings):
    settings.DEMO_MODE = True
    assert load_demo_compliance_rules() == {"terms": 0, "rules": 0}
    assert not ActivityRule.objects.exists()


def snapshot():
    return (
        list(Term.objects.values_list("pk", "name", "starts_on", "ends_on", "breaks")),
        list(ActivityRule.objects.values_list("pk", "key", "enabled", "params")),
        AuditEvent.objects.count(),
    )


def test_the_demo_county(settings):
    settings.DEMO_MODE = True
    load_demo_township()
    region = Region.objects.get(code=REGION_CODE)
    # In term time: the autumn term of the default calendar, holidays and all.
    first = load_demo_compliance_rules(today=dt.date(2026, 11, 30))
    assert first == {"terms": 1, "rules": len(RULES)}
    term = Term.objects.get(region=region)
    assert (term.starts_on, term.ends_on) == (dt.date(2026, 9, 1), dt.date(2027, 1, 20))
    assert term.breaks == [["2026-10-01", "2026-10-07"]]
    assert AuditEvent.objects.filter(object_type__icontains="term", action="create").count() == 1
    before = snapshot()
    assert load_demo_compliance_rules(today=dt.date(2026, 11, 30)) == {
        "terms": 0,
        "rules": len(RULES),
    }
    assert snapshot() == before
    # In the summer holiday the last term (spring) is entered.
    load_demo_compliance_rules(today=dt.date(2026, 8, 1))
    spring = Term.objects.get(region=region, starts_on=dt.date(2026, 2, 20))
    assert spring.ends_on == dt.date(2026, 7, 10)
    # Every demo school is judged for the entered term.
    ids = compliance.region_school_ids(region.pk)
    results = compliance.evaluate_schools(ids, today=dt.date(2026, 11, 30))
    assert len(results) == len(ids) > 0
    assert {r.term.pk for r in results.values()} == {term.pk}
