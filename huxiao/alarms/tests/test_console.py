"""The console socket: who hears an alarm (and who never does), catch-up after a
reconnect, token authentication, and the tail that delivers when the push cannot."""

from __future__ import annotations

import datetime as dt

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from huxiao.alarms import consumers, services
from huxiao.alarms.choices import AlarmSource
from huxiao.alarms.consumers import ConsoleConsumer
from huxiao.core.roles import OrgKind, Role
from huxiao.orgs.tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

# Who is told about an alarm at world.school, and who must never be.
RECEIVE = ["police", "officer", "postofficer", "principal", "guard", "edu", "gov", "county"]
NEVER = ["farpolice", "principal2"]


@pytest.fixture(autouse=True)
def push_only(settings):
    """These tests check the push; the tail has tests of its own."""
    settings.ALARM_CONSOLE_TAIL_SECONDS = 0


@pytest.fixture
def health(world):
    centre = OrganizationFactory(kind=OrgKind.HEALTH_CENTRE, town=world.town, name="卫生院")
    user = UserFactory(username="health")
    MembershipFactory(user=user, organization=centre, role=Role.HEALTH_OFFICER)
    return user


async def _open(user=None) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(ConsoleConsumer.as_asgi(), "/ws/console/")
    communicator.scope["user"] = user if user is not None else AnonymousUser()
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def _ready(user) -> WebsocketCommunicator:
    communicator = await _open(user)
    assert (await communicator.receive_json_from(timeout=2))["type"] == "ready"
    return communicator


async def _closed_with(communicator, code: int) -> None:
    assert await communicator.receive_output(timeout=2) == {"type": "websocket.close", "code": code}


@database_sync_to_async
def _raise(world, **kwargs):
    alarm, _ = services.alarm_raise(
        actor=kwargs.pop("actor", world.users["guard"]),
        school=kwargs.pop("school", world.school),
        kind=kwargs.pop("kind", "intrusion"),
        location=kwargs.pop("location", "大门"),
        source=AlarmSource.BUTTON,
        **kwargs,
    )
    return alarm


@database_sync_to_async
def _step(step, **kwargs):
    return step(**kwargs)


@database_sync_to_async
def _event_ids(alarm) -> list[int]:
    return list(alarm.events.order_by("pk").values_list("pk", flat=True))


@database_sync_to_async
def _token(user) -> str:
    from huxiao.accounts.services import api_token_issue

    return api_token_issue(user=user)


# ------------------------------------------------------------------ fan-out


def test_alarm_reaches_police_school_and_command_and_nobody_else(world, health):
    async def scenario():
        hearing = {who: await _ready(world.users[who]) for who in RECEIVE}
        deaf = {who: await _ready(world.users[who]) for who in NEVER}
        # A health officer has no alarm groups at all: refused.
        refused = await _open(health)
        await _closed_with(refused, 4403)

        alarm = await _raise(world)
        [event_id] = await _event_ids(alarm)
        for who, communicator in hearing.items():
            message = await communicator.receive_json_from(timeout=2)
            assert message["type"] == "alarm.raised", who
            assert message["event_id"] == event_id, who
            assert message["alarm"]["id"] == alarm.pk, who
            assert message["alarm"]["school_name"] == world.school.name, who
            assert message["alarm"]["location"] == "大门", who
        for who, communicator in deaf.items():
            assert await communicator.receive_nothing(timeout=0.3), who
        for communicator in (*hearing.values(), *deaf.values()):
            await communicator.disconnect()

    async_to_sync(scenario)()


