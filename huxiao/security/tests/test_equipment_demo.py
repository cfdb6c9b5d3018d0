"""The demo equipment (huxiao.security.equipment_demo): demo mode only, through the real
services, idempotent, with the states its docstring promises."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from huxiao.demo.township import DemoModeOff, load_demo_township
from huxiao.orgs.models import Organization
from huxiao.security import equipment_selectors as sel
from huxiao.security.equipment_demo import load_demo_equipment
from huxiao.security.models import EquipmentIssue, EquipmentType, SchoolEquipment
from huxiao.security.personnel_demo import (
    KINDERGARTEN,
    MIDDLE,
    PRIMARY,
    PRIVATE_KG,
    load_demo_personnel,
)

User = get_user_model()
pytestmark = pytest.mark.django_db


def _missing(name: str) -> set[str]:
    school = Organization.objects.get(name=name)
    county = User.objects.get(username="county")
    return {r.item.key for r in sel.stock_rows(actor=county, school=school) if r.missing}


def test_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(DemoModeOff):
        load_demo_equipment()
    assert not EquipmentType.objects.exists()


def test_does_nothing_without_the_township(settings):
    settings.DEMO_MODE = True
    assert load_demo_equipment() == {"schools": 0, "items": 0, "issues": 0}


def test_loads_once_with_different_states(settings):
    settings.DEMO_MODE = True
    load_demo_township()
    load_demo_personnel()
    assert load_demo_equipment() == {"schools": 4, "items": 32, "issues": 6}
    counts = (
        EquipmentType.objects.count(),
        SchoolEquipment.objects.count(),
        EquipmentIssue.objects.count(),
    )
    assert load_demo_equipment() == {"schools": 0, "items": 0, "issues": 0}
    assert counts == (
        EquipmentType.objects.count(),
        SchoolEquipment.objects.count(),
        EquipmentIssue.objects.count(),
    )
    assert counts[0] == 8
    assert _missing(KINDERGARTEN) == set()
    assert _missing(PRIVATE_KG) == set()
    assert _missing(PRIMARY) == {"pepper_spray"}
    assert _missing(MIDDLE) == {"steel_fork", "flashlight"}
    assert len(_missing("红星村小学")) == 8
