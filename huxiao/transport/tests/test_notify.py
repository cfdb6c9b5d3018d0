"""One recipient helper for every school-bus message (ADR 0031): the school's principals and
security officers, the police of its station and campus post; inactive people never hear."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from huxiao.core.roles import Role
from huxiao.orgs.models import Membership
from huxiao.orgs.tests.factories import MembershipFactory, UserFactory
from huxiao.transport import fleet_services, inspection_services, trip_services
from huxiao.transport.notify import COMMANDERS, platform_text, told_about, told_about_one

pytestmark = pytest.mark.django_db


def names(ids) -> list[str]:
    by_pk = dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))
    return [by_pk[pk] for pk in ids]


@pytest.fixture
def security(world):
    user = UserFactory(username="security")
    MembershipFactory(user=user, organization=world.school, role=Role.SECURITY_OFFICER)
    return user


def test_everyone_of_the_school_and_its_police_in_a_stable_order(world, security):
    assert names(told_about_one(world.school)) == [
        "principal",
        "security",
        "police",
        "officer",
        "postofficer",
    ]
    # An id works like the organization; a school without a post has only its station.
    assert told_about_one(world.school.pk) == told_about_one(world.school)
    assert names(told_about_one(world.other_school)) == ["principal2", "police", "officer"]
    assert names(told_about_one(world.far_school)) == ["farpolice"]


def test_each_side_on_its_own(world, security):
    schools = [world.school, world.other_school, world.far_school]
    leads = told_about(schools, police_roles=())
    assert {pk: names(ids) for pk, ids in leads.items()} == {
        world.school.pk: ["principal", "security"],
        world.other_school.pk: ["principal2"],
        world.far_school.pk: [],
    }
    commanders = told_about_one(world.school, school_roles=(), police_roles=COMMANDERS, posts=False)
    assert names(commanders) == ["police"]


def test_fixed_number_of_queries(world, security, django_assert_max_num_queries):
    ids = [world.school.pk, world.other_school.pk, world.far_school.pk]
    with django_assert_max_num_queries(2):
        told_about(ids)


def test_inactive_people_are_not_told(world, security):
    Membership.objects.filter(user=security).update(is_active=False)
    get_user_model().objects.filter(username="officer").update(is_active=False)
    assert names(told_about_one(world.school)) == ["principal", "police", "postofficer"]


def test_the_three_areas_use_it(world, security, monkeypatch):
    """Trip flags and inspection messages ask told_about (the fleet reminder imports it)."""
    asked = []

    def spy(schools, **sides):
        asked.append(sides)
        return {getattr(s, "pk", s): [] for s in schools}

    monkeypatch.setattr("huxiao.transport.notify.told_about", spy)
    trip_services.flag_recipients(world.school)
    inspection_services.school_leads(world.school.pk)
    inspection_services.station_commanders(world.school)
    assert len(asked) == 3
    assert fleet_services.told_about is told_about


def test_a_trip_flag_skips_an_inactive_head_teacher(world, security):
    from huxiao.people.tests.factories import StaffFactory

    teacher = world.users["teacher"]
    staff = StaffFactory(school=world.school, name="李静", user=teacher)
    world.school_class.head_teacher = staff
    world.school_class.save()
    assert "teacher" in names(trip_services.flag_recipients(world.school, world.child))
    get_user_model().objects.filter(pk=teacher.pk).update(is_active=False)
    child = type(world.child).objects.get(pk=world.child.pk)
    assert "teacher" not in names(trip_services.flag_recipients(world.school, child))


def test_platform_text_is_chinese_and_leaves_a_percent_alone():
    from django.utils import translation
    from django.utils.translation import gettext_lazy as _

    with translation.override("en"):
        assert platform_text(_("School buses")) == "校车"
    assert platform_text("100%") == "100%"
