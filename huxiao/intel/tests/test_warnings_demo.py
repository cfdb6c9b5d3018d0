"""The demo warnings: demo mode only, idempotent, one acknowledged and one open warning."""

import pytest
from django.test import override_settings

from huxiao.core.roles import OrgKind, Role
from huxiao.intel.models import EarlyWarning, WarningSign
from huxiao.intel.warnings_demo import SIGNS, DemoModeOff, load_demo_warnings
from huxiao.orgs.tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    SchoolFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_station(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    station = OrganizationFactory(kind=OrgKind.POLICE_STATION, name="大杨树派出所")
    schools = {
        name: SchoolFactory(town=station.town, police_station=station, name=name)
        for name in ("大杨树实验幼儿园", "大杨树中心小学", "大杨树镇中学")
    }
    for username, org, role in (
        ("police", station, Role.POLICE_COMMANDER),
        ("officer", station, Role.POLICE_OFFICER),
        ("guard", schools["大杨树实验幼儿园"], Role.GUARD),
        ("principal2", schools["大杨树中心小学"], Role.PRINCIPAL),
    ):
        MembershipFactory(user=UserFactory(username=username), organization=org, role=role)
    return station


def test_refused_outside_demo_mode(demo_station):
    with override_settings(DEMO_MODE=False), pytest.raises(DemoModeOff):
        load_demo_warnings()
    assert not WarningSign.objects.exists()


@override_settings(DEMO_MODE=True)
def test_loads_once(demo_station):
    assert load_demo_warnings() == {"signs": len(SIGNS), "early": 2}
    assert load_demo_warnings() == {"signs": 0, "early": 0}
    assert set(WarningSign.objects.values_list("status", flat=True)) == {
        "action_taken",
        "assessing",
        "reported",
    }
    acked, open_ = EarlyWarning.objects.order_by("issued_at")
    assert not acked.recipients.filter(acknowledged_at__isnull=True).exists()
    assert open_.recipients.count() == 3
    assert not open_.recipients.filter(acknowledged_at__isnull=False).exists()
