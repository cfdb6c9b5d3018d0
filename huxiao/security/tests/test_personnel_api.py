# ruff: noqa: F811 - pytest fixtures imported from personnel_fixtures are arguments here
"""The personnel API by role × scope: list, detail, create, patch, trainings; bad input is
400 by field with nothing written; the response shapes."""

from __future__ import annotations

import pytest

from huxiao.people.models import Staff
from huxiao.security.models import GuardProfile, TrainingRecord
from huxiao.security.tests.personnel_fixtures import pworld  # noqa: F401

pytestmark = pytest.mark.django_db

READ = [
    ("principal", 200),
    ("security", 200),
    ("guard", 200),
    ("teacher", 200),
    ("principal2", 404),
    ("police", 200),
    ("farpolice", 404),
    ("edu", 200),
    ("gov", 200),
    ("county", 200),
    ("nobody", 403),
]
WRITE = [
    ("principal", None),
    ("security", None),
    ("guard", 403),
    ("teacher", 403),
    ("principal2", 404),
    ("police", 403),
    ("farpolice", 404),
    ("edu", 403),
    ("county", 403),
    ("nobody", 403),
]


def test_anonymous_is_401(api, pworld):
    assert api("get", f"/api/v1/security/schools/{pworld.school.pk}/personnel").status_code == 401
    assert api("get", f"/api/v1/security/personnel/{pworld.guard_staff.pk}").status_code == 401


@pytest.mark.parametrize(("name", "status"), READ)
def test_list_and_detail_scope(api, pworld, name, status):
    user = pworld.users[name]
    response = api("get", f"/api/v1/security/schools/{pworld.school.pk}/personnel", user)
    assert response.status_code == status
    detail = api("get", f"/api/v1/security/personnel/{pworld.guard_staff.pk}", user)
    assert detail.status_code == status
    if status == 200:
        data = response.json()
        assert data["count"] == 1
        item = data["items"][0]
        assert item["name"] == "张保安" and item["role"] == "guard"
        assert item["profile"]["certificate_number"] == "冀公保12345678"
        assert item["certificate"] == "valid"
        assert [b["code"] for b in item["badges"]] == ["no_training"]
        assert detail.json()["trainings"] == []


def test_not_a_security_post_is_404(api, pworld):
    response = api(
        "get", f"/api/v1/security/personnel/{pworld.staff.pk}", pworld.users["principal"]
    )
    assert response.status_code == 404


PERSON = {
    "name": "王门卫",
    "phone": "13812345678",
    "employer": "security_company",
    "security_company": "示范县保安服务有限公司",
    "certificate_number": "冀公保87654321",
    "certificate_issued_on": "2024-01-01",
    "certificate_expires_on": "2099-01-01",
    "filed_with_police": True,
    "filed_on": "2024-02-01",
}


@pytest.mark.parametrize(("name", "status"), WRITE)
def test_create_scope(api, pworld, name, status):
    before = Staff.objects.count()
    response = api(
        "post", f"/api/v1/security/schools/{pworld.school.pk}/personnel", pworld.users[name], PERSON
    )
    if status is None:
        assert response.status_code == 201, response.json()
        data = response.json()
        assert data["name"] == "王门卫" and data["profile"]["filed_with_police"] is True
        assert data["trainings"] == []
        assert GuardProfile.objects.filter(staff_id=data["id"]).exists()
    else:
        assert response.status_code == status
        assert Staff.objects.count() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"certificate_number": "冀"}, "certificate_number"),
        ({"certificate_expires_on": "2023-01-01"}, "certificate_expires_on"),
        ({"filed_on": None}, "filed_on"),
        ({"security_company": ""}, "security_company"),
        ({"role": "teacher"}, "role"),
        ({"role": "pilot"}, "role"),
        ({"employment": "sometimes"}, "employment"),
        ({"hired_on": "not a date"}, "hired_on"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_create_bad_input(api, pworld, change, field):
    before = (Staff.objects.count(), GuardProfile.objects.count())
    response = api(
        "post",
        f"/api/v1/security/schools/{pworld.school.pk}/personnel",
        pworld.users["principal"],
        {**PERSON, **change},
    )
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert (Staff.objects.count(), GuardProfile.objects.count()) == before


@pytest.mark.parametrize(("name", "status"), WRITE)
def test_patch_scope(api, pworld, name, status):
    response = api(
        "patch",
        f"/api/v1/security/personnel/{pworld.guard_staff.pk}",
        pworld.users[name],
        {"employment": "part_time"},
    )
    pworld.guard_profile.refresh_from_db()
    if status is None:
        assert response.status_code == 200
        assert response.json()["profile"]["employment"] == "part_time"
    else:
        assert response.status_code == status
        assert pworld.guard_profile.employment == "full_time"


def test_patch_bad_input_changes_nothing(api, pworld):
    url = f"/api/v1/security/personnel/{pworld.guard_staff.pk}"
    principal = pworld.users["principal"]
    response = api("patch", url, principal, {"phone": "13900001111", "filed_on": "2999-01-01"})
    assert response.status_code == 400 and "filed_on" in response.json()["errors"]
    pworld.guard_staff.refresh_from_db()
    assert pworld.guard_staff.phone == "13900139000"
    response = api("patch", url, principal, {"filed_with_police": None})
    assert response.status_code == 400 and "filed_with_police" in response.json()["errors"]


def test_patch_creates_the_record_of_other_staff(api, pworld):
    staff = Staff.objects.create(school=pworld.school, name="宿管", role="dormitory_manager")
    response = api(
        "patch",
        f"/api/v1/security/personnel/{staff.pk}",
        pworld.users["security"],
        {"hired_on": "2025-09-01"},
    )
    assert response.status_code == 200 and response.json()["profile"]["hired_on"] == "2025-09-01"


def test_trainings(api, pworld):
    url = f"/api/v1/security/personnel/{pworld.guard_staff.pk}/trainings"
    principal = pworld.users["principal"]
    body = {"held_on": "2026-01-10", "topic": "复训", "hours": "8", "provider": "治安大队"}
    created = api("post", url, principal, body)
    assert created.status_code == 201
    assert created.json()["hours"] in ("8.0", 8.0, "8")
    for bad, field in (({"hours": "100"}, "hours"), ({"held_on": "2999-01-01"}, "held_on")):
        response = api("post", url, principal, {**body, **bad})
        assert response.status_code == 400 and field in response.json()["errors"]
    assert api("post", url, pworld.users["guard"], body).status_code == 403
    assert api("post", url, pworld.users["principal2"], body).status_code == 404
    assert TrainingRecord.objects.count() == 1

    listed = api("get", url, pworld.users["police"])
    assert listed.status_code == 200 and listed.json()["count"] == 1
    training_id = created.json()["id"]
    delete = f"/api/v1/security/trainings/{training_id}"
    assert api("delete", delete, pworld.users["teacher"]).status_code == 403
    assert api("delete", delete, pworld.users["principal2"]).status_code == 404
    assert api("delete", delete, pworld.users["county"]).status_code == 403
    assert api("delete", delete, pworld.users["security"]).status_code == 204
    assert not TrainingRecord.objects.exists()


def test_absurd_ids_are_400_or_404(api, pworld):
    principal = pworld.users["principal"]
    assert api("get", f"/api/v1/security/personnel/{2**64}", principal).status_code in (400, 404)
    assert api("get", "/api/v1/security/schools/0/personnel", principal).status_code in (400, 404)
