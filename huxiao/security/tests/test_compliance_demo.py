"""The demo compliance (huxiao.security.compliance_demo): demo mode only, the county's rule
set, every school evaluated after the other loaders, different states with reasons, and a
second run writes nothing. Loading the township takes a while, so it is checked in one
test."""

from __future__ import annotations

import pytest

from huxiao.demo.township import REGION_CODE, DemoModeOff, load_demo_township
from huxiao.orgs.models import Region
from huxiao.security.compliance_demo import load_demo_compliance
from huxiao.security.models import ComplianceRule, SchoolCompliance

pytestmark = pytest.mark.django_db


def test_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(DemoModeOff):
        load_demo_compliance()
    assert not SchoolCompliance.objects.exists()


def test_does_nothing_without_the_township(settings):
    settings.DEMO_MODE = True
    assert load_demo_compliance() == {"rules": 0, "schools": 0, "compliant": 0, "networked": 0}
    assert not ComplianceRule.objects.exists()


def test_the_demo_county(settings, django_capture_on_commit_callbacks):
    settings.DEMO_MODE = True
    load_demo_township()
    # The loaders whose facts the verdicts read, as the demo command runs them.
    from huxiao.duty.rounds_demo import load_demo_rounds
    from huxiao.security.defence_demo import load_demo_defence
    from huxiao.security.equipment_demo import load_demo_equipment
    from huxiao.security.personnel_demo import load_demo_personnel

    with django_capture_on_commit_callbacks(execute=True):
        load_demo_personnel()
        load_demo_equipment()
        load_demo_defence()
        load_demo_rounds()
    first = load_demo_compliance()
    region = Region.objects.get(code=REGION_CODE)
    assert first["rules"] == 13 and first["schools"] == 7
    assert ComplianceRule.objects.filter(region=region).count() == 13
    rows = {r.school.name: r for r in SchoolCompliance.objects.select_related("school")}
    assert len(rows) == 7
    # Different states, each with its reasons.
    assert len({(r.passed, r.failed, r.no_data) for r in rows.values()}) > 1
    failing = [r for r in rows.values() if r.failed]
    assert failing
    for row in failing:
        assert any(v["verdict"] == "fail" and v["missing"] for v in row.verdicts)
    stamps = dict(SchoolCompliance.objects.values_list("school_id", "evaluated_at"))
    second = load_demo_compliance()
    assert second == first
    assert dict(SchoolCompliance.objects.values_list("school_id", "evaluated_at")) == stamps
    assert ComplianceRule.objects.filter(region=region).count() == 13
