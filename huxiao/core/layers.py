"""The embedded-mode channel layer: Channels' in-memory layer whose sends cross processes.

Embedded mode (ADR 0002) runs HTTP (granian WSGI), WebSockets (granian ASGI), the task
worker and the MQTT bridge as separate processes on one machine, without Redis. With
Channels' InMemoryChannelLayer a `group_send` reaches only consumers of its own process, so
an alarm raised over HTTP, an escalation by the task worker or an MQTT alarm would reach a
console socket of the ASGI process only through the console's database tail (1 s later).

RelayChannelLayer is the in-memory layer plus a relay over Unix datagram sockets (ADR 0016):

- A process that hosts consumers (it calls `new_channel()`: the ASGI server) binds
  `<relay_dir>/<pid>.sock` on first use and reads it from its event loop.
- `group_send` delivers to the local groups as before *and* sends one datagram (msgpack, as
  channels_redis encodes) to every other socket in `relay_dir`; the receiving process
  applies it to its own groups. `send` to a channel of another process goes to that
  process only. Nothing is stored: a socket whose process is gone is removed by the first
  sender that finds it refused.
- A datagram to a full socket blocks the sender for at most `send_timeout` seconds
  (back-pressure), then it is dropped and logged. Delivery never depends on the push alone:
  consoles follow the database (the tail and `{"since": N}` catch-up).

Unix datagrams are reliable and ordered per sender on Linux (unlike UDP); the socket
directory is created 0700, so only the platform's own user can publish to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import logging
import os
import secrets
import socket
import tempfile
import threading
import time
from copy import deepcopy
from pathlib import Path

import msgpack
from channels.layers import InMemoryChannelLayer

logger = logging.getLogger(__name__)

CLEAN_INTERVAL = 1.0  # seconds between sweeps for expired messages and memberships
MAX_DATAGRAM = 200_000  # below Linux's default maximum socket buffer (212,992 bytes)
RECEIVE_BUFFER = 4 * 1024 * 1024
_UNIX_PATH_MAX = 100  # sun_path is 108 bytes on Linux, 104 on macOS


def relay_dir_for(configured: str | os.PathLike | None) -> Path:
    """The socket directory; a short stand-in under the temp dir when the configured path
    is too long for a Unix socket address."""
    if configured is None:
        from django.conf import settings

        configured = Path(settings.VAR_DIR) / "run" / "channels"
    path = Path(configured).resolve()
    if len(str(path)) + 24 > _UNIX_PATH_MAX:
        digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
        path = Path(tempfile.gettempdir()) / f"huxiao-ch-{digest}"
    return path


def channel_owner(channel: str) -> str | None:
    """The node (process) in a channel name made by RelayChannelLayer.new_channel()."""
    head, bang, _ = channel.partition("!")
    if not bang:
        return None
    _, marker, node = head.rpartition(".relay-")
    return node if marker and node else None


class RelayChannelLayer(InMemoryChannelLayer):
    """InMemoryChannelLayer whose group_send and cross-process send reach every process
    on this machine that shares `relay_dir`."""

    def __init__(self, relay_dir=None, send_timeout=1.0, node=None, **kwargs):
        super().__init__(**kwargs)
        self._node = str(node) if node else None
        self._relay_dir_setting = relay_dir
        self._dir: Path | None = None
        self.send_timeout = float(send_timeout)
        self._lock = threading.Lock()
        self._sender: socket.socket | None = None
        self._sender_pid = 0
        self._peers: tuple[int, list[str]] = (-1, [])
        self._own_path: str | None = None
        self._reader_loop: asyncio.AbstractEventLoop | None = None
        self._reader_sock: socket.socket | None = None
        self._last_clean = 0.0
        # Counters for tests and diagnostics.
        self.relayed = 0
        self.received = 0
        self.dropped = 0

    @property
    def node(self) -> str:
        # The pid unless given: a layer built before a fork must not speak for the parent.
        return self._node or str(os.getpid())

    # ---------------------------------------------------------------- Channels API

    async def new_channel(self, prefix="specific."):
        self._ensure_listening()
        return f"{prefix}.relay-{self.node}!{secrets.token_urlsafe(9)}"

    async def group_send(self, group, message):
        self.group_send_local(group, message)
        self._relay(("g", group, message))

    async def send(self, channel, message):
        owner = channel_owner(channel)
        if owner is not None and owner != self.node:
            self._relay(("c", channel, message), only=str(self.relay_dir / f"{owner}.sock"))
            return
        await super().send(channel, message)

    async def close(self):
        self._stop_listening()

    def _clean_expired(self):
        # The in-memory layer sweeps every channel and group on *every* receive and
        # group_send: O(consoles) per frame, O(consoles²) per broadcast. Once a second is
        # enough to expire 60-second-old messages and day-old memberships.
        now = time.monotonic()
        if now - self._last_clean >= CLEAN_INTERVAL:
            self._last_clean = now
            super()._clean_expired()

    def group_send_local(self, group, message) -> None:
        """InMemoryChannelLayer.group_send without a task and a deep copy per member: the
        message is copied once and each member gets a shallow copy of it. A member whose
        queue is full misses it (as in Channels); consoles catch up from the database."""
        assert isinstance(message, dict), "Message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        members = self.groups.get(group)
        if not members:
            return
        shared = deepcopy(message)
        expires = time.time() + self.expiry
        for channel in list(members):
            queue = self.channels.get(channel)
            if queue is None:
                queue = self.channels[channel] = asyncio.Queue(maxsize=self.get_capacity(channel))
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait((expires, dict(shared)))

    # ---------------------------------------------------------------- sending

    @property
    def relay_dir(self) -> Path:
        if self._dir is None:
            path = relay_dir_for(self._relay_dir_setting)
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._dir = path
        return self._dir

    def _peer_paths(self) -> list[str]:
        """Sockets of the other processes; listed again only when the directory changes."""
        try:
            mtime = os.stat(self.relay_dir).st_mtime_ns
        except FileNotFoundError:
            return []
        cached_mtime, paths = self._peers
        if mtime != cached_mtime:
            own = str(self.relay_dir / f"{self.node}.sock")
            paths = [
                entry.path
                for entry in os.scandir(self.relay_dir)
                if entry.name.endswith(".sock") and entry.path != own
            ]
            self._peers = (mtime, paths)
        return paths

    def _relay(self, item, only: str | None = None) -> None:
        peers = [only] if only else self._peer_paths()
        if not peers:
            return
        try:
            data = msgpack.packb(item, use_bin_type=True)
        except (TypeError, ValueError) as exc:
            self.dropped += 1
            logger.error("channel relay: message cannot be encoded (%s); not relayed", exc)
            return
        if len(data) > MAX_DATAGRAM:
            self.dropped += 1
            logger.error("channel relay: message of %s bytes is too large; dropped", len(data))
            return
        with self._lock:
            if self._sender is None or self._sender_pid != os.getpid():
                self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._sender.settimeout(self.send_timeout)
                self._sender_pid = os.getpid()
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
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            probe.connect(path)
        except (ConnectionRefusedError, FileNotFoundError):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        except OSError:
            pass
        finally:
            probe.close()
        self._peers = (-1, [])

    # ---------------------------------------------------------------- receiving

    def _ensure_listening(self) -> None:
        loop = asyncio.get_running_loop()
        if self._reader_loop is loop and self._reader_sock is not None:
            return
        self._stop_listening()
        path = str(self.relay_dir / f"{self.node}.sock")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # an earlier process with the same pid left it behind
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        sock.bind(path)
        os.chmod(path, 0o600)
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
            with contextlib.suppress(Exception):
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
                if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK):
                    logger.warning("channel relay: receive failed: %s", exc)
                return
            try:
                kind, target, message = msgpack.unpackb(data, raw=False)
            except Exception:  # noqa: BLE001 - a bad datagram must not stop the reader
                logger.warning("channel relay: undecodable datagram of %s bytes", len(data))
                continue
            self.received += 1
            try:
                if kind == "g":
                    self.group_send_local(target, message)
                elif kind == "c":
                    loop.create_task(InMemoryChannelLayer.send(self, target, message))
            except Exception:  # noqa: BLE001 - one bad message must not stop the reader
                logger.exception("channel relay: cannot deliver a %r message to %s", kind, target)
