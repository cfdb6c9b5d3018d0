"""The demo security records (huxiao.security.personnel_demo): demo mode only, through the
real services, idempotent, with the states its docstring promises."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from huxiao.demo.township import DemoModeOff, load_demo_township
from huxiao.orgs.models import Organization
from huxiao.security import personnel_selectors as sel
from huxiao.security.models import GuardProfile, TrainingRecord
from huxiao.security.personnel_demo import (
    KINDERGARTEN,
    MIDDLE,
    PRIMARY,
    PRIVATE_KG,
    load_demo_personnel,
)

User = get_user_model()
pytestmark = pytest.mark.django_db


def _codes(school_name: str) -> dict[str, set[str]]:
    school = Organization.objects.get(name=school_name)
    county = User.objects.get(username="county")
    return {
        s.staff.name: {b.code for b in s.badges}
        for s in sel.personnel_statuses(actor=county, school_id=school.pk)
    }


def test_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(DemoModeOff):
        load_demo_personnel()
    assert not GuardProfile.objects.exists()


def test_does_nothing_without_the_township(settings):
    settings.DEMO_MODE = True
    assert load_demo_personnel() == {"schools": 0, "records": 0, "trainings": 0}


def test_loads_once_with_different_states(settings):
    settings.DEMO_MODE = True
    load_demo_township()
    first = load_demo_personnel()
    assert first["schools"] == 4 and first["records"] >= 13 and first["trainings"] >= 13
    counts = (GuardProfile.objects.count(), TrainingRecord.objects.count())
    assert load_demo_personnel() == {"schools": 0, "records": 0, "trainings": 0}
    assert (GuardProfile.objects.count(), TrainingRecord.objects.count()) == counts

    assert all(not codes for codes in _codes(KINDERGARTEN).values())
    primary = list(_codes(PRIMARY).values())
    assert sum("no_training" in codes for codes in primary) == 1
    middle = Organization.objects.get(name=MIDDLE)
    guards = GuardProfile.objects.filter(staff__school=middle, staff__role="guard")
    assert sorted(guards.values_list("employment", flat=True)) == ["full_time", "part_time"]
    assert (
        GuardProfile.objects.filter(staff__school=middle, staff__role="dormitory_manager").count()
        == 2
    )
    sunshine = [codes for codes in _codes(PRIVATE_KG).values() if "not_filed" in codes]
    assert len(sunshine) == 2
    assert any("cert_expiring" in c for c in sunshine)
    assert any({"cert_expired", "background"} <= c for c in sunshine)
