"""Legal vice-principal assignments: role × scope, the membership that follows them, one
active per school, bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from huxiao.audit.models import AuditEvent
from huxiao.core.roles import Action, OrgKind, Role
from huxiao.core.scoping import can, clear_scope_cache
from huxiao.orgs.models import Membership
from huxiao.orgs.tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from huxiao.patrols import lvp_services
from huxiao.patrols.models import LegalVicePrincipal
from huxiao.patrols.tests.video_fixtures import expect

pytestmark = pytest.mark.django_db
TERM = dt.date(2025, 9, 1)


def _user(world, who):
    return None if who == "anonymous" else world.users[who]


def assign(world, school=None, officer=None, **extra):
    return lvp_services.lvp_assign(
        actor=world.users["police"],
        school=school or world.school,
        officer=officer or world.users["officer"],
        term_start=extra.pop("term_start", TERM),
        appointment_no=extra.pop("appointment_no", "示公字〔2025〕8号"),
        **extra,
    )


def lvp_membership(world, user=None):
    return Membership.objects.filter(
        user=user or world.users["officer"],
        organization=world.station,
        role=Role.LEGAL_VICE_PRINCIPAL,
    ).first()


@pytest.fixture
def lvp(people):
    people.lvp = assign(people)
    return people


VIEWERS = {
    "police",
    "officer",
    "postofficer",
    "principal",
    "guard",
    "teacher",
    "edu",
    "gov",
    "county",
    "health",
}


@pytest.mark.parametrize(
    ("who", "status"),
    expect({200: VIEWERS, 404: {"farpolice", "principal2"}}).items(),
)
def test_detail_matrix(lvp, api, who, status):
    r = api("get", f"/api/v1/patrols/lvp/assignments/{lvp.lvp.pk}", _user(lvp, who))
    assert r.status_code == status, r.content
    if status == 200:
        assert r.json()["appointment_no"] == "示公字〔2025〕8号"
        assert r.json()["is_active"] is True


@pytest.mark.parametrize(
    ("who", "status"),
    expect({200: VIEWERS | {"farpolice", "principal2"}}).items(),
)
def test_list_matrix(lvp, api, who, status):
    r = api("get", "/api/v1/patrols/lvp/assignments", _user(lvp, who))
    assert r.status_code == status
    if status == 200:
        assert r.json()["count"] == (1 if who in VIEWERS else 0)


@pytest.mark.parametrize(("who", "status"), expect({201: {"police"}, 404: {"farpolice"}}).items())
def test_assign_matrix(people, api, who, status):
    r = api(
        "post",
        "/api/v1/patrols/lvp/assignments",
        _user(people, who),
        json={
            "school_id": people.school.pk,
            "officer_id": people.users["officer"].pk,
            "term_start": "2025-09-01",
            "term_end": "2028-08-31",
            "appointment_no": "示公字〔2025〕8号",
        },
    )
    assert r.status_code == status, r.content
    assert LegalVicePrincipal.objects.count() == (1 if status == 201 else 0)
    assert (lvp_membership(people) is not None) == (status == 201)


@pytest.mark.parametrize(
    ("who", "status"),
    expect({200: {"police"}, 404: {"farpolice", "principal2"}}).items(),
)
def test_end_matrix(lvp, api, who, status):
    r = api(
        "post",
        f"/api/v1/patrols/lvp/assignments/{lvp.lvp.pk}/end",
        _user(lvp, who),
        json={"reason": "任期届满"},
    )
    assert r.status_code == status, r.content
    lvp.lvp.refresh_from_db()
    assert lvp.lvp.is_active is (status != 200)
    assert lvp_membership(lvp).is_active is (status != 200)


def test_membership_follows_assignments(people):
    w = people
    first = assign(w)
    membership = lvp_membership(w)
    assert membership.is_active and membership.title == "本园法制副校长"
    officer = w.users["officer"]
    clear_scope_cache(officer)
    assert can(officer, Action.VIEW, w.school.pk)
    second = assign(w, w.other_school, appointment_no="示公字〔2025〕9号")
    membership.refresh_from_db()
    assert membership.title == "同镇学校、本园法制副校长"
    assert Membership.objects.filter(user=officer, role=Role.LEGAL_VICE_PRINCIPAL).count() == 1
    lvp_services.lvp_end(actor=w.users["police"], assignment=first, reason="调岗")
    membership.refresh_from_db()
    assert membership.is_active and membership.title == "同镇学校法制副校长"
    lvp_services.lvp_end(actor=w.users["police"], assignment=second)
    membership.refresh_from_db()
    assert not membership.is_active
    # Its police-officer membership is untouched.
    assert Membership.objects.get(user=officer, role=Role.POLICE_OFFICER).is_active
    # Re-appointed: the same membership comes back.
    assign(w, appointment_no="示公字〔2026〕1号")
    membership.refresh_from_db()
    assert membership.is_active and membership.title == "本园法制副校长"
    assert AuditEvent.objects.filter(object_type__contains="membership").count() >= 4


def test_one_active_per_school(lvp, api):
    r = api(
        "post",
        "/api/v1/patrols/lvp/assignments",
        lvp.users["police"],
        json={
            "school_id": lvp.school.pk,
            "officer_id": lvp.users["police"].pk,
            "term_start": "2025-09-01",
            "appointment_no": "X1",
        },
    )
    assert r.status_code == 400
    assert "school_id" in r.json()["errors"]
    assert LegalVicePrincipal.objects.count() == 1
    assert lvp_membership(lvp, lvp.users["police"]) is None


def test_officer_of_a_post_only_is_not_appointed(people):
    # The LVP membership at the station would widen a post officer's scope (ADR 0020).
    with pytest.raises(ValidationError):
        assign(people, officer=people.users["postofficer"])
    a = assign(people, officer=people.users["police"])
    assert a.station == people.station


def test_officer_must_be_police_of_the_station(people):
    outsider = UserFactory(username="outsider")
    lh_post = OrganizationFactory(
        kind=OrgKind.POLICE_POST, town=people.other_town, parent=people.other_station
    )
    MembershipFactory(user=outsider, organization=lh_post, role=Role.POLICE_OFFICER)
    for officer in (
        people.users["farpolice"],
        people.users["principal"],
        people.users["nobody"],
        outsider,
    ):
        with pytest.raises(ValidationError) as exc:
            assign(people, officer=officer)
        assert "officer_id" in exc.value.message_dict
    # A former officer (membership ended) cannot be appointed either.
    Membership.objects.filter(user=people.users["officer"]).update(is_active=False)
    with pytest.raises(ValidationError):
        assign(people)
    assert not LegalVicePrincipal.objects.exists()
    assert not Membership.objects.filter(role=Role.LEGAL_VICE_PRINCIPAL).exists()


@pytest.mark.parametrize(
    "change",
    [
        {"term_start": "2025-13-01"},
        {"term_start": "1900-01-01"},
        {"term_end": "2025-08-31"},
        {"term_end": "2025-09-01"},
        {"appointment_no": ""},
        {"appointment_no": "x" * 61},
        {"appointment_no": "a\x00b"},
        {"officer_id": 10**12},
        {"officer_id": 0},
        {"school_id": "abc"},
        {"extra": 1},
    ],
)
def test_assign_bad_input(people, api, change):
    payload = {
        "school_id": people.school.pk,
        "officer_id": people.users["officer"].pk,
        "term_start": "2025-09-01",
        "appointment_no": "示公字〔2025〕8号",
    }
    payload.update(change)
    r = api("post", "/api/v1/patrols/lvp/assignments", people.users["police"], json=payload)
    assert r.status_code == 400, r.content
    assert r.json()["errors"]
    assert not LegalVicePrincipal.objects.exists()
    assert lvp_membership(people) is None


def test_assign_school_of_another_station_is_404(people, api):
    r = api(
        "post",
        "/api/v1/patrols/lvp/assignments",
        people.users["police"],
        json={
            "school_id": people.far_school.pk,
            "officer_id": people.users["officer"].pk,
            "term_start": "2025-09-01",
            "appointment_no": "X",
        },
    )
    assert r.status_code == 404


def test_end_twice_is_400(lvp, api):
    path = f"/api/v1/patrols/lvp/assignments/{lvp.lvp.pk}/end"
    assert api("post", path, lvp.users["police"], json={}).status_code == 200
    r = api("post", path, lvp.users["police"], json={})
    assert r.status_code == 400


def test_list_filters(lvp, api):
    path = "/api/v1/patrols/lvp/assignments"
    police = lvp.users["police"]
    assert api("get", f"{path}?active=false", police).json()["count"] == 0
    assert api("get", f"{path}?station_id={lvp.station.pk}", police).json()["count"] == 1
    assert api("get", f"{path}?school_id={lvp.other_school.pk}", police).json()["count"] == 0
