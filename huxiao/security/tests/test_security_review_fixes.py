# ruff: noqa: F811 - pytest fixtures imported from personnel_fixtures are arguments here
"""Regression tests of the review findings on the security app (issue 7, ADR 0028): one
section per finding.

1. compliance follows the facts the other apps keep (staff, school enrolment, imports);
2. the last item of a county's equipment list is not deleted (409);
3. the equipment issue date has its own message, not the certificate's;
4. a guard with no security record counts as full-time on the page as in compliance;
5. PATCH personnel with `null` for a field that always has a value is a 400;
6. no date of the app is before 1980-01-01;
7. a keeper of two counties' rules edits either (`?region=` / `region_id`), 404 otherwise;
8. returning issued items needs no body; out of reach is 404 whatever the body.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from huxiao.core.roles import OrgKind, Role
from huxiao.core.scoping import clear_scope_cache
from huxiao.imports.choices import ImportKind, ImportStatus
from huxiao.orgs.tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    RegionFactory,
    UserFactory,
)
from huxiao.people.tests.factories import StaffFactory
from huxiao.security import compliance
from huxiao.security import equipment_services as es
from huxiao.security import personnel_services as ps
from huxiao.security.defaults import ensure_equipment_types
from huxiao.security.models import (
    ComplianceRule,
    EquipmentIssue,
    EquipmentType,
    GuardProfile,
    SchoolCompliance,
    SchoolEquipment,
    TrainingRecord,
)
from huxiao.security.rules import ensure_rules
from huxiao.security.tests.personnel_fixtures import T, day, pworld  # noqa: F401

P = "/api/v1"


def verdict(school, rule: str) -> dict:
    row = SchoolCompliance.objects.get(school=school)
    return next(v for v in row.verdicts if v["rule"] == rule)


@pytest.fixture
def evaluations(monkeypatch):
    """The school ids of every evaluation that runs (the real one still runs)."""
    calls: list[list[int]] = []
    real = compliance.evaluate_schools

    def spy(school_ids, **kwargs):
        calls.append(sorted(school_ids))
        return real(school_ids, **kwargs)

    monkeypatch.setattr(compliance, "evaluate_schools", spy)
    return calls


# ------------------------------------------------------------------ 1. stale compliance


def test_people_staff_update_reevaluates(pworld, django_capture_on_commit_callbacks):
    from huxiao.people import services as people_services

    w = pworld
    compliance.evaluate_schools([w.school.pk])
    assert verdict(w.school, "guards_certified")["verdict"] == "pass"
    with django_capture_on_commit_callbacks(execute=True):
        people_services.staff_update(
            actor=w.users["principal"], staff=w.guard_staff, background_check="failed"
        )
    assert verdict(w.school, "guards_certified")["verdict"] == "fail"


def test_people_staff_create_and_delete_reevaluate(pworld, django_capture_on_commit_callbacks):
    from huxiao.people import services as people_services

    w = pworld
    compliance.evaluate_schools([w.school.pk])
    assert verdict(w.school, "guards_staffing")["actual"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        staff = people_services.staff_create(
            actor=w.users["principal"], school=w.school, name="新保安", role="guard"
        )
    assert verdict(w.school, "guards_staffing")["actual"] == 2
    with django_capture_on_commit_callbacks(execute=True):
        people_services.staff_delete(actor=w.users["principal"], staff=staff)
    assert verdict(w.school, "guards_staffing")["actual"] == 1


def test_refused_staff_change_evaluates_nothing(pworld, evaluations):
    from huxiao.people import services as people_services

    w = pworld
    with pytest.raises(ValidationError):
        people_services.staff_update(actor=w.users["principal"], staff=w.guard_staff, name="")
    assert evaluations == []


def test_school_update_reevaluates_only_for_compliance_facts(
    pworld, evaluations, django_capture_on_commit_callbacks
):
    from huxiao.orgs import services as orgs_services

    w = pworld
    principal = w.users["principal"]
    with django_capture_on_commit_callbacks(execute=True):
        orgs_services.school_update(actor=principal, school=w.school, enrolment=2000)
    assert evaluations == [[w.school.pk]]
    staffing = verdict(w.school, "guards_staffing")
    assert (staffing["verdict"], staffing["required"]) == ("fail", 5)
    with django_capture_on_commit_callbacks(execute=True):
        orgs_services.school_update(actor=principal, school=w.school, is_boarding=True)
    assert len(evaluations) == 2
    # Name, phone, the same enrolment again: nothing the rules read.
    with django_capture_on_commit_callbacks(execute=True):
        orgs_services.school_update(
            actor=principal, school=w.school, name="新园名", phone="010-12345678", enrolment=2000
        )
    assert len(evaluations) == 2


def test_staff_import_reevaluates_once(pworld, evaluations, django_capture_on_commit_callbacks):
    from huxiao.imports import services as import_services
    from huxiao.imports.tests.sheets import upload, xlsx

    w = pworld
    principal = w.users["principal"]
    header = ["姓名", "岗位", "电话", "身份证号(可选)", "背景审查", "审查日期"]
    rows = [
        ["王保安", "保安", "13900000001", "", "通过", "2024-08-20"],
        ["赵保安", "保安", "13900000002", "", "通过", "2024-08-20"],
    ]
    with django_capture_on_commit_callbacks(execute=True):
        job = import_services.import_job_create(
            actor=principal,
            school=w.school,
            kind=ImportKind.STAFF,
            uploaded_file=upload(xlsx(header, rows)),
        )
    job.refresh_from_db()
    assert evaluations == []
    with django_capture_on_commit_callbacks(execute=True):
        job = import_services.import_job_commit(actor=principal, job=job)
    assert job.status == ImportStatus.DONE, job.errors
    assert evaluations == [[w.school.pk]]
    assert verdict(w.school, "guards_staffing")["actual"] == 3


# ------------------------------------------------------------------ 2. the last list item


def test_last_equipment_item_is_not_deleted_api(pworld, api):
    county = pworld.users["county"]
    ids = [i.pk for i in ensure_equipment_types(pworld.region)]
    for pk in ids[:-1]:
        response = api("delete", f"{P}/security/equipment-types/{pk}", county)
        assert response.status_code == 200 and response.json() == {"deleted": True}
    response = api("delete", f"{P}/security/equipment-types/{ids[-1]}", county)
    assert response.status_code == 409
    assert response.json()["detail"]
    listed = api("get", f"{P}/security/equipment-types", county).json()
    assert [i["id"] for i in listed["items"]] == [ids[-1]]  # the shipped eight not back
    assert EquipmentType.objects.filter(region=pworld.region).count() == 1
    # Marked not required: that is how a county says it needs nothing.
    response = api(
        "patch", f"{P}/security/equipment-types/{ids[-1]}", county, json={"is_required": False}
    )
    assert response.status_code == 200 and response.json()["is_required"] is False


def test_last_equipment_item_held_by_a_school_is_marked_not_required(pworld):
    w = pworld
    items = ensure_equipment_types(w.region)
    for item in items[1:]:
        es.equipment_type_remove(actor=w.users["county"], equipment_type=item)
    es.stock_set(actor=w.users["principal"], school=w.school, equipment_type=items[0], quantity=1)
    assert es.equipment_type_remove(actor=w.users["county"], equipment_type=items[0]) is False
    items[0].refresh_from_db()
    assert items[0].is_required is False


def test_last_equipment_item_is_not_deleted_page(pworld, client):
    w = pworld
    items = ensure_equipment_types(w.region)
    for item in items[1:]:
        es.equipment_type_remove(actor=w.users["county"], equipment_type=item)
    client.force_login(w.users["county"])
    response = client.post(reverse("security:equipment_type_remove", args=[items[0].pk]))
    assert response.status_code == 409
    assert 'data-testid="refusal"' in response.content.decode()
    assert EquipmentType.objects.filter(pk=items[0].pk).exists()


# ------------------------------------------------------------------ 3. separate messages


def test_issue_date_and_certificate_date_have_their_own_messages(pworld):
    w = pworld
    helmet = ensure_equipment_types(w.region)[0]
    es.stock_set(actor=w.users["principal"], school=w.school, equipment_type=helmet, quantity=2)
    with translation.override("en"):
        with pytest.raises(ValidationError) as issue:
            es.equipment_issue(
                actor=w.users["principal"],
                school=w.school,
                equipment_type=helmet,
                staff=w.guard_staff,
                issued_on=day(1),
                today=T,
            )
        with pytest.raises(ValidationError) as certificate:
            ps.guard_update(
                actor=w.users["principal"],
                staff=w.guard_staff,
                certificate_issued_on=day(1),
                today=T,
            )
        issue_message = issue.value.message_dict["issued_on"]
        certificate_message = certificate.value.message_dict["certificate_issued_on"]
    assert issue_message == ["The date the items were issued is in the future."]
    assert certificate_message == ["The issue date is in the future."]


# ------------------------------------------------------------------ 4. full-time count


def test_guard_without_record_counts_full_time_on_the_page(pworld, client):
    w = pworld
    StaffFactory(school=w.school, name="导入保安", role="guard", background_check="passed")
    part = StaffFactory(school=w.school, name="兼职保安", role="guard")
    GuardProfile.objects.create(staff=part, employment="part_time")
    compliance.evaluate_schools([w.school.pk])
    client.force_login(w.users["principal"])
    html = client.get(reverse("security:personnel", args=[w.school.pk])).content.decode()
    shown = int(re.search(r'data-testid="full-time-guards">(\d+)', html).group(1))
    assert shown == verdict(w.school, "guards_staffing")["actual"] == 2


# ------------------------------------------------------------------ 5. null in PATCH


@pytest.mark.parametrize(
    "field", ["background_check", "name", "role", "is_active", "employment", "employer"]
)
def test_patch_null_is_refused(pworld, api, field):
    w = pworld
    response = api(
        "patch",
        f"{P}/security/personnel/{w.guard_staff.pk}",
        w.users["principal"],
        json={field: None},
    )
    assert response.status_code == 400
    assert field in response.json()["errors"]
    w.guard_staff.refresh_from_db()
    assert w.guard_staff.background_check == "passed" and w.guard_staff.is_active


def test_patch_null_scope_and_role_first(pworld, api):
    w = pworld
    body = {"background_check": None}
    url = f"{P}/security/personnel/{w.guard_staff.pk}"
    assert api("patch", url, json=body).status_code == 401
    assert api("patch", url, w.users["principal2"], json=body).status_code == 404
    assert api("patch", url, w.users["police"], json=body).status_code == 403
    other = f"{P}/security/personnel/{w.other_guard.pk}"
    assert api("patch", other, w.users["principal"], json=body).status_code == 404


def test_patch_null_still_clears_texts_and_dates(pworld, api):
    w = pworld
    response = api(
        "patch",
        f"{P}/security/personnel/{w.guard_staff.pk}",
        w.users["principal"],
        json={"notes": None, "background_checked_on": None},
    )
    assert response.status_code == 200
    assert response.json()["background_check"] == "passed"


# ------------------------------------------------------------------ 6. earliest date


def _errors(func, **kwargs) -> dict:
    with pytest.raises(ValidationError) as exc:
        func(**kwargs)
    return exc.value.message_dict


@pytest.mark.parametrize(
    "field",
    [
        "hired_on",
        "certificate_issued_on",
        "certificate_expires_on",
        "filed_on",
        "background_checked_on",
    ],
)
def test_personnel_dates_before_1980_refused(pworld, field):
    w = pworld
    errors = _errors(
        ps.guard_update,
        actor=w.users["principal"],
        staff=w.guard_staff,
        today=T,
        **{field: dt.date(1979, 12, 31)},
    )
    assert field in errors


def test_earliest_date_itself_is_accepted(pworld):
    w = pworld
    ps.guard_update(actor=w.users["principal"], staff=w.guard_staff, hired_on="1980-01-01", today=T)
    ps.training_add(
        actor=w.users["principal"],
        staff=w.guard_staff,
        held_on="1980-01-01",
        topic="岗前培训",
        hours=8,
        today=T,
    )
    assert TrainingRecord.objects.filter(held_on=dt.date(1980, 1, 1)).exists()


def test_training_and_equipment_dates_before_1980_refused(pworld, api):
    w = pworld
    u = w.users["principal"]
    response = api(
        "post",
        f"{P}/security/personnel/{w.guard_staff.pk}/trainings",
        u,
        json={"held_on": "0001-01-01", "topic": "t", "hours": 1},
    )
    assert response.status_code == 400 and "held_on" in response.json()["errors"]
    helmet = ensure_equipment_types(w.region)[0]
    response = api(
        "patch",
        f"{P}/security/schools/{w.school.pk}/equipment/{helmet.pk}",
        u,
        json={"quantity": 3, "last_checked_on": "1900-01-01"},
    )
    assert response.status_code == 400 and "last_checked_on" in response.json()["errors"]
    assert not SchoolEquipment.objects.exists()
    es.stock_set(actor=u, school=w.school, equipment_type=helmet, quantity=3)
    response = api(
        "post",
        f"{P}/security/schools/{w.school.pk}/equipment/{helmet.pk}/issues",
        u,
        json={"staff_id": w.guard_staff.pk, "issued_on": "1979-01-01"},
    )
    assert response.status_code == 400 and "issued_on" in response.json()["errors"]
    assert not EquipmentIssue.objects.exists()
    assert not TrainingRecord.objects.exists()


def test_training_page_refuses_old_date(pworld, client):
    w = pworld
    client.force_login(w.users["principal"])
    response = client.post(
        reverse("security:personnel_training_add", args=[w.guard_staff.pk]),
        {"held_on": "1902-03-04", "topic": "岗前培训", "hours": "2", "passed": "on"},
    )
    assert response.status_code == 400
    assert not TrainingRecord.objects.exists()


# ------------------------------------------------------------------ 7. two counties


@pytest.fixture
def two_counties(pworld):
    """`county` also keeps the rules of a second county; a third county is nobody's here."""
    w = pworld
    w.region2 = RegionFactory(name="第二县")
    office = OrganizationFactory(
        kind=OrgKind.EDUCATION_OFFICE, town=None, region=w.region2, name="第二县教育局"
    )
    MembershipFactory(user=w.users["county"], organization=office, role=Role.EDUCATION_SUPERVISOR)
    clear_scope_cache(w.users["county"])
    w.region3 = RegionFactory(name="第三县")
    third = OrganizationFactory(
        kind=OrgKind.GOVERNANCE_OFFICE, town=None, region=w.region3, name="第三县综治中心"
    )
    w.users["county3"] = UserFactory(username="county3")
    MembershipFactory(user=w.users["county3"], organization=third, role=Role.GOVERNANCE_COORDINATOR)
    return w