def test_a_retried_raise_pushes_the_raised_event_again_and_a_console_shows_it_once(world):
    """The first request may die between its commit and its push (a WSGI server killed in
    scale mode, tests/faults): the retry with the same key pushes the same event again."""

    async def scenario():
        alarm = await _raise(world, idempotency_key="press-1")  # its push reaches nobody
        [event_id] = await _event_ids(alarm)
        console = await _ready(world.users["police"])
        again = await _raise(world, idempotency_key="press-1")
        assert again.pk == alarm.pk
        message = await console.receive_json_from(timeout=2)
        assert (message["type"], message["event_id"]) == ("alarm.raised", event_id)
        await _raise(world, idempotency_key="press-1")
        assert await console.receive_nothing(timeout=0.3)  # the socket sent that id already
        assert await _event_ids(alarm) == [event_id]
        await console.disconnect()

        # Answered since: the acknowledgement carried the alarm to every console, and a
        # console opened later gets nothing from another retry (no stale "new alarm").
        await _step(services.alarm_acknowledge, actor=world.users["police"], alarm=again)
        later = await _ready(world.users["police"])
        await _raise(world, idempotency_key="press-1")
        assert await later.receive_nothing(timeout=0.3)
        await later.disconnect()

    async_to_sync(scenario)()


def test_every_step_is_pushed_with_increasing_event_ids(world):
    async def scenario():
        console = await _ready(world.users["police"])
        alarm = await _raise(world)
        police = world.users["police"]
        await _step(services.alarm_acknowledge, actor=police, alarm=alarm)
        await _step(services.alarm_dispatch, actor=police, alarm=alarm, units="巡逻车1")
        await _step(services.alarm_arrive, actor=police, alarm=alarm)
        await _step(services.alarm_resolve, actor=police, alarm=alarm, outcome="已处置")
        messages = [await console.receive_json_from(timeout=2) for _ in range(5)]
        assert [m["type"] for m in messages] == [
            "alarm.raised",
            "alarm.acknowledged",
            "alarm.dispatched",
            "alarm.arrived",
            "alarm.resolved",
        ]
        ids = [m["event_id"] for m in messages]
        assert ids == sorted(ids) and len(set(ids)) == 5
        assert messages[1]["alarm"]["acknowledged_by"] == "police"
        assert messages[-1]["alarm"]["status"] == "resolved"
        assert await console.receive_nothing(timeout=0.3)
        await console.disconnect()

    async_to_sync(scenario)()


def test_a_user_in_two_groups_hears_each_event_once(world):
    both = UserFactory(username="stationandpost")
    MembershipFactory(user=both, organization=world.station, role=Role.POLICE_OFFICER)
    MembershipFactory(user=both, organization=world.post, role=Role.POLICE_OFFICER)

    async def scenario():
        console = await _ready(both)
        await _raise(world)
        assert (await console.receive_json_from(timeout=2))["type"] == "alarm.raised"
        assert await console.receive_nothing(timeout=0.3)
        await console.disconnect()

    async_to_sync(scenario)()


def test_anonymous_and_nobody_are_refused(world):
    async def scenario():
        anonymous = await _open()
        await anonymous.send_json_to({"since": 0})
        await _closed_with(anonymous, 4401)

        nobody = await _open(world.users["nobody"])
        await _closed_with(nobody, 4403)

    async_to_sync(scenario)()


def test_anonymous_socket_that_says_nothing_is_closed(world, monkeypatch):
    monkeypatch.setattr(consumers, "AUTH_TIMEOUT_SECONDS", 0.1)

    async def scenario():
        silent = await _open()
        await _closed_with(silent, 4401)

    async_to_sync(scenario)()


# ------------------------------------------------------------------ catch-up


