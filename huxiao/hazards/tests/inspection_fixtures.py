"""Fixtures of the inspection tests: the root `world` plus a security officer at the
kindergarten and a small published checklist made directly with the models.

The checklist "安全检查" v1 (hand-computed scoring in test_inspection_services):
  一、门卫 — gate (10, photo required), register (5)
  二、宿舍 — dormitory (5, not applicable at a kindergarten), fire (2.5)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from huxiao.core.roles import Role
from huxiao.hazards.choices import HazardCategory, InspectionKind, TemplateKind
from huxiao.hazards.models import ChecklistTemplate, TemplateItem, TemplateSection
from huxiao.orgs.tests.factories import MembershipFactory, UserFactory

TODAY = dt.date(2025, 3, 3)
NOW = timezone.make_aware(dt.datetime(2025, 3, 3, 9, 0))
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def png(name="p.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def make_template(code="safety", *, published=True, current=True, version=1):
    template = ChecklistTemplate.objects.create(
        code=code,
        version=version,
        name="安全检查",
        kind=TemplateKind.CUSTOM,
        is_published=published,
        is_current=current,
    )
    gate = TemplateSection.objects.create(template=template, order=1, title="一、门卫")
    dorm = TemplateSection.objects.create(template=template, order=2, title="二、宿舍")
    template.gate = TemplateItem.objects.create(
        section=gate,
        order=1,
        text="门卫室24小时有人值守",
        max_score=Decimal("10"),
        photo_required=True,
        category=HazardCategory.STAFFING,
    )
    template.register = TemplateItem.objects.create(
        section=gate, order=2, text="来访人员登记", max_score=Decimal("5")
    )
    template.dorm = TemplateItem.objects.create(
        section=dorm,
        order=1,
        text="宿舍夜间值班",
        max_score=Decimal("5"),
        category=HazardCategory.DORMITORY,
    )
    template.fire = TemplateItem.objects.create(
        section=dorm, order=2, text="消防通道畅通", max_score=Decimal("2.5")
    )
    return template


@pytest.fixture
def insp(world, settings, tmp_path):
    """The world with `security` (security officer of the kindergarten), `template`."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    world.users["security"] = UserFactory(username="security")
    MembershipFactory(
        user=world.users["security"], organization=world.school, role=Role.SECURITY_OFFICER
    )
    world.template = make_template()
    return world


def plan(world, who="edu", *, kind=InspectionKind.CENTRAL_SCHOOL, school=None, **kwargs):
    from huxiao.hazards import inspection_services as services

    kwargs.setdefault("planned_on", TODAY)
    kwargs.setdefault("now", NOW)
    return services.inspection_plan(
        actor=world.users[who],
        school=school or world.school,
        template=kwargs.pop("template", world.template),
        kind=kind,
        **kwargs,
    )


def fill(world, inspection, who="edu", *, gate="pass", photo=True):
    """Answer every item: gate as given (with a photo), register pass, dorm n/a, fire fail."""
    from huxiao.hazards import inspection_services as services

    t = world.template
    user = world.users[who]
    services.inspection_answer(
        actor=user,
        inspection=inspection,
        item=t.gate,
        result=gate,
        photos=[png()] if photo else (),
        now=NOW,
    )
    services.inspection_answer(
        actor=user, inspection=inspection, item=t.register, result="pass", score="3.5", now=NOW
    )
    services.inspection_answer(actor=user, inspection=inspection, item=t.dorm, result="na", now=NOW)
    return services.inspection_answer(
        actor=user, inspection=inspection, item=t.fire, result="fail", note="堆放杂物", now=NOW
    )
