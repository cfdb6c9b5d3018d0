"""Logs, metrics and probes (issue 11): JSON log lines carry the request's id, /metrics
labels requests by URL pattern and answers only the monitoring system, /readyz tells
which service is missing."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import include, path
from huey.contrib.djhuey import task
from prometheus_client import REGISTRY

from huxiao.core import metrics, observability
from huxiao.core.logging import JsonFormatter, PlainFormatter, RequestContextFilter

BASE_DIR = Path(__file__).resolve().parents[3]
view_logger = logging.getLogger("huxiao.tests.observability")


def logging_view(request):
    view_logger.info("inside the view for %s", "someone")
    return HttpResponse("ok")


def failing_view(request):
    raise RuntimeError("boom in the view")


# This module doubles as a URLconf (pytest.mark.urls): the project's URLs and two views.
urlpatterns = [
    path("test-obs/log/", logging_view, name="obs_log"),
    path("test-obs/fail/", failing_view, name="obs_fail"),
    path("", include("config.urls")),
]


@contextmanager
def captured_log(formatter=None):
    """The root logger's records as the console handler would write them, access log on."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter or JsonFormatter())
    handler.addFilter(RequestContextFilter())
    root, access = logging.getLogger(), logging.getLogger("huxiao.access")
    old_root, old_access = root.level, access.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    access.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_root)
        access.setLevel(old_access)


def json_lines(stream) -> list[dict]:
    lines = [line for line in stream.getvalue().splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # every line must parse


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# --------------------------------------------------------------------------- logs


@pytest.mark.urls(__name__)
def test_json_lines_carry_the_request_id_of_the_response(world):
    client = Client()
    client.force_login(world.users["principal"])
    with captured_log() as stream:
        response = client.get("/test-obs/log/?token=hx_secret_value&q=王小明")
    request_id = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    records = json_lines(stream)
    view_line = next(r for r in records if r["logger"] == "huxiao.tests.observability")
    access = next(r for r in records if r["logger"] == "huxiao.access")
    assert view_line["message"] == "inside the view for someone"
    assert view_line["request_id"] == request_id == access["request_id"]
    assert view_line["level"] == "INFO"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", view_line["time"])
    assert access["user_id"] == world.users["principal"].pk
    assert access["method"] == "GET" and access["status"] == 200
    assert access["path"] == "/test-obs/log/" and access["route"] == "/test-obs/log/"
    assert isinstance(access["duration_ms"], float)
    # The query string (a token, a child's name) is nowhere in the log.
    assert "hx_secret_value" not in stream.getvalue() and "王小明" not in stream.getvalue()


@pytest.mark.urls(__name__)
def test_a_well_formed_incoming_request_id_is_kept(db):
    with captured_log() as stream:
        response = Client().get("/test-obs/log/", HTTP_X_REQUEST_ID="nginx-req.0042_abcdef")
    assert response["X-Request-ID"] == "nginx-req.0042_abcdef"
    assert {r["request_id"] for r in json_lines(stream)} == {"nginx-req.0042_abcdef"}


@pytest.mark.parametrize(
    "incoming",
    [
        "x" * 65,  # too long
        "abc def ghi",  # space
        'evil"}\n{"level":"ERROR',  # an attempt to forge a log line
        "<script>alert(1)</script>",
        "short",  # fewer than 8 characters: useless for finding a request
    ],
)
@pytest.mark.urls(__name__)
def test_a_bad_incoming_request_id_is_replaced(db, incoming):
    with captured_log() as stream:
        response = Client().get("/test-obs/log/", HTTP_X_REQUEST_ID=incoming)
    request_id = response["X-Request-ID"]
    assert request_id != incoming and re.fullmatch(r"[0-9a-f]{32}", request_id)
    records = json_lines(stream)
    assert records and all(r["request_id"] == request_id for r in records)
    assert incoming not in stream.getvalue()


@pytest.mark.urls(__name__)
def test_an_error_is_one_json_line_with_its_traceback(db):
    with captured_log() as stream:
        response = Client(raise_request_exception=False).get("/test-obs/fail/")
    assert response.status_code == 500
    lines = stream.getvalue().splitlines()
    records = [json.loads(line) for line in lines]
    error = next(r for r in records if r["logger"] == "django.request")
    assert error["level"] == "ERROR" and error["request_id"] == response["X-Request-ID"]
    assert "RuntimeError: boom in the view" in error["exc_info"]
    assert "Traceback" in error["exc_info"]
    access = next(r for r in records if r["logger"] == "huxiao.access")
    assert access["level"] == "WARNING" and access["status"] == 500


@pytest.mark.urls(__name__)
def test_plain_lines_show_the_request_id(db):
    with captured_log(PlainFormatter()) as stream:
        response = Client().get("/test-obs/log/")
    line = next(x for x in stream.getvalue().splitlines() if "inside the view" in x)
    assert f"huxiao.tests.observability [{response['X-Request-ID']}] inside the view" in line


def test_outside_a_request_a_record_has_no_request_id():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    RequestContextFilter().filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "hello" and "request_id" not in entry and "user_id" not in entry


def test_probes_are_not_access_logged_unless_they_fail(db):
    with captured_log() as stream:
        Client().get("/healthz")
        Client().get("/metrics")
    assert not [r for r in json_lines(stream) if r["logger"] == "huxiao.access"]


def _settings_in_subprocess(env: dict, code: str) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HUXIAO_LOG", "PYTEST", "PROMETHEUS"))
    }
    environment.update(env, DJANGO_SETTINGS_MODULE="config.settings_test")
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_log_format_is_chosen_by_the_environment():
    code = (
        "import django, logging; django.setup(); "
        "print(type(logging.getLogger().handlers[0].formatter).__name__)"
    )
    assert _settings_in_subprocess({}, code).stdout.strip() == "PlainFormatter"
    as_json = _settings_in_subprocess({"HUXIAO_LOG_FORMAT": "json"}, code)
    assert as_json.stdout.strip() == "JsonFormatter", as_json.stderr
    wrong = _settings_in_subprocess({"HUXIAO_LOG_FORMAT": "xml"}, code)
    assert wrong.returncode != 0 and "HUXIAO_LOG_FORMAT must be json or plain" in wrong.stderr


