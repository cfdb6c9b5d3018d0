"""Console clients of the alarm benchmark: WebSockets to ws/console/, in a process of their own.

Run by bench/alarm_latency.py as `python -m bench.alarm_clients`; talks over stdin/stdout,
one line per message:

    in:  {"url": ..., "origin": ..., "consoles": [{"index": i, "token": "hx_..."}, ...]}
    out: ready <n>                      all sockets authenticated ({"type": "ready"} seen)
    in:  count        out: count <n>    receipts so far
    in:  dump         out: {"receipts": [[index, tag, t_ns], ...], "frames": {...}}
    in:  quit

A receipt is an `alarm.raised` frame: the console's index, the alarm's note (the benchmark's
tag for that alarm) and time.monotonic_ns() when the frame was read — CLOCK_MONOTONIC, the
same clock across processes on one machine, so the load generator's send times compare.

Two socket implementations (the spec's "client"): "websockets" (the `websockets` library,
one task per socket; the default, and for wss://) and "raw" (bench/alarm_latency.py's
default: an asyncio.Protocol per socket that speaks
RFC 6455's client side itself — handshake, masked text frames out, unmasked frames in,
ping/pong, close). Both read the same frames; raw costs the benchmark machine a fraction of
the CPU per frame (the consoles of a real deployment run on other machines, so what the
clients cost here is measurement overhead taken from the servers under test).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import struct
import sys
import time
from collections import Counter
from urllib.parse import urlparse

import websockets
from websockets.asyncio.client import connect

CONNECT_BATCH = 20
_TYPE = re.compile(r'^\{"type": ?"([a-z._]+)"')
_NOTE = re.compile(r'"note": ?"([a-z]{2}\d{6})"')


_TYPE_B = re.compile(rb'^\{"type": ?"([a-z._]+)"')
_NOTE_B = re.compile(rb'"note": ?"([a-z]{2}\d{6})"')
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _masked(opcode: int, payload: bytes) -> bytes:
    """One client frame (clients must mask, RFC 6455 5.3)."""
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + body


class RawConsole(asyncio.Protocol):
    """A console socket without a WebSocket library: reads server frames in place."""

    def __init__(self, index: int, consoles: Consoles, url: str, origin: str, token: str):
        self.index, self.consoles = index, consoles
        parsed = urlparse(url)
        self.host, self.port = parsed.hostname, parsed.port or 80
        self.path = (parsed.path or "/") + (f"?{parsed.query}" if parsed.query else "")
        self.origin, self.token = origin, token
        self.key = base64.b64encode(os.urandom(16))
        self.buffer = bytearray()
        self.upgraded = False
        self.fragments: list[bytes] = []
        self.ready = asyncio.get_running_loop().create_future()
        self.transport = None
        self.closing = False

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(
            (
                f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {self.key.decode()}\r\nSec-WebSocket-Version: 13\r\n"
                f"Origin: {self.origin}\r\n\r\n"
            ).encode()
        )

    def data_received(self, data: bytes) -> None:
        t_ns = time.monotonic_ns()
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buffer[:end]).decode("latin-1")
            del buffer[: end + 4]
            accept = base64.b64encode(hashlib.sha1(self.key + _GUID).digest()).decode()
            if not head.startswith("HTTP/1.1 101") or accept not in head:
                self._fail(f"handshake refused: {head.splitlines()[0] if head else '?'}")
                return
            self.upgraded = True
            if self.token:
                self.transport.write(_masked(0x1, json.dumps({"token": self.token}).encode()))
        while len(buffer) >= 2:
            first, second = buffer[0], buffer[1]
            length, offset = second & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, offset = struct.unpack_from("!H", buffer, 2)[0], 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, offset = struct.unpack_from("!Q", buffer, 2)[0], 10
            if second & 0x80 or len(buffer) < offset + length:
                if second & 0x80:
                    self._fail("a masked frame from the server")
                return
            payload = bytes(buffer[offset : offset + length])
            del buffer[: offset + length]
            self._frame(first & 0x80, first & 0x0F, payload, t_ns)

    def _frame(self, fin: int, opcode: int, payload: bytes, t_ns: int) -> None:
        if opcode == 0x9:  # ping
            self.transport.write(_masked(0xA, payload))
            return
        if opcode == 0x8:  # close
            code = struct.unpack_from("!H", payload)[0] if len(payload) >= 2 else 1005
            if not self.closing:
                self.consoles.closed_early.append((self.index, f"closed {code}"))
                self.transport.write(_masked(0x8, payload[:2]))
            self.transport.close()
            return
        if opcode in (0x1, 0x0):
            self.fragments.append(payload)
            if not fin:
                return
            raw, self.fragments = b"".join(self.fragments), []
            self._message(raw, t_ns)

    def _message(self, raw: bytes, t_ns: int) -> None:
        match = _TYPE_B.search(raw)
        kind = match.group(1).decode() if match else json.loads(raw).get("type", "?")
        if not self.ready.done():
            if kind == "ready":
                self.ready.set_result(None)
            return
        self.consoles.frames[kind] += 1
        if kind == "alarm.raised":
            note = _NOTE_B.search(raw)
            tag = note.group(1).decode() if note else json.loads(raw)["alarm"]["note"]
            self.consoles.receipts.append((self.index, tag, t_ns))

    def _fail(self, why: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(why))
        self.consoles.closed_early.append((self.index, why))
        self.transport.close()

    def connection_lost(self, exc) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"connection lost: {exc}"))
        elif not self.closing and not any(i == self.index for i, _ in self.consoles.closed_early):
            self.consoles.closed_early.append((self.index, f"connection lost: {exc}"))

    def close(self) -> None:
        self.closing = True
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_masked(0x8, struct.pack("!H", 1000)))
            self.transport.close()


class Consoles:
    def __init__(self, spec: dict):
        self.spec = spec
        self.receipts: list[tuple[int, str, int]] = []
        self.frames: Counter[str] = Counter()
        self.sockets = []
        self.closed_early: list[tuple[int, str]] = []
        self.tasks: list[asyncio.Task] = []

    async def open_one(self, console: dict):
        # raw speaks plain ws:// only; wss:// (the scale-mode test, behind nginx) and specs
        # that do not choose use the websockets library.
        url = console.get("url") or self.spec["url"]
        if self.spec.get("client") == "raw" and url.startswith("ws://"):
            await self.open_raw(console)
            return
        ws = await connect(
            console.get("url") or self.spec["url"],
            origin=self.spec["origin"],
            max_size=2**22,
            open_timeout=30,
            ping_interval=None,  # the benchmark is short; no keepalive traffic in the figures
        )
        if console.get("token"):
            await ws.send(json.dumps({"token": console["token"]}))
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if frame.get("type") == "ready":
                break
        self.sockets.append(ws)
        self.tasks.append(asyncio.create_task(self.read(console["index"], ws)))

    async def open_raw(self, console: dict) -> None:
        url = console.get("url") or self.spec["url"]
        parsed = urlparse(url)
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(
            lambda: RawConsole(
                console["index"], self, url, self.spec["origin"], console.get("token", "")
            ),
            parsed.hostname,
            parsed.port or 80,
        )
        await asyncio.wait_for(protocol.ready, 30)
        self.sockets.append(protocol)

    async def read(self, index: int, ws) -> None:
        receipts, frames = self.receipts, self.frames
        try:
            async for raw in ws:
                t_ns = time.monotonic_ns()
                # The frame's type and the alarm's note (the tag) without decoding the whole
                # frame: this process reads ~100,000 frames and must not be the bottleneck.
                match = _TYPE.search(raw)
                kind = match.group(1) if match else json.loads(raw).get("type", "?")
                frames[kind] += 1
                if kind == "alarm.raised":
                    note = _NOTE.search(raw)  # else not the usual form: decode after all
                    tag = note.group(1) if note else json.loads(raw)["alarm"]["note"]
                    receipts.append((index, tag, t_ns))
        except websockets.ConnectionClosed as exc:
            self.closed_early.append((index, str(exc)))

    async def open_all(self) -> None:
        consoles = self.spec["consoles"]
        for start in range(0, len(consoles), CONNECT_BATCH):
            await asyncio.gather(
                *(self.open_one(c) for c in consoles[start : start + CONNECT_BATCH])
            )

    async def close_all(self) -> None:
        for task in self.tasks:
            task.cancel()
        raw = [s for s in self.sockets if isinstance(s, RawConsole)]
        for protocol in raw:
            protocol.close()
        await asyncio.gather(
            *(ws.close() for ws in self.sockets if not isinstance(ws, RawConsole)),
            return_exceptions=True,
        )


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def main() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    consoles = Consoles(json.loads(await reader.readline()))
    await consoles.open_all()
    say(f"ready {len(consoles.sockets)}")
    while True:
        command = (await reader.readline()).decode().strip()
        if command == "count":
            say(f"count {len(consoles.receipts)}")
        elif command == "dump":
            say(
                json.dumps(
                    {
                        "receipts": consoles.receipts,
                        "frames": dict(consoles.frames),
                        "closed_early": consoles.closed_early,
                    }
                )
            )
        else:  # "quit", or the benchmark went away (EOF)
            await consoles.close_all()
            return


if __name__ == "__main__":
    asyncio.run(main())
