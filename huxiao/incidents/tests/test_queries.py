"""The incident page and API answer in a fixed number of queries, however many members,
tasks and timeline entries the incident has."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from huxiao.incidents import services
from huxiao.incidents.choices import GroupKind

pytestmark = pytest.mark.django_db


def _grow(world, incident, people, n_tasks):
    for i, who in enumerate(people):
        services.incident_member_add(
            actor=world.users["police"],
            incident=incident,
            group_kind=GroupKind.values[i % 4],
            user=world.users[who],
            leader=i < 4,
        )
    for i in range(n_tasks):
        services.task_add(
            actor=world.users["police"],
            incident=incident,
            title=f"任务{i}",
            owner=world.users[people[i % len(people)]],
            due_at=timezone.now() + dt.timedelta(hours=1),
            group_kind=GroupKind.values[i % 4],
        )


def _count(fetch) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert fetch().status_code == 200
    return len(queries)


@pytest.mark.parametrize("what", ["page", "report", "api"])
def test_query_count_does_not_grow(client, api, world, incident, what):
    user = world.users["police"]
    client.force_login(user)
    api.token_for(user)
    fetch = {
        "page": lambda: client.get(reverse("incidents:detail", args=[incident.pk])),
        "report": lambda: client.get(reverse("incidents:report", args=[incident.pk])),
        "api": lambda: api("get", f"/api/v1/incidents/{incident.pk}", user),
    }[what]
    _grow(world, incident, ["officer", "guard"], 2)
    fetch()  # warm-up: the first API call touches the token's last_used_at
    small = _count(fetch)
    _grow(world, incident, ["principal", "teacher", "postofficer", "police"], 12)
    large = _count(fetch)
    assert large == small, f"{small} → {large} queries"
    assert small <= 40
