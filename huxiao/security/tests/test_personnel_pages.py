# ruff: noqa: F811 - pytest fixtures imported from personnel_fixtures are arguments here
"""Pages of the security personnel by role × scope: the list, one person, adding, editing,
leaving, trainings; bad input is 400 with nothing written."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huxiao.people.models import Staff
from huxiao.security.models import GuardProfile, TrainingRecord
from huxiao.security.tests.personnel_fixtures import pworld  # noqa: F401

pytestmark = pytest.mark.django_db

# Who reads a school's personnel page: its staff, the police of the jurisdiction, the town's
# offices, the county; another school and the far police station do not see it.
READ = [
    ("principal", 200),
    ("security", 200),
    ("guard", 200),
    ("teacher", 200),
    ("principal2", 404),
    ("police", 200),
    ("officer", 200),
    ("postofficer", 200),
    ("farpolice", 404),
    ("edu", 200),
    ("gov", 200),
    ("county", 200),
    ("nobody", 403),
]
# Who changes it: the principal and the security officer.
WRITE = [
    ("principal", 200),
    ("security", 200),
    ("guard", 403),
    ("teacher", 403),
    ("principal2", 404),
    ("police", 403),
    ("farpolice", 404),
    ("edu", 403),
    ("gov", 403),
    ("county", 403),
    ("nobody", 403),
]


def _get(client, user, url):
    if user is not None:
        client.force_login(user)
    return client.get(url)


@pytest.mark.parametrize(("name", "status"), READ)
def test_list_scope(client, pworld, name, status):
    response = _get(
        client, pworld.users[name], reverse("security:personnel", args=[pworld.school.pk])
    )
    assert response.status_code == status
    if status == 200:
        content = response.content.decode()
        assert 'data-testid="personnel-list"' in content and "张保安" in content
        assert "李老师" not in content  # a teacher is not security staff
        can_add = 'data-testid="personnel-add"' in content
        assert can_add == (name in ("principal", "security"))


@pytest.mark.parametrize(("name", "status"), READ)
def test_detail_scope(client, pworld, name, status):
    url = reverse("security:personnel_detail", args=[pworld.guard_staff.pk])
    response = _get(client, pworld.users[name], url)
    assert response.status_code == status
    if status == 200:
        assert "冀公保12345678" in response.content.decode()


def test_anonymous_goes_to_login(client, pworld):
    for url in (
        reverse("security:personnel", args=[pworld.school.pk]),
        reverse("security:personnel_detail", args=[pworld.guard_staff.pk]),
        reverse("security:personnel_new", args=[pworld.school.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


def test_teacher_record_and_unknown_ids_are_not_found(client, pworld):
    client.force_login(pworld.users["principal"])
    assert (
        client.get(reverse("security:personnel_detail", args=[pworld.staff.pk])).status_code == 404
    )
    assert client.get(reverse("security:personnel_detail", args=[2**63])).status_code == 404
    assert client.get(reverse("security:personnel", args=[pworld.station.pk])).status_code == 404


@pytest.mark.parametrize(("name", "status"), WRITE)
def test_new_form_scope(client, pworld, name, status):
    url = reverse("security:personnel_new", args=[pworld.school.pk])
    assert _get(client, pworld.users[name], url).status_code == status


@pytest.mark.parametrize(("name", "status"), WRITE)
def test_edit_form_scope(client, pworld, name, status):
    url = reverse("security:personnel_edit", args=[pworld.guard_staff.pk])
    assert _get(client, pworld.users[name], url).status_code == status


NEW = {
    "name": "王门卫",
    "role": "guard",
    "phone": "13812345678",
    "employment": "full_time",
    "employer": "security_company",
    "security_company": "示范县保安服务有限公司",
    "certificate_number": "冀公保87654321",
    "certificate_issued_on": "2024-01-01",
    "certificate_expires_on": "2027-01-01",
    "filed_with_police": "on",
    "filed_on": "2024-02-01",
    "background_check": "passed",
}


def test_add_a_guard(client, pworld):
    client.force_login(pworld.users["security"])
    response = client.post(reverse("security:personnel_new", args=[pworld.school.pk]), NEW)
    assert response.status_code == 302
    record = GuardProfile.objects.get(staff__name="王门卫")
    assert response["Location"] == reverse("security:personnel_detail", args=[record.staff_id])
    assert record.security_company == "示范县保安服务有限公司" and record.filed_with_police


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"certificate_number": "ABC"}, "certificate_number"),
        ({"certificate_expires_on": "2023-01-01"}, "certificate_expires_on"),
        ({"security_company": ""}, "security_company"),
        ({"filed_on": ""}, "filed_on"),
        ({"filed_on": "2999-01-01"}, "filed_on"),
        ({"role": "teacher"}, "role"),
        ({"id_number": "123"}, "id_number"),
    ],
)
def test_add_bad_input_is_400_and_writes_nothing(client, pworld, change, field):
    client.force_login(pworld.users["principal"])
    before = (Staff.objects.count(), GuardProfile.objects.count())
    response = client.post(
        reverse("security:personnel_new", args=[pworld.school.pk]), {**NEW, **change}
    )
    assert response.status_code == 400
    assert response.context["form"].errors.get(field), response.context["form"].errors
    assert (Staff.objects.count(), GuardProfile.objects.count()) == before


def test_add_refused_for_a_guard_login(client, pworld):
    client.force_login(pworld.users["guard"])
    before = Staff.objects.count()
    response = client.post(reverse("security:personnel_new", args=[pworld.school.pk]), NEW)
    assert response.status_code == 403 and Staff.objects.count() == before


def test_edit(client, pworld):
    client.force_login(pworld.users["principal"])
    url = reverse("security:personnel_edit", args=[pworld.guard_staff.pk])
    form = client.get(url).context["form"]
    data = {k: str(v) for k, v in form.initial.items() if v not in (None, False)}
    data["certificate_expires_on"] = "2030-01-01"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    pworld.guard_profile.refresh_from_db()
    assert str(pworld.guard_profile.certificate_expires_on) == "2030-01-01"


def test_edit_prefills_a_first_record_from_the_staff_certificate(client, pworld):
    from huxiao.people.models import Certificate

    staff = Staff.objects.create(school=pworld.school, name="新门卫", role="guard")
    Certificate.objects.create(staff=staff, kind="保安员证", number="冀公保11112222")
    client.force_login(pworld.users["principal"])
    response = client.get(reverse("security:personnel_edit", args=[staff.pk]))
    assert response.context["form"].initial["certificate_number"] == "冀公保11112222"


def test_edit_refused_elsewhere(client, pworld):
    client.force_login(pworld.users["principal2"])
    url = reverse("security:personnel_edit", args=[pworld.guard_staff.pk])
    assert client.post(url, {"name": "x"}).status_code == 404
    client.force_login(pworld.users["teacher"])
    assert client.post(url, {"name": "x"}).status_code == 403
    pworld.guard_staff.refresh_from_db()
    assert pworld.guard_staff.name == "张保安"


def test_left_and_back(client, pworld):
    client.force_login(pworld.users["principal"])
    url = reverse("security:personnel_left", args=[pworld.guard_staff.pk])
    assert client.post(url).status_code == 302
    pworld.guard_staff.refresh_from_db()
    assert not pworld.guard_staff.is_active
    page = client.get(reverse("security:personnel", args=[pworld.school.pk])).content.decode()
    assert 'data-testid="personnel-former"' in page
    client.post(url)
    pworld.guard_staff.refresh_from_db()
    assert pworld.guard_staff.is_active
    client.force_login(pworld.users["guard"])
    assert client.post(url).status_code == 403


def test_trainings(client, pworld):
    client.force_login(pworld.users["principal"])
    add = reverse("security:personnel_training_add", args=[pworld.guard_staff.pk])
    data = {"held_on": "2026-01-10", "topic": "防暴器械使用", "hours": "2.5", "passed": "on"}
    assert client.post(add, data).status_code == 302
    training = TrainingRecord.objects.get()
    assert training.passed and str(training.hours) == "2.5"
    bad = client.post(add, {**data, "hours": "120"})
    assert bad.status_code == 400 and bad.context["training_form"].errors.get("hours")
    assert client.post(add, {**data, "held_on": "2999-01-01"}).status_code == 400
    assert TrainingRecord.objects.count() == 1

    delete = reverse("security:personnel_training_delete", args=[training.pk])
    client.force_login(pworld.users["principal2"])
    assert client.post(delete).status_code == 404
    client.force_login(pworld.users["guard"])
    assert client.post(delete).status_code == 403
    assert client.post(add, data).status_code == 403
    client.force_login(pworld.users["security"])
    assert client.post(delete).status_code == 302
    assert not TrainingRecord.objects.exists()


def test_badges_on_the_list(client, pworld):
    pworld.guard_profile.filed_with_police = False
    pworld.guard_profile.save()
    client.force_login(pworld.users["police"])
    page = client.get(reverse("security:personnel", args=[pworld.school.pk])).content.decode()
    assert 'data-testid="badge-not_filed"' in page and 'data-testid="badge-no_training"' in page
