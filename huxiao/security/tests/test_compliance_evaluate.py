"""Evaluation over the database (issue 7 item 4): facts read with grouped queries, one
SchoolCompliance per school upserted, rules switched off left out, re-evaluation after
commit, the county's rule set and parameters, the assessment indicator and the nightly
job."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from huxiao.security import compliance
from huxiao.security import compliance_services as services
from huxiao.security import rules as R
from huxiao.security.models import ComplianceRule, SchoolCompliance
from huxiao.security.tests import compliance_fixtures as fx
from huxiao.supervision.indicators import run_source

pytestmark = pytest.mark.django_db


def verdicts(school_id) -> dict[str, dict]:
    row = SchoolCompliance.objects.get(school_id=school_id)
    return {v["rule"]: v for v in row.verdicts}


def test_a_model_school_meets_every_rule(world):
    s = fx.model_school(world.town, enrolment=1600, boarding=True)
    assert compliance.evaluate_schools([s.pk], now=fx.NOW) == 1
    row = SchoolCompliance.objects.get(school=s)
    by_rule = {v["rule"]: v["verdict"] for v in row.verdicts}
    assert by_rule == {key: "pass" for key in R.RULES}, by_rule
    assert [v["rule"] for v in row.verdicts] == list(R.RULES)  # rule order
    assert (row.is_compliant, row.is_networked) == (True, True)
    assert (row.passed, row.failed, row.no_data) == (13, 0, 0)
    assert row.evaluated_at == fx.NOW


def test_a_school_with_nothing_recorded(world):
    s = fx.school(world.town, enrolment=90, kind="kindergarten")
    compliance.evaluate_schools([s.pk], now=fx.NOW)
    row = SchoolCompliance.objects.get(school=s)
    by_rule = {v["rule"]: v["verdict"] for v in row.verdicts}
    assert by_rule["guards_staffing"] == "fail"
    assert by_rule["guards_certified"] == "na"
    assert by_rule["dormitory_managers"] == "na"
    assert by_rule["gatehouse_24h"] == "no_data"
    assert by_rule["alarm_networked"] == "fail"
    assert by_rule["equipment_complete"] == "fail"
    assert by_rule["patrol_rounds"] == "fail"
    assert not row.is_compliant and not row.is_networked


def test_the_hand_worked_schools_from_the_issue(world):
    kg = fx.school(world.town, enrolment=90, kind="kindergarten", name="九十人幼儿园")
    fx.guard(kg)
    big = fx.school(world.town, enrolment=1600, boarding=True, name="寄宿学校")
    for _ in range(3):
        fx.guard(big)
    fx.guard(big, full_time=False)
    assert compliance.evaluate_schools([kg.pk, big.pk], now=fx.NOW) == 2
    assert verdicts(kg.pk)["guards_staffing"]["verdict"] == "pass"
    staffing = verdicts(big.pk)["guards_staffing"]
    assert staffing["verdict"] == "fail"
    assert (staffing["required"], staffing["actual"]) == (4, 3)
    assert staffing["missing"] == [{"key": "guards_need", "params": {"n": 1}}]


def test_facts_from_every_table(world):
    s = fx.model_school(world.town, enrolment=300)
    # Break one thing per area, each through its own table.
    fx.guard(s, certificate="", filed=False)  # guards_certified
    fx.staff(s, "security_officer", active=False)  # inactive: ignored
    fx.cameras(s, 1, networked=0)  # video_networked: 2 of 3
    fx.cameras(s, 3, networked=0, active=False)  # retired cameras: ignored
    s.defence_profile.video_retention_days = 15
    s.defence_profile.save()
    from huxiao.security.models import SchoolEquipment

    SchoolEquipment.objects.filter(school=s, equipment_type__key="shield").update(
        condition="broken"
    )
    compliance.evaluate_schools([s.pk], now=fx.NOW)
    v = verdicts(s.pk)
    assert v["guards_certified"]["verdict"] == "fail"
    assert v["video_networked"]["verdict"] == "fail" and v["video_networked"]["actual"] == 66
    assert v["video_retention"]["verdict"] == "fail"
    assert v["equipment_complete"]["missing"] == [
        {"key": "equipment_broken", "params": {"item": "盾牌"}}
    ]
    assert v["security_body"]["verdict"] == "pass"
    row = SchoolCompliance.objects.get(school=s)
    assert not row.is_compliant and not row.is_networked and row.failed == 4


def test_alarm_from_an_other_vendor_system(world):
    s = fx.school(world.town)
    fx.system(s, networked=False)
    fx.system(s, kind="intrusion_alarm", networked=True)
    compliance.evaluate_schools([s.pk], now=fx.NOW)
    assert verdicts(s.pk)["alarm_networked"]["verdict"] == "fail"
    fx.system(s, networked=True)
    compliance.evaluate_schools([s.pk], now=fx.NOW)
    assert verdicts(s.pk)["alarm_networked"]["verdict"] == "pass"


def test_patrol_rounds_read_the_last_full_days(world):
    s = fx.school(world.town)
    fx.rounds(s, per_day=5, skip_days=(3,))
    # Today's rounds do not count yet, and an unfinished round never does.
    fx.rounds(s, days=0)
    compliance.evaluate_schools([s.pk], now=fx.NOW)
    v = verdicts(s.pk)["patrol_rounds"]
    assert v["verdict"] == "fail"
    assert v["missing"] == [
        {"key": "rounds_day_short", "params": {"date": "2026-03-08", "done": 0, "min": 5}}
    ]


def test_a_boarding_school_before_noon_is_not_judged_on_last_night(world):
    s = fx.school(world.town, boarding=True)
    fx.rounds(s, per_day=5, nights=1, days=8)
    morning = fx.at(fx.TODAY, 0, 40)  # the nightly job: last night is still running
    compliance.evaluate_schools([s.pk], now=morning)
    v = verdicts(s.pk)["patrol_rounds"]
    # Day rounds: the seven days before today; nights: the seven before last night.
    assert v["verdict"] == "pass", v


def test_rules_switched_off_are_left_out(world):
    s = fx.model_school(world.town)
    R.ensure_rules(world.region)
    ComplianceRule.objects.filter(region=world.region, key="patrol_rounds").update(enabled=False)
    s.defence_profile.closed_management = False
    s.defence_profile.save()
    compliance.evaluate_schools([s.pk], now=fx.NOW)
    v = verdicts(s.pk)
    assert "patrol_rounds" not in v and v["closed_management"]["verdict"] == "fail"
    ComplianceRule.objects.filter(region=world.region, key="closed_management").update(
        enabled=False
    )
    compliance.evaluate_schools([s.pk], now=fx.NOW)
    row = SchoolCompliance.objects.get(school=s)
    assert row.is_compliant and len(row.verdicts) == 11


def test_network_flag_follows_the_network_rules_in_force(world):
    s = fx.school(world.town)
    fx.alarm_box(s)
    R.ensure_rules(world.region)
    compliance.evaluate_schools([s.pk], now=fx.NOW)
    assert not SchoolCompliance.objects.get(school=s).is_networked  # no camera
    ComplianceRule.objects.filter(region=world.region, key="video_networked").update(enabled=False)
    compliance.evaluate_schools([s.pk], now=fx.NOW)
    assert SchoolCompliance.objects.get(school=s).is_networked


def test_county_parameters_change_the_verdicts(world):
    s = fx.school(world.town, enrolment=1600)
    for _ in range(4):
        fx.guard(s)
    R.ensure_rules(world.region)
    compliance.evaluate_schools([s.pk], now=fx.NOW)
    assert verdicts(s.pk)["guards_staffing"]["verdict"] == "pass"
    ComplianceRule.objects.filter(region=world.region, key="guards_staffing").update(
        params={"step_pupils": 200}
    )
    compliance.evaluate_schools([s.pk], now=fx.NOW)
    staffing = verdicts(s.pk)["guards_staffing"]
    assert staffing["verdict"] == "fail" and staffing["required"] == 6


def test_evaluation_updates_the_existing_row(world):
    s = fx.school(world.town)
    compliance.evaluate_schools([s.pk], now=fx.NOW)
    first = SchoolCompliance.objects.get(school=s)
    fx.make_compliant(s)
    later = fx.NOW + dt.timedelta(hours=1)
    compliance.evaluate_schools([s.pk], now=later)
    row = SchoolCompliance.objects.get(school=s)
    assert row.pk == first.pk and row.is_compliant and row.evaluated_at == later
    assert SchoolCompliance.objects.count() == 1


def test_skip_unchanged_keeps_the_row(world):
    s = fx.school(world.town)
    compliance.evaluate_schools([s.pk], now=fx.NOW)
    later = fx.NOW + dt.timedelta(hours=1)
    assert compliance.evaluate_schools([s.pk], now=later, skip_unchanged=True) == 1
    assert SchoolCompliance.objects.get(school=s).evaluated_at == fx.NOW


def test_only_active_schools_of_the_county(world):
    world.far_school.is_active = False
    world.far_school.save()
    assert compliance.evaluate_region(world.region.pk, now=fx.NOW) == 2
    assert set(SchoolCompliance.objects.values_list("school_id", flat=True)) == {
        world.school.pk,
        world.other_school.pk,
    }
    # Not a school, or unknown: nothing.
    assert compliance.evaluate_schools([world.station.pk, 10**9], now=fx.NOW) == 0
    assert compliance.evaluate_schools([], now=fx.NOW) == 0


def _queries(region_id) -> int:
    with CaptureQueriesContext(connection) as ctx:
        compliance.evaluate_region(region_id, now=fx.NOW)
    return len(ctx.captured_queries)


def test_a_fixed_number_of_queries_whatever_the_number_of_schools(world):
    world.school.enrolment = 200  # unknown enrolment leaves the staffing rule without data
    world.school.save()
    fx.make_compliant(world.school)
    _queries(world.region.pk)  # the first run also creates the county's rule set
    small = _queries(world.region.pk)
    for n in range(12):
        fx.model_school(world.town, boarding=n % 3 == 0)
    big = _queries(world.region.pk)
    assert big == small, (small, big)
    assert small <= 20
    assert SchoolCompliance.objects.filter(is_compliant=True).count() == 13


def test_reevaluate_on_commit_waits_for_the_commit(world, django_capture_on_commit_callbacks):
    s = world.school
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        compliance.reevaluate_on_commit([s.pk])
        compliance.reevaluate_on_commit([s.pk, world.other_school.pk, None])
        assert not SchoolCompliance.objects.exists()
    assert len(callbacks) == 2
    assert SchoolCompliance.objects.count() == 2


def test_reevaluate_on_commit_after_a_rollback(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                compliance.reevaluate_on_commit([world.school.pk])
                raise RuntimeError
        except RuntimeError:
            pass
    assert not SchoolCompliance.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        compliance.reevaluate_on_commit([world.other_school.pk])
    # The later commit evaluates what is pending, the rolled-back school included: harmless.
    assert SchoolCompliance.objects.filter(school=world.other_school).exists()


# ------------------------------------------------------------------ the rule set


def test_ensure_rules_creates_the_defaults_once(world):
    rules = R.ensure_rules(world.region)
    assert [r.key for r in rules] == list(R.RULES)
    assert all(r.enabled and r.params == {} for r in rules)
    ComplianceRule.objects.filter(region=world.region, key="patrol_rounds").delete()
    again = R.ensure_rules(world.region.pk)
    assert len(again) == 13
    assert ComplianceRule.objects.filter(region=world.region).count() == 13


def test_rule_params_contract(world):
    assert R.rule_params(world.region.pk, "patrol_rounds") == {
        "rounds_per_day": 5,
        "night_rounds": 1,
        "days": 7,
    }
    R.ensure_rules(world.region)
    ComplianceRule.objects.filter(region=world.region, key="patrol_rounds").update(
        params={"rounds_per_day": 6}
    )
    assert R.rule_params(world.region.pk, "patrol_rounds")["rounds_per_day"] == 6
    ComplianceRule.objects.filter(region=world.region, key="patrol_rounds").update(enabled=False)
    assert R.rule_params(world.region.pk, "patrol_rounds") == {}
    assert R.rule_params(world.region.pk, "no_such_rule") == {}


# ------------------------------------------------------------------ indicator and job


def test_staffing_compliance_indicator(world):
    world.school.enrolment = 90
    world.school.save()
    fx.make_compliant(world.school)
    compliance.evaluate_schools([world.school.pk, world.other_school.pk], now=fx.NOW)
    values = run_source(
        "staffing_compliance",
        [world.school.pk, world.other_school.pk, world.far_school.pk],
        dt.date(2026, 3, 1),
        dt.date(2026, 3, 31),
        {},
    )
    assert values[world.school.pk] == 100
    row = SchoolCompliance.objects.get(school=world.other_school)
    assert values[world.other_school.pk] == round(
        100 * row.passed / (row.passed + row.failed + row.no_data), 2
    )
    assert world.far_school.pk not in values  # never evaluated: no data
    from huxiao.supervision.indicators import get_source

    assert get_source("staffing_compliance").available


def test_nightly_job_evaluates_every_county(world):
    from huxiao.orgs.tests.factories import RegionFactory, SchoolFactory, TownFactory

    other = SchoolFactory(town=TownFactory(region=RegionFactory()))
    result = services.compliance_evaluate_all(now=fx.NOW)
    assert result == {world.region.pk: 3, other.region_id: 1}
    assert SchoolCompliance.objects.count() == 4


def test_a_school_without_records_is_not_compliant(world):
    """Rules without data (no defence profile, unknown enrolment) are not met: 达标 needs
    the records."""
    world.school.enrolment = 200
    world.school.save()
    fx.make_compliant(world.school)
    compliance.evaluate_schools([world.school.pk], now=fx.NOW)
    assert SchoolCompliance.objects.get(school=world.school).is_compliant
    world.school.defence_profile.delete()
    compliance.evaluate_schools([world.school.pk], now=fx.NOW)
    record = SchoolCompliance.objects.get(school=world.school)
    assert record.no_data > 0 and record.failed == 0
    assert not record.is_compliant
