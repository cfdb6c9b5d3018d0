"""Real-time events: published only from services, only after commit (STYLE rule 2).

Groups are derived on the server from the records' school: `school.<id>`, `station.<id>`,
`town.<id>`, `county.<id>`. Events carry ids, so a client that missed one catches up from
the database; nothing depends on the push arriving.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)
# Consoles catch up from the database; the push must never hold a request longer.
PUBLISH_TIMEOUT_SECONDS = 3.0


def groups_for_school(school) -> list[str]:
    groups = [f"school.{school.pk}", f"county.{school.region_id}"]
    if school.town_id:
        groups.append(f"town.{school.town_id}")
    if school.police_station_id:
        groups.append(f"station.{school.police_station_id}")
    if school.police_post_id:
        groups.append(f"post.{school.police_post_id}")
    return groups


def groups_for_membership(membership) -> list[str]:
    from huxiao.core.roles import OrgKind

    org = membership.organization
    if org.is_school:
        return [f"school.{org.pk}"]
    if org.kind == OrgKind.POLICE_STATION:
        return [f"station.{org.pk}"]
    if org.kind == OrgKind.POLICE_POST:
        return [f"post.{org.pk}"]
    if org.town_id:
        return [f"town.{org.town_id}"]
    return [f"county.{org.region_id}"]


def group_send_on_commit(groups: list[str], message: dict, *, label: str = "") -> None:
    """Send `message` to every group once the transaction commits (all groups from one
    event loop). A push failure is logged and never fails the write."""

    async def _send_all(layer):
        try:
            # Bounded: a Redis that holds the connection but never answers must not hang
            # the request (the channel layer has no socket timeout, ADR 0015).
            async with asyncio.timeout(PUBLISH_TIMEOUT_SECONDS):
                send_many = getattr(layer, "group_send_many", None)
                if send_many is not None:
                    await send_many(groups, message)  # the relay layer: one datagram
                    return
                for group in groups:
                    try:
                        await layer.group_send(group, message)
                    except Exception:  # noqa: BLE001 - a push failure must not fail the write
                        logger.exception("publish failed group=%s event=%s", group, label)
        except Exception:  # noqa: BLE001 - timeout or layer failure: consoles catch up
            logger.exception("publish failed groups=%s event=%s", groups, label)

    def _send():
        layer = get_channel_layer()
        if layer is None:
            return
        nowait = getattr(layer, "group_send_many_nowait", None)
        if nowait is not None:
            try:
                if nowait(groups, message):
                    return
            except Exception:  # noqa: BLE001 - a push failure must not fail the write
                logger.exception("publish failed groups=%s event=%s", groups, label)
                return
        _run_blocking(_send_all, layer)

    transaction.on_commit(_send)


def _run_blocking(coroutine_function, *args) -> None:
    """Run an async function to completion from sync code. A thread that already runs an
    event loop (a sync service called from async code, or a browser test driving Playwright
    in the same thread) cannot use async_to_sync: there the send runs in a short-lived
    thread of its own, bounded by the publish timeout."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        async_to_sync(coroutine_function)(*args)
        return
    worker = threading.Thread(
        target=lambda: async_to_sync(coroutine_function)(*args), name="publish", daemon=True
    )
    worker.start()
    worker.join(PUBLISH_TIMEOUT_SECONDS + 1)


def publish_on_commit(groups: list[str], event_type: str, payload: dict) -> None:
    message = {"type": "huxiao.event", "event": event_type, "payload": payload}
    group_send_on_commit(groups, message, label=event_type)
