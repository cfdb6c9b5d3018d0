"""Embedded mode's cross-process push (ADR 0016): an alarm raised over HTTP by the WSGI
process reaches a console socket held by the ASGI process through the relay channel layer,
not through the console's database tail (switched off here)."""

from __future__ import annotations

import contextlib
import json
import time
import uuid

import httpx
import pytest
from websockets.sync.client import connect

from bench.alarm_servers import GranianASGI
from tests.faults.conftest import start_server

pytestmark = pytest.mark.faults


@contextlib.contextmanager
def _console(asgi: GranianASGI, token: str):
    with connect(asgi.ws_url + "/ws/console/", origin=asgi.base_url, open_timeout=20) as ws:
        ws.send(json.dumps({"token": token}))
        while json.loads(ws.recv(timeout=20)).get("type") != "ready":
            pass
        yield ws


def test_an_alarm_raised_over_http_is_pushed_to_the_asgi_process(stack):
    stack.env["HUXIAO_ALARM_CONSOLE_TAIL_SECONDS"] = "0"
    wsgi = start_server(stack)
    asgi = GranianASGI(
        "config.asgi:application", env=stack.env, log_path=stack.var_dir / "granian.log"
    )
    try:
        start_server(stack, asgi)
        with _console(asgi, stack.seed["police_token"]) as ws:
            started = time.monotonic()
            response = httpx.post(
                wsgi.base_url + "/api/v1/alarms",
                json={"kind": "intrusion", "location": "北门", "note": "relay", "drill": False},
                headers={
                    "Authorization": f"Bearer {stack.seed['device_tokens'][0]}",
                    "Idempotency-Key": uuid.uuid4().hex,
                },
                timeout=10,
            )
            assert response.status_code == 201, response.text
            frame = json.loads(ws.recv(timeout=5))
            elapsed = time.monotonic() - started
            assert frame["type"] == "alarm.raised"
            assert frame["alarm"]["id"] == response.json()["id"]
            assert frame["alarm"]["location"] == "北门"
            # Without the tail the frame can only have come by the push; well under its
            # 1 s interval even on a loaded machine.
            assert elapsed < 3, elapsed
    finally:
        asgi.stop()
        wsgi.stop()
