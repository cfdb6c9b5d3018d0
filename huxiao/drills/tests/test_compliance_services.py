"""Writes of activity compliance: who keeps the county's terms and rules (county-level
offices with MANAGE_ACTIVITY_RULES only), the term checks (every bad input a field error,
nothing written), the rule bounds, and the audit rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from huxiao.audit.models import AuditEvent
from huxiao.core.roles import OrgKind, Role
from huxiao.drills import compliance_services as services
from huxiao.drills import rules as R
from huxiao.drills.models import ActivityRule, Term
from huxiao.drills.tests import compliance_fixtures as fx
from huxiao.orgs.tests.factories import MembershipFactory, OrganizationFactory, RegionFactory

pytestmark = pytest.mark.django_db

GOOD = {
    "name": "2026—2027学年第一学期",
    "starts_on": "2026-09-01",
    "ends_on": "2027-01-20",
    "breaks": [["2026-10-01", "2026-10-07"]],
}


def errors_of(exc) -> dict:
    return exc.value.message_dict


# ------------------------------------------------------------------ keepers


@pytest.mark.parametrize("name", ["principal", "police", "edu", "gov", "nobody"])
def test_only_county_offices_keep_terms_and_rules(world, name):
    user = world.users[name]
    with pytest.raises(PermissionDenied):
        services.term_create(actor=user, **GOOD)
    with pytest.raises(PermissionDenied):
        services.rules_update(actor=user, changes={"weekly_drill": {"enabled": False}})
    with pytest.raises(PermissionDenied):
        services.rule_list(actor=user)
    assert not Term.objects.exists() and not ActivityRule.objects.filter(enabled=False).exists()


def test_a_keeper_of_several_counties_names_one(world):
    other = RegionFactory()
    office = OrganizationFactory(kind=OrgKind.EDUCATION_OFFICE, town=None, region=other)
    MembershipFactory(
        user=world.users["county"], organization=office, role=Role.EDUCATION_SUPERVISOR
    )
    county = world.users["county"]
    assert services.keeper_regions(county) == [world.region.pk, other.pk]
    term = services.term_create(actor=county, region=other.pk, **GOOD)
    assert term.region == other
    with pytest.raises(Http404):
        services.term_create(actor=county, region=RegionFactory().pk, **GOOD)


# ------------------------------------------------------------------ terms


def test_term_create_update_delete_audited(world):
    county = world.users["county"]
    term = services.term_create(actor=county, **GOOD)
    assert (term.region, term.starts_on, term.breaks) == (
        world.region,
        dt.date(2026, 9, 1),
        [["2026-10-01", "2026-10-07"]],
    )
    term = services.term_update(actor=county, term=term, ends_on="2027-01-15", breaks=[])
    assert term.ends_on == dt.date(2027, 1, 15) and term.breaks == []
    services.term_delete(actor=county, term=term)
    assert not Term.objects.exists()
    actions = list(
        AuditEvent.objects.filter(object_type__icontains="term")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "update", "delete"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "学期\x00"}, "name"),
        ({"name": "长" * 51}, "name"),
        ({"starts_on": ""}, "starts_on"),
        ({"starts_on": "2026-02-30"}, "starts_on"),
        ({"starts_on": "0202-09-01"}, "starts_on"),
        ({"starts_on": ["2026-09-01"]}, "starts_on"),
        ({"ends_on": "2026-08-31"}, "ends_on"),
        ({"ends_on": "2026-09-01"}, "ends_on"),
        ({"ends_on": "2028-01-20"}, "ends_on"),
        ({"ends_on": "9999-01-20"}, "ends_on"),
        ({"starts_on": "2099-09-01", "ends_on": "2100-01-20"}, "starts_on"),
        ({"breaks": "国庆"}, "breaks"),
        ({"breaks": [["2026-10-01"]]}, "breaks"),
        ({"breaks": [["2026-10-07", "2026-10-01"]]}, "breaks"),
        ({"breaks": [["2026-08-20", "2026-09-02"]]}, "breaks"),
        ({"breaks": [["2026-10-01", "2026-10-07"], ["2026-10-05", "2026-10-09"]]}, "breaks"),
        ({"breaks": [["2026-10-01", "bad"]]}, "breaks"),
        ({"breaks": [["2026-10-01", "2026-10-01"]] * 21}, "breaks"),
        ({"breaks": [{"first": "2026-10-01"}]}, "breaks"),
    ],
)
def test_bad_terms_are_refused_with_a_field_error(world, change, field):
    with pytest.raises(ValidationError) as exc:
        services.term_create(actor=world.users["county"], **{**GOOD, **change})
    assert field in errors_of(exc)
    assert (
        not Term.objects.exists()
        and not AuditEvent.objects.filter(object_type__icontains="term").exists()
    )


def test_terms_of_a_county_do_not_overlap(world):
    county = world.users["county"]
    first = services.term_create(actor=county, **GOOD)
    with pytest.raises(ValidationError) as exc:
        services.term_create(
            actor=county, **{**GOOD, "starts_on": "2027-01-20", "ends_on": "2027-07-10"}
        )
    assert "starts_on" in errors_of(exc)
    # The next term starting the day after is fine; editing a term does not clash with itself.
    services.term_create(
        actor=county, **{**GOOD, "breaks": [], "starts_on": "2027-02-20", "ends_on": "2027-07-10"}
    )
    services.term_update(actor=county, term=first, name="秋季学期")
    # Another county's term may cover the same days.
    assert Term.objects.count() == 2


def test_updating_a_term_of_another_county_is_404(world):
    other = fx.term(RegionFactory())
    with pytest.raises(Http404):
        services.term_update(actor=world.users["county"], term=other, name="x")
    with pytest.raises(Http404):
        services.term_delete(actor=world.users["county"], term=other)
    with pytest.raises(Http404):
        services.term_get(actor=world.users["county"], term_id=2**63 - 1)


# ------------------------------------------------------------------ rules


def test_default_rules_are_created_once(world):
    county = world.users["county"]
    region, rules = services.rule_list(actor=county)
    assert [r.key for r in rules] == list(R.RULES)
    services.rule_list(actor=county)
    assert ActivityRule.objects.filter(region=region).count() == len(R.RULES)


def test_rules_update_switches_and_sets_params(world):
    county = world.users["county"]
    changed = services.rules_update(
        actor=county,
        changes={
            "weekly_drill": {"params": {"min_per_week": 2}},
            "lvp_lecture": {"enabled": False, "params": {"any_officer": 1}},
        },
    )
    assert {r.key for r in changed} == {"weekly_drill", "lvp_lecture"}
    rows = {r.key: r for r in ActivityRule.objects.filter(region=world.region)}
    assert rows["weekly_drill"].params == {"min_per_week": 2}
    assert rows["lvp_lecture"].enabled is False
    assert R.rule_sets([world.region.pk])[world.region.pk][0] == (
        "weekly_drill",
        {"min_per_week": 2, "remind_weekday": 4},
    )
    assert AuditEvent.objects.filter(object_type__icontains="activityrule").count() == 2
    # The same again changes nothing.
    assert services.rules_update(actor=county, changes={"weekly_drill": {"enabled": True}}) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"weekly_drill": {"params": {"min_per_week": 0}}}, "weekly_drill__min_per_week"),
        ({"weekly_drill": {"params": {"min_per_week": 8}}}, "weekly_drill__min_per_week"),
        ({"weekly_drill": {"params": {"min_per_week": 1.5}}}, "weekly_drill__min_per_week"),
        ({"weekly_drill": {"params": {"min_per_week": "2"}}}, "weekly_drill__min_per_week"),
        ({"weekly_drill": {"params": {"min_per_week": True}}}, "weekly_drill__min_per_week"),
        ({"weekly_drill": {"params": {"min_per_week": 1e400}}}, "weekly_drill__min_per_week"),
        ({"weekly_drill": {"params": {"nope": 1}}}, "weekly_drill__nope"),
        ({"weekly_drill": {"params": [1]}}, "weekly_drill__params"),
        ({"weekly_drill": {"enabled": "yes"}}, "weekly_drill__enabled"),
        ({"weekly_drill": {"colour": "red"}}, "weekly_drill"),
        ({"weekly_drill": "off"}, "weekly_drill"),
        ({"no_such_rule": {"enabled": False}}, "no_such_rule"),
        ({"lvp_lecture": {"params": {"any_officer": 2}}}, "lvp_lecture__any_officer"),
    ],
)
def test_bad_rule_changes_write_nothing(world, changes, field):
    county = world.users["county"]
    changes = {**changes, "staff_training": {"enabled": False}}
    with pytest.raises(ValidationError) as exc:
        services.rules_update(actor=county, changes=changes)
    assert field in errors_of(exc)
    assert not ActivityRule.objects.filter(enabled=False).exists()
    assert not AuditEvent.objects.filter(object_type__icontains="activityrule").exists()


@pytest.mark.parametrize("changes", [{}, [], "all", None])
def test_empty_rule_changes(world, changes):
    with pytest.raises(ValidationError):
        services.rules_update(actor=world.users["county"], changes=changes)


def test_stored_params_out_of_bounds_fall_back_to_defaults(world):
    ActivityRule.objects.create(
        region=world.region, key="weekly_drill", params={"min_per_week": 99, "remind_weekday": 2}
    )
    assert R.rule_sets([world.region.pk])[world.region.pk][0][1] == {
        "min_per_week": 1,
        "remind_weekday": 2,
    }
