"""Fuzz tests: Schemathesis against the REST API in process, as several roles.

The world is seeded once per module inside an outer transaction that is rolled back at the
end, so its rows never leak into other tests of the same worker; every generated case runs
inside the test's own savepoint on top of it.
"""

from __future__ import annotations

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction


@pytest.fixture(scope="module")
def fuzz_world(django_db_setup, django_db_blocker):
    """Tokens of the roles the fuzzer plays: {role: "Bearer …"}."""
    from huxiao.accounts.services import api_token_issue, device_token_issue
    from huxiao.core.roles import OrgKind, Role
    from huxiao.orgs.tests.factories import (
        MembershipFactory,
        OrganizationFactory,
        RegionFactory,
        SchoolFactory,
        TownFactory,
        UserFactory,
    )
    from huxiao.people.tests.factories import (
        ChildFactory,
        GuardianFactory,
        SchoolClassFactory,
        StaffFactory,
    )

    def member(name, org, role):
        user = UserFactory(username=f"fuzz-{name}")
        MembershipFactory(user=user, organization=org, role=role)
        return user

    with django_db_blocker.unblock(), transaction.atomic():
        region = RegionFactory()
        town = TownFactory(region=region)
        station = OrganizationFactory(kind=OrgKind.POLICE_STATION, town=town, name="模糊派出所")
        post = OrganizationFactory(
            kind=OrgKind.POLICE_POST, town=town, parent=station, name="模糊警务室"
        )
        school = SchoolFactory(town=town, police_station=station, police_post=post, name="模糊园")
        other = SchoolFactory(town=town, police_station=station, name="模糊小学")
        county = OrganizationFactory(
            kind=OrgKind.GOVERNANCE_OFFICE, town=None, region=region, name="模糊县综治中心"
        )
        for a_school in (school, other):
            school_class = SchoolClassFactory(school=a_school, name="一班")
            child = ChildFactory(school_class=school_class, name="王小明")
            GuardianFactory(child=child, name="王妈妈")
            StaffFactory(school=a_school, name="李老师")
        _device, device_token = device_token_issue(
            actor=None, school=school, name="报警箱", kind="alarm_box"
        )
        tokens = {
            "principal": api_token_issue(user=member("principal", school, Role.PRINCIPAL)),
            "police_officer": api_token_issue(user=member("officer", station, Role.POLICE_OFFICER)),
            "county_office": api_token_issue(
                user=member("county", county, Role.GOVERNANCE_COORDINATOR)
            ),
            "alarm_box": device_token,
        }
        yield {role: f"Bearer {token}" for role, token in tokens.items()}
        transaction.set_rollback(True)


@pytest.fixture
def in_process_requests():
    """Django's WSGI handler closes "obsolete" connections around each request; inside a
    test's transaction that would close the test's own connection. The test client
    disconnects the same handler; Schemathesis calls the WSGI app directly, so do it here."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


# Operations that fail for a reason too large to fix in place: "METHOD /api/v1/path" →
# reason. Each is marked xfail(strict=True), so the entry must go as soon as the operation
# is fixed.
KNOWN_FAILURES: dict[str, str] = {}


def pytest_collection_modifyitems(items):
    for item in items:
        if not item.name.startswith("test_operation["):
            continue
        label = item.name.split("[", 1)[1].split("]", 1)[0]
        if label in KNOWN_FAILURES:
            item.add_marker(pytest.mark.xfail(reason=KNOWN_FAILURES[label], strict=True))


@pytest.fixture(scope="module", autouse=True)
def no_outbound_network():
    """Generated channel targets are arbitrary URLs: nothing the fuzzer makes may leave the
    machine. Every outbound HTTP send goes through notify.channels.post_json; it answers as
    a robot that accepted the message. (Email uses pytest-django's in-memory backend.)"""
    from huxiao.notify import channels

    sent: list[str] = []

    def fake_post_json(url, body, headers=None):
        sent.append(url)
        return b'{"errcode": 0, "errmsg": "ok"}'

    patch = pytest.MonkeyPatch()
    patch.setattr(channels, "post_json", fake_post_json)
    yield sent
    patch.undo()
