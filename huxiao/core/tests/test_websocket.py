"""The events socket: only logged-in users, and only the groups their memberships give."""

import pytest
from asgiref.sync import async_to_sync
from channels.testing.websocket import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.db import transaction

from huxiao.core.consumers import EventsConsumer
from huxiao.core.events import groups_for_school, publish_on_commit


async def _connect(user):
    communicator = WebsocketCommunicator(EventsConsumer.as_asgi(), "/ws/events/")
    communicator.scope["user"] = user
    connected, code = await communicator.connect()
    return communicator, connected, code


@pytest.mark.django_db(transaction=True)
def test_anonymous_socket_is_refused(world):
    async def scenario():
        communicator, connected, code = await _connect(AnonymousUser())
        assert not connected
        assert code == 4401

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_events_reach_only_members_in_scope(world):
    school = world.school

    def publish():
        with transaction.atomic():
            publish_on_commit(groups_for_school(school), "test.event", {"school_id": school.pk})

    async def scenario():
        from channels.db import database_sync_to_async

        own, ok_own, _ = await _connect(world.users["principal"])
        police, ok_police, _ = await _connect(world.users["police"])
        other, ok_other, _ = await _connect(world.users["principal2"])
        assert ok_own and ok_police and ok_other
        for communicator in (own, police, other):
            assert (await communicator.receive_json_from())["event"] == "hello"
        await database_sync_to_async(publish)()
        assert (await own.receive_json_from(timeout=2))["payload"] == {"school_id": school.pk}
        assert (await police.receive_json_from(timeout=2))["event"] == "test.event"
        assert await other.receive_nothing(timeout=0.3)
        for communicator in (own, police, other):
            await communicator.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_rolled_back_write_publishes_nothing(world):
    def publish_and_fail():
        try:
            with transaction.atomic():
                publish_on_commit(groups_for_school(world.school), "test.event", {})
                raise RuntimeError("write failed")
        except RuntimeError:
            pass

    async def scenario():
        from channels.db import database_sync_to_async

        own, ok, _ = await _connect(world.users["principal"])
        assert ok
        await own.receive_json_from()
        await database_sync_to_async(publish_and_fail)()
        assert await own.receive_nothing(timeout=0.3)
        await own.disconnect()

    async_to_sync(scenario)()
