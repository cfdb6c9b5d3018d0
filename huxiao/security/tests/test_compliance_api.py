"""The compliance API: role × scope of every endpoint, the payloads (texts in the caller's
language with the stored keys alongside), drill-down filters, and the rules' GET/PATCH with
bad input refused and nothing written."""

from __future__ import annotations

import pytest

from huxiao.audit.models import AuditEvent
from huxiao.security import compliance
from huxiao.security.models import ComplianceRule, SchoolCompliance
from huxiao.security.rules import ensure_rules
from huxiao.security.tests import compliance_fixtures as fx

pytestmark = pytest.mark.django_db
BASE = "/api/v1/security"


@pytest.fixture
def evaluated(world):
    world.school.enrolment = 90
    world.school.save()
    fx.make_compliant(world.school)
    world.other_school.enrolment = 1600
    world.other_school.is_boarding = True
    world.other_school.save()
    for _ in range(3):
        fx.guard(world.other_school)
    compliance.evaluate_region(world.region.pk, now=fx.NOW)
    return world


def test_anonymous_is_401(api, evaluated):
    for path in (
        f"/compliance/schools/{evaluated.school.pk}",
        f"/compliance/towns/{evaluated.town.pk}",
        "/compliance/county",
        "/rules",
        "/rules/video_retention",
    ):
        assert api("get", BASE + path).status_code == 401
    assert api("patch", BASE + "/rules/video_retention", json={}).status_code == 401


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("principal", 200),
        ("guard", 200),
        ("principal2", 404),
        ("police", 200),
        ("farpolice", 404),
        ("edu", 200),
        ("county", 200),
        ("nobody", 403),
    ],
)
def test_school_role_and_scope(api, evaluated, name, status):
    response = api("get", f"{BASE}/compliance/schools/{evaluated.school.pk}", evaluated.users[name])
    assert response.status_code == status


def test_school_payload(api, evaluated):
    response = api(
        "get",
        f"{BASE}/compliance/schools/{evaluated.other_school.pk}",
        evaluated.users["edu"],
        HTTP_ACCEPT_LANGUAGE="en",
    )
    data = response.json()
    assert data["is_compliant"] is False and len(data["verdicts"]) == 13
    staffing = next(v for v in data["verdicts"] if v["rule"] == "guards_staffing")
    assert staffing["verdict"] == "fail" and staffing["required"] == 4 and staffing["actual"] == 3
    assert staffing["missing_data"] == [{"key": "guards_need", "params": {"n": 1}}]
    assert isinstance(staffing["missing"][0], str) and staffing["label"]


def test_school_never_evaluated(api, world):
    data = api("get", f"{BASE}/compliance/schools/{world.school.pk}", world.users["edu"]).json()
    assert data["evaluated_at"] is None and data["verdicts"] == []


def test_bad_ids(api, world):
    user = world.users["county"]
    assert api("get", f"{BASE}/compliance/schools/0", user).status_code == 400
    assert api("get", f"{BASE}/compliance/schools/{2**63}", user).status_code == 400
    assert api("get", f"{BASE}/compliance/schools/abc", user).status_code == 400
    assert api("get", f"{BASE}/compliance/schools/{world.station.pk}", user).status_code == 404


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("principal", 200),
        ("county", 200),
        ("guard", 403),
        ("police", 403),
        ("edu", 403),
        ("principal2", 404),
        ("nobody", 404),
    ],
)
def test_reevaluate_role_and_scope(api, world, name, status):
    response = api(
        "post", f"{BASE}/compliance/schools/{world.school.pk}/evaluate", world.users[name]
    )
    assert response.status_code == status
    assert SchoolCompliance.objects.filter(school=world.school).exists() is (status == 200)
    if status == 200:
        assert response.json()["evaluated"] == 1


@pytest.mark.parametrize(
    ("name", "status", "schools"),
    [
        ("edu", 200, 2),
        ("county", 200, 2),
        ("police", 200, 2),
        ("postofficer", 200, 1),
        ("farpolice", 404, None),
        ("principal", 403, None),
        ("nobody", 403, None),
    ],
)
def test_town_role_and_scope(api, evaluated, name, status, schools):
    response = api("get", f"{BASE}/compliance/towns/{evaluated.town.pk}", evaluated.users[name])
    assert response.status_code == status
    if schools is not None:
        data = response.json()
        assert data["rates"]["schools"] == schools and len(data["schools"]) == schools