# --------------------------------------------------------------------------- /metrics


def scrape(client=None, **extra) -> str:
    response = (client or Client()).get("/metrics", **extra)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def test_metrics_label_requests_by_url_pattern_not_by_path(world):
    client = Client()
    client.force_login(world.users["county"])
    route = "/orgs/schools/<int:school_id>/"
    before = sample(
        "huxiao_http_request_duration_seconds_count", route=route, method="GET", status="2xx"
    )
    for school in (world.school, world.other_school, world.far_school):
        assert client.get(f"/orgs/schools/{school.pk}/").status_code == 200
    client.get("/orgs/schools/999999/")  # not found: a 4xx of the same pattern
    assert (
        sample(
            "huxiao_http_request_duration_seconds_count", route=route, method="GET", status="2xx"
        )
        == before + 3
    )
    text = scrape()
    paths_as_labels = re.findall(r'route="/orgs/schools/\d+/"', text)
    assert paths_as_labels == []
    assert f'route="{route}"' in text and 'status="4xx"' in text
    for name in (
        "huxiao_http_request_duration_seconds_bucket",
        "huxiao_alarm_ack_seconds",
        "huxiao_websocket_connections",
        "huxiao_task_failures_total",
        "huxiao_task_queue_pending",
        "huxiao_task_queue_scheduled",
        "huxiao_alarms_open",
        "huxiao_alarm_oldest_unacknowledged_seconds",
        'huxiao_collector_up{collector="alarms"} 1.0',
        'huxiao_collector_up{collector="tasks"} 1.0',
    ):
        assert name in text, name


def test_an_unknown_method_or_path_does_not_grow_the_labels(db):
    client = Client()
    client.generic("BREW", "/healthz")
    client.get("/no/such/page/123456")
    text = scrape()
    assert 'method="BREW"' not in text and 'method="other"' in text
    assert "123456" not in text and 'route="unmatched"' in text


