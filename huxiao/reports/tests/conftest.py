"""Shared fixtures of the reports tests: `world` (conftest.py) plus the offices the
dashboards and reports serve. Each area's tests build on `rworld`."""

from __future__ import annotations

import pytest

from conftest import _user
from huxiao.core.roles import OrgKind, Role
from huxiao.orgs.tests.factories import OrganizationFactory


@pytest.fixture
def rworld(world):
    """`world` plus: the town's health centre (`health`, health officer) and government
    (`liaison`); the other town's education office (`faredu`); a county education bureau
    (`countyedu`). `county` (county governance centre) and `edu`/`gov` (town offices) come
    from `world`, as do `police` (the town's station), `farpolice` and `principal`."""
    w = world
    centre = OrganizationFactory(kind=OrgKind.HEALTH_CENTRE, town=w.town, name="卫生院")
    government = OrganizationFactory(kind=OrgKind.GOVERNMENT, town=w.town, name="镇政府")
    far_edu = OrganizationFactory(
        kind=OrgKind.EDUCATION_OFFICE, town=w.other_town, name="外镇中心学校"
    )
    county_edu = OrganizationFactory(
        kind=OrgKind.EDUCATION_OFFICE, town=None, region=w.region, name="县教育局"
    )
    _user(w, "health", centre, Role.HEALTH_OFFICER)
    _user(w, "liaison", government, Role.GOVERNMENT_LIAISON)
    _user(w, "faredu", far_edu, Role.EDUCATION_SUPERVISOR)
    _user(w, "countyedu", county_edu, Role.EDUCATION_SUPERVISOR)
    w.health_centre = centre
    w.government = government
    return w


# The dashboard's fixed clock and data (test_dashboard_*.py).
from huxiao.reports.tests.dashboard_fixtures import clock, dash_world  # noqa: E402, F401
