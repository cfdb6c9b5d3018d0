"""Services of the four-party directory: phone rules, one first-to-call per party, the
organization link, who may edit which party, "fill from organizations", audit rows, and
nothing written on bad input."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from huxiao.audit.models import AuditEvent
from huxiao.core.roles import OrgKind
from huxiao.health import directory_selectors as sel
from huxiao.health import directory_services as services
from huxiao.health.choices import Party
from huxiao.health.models import HealthContact
from huxiao.orgs.tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db
TYPE = "health.healthcontact"


def _audits(action=None) -> int:
    qs = AuditEvent.objects.filter(object_type=TYPE)
    return qs.filter(action=action).count() if action else qs.count()


def _add(w, user="principal", **fields):
    data = {"party": Party.SCHOOL, "name": "刘芳", "phone": "13812345678", **fields}
    return services.health_contact_create(actor=w.users[user], school=w.school, **data)


# ------------------------------------------------------------------ phone numbers


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("13812345678", "13812345678"),
        (" 138 1234 5678 ", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),  # full-width digits
        ("0311-85213120", "0311-85213120"),
        ("0311 85213120", "0311-85213120"),
        ("031185213120", "0311-85213120"),
        ("0311－85213120", "0311-85213120"),  # full-width hyphen
        ("0311—85213120", "0311-85213120"),  # dash typed by an input method
        ("(0311)85213120", "0311-85213120"),
        ("（0311）85213120", "0311-85213120"),
        ("010-12345678", "010-12345678"),
        ("01012345678", "010-12345678"),
        ("0398-1234567", "0398-1234567"),
    ],
)
def test_phone_numbers_are_normalised(raw, clean):
    assert services.clean_directory_phone(raw) == clean


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "12345678901",  # 12… is not a mobile prefix
        "1381234567",  # 10 digits
        "138123456789",  # 12 digits
        "85213120",  # landline without its area code
        "0311-852131",  # too short
        "0311-852131200",  # too long
        "abc",
        "110",
        "0311-8521312O",  # a letter O
        "13812345678;drop",
    ],
)
def test_bad_phone_numbers_are_refused(raw):
    with pytest.raises(ValidationError) as err:
        services.clean_directory_phone(raw)
    assert err.value.code in ("phone", "required")


# ------------------------------------------------------------------ create


def test_principal_adds_a_contact_linked_to_the_party_default(hworld):
    w = hworld
    contact = _add(
        w, party=Party.GOVERNMENT, name="孙建民", title="分管副镇长", phone="0311 85213000"
    )
    assert contact.organization == w.government
    assert contact.phone == "0311-85213000"
    assert contact.is_primary  # the only one of its party
    assert contact.updated_by == w.users["principal"]
    event = AuditEvent.objects.get(object_type=TYPE, object_id=str(contact.pk))
    assert event.action == "create" and event.school_id == w.school.pk
    centre = _add(w, party=Party.HEALTH_CENTRE, name="郑晓梅")
    assert centre.organization == w.health_centre
    central = _add(w, party=Party.CENTRAL_SCHOOL, name="周文明")
    assert central.organization == w.education_office
    own = _add(w, party=Party.SCHOOL, name="郭秀兰")
    assert own.organization == w.school


def test_one_first_to_call_per_party(hworld):
    w = hworld
    first = _add(w, name="甲")
    second = _add(w, name="乙")
    assert first.is_primary and not second.is_primary
    assert second.sort_order > first.sort_order
    third = _add(w, name="丙", is_primary=True)
    first.refresh_from_db()
    assert third.is_primary and not first.is_primary
    assert HealthContact.objects.filter(school=w.school, is_primary=True).count() == 1
    # The mark taken from the first contact is audited too.
    assert AuditEvent.objects.filter(
        object_type=TYPE, object_id=str(first.pk), action="update"
    ).exists()
    # Another party keeps its own first-to-call.
    gov = _add(w, party=Party.GOVERNMENT, name="丁")
    assert gov.is_primary
    assert HealthContact.objects.filter(school=w.school, is_primary=True).count() == 2


def test_bad_input_is_refused_by_field_and_nothing_is_written(hworld):
    w = hworld
    with pytest.raises(ValidationError) as err:
        services.health_contact_create(
            actor=w.users["principal"],
            school=w.school,
            party="police",
            name="  ",
            phone="85213120",
            title="x\ny",
            sort_order="1000",
        )
    assert set(err.value.message_dict) == {"party", "name", "phone", "title", "sort_order"}
    # Chinese after the lead compiles the translations:
    # "请输入手机号（1开头的11位数字）或带区号的固定电话，如 0311-85213120。"
    assert not HealthContact.objects.exists() and _audits() == 0


def test_organization_must_belong_to_the_party_and_the_town(hworld):
    w = hworld
    far_centre = OrganizationFactory(kind=OrgKind.HEALTH_CENTRE, town=w.other_town)
    for party, org in (
        (Party.HEALTH_CENTRE, w.station),  # a police station is no health centre
        (Party.HEALTH_CENTRE, far_centre),  # another town's
        (Party.SCHOOL, w.other_school),
        (Party.GOVERNMENT, w.health_centre),
    ):
        with pytest.raises(ValidationError) as err:
            _add(w, party=party, organization_id=org.pk)
        assert set(err.value.message_dict) == {"organization_id"}
    assert not HealthContact.objects.exists()
    none = _add(w, party=Party.HEALTH_CENTRE, name="村医", organization_id=None)
    assert none.organization is None
    county = _add(w, party=Party.HEALTH_CENTRE, name="县卫健局", organization_id=w.health_bureau.pk)
    assert county.organization == w.health_bureau


# ------------------------------------------------------------------ who edits what


def test_health_officer_edits_only_health_centre_entries_of_schools_served(hworld):
    w = hworld
    health = w.users["health"]
    assert sel.editable_parties(health, w.school) == {Party.HEALTH_CENTRE}
    contact = _add(w, "health", party=Party.HEALTH_CENTRE, name="王医生", title="防保科医生")
    assert contact.updated_by == health
    with pytest.raises(PermissionDenied):
        _add(w, "health", party=Party.GOVERNMENT)
    own = _add(w, party=Party.SCHOOL, name="刘芳")
    with pytest.raises(PermissionDenied):
        services.health_contact_update(actor=health, contact=own, name="改")
    with pytest.raises(PermissionDenied):
        services.health_contact_delete(actor=health, contact=own)
    with pytest.raises(PermissionDenied):  # moving its entry to another party
        services.health_contact_update(actor=health, contact=contact, party=Party.GOVERNMENT)
    own.refresh_from_db()
    contact.refresh_from_db()
    assert own.name == "刘芳" and contact.party == Party.HEALTH_CENTRE
    # A school served by another health centre is not theirs to edit.
    other_centre = OrganizationFactory(kind=OrgKind.HEALTH_CENTRE, town=w.town)
    w.other_school.health_centre = other_centre
    w.other_school.save()
    assert sel.editable_parties(health, w.other_school) == frozenset()
    # The county health bureau edits the health-centre entries of every school.
    assert sel.editable_parties(w.users["countyhealth"], w.far_school) == {Party.HEALTH_CENTRE}


@pytest.mark.parametrize("name", ["teacher", "dutylead", "guard", "edu", "liaison", "police"])
def test_roles_without_manage_health_cannot_write(hworld, name):
    w = hworld
    with pytest.raises(PermissionDenied):
        _add(w, name)
    with pytest.raises(PermissionDenied):
        services.health_contacts_fill(actor=w.users[name], school=w.school)
    assert not HealthContact.objects.exists() and _audits() == 0


def test_school_members_edit_every_party(hworld):
    w = hworld
    for name in ("principal", "nurse"):
        assert sel.editable_parties(w.users[name], w.school) == set(Party.values)
        assert sel.editable_parties(w.users[name], w.other_school) == frozenset()


# ------------------------------------------------------------------ update and delete


def test_update_moves_party_with_its_default_organization(hworld):
    w = hworld
    contact = _add(w, party=Party.SCHOOL, name="周文明", title="安全督导专干")
    updated = services.health_contact_update(
        actor=w.users["nurse"], contact=contact, party=Party.CENTRAL_SCHOOL, phone="0311-85213201"
    )
    assert updated.party == Party.CENTRAL_SCHOOL
    assert updated.organization == w.education_office
    assert updated.phone == "0311-85213201" and updated.updated_by == w.users["nurse"]
    event = AuditEvent.objects.filter(object_type=TYPE, action="update").latest("at")
    assert {"party", "phone", "organization"} <= set(event.changes["fields"])
    before = _audits()
    services.health_contact_update(actor=w.users["nurse"], contact=updated, name="周文明")
    assert _audits() == before  # nothing changed, nothing audited


def test_update_bad_input_changes_nothing(hworld):
    w = hworld
    contact = _add(w)
    before = _audits()
    with pytest.raises(ValidationError) as err:
        services.health_contact_update(
            actor=w.users["principal"], contact=contact, name="新名字", phone="12"
        )
    assert set(err.value.message_dict) == {"phone"}
    contact.refresh_from_db()
    assert contact.name == "刘芳" and _audits() == before


def test_delete_is_audited(hworld):
    w = hworld
    contact = _add(w)
    pk = contact.pk
    services.health_contact_delete(actor=w.users["principal"], contact=contact)
    assert not HealthContact.objects.filter(pk=pk).exists()
    assert AuditEvent.objects.filter(object_type=TYPE, object_id=str(pk), action="delete").exists()


def _primaries(w) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for party, name in HealthContact.objects.filter(school=w.school, is_primary=True).values_list(
        "party", "name"
    ):
        found.setdefault(party, []).append(name)
    return found


def test_moving_the_first_to_call_keeps_one_per_party(hworld):
    # The mark belongs to the party: moving the school's first-to-call to the health
    # centre's party neither takes the centre's mark nor leaves the school without one.
    w = hworld
    first = _add(w, name="甲")
    _add(w, name="乙")
    _add(w, party=Party.HEALTH_CENTRE, name="丙")
    moved = services.health_contact_update(
        actor=w.users["principal"], contact=first, party=Party.HEALTH_CENTRE
    )
    assert not moved.is_primary
    assert _primaries(w) == {Party.HEALTH_CENTRE: ["丙"], Party.SCHOOL: ["乙"]}
    second = HealthContact.objects.get(name="乙")
    assert AuditEvent.objects.filter(
        object_type=TYPE, object_id=str(second.pk), action="update"
    ).exists()
    # Moved into a party of its own, or marked in the same change, it is the one to call.
    moved = services.health_contact_update(
        actor=w.users["principal"], contact=moved, party=Party.GOVERNMENT
    )
    assert moved.is_primary
    services.health_contact_update(
        actor=w.users["principal"], contact=moved, party=Party.SCHOOL, is_primary=True
    )
    assert _primaries(w) == {Party.HEALTH_CENTRE: ["丙"], Party.SCHOOL: ["甲"]}


def test_removing_the_first_to_call_passes_the_mark_on(hworld):
    w = hworld
    first = _add(w, name="甲")
    _add(w, name="乙", sort_order=50)
    _add(w, name="丙", sort_order=20)
    services.health_contact_delete(actor=w.users["principal"], contact=first)
    assert _primaries(w) == {Party.SCHOOL: ["丙"]}
    # Removing one who is not first to call changes no mark.
    services.health_contact_delete(
        actor=w.users["principal"], contact=HealthContact.objects.get(name="乙")
    )
    assert _primaries(w) == {Party.SCHOOL: ["丙"]}


# ------------------------------------------------------------------ fill from organizations


def test_fill_adds_switchboards_once_where_a_party_has_none(hworld):
    w = hworld
    w.education_office.phone = "0311-85213201"
    w.education_office.save()
    w.school.phone = "not a number"
    w.school.save()
    _add(w, party=Party.GOVERNMENT, name="孙建民")
    added = services.health_contacts_fill(actor=w.users["principal"], school=w.school)
    assert {c.party for c in added} == {Party.HEALTH_CENTRE, Party.CENTRAL_SCHOOL}
    centre = next(c for c in added if c.party == Party.HEALTH_CENTRE)
    assert (centre.name, centre.phone, centre.is_primary) == ("卫生院", "0311-85213120", True)
    assert centre.organization == w.health_centre
    assert _audits("create") == 3
    assert services.health_contacts_fill(actor=w.users["principal"], school=w.school) == []
    assert HealthContact.objects.count() == 3


def test_health_officer_fills_only_the_health_centre(hworld):
    w = hworld
    added = services.health_contacts_fill(actor=w.users["health"], school=w.school)
    assert [c.party for c in added] == [Party.HEALTH_CENTRE]
