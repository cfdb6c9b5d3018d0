"""`defence_facts`: the figures the compliance rules read, per school, with grouped queries
whose number does not grow with the schools, cameras or systems."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from huxiao.accounts.models import DeviceKind, DeviceToken
from huxiao.orgs.tests.factories import SchoolFactory
from huxiao.patrols.models import Camera
from huxiao.patrols.video_choices import CameraKind
from huxiao.security.choices import Perimeter, SystemKind
from huxiao.security.defence_selectors import PROFILE_DEFAULTS, defence_facts
from huxiao.security.models import DefenceProfile, TechnicalSystem

pytestmark = pytest.mark.django_db
_serial = iter(range(1, 10**6))


def cam(school, kind=CameraKind.GATE, *, active=True, online=True, networked=True):
    return Camera.objects.create(
        school=school,
        device_id=f"13012310001320{next(_serial):06d}",
        name="cam",
        kind=kind,
        is_active=active,
        is_online=online,
        is_networked=networked,
    )


def box(school, *, active=True, kind=DeviceKind.ALARM_BOX):
    n = next(_serial)
    return DeviceToken.objects.create(
        school=school,
        name=f"box{n}",
        kind=kind,
        key_hash=f"{n:064d}",
        prefix="hxd_x",
        is_active=active,
    )


def system(school, kind, *, networked=False, active=True):
    return TechnicalSystem.objects.create(
        school=school, kind=kind, name=kind, networked_to_police=networked, is_active=active
    )


def test_a_school_without_anything_has_the_defaults(world):
    facts = defence_facts([world.school.pk])
    item = facts[world.school.pk]
    assert item["has_profile"] is False
    for name, default in PROFILE_DEFAULTS.items():
        assert item[name] == default
    assert item["cameras_total"] == item["cameras_active"] == item["cameras_networked"] == 0
    assert item["alarm_boxes_active"] == item["one_click_alarms_networked"] == 0
    assert item["systems"] == {} and item["camera_kinds"] == {}


def test_facts_count_what_each_school_has(world):
    s, other = world.school, world.other_school
    DefenceProfile.objects.create(
        school=s,
        video_retention_days=45,
        monitoring_room=True,
        monitoring_room_24h=True,
        perimeter=Perimeter.WALL,
        bollards=3,
        closed_management=True,
    )
    cam(s)
    cam(s, CameraKind.PERIMETER, online=False)
    cam(s, CameraKind.PLAYGROUND, networked=False)
    cam(s, CameraKind.GATE, active=False)  # retired: counted in the total only
    cam(other, networked=False)
    box(s)
    box(s, active=False)
    box(s, kind=DeviceKind.GATE_TERMINAL)
    system(s, SystemKind.ONE_CLICK_ALARM, networked=False)
    system(s, SystemKind.ONE_CLICK_ALARM, networked=True)
    system(s, SystemKind.INTRUSION_ALARM, networked=True)
    system(s, SystemKind.VIDEO_RECORDER, networked=True, active=False)
    system(other, SystemKind.ONE_CLICK_ALARM, networked=False)

    facts = defence_facts([s.pk, other.pk, world.far_school.pk])
    mine = facts[s.pk]
    assert mine["has_profile"] and mine["video_retention_days"] == 45
    assert mine["perimeter"] == "wall" and mine["bollards"] == 3 and mine["closed_management"]
    assert mine["vehicle_barrier"] is False
    assert (mine["cameras_total"], mine["cameras_active"]) == (4, 3)
    assert (mine["cameras_online"], mine["cameras_networked"]) == (2, 2)
    assert mine["camera_kinds"] == {"gate": 1, "perimeter": 1, "playground": 1}
    assert mine["alarm_boxes_active"] == 1
    assert mine["systems"] == {
        "one_click_alarm": {"active": 2, "networked": 1},
        "intrusion_alarm": {"active": 1, "networked": 1},
    }
    # HuXiao alarm boxes reach the police by design.
    assert (mine["one_click_alarms"], mine["one_click_alarms_networked"]) == (3, 2)

    theirs = facts[other.pk]
    assert theirs["has_profile"] is False
    assert (theirs["cameras_active"], theirs["cameras_networked"]) == (1, 0)
    assert (theirs["one_click_alarms"], theirs["one_click_alarms_networked"]) == (1, 0)
    assert facts[world.far_school.pk]["cameras_total"] == 0


def test_accepts_any_iterable_and_duplicates(world):
    facts = defence_facts(iter([world.school.pk, world.school.pk, str(world.other_school.pk)]))
    assert set(facts) == {world.school.pk, world.other_school.pk}
    assert defence_facts([]) == {}


def test_query_count_does_not_grow_with_schools(world):
    def queries(ids) -> int:
        with CaptureQueriesContext(connection) as ctx:
            defence_facts(ids)
        return len(ctx.captured_queries)

    one = queries([world.school.pk])
    schools = [SchoolFactory(town=world.town) for _ in range(30)]
    for index, school in enumerate(schools):
        DefenceProfile.objects.create(school=school, video_retention_days=index)
        cam(school)
        cam(school, CameraKind.PERIMETER, networked=False)
        box(school)
        system(school, SystemKind.PERIMETER_ALARM, networked=True)
    many = queries([s.pk for s in schools])
    assert one == many == 4
    # Past one chunk of ids the queries grow by chunk, never by school.
    assert queries(list(range(1, 1801))) == 8


def test_the_dates_of_the_profile_are_not_facts(world):
    # The facts are plain values (JSON-safe), ready for the verdicts' evidence.
    DefenceProfile.objects.create(school=world.school, video_retention_days=30)
    item = defence_facts([world.school.pk])[world.school.pk]
    assert not any(isinstance(v, dt.date) for v in item.values())
