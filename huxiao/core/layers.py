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
- Each peer gets its own connected, non-blocking socket. A peer whose queue is full (Linux
  queues only net.unix.max_dgram_qlen = 10 datagrams) is waited for — poll, not a spin —
  for at most `send_timeout` seconds; then the datagram is dropped, logged, and the peer is
  skipped for STALL_BACKOFF seconds, so one hung process cannot slow every publisher.
  Delivery never depends on the push alone: consoles follow the database (the tail and
  `{"since": N}` catch-up).
- The socket directory must be a real directory owned by this user with no group or other
  access; otherwise the relay stays off (and says so) rather than talk through a directory
  another local user could have prepared.

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
import select
import socket
import stat
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
STALL_BACKOFF = 5.0  # seconds a peer that did not drain in time is skipped
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


class UnsafeRelayDir(Exception):
    """The socket directory is not private to this user."""


def _check_private_dir(path: Path) -> None:
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise UnsafeRelayDir(f"{path} is not a directory")
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise UnsafeRelayDir(f"{path} must belong to uid {os.getuid()} with mode 0700")


class RelayChannelLayer(InMemoryChannelLayer):
    """InMemoryChannelLayer whose group_send and cross-process send reach every process
    on this machine that shares `relay_dir`."""

    def __init__(self, relay_dir=None, send_timeout=0.25, node=None, **kwargs):
        super().__init__(**kwargs)
        self._node = str(node) if node else None
        self._relay_dir_setting = relay_dir
        self._dir: Path | None = None
        self.send_timeout = float(send_timeout)
        self._lock = threading.Lock()
        self._senders: dict[str, socket.socket] = {}
        self._stalled: dict[str, float] = {}
        self._sender_pid = 0
        self._unsafe_logged = False
        self._reader_pid = 0
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
        self._relay(("g", [group], message))

    async def group_send_many(self, groups, message):
        """The same message to several groups: one datagram per peer, not one per group."""
        for group in groups:
            self.group_send_local(group, message)
        self._relay(("g", list(groups), message))

    def group_send_many_nowait(self, groups, message) -> bool:
        """`group_send_many` from synchronous code, without an event loop, when this
        process has no member of those groups (a WSGI worker, the task worker, the MQTT
        bridge: their consumers live elsewhere), so only the datagram is needed. False
        when a local member exists: the caller then takes the asynchronous path, whose
        queues belong to the event loop. Saves the ~1 ms of an `async_to_sync` per write."""
        if any(self.groups.get(group) for group in groups):
            return False
        for group in groups:
            self.require_valid_group_name(group)
        self._relay(("g", list(groups), message))
        return True

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
        if not isinstance(message, dict):
            raise TypeError("Message is not a dict")
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
            _check_private_dir(path)
            self._dir = path
        return self._dir

    def _relay_dir_or_none(self) -> Path | None:
        try:
            return self.relay_dir
        except (UnsafeRelayDir, OSError) as exc:
            if not self._unsafe_logged:
                self._unsafe_logged = True
                logger.error("channel relay off: %s", exc)
            return None

    def _peer_paths(self) -> list[str]:
        """Sockets of the other processes; listed again only when the directory changes."""
        if self._relay_dir_or_none() is None:
            return []
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
        for path in peers:
            self._send_to(path, data)

    def _peer_socket(self, path: str) -> socket.socket:
        with self._lock:
            if self._sender_pid != os.getpid():
                # A forked child: the parent's sockets are not ours to use.
                self._senders, self._stalled, self._sender_pid = {}, {}, os.getpid()
            sock = self._senders.get(path)
            if sock is None:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                sock.setblocking(False)
                try:
                    sock.connect(path)
                except OSError:
                    sock.close()
                    raise
                self._senders[path] = sock
            return sock

    def _send_to(self, path: str, data: bytes) -> None:
        now = time.monotonic()
        if self._stalled.get(path, 0.0) > now:
            self.dropped += 1
            return
        try:
            sock = self._peer_socket(path)
        except (ConnectionRefusedError, FileNotFoundError):
            self._forget(path)  # the process behind it is gone (killed, restarted)
            return
        except OSError as exc:
            self.dropped += 1
            logger.warning("channel relay to %s failed: %s", path, exc)
            return
        deadline = now + self.send_timeout
        while True:
            try:
                sock.send(data)
                self.relayed += 1
                return
            except BlockingIOError:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.dropped += 1
                    self._stalled[path] = time.monotonic() + STALL_BACKOFF
                    logger.warning("channel relay: %s did not drain in time; dropped", path)
                    return
                # A connected datagram socket polls writable when the peer's queue has room.
                select.select([], [sock], [], remaining)
            except (ConnectionRefusedError, FileNotFoundError, ConnectionResetError):
                self._forget(path)
                return
            except OSError as exc:
                self.dropped += 1
                logger.warning("channel relay to %s failed: %s", path, exc)
                return

    def _forget(self, path: str) -> None:
        with self._lock:
            stale = self._senders.pop(path, None)
        if stale is not None:
            stale.close()
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
        if self._reader_pid != os.getpid():
            # A forked child inherits the parent's listening state: drop it without
            # unlinking the parent's socket.
            self._reader_sock = self._reader_loop = self._own_path = None
            self._reader_pid = os.getpid()
        if self._reader_loop is loop and self._reader_sock is not None:
            return
        self._stop_listening()
        if self._relay_dir_or_none() is None:
            return
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
                    for group in target if isinstance(target, list) else [target]:
                        self.group_send_local(group, message)
                elif kind == "c":
                    loop.create_task(InMemoryChannelLayer.send(self, target, message))
            except Exception:  # noqa: BLE001 - one bad message must not stop the reader
                logger.exception("channel relay: cannot deliver a %r message to %s", kind, target)