def _enabled(region, key: str) -> bool:
    return ComplianceRule.objects.get(region=region, key=key).enabled


def test_rules_api_second_county(two_counties, api, django_capture_on_commit_callbacks):
    w = two_counties
    county = w.users["county"]
    ensure_rules(w.region)
    listed = api("get", f"{P}/security/rules?region_id={w.region2.pk}", county)
    assert listed.status_code == 200 and listed.json()["region_id"] == w.region2.pk
    one = api("get", f"{P}/security/rules/closed_management?region_id={w.region2.pk}", county)
    assert one.status_code == 200 and one.json()["region_id"] == w.region2.pk
    with django_capture_on_commit_callbacks(execute=True):
        saved = api(
            "patch",
            f"{P}/security/rules/closed_management?region_id={w.region2.pk}",
            county,
            json={"enabled": False},
        )
    assert saved.status_code == 200 and saved.json()["enabled"] is False
    assert not _enabled(w.region2, "closed_management")
    assert _enabled(w.region, "closed_management")
    # Without region_id: the first county, as before.
    default = api("get", f"{P}/security/rules", county).json()
    assert default["region_id"] == w.region.pk


def test_rules_api_other_county_is_404(two_counties, api):
    w = two_counties
    ensure_rules(w.region3)
    for user, region in [(w.users["county"], w.region3), (w.users["county3"], w.region)]:
        base = f"{P}/security/rules"
        assert api("get", f"{base}?region_id={region.pk}", user).status_code == 404
        assert (
            api("get", f"{base}/closed_management?region_id={region.pk}", user).status_code == 404
        )
        response = api(
            "patch",
            f"{base}/closed_management?region_id={region.pk}",
            user,
            json={"enabled": False},
        )
        assert response.status_code == 404
    assert (
        api("get", f"{P}/security/rules?region_id=99999999", w.users["county"]).status_code == 404
    )
    assert (
        api("get", f"{P}/security/rules?region_id={w.region.pk}", w.users["edu"]).status_code == 403
    )
    assert api("get", f"{P}/security/rules?region_id={w.region.pk}").status_code == 401
    assert ComplianceRule.objects.filter(enabled=False).count() == 0


