"""Fixtures for the register tests: the shared world plus a health officer and a legal
vice-principal, and one registered person of the first town's station."""

from __future__ import annotations

import datetime as dt

import pytest

from huxiao.audit.models import AuditAction, AuditEvent
from huxiao.core.idcard import make_id_number
from huxiao.core.roles import OrgKind, Role
from huxiao.intel import services
from huxiao.intel.models import (
    ControlMeasure,
    FollowUp,
    HighRiskPerson,
    PersonPhoto,
    ScreeningHit,
)
from huxiao.orgs.tests.factories import MembershipFactory, OrganizationFactory, UserFactory

# Who keeps the first station's register, and who is told it does not exist.
KEEPERS = ["police", "officer", "postofficer"]
OUTSIDERS = [
    "farpolice",
    "lvp",
    "principal",
    "principal2",
    "guard",
    "teacher",
    "edu",
    "gov",
    "county",
    "health",
    "nobody",
]
PERSON_ID_NUMBER = make_id_number("130123", dt.date(1979, 3, 14), 371)  # odd: a man
PERSON_NAME = "张三丰"


@pytest.fixture
def reg(world):
    """The world with the roles it lacks for the register matrix."""
    health_centre = OrganizationFactory(kind=OrgKind.HEALTH_CENTRE, town=world.town, name="卫生院")
    for name, org, role in (
        ("health", health_centre, Role.HEALTH_OFFICER),
        ("lvp", world.station, Role.LEGAL_VICE_PRINCIPAL),
    ):
        user = UserFactory(username=name)
        MembershipFactory(user=user, organization=org, role=role)
        world.users[name] = user
    return world


@pytest.fixture
def person(reg):
    return services.person_register(
        actor=reg.users["police"],
        station=reg.station,
        name=PERSON_NAME,
        id_number=PERSON_ID_NUMBER,
        address="大杨树镇幸福路12号",
        notes="曾在校门口扬言报复",
        category="revenge_threat",
        risk_level="high",
        related_schools=[reg.school],
        responsible_officer=reg.users["officer"],
    )


def register_state() -> dict:
    """Everything a register write could touch, except the audit trail."""
    models = (HighRiskPerson, ControlMeasure, FollowUp, PersonPhoto, ScreeningHit)
    return {m._meta.label: list(m.objects.order_by("pk").values()) for m in models}


def probes(user) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            actor=user, action=AuditAction.DENIED, object_type="intel.highriskperson"
        )
    )


def reads(user, person=None) -> list[AuditEvent]:
    qs = AuditEvent.objects.filter(
        actor=user, action=AuditAction.READ_SENSITIVE, object_type="intel.highriskperson"
    )
    if person is not None:
        qs = qs.filter(object_id=str(person.pk))
    return list(qs)


# Fixtures of the warnings tests (ADR 0019), kept in their own module.
from huxiao.intel.tests.cases_fixtures import case, cw  # noqa: E402, F401
from huxiao.intel.tests.warnings_fixtures import early, published, sign, ww  # noqa: E402, F401
