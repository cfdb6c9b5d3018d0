"""Fixtures: a local fake HTTP receiver standing in for SMS gateways, robots and webhooks."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes

    @property
    def json(self):
        return json.loads(self.body.decode("utf-8"))


@dataclass
class FakeServer:
    """Records every request; answers `fail_status` to the first `fail_first` of them, then
    200 with `reply` (after `delay` seconds)."""

    fail_first: int = 0
    fail_status: int = 500
    reply: dict = field(default_factory=lambda: {"errcode": 0, "errmsg": "ok"})
    delay: float = 0.0
    requests: list[Recorded] = field(default_factory=list)

    def __post_init__(self):
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self):
        self._thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                parts = urlsplit(self.path)
                with server._lock:
                    server.requests.append(
                        Recorded(
                            method=self.command,
                            path=parts.path,
                            query=parse_qs(parts.query),
                            headers={k.lower(): v for k, v in self.headers.items()},
                            body=body,
                        )
                    )
                    number = len(server.requests)
                if number <= server.fail_first:
                    self._answer(server.fail_status, b"boom", "text/plain")
                    return
                if server.delay:
                    time.sleep(server.delay)
                self._answer(200, json.dumps(server.reply).encode(), "application/json")

            do_GET = do_POST

            def _answer(self, status, body, content_type):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (timeout test)

            def log_message(self, *args):
                pass

        return Handler


@pytest.fixture
def fake_server(monkeypatch):
    # A proxy from the environment must not swallow requests to 127.0.0.1.
    for name in (
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ):
        monkeypatch.delenv(name, raising=False)
    server = FakeServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def send_now(django_capture_on_commit_callbacks):
    """notify_send in a transaction that commits: the queued sends run (huey is immediate)."""
    from huxiao.notify.services import notify_send

    def send(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return notify_send(**kwargs)

    return send


@pytest.fixture
def channel():
    """Create a channel through the service, as the system."""
    from huxiao.notify.services import channel_config_create

    def make(organization, kind, target, **kwargs):
        kwargs.setdefault("name", f"{kind} channel")
        return channel_config_create(
            actor=None, organization=organization, kind=kind, target=target, **kwargs
        )

    return make