def _rule_form(region, **overrides) -> dict:
    from huxiao.security import rules as R

    data = {}
    for rule in ensure_rules(region):
        if rule.enabled:
            data[f"{rule.key}__enabled"] = "on"
        for name, value in R.effective_params(rule.key, rule.params).items():
            data[f"{rule.key}__{name}"] = str(value)
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def test_rules_page_second_county(two_counties, client, django_capture_on_commit_callbacks):
    w = two_counties
    client.force_login(w.users["county"])
    url = reverse("security:rules")
    page = client.get(url).content.decode()
    assert f'data-testid="rule-region-{w.region2.pk}"' in page
    page = client.get(f"{url}?region={w.region2.pk}")
    assert page.status_code == 200 and "第二县" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{url}?region={w.region2.pk}",
            _rule_form(w.region2, closed_management__enabled=None),
        )
    assert response.status_code == 302 and response["Location"].endswith(f"?region={w.region2.pk}")
    assert not _enabled(w.region2, "closed_management")
    assert _enabled(w.region, "closed_management")


def test_rules_page_other_county_is_404(two_counties, client):
    w = two_counties
    url = reverse("security:rules")
    client.force_login(w.users["county"])
    assert client.get(f"{url}?region={w.region3.pk}").status_code == 404
    # Not a county id at all (too long): ignored, like on the equipment list page.
    assert client.get(f"{url}?region=99999999999999999999").status_code == 200
    response = client.post(
        f"{url}?region={w.region3.pk}", _rule_form(w.region3, closed_management__enabled=None)
    )
    assert response.status_code == 404
    assert _enabled(w.region3, "closed_management")
    client.force_login(w.users["edu"])
    assert client.get(f"{url}?region={w.region.pk}").status_code == 403


