"""Writes of the defence profile and technical systems: rules, refusals, scope, audit and
re-evaluation of compliance after commit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from huxiao.audit.models import AuditEvent
from huxiao.core.roles import Role
from huxiao.orgs.tests.factories import MembershipFactory, UserFactory
from huxiao.security import defence_services as services
from huxiao.security.choices import Perimeter, SystemKind
from huxiao.security.models import DefenceProfile, TechnicalSystem

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 10)


@pytest.fixture
def reevaluated(monkeypatch):
    calls = []
    monkeypatch.setattr(services, "reevaluate_on_commit", lambda ids: calls.append(list(ids)))
    return calls


def full_profile(**changes) -> dict:
    data = {
        "video_retention_days": 30,
        "monitoring_room": True,
        "monitoring_room_24h": True,
        "perimeter": Perimeter.WALL,
        "bollards": 4,
        "vehicle_barrier": True,
        "speed_bumps": False,
        "parent_waiting_area": True,
        "closed_management": True,
        "gatehouse_24h": True,
        "notes": "东门升降柱",
    }
    data.update(changes)
    return data


def system_data(**changes) -> dict:
    data = {
        "kind": SystemKind.ONE_CLICK_ALARM,
        "name": "门卫室一键报警",
        "location": "门卫室",
        "networked_to_police": True,
        "installed_on": dt.date(2024, 9, 1),
        "last_tested_on": dt.date(2026, 3, 1),
        "today": TODAY,
    }
    data.update(changes)
    return data


def errors_of(excinfo) -> dict:
    return excinfo.value.message_dict


# ------------------------------------------------------------------ profile


def test_first_save_creates_the_profile_audited(world, reevaluated):
    principal = world.users["principal"]
    profile = services.defence_profile_save(actor=principal, school=world.school, **full_profile())
    assert profile.pk and profile.school_id == world.school.pk
    assert profile.video_retention_days == 30 and profile.perimeter == "wall"
    assert profile.updated_by == principal
    event = AuditEvent.objects.get(object_type="security.defenceprofile")
    assert event.action == "create" and event.school_id == world.school.pk
    assert event.changes["after"]["bollards"] == 4
    assert reevaluated == [[world.school.pk]]


def test_later_save_updates_only_what_is_given(world, reevaluated):
    principal = world.users["principal"]
    services.defence_profile_save(actor=principal, school=world.school, **full_profile())
    profile = services.defence_profile_save(
        actor=principal, school=world.school.pk, video_retention_days=15
    )
    assert DefenceProfile.objects.count() == 1
    assert profile.video_retention_days == 15 and profile.bollards == 4
    update = AuditEvent.objects.get(object_type="security.defenceprofile", action="update")
    assert update.changes["fields"]["video_retention_days"] == [30, 15]
    assert len(reevaluated) == 2
    # Saving the same values changes nothing: no audit row, no re-evaluation.
    services.defence_profile_save(actor=principal, school=world.school, video_retention_days=15)
    assert AuditEvent.objects.filter(object_type="security.defenceprofile").count() == 2
    assert len(reevaluated) == 2


def test_retention_may_be_unknown(world, reevaluated):
    profile = services.defence_profile_save(
        actor=world.users["principal"],
        school=world.school,
        **full_profile(video_retention_days=None),
    )
    assert profile.video_retention_days is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("video_retention_days", -1),
        ("video_retention_days", 3651),
        ("video_retention_days", "abc"),
        ("video_retention_days", True),
        ("video_retention_days", 1.5),
        ("bollards", -3),
        ("bollards", 501),
        ("bollards", None),
        ("perimeter", "moat"),
        ("closed_management", "maybe"),
        ("closed_management", None),
        ("gatehouse_24h", 1),
        ("notes", "x" * 2001),
        ("notes", "bad\x00text"),
        ("colour", "red"),
    ],
)
def test_bad_profile_input_writes_nothing(world, reevaluated, field, value):
    with pytest.raises(ValidationError) as excinfo:
        services.defence_profile_save(
            actor=world.users["principal"], school=world.school, **full_profile(**{field: value})
        )
    assert field in errors_of(excinfo)
    assert not DefenceProfile.objects.exists()
    assert not AuditEvent.objects.filter(object_type="security.defenceprofile").exists()
    assert reevaluated == []


def test_retention_bounds_are_inclusive(world, reevaluated):
    principal = world.users["principal"]
    for days in (0, 3650):
        profile = services.defence_profile_save(
            actor=principal, school=world.school, video_retention_days=days
        )
        assert profile.video_retention_days == days


def test_24h_monitoring_without_a_room_is_refused(world, reevaluated):
    principal = world.users["principal"]
    with pytest.raises(ValidationError) as excinfo:
        services.defence_profile_save(
            actor=principal,
            school=world.school,
            **full_profile(monitoring_room=False, monitoring_room_24h=True),
        )
    assert "monitoring_room_24h" in errors_of(excinfo)
    # The first save's row went with the refusal.
    assert not DefenceProfile.objects.exists()
    services.defence_profile_save(actor=principal, school=world.school, **full_profile())
    # Removing the room while it is still staffed 24 hours is refused too.
    with pytest.raises(ValidationError) as excinfo:
        services.defence_profile_save(actor=principal, school=world.school, monitoring_room=False)
    assert "monitoring_room_24h" in errors_of(excinfo)
    assert DefenceProfile.objects.get().monitoring_room is True
    services.defence_profile_save(
        actor=principal, school=world.school, monitoring_room=False, monitoring_room_24h=False
    )
    assert DefenceProfile.objects.get().monitoring_room is False


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("guard", PermissionDenied),
        ("teacher", PermissionDenied),
        ("police", PermissionDenied),
        ("edu", PermissionDenied),
        ("county", PermissionDenied),
        ("principal2", Http404),
        ("farpolice", Http404),
        ("nobody", Http404),
    ],
)
def test_profile_save_rights(world, reevaluated, who, error):
    with pytest.raises(error):
        services.defence_profile_save(actor=world.users[who], school=world.school, **full_profile())
    assert not DefenceProfile.objects.exists()
    assert reevaluated == []


def test_security_officer_may_save(world, reevaluated):
    officer = UserFactory(username="security")
    MembershipFactory(user=officer, organization=world.school, role=Role.SECURITY_OFFICER)
    services.defence_profile_save(actor=officer, school=world.school, **full_profile())
    assert DefenceProfile.objects.filter(school=world.school).exists()


def test_a_non_school_organization_is_not_found(world, reevaluated):
    with pytest.raises(Http404):
        services.defence_profile_save(
            actor=world.users["county"], school=world.station, **full_profile()
        )


# ------------------------------------------------------------------ technical systems


def test_add_update_retire_a_system(world, reevaluated):
    principal = world.users["principal"]
    system = services.technical_system_add(actor=principal, school=world.school, **system_data())
    assert system.is_active and system.networked_to_police and system.updated_by == principal
    assert AuditEvent.objects.get(object_type="security.technicalsystem").action == "create"
    system = services.technical_system_update(
        actor=principal, system=system, networked_to_police=False, today=TODAY
    )
    assert system.networked_to_police is False
    services.technical_system_retire(actor=principal, system=system)
    system.refresh_from_db()
    assert system.is_active is False
    actions = list(
        AuditEvent.objects.filter(object_type="security.technicalsystem")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "update", "update"]
    assert reevaluated == [[world.school.pk]] * 3
    # Retiring again is a state refusal; putting it back in service is an edit.
    with pytest.raises(services.DefenceRefused):
        services.technical_system_retire(actor=principal, system=system)
    services.technical_system_update(actor=principal, system=system.pk, is_active=True)
    system.refresh_from_db()
    assert system.is_active is True


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "laser"}, "kind"),
        ({"name": ""}, "name"),
        ({"name": "  "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "两行\n名字"}, "name"),
        ({"location": "x" * 201}, "location"),
        ({"networked_to_police": "yes"}, "networked_to_police"),
        ({"installed_on": dt.date(2026, 3, 11)}, "installed_on"),
        ({"last_tested_on": dt.date(2026, 3, 11)}, "last_tested_on"),
        ({"installed_on": "2026-02-30"}, "installed_on"),
        ({"installed_on": dt.date(1902, 1, 1)}, "installed_on"),
        (
            {"installed_on": dt.date(2026, 3, 2), "last_tested_on": dt.date(2026, 3, 1)},
            "last_tested_on",
        ),
    ],
)
def test_bad_system_input_writes_nothing(world, reevaluated, changes, field):
    with pytest.raises(ValidationError) as excinfo:
        services.technical_system_add(
            actor=world.users["principal"], school=world.school, **system_data(**changes)
        )
    assert field in errors_of(excinfo)
    assert not TechnicalSystem.objects.exists()
    assert not AuditEvent.objects.filter(object_type="security.technicalsystem").exists()
    assert reevaluated == []


def test_dates_today_and_equal_are_fine(world, reevaluated):
    system = services.technical_system_add(
        actor=world.users["principal"],
        school=world.school,
        **system_data(installed_on=TODAY, last_tested_on=TODAY),
    )
    assert system.installed_on == system.last_tested_on == TODAY


def test_update_checks_dates_against_the_stored_ones(world, reevaluated):
    principal = world.users["principal"]
    system = services.technical_system_add(actor=principal, school=world.school, **system_data())
    with pytest.raises(ValidationError) as excinfo:
        services.technical_system_update(
            actor=principal, system=system, installed_on=dt.date(2026, 3, 5), today=TODAY
        )
    assert "last_tested_on" in errors_of(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        services.technical_system_update(actor=principal, system=system, school=world.other_school)
    assert "school" in errors_of(excinfo)
    system.refresh_from_db()
    assert system.installed_on == dt.date(2024, 9, 1) and system.school_id == world.school.pk
    # Clearing the installation date is fine.
    services.technical_system_update(actor=principal, system=system, installed_on=None)
    system.refresh_from_db()
    assert system.installed_on is None


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("guard", PermissionDenied),
        ("police", PermissionDenied),
        ("gov", PermissionDenied),
        ("principal2", Http404),
        ("farpolice", Http404),
    ],
)
def test_system_rights(world, reevaluated, who, error):
    system = services.technical_system_add(
        actor=world.users["principal"], school=world.school, **system_data()
    )
    reevaluated.clear()
    actor = world.users[who]
    with pytest.raises(error):
        services.technical_system_add(actor=actor, school=world.school, **system_data(name="新"))
    with pytest.raises(error):
        services.technical_system_update(actor=actor, system=system, name="改名")
    with pytest.raises(error):
        services.technical_system_retire(actor=actor, system=system)
    system.refresh_from_db()
    assert system.name == "门卫室一键报警" and system.is_active
    assert TechnicalSystem.objects.count() == 1
    assert reevaluated == []
