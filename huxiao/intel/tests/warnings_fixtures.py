"""Fixtures of the warnings tests (imported by tests/test_warnings_*.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from huxiao.core.roles import OrgKind, Role
from huxiao.intel import warnings_services as services
from huxiao.orgs.tests.factories import MembershipFactory, OrganizationFactory, UserFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


def png(name="threat.png", data=PNG):
    return SimpleUploadedFile(name, data, content_type="image/png")


@pytest.fixture
def ww(world, settings, tmp_path):
    """The world plus a health officer, a legal vice-principal, a duty leader."""
    settings.MEDIA_ROOT = tmp_path
    health_centre = OrganizationFactory(kind=OrgKind.HEALTH_CENTRE, town=world.town, name="卫生院")
    for name, org, role in (
        ("health", health_centre, Role.HEALTH_OFFICER),
        ("lvp", world.station, Role.LEGAL_VICE_PRINCIPAL),
        ("duty", world.school, Role.DUTY_LEADER),
    ):
        user = UserFactory(username=name)
        MembershipFactory(user=user, organization=org, role=role)
        world.users[name] = user
    return world


@pytest.fixture
def published(monkeypatch):
    sent = []
    monkeypatch.setattr(
        services,
        "publish_on_commit",
        lambda groups, event_type, payload: sent.append((tuple(groups), event_type, payload)),
    )
    return sent


@pytest.fixture
def sign(ww):
    return services.warning_sign_report(
        actor=ww.users["guard"],
        school=ww.school,
        category="suspicious_person",
        description="校门口有陌生男子连续三天徘徊",
        observed_place="东门",
        time_node="pickup_time",
        files=[png()],
    )


@pytest.fixture
def early(ww):
    """An early warning from the station to both of its schools, issued at NOW."""
    return services.early_warning_issue(
        actor=ww.users["police"],
        school_ids=[ww.school.pk, ww.other_school.pk],
        title="在逃人员预警",
        content="一名在逃人员可能在辖区出现",
        level="orange",
        valid_from=NOW,
        valid_until=NOW + dt.timedelta(days=3),
        now=NOW,
    )
