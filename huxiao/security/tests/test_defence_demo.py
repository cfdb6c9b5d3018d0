"""The demo defences (huxiao.security.defence_demo): demo mode only, through the real
services, idempotent, and showing different states per school. Loading the township takes
a few seconds, so the loaded demo is checked in one test."""

from __future__ import annotations

import pytest

from huxiao.audit.models import AuditEvent
from huxiao.demo.township import DemoModeOff, load_demo_township
from huxiao.patrols.models import Camera
from huxiao.patrols.video_demo import load_demo_video
from huxiao.security.defence_demo import (
    KINDERGARTEN,
    MIDDLE,
    PRIMARY,
    PRIVATE_KG,
    load_demo_defence,
)
from huxiao.security.defence_selectors import defence_facts
from huxiao.security.models import DefenceProfile, TechnicalSystem

pytestmark = pytest.mark.django_db


def test_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(DemoModeOff):
        load_demo_defence()
    assert not DefenceProfile.objects.exists()


def test_does_nothing_without_the_township(settings):
    settings.DEMO_MODE = True
    assert load_demo_defence() == {"profiles": 0, "systems": 0}


def test_the_demo_defences(settings):
    settings.DEMO_MODE = True
    load_demo_township()
    load_demo_video()
    cameras = list(Camera.objects.order_by("id").values())
    created = load_demo_defence()
    assert created == {"profiles": 4, "systems": 9}
    # Through the services: every row audited by the school's principal.
    audited = AuditEvent.objects.filter(
        object_type__in=("security.defenceprofile", "security.technicalsystem")
    )
    assert audited.count() == 13 and not audited.filter(actor=None).exists()
    # The video registry is read, never changed.
    assert list(Camera.objects.order_by("id").values()) == cameras

    profiles = {p.school.name: p for p in DefenceProfile.objects.select_related("school")}
    facts = defence_facts([p.school_id for p in profiles.values()])
    kg = facts[profiles[KINDERGARTEN].school_id]
    assert kg["video_retention_days"] >= 30 and kg["monitoring_room_24h"]
    assert kg["closed_management"] and kg["vehicle_barrier"] and kg["gatehouse_24h"]
    assert kg["one_click_alarms_networked"] >= 1 and kg["cameras_networked"] >= 1
    primary = facts[profiles[PRIMARY].school_id]
    assert primary["video_retention_days"] == 15
    middle = facts[profiles[MIDDLE].school_id]
    assert middle["one_click_alarms"] >= 1 and middle["one_click_alarms_networked"] == 0
    sunshine = facts[profiles[PRIVATE_KG].school_id]
    assert not sunshine["closed_management"] and not sunshine["vehicle_barrier"]

    # A second run writes nothing.
    before = (DefenceProfile.objects.count(), TechnicalSystem.objects.count(), audited.count())
    assert load_demo_defence() == {"profiles": 0, "systems": 0}
    assert (DefenceProfile.objects.count(), TechnicalSystem.objects.count()) == before[:2]
    assert audited.count() == before[2]
