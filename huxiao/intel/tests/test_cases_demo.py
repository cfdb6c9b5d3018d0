"""The demo school cases: demo mode only, idempotent, every state, scoped like real cases."""

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

from huxiao.core.roles import OrgKind, Role
from huxiao.intel import cases_selectors
from huxiao.intel.cases_demo import CASES, DemoModeOff, load_demo_cases
from huxiao.intel.models import CaseEvent, SchoolCase, WarningSign
from huxiao.intel.warnings_demo import load_demo_warnings
from huxiao.orgs.tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    SchoolFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

KG, PRIMARY, MIDDLE = "大杨树实验幼儿园", "大杨树中心小学", "大杨树镇中学"


@pytest.fixture
def demo_station(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    station = OrganizationFactory(kind=OrgKind.POLICE_STATION, name="大杨树派出所")
    schools = {
        name: SchoolFactory(town=station.town, police_station=station, name=name)
        for name in (KG, PRIMARY, MIDDLE)
    }
    other = OrganizationFactory(kind=OrgKind.POLICE_STATION, name="另一派出所")
    SchoolFactory(town=other.town, police_station=other, name="外镇学校")
    for username, org, role in (
        ("police", station, Role.POLICE_COMMANDER),
        ("officer", station, Role.POLICE_OFFICER),
        ("guard", schools[KG], Role.GUARD),
        ("principal", schools[KG], Role.PRINCIPAL),
        ("principal2", schools[PRIMARY], Role.PRINCIPAL),
        ("farpolice", other, Role.POLICE_COMMANDER),
    ):
        MembershipFactory(user=UserFactory(username=username), organization=org, role=role)
    return station


def _user(username):
    return get_user_model().objects.get(username=username)


def test_refused_outside_demo_mode(demo_station):
    with override_settings(DEMO_MODE=False), pytest.raises(DemoModeOff):
        load_demo_cases()
    assert not SchoolCase.objects.exists()


@override_settings(DEMO_MODE=True)
def test_loads_once_with_every_state_through_the_services(demo_station):
    assert load_demo_cases() == {"cases": len(CASES)}
    assert load_demo_cases() == {"cases": 0}
    cases = SchoolCase.objects.all()
    assert cases.count() == len(CASES)
    assert set(cases.values_list("status", flat=True)) == {
        "registered",
        "investigating",
        "solved",
        "referred",
        "closed",
    }
    assert set(cases.values_list("station", flat=True)) == {demo_station.pk}
    # Registered by the commander and by the dedicated officer, each with its timeline.
    assert set(cases.values_list("created_by__username", flat=True)) == {"police", "officer"}
    assert set(cases.values_list("officer__username", flat=True)) == {"police", "officer"}
    referred = cases.get(status="referred")
    assert referred.solved_at and referred.referred_at
    assert referred.registered_at < referred.solved_at < referred.referred_at
    assert CaseEvent.objects.filter(case=referred).count() == 4
    # The speed figures have something to show.
    (stats,) = cases_selectors.case_stats(actor=_user("police"))
    assert (stats.solved, stats.referred, stats.closed) == (2, 1, 1)
    assert stats.median_days_to_solve is not None


@override_settings(DEMO_MODE=True)
def test_a_case_links_the_demo_warning_sign_it_grew_out_of(demo_station):
    load_demo_warnings()
    load_demo_cases()
    kg_case = SchoolCase.objects.get(case_number=CASES[0].case_number)
    (sign,) = kg_case.warning_signs.all()
    assert sign.school == kg_case.school and sign.description == CASES[0].sign
    primary_case = SchoolCase.objects.get(case_number=CASES[1].case_number)
    assert primary_case.warning_signs.get().school.name == PRIMARY
    # Only signs of the case's own school.
    for case in SchoolCase.objects.prefetch_related("warning_signs"):
        assert all(s.school_id == case.school_id for s in case.warning_signs.all())
    assert WarningSign.objects.count() == 3


@override_settings(DEMO_MODE=True)
def test_the_cases_are_scoped_like_real_ones(demo_station):
    load_demo_cases()
    police_ids = set(cases_selectors.case_list(actor=_user("police")).values_list("pk", flat=True))
    assert police_ids == set(SchoolCase.objects.values_list("pk", flat=True))
    kg_cases = cases_selectors.case_list(actor=_user("principal"))
    assert {c.school.name for c in kg_cases} == {KG}
    assert kg_cases.count() == sum(1 for c in CASES if c.school == KG)
    assert {c.school.name for c in cases_selectors.case_list(actor=_user("principal2"))} == {
        PRIMARY
    }
    assert not cases_selectors.case_list(actor=_user("farpolice")).exists()


def test_without_the_township_it_does_nothing(db):
    with override_settings(DEMO_MODE=True):
        assert load_demo_cases() == {"cases": 0}
    assert not SchoolCase.objects.exists()