def test_reconnecting_console_gets_missed_events_and_open_alarms(world):
    police = world.users["police"]

    async def scenario():
        console = await _ready(police)
        first = await _raise(world, location="操场")
        seen = (await console.receive_json_from(timeout=2))["event_id"]
        await console.disconnect()

        # While the console is away: the first alarm is acknowledged, a second is raised
        # and resolved, a third is raised and stays open.
        await _step(services.alarm_acknowledge, actor=police, alarm=first)
        second = await _raise(world, kind="fire")
        await _step(services.alarm_resolve, actor=police, alarm=second, outcome="误触")
        third = await _raise(world, kind="medical")
        expected = sorted((await _event_ids(first))[1:] + await _event_ids(second))
        expected += await _event_ids(third)

        console = await _ready(police)
        await console.send_json_to({"since": seen})
        missed = [await console.receive_json_from(timeout=2) for _ in expected]
        assert [m["event_id"] for m in missed] == expected
        assert [m["type"] for m in missed] == [
            "alarm.acknowledged",
            "alarm.raised",
            "alarm.acknowledged",  # resolving it answered it
            "alarm.resolved",
            "alarm.raised",
        ]
        sync = await console.receive_json_from(timeout=2)
        assert sync["type"] == "sync"
        # Most urgent first: the unacknowledged third before the acknowledged first.
        assert [a["id"] for a in sync["open"]] == [third.pk, first.pk]
        assert sync["open_total"] == 2
        assert sync["last_event_id"] == expected[-1]
        assert await console.receive_nothing(timeout=0.2)

        # A catch-up from the start repeats events (same ids); the client de-duplicates.
        await console.send_json_to({"since": 0})
        again = []
        while (message := await console.receive_json_from(timeout=2))["type"] != "sync":
            again.append(message["event_id"])
        assert again == [seen, *expected]
        await console.disconnect()

    async_to_sync(scenario)()


def test_catch_up_sends_again_the_events_that_may_have_committed_after_since(world):
    """PostgreSQL may commit a smaller event id after a larger one was pushed; if that
    push died with the ASGI server (tests/faults), {"since": larger} alone never brings it.
    The catch-up re-sends the visible events of the seconds before `since`, nothing older,
    nothing outside the user's scope."""

    async def scenario():
        old = await _raise(
            world, kind="fire", now=timezone.now() - dt.timedelta(seconds=60)
        )  # long committed: not in the window
        late = await _raise(world, kind="medical")  # committed "after" the next one was seen
        other = await _raise(
            world, school=world.other_school, actor=world.users["principal2"]
        )  # another school, same station
        seen = await _raise(world)
        [seen_event] = await _event_ids(seen)
        [late_event] = await _event_ids(late)
        [other_event] = await _event_ids(other)
        assert (await _event_ids(old))[0] < late_event < other_event < seen_event

        console = await _ready(world.users["police"])
        await console.send_json_to({"since": seen_event})
        again = []
        while (message := await console.receive_json_from(timeout=2))["type"] != "sync":
            again.append(message["event_id"])
        assert again == [late_event, other_event]
        assert message["last_event_id"] == seen_event
        await console.disconnect()

        # The school's principal sees only their school's part of the window.
        principal = await _ready(world.users["principal2"])
        await principal.send_json_to({"since": seen_event})
        message = await principal.receive_json_from(timeout=2)
        assert (message["type"], message["event_id"]) == ("alarm.raised", other_event)
        assert (await principal.receive_json_from(timeout=2))["type"] == "sync"
        await principal.disconnect()

        # Another town's police: nothing, although the window's anchor is an event it
        # cannot see.
        far = await _ready(world.users["farpolice"])
        await far.send_json_to({"since": seen_event})
        assert (await far.receive_json_from(timeout=2)) == {
            "type": "sync",
            "open": [],
            "open_total": 0,
            "last_event_id": 0,
        }
        await far.disconnect()

    async_to_sync(scenario)()


def test_catch_up_is_scoped(world):
    async def scenario():
        await _raise(world)
        far = await _ready(world.users["farpolice"])
        await far.send_json_to({"since": 0})
        sync = await far.receive_json_from(timeout=2)
        assert sync == {"type": "sync", "open": [], "open_total": 0, "last_event_id": 0}
        await far.disconnect()

    async_to_sync(scenario)()


def test_a_push_already_sent_is_not_repeated_after_catch_up(world):
    async def scenario():
        console = await _ready(world.users["police"])
        await console.send_json_to({"since": 0})
        assert (await console.receive_json_from(timeout=2))["type"] == "sync"
        await _raise(world)
        assert (await console.receive_json_from(timeout=2))["type"] == "alarm.raised"
        assert await console.receive_nothing(timeout=0.3)
        await console.disconnect()

    async_to_sync(scenario)()


