"""Fixtures of the checklist-template tests: the root conftest's world plus the shipped
templates (loaded again: a transactional test elsewhere may have flushed the migration's
rows), an education office of the other town (`edu2`), and a draft copy owned by the town's
education office (`w.draft`, copied by `edu` from the monthly self-check)."""

from __future__ import annotations

import pytest

from huxiao.core.roles import OrgKind, Role
from huxiao.hazards import template_services as services
from huxiao.hazards.models import ChecklistTemplate
from huxiao.hazards.shipped_templates import load_shipped_templates
from huxiao.orgs.tests.factories import MembershipFactory, OrganizationFactory, UserFactory


def shipped(code: str = "monthly-self-check") -> ChecklistTemplate:
    return ChecklistTemplate.objects.get(code=code, version=1, owner=None)


@pytest.fixture(name="tpl")
def tpl_fixture(world):
    load_shipped_templates()
    w = world
    w.edu_office = w.users["edu"].memberships.get().organization
    w.edu2_office = OrganizationFactory(
        kind=OrgKind.EDUCATION_OFFICE, town=w.other_town, name="外镇中心学校"
    )
    w.users["edu2"] = UserFactory(username="edu2")
    MembershipFactory(
        user=w.users["edu2"], organization=w.edu2_office, role=Role.EDUCATION_SUPERVISOR
    )
    w.monthly = shipped()
    w.draft = services.template_copy(actor=w.users["edu"], template=w.monthly, name="本镇月查")
    return w


def publish(w, template=None, who="edu"):
    return services.template_publish(actor=w.users[who], template=template or w.draft)


def first_item(template):
    return template.sections.order_by("order").first().items.order_by("order").first()
