"""The alarm console socket (`/ws/console/`): police, school and command consoles.

Protocol (JSON text frames):

- Authentication: the browser's session (cookie), or — when the socket has no session —
  a first message `{"token": "hx_…"}` with a user API token. No authentication within
  AUTH_TIMEOUT_SECONDS, a bad token or any other first message: close 4401. A user whose
  memberships give no alarm groups (no Action.VIEW_ALARM anywhere): close 4403. Both are
  sent after the handshake so that a browser sees the code and stops reconnecting (a
  refused handshake only shows 1006 to a page). Every REFRESH_SECONDS the socket checks
  again what it signed in with (the session still open, the token neither revoked nor
  expired: else 4401) and the memberships (none left: 4403).
- After authentication the server sends `{"type": "ready", "groups": n}`.
- Pushes: `{"type": "alarm.raised" | "alarm.acknowledged" | …, "event_id", "at", "alarm"}`
  for every alarm of the groups the memberships give (events.console_groups); a client
  never chooses what it hears.
- `{"since": <event_id>}` at any time: every event after it that the user may see, as
  ordinary event messages in event_id order, then
  `{"type": "sync", "open": [alarm, …], "open_total": M, "last_event_id": N}` with the
  open alarms, most urgent first, at most selectors.CONSOLE_OPEN_LIMIT of the M open.
  A client sends it on every (re)connect with the last event_id it handled. The events of
  the LATE_COMMIT_SECONDS before event N (ids N - TAIL_LOOKBACK to N - 1) come again first:
  with PostgreSQL a transaction holding a smaller id can commit after N was sent, and if
  its push was lost (the ASGI server killed) `since` alone would never bring it.
- `{"type": "ping"}` → `{"type": "pong"}`.

Duplicates: the server drops a push whose event_id this socket has already sent (a user in
two groups, or a push that the tail below also relays). The only duplicates a client can
see are inside a catch-up: events it asked for again, the late-commit window above, or a
push that arrived while the catch-up ran. They carry the same event_id — clients
de-duplicate by it. An event's `alarm` is the alarm's state when the message was built; a
re-sent event may show a newer state.

Pushes reach this process through the channel layer: in embedded mode the relay layer
(core.layers, Unix datagrams between the processes of one machine), in scale mode Redis.
Delivery must not depend on the push (DESIGN.md §3): `_EventTail` also follows the
AlarmEvent table from each ASGI process and relays events the push did not bring, once per
process however many consoles are connected (ALARM_CONSOLE_TAIL_SECONDS; by default every
second with the in-memory and relay layers, off with Redis, where a restarted worker's
consoles catch up with `{"since": N}`). It looks back TAIL_LOOKBACK ids for transactions
that commit out of id order (PostgreSQL).

Every REFRESH_SECONDS a socket recomputes its groups from the memberships (a removed
membership or a deactivated account stops hearing alarms; memberships stay fresh past the
layer's group expiry).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections import OrderedDict

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.urls import reverse

from huxiao.accounts.services import api_token_user
from huxiao.alarms import selectors
from huxiao.alarms.choices import AlarmEventType
from huxiao.alarms.events import alarm_payload, console_groups, event_message, groups_for_alarm
from huxiao.alarms.models import AlarmEvent
from huxiao.core.roles import Action
from huxiao.core.scoping import clear_scope_cache, memberships_of
from huxiao.notify.services import INBOX_EVENT, inbox_group

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
AUTH_TIMEOUT_SECONDS = 10
# Event ids this socket has sent, to drop the same event arriving through a second group.
SEEN_LIMIT = 4096
CATCH_UP_PAGE = 500
# Beyond this a console has been away so long that the open alarms (always sent) are what
# matters; the rest of the history is on the detail pages.
CATCH_UP_MAX_EVENTS = 5000
MAX_FRAME_CHARS = 4096
TAIL_LOOKBACK = 100
# A catch-up re-sends the events of this many seconds before `since` (at most TAIL_LOOKBACK
# ids back): a transaction that took an earlier id may have committed after `since` was
# sent, and its push died with the server the console was on.
LATE_COMMIT_SECONDS = 10
# How often an open socket recomputes its groups from the user's memberships: a removed
# membership or a deactivated user stops hearing alarms within this time, and re-adding
# the groups keeps them alive past the channel layer's group expiry (a day by default).
REFRESH_SECONDS = 300


def _event_groups(event) -> list[str]:
    """The groups an event was published to (see services: a drill's escalation stays
    within the station)."""
    station_only = event.type == AlarmEventType.ESCALATED and event.alarm.is_drill
    return groups_for_alarm(event.alarm, station_only=station_only)


class _EventTail:
    """Follows the AlarmEvent table and relays new events to this process's groups.

    One per process and event loop; runs only while at least one console is connected.
    """

    def __init__(self):
        self.consoles = 0
        self.task: asyncio.Task | None = None
        self.started: asyncio.Future | None = None
        self.loop = None
        self.last_id: int | None = None
        self.relayed: OrderedDict[int, None] = OrderedDict()

    @staticmethod
    def interval() -> float:
        configured = getattr(settings, "ALARM_CONSOLE_TAIL_SECONDS", None)
        if configured is not None:
            return float(configured)
        return 1.0 if isinstance(get_channel_layer(), InMemoryChannelLayer) else 0.0

    async def attach(self) -> bool:
        """Count a console in; start following if it is the first. Returns once the tail
        knows where it starts, so nothing committed after the console's catch-up is
        skipped."""
        interval = self.interval()
        if interval <= 0:
            return False
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.loop is not loop:
            self.consoles = 0
            self.loop = loop
            self.last_id = None
            self.relayed = OrderedDict()
            self.started = loop.create_future()
            self.task = loop.create_task(self._run(interval))
        self.consoles += 1
        await asyncio.shield(self.started)
        return True

    def detach(self) -> None:
        if self.task is None or self.loop is not _running_loop():
            return
        self.consoles -= 1
        if self.consoles <= 0:
            self.task.cancel()
            self.task = None
            self.consoles = 0

    async def _run(self, interval: float) -> None:
        layer = get_channel_layer()
        # Every process follows the table itself: deliver to this process's sockets only,
        # even through a layer that also relays to other processes (core.layers).
        local = getattr(layer, "group_send_local", None)

        async def group_send(group, message):
            if local is not None:
                local(group, message)
            elif isinstance(layer, InMemoryChannelLayer):
                await InMemoryChannelLayer.group_send(layer, group, message)
            else:
                await layer.group_send(group, message)

        try:
            while True:
                try:
                    if self.last_id is None:
                        self.last_id = await database_sync_to_async(_tail_start)(self.relayed)
                    else:
                        batch, self.last_id = await database_sync_to_async(_events_after)(
                            self.last_id, self.relayed
                        )
                        for groups, message in batch:
                            for group in groups:
                                await group_send(group, {"type": "alarm.message", "data": message})
                except Exception:  # noqa: BLE001 - keep following; the next tick retries
                    logger.exception("alarm console tail failed after event %s", self.last_id)
                if not self.started.done():
                    # Even after a failed first read: consoles must not wait on the tail.
                    self.started.set_result(None)
                await asyncio.sleep(interval)
        finally:
            if not self.started.done():
                self.started.set_result(None)


def _running_loop():
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _tail_start(relayed: OrderedDict) -> int:
    """Where the tail starts: what is already committed counts as relayed (consoles get it
    from their catch-up)."""
    latest = AlarmEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    recent = AlarmEvent.objects.filter(pk__gt=max(0, latest - TAIL_LOOKBACK))
    for pk in recent.values_list("pk", flat=True):
        relayed[pk] = None
    return latest


def _events_after(after: int, relayed: OrderedDict) -> tuple[list[tuple[list[str], dict]], int]:
    """Events not relayed yet, looking TAIL_LOOKBACK ids behind the last one: with
    PostgreSQL a transaction that took its id earlier may commit after a later one (SQLite
    commits one writer at a time, in id order)."""
    recent = AlarmEvent.objects.filter(pk__gt=max(0, after - TAIL_LOOKBACK)).order_by("pk")
    new_ids = [
        pk for pk in recent.values_list("pk", flat=True)[:CATCH_UP_PAGE] if pk not in relayed
    ]
    if not new_ids:
        return [], after
    # Unscoped on purpose: each event goes only to the groups derived from its school,
    # exactly as the service's push does.
    events = list(
        AlarmEvent.objects.filter(pk__in=new_ids)
        .select_related(
            "alarm__school", "alarm__raised_by", "alarm__raised_by_device", "alarm__acknowledged_by"
        )
        .order_by("pk")
    )
    for event in events:
        relayed[event.pk] = None
    while len(relayed) > SEEN_LIMIT:
        relayed.popitem(last=False)
    batch = [(_event_groups(e), event_message(e, e.alarm)) for e in events]
    return batch, max(after, events[-1].pk)


tail = _EventTail()

# The JSON text of recent pushes. The channel layer hands every console of a group the same
# `data` object (core.layers.RelayChannelLayer), so it is encoded once per process, not once
# per socket; keyed by the object itself (kept alive here, so its id is not reused).
_ENCODED: OrderedDict[int, tuple[dict, str]] = OrderedDict()
_ENCODED_LIMIT = 64


def _encoded(data: dict) -> str:
    entry = _ENCODED.get(id(data))
    if entry is not None and entry[0] is data:
        return entry[1]
    text = json.dumps(data)
    _ENCODED[id(data)] = (data, text)
    if len(_ENCODED) > _ENCODED_LIMIT:
        _ENCODED.popitem(last=False)
    return text


class ConsoleConsumer(AsyncJsonWebsocketConsumer):
    """Live alarms for one user: the groups their memberships give, plus catch-up."""

    async def connect(self):
        self.user = None
        self.alarm_groups: list[str] = []
        self.seen: OrderedDict[int, None] = OrderedDict()
        self.auth_deadline: asyncio.Task | None = None
        self.refresher: asyncio.Task | None = None
        self.tail_attached = False
        await self.accept()
        user = self.scope.get("user")
        # What the socket signed in with, checked again at every refresh: a session that
        # has ended or a token revoked or expired stops the socket as a deactivation does.
        self.credential: tuple[str, str] | None = None
        if user is not None and user.is_authenticated:
            session = self.scope.get("session")
            if session is not None and session.session_key:
                self.credential = ("session", session.session_key)
            await self._start(user)
        else:
            # No session: the first message must carry a token, and soon.
            self.auth_deadline = asyncio.ensure_future(self._close_if_not_authenticated())

    async def disconnect(self, code):
        if self.auth_deadline is not None:
            self.auth_deadline.cancel()
        if self.refresher is not None:
            self.refresher.cancel()
        if self.tail_attached:
            tail.detach()
            self.tail_attached = False
        groups, self.alarm_groups = self.alarm_groups, []
        for group in groups:
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception:  # noqa: BLE001 - e.g. Redis away; the membership expires
                logger.warning("console left %s without discarding it", group, exc_info=True)

    async def _close_if_not_authenticated(self):
        await asyncio.sleep(AUTH_TIMEOUT_SECONDS)
        if self.user is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)

    async def _start(self, user) -> None:
        groups = await self._console_groups(user)
        if not groups:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.user = user
        if self.auth_deadline is not None:
            self.auth_deadline.cancel()
            self.auth_deadline = None
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        self.alarm_groups = groups
        self.tail_attached = await tail.attach()
        self.refresher = asyncio.ensure_future(self._refresh_periodically())
        await self.send_json({"type": "ready", "groups": len(groups)})

    async def _refresh_periodically(self) -> None:
        interval = float(getattr(settings, "ALARM_CONSOLE_REFRESH_SECONDS", REFRESH_SECONDS))
        while True:
            # Spread the sockets' refreshes so they do not all query at once.
            await asyncio.sleep(interval * random.uniform(0.8, 1.2))  # noqa: S311 - jitter
            try:
                if not await self.refresh_groups():
                    return
            except Exception:  # noqa: BLE001 - keep the socket; the next round retries
                logger.exception("console group refresh failed for user %s", self.user.pk)

    async def refresh_groups(self) -> bool:
        """Recompute the groups from the memberships now. False (and the socket closed)
        when the session has ended or the token no longer holds (4401) or the user may no
        longer see any alarm (4403)."""
        if not await self._still_signed_in(self.user):
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return False
        groups = await self._console_groups(self.user, reload=True)
        if not groups:
            await self.close(code=CLOSE_FORBIDDEN)
            return False
        for group in self.alarm_groups:
            if group not in groups:
                await self.channel_layer.group_discard(group, self.channel_name)
        for group in groups:
            # Also for groups kept: re-adding renews the membership's expiry.
            await self.channel_layer.group_add(group, self.channel_name)
        self.alarm_groups = groups
        return True

    # -------------------------------------------------------------- client messages

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        # Bad frames get an error (or, before authentication, the 4401), never a crash.
        content = None
        if text_data and len(text_data) <= MAX_FRAME_CHARS:
            try:
                content = json.loads(text_data)
            except ValueError:
                content = None
        await self.receive_json(content, **kwargs)

    async def receive_json(self, content, **kwargs):
        if self.user is None:
            await self._authenticate(content)
            return
        if not isinstance(content, dict):
            await self.send_json({"type": "error", "detail": "expected a JSON object"})
            return
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})
            return
        if "since" in content:
            since = content["since"]
            if isinstance(since, bool) or not isinstance(since, int) or since < 0:
                await self.send_json({"type": "error", "detail": "since: a non-negative integer"})
                return
            await self._catch_up(min(since, 2**62))
            return
        await self.send_json({"type": "error", "detail": "unknown message"})

    async def _authenticate(self, content) -> None:
        token = content.get("token") if isinstance(content, dict) else None
        user = None
        if isinstance(token, str) and token.startswith("hx_") and len(token) < 200:
            user = await self._token_user(token)
        if user is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.credential = ("token", token)
        await self._start(user)

    async def _catch_up(self, since: int) -> None:
        messages, open_alarms, open_total, last_event_id = await self._catch_up_data(since)
        for message in messages:
            self._remember(message["event_id"])
            await self.send_json(message)
        await self.send_json(
            {
                "type": "sync",
                "open": open_alarms,
                "open_total": open_total,
                "last_event_id": last_event_id,
            }
        )

    # -------------------------------------------------------------- channel layer

    async def dispatch(self, message):
        # Pushes touch no database: skip Channels' per-message aclose_old_connections(),
        # a hop into the one thread-sensitive executor thread for every frame (the
        # handlers that query run in database_sync_to_async, which closes old connections
        # itself). Everything else goes the ordinary way.
        if message.get("type") == "alarm.message":
            await self.alarm_message(message)
            return
        await super().dispatch(message)

    async def huxiao_event(self, message):
        """A platform event on one of the socket's groups: only the user's own inbox
        items are relayed (as `notify.inbox`); other events are for other pages."""
        if message.get("event") != INBOX_EVENT:
            return
        payload = message.get("payload") or {}
        notification_id = payload.get("notification_id")
        if not isinstance(notification_id, int):
            return
        await self.send_json(
            {
                "type": "notify.inbox",
                "notification_id": notification_id,
                "event_type": str(payload.get("event_type", "")),
                "title": str(payload.get("title", "")),
                "url": await self._inbox_item_url(notification_id),
            }
        )

    async def alarm_message(self, message):
        data = message["data"]
        if not self._remember(data.get("event_id")):
            return
        await self.send(text_data=_encoded(data))

    def _remember(self, event_id) -> bool:
        """False if this socket already sent the event (outside a catch-up)."""
        if event_id in self.seen:
            self.seen.move_to_end(event_id)
            return False
        self.seen[event_id] = None
        if len(self.seen) > SEEN_LIMIT:
            self.seen.popitem(last=False)
        return True

    # -------------------------------------------------------------- database

    @database_sync_to_async
    def _console_groups(self, user, reload: bool = False) -> list[str]:
        if reload:
            # The socket may be hours old: the account may have been deactivated since.
            user.refresh_from_db(fields=["is_active"])
            if not user.is_active:
                return []
        clear_scope_cache(user)
        groups = console_groups(memberships_of(user))
        # The user's own inbox group too: silent alerts (a gate's screening hold, a
        # contraband report) reach the console the moment they are sent (ADR 0013).
        return [*groups, inbox_group(user.pk)] if groups else []

    @database_sync_to_async
    def _inbox_item_url(self, notification_id) -> str:
        from huxiao.notify.selectors import inbox_delivery_id

        delivery_id = inbox_delivery_id(user=self.user, notification_id=notification_id)
        return (
            reverse("notify:item", args=[delivery_id]) if delivery_id else reverse("notify:inbox")
        )

    @database_sync_to_async
    def _token_user(self, token: str):
        return api_token_user(token)

    @database_sync_to_async
    def _still_signed_in(self, user) -> bool:
        """Whether what the socket signed in with still holds for this user: the token is
        neither revoked nor expired, the session has not ended (logout, expiry, a password
        change). A socket whose scope carried a user but no session (not the case behind
        config.asgi's session middleware) has nothing more to check."""
        if self.credential is None:
            return True
        kind, secret = self.credential
        if kind == "token":
            holder = api_token_user(secret)
        else:
            from importlib import import_module
            from types import SimpleNamespace

            from django.contrib.auth import get_user

            store = import_module(settings.SESSION_ENGINE).SessionStore(secret)
            holder = get_user(SimpleNamespace(session=store))
        return holder is not None and holder.is_authenticated and holder.pk == user.pk

    @database_sync_to_async
    def _catch_up_data(self, since: int) -> tuple[list[dict], list[dict], int]:
        # Memberships may have changed since the socket opened: compute the scope afresh.
        clear_scope_cache(self.user)
        # Read before the events: an event committed in between is sent, never skipped.
        latest = (
            AlarmEvent.objects.visible_to(self.user, Action.VIEW_ALARM)
            .order_by("-pk")
            .values_list("pk", flat=True)
            .first()
            or 0
        )
        # Again the events that may have committed after `since` was sent (PostgreSQL);
        # the client drops those it has.
        messages = [
            event_message(e, e.alarm)
            for e in selectors.alarm_events_just_before(
                actor=self.user, before=since, lookback=TAIL_LOOKBACK, seconds=LATE_COMMIT_SECONDS
            )
        ]
        cursor = since
        while len(messages) < CATCH_UP_MAX_EVENTS:
            batch = selectors.alarm_events_since(actor=self.user, since=cursor, limit=CATCH_UP_PAGE)
            messages.extend(event_message(e, e.alarm) for e in batch)
            if len(batch) < CATCH_UP_PAGE:
                break
            cursor = batch[-1].pk
        open_alarms, open_total = selectors.open_alarms_for_console(actor=self.user)
        last_event_id = max([latest, *(m["event_id"] for m in messages)])
        return messages, [alarm_payload(a) for a in open_alarms], open_total, last_event_id
