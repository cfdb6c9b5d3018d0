"""The relay channel layer (core.layers, ADR 0016): group sends and sends to a channel of
another process cross the process boundary over Unix datagrams; dead peers are forgotten;
what cannot be relayed is dropped with a log line, never an exception in the sender."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from huxiao.core.layers import RelayChannelLayer, channel_owner, relay_dir_for

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def relay_dir(tmp_path):
    # tmp_path is too long for a socket address: the layer uses a short directory under
    # the temp dir, which outlives tmp_path unless removed here.
    path = relay_dir_for(tmp_path / "channels")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _run(coro):
    return asyncio.run(asyncio.wait_for(coro, timeout=10))


def test_group_send_reaches_a_member_in_another_layer(relay_dir):
    async def scenario():
        asgi = RelayChannelLayer(relay_dir=relay_dir, node="asgi")
        wsgi = RelayChannelLayer(relay_dir=relay_dir, node="wsgi")
        channel = await asgi.new_channel()
        assert channel_owner(channel) == "asgi"
        await asgi.group_add("alarms.station.1", channel)
        await wsgi.group_send("alarms.station.1", {"type": "alarm.message", "data": {"n": 1}})
        await wsgi.group_send("alarms.station.2", {"type": "alarm.message", "data": {"n": 2}})
        message = await asgi.receive(channel)
        assert message == {"type": "alarm.message", "data": {"n": 1}}
        # The other group had no member here: nothing else arrives.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asgi.receive(channel), 0.2)
        assert wsgi.relayed == 2 and asgi.received == 2
        await asgi.close()

    _run(scenario())


def test_a_local_member_gets_the_message_once(relay_dir):
    async def scenario():
        layer = RelayChannelLayer(relay_dir=relay_dir, node="one")
        channel = await layer.new_channel()
        await layer.group_add("g", channel)
        await layer.group_send("g", {"type": "x", "data": {"k": [1, 2]}})
        assert await layer.receive(channel) == {"type": "x", "data": {"k": [1, 2]}}
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(layer.receive(channel), 0.2)
        assert layer.relayed == 0  # its own socket is not a peer
        await layer.close()

    _run(scenario())


def test_send_to_a_channel_of_another_process_goes_to_that_process_only(relay_dir):
    async def scenario():
        asgi = RelayChannelLayer(relay_dir=relay_dir, node="asgi")
        other = RelayChannelLayer(relay_dir=relay_dir, node="other")
        wsgi = RelayChannelLayer(relay_dir=relay_dir, node="wsgi")
        channel = await asgi.new_channel()
        await other.new_channel()
        await wsgi.send(channel, {"type": "direct"})
        assert await asgi.receive(channel) == {"type": "direct"}
        assert wsgi.relayed == 1 and other.received == 0
        await asgi.close()
        await other.close()

    _run(scenario())


def test_a_dead_peer_is_forgotten_and_does_not_fail_the_sender(relay_dir):
    async def scenario():
        relay_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        stale = relay_dir / "999999.sock"
        dead = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        dead.bind(str(stale))
        dead.close()  # the file stays, nobody reads it: a killed process
        wsgi = RelayChannelLayer(relay_dir=relay_dir, node="wsgi")
        await wsgi.group_send("g", {"type": "x"})
        assert not stale.exists()
        assert wsgi.dropped == 0

    _run(scenario())


def test_too_large_a_message_is_dropped_locally_delivered(relay_dir, caplog):
    async def scenario():
        asgi = RelayChannelLayer(relay_dir=relay_dir, node="asgi")
        wsgi = RelayChannelLayer(relay_dir=relay_dir, node="wsgi")
        remote = await asgi.new_channel()
        local = await wsgi.new_channel()
        await asgi.group_add("g", remote)
        await wsgi.group_add("g", local)
        await wsgi.group_send("g", {"type": "x", "data": "字" * 100_000})
        assert (await wsgi.receive(local))["type"] == "x"
        assert wsgi.dropped == 1 and asgi.received == 0
        await asgi.close()
        await wsgi.close()

    _run(scenario())
    assert "too large" in caplog.text


def test_an_undecodable_datagram_does_not_stop_the_reader(relay_dir):
    async def scenario():
        asgi = RelayChannelLayer(relay_dir=relay_dir, node="asgi")
        channel = await asgi.new_channel()
        await asgi.group_add("g", channel)
        noise = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        noise.sendto(b"\xc1\xc1 not msgpack", str(relay_dir / "asgi.sock"))
        noise.close()
        await RelayChannelLayer(relay_dir=relay_dir, node="wsgi").group_send("g", {"type": "ok"})
        assert await asgi.receive(channel) == {"type": "ok"}
        await asgi.close()

    _run(scenario())


def test_the_socket_directory_is_private(relay_dir):
    async def scenario():
        layer = RelayChannelLayer(relay_dir=relay_dir, node="asgi")
        await layer.new_channel()
        assert relay_dir.stat().st_mode & 0o077 == 0
        assert (relay_dir / "asgi.sock").stat().st_mode & 0o077 == 0
        await layer.close()
        assert not (relay_dir / "asgi.sock").exists()

    _run(scenario())


def test_a_long_directory_gets_a_short_socket_path(tmp_path):
    deep = tmp_path / ("x" * 120)
    short = relay_dir_for(deep)
    assert not short.exists()  # only named here; the layer creates it on first use
    assert len(str(short)) < 80
    assert relay_dir_for(deep) == short  # stable: every process finds the same one


def test_a_group_send_from_another_os_process_arrives(relay_dir):
    """The real boundary: a separate Python process publishes, this one receives."""
    publisher = textwrap.dedent(
        f"""
        import asyncio
        from huxiao.core.layers import RelayChannelLayer
        layer = RelayChannelLayer(relay_dir={str(relay_dir)!r})
        asyncio.run(layer.group_send("alarms.school.7", {{"type": "alarm.message", "data": {{"id": 7}}}}))
        print(layer.relayed)
        """
    )

    async def scenario():
        asgi = RelayChannelLayer(relay_dir=relay_dir)
        assert asgi.node == str(os.getpid())
        channel = await asgi.new_channel()
        await asgi.group_add("alarms.school.7", channel)
        done = await asyncio.create_subprocess_exec(
            sys.executable, "-c", publisher, cwd=ROOT, stdout=subprocess.PIPE
        )
        out, _ = await done.communicate()
        assert done.returncode == 0 and out.strip() == b"1"
        assert await asgi.receive(channel) == {"type": "alarm.message", "data": {"id": 7}}
        await asgi.close()

    _run(scenario())


def test_a_peer_that_stops_reading_costs_a_publisher_little(relay_dir):
    """A hung process (its socket bound, never read): publishers wait at most send_timeout
    once, then skip it for a while; they never stall per message."""
    relay_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    hung = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    hung.bind(str(relay_dir / "hung.sock"))
    try:

        async def scenario():
            wsgi = RelayChannelLayer(relay_dir=relay_dir, node="wsgi", send_timeout=0.2)
            started = time.monotonic()
            for n in range(40):
                await wsgi.group_send("g", {"type": "x", "n": n})
            return wsgi, time.monotonic() - started

        wsgi, elapsed = _run(scenario())
        # Linux queues 10 datagrams per socket; one wait of 0.2 s, then the peer is skipped.
        assert wsgi.relayed >= 1 and wsgi.dropped >= 1
        assert wsgi.relayed + wsgi.dropped == 40
        assert elapsed < 1.0, elapsed
    finally:
        hung.close()


def test_a_directory_others_can_enter_turns_the_relay_off(tmp_path, caplog):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)

    async def scenario():
        layer = RelayChannelLayer(relay_dir=shared, node="asgi")
        channel = await layer.new_channel()  # still works locally
        await layer.group_add("g", channel)
        await layer.group_send("g", {"type": "local"})
        assert await layer.receive(channel) == {"type": "local"}
        assert not (shared / "asgi.sock").exists()

    if len(str(shared)) + 24 > 100:
        pytest.skip("tmp_path too long for a socket path; relay_dir_for would move it")
    _run(scenario())
    assert "channel relay off" in caplog.text


def test_one_datagram_per_publish_to_several_groups(relay_dir):
    async def scenario():
        asgi = RelayChannelLayer(relay_dir=relay_dir, node="asgi")
        wsgi = RelayChannelLayer(relay_dir=relay_dir, node="wsgi")
        station, county = await asgi.new_channel(), await asgi.new_channel()
        await asgi.group_add("alarms.station.1", station)
        await asgi.group_add("alarms.county.1", county)
        await wsgi.group_send_many(["alarms.station.1", "alarms.county.1"], {"type": "m"})
        assert await asgi.receive(station) == {"type": "m"}
        assert await asgi.receive(county) == {"type": "m"}
        assert wsgi.relayed == 1
        await asgi.close()

    _run(scenario())


def test_a_synchronous_publish_without_local_members_goes_by_datagram(relay_dir):
    """group_send_many_nowait: what a WSGI worker's on-commit publish uses (no event loop);
    it refuses (False) where this process has a member, leaving that to the async path."""

    async def scenario():
        asgi = RelayChannelLayer(relay_dir=relay_dir, node="asgi")
        wsgi = RelayChannelLayer(relay_dir=relay_dir, node="wsgi")
        channel = await asgi.new_channel()
        await asgi.group_add("alarms.station.1", channel)
        message = {"type": "alarm.message", "data": {"n": 1}}
        assert wsgi.group_send_many_nowait(["alarms.station.1", "alarms.school.2"], message)
        assert await asgi.receive(channel) == message
        # The ASGI process has a member: it must not take the loop-less path.
        assert asgi.group_send_many_nowait(["alarms.station.1"], message) is False
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asgi.receive(channel), 0.2)
        await asgi.close()

    _run(scenario())