def test_metrics_are_refused_to_other_addresses(db):
    client = Client()
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 404
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 404
    # Through a proxy we do not trust, a loopback peer says nothing about the client.
    proxied = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert proxied.status_code == 404
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200


@override_settings(
    HUXIAO_METRICS_ALLOWED=["10.8.0.0/16"],
    HUXIAO_TRUSTED_PROXIES=frozenset({"127.0.0.1"}),
    HUXIAO_METRICS_TOKEN="scrape-token-123",
)
def test_metrics_allowed_networks_trusted_proxies_and_token(db):
    client = Client()
    assert client.get("/metrics", REMOTE_ADDR="10.8.3.4").status_code == 200
    assert client.get("/metrics").status_code == 404  # loopback no longer listed
    via_nginx = {"REMOTE_ADDR": "127.0.0.1"}
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="10.8.9.9", **via_nginx).status_code == 200
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="10.9.9.9", **via_nginx).status_code == 404
    outside = {"REMOTE_ADDR": "198.51.100.1"}
    token = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token-123", **outside)
    assert token.status_code == 200
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token-124", **outside)
    assert wrong.status_code == 404


def test_metrics_need_no_login_and_leave_the_session_alone(db):
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.test import RequestFactory

    response = Client().get("/metrics")
    assert response.status_code == 200
    assert not response.cookies and not Session.objects.exists()
    assert "max-age=0" in response["Cache-Control"]
    # The view itself reads neither the session nor the user (other middleware may).
    request = RequestFactory().get("/metrics", REMOTE_ADDR="127.0.0.1")
    request.session = SessionStore()
    assert observability.metrics_view(request).status_code == 200
    assert request.session.accessed is False and not hasattr(request, "user")


def test_alarm_acknowledgement_time_and_open_alarms(world, django_capture_on_commit_callbacks):
    import datetime as dt

    from django.utils import timezone

    from huxiao.alarms import services

    raised = timezone.now() - dt.timedelta(seconds=42)
    with django_capture_on_commit_callbacks(execute=True):
        alarm, _ = services.alarm_raise(
            actor=world.users["guard"], school=world.school, kind="intrusion", now=raised
        )
        services.alarm_raise(
            actor=world.users["guard"], school=world.school, kind="fire", drill=True, now=raised
        )
    text = scrape()
    assert 'huxiao_alarms_open{acknowledged="false",drill="false"} 1.0' in text
    assert 'huxiao_alarms_open{acknowledged="false",drill="true"} 1.0' in text
    oldest = re.search(r'huxiao_alarm_oldest_unacknowledged_seconds\{drill="false"\} (\S+)', text)
    assert 41 <= float(oldest.group(1)) < 120

    count = sample("huxiao_alarm_ack_seconds_count", drill="false")
    total = sample("huxiao_alarm_ack_seconds_sum", drill="false")
    under_45 = sample("huxiao_alarm_ack_seconds_bucket", drill="false", le="45.0")
    with django_capture_on_commit_callbacks(execute=True):
        services.alarm_acknowledge(
            actor=world.users["police"], alarm=alarm, now=raised + dt.timedelta(seconds=42)
        )
    assert sample("huxiao_alarm_ack_seconds_count", drill="false") == count + 1
    assert sample("huxiao_alarm_ack_seconds_sum", drill="false") == pytest.approx(total + 42)
    assert sample("huxiao_alarm_ack_seconds_bucket", drill="false", le="45.0") == under_45 + 1
    text = scrape()
    assert 'huxiao_alarms_open{acknowledged="false",drill="false"} 0.0' in text
    assert 'huxiao_alarms_open{acknowledged="true",drill="false"} 1.0' in text


def test_a_rolled_back_acknowledgement_is_not_measured(world):
    from django.db import transaction

    from huxiao.alarms import services

    alarm, _ = services.alarm_raise(
        actor=world.users["guard"], school=world.school, kind="intrusion"
    )
    count = sample("huxiao_alarm_ack_seconds_count", drill="false")
    with pytest.raises(RuntimeError), transaction.atomic():
        services.alarm_acknowledge(actor=world.users["police"], alarm=alarm)
        raise RuntimeError("the request failed after the acknowledgement")
    assert sample("huxiao_alarm_ack_seconds_count", drill="false") == count