# ------------------------------------------------------------------ 8. return without body


@pytest.fixture
def issued(pworld):
    w = pworld
    helmet = ensure_equipment_types(w.region)[0]
    es.stock_set(actor=w.users["principal"], school=w.school, equipment_type=helmet, quantity=3)
    w.issue = es.equipment_issue(
        actor=w.users["principal"], school=w.school, equipment_type=helmet, staff=w.guard_staff
    )
    return w


def _return(api, issue_id, user, **kwargs):
    headers = {}
    if user is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {api.token_for(user)}"
    return api.client.post(f"{P}/security/equipment/issues/{issue_id}/return", **kwargs, **headers)


@pytest.mark.parametrize(
    "body",
    [
        {},  # the test client's empty multipart form
        {"data": "", "content_type": "application/json"},
        {"data": "", "content_type": "application/x-www-form-urlencoded"},
        {"data": "null", "content_type": "application/json"},
        {"data": "{}", "content_type": "application/json"},
    ],
)
def test_return_without_body(issued, api, body):
    w = issued
    response = _return(api, w.issue.pk, w.users["principal"], **body)
    assert response.status_code == 200, response.content
    w.issue.refresh_from_db()
    assert w.issue.returned_on is not None
    # The second time: refused by state, still whatever the body.
    assert _return(api, w.issue.pk, w.users["principal"], **body).status_code == 409


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"data": "returned_on=x", "content_type": "application/x-www-form-urlencoded"},
        {"data": "not json", "content_type": "application/json"},
        {"data": "{}", "content_type": "application/json"},
    ],
)
def test_return_out_of_reach_is_404_whatever_the_body(issued, api, body):
    w = issued
    for name in ("principal2", "farpolice"):
        assert _return(api, w.issue.pk, w.users[name], **body).status_code == 404
    assert _return(api, 99999999, w.users["principal"], **body).status_code == 404
    assert _return(api, w.issue.pk, None, **body).status_code == 401
    assert _return(api, w.issue.pk, w.users["police"], **body).status_code == 403
    w.issue.refresh_from_db()
    assert w.issue.returned_on is None


def test_return_body_is_still_checked(issued, api):
    w = issued
    u = w.users["principal"]
    issued_day = w.issue.issued_on.isoformat()
    for kwargs, field in [
        ({"data": {"returned_on": "x"}, "content_type": "application/json"}, "returned_on"),
        ({"data": {"other": 1}, "content_type": "application/json"}, "other"),
        ({"data": "[1]", "content_type": "application/json"}, "__all__"),
        (
            {"data": "returned_on=bad", "content_type": "application/x-www-form-urlencoded"},
            "returned_on",
        ),
    ]:
        response = _return(api, w.issue.pk, u, **kwargs)
        assert response.status_code == 400, kwargs
        assert field in response.json()["errors"], response.json()
    assert (
        _return(api, w.issue.pk, u, data="{bad", content_type="application/json").status_code == 400
    )
    w.issue.refresh_from_db()
    assert w.issue.returned_on is None
    response = _return(
        api,
        w.issue.pk,
        u,
        data=f"returned_on={issued_day}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200 and response.json()["returned_on"] == issued_day
