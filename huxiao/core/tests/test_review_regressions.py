"""Regressions for defects found in the foundation review (each named after the finding)."""

import io
import time
import zipfile

import pytest
from django.test import RequestFactory, override_settings

from huxiao.audit.models import AuditEvent
from huxiao.core.roles import Action, Role
from huxiao.core.scoping import visible_school_ids
from huxiao.orgs.tests.factories import MembershipFactory, SchoolFactory, UserFactory


def test_staff_of_a_school_without_town_are_not_county_auditors(world, api):
    county_school = SchoolFactory(town=None, region=world.region)
    guard = UserFactory(username="countyguard")
    MembershipFactory(user=guard, organization=county_school, role=Role.GUARD)
    assert visible_school_ids(guard, Action.VIEW_AUDIT) == frozenset()
    assert visible_school_ids(guard, Action.VIEW) == {county_school.pk}
    assert api("get", "/api/v1/audit", guard).json()["count"] == 0


def test_names_with_control_characters_are_refused(world, api):
    response = api(
        "patch",
        f"/api/v1/children/{world.child.pk}",
        world.users["principal"],
        json={"name": "王\x01小明"},
    )
    assert response.status_code == 400 and "name" in response.json()["errors"]
    nul = api(
        "patch",
        f"/api/v1/schools/{world.school.pk}",
        world.users["principal"],
        json={"landlord": "a\x00b"},
    )
    assert nul.status_code == 400 and "landlord" in nul.json()["errors"]


def test_exports_never_contain_formulas(world, client):
    from huxiao.people.services import child_update

    child_update(actor=world.users["principal"], child=world.child, name='=HYPERLINK("http://x")')
    client.force_login(world.users["principal"])
    response = client.get(f"/imports/export/{world.school.pk}/children/")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as book:
        sheet = next(name for name in book.namelist() if name.startswith("xl/worksheets/sheet"))
        assert b"<f>" not in book.read(sheet)


@override_settings(HUXIAO_TRUSTED_PROXIES=frozenset({"10.0.0.1"}))
def test_client_address_behind_a_trusted_proxy():
    from huxiao.core.middleware import client_ip

    factory = RequestFactory()
    proxied = factory.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.2.3.4")
    assert client_ip(proxied) == "1.2.3.4"
    direct = factory.get("/", REMOTE_ADDR="5.5.5.5", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_ip(direct) == "5.5.5.5"


def test_a_sheet_numbering_its_row_in_the_millions_is_refused_quickly(world):
    from huxiao.imports.tests.sheets import xlsx
    from huxiao.imports.validation import validate_workbook

    data = xlsx(["班级", "姓名", "性别", "身份证号"], [])
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        parts = {name: book.read(name) for name in book.namelist()}
    name = next(n for n in parts if n.startswith("xl/worksheets/sheet"))
    parts[name] = parts[name].replace(
        b"</sheetData>",
        b'<row r="4000000"><c r="A4000000" t="inlineStr"><is><t>x</t></is></c></row></sheetData>',
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:
        for part, content in parts.items():
            book.writestr(part, content)
    started = time.perf_counter()
    outcome, _rows = validate_workbook(kind="children", school=world.school, data=buffer.getvalue())
    assert time.perf_counter() - started < 2
    assert outcome.error_count >= 1


@pytest.mark.parametrize(
    "path, payload",
    [
        ("/api/v1/schools/{school}", {"is_boarding": None}),
        ("/api/v1/schools/{school}", {"enrolment": 2**63}),
        ("/api/v1/schools/{school}", {"enrolment": 2**40}),
        ("/api/v1/schools/{school}", {"unknown_field": 1}),
        ("/api/v1/guardians/{guardian}", {"can_pick_up": None}),
        ("/api/v1/children/{child}", {"is_active": None}),
    ],
)
def test_bad_patches_are_400_and_change_nothing(world, api, path, payload):
    from huxiao.orgs.models import Organization
    from huxiao.people.models import Guardian

    before = (list(Organization.objects.values()), list(Guardian.objects.values()))
    url = path.format(school=world.school.pk, guardian=world.guardian.pk, child=world.child.pk)
    response = api("patch", url, world.users["principal"], json=payload)
    assert response.status_code == 400, response.content
    assert (list(Organization.objects.values()), list(Guardian.objects.values())) == before


@pytest.mark.parametrize(
    "path, status",
    [
        ("/api/v1/children?offset=9999999999999999999999999", 200),
        ("/api/v1/children?school_id=9999999999999999999999999", 400),
        ("/api/v1/audit?user_id=9999999999999999999999999", 400),
        ("/api/v1/children/9999999999999999999999999", 400),
    ],
)
def test_absurd_numbers_are_not_server_errors(world, api, path, status):
    assert api("get", path, world.users["county"]).status_code == status


def test_audit_page_with_absurd_numbers(world, client):
    client.force_login(world.users["county"])
    response = client.get("/audit/?user=9999999999999999999999999&school=-5")
    assert response.status_code == 200


def test_device_token_secrets_stay_out_of_the_trail(world):
    from huxiao.accounts.services import device_token_issue

    device, token = device_token_issue(
        actor=world.users["principal"], school=world.school, name="报警箱", kind="alarm_box"
    )
    event = AuditEvent.objects.get(object_type="accounts.devicetoken")
    assert "key_hash" not in event.changes["after"] and "prefix" not in event.changes["after"]
    assert token[:8] not in str(event.changes)


def test_lookup_hash_survives_data_key_rotation(settings):
    from huxiao.core import crypto

    settings.HUXIAO_HASH_KEY = "stable-hash-key"
    settings.HUXIAO_DATA_KEY = "old-data-key"
    sealed = crypto.encrypt("110101202103040017")
    before = crypto.lookup_hash("110101202103040017")
    settings.HUXIAO_DATA_KEY = "new-data-key"
    settings.HUXIAO_DATA_KEYS_OLD = ["old-data-key"]
    assert crypto.lookup_hash("110101202103040017") == before
    assert crypto.decrypt(sealed) == "110101202103040017"


def test_deleting_staff_audits_their_certificates(world):
    from huxiao.people.services import certificate_add, staff_delete

    certificate_add(actor=world.users["principal"], staff=world.staff, kind="保安员证", number="A1")
    staff_delete(actor=world.users["principal"], staff=world.staff)
    assert AuditEvent.objects.filter(action="delete", object_type="people.certificate").exists()


def test_noop_update_writes_no_audit_row(world):
    from huxiao.people.services import child_update

    before = AuditEvent.objects.count()
    child_update(actor=world.users["principal"], child=world.child, name=world.child.name)
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(
    "path",
    [
        "/people/children/99999999999999999999999/",
        "/people/classes/99999999999999999999999/",
        "/people/staff/99999999999999999999999/",
        "/orgs/schools/99999999999999999999999/",
        "/imports/99999999999999999999999/",
        "/people/classes/?school=99999999999999999999999",
    ],
)
def test_absurd_ids_in_page_paths_are_not_found(world, client, path):
    client.force_login(world.users["county"])
    assert client.get(path).status_code in (200, 404)
