"""Shared fixtures of the health tests: `world` (conftest.py) plus the health centre and the
health roles. Each area's tests build on `hworld`."""

from __future__ import annotations

import pytest

from conftest import _user
from huxiao.core.roles import OrgKind, Role
from huxiao.orgs.tests.factories import OrganizationFactory


@pytest.fixture
def hworld(world):
    """`world` plus: the town's health centre (linked to `school` and `other_school`) with
    `health` (health officer); a county health bureau with `countyhealth`; the town
    government with `liaison`; at `school`: `nurse` (health staff) and `dutylead` (duty
    leader). The first education office of the town becomes the schools' central school."""
    w = world
    centre = OrganizationFactory(
        kind=OrgKind.HEALTH_CENTRE, town=w.town, name="卫生院", phone="0311-85213120"
    )
    bureau = OrganizationFactory(
        kind=OrgKind.HEALTH_CENTRE, town=None, region=w.region, name="县卫健局"
    )
    government = OrganizationFactory(
        kind=OrgKind.GOVERNMENT, town=w.town, name="镇政府", phone="0311-85213000"
    )
    from huxiao.orgs.models import Organization

    edu = Organization.objects.filter(kind=OrgKind.EDUCATION_OFFICE, town=w.town).first()
    for school in (w.school, w.other_school):
        school.health_centre = centre
        school.education_office = edu
        school.save(update_fields=["health_centre", "education_office"])
    _user(w, "health", centre, Role.HEALTH_OFFICER)
    _user(w, "countyhealth", bureau, Role.HEALTH_OFFICER)
    _user(w, "liaison", government, Role.GOVERNMENT_LIAISON)
    _user(w, "nurse", w.school, Role.HEALTH_STAFF)
    _user(w, "dutylead", w.school, Role.DUTY_LEADER)
    w.health_centre = centre
    w.health_bureau = bureau
    w.government = government
    w.education_office = edu
    return w
