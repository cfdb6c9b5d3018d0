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
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from collections import Counter

import websockets
from websockets.asyncio.client import connect

CONNECT_BATCH = 20
_TYPE = re.compile(r'^\{"type": ?"([a-z._]+)"')
_NOTE = re.compile(r'"note": ?"([a-z]{2}\d{6})"')


class Consoles:
    def __init__(self, spec: dict):
        self.spec = spec
        self.receipts: list[tuple[int, str, int]] = []
        self.frames: Counter[str] = Counter()
        self.sockets = []
        self.closed_early: list[tuple[int, str]] = []
        self.tasks: list[asyncio.Task] = []

    async def open_one(self, console: dict):
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
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)


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