@pytest.mark.parametrize(
    "message",
    [{"since": -1}, {"since": "5"}, {"since": True}, {"since": None}, {"what": 1}, [1, 2], "x"],
)
def test_bad_messages_get_an_error_and_the_socket_stays(world, message):
    async def scenario():
        console = await _ready(world.users["police"])
        await console.send_json_to(message)
        assert (await console.receive_json_from(timeout=2))["type"] == "error"
        await console.send_to(text_data="{not json")
        assert (await console.receive_json_from(timeout=2))["type"] == "error"
        await console.send_json_to({"type": "ping"})
        assert await console.receive_json_from(timeout=2) == {"type": "pong"}
        await console.disconnect()

    async_to_sync(scenario)()


# ------------------------------------------------------------------ token authentication


def test_token_in_the_first_message_authenticates(world):
    async def scenario():
        token = await _token(world.users["police"])
        console = await _open()
        await console.send_json_to({"token": token})
        assert (await console.receive_json_from(timeout=2))["type"] == "ready"
        alarm = await _raise(world)
        message = await console.receive_json_from(timeout=2)
        assert message["alarm"]["id"] == alarm.pk
        await console.disconnect()

    async_to_sync(scenario)()


@pytest.mark.parametrize("token", ["hx_not-a-real-token", "hxd_device", "", 12, None])
def test_bad_token_is_refused(world, token):
    async def scenario():
        console = await _open()
        await console.send_json_to({"token": token})
        await _closed_with(console, 4401)

    async_to_sync(scenario)()


def test_token_of_a_user_without_alarm_groups_is_refused(world, health):
    async def scenario():
        token = await _token(health)
        console = await _open()
        await console.send_json_to({"token": token})
        await _closed_with(console, 4403)

    async_to_sync(scenario)()


# ------------------------------------------------------------------ the tail


def test_tail_delivers_when_the_push_cannot(world, settings, monkeypatch):
    """Embedded mode: the HTTP process's push never reaches the WebSocket process."""
    settings.ALARM_CONSOLE_TAIL_SECONDS = 0.05
    monkeypatch.setattr("huxiao.core.events.get_channel_layer", lambda: None)

    async def scenario():
        police = await _ready(world.users["police"])
        far = await _ready(world.users["farpolice"])
        alarm = await _raise(world)
        message = await police.receive_json_from(timeout=2)
        assert message["type"] == "alarm.raised" and message["alarm"]["id"] == alarm.pk
        assert await far.receive_nothing(timeout=0.3)
        await police.disconnect()
        await far.disconnect()

    async_to_sync(scenario)()


def test_tail_and_push_together_deliver_once(world, settings):
    settings.ALARM_CONSOLE_TAIL_SECONDS = 0.05

    async def scenario():
        police = await _ready(world.users["police"])
        await _raise(world)
        assert (await police.receive_json_from(timeout=2))["type"] == "alarm.raised"
        assert await police.receive_nothing(timeout=0.4)
        await police.disconnect()

    async_to_sync(scenario)()


def test_tail_keeps_a_drills_escalation_within_the_station(world, settings, monkeypatch):
    settings.ALARM_CONSOLE_TAIL_SECONDS = 0.05
    monkeypatch.setattr("huxiao.core.events.get_channel_layer", lambda: None)

    @database_sync_to_async
    def escalate():
        import datetime as dt

        from django.utils import timezone

        return services.alarms_escalate_due(now=timezone.now() + dt.timedelta(minutes=5))

    async def scenario():
        await _raise(world, drill=True)
        police = await _ready(world.users["police"])
        county = await _ready(world.users["county"])
        assert await escalate()
        message = await police.receive_json_from(timeout=2)
        assert message["type"] == "alarm.escalated" and message["alarm"]["is_drill"]
        assert await county.receive_nothing(timeout=0.3)
        await police.disconnect()
        await county.disconnect()

    async_to_sync(scenario)()