def test_town_rates_and_filters(api, evaluated):
    user = evaluated.users["edu"]
    path = f"{BASE}/compliance/towns/{evaluated.town.pk}"
    data = api("get", path, user).json()
    rates = data["rates"]
    assert (rates["schools"], rates["compliant"], rates["networked"]) == (2, 1, 1)
    assert rates["compliance_rate"] == "50.0" or float(rates["compliance_rate"]) == 50.0
    assert float(rates["staffing_rate"]) == 50.0
    assert len(rates["rules"]) == 13
    lacking = {row["school_id"]: row["lacking"] for row in data["schools"]}
    assert lacking[evaluated.school.pk] == []
    assert "guards_staffing" in {x["rule"] for x in lacking[evaluated.other_school.pk]}
    narrowed = api("get", path + "?rule=guards_staffing&verdict=fail", user).json()
    assert [row["school_id"] for row in narrowed["schools"]] == [evaluated.other_school.pk]
    assert api("get", path + "?rule=bogus", user).status_code == 400
    assert api("get", path + "?verdict=maybe", user).status_code == 400


@pytest.mark.parametrize(
    ("name", "status", "towns"),
    [("county", 200, 2), ("edu", 200, 1), ("farpolice", 200, 1), ("principal", 403, None)],
)
def test_county_role_and_scope(api, evaluated, name, status, towns):
    response = api("get", f"{BASE}/compliance/county", evaluated.users[name])
    assert response.status_code == status
    if towns is not None:
        assert len(response.json()["towns"]) == towns


# ------------------------------------------------------------------ rules


@pytest.mark.parametrize(
    ("name", "status"),
    [("county", 200), ("edu", 403), ("gov", 403), ("principal", 403), ("police", 403)],
)
def test_rules_role(api, world, name, status, django_capture_on_commit_callbacks):
    user = world.users[name]
    assert api("get", f"{BASE}/rules", user).status_code == status
    assert api("get", f"{BASE}/rules/video_retention", user).status_code == status
    with django_capture_on_commit_callbacks(execute=True):
        response = api(
            "patch", f"{BASE}/rules/video_retention", user, json={"params": {"min_days": 60}}
        )
    assert response.status_code == status
    stored = ComplianceRule.objects.filter(region=world.region, key="video_retention").first()
    assert (stored is not None and stored.params == {"min_days": 60}) is (status == 200)


def test_rule_list_and_get(api, world):
    data = api("get", f"{BASE}/rules", world.users["county"]).json()
    assert data["region_id"] == world.region.pk and len(data["rules"]) == 13
    rule = api("get", f"{BASE}/rules/guards_staffing", world.users["county"]).json()
    params = {p["name"]: p for p in rule["params"]}
    assert params["base_pupils"]["value"] == 1000 and params["base_pupils"]["minimum"] == 2
    assert api("get", f"{BASE}/rules/nope", world.users["county"]).status_code == 404


def test_patch_changes_and_evaluates(api, world, django_capture_on_commit_callbacks):
    user = world.users["county"]
    with django_capture_on_commit_callbacks(execute=True):
        response = api(
            "patch",
            f"{BASE}/rules/guards_staffing",
            user,
            json={"params": {"step_pupils": 400}},
        )
    assert response.status_code == 200
    assert SchoolCompliance.objects.count() == 3
    with django_capture_on_commit_callbacks(execute=True):
        response = api(
            "patch",
            f"{BASE}/rules/guards_staffing",
            user,
            json={"enabled": False, "params": {"step_add": 2}},
        )
    data = response.json()
    assert data["enabled"] is False
    values = {p["name"]: p["value"] for p in data["params"]}
    assert values["step_pupils"] == 400 and values["step_add"] == 2  # merged, not replaced
    rule = ComplianceRule.objects.get(region=world.region, key="guards_staffing")
    assert rule.params == {"step_pupils": 400, "step_add": 2} and not rule.enabled
    assert AuditEvent.objects.filter(object_type="security.compliancerule").count() == 2
    assert all(
        v["rule"] != "guards_staffing"
        for row in SchoolCompliance.objects.all()
        for v in row.verdicts
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"params": {"min_days": 0}}, "video_retention__min_days"),
        ({"params": {"min_days": 366}}, "video_retention__min_days"),
        ({"params": {"min_days": "30"}}, "video_retention__min_days"),
        ({"params": {"min_days": 30.5}}, "video_retention__min_days"),
        ({"params": {"min_days": True}}, "video_retention__min_days"),
        ({"params": {"max_days": 30}}, "video_retention__max_days"),
        ({"params": {"min_days": None}}, "video_retention__min_days"),
        ({"enabled": "yes"}, "enabled"),
        ({"params": [1]}, "params"),
    ],
)
def test_patch_refuses_bad_input_and_writes_nothing(api, world, body, field):
    user = world.users["county"]
    ensure_rules(world.region)
    response = api("patch", f"{BASE}/rules/video_retention", user, json=body)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    rule = ComplianceRule.objects.get(region=world.region, key="video_retention")
    assert rule.params == {} and rule.enabled
    assert not AuditEvent.objects.filter(object_type="security.compliancerule").exists()


def test_patch_cross_parameter_check(api, world):
    response = api(
        "patch",
        f"{BASE}/rules/guards_staffing",
        world.users["county"],
        json={"params": {"small_threshold": 2000}},
    )
    assert response.status_code == 400
    assert "guards_staffing__base_pupils" in response.json()["errors"]
