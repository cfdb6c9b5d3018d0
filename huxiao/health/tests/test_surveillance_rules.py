"""The county's cluster-alert rules: the shipped defaults, who keeps them (county-level
MANAGE_HEALTH_RULES only), bounds and bad input (field errors, nothing written), a rule for
one symptom group, the page and `GET/PUT /api/v1/health/rules`."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse

from huxiao.audit.models import AuditAction, AuditEvent
from huxiao.core.roles import OrgKind, Role
from huxiao.health import surveillance_services as services
from huxiao.health.choices import RuleKind, SymptomGroup
from huxiao.health.models import ClusterRule
from huxiao.health.surveillance_rules import rules_for_region
from huxiao.orgs.tests.factories import MembershipFactory, OrganizationFactory, RegionFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/health/rules"
CLASS = RuleKind.CLASS_CLUSTER


def _set(user, *items, region=None):
    return services.cluster_rules_set(actor=user, region=region, rules=list(items))


def test_a_county_without_rules_runs_on_unsaved_defaults(hworld):
    rules = rules_for_region(hworld.region.pk)
    assert [(r.kind, r.symptom_group, r.min_children, r.window_days) for r in rules] == [
        (RuleKind.CLASS_CLUSTER, SymptomGroup.ANY, 3, 3),
        (RuleKind.SCHOOL_CLUSTER, SymptomGroup.ANY, 5, 7),
        (RuleKind.NOTIFIABLE, SymptomGroup.ANY, 1, 1),
    ]
    assert all(r.pk is None for r in rules)
    assert not ClusterRule.objects.exists()


def test_the_county_health_office_edits_and_the_defaults_are_stored_first(hworld):
    keeper = hworld.users["countyhealth"]
    changed = _set(keeper, {"kind": CLASS, "min_children": 4, "window_days": 2})
    assert [(r.kind, r.min_children, r.window_days) for r in changed] == [(CLASS, 4, 2)]
    stored = {r.kind: r for r in ClusterRule.objects.filter(region=hworld.region)}
    assert set(stored) == set(RuleKind.values)
    assert stored[CLASS].updated_by == keeper
    trail = AuditEvent.objects.filter(object_type="health.clusterrule")
    assert trail.filter(action=AuditAction.CREATE).count() == 3
    assert trail.filter(action=AuditAction.UPDATE).get().changes["fields"]["min_children"] == [3, 4]
    # The same values again change nothing.
    assert _set(keeper, {"kind": CLASS, "min_children": 4}) == []


@pytest.mark.parametrize("name", ["health", "principal", "nurse", "police", "county", "teacher"])
def test_nobody_else_edits_the_rules(hworld, name):
    with pytest.raises(PermissionDenied):
        _set(hworld.users[name], {"kind": CLASS, "min_children": 4})
    assert not ClusterRule.objects.exists()


def test_a_keeper_naming_another_county_gets_404(hworld):
    with pytest.raises(Http404):
        _set(
            hworld.users["countyhealth"], {"kind": CLASS, "min_children": 4}, region=RegionFactory()
        )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"min_children": 0}, "class_cluster.any.min_children"),
        ({"min_children": 501}, "class_cluster.any.min_children"),
        ({"min_children": "abc"}, "class_cluster.any.min_children"),
        ({"min_children": True}, "class_cluster.any.min_children"),
        ({"min_children": 2.5}, "class_cluster.any.min_children"),
        ({"window_days": 61}, "class_cluster.any.window_days"),
        ({"window_days": 0}, "class_cluster.any.window_days"),
        ({"is_active": "yes"}, "class_cluster.any.is_active"),
        ({"colour": 1}, "class_cluster.any.colour"),
    ],
)
def test_bad_values_are_field_errors_and_nothing_is_written(hworld, change, field):
    with pytest.raises(ValidationError) as err:
        _set(hworld.users["countyhealth"], {"kind": CLASS, **change})
    assert field in err.value.message_dict
    assert not ClusterRule.objects.exists()
    assert not AuditEvent.objects.filter(object_type="health.clusterrule").exists()


def test_one_bad_item_keeps_the_good_ones_from_being_written(hworld):
    with pytest.raises(ValidationError) as err:
        _set(
            hworld.users["countyhealth"],
            {"kind": CLASS, "min_children": 4},
            {"kind": RuleKind.SCHOOL_CLUSTER, "window_days": 99},
            {"kind": "plague"},
        )
    assert set(err.value.message_dict) == {"school_cluster.any.window_days", "rules.2.kind"}
    assert not ClusterRule.objects.exists()


def test_a_rule_for_one_symptom_group_is_added_once(hworld):
    keeper = hworld.users["countyhealth"]
    rule = services.cluster_rule_create(
        actor=keeper,
        kind=CLASS,
        symptom_group=SymptomGroup.DIGESTIVE,
        min_children=2,
        window_days=1,
    )
    assert (rule.symptom_group, rule.min_children, rule.pk is not None) == ("digestive", 2, True)
    with pytest.raises(ValidationError) as err:
        services.cluster_rule_create(
            actor=keeper,
            kind=CLASS,
            symptom_group=SymptomGroup.DIGESTIVE,
            min_children=2,
            window_days=1,
        )
    assert "class_cluster.digestive.symptom_group" in err.value.message_dict
    updated = services.cluster_rule_update(
        actor=keeper, kind=CLASS, symptom_group=SymptomGroup.DIGESTIVE, is_active=False
    )
    assert updated.is_active is False
    with pytest.raises(Http404):
        services.cluster_rule_update(actor=keeper, kind=CLASS, symptom_group="eye", is_active=False)


def test_a_new_rule_needs_its_numbers_and_a_real_group(hworld):
    keeper = hworld.users["countyhealth"]
    with pytest.raises(ValidationError) as err:
        _set(keeper, {"kind": CLASS, "symptom_group": "eye"})
    assert {"class_cluster.eye.min_children", "class_cluster.eye.window_days"} <= set(
        err.value.message_dict
    )
    with pytest.raises(ValidationError) as err:
        _set(keeper, {"kind": RuleKind.NOTIFIABLE, "symptom_group": "skin"})
    assert "notifiable.skin.symptom_group" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        _set(keeper, {"kind": CLASS, "symptom_group": "flu", "min_children": 2})
    assert "class_cluster.flu.symptom_group" in err.value.message_dict
    assert not ClusterRule.objects.exists()


def test_the_notifiable_rule_is_only_switched_on_or_off(hworld):
    with pytest.raises(ValidationError) as err:
        _set(hworld.users["countyhealth"], {"kind": RuleKind.NOTIFIABLE, "min_children": 2})
    assert "notifiable.any.min_children" in err.value.message_dict


def test_a_town_office_is_not_a_keeper_but_a_county_one_of_another_kind_may_be(hworld):
    w = hworld
    assert services.keeper_regions(w.users["health"]) == []
    assert services.keeper_regions(w.users["countyhealth"]) == [w.region.pk]
    # A county governance office holds no health action.
    assert services.keeper_regions(w.users["county"]) == []
    other = OrganizationFactory(kind=OrgKind.HEALTH_CENTRE, town=None, region=RegionFactory())
    MembershipFactory(user=w.users["countyhealth"], organization=other, role=Role.HEALTH_OFFICER)
    from huxiao.core.scoping import clear_scope_cache

    clear_scope_cache(w.users["countyhealth"])
    assert services.keeper_regions(w.users["countyhealth"]) == [w.region.pk, other.region_id]


# ------------------------------------------------------------------ API


@pytest.mark.parametrize(
    ("name", "status", "editable"),
    [
        (None, 401, None),
        ("police", 403, None),
        ("officer", 403, None),
        ("teacher", 403, None),
        ("guard", 403, None),
        ("county", 403, None),
        ("principal", 200, False),
        ("principal2", 200, False),
        ("nurse", 200, False),
        ("health", 200, False),
        ("countyhealth", 200, True),
    ],
)
def test_api_rules_read_scope(hworld, api, name, status, editable):
    user = hworld.users[name] if name else None
    response = api("GET", URL, user)
    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert body["editable"] is editable and body["region_id"] == hworld.region.pk
        assert [r["kind"] for r in body["rules"]] == list(RuleKind.values)
        assert body["stored"] is False and body["rules"][0]["id"] is None


def test_api_rules_of_another_county_are_404(hworld, api):
    other = RegionFactory()
    assert api("GET", f"{URL}?region_id={other.pk}", hworld.users["health"]).status_code == 404


@pytest.mark.parametrize(
    ("name", "status"),
    [(None, 401), ("police", 403), ("health", 403), ("principal", 403), ("nurse", 403)],
)
def test_api_rules_put_is_for_the_keepers_only(hworld, api, name, status):
    user = hworld.users[name] if name else None
    body = {"rules": [{"kind": CLASS, "min_children": 4}]}
    assert api("PUT", URL, user, json=body).status_code == status
    assert not ClusterRule.objects.exists()


def test_api_rules_put_sets_and_reports_field_errors(hworld, api):
    keeper = hworld.users["countyhealth"]
    body = {
        "rules": [
            {"kind": CLASS, "min_children": 2, "window_days": 2},
            {
                "kind": RuleKind.SCHOOL_CLUSTER,
                "symptom_group": "skin",
                "min_children": 3,
                "window_days": 5,
            },
        ]
    }
    response = api("PUT", URL, keeper, json=body)
    assert response.status_code == 200, response.content
    rules = {(r["kind"], r["symptom_group"]): r for r in response.json()["rules"]}
    assert rules[(CLASS, "any")]["min_children"] == 2
    assert rules[("school_cluster", "skin")]["window_days"] == 5
    assert response.json()["stored"] is True
    bad = api("PUT", URL, keeper, json={"rules": [{"kind": CLASS, "min_children": "many"}]})
    assert bad.status_code == 400
    assert "class_cluster.any.min_children" in bad.json()["errors"]
    assert api("PUT", URL, keeper, json={"rules": []}).status_code == 400
    assert api("PUT", URL, keeper, json={"nothing": 1}).status_code == 400
    assert (
        ClusterRule.objects.get(region=hworld.region, kind=CLASS, symptom_group="any").min_children
        == 2
    )


# ------------------------------------------------------------------ page


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("police", 403),
        ("teacher", 403),
        ("county", 403),
        ("principal", 200),
        ("principal2", 200),
        ("dutylead", 200),
        ("health", 200),
        ("countyhealth", 200),
    ],
)
def test_rules_page_scope(client, hworld, name, status):
    client.force_login(hworld.users[name])
    response = client.get(reverse("health:rules"))
    assert response.status_code == status
    if status == 200:
        body = response.content.decode()
        assert body.count('data-testid="rule"') == 3
        assert ('data-testid="rule-form"' in body) is (name == "countyhealth")


def test_rules_page_anonymous_goes_to_login(client, hworld):
    response = client.get(reverse("health:rules"))
    assert response.status_code == 302 and "login" in response["Location"]


def _form_data(**overrides):
    data = {
        "class_cluster__any__min_children": "3",
        "class_cluster__any__window_days": "3",
        "class_cluster__any__is_active": "on",
        "school_cluster__any__min_children": "5",
        "school_cluster__any__window_days": "7",
        "school_cluster__any__is_active": "on",
        "notifiable__any__is_active": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_rules_page_saves_for_the_keeper(client, hworld):
    client.force_login(hworld.users["countyhealth"])
    data = _form_data(class_cluster__any__min_children="4", notifiable__any__is_active=None)
    response = client.post(reverse("health:rules"), data)
    assert response.status_code == 302
    stored = {r.kind: r for r in ClusterRule.objects.filter(region=hworld.region)}
    assert stored[CLASS].min_children == 4 and stored[RuleKind.NOTIFIABLE].is_active is False
    response = client.post(
        reverse("health:rules"),
        {
            "action": "add",
            "kind": CLASS,
            "symptom_group": "eye",
            "min_children": "2",
            "window_days": "2",
        },
    )
    assert response.status_code == 302
    assert ClusterRule.objects.filter(region=hworld.region, symptom_group="eye").exists()
    page = client.get(reverse("health:rules")).content.decode()
    assert page.count('data-testid="rule"') == 4


def test_rules_page_bad_input_is_400_in_place(client, hworld):
    client.force_login(hworld.users["countyhealth"])
    response = client.post(
        reverse("health:rules"), _form_data(class_cluster__any__window_days="61")
    )
    assert response.status_code == 400
    assert 'data-testid="error-class_cluster__any__window_days"' in response.content.decode()
    response = client.post(
        reverse("health:rules"),
        {
            "action": "add",
            "kind": CLASS,
            "symptom_group": "any",
            "min_children": "2",
            "window_days": "2",
        },
    )
    assert response.status_code == 400
    assert not ClusterRule.objects.exists()


def test_rules_page_post_by_a_reader_is_403(client, hworld):
    client.force_login(hworld.users["health"])
    assert client.post(reverse("health:rules"), _form_data()).status_code == 403
    assert not ClusterRule.objects.exists()
