"""Fixtures of the listed-supervision and surroundings-task tests, on top of `hworld`
(huxiao/hazards/tests/conftest.py):

- `lworld.gov_office` (综治办, the town's governance office, `gov`), `lworld.county_office`
  (县综治中心, `county`), and a governance office of the other town with `fargov`;
- two departments of the town: `lworld.market` (市场监管所, user `market`) and
  `lworld.traffic` (交警中队, user `traffic`), both GOVERNMENT_LIAISON members; an inactive
  department `lworld.closed_dept`; a department of another county `lworld.far_dept`.

Use them as `lworld = listing_fixtures.lworld` in a test module (explicit import).
"""

from __future__ import annotations

import pytest

from huxiao.core.roles import OrgKind, Role
from huxiao.hazards import listing_services as ls
from huxiao.hazards import task_services as ts
from huxiao.hazards.choices import DepartmentKind
from huxiao.hazards.tests.hazard_fixtures import MONDAY, at, day
from huxiao.orgs.models import Organization
from huxiao.orgs.tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    TownFactory,
    UserFactory,
)

NOW = at(MONDAY)


def _member(w, name, org, role):
    user = UserFactory(username=name)
    MembershipFactory(user=user, organization=org, role=role)
    w.users[name] = user
    return user


@pytest.fixture
def lworld(hworld, media):
    w = hworld
    w.gov_office = Organization.objects.get(kind=OrgKind.GOVERNANCE_OFFICE, town=w.town)
    w.county_office = Organization.objects.get(
        kind=OrgKind.GOVERNANCE_OFFICE, town=None, region=w.region
    )
    w.far_gov_office = OrganizationFactory(
        kind=OrgKind.GOVERNANCE_OFFICE, town=w.other_town, name="外镇综治办"
    )
    _member(w, "fargov", w.far_gov_office, Role.GOVERNANCE_COORDINATOR)
    w.market = OrganizationFactory(kind=OrgKind.DEPARTMENT, town=w.town, name="市场监管所")
    w.traffic = OrganizationFactory(kind=OrgKind.DEPARTMENT, town=w.town, name="交警中队")
    w.closed_dept = OrganizationFactory(
        kind=OrgKind.DEPARTMENT, town=w.town, name="已撤销文化站", is_active=False
    )
    # TownFactory makes a new county for it.
    w.far_dept = OrganizationFactory(kind=OrgKind.DEPARTMENT, town=TownFactory(), name="外县所")
    _member(w, "market", w.market, Role.GOVERNMENT_LIAISON)
    _member(w, "traffic", w.traffic, Role.GOVERNMENT_LIAISON)
    return w


def list_problem(w, *, actor=None, school=None, now=None, **kwargs):
    """A standalone listing (a prominent problem, no hazard) of the kindergarten."""
    return ls.listing_create(
        actor=actor or w.users["gov"],
        school=school or w.school,
        title=kwargs.pop("title", "校园周边流动摊贩长期占道"),
        reason=kwargs.pop("reason", "多次整改不到位，群众反映强烈"),
        requirements=kwargs.pop("requirements", "一个月内彻底清理"),
        deadline=kwargs.pop("deadline", day(20)),
        reference=kwargs.pop("reference", "挂督〔2025〕1号"),
        now=now or NOW,
        **kwargs,
    )


def give_task(w, *, actor=None, school=None, department=None, now=None, **kwargs):
    return ts.task_create(
        actor=actor or w.users["gov"],
        school=school if school is not None else (None if "hazard" in kwargs else w.school),
        department=department or w.market,
        department_kind=kwargs.pop("department_kind", DepartmentKind.MARKET_REGULATION),
        title=kwargs.pop("title", "清理园门口流动摊点"),
        description=kwargs.pop("description", "早晚高峰园门口有三处流动摊点占道经营"),
        location=kwargs.pop("location", "园门口东侧"),
        deadline=kwargs.pop("deadline", day(10)),
        now=now or NOW,
        **kwargs,
    )


def task_to(w, task, status: str, *, now=None):
    """Move a fresh task along the happy path up to `status`."""
    now = now or at(MONDAY, "10:00")
    steps = ["accepted", "reported", "confirmed"]
    for step in steps[: steps.index(status) + 1]:
        if step == "accepted":
            task = ts.task_accept(actor=w.users["market"], task=task, now=now)
        elif step == "reported":
            task = ts.task_feedback(
                actor=w.users["market"], task=task, feedback="已清理摊点并设置提示牌", now=now
            )
        else:
            task = ts.task_confirm(actor=w.users["gov"], task=task, now=now)
    return task
