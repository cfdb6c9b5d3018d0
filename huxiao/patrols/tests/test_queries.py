"""List endpoints and pages cost a fixed number of queries, not one per row."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from huxiao.core.scoping import clear_scope_cache
from huxiao.orgs.tests.factories import SchoolFactory
from huxiao.patrols import services
from huxiao.patrols.choices import Period, StaffKind
from huxiao.patrols.tests.conftest import MONDAY, at, plan

pytestmark = pytest.mark.django_db


def queries(func) -> int:
    func()  # warm: tokens, scope
    with CaptureQueriesContext(connection) as ctx:
        func()
    return len(ctx.captured_queries)


def grow(world, n: int) -> None:
    """n more schools of the station, each with an afternoon post, two staff, a check-in,
    a visit and a patrol log."""
    for i in range(n):
        school = SchoolFactory(town=world.town, police_station=world.station, name=f"加校{i}")
        for user in world.users.values():
            clear_scope_cache(user)  # a new school of the station
        post = plan(
            world,
            school,
            Period.AFTERNOON,
            "16:30",
            "17:10",
            staff=[(StaffKind.POLICE, world.users["officer"]), (StaffKind.MILITIA, f"民兵{i}")],
        )
        services.post_check_in(actor=world.users["police"], post=post, now=at(MONDAY, "16:40"))
        services.police_visit_create(
            actor=world.users["officer"],
            school=school,
            arrived_at=at(MONDAY, "09:00"),
            left_at=at(MONDAY, "09:30"),
            information_collected="x",
            now=at(MONDAY, "10:00"),
        )
        services.patrol_log_create(
            actor=world.users["officer"],
            started_at=at(MONDAY, "07:00") + dt.timedelta(minutes=i),
            ended_at=at(MONDAY, "08:00"),
            mode="car",
            dress="uniform",
            route="r",
            school_ids=[school.pk, world.school.pk],
            now=at(MONDAY, "10:00"),
        )


API_LISTS = (
    "/api/v1/patrols/posts",
    "/api/v1/patrols/shifts?date=2025-03-03",
    "/api/v1/patrols/checkins",
    "/api/v1/patrols/logs",
    "/api/v1/patrols/visits",
    "/api/v1/patrols/visits/week?week=2025-03-03",
    "/api/v1/patrols/coverage?since=2025-03-03&until=2025-03-07",
    "/api/v1/patrols/coverage/week?week=2025-03-03",
)
PAGES = (
    "patrols:post_list",
    "patrols:coverage",
    "patrols:visit_list",
    "patrols:log_list",
)


@pytest.mark.parametrize("path", API_LISTS)
def test_api_lists_do_not_grow_with_rows(api, posts, path):
    user = posts.users["police"]
    grow(posts, 1)
    few = queries(lambda: api("get", path, user))
    grow(posts, 5)
    assert queries(lambda: api("get", path, user)) == few


@pytest.mark.parametrize("name", PAGES)
def test_pages_do_not_grow_with_rows(client, posts, name):
    client.force_login(posts.users["police"])
    url = reverse(name) + (
        "?week=2025-03-03&since=2025-03-03" if name != "patrols:log_list" else ""
    )
    grow(posts, 1)
    clear_scope_cache(posts.users["police"])
    few = queries(lambda: client.get(url))
    grow(posts, 5)
    assert queries(lambda: client.get(url)) == few