def test_a_failed_scrape_time_read_is_reported_not_raised(db):
    with mock.patch.object(metrics.StateCollector, "_alarms", side_effect=OperationalError("x")):
        text = scrape()
    assert 'huxiao_collector_up{collector="alarms"} 0.0' in text
    assert "huxiao_alarms_open" not in text.replace("# HELP", "").split("huxiao_collector_up")[0]


@task()
def observability_failing_task(n):
    raise ValueError(f"task failed on purpose {n}")


def test_a_task_that_raises_counts_as_a_failure(db):
    metrics.connect_task_signals()  # a second time: still counted once
    name = observability_failing_task.task_class.__name__
    before = sample("huxiao_task_failures_total", task=name)
    result = observability_failing_task(1)
    with pytest.raises(Exception, match="task failed on purpose"):
        result.get()
    assert sample("huxiao_task_failures_total", task=name) == before + 1
    assert f'huxiao_task_failures_total{{task="{name}"}}' in scrape()


@pytest.mark.django_db(transaction=True)
def test_websocket_connections_are_counted_while_open(world):
    from asgiref.sync import async_to_sync
    from channels.routing import URLRouter
    from channels.testing.websocket import WebsocketCommunicator
    from django.contrib.auth.models import AnonymousUser

    from huxiao.core.routing import websocket_urlpatterns

    app = URLRouter(websocket_urlpatterns)

    def gauge(route):
        return sample("huxiao_websocket_connections", route=route)

    async def scenario():
        start = gauge("events"), gauge("console")
        refused = WebsocketCommunicator(app, "/ws/events/")
        refused.scope["user"] = AnonymousUser()
        assert not (await refused.connect())[0]
        assert gauge("events") == start[0]
        sockets = []
        for route in ("events", "events", "console"):
            communicator = WebsocketCommunicator(app, f"/ws/{route}/")
            communicator.scope["user"] = world.users["police"]
            assert (await communicator.connect())[0]
            sockets.append(communicator)
        assert (gauge("events"), gauge("console")) == (start[0] + 2, start[1] + 1)
        for communicator in sockets:
            await communicator.disconnect()
        assert (gauge("events"), gauge("console")) == start

    async_to_sync(scenario)()


# --------------------------------------------------------------------------- /readyz


def test_readyz_is_ok_when_everything_answers(db):
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    expected = {"database", "channel_layer", "tasks"} | ({"redis"} if _redis_url() else set())
    assert set(body["checks"]) == expected
    for check in body["checks"].values():
        assert check["ok"] is True and check["ms"] >= 0 and "error" not in check


def test_readyz_is_503_when_the_database_fails(db):
    failure = OperationalError('connection to "postgres://huxiao:hunter2@db:5432/x" failed')
    with mock.patch.object(connection, "cursor", side_effect=failure):
        response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    database = body["checks"]["database"]
    assert database["ok"] is False and database["error"].startswith("OperationalError")
    assert "hunter2" not in response.content.decode()
    assert body["checks"]["tasks"]["ok"] is True  # the others are still reported
    # The liveness probe keeps its shape.
    with mock.patch.object(connection, "cursor", side_effect=failure):
        live = Client().get("/healthz")
    assert live.status_code == 503
    assert live.json() == {"status": "error", "server": "wsgi", "database": "error"}


