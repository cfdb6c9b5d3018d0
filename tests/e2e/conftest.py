"""Real Chromium (Debian's), driven by Playwright. Never `playwright install`.

Where Chromium is missing the browser tests say so plainly and skip; under CI (CI=true) a
missing browser is a failure, never a skip.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("HUXIAO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are ordinary synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _missing_browser(reason: str):
    message = f"Browser tests need Chromium at {CHROMIUM}: {reason}. Run `make browser`."
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser():
    # Module scope: Playwright's event loop must not outlive the module, or later tests on
    # the same worker that use async_to_sync (Channels) find a running loop.
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _missing_browser("not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - the dev extra installs it
        _missing_browser(f"Python Playwright is not importable ({exc})")
    # Playwright gives every launch a new empty profile of its own.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.base_url = live_server.url
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# ----------------------------------------------------------------- WebSockets (ASGI)
# One daphne per test process, shared by every module that needs live pushes (the alarm
# console, the gate's silent alerts): a Twisted reactor cannot be started twice in one
# process, so a second module-level server would fail.


@pytest.fixture(scope="session")
def asgi_port(django_db_setup, django_db_blocker):
    """daphne serving config.asgi on a free port, in a thread of this process (it shares the
    in-memory test database and channel layer with the live server), for the whole session.
    Pages find it through settings.HUXIAO_WS_URL, on the live server's host name so that the
    session cookie goes with it (cookies ignore the port; ADR 0002)."""
    import asyncio
    import threading
    import time

    from daphne.server import Server  # installs Twisted's asyncio reactor: import first
    from twisted.internet import reactor

    from config.asgi import application

    server = Server(
        application=application,
        endpoints=["tcp:port=0:interface=127.0.0.1"],
        signal_handlers=False,
        verbosity=0,
    )
    thread = threading.Thread(target=server.run, name="daphne", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.listening_addresses:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("daphne did not start listening")
        time.sleep(0.05)
    yield server.listening_addresses[0][1]
    from channels.db import database_sync_to_async
    from django.db import connections

    # The consumers' database connection lives in the server's sync thread; close it there,
    # or the test database (PostgreSQL) cannot be dropped.
    with django_db_blocker.unblock():
        closing = asyncio.run_coroutine_threadsafe(
            database_sync_to_async(connections.close_all)(), reactor._asyncioEventloop
        )
        closing.result(timeout=10)
    reactor.callFromThread(reactor.stop)
    thread.join(timeout=10)


def log_in(page, username: str, password: str) -> None:
    """Log in through the login page (labels in Chinese) and land on the home page."""
    base = page.base_url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")
