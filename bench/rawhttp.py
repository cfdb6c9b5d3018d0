"""A minimal HTTP/1.1 client for the alarm benchmark's load generator: keep-alive
connections over asyncio streams, JSON bodies, Content-Length answers.

httpx costs the benchmark machine about 4.6 ms of CPU per POST (ADR 0016 addendum) — CPU
taken from the servers under test, since the load generator shares their two cores. This
client does what the benchmark needs and nothing more: one request at a time per
connection, a pool that grows to the concurrency, answers with Content-Length (or none, for
204), "Connection: close" honoured. It is measurement equipment, not part of the platform.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlencode, urlparse


class RawHttpError(RuntimeError):
    pass


class Response:
    __slots__ = ("body", "status_code")

    def __init__(self, status_code: int, body: bytes):
        self.status_code, self.body = status_code, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


class RawHttp:
    def __init__(self, timeout: float = 30):
        self.timeout = timeout
        self.idle: dict[tuple[str, int], list[tuple]] = {}

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.aclose()

    async def aclose(self) -> None:
        for pool in self.idle.values():
            for _reader, writer in pool:
                writer.close()
        self.idle.clear()

    async def request(
        self, method: str, url: str, *, json_body=None, headers=None, params=None
    ) -> Response:
        parsed = urlparse(url)
        host, port = parsed.hostname, parsed.port or 80
        target = parsed.path or "/"
        if params:
            target += "?" + urlencode(params)
        body = b"" if json_body is None else json.dumps(json_body).encode()
        lines = [f"{method} {target} HTTP/1.1", f"Host: {host}:{port}"]
        if json_body is not None:
            lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(body)}")
        lines.extend(f"{k}: {v}" for k, v in (headers or {}).items())
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        return await asyncio.wait_for(self._send((host, port), raw), self.timeout)

    async def post(self, url: str, *, json=None, headers=None) -> Response:  # noqa: A002
        return await self.request("POST", url, json_body=json, headers=headers)

    async def get(self, url: str, *, params=None, headers=None) -> Response:
        return await self.request("GET", url, params=params, headers=headers)

    async def _send(self, address: tuple[str, int], raw: bytes) -> Response:
        pool = self.idle.setdefault(address, [])
        reused = bool(pool)
        reader, writer = pool.pop() if pool else await asyncio.open_connection(*address)
        try:
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
        except (ConnectionError, asyncio.IncompleteReadError):
            writer.close()
            if not reused:
                raise
            # A kept-alive connection the server had closed: once more on a new one.
            reader, writer = await asyncio.open_connection(*address)
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        try:
            status = int(status_line.split(" ", 2)[1])
        except (IndexError, ValueError) as exc:
            writer.close()
            raise RawHttpError(f"bad status line: {status_line!r}") from exc
        fields = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        if "chunked" in fields.get("transfer-encoding", "").lower():
            writer.close()
            raise RawHttpError("chunked answers are not supported by this client")
        length = int(fields.get("content-length", "0"))
        body = await reader.readexactly(length) if length else b""
        if fields.get("connection", "").lower() == "close":
            writer.close()
        else:
            pool.append((reader, writer))
        return Response(status, body)