def test_readyz_gives_only_the_error_class_to_strangers(db):
    failure = OperationalError("could not connect to server db.internal")
    with mock.patch.object(connection, "cursor", side_effect=failure):
        response = Client().get("/readyz", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["error"] == "OperationalError"


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_readyz_is_503_when_redis_is_unreachable(db):
    response = Client().get("/readyz")
    assert response.status_code == 503
    redis_check = response.json()["checks"]["redis"]
    assert redis_check["ok"] is False and "ConnectionError" in redis_check["error"]
    assert redis_check["ms"] < 5000


def test_readyz_never_answers_500(db):
    with mock.patch.object(observability, "_check_tasks", side_effect=KeyError("surprise")):
        response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["tasks"] == {
        "ok": False,
        "error": "KeyError: 'surprise'",
        "ms": response.json()["checks"]["tasks"]["ms"],
    }


def _redis_url() -> str:
    from django.conf import settings

    return settings.REDIS_URL


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="scale mode only (REDIS_URL)")
def test_readyz_in_scale_mode_checks_the_real_redis_and_its_layer(db):
    from channels.layers import get_channel_layer

    assert "redis" in type(get_channel_layer()).__module__.lower()
    body = Client().get("/readyz").json()
    assert body["status"] == "ok", body
    assert body["checks"]["redis"]["ok"] and body["checks"]["channel_layer"]["ok"]


@pytest.mark.django_db(transaction=True)
def test_readyz_and_metrics_answer_on_the_asgi_server_too():
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    async def scenario():
        client = AsyncClient()
        ready = await client.get("/readyz")
        metrics_page = await client.get("/metrics", REMOTE_ADDR="127.0.0.1")
        return ready, metrics_page

    ready, metrics_page = async_to_sync(scenario)()
    assert ready.status_code == 200, ready.content
    assert ready.json()["checks"]["channel_layer"]["ok"] is True
    assert metrics_page.status_code == 200
    assert b"huxiao_http_request_duration_seconds" in metrics_page.content


def test_a_failure_to_record_metrics_does_not_fail_the_request(db):
    with mock.patch.object(metrics, "observe_request", side_effect=ValueError("broken")):
        response = Client().get("/healthz")
    assert response.status_code == 200 and response["X-Request-ID"]


@override_settings(SECURE_SSL_REDIRECT=True)
def test_probes_and_the_scraper_are_not_redirected_to_https(db):
    """In production every plain-HTTP request is sent to HTTPS, except the probes and the
    metrics scraper, which talk plain HTTP to an application port on the host."""
    client = Client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code in (200, 503)
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    login = client.get("/accounts/login/")
    assert login.status_code == 301 and login["Location"].startswith("https://")
    assert client.get("/healthz/").status_code == 301  # the exemption is exact


def test_the_task_worker_prints_each_line_once(tmp_path):
    """run_huey gives the "huey" logger a handler of its own unless it has one; with the
    root's handler as well, every worker line came out twice."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HUXIAO_", "PYTEST", "PROMETHEUS", "DATABASE_URL", "REDIS_URL"))
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        HUXIAO_VAR_DIR=str(tmp_path),
        HUXIAO_ENV="embedded",
    )
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "run_huey", "--workers", "1", "--no-periodic"],
        cwd=BASE_DIR,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    stop = threading.Timer(1.0, worker.terminate)  # a second after it started
    try:
        for line in worker.stdout:  # to the end: everything it says before it stops
            lines.append(line)
            if "consumer started" in line.lower() and stop.ident is None:
                stop.start()
    finally:
        stop.cancel()
        worker.kill()
        worker.wait(timeout=30)
    started = [line for line in lines if "consumer started" in line.lower()]
    assert len(started) == 1, "".join(lines)


@pytest.mark.parametrize(
    "flags, level",
    [
        (["-q"], logging.WARNING),
        (["--quiet"], logging.WARNING),
        (["-V"], logging.DEBUG),
        ([], None),
    ],
)
def test_the_task_worker_options_set_its_log_level(flags, level, monkeypatch):
    """`serve` starts the worker with --quiet; huey applies -V/-q only to a "huey" logger
    without a handler, and the settings give it one, so both did nothing before."""
    from django.core.management import call_command
    from huey.contrib.djhuey.management.commands import run_huey as upstream

    huey_logger = logging.getLogger("huey")
    configured = huey_logger.level
    seen = []
    monkeypatch.setattr(
        upstream.Command, "handle", lambda self, *args, **options: seen.append(huey_logger.level)
    )
    try:
        call_command("run_huey", *flags)
    finally:
        huey_logger.setLevel(configured)
    assert seen == [configured if level is None else level]
