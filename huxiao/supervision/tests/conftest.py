"""Shared fixtures of the supervision app's tests (issue 6 items 4–6), on top of the root
`world` (see huxiao/hazards/tests/conftest.py for what it holds):

- `sworld`: the root world plus a security officer `security` at the kindergarten and
  `sworld.edu_office`, the town's education office.

Each area keeps its own fixtures in `<area>_fixtures.py`, imported explicitly by its tests.
"""

from __future__ import annotations

import pytest

from huxiao.core.roles import OrgKind, Role
from huxiao.orgs.models import Organization
from huxiao.orgs.tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def sworld(world):
    world.users["security"] = UserFactory(username="security")
    MembershipFactory(
        user=world.users["security"], organization=world.school, role=Role.SECURITY_OFFICER
    )
    world.edu_office = Organization.objects.get(kind=OrgKind.EDUCATION_OFFICE, town=world.town)
    return world


# Every indicator source of DESIGN.md's apps is real since issue 8; the engine's handling of
# a source whose app is not built yet ("no data", neither zero nor full marks) is tested
# with this one, registered for the supervision tests only and removed after each.
PLACEHOLDER = "future_app_placeholder"


@pytest.fixture(autouse=True)
def placeholder_source():
    from huxiao.supervision import indicators as registry

    registry.indicator(
        PLACEHOLDER, label="未建模块指标", app="future_app", placeholder=True, replace=True
    )(lambda *args: {})
    yield PLACEHOLDER
    registry.REGISTRY.pop(PLACEHOLDER, None)
