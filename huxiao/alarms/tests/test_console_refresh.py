"""An open console socket follows the user's memberships: a membership removed or an account
deactivated while the socket is open stops its alarms at the next refresh."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing.websocket import WebsocketCommunicator

from huxiao.alarms import services
from huxiao.alarms.choices import AlarmSource
from huxiao.alarms.consumers import ConsoleConsumer
from huxiao.core.roles import Role
from huxiao.orgs.models import Membership
from huxiao.orgs.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fast_refresh(settings):
    settings.ALARM_CONSOLE_TAIL_SECONDS = 0
    settings.ALARM_CONSOLE_REFRESH_SECONDS = 0.1


async def _ready(user):
    communicator = WebsocketCommunicator(ConsoleConsumer.as_asgi(), "/ws/console/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from(timeout=2))["type"] == "ready"
    return communicator


@database_sync_to_async
def _raise(world):
    alarm, _ = services.alarm_raise(
        actor=world.users["guard"],
        school=world.school,
        kind="intrusion",
        location="大门",
        source=AlarmSource.BUTTON,
    )
    return alarm


def test_a_removed_membership_stops_the_alarms(world):
    both = UserFactory(username="stationandfar")
    MembershipFactory(user=both, organization=world.station, role=Role.POLICE_OFFICER)
    MembershipFactory(user=both, organization=world.other_station, role=Role.POLICE_OFFICER)

    @database_sync_to_async
    def leave_station():
        Membership.objects.filter(user=both, organization=world.station).delete()

    async def scenario():
        console = await _ready(both)
        await _raise(world)
        assert (await console.receive_json_from(timeout=2))["type"] == "alarm.raised"
        await leave_station()
        await console.receive_nothing(timeout=0.5)  # a refresh or more happen meanwhile
        await _raise(world)
        assert await console.receive_nothing(timeout=0.5)
        await console.disconnect()

    async_to_sync(scenario)()


def test_a_deactivated_account_is_closed(world):
    police = world.users["police"]

    @database_sync_to_async
    def deactivate():
        type(police).objects.filter(pk=police.pk).update(is_active=False)

    async def scenario():
        console = await _ready(police)
        await deactivate()
        assert await console.receive_output(timeout=2) == {"type": "websocket.close", "code": 4403}

    async_to_sync(scenario)()


def test_a_failing_channel_layer_does_not_break_the_disconnect(world, monkeypatch, settings):
    """Redis away when a console leaves: the discard fails, the socket still closes cleanly
    and the tail is released."""
    from channels.layers import get_channel_layer

    from huxiao.alarms import consumers

    settings.ALARM_CONSOLE_TAIL_SECONDS = 0.05

    async def broken(self, group, channel):
        raise ConnectionError("redis is away")

    async def scenario():
        console = await _ready(world.users["police"])
        assert consumers.tail.consoles == 1
        monkeypatch.setattr(type(get_channel_layer()), "group_discard", broken)
        await console.disconnect()
        assert consumers.tail.consoles == 0

    async_to_sync(scenario)()


def test_a_revoked_or_expired_token_closes_its_socket(world):
    """A console opened with an API token stops when the token is revoked, as a
    deactivated account does (it kept hearing alarms before)."""
    from django.contrib.auth.models import AnonymousUser
    from django.utils import timezone

    from huxiao.accounts.models import ApiToken
    from huxiao.accounts.services import api_token_issue

    police = world.users["police"]
    token = api_token_issue(user=police)

    @database_sync_to_async
    def end(field):
        ApiToken.objects.filter(user=police).update(**{field: timezone.now()})

    async def opened():
        communicator = WebsocketCommunicator(ConsoleConsumer.as_asgi(), "/ws/console/")
        communicator.scope["user"] = AnonymousUser()
        assert (await communicator.connect())[0]
        await communicator.send_json_to({"token": token})
        assert (await communicator.receive_json_from(timeout=2))["type"] == "ready"
        return communicator

    async def scenario():
        for field in ("revoked_at", "expires_at"):
            await database_sync_to_async(ApiToken.objects.filter(user=police).update)(
                revoked_at=None, expires_at=timezone.now() + timezone.timedelta(days=1)
            )
            console = await opened()
            await console.receive_nothing(timeout=0.3)  # refreshes keep it open
            await end(field)
            assert await console.receive_output(timeout=2) == {
                "type": "websocket.close",
                "code": 4401,
            }

    async_to_sync(scenario)()


def test_an_ended_session_closes_its_socket(world, client):
    """Logging out (or the session expiring) stops a console opened with that session."""
    from django.contrib.sessions.models import Session

    police = world.users["police"]
    client.force_login(police)
    session_key = client.session.session_key

    async def scenario():
        from importlib import import_module

        from django.conf import settings

        store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
        communicator = WebsocketCommunicator(ConsoleConsumer.as_asgi(), "/ws/console/")
        communicator.scope["user"] = police
        communicator.scope["session"] = store
        assert (await communicator.connect())[0]
        assert (await communicator.receive_json_from(timeout=2))["type"] == "ready"
        assert await communicator.receive_nothing(timeout=0.3)  # still signed in
        await database_sync_to_async(Session.objects.filter(session_key=session_key).delete)()
        assert await communicator.receive_output(timeout=2) == {
            "type": "websocket.close",
            "code": 4401,
        }

    async_to_sync(scenario)()