def test_tail_relays_an_event_whose_id_commits_late(world, settings, monkeypatch):
    """PostgreSQL may commit a lower id after a higher one; the tail looks back for it."""
    settings.ALARM_CONSOLE_TAIL_SECONDS = 0.05
    monkeypatch.setattr("huxiao.core.events.get_channel_layer", lambda: None)

    @database_sync_to_async
    def event(alarm, pk, type_):
        from django.utils import timezone

        from huxiao.alarms.models import AlarmEvent

        return AlarmEvent.objects.create(pk=pk, alarm=alarm, type=type_, at=timezone.now()).pk

    async def scenario():
        alarm = await _raise(world)
        [first] = await _event_ids(alarm)
        police = await _ready(world.users["police"])
        later = await event(alarm, first + 10, "alarm.dispatched")
        assert (await police.receive_json_from(timeout=2))["event_id"] == later
        earlier = await event(alarm, first + 5, "alarm.acknowledged")
        assert (await police.receive_json_from(timeout=2))["event_id"] == earlier
        assert await police.receive_nothing(timeout=0.3)
        await police.disconnect()

    async_to_sync(scenario)()


@pytest.mark.parametrize(
    ("backend", "interval"),
    [
        # In-memory layer: pushes stay in their process, the tail is on.
        ("channels.layers.InMemoryChannelLayer", 1.0),
        # Shared (Redis) layers, the library's and scale mode's: every push reaches every
        # process, the tail is off.
        ("channels_redis.core.RedisChannelLayer", 0.0),
        ("huxiao.core.redis_layer.RedisChannelLayer", 0.0),
    ],
)
def test_tail_is_off_with_a_shared_channel_layer(settings, backend, interval):
    """Whichever layer the suite runs with (REDIS_URL or not), each is checked here."""
    from channels.layers import channel_layers

    settings.ALARM_CONSOLE_TAIL_SECONDS = None
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": backend, "CONFIG": {}}}
    channel_layers.backends.pop("default", None)
    try:
        assert consumers.tail.interval() == interval
    finally:
        channel_layers.backends.pop("default", None)


# ------------------------------------------------------------------ silent alerts


@database_sync_to_async
def _notify(world, recipients, *, title="门岗核查提示"):
    from huxiao.notify.services import notify_send

    notify_send(
        organizations=[],
        event_type="access.visitor_hold",
        title=title,
        body="请前往门岗。",
        recipients=[world.users[name].pk for name in recipients],
    )


def test_a_users_inbox_alert_reaches_their_console_and_nobody_elses(world):
    """A gate's silent alert is shown live on the recipient's console (not sounded), with a
    link to their own inbox item; other consoles, even of the same station, get nothing,
    and platform events that are not the user's inbox are not relayed."""

    async def scenario():
        officer = await _ready(world.users["officer"])
        police = await _ready(world.users["police"])
        await _notify(world, ["officer"])
        message = await officer.receive_json_from(timeout=2)
        assert message["type"] == "notify.inbox"
        assert message["title"] == "门岗核查提示"
        assert message["event_type"] == "access.visitor_hold"
        assert message["url"].startswith("/notify/inbox/")
        assert message["url"] != "/notify/inbox/"  # the item itself, found for this user
        assert await police.receive_nothing(timeout=0.3)
        # Another event on the station's groups (not an inbox item) is not relayed.
        from huxiao.core.events import publish_on_commit

        await database_sync_to_async(publish_on_commit)(
            [f"user.{world.users['officer'].pk}"], "something.else", {"x": 1}
        )
        assert await officer.receive_nothing(timeout=0.3)
        for communicator in (officer, police):
            await communicator.disconnect()

    async_to_sync(scenario)()


def test_the_console_page_lists_unread_alerts_already_waiting(client, world):
    from django.urls import reverse

    async_to_sync(_notify)(world, ["officer"], title="先到的提示")
    client.force_login(world.users["officer"])
    page = client.get(reverse("alarms:console"))
    assert page.status_code == 200
    inbox = page.context["config"]["inbox"]
    assert [item["title"] for item in inbox] == ["先到的提示"]
    assert inbox[0]["url"].startswith("/notify/inbox/")
    assert 'data-testid="console-inbox"' in page.content.decode()
