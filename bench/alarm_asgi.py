"""ASGI entry point of the alarm benchmark: config.asgi plus the floors' triggers.

    granian --interface asginl ... bench.alarm_asgi:application

`POST /bench/floor` with `{"groups": [...], "data": {...}}` does only
`group_send(group, {"type": "alarm.message", "data": data})` for each group, from this
process, and answers 204: a bare Channels group broadcast to the same console sockets, through
the same consumer (ws/console/, huxiao.alarms.consumers.ConsoleConsumer), served by the same
server. With the relay layer (embedded mode) that is the local delivery plus a datagram to
each other process that holds sockets (normally none); with Redis, a round trip through
Redis. `/bench/raw` is the server's own floor without Channels (mode server_floor, below).
Everything else goes to the project's ASGI application. Never part of a deployment.
"""

from __future__ import annotations

import json

from channels.layers import get_channel_layer

from config.asgi import application as project_application

FLOOR_PATH = "/bench/floor"


async def _read_body(receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def _floor(scope, receive, send) -> None:
    request = json.loads(await _read_body(receive))
    layer = get_channel_layer()
    for group in request["groups"]:
        await layer.group_send(group, {"type": "alarm.message", "data": request["data"]})
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


# The server's own floor, without Channels: sockets on /bench/raw?g=<group> kept in a dict,
# and POST /bench/raw with the same body writes the payload, encoded once, to each socket of
# the groups straight through granian's send. What any consumer design must pay at least.
RAW_PATH = "/bench/raw"
_raw_groups: dict[str, set] = {}


async def _raw_socket(scope, receive, send) -> None:
    group = dict(
        part.split("=", 1) for part in scope["query_string"].decode().split("&") if "=" in part
    ).get("g", "")
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": json.dumps({"type": "ready", "groups": 1})})
    members = _raw_groups.setdefault(group, set())
    members.add(send)
    try:
        while (await receive())["type"] != "websocket.disconnect":
            pass
    finally:
        members.discard(send)


async def _raw_broadcast(scope, receive, send) -> None:
    request = json.loads(await _read_body(receive))
    text = json.dumps(request["data"])
    for group in request["groups"]:
        for member in list(_raw_groups.get(group, ())):
            await member({"type": "websocket.send", "text": text})
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def application(scope, receive, send):
    if scope["type"] == "http" and scope["method"] == "POST":
        if scope["path"] == FLOOR_PATH:
            await _floor(scope, receive, send)
            return
        if scope["path"] == RAW_PATH:
            await _raw_broadcast(scope, receive, send)
            return
    if scope["type"] == "websocket" and scope["path"] == RAW_PATH:
        await _raw_socket(scope, receive, send)
        return
    await project_application(scope, receive, send)
