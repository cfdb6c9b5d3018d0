"""Shared fixtures of the hazards app's tests (issue 6), on top of the root `world`:

- `world.school` (本园, a kindergarten in `world.town`) with its principal, a guard, a
  teacher and (added here) a security officer `security`; `world.other_school` in the same
  town (principal2); `world.far_school` in the other town;
- the town's education office 中心学校 (`edu`), governance office (`gov`), the county
  governance centre (`county`), the police station (`police`, `officer`) and the other
  town's station (`farpolice`);
- `world.edu_office`: the town's education office (the supervising office of its schools).

Each area keeps its own fixtures in `<area>_fixtures.py`, imported explicitly.
"""

from __future__ import annotations

import pytest

from huxiao.core.roles import OrgKind, Role
from huxiao.orgs.models import Organization
from huxiao.orgs.tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def hworld(world):
    """The root world plus a security officer at the kindergarten."""
    world.users["security"] = UserFactory(username="security")
    MembershipFactory(
        user=world.users["security"], organization=world.school, role=Role.SECURITY_OFFICER
    )
    world.edu_office = Organization.objects.get(kind=OrgKind.EDUCATION_OFFICE, town=world.town)
    return world


# The hazards area's fixtures (photos under a temporary MEDIA_ROOT, a reported hazard).
from huxiao.hazards.tests.hazard_fixtures import hazard, media  # noqa: E402, F401
