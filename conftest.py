"""Shared fixtures: a small world with two towns, schools, police and offices, and one user
per place and role, for the role × scope matrices."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

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


@dataclass
class World:
    region: object = None
    town: object = None
    other_town: object = None
    station: object = None
    post: object = None
    other_station: object = None
    school: object = None
    other_school: object = None
    far_school: object = None
    users: dict = field(default_factory=dict)
    school_class: object = None
    child: object = None
    guardian: object = None
    staff: object = None
    other_class: object = None
    other_child: object = None
    other_guardian: object = None
    other_staff: object = None
    far_class: object = None
    far_child: object = None


def _user(world, name, org, role):
    user = UserFactory(username=name)
    MembershipFactory(user=user, organization=org, role=role)
    world.users[name] = user
    return user


def _redis_test_keys(pattern: str) -> None:
    """Delete the keys of this test worker's Redis prefix that match `pattern`."""
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        batch = []
        for key in client.scan_iter(match=settings.HUXIAO_TEST_REDIS_PREFIX + pattern, count=1000):
            batch.append(key)
            if len(batch) >= 500:
                client.delete(*batch)
                batch.clear()
        if batch:
            client.delete(*batch)
    finally:
        client.close()


@pytest.fixture(scope="session", autouse=True)
def _redis_prefix_removed_at_exit():
    """Scale mode (REDIS_URL): the worker's keys go when it ends (settings_test)."""
    yield
    from django.conf import settings

    if getattr(settings, "HUXIAO_TEST_REDIS_PREFIX", None):
        _redis_test_keys("*")


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the platform's default language. A request activates the
    chosen language for its thread and nothing deactivates it (each request activates its
    own, ADR 0008); the fuzz tests call the WSGI app in this thread with generated
    requests, some of which choose English."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Every test starts with an empty cache, LocMem or Redis. Never cache.clear() on Redis:
    that is FLUSHDB, and the other workers and runs share the database."""
    from django.conf import settings
    from django.core.cache import cache

    if getattr(settings, "HUXIAO_TEST_REDIS_PREFIX", None):
        _redis_test_keys("cache:*")
    else:
        cache.clear()


@pytest.fixture
def world(db) -> World:
    """town: station+post, school (with post) and other_school; other_town: far_school."""
    w = World()
    w.region = RegionFactory()
    w.town = TownFactory(region=w.region)
    w.other_town = TownFactory(region=w.region)
    w.station = OrganizationFactory(kind=OrgKind.POLICE_STATION, town=w.town, name="派出所")
    w.post = OrganizationFactory(
        kind=OrgKind.POLICE_POST, town=w.town, parent=w.station, name="警务室"
    )
    w.other_station = OrganizationFactory(
        kind=OrgKind.POLICE_STATION, town=w.other_town, name="另一派出所"
    )
    w.school = SchoolFactory(town=w.town, police_station=w.station, police_post=w.post, name="本园")
    w.other_school = SchoolFactory(town=w.town, police_station=w.station, name="同镇学校")
    w.far_school = SchoolFactory(town=w.other_town, police_station=w.other_station, name="外镇学校")
    edu = OrganizationFactory(kind=OrgKind.EDUCATION_OFFICE, town=w.town, name="中心学校")
    gov = OrganizationFactory(kind=OrgKind.GOVERNANCE_OFFICE, town=w.town, name="综治办")
    county = OrganizationFactory(
        kind=OrgKind.GOVERNANCE_OFFICE, town=None, region=w.region, name="县综治中心"
    )
    _user(w, "principal", w.school, Role.PRINCIPAL)
    _user(w, "guard", w.school, Role.GUARD)
    _user(w, "teacher", w.school, Role.TEACHER)
    _user(w, "principal2", w.other_school, Role.PRINCIPAL)
    _user(w, "police", w.station, Role.POLICE_COMMANDER)
    _user(w, "officer", w.station, Role.POLICE_OFFICER)
    _user(w, "postofficer", w.post, Role.POLICE_OFFICER)
    _user(w, "farpolice", w.other_station, Role.POLICE_COMMANDER)
    _user(w, "edu", edu, Role.EDUCATION_SUPERVISOR)
    _user(w, "gov", gov, Role.GOVERNANCE_COORDINATOR)
    _user(w, "county", county, Role.GOVERNANCE_COORDINATOR)
    w.users["nobody"] = UserFactory(username="nobody")
    w.school_class = SchoolClassFactory(school=w.school, name="小一班")
    w.child = ChildFactory(school_class=w.school_class, name="王小明")
    w.guardian = GuardianFactory(child=w.child, name="王妈妈")
    w.staff = StaffFactory(school=w.school, name="李老师")
    w.other_class = SchoolClassFactory(school=w.other_school, name="一年级一班")
    w.other_child = ChildFactory(school_class=w.other_class, name="张三")
    w.other_guardian = GuardianFactory(child=w.other_child, name="张爸爸")
    w.other_staff = StaffFactory(school=w.other_school, name="赵老师")
    w.far_class = SchoolClassFactory(school=w.far_school, name="外镇一班")
    w.far_child = ChildFactory(school_class=w.far_class, name="外镇孩子")
    return w


class ApiCaller:
    """Calls /api/v1 as a given user (bearer token) or anonymously."""

    def __init__(self, client):
        self.client = client
        self._tokens: dict[int, str] = {}

    def token_for(self, user) -> str:
        from huxiao.accounts.services import api_token_issue

        if user.pk not in self._tokens:
            self._tokens[user.pk] = api_token_issue(user=user)
        return self._tokens[user.pk]

    def __call__(self, method: str, path: str, user=None, json=None, **extra):
        headers = {}
        if user is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {self.token_for(user)}"
        headers.update(extra)
        func = getattr(self.client, method.lower())
        if json is not None:
            return func(path, data=json, content_type="application/json", **headers)
        return func(path, **headers)


@pytest.fixture
def api(client) -> ApiCaller:
    return ApiCaller(client)
