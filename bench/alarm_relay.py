"""Prototype: a channel layer for embedded mode whose group sends cross process boundaries.

Embedded mode runs HTTP (granian WSGI), WebSockets (granian ASGI), the task worker and the
MQTT bridge as separate processes on one machine, without Redis. With Channels'
InMemoryChannelLayer a `group_send` reaches only consumers in the same process, so an alarm
published by an HTTP request, an escalation by the task worker or an MQTT alarm never reaches
a console socket held by the ASGI process.

RelayChannelLayer is the InMemoryChannelLayer plus a relay over Unix datagram sockets:

- A process that hosts consumers (it calls `new_channel()`: the ASGI server, or several ASGI
  workers) binds `<relay_dir>/<pid>.sock` on first use and reads it from its event loop.
- `group_send` delivers to the local groups as before *and* sends one datagram (msgpack,
  as channels_redis encodes) to every other socket in `relay_dir`; the receiving process
  applies it to its own groups. Nothing is stored: a socket whose process is gone is
  removed by the first sender that finds it refused.
- A datagram to a full socket blocks the sender (back-pressure) for at most `send_timeout`
  seconds; then it is dropped and logged. Delivery never depends on the push alone: the
  console's tail and catch-up (`{"since": N}`) read the database.

Unix datagrams are reliable and ordered per sender on Linux and macOS (unlike UDP); the
socket directory is created 0700, so only the platform's own user can publish.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import logging
import os
import random
import socket
import string
import tempfile
import threading
import time
from pathlib import Path

import msgpack
from channels.layers import InMemoryChannelLayer

logger = logging.getLogger(__name__)

CLEAN_INTERVAL = 1.0  # seconds between sweeps for expired messages and memberships
MAX_DATAGRAM = 200_000  # below Linux's default socket buffer (212,992 bytes)
_UNIX_PATH_MAX = 100  # sun_path is 108 bytes on Linux, 104 on macOS


def _relay_dir(configured: str | os.PathLike | None) -> Path:
    if configured is None:
        from django.conf import settings

        configured = Path(settings.VAR_DIR) / "run" / "channels"
    path = Path(configured)
    if len(str(path)) + 24 > _UNIX_PATH_MAX:
        # Too long for a socket address: a short, stable stand-in under the temp dir.
        digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
        path = Path(tempfile.gettempdir()) / f"huxiao-ch-{digest}"
    return path


def _channel_owner(channel: str) -> str | None:
    """The node (process) in a channel name made by new_channel() below, else None."""
    head, bang, _ = channel.partition("!")
    if not bang:
        return None
    _, dot_relay, node = head.rpartition(".relay-")
    return node if dot_relay and node else None


class RelayChannelLayer(InMemoryChannelLayer):
    def __init__(self, relay_dir=None, send_timeout=1.0, node=None, **kwargs):
        super().__init__(**kwargs)
        # This process's name among the relay's sockets (the pid; tests give their own).
        self.node = str(node or os.getpid())
        self._relay_dir_setting = relay_dir
        self._dir: Path | None = None
        self.send_timeout = float(send_timeout)
        self._lock = threading.Lock()
        self._sender: socket.socket | None = None
        self._peers: tuple[int, list[str]] = (-1, [])
        self._own_path: str | None = None
        self._reader_loop: asyncio.AbstractEventLoop | None = None
        self._reader_sock: socket.socket | None = None
        self._last_clean = 0.0
        self.relayed = 0
        self.received = 0
        self.dropped = 0

    # ---------------------------------------------------------------- Channels API

    async def new_channel(self, prefix="specific."):
        self._ensure_listening()
        # The node in the name tells every process whose channel it is.
        suffix = "".join(random.choice(string.ascii_letters) for _ in range(12))
        return f"{prefix}.relay-{self.node}!{suffix}"

    async def group_send(self, group, message):
        await super().group_send(group, message)
        self._relay(("g", group, message))

    async def send(self, channel, message):
        owner = _channel_owner(channel)
        if owner is not None and owner != self.node:
            # A consumer of another process: to that process only.
            self._relay(("c", channel, message), only=str(self.relay_dir / f"{owner}.sock"))
            return
        await super().send(channel, message)

    async def close(self):
        self._stop_listening()

    def _clean_expired(self):
        # InMemoryChannelLayer sweeps every channel and group membership on *every* receive
        # and group_send: O(consoles) per frame, O(consoles²) per broadcast. Once a second
        # is enough to expire 60-second-old messages and day-old group memberships.
        now = time.monotonic()
        if now - self._last_clean >= CLEAN_INTERVAL:
            self._last_clean = now
            super()._clean_expired()

    # ---------------------------------------------------------------- the relay

    @property
    def relay_dir(self) -> Path:
        if self._dir is None:
            self._dir = _relay_dir(self._relay_dir_setting)
            self._dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        return self._dir

    def _peer_paths(self) -> list[str]:
        """Sockets of the other processes; re-listed only when the directory changes."""
        try:
            mtime = os.stat(self.relay_dir).st_mtime_ns
        except FileNotFoundError:
            return []
        cached_mtime, paths = self._peers
        if mtime != cached_mtime:
            paths = [
                entry.path
                for entry in os.scandir(self.relay_dir)
                if entry.name.endswith(".sock") and entry.path != self._own_path
            ]
            self._peers = (mtime, paths)
        return paths

    def _relay(self, item, only: str | None = None) -> None:
        peers = [only] if only else self._peer_paths()
        if not peers:
            return
        data = msgpack.packb(item, use_bin_type=True)
        if len(data) > MAX_DATAGRAM:
            self.dropped += 1
            logger.error("channel relay: message of %s bytes is too large; dropped", len(data))
            return
        with self._lock:
            if self._sender is None:
                self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._sender.settimeout(self.send_timeout)
            for path in peers:
                try:
                    self._sender.sendto(data, path)
                    self.relayed += 1
                except (ConnectionRefusedError, FileNotFoundError):
                    # The process behind it is gone (killed, restarted): forget it.
                    self._forget(path)
                except (TimeoutError, BlockingIOError):
                    self.dropped += 1
                    logger.warning("channel relay: %s did not drain in time; dropped", path)
                except OSError as exc:
                    self.dropped += 1
                    logger.warning("channel relay to %s failed: %s", path, exc)

    def _forget(self, path: str) -> None:
        try:
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            try:
                probe.connect(path)
            finally:
                probe.close()
        except (ConnectionRefusedError, FileNotFoundError):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        except OSError:
            pass
        self._peers = (-1, [])

    # ---------------------------------------------------------------- receiving

    def _ensure_listening(self) -> None:
        loop = asyncio.get_running_loop()
        if self._reader_loop is loop:
            return
        self._stop_listening()
        path = str(self.relay_dir / f"{self.node}.sock")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # a previous process with the same pid left it behind
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        sock.bind(path)
        sock.setblocking(False)
        loop.add_reader(sock.fileno(), self._on_readable)
        self._reader_loop, self._reader_sock, self._own_path = loop, sock, path
        self._peers = (-1, [])

    def _stop_listening(self) -> None:
        sock, loop, path = self._reader_sock, self._reader_loop, self._own_path
        self._reader_sock = self._reader_loop = self._own_path = None
        if sock is None:
            return
        if loop is not None and not loop.is_closed():
            loop.remove_reader(sock.fileno())
        sock.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)

    def _on_readable(self) -> None:
        sock, loop = self._reader_sock, self._reader_loop
        while sock is not None:
            try:
                data = sock.recv(MAX_DATAGRAM + 1024)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                    return
                logger.warning("channel relay: receive failed: %s", exc)
                return
            try:
                kind, target, message = msgpack.unpackb(data, raw=False)
            except Exception:  # noqa: BLE001 - a bad datagram must not stop the reader
                logger.warning("channel relay: undecodable datagram of %s bytes", len(data))
                continue
            self.received += 1
            if kind == "g":
                loop.create_task(InMemoryChannelLayer.group_send(self, target, message))
            elif kind == "c":
                loop.create_task(InMemoryChannelLayer.send(self, target, message))
