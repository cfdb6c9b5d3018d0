"""Live dashboards: a new health cluster alert is published after commit to the town's and
the county's groups (the offices' dashboards) with counts only — never a child's name, never
to the police or the school's groups — and reaches the offices' events socket; alarms reach
the offices' console socket already (huxiao/alarms/tests/test_console.py)."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.db import transaction

from huxiao.core.consumers import EventsConsumer
from huxiao.health import surveillance_services as services
from huxiao.health.tests.surveillance_fixtures import TODAY, days_ago, kids, make_case, sick

EVENT = "health.alert.raised"


@pytest.fixture
def published(monkeypatch):
    sent = []
    monkeypatch.setattr(
        services,
        "publish_on_commit",
        lambda groups, event_type, payload: sent.append((list(groups), event_type, payload)),
    )
    return sent


def _cluster(w):
    children = kids(w.school_class, 3, prefix="小明")
    for n, child in enumerate(children):
        sick(child, days_ago(n))
    return children


@pytest.mark.django_db
def test_a_new_cluster_alert_goes_to_the_town_and_county_with_counts_only(rworld, published):
    w = rworld
    children = _cluster(w)
    (alert,) = services.clusters_evaluate(today=TODAY)
    assert [(groups, event) for groups, event, _payload in published] == [
        ([f"county.{w.region.pk}", f"town.{w.town.pk}"], EVENT)
    ]
    payload = published[0][2]
    assert payload == {
        "alert_id": alert.pk,
        "school_id": w.school.pk,
        "kind": "class_cluster",
        "kind_label": payload["kind_label"],
        "child_count": 3,
    }
    assert payload["kind_label"]
    text = json.dumps(payload, ensure_ascii=False)
    assert all(child.name not in text for child in children) and "小明" not in text
    # The same cluster evaluated again raises nothing new, and publishes nothing.
    services.clusters_evaluate(today=TODAY)
    assert len(published) == 1


@pytest.mark.django_db
def test_a_notifiable_case_alert_is_published_too(rworld, published):
    w = rworld
    case = make_case(w.child)
    alert = services.alert_for_case(case)
    assert alert is not None
    assert published == [
        (
            [f"county.{w.region.pk}", f"town.{w.town.pk}"],
            EVENT,
            {
                "alert_id": alert.pk,
                "school_id": w.school.pk,
                "kind": "notifiable",
                "kind_label": published[0][2]["kind_label"],
                "child_count": 1,
            },
        )
    ]
    assert w.child.name not in json.dumps(published, ensure_ascii=False)


async def _connect(user):
    communicator = WebsocketCommunicator(EventsConsumer.as_asgi(), "/ws/events/")
    communicator.scope["user"] = user
    connected, _code = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from(timeout=2))["event"] == "hello"
    return communicator


@pytest.mark.django_db(transaction=True)
def test_the_offices_hear_it_the_police_and_the_school_do_not(rworld):
    w = rworld

    def raise_alert():
        _cluster(w)
        with transaction.atomic():
            services.clusters_evaluate(today=TODAY)

    async def scenario():
        hear = [await _connect(w.users[name]) for name in ("edu", "health", "county")]
        deaf = [await _connect(w.users[name]) for name in ("police", "principal", "faredu")]
        await database_sync_to_async(raise_alert)()
        for communicator in hear:
            message = await communicator.receive_json_from(timeout=2)
            assert message["event"] == EVENT and message["payload"]["child_count"] == 3
        for communicator in deaf:
            assert await communicator.receive_nothing(timeout=0.3)
        for communicator in hear + deaf:
            await communicator.disconnect()

    async_to_sync(scenario)()
