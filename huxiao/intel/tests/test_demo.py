"""The demo register: demo mode only, idempotent, the demo station's police only."""

import pytest
from django.test import override_settings

from huxiao.core.roles import OrgKind, Role
from huxiao.intel.demo import PEOPLE, DemoModeOff, load_demo_register
from huxiao.intel.models import HighRiskPerson
from huxiao.orgs.tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    SchoolFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_station(db):
    station = OrganizationFactory(kind=OrgKind.POLICE_STATION, name="大杨树派出所")
    for name in ("大杨树实验幼儿园", "大杨树中心小学", "大杨树镇中学"):
        SchoolFactory(town=station.town, police_station=station, name=name)
    for username, role in (("police", Role.POLICE_COMMANDER), ("officer", Role.POLICE_OFFICER)):
        MembershipFactory(user=UserFactory(username=username), organization=station, role=role)
    return station


def test_refused_outside_demo_mode(demo_station):
    with override_settings(DEMO_MODE=False), pytest.raises(DemoModeOff):
        load_demo_register()
    assert not HighRiskPerson.objects.exists()


@override_settings(DEMO_MODE=True)
def test_loads_once_and_again_changes_nothing(demo_station, api):
    first = load_demo_register()
    assert first == {"created": len(PEOPLE), "total": len(PEOPLE)}
    assert load_demo_register() == {"created": 0, "total": len(PEOPLE)}
    persons = HighRiskPerson.objects.filter(station=demo_station)
    assert persons.filter(status="active").count() == len(PEOPLE) - 1
    assert {p.decrypt_name() for p in persons} == {p.name for p in PEOPLE}
    from django.contrib.auth import get_user_model

    police = get_user_model().objects.get(username="police")
    data = api("get", "/api/v1/register/persons?review=due", user=police).json()
    assert data["count"] >= 1  # something to review in the demo


def test_without_the_township_it_does_nothing(db):
    with override_settings(DEMO_MODE=True):
        assert load_demo_register() == {"created": 0, "total": 0}
