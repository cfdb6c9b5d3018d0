"""What an operator sees of a running platform: an access line and the request metrics for
every request, /readyz (can this process serve?), /metrics (Prometheus) and the count of
open WebSockets.

- /healthz (huxiao/core/views.py) is liveness: the process answers and the database does.
  Restart the process when it fails.
- /readyz is readiness: every service this process needs answers — database, Redis (scale
  mode), channel layer, task queue. Take the process out of the load balancer while it
  fails; restarting it does not help when Redis is down.
- /metrics is for the monitoring system only: answered to addresses in
  HUXIAO_METRICS_ALLOWED (loopback by default) or to a request carrying HUXIAO_METRICS_TOKEN
  as a bearer token; anyone else gets a 404, as for a page that does not exist.

See docs/adr/0034-production-readiness.md and the runbook's monitoring section.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import hmac
import ipaddress
import logging
import re
import time
import uuid

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.utils.functional import empty
from django.views.decorators.cache import never_cache

from huxiao.core import metrics

access_logger = logging.getLogger("huxiao.access")

# The request being served in this context (thread or task), for the user id of log
# records. None outside a request.
_current_request: contextvars.ContextVar[object | None] = contextvars.ContextVar(
    "huxiao_current_request", default=None
)
# Probes answer every few seconds; their access lines would drown the others. A failing
# probe is still logged.
_QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})


# --------------------------------------------------------------------------- requests


def enter_request(request) -> contextvars.Token:
    return _current_request.set(request)


def leave_request(token: contextvars.Token) -> None:
    _current_request.reset(token)


def current_user_id() -> int | None:
    """The id of the user of the request being served, when it is already known — never
    by reading the session only for a log line (that would cost a query and mark the
    response `Vary: Cookie`)."""
    request = _current_request.get()
    if request is None:
        return None
    user = request.__dict__.get("user")
    wrapped = getattr(user, "_wrapped", user)  # AuthenticationMiddleware's lazy object
    if wrapped is not empty and wrapped is not None and getattr(wrapped, "is_authenticated", False):
        return wrapped.pk
    principal = request.__dict__.get("auth")  # the API's bearer token (django-ninja)
    if principal is not None and getattr(principal, "is_authenticated", False):
        # A device token's principal stands for no person: it has no user id.
        return getattr(principal, "pk", None) if hasattr(principal, "get_username") else None
    return None


def route_of(request) -> str:
    """The URL pattern that served the request (`/orgs/schools/<int:school_id>/`), not its
    path: a label with one value per pattern, not one per school id."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return "/" + match.route
    if request.path_info.startswith(settings.STATIC_URL):
        return "static"
    return "unmatched"


def request_finished(request, response, started: float) -> None:
    """The request's metrics and access line (called by RequestIdMiddleware while the
    request's context is still set). Never fails the request it describes."""
    try:
        _request_finished(request, response, started)
    except Exception:  # noqa: BLE001 - the answer is ready; losing a sample is the lesser harm
        logging.getLogger(__name__).exception("recording the request's metrics failed")


def _request_finished(request, response, started: float) -> None:
    seconds = time.perf_counter() - started
    status = response.status_code
    route = route_of(request)
    metrics.observe_request(route, request.method, status, seconds)
    level = logging.WARNING if status >= 500 else logging.INFO
    if not access_logger.isEnabledFor(level) or (route in _QUIET_ROUTES and status < 400):
        return
    duration_ms = round(seconds * 1000, 1)
    # The path without its query string: tokens and search terms live there.
    path = request.path[:200]
    access_logger.log(
        level,
        "%s %s %s %.1fms",
        request.method,
        path,
        status,
        duration_ms,
        extra={
            "method": request.method,
            "path": path,
            "route": route,
            "status": status,
            "duration_ms": duration_ms,
        },
    )


# --------------------------------------------------------------------------- access


@functools.lru_cache(maxsize=4)
def _networks(allowed: tuple[str, ...]) -> tuple:
    networks = []
    for entry in allowed:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            logging.getLogger(__name__).warning("HUXIAO_METRICS_ALLOWED: ignoring %r", entry)
    return tuple(networks)


def monitoring_allowed(request) -> bool:
    """A request from the monitoring system: a bearer token equal to HUXIAO_METRICS_TOKEN
    (when set), or a client address in HUXIAO_METRICS_ALLOWED.

    The address is the one `client_ip` believes (X-Forwarded-For only from trusted
    proxies). A request that came through a proxy we do not trust — it carries
    X-Forwarded-For — is refused by address: behind an untrusted nginx, every visitor
    would otherwise look like 127.0.0.1."""
    from huxiao.core.middleware import client_ip

    token = getattr(settings, "HUXIAO_METRICS_TOKEN", "")
    if token:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header[:7].lower() == "bearer " and hmac.compare_digest(
            header[7:].strip().encode(), token.encode()
        ):
            return True
    remote = request.META.get("REMOTE_ADDR", "")
    if request.META.get("HTTP_X_FORWARDED_FOR") and remote not in settings.HUXIAO_TRUSTED_PROXIES:
        return False
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    allowed = tuple(getattr(settings, "HUXIAO_METRICS_ALLOWED", ("127.0.0.1", "::1")))
    return any(address in network for network in _networks(allowed))


@never_cache
def metrics_view(request):
    """Prometheus text exposition. No login, no session: the scraper has neither."""
    if not monitoring_allowed(request):
        raise Http404
    body, content_type = metrics.render()
    return HttpResponse(body, content_type=content_type)


# --------------------------------------------------------------------------- readiness

CHECK_TIMEOUT_SECONDS = 2.0
_CREDENTIALS_IN_URL = re.compile(r"(\w+://)[^@/\s]*@")


def _short_error(exc: BaseException, detailed: bool) -> str:
    """What went wrong, in a few words and without credentials: the exception's class for
    anyone, its message (URLs' user:password removed) for the monitoring system."""
    name = type(exc).__name__
    if not detailed:
        return name
    text = _CREDENTIALS_IN_URL.sub(r"\1***@", str(exc)).replace("\n", " ").strip()
    for secret in (settings.SECRET_KEY, getattr(settings, "HUXIAO_METRICS_TOKEN", "")):
        if secret:
            text = text.replace(secret, "***")
    return f"{name}: {text}"[:200] if text else name


def _check_database() -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Bounded, and only for this transaction (a pooled connection keeps no trace).
            cursor.execute("SET LOCAL statement_timeout = %s", [int(CHECK_TIMEOUT_SECONDS * 1000)])
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_redis() -> None:
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=CHECK_TIMEOUT_SECONDS,
        socket_timeout=CHECK_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    finally:
        client.close()


def _check_channel_layer() -> None:
    """A message sent to a fresh channel of the default layer comes back."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    channel = f"readyz.{uuid.uuid4().hex}"

    async def round_trip():
        await layer.send(channel, {"type": "readyz.ping"})
        message = await layer.receive(channel)
        if message.get("type") != "readyz.ping":
            raise RuntimeError("unexpected message")

    async def bounded():
        await asyncio.wait_for(round_trip(), CHECK_TIMEOUT_SECONDS)

    async_to_sync(bounded)()


def _check_tasks() -> None:
    """The queue's storage answers (a count; nothing is enqueued)."""
    from huey.contrib.djhuey import HUEY

    HUEY.pending_count()


def _uses_redis_storage() -> bool:
    from huey.contrib.djhuey import HUEY
    from huey.storage import RedisStorage

    return isinstance(HUEY.storage, RedisStorage)


def readiness(detailed: bool = False) -> tuple[bool, dict]:
    """Run the checks; (all ok, {name: {"ok", "ms", "error"?}})."""
    checks: list[tuple[str, object]] = [("database", _check_database)]
    if settings.REDIS_URL:
        checks.append(("redis", _check_redis))
    checks += [("channel_layer", _check_channel_layer), ("tasks", _check_tasks)]
    results: dict[str, dict] = {}
    for name, check in checks:
        if (
            name == "tasks"
            and results.get("redis", {}).get("ok") is False
            and _uses_redis_storage()
        ):
            # huey's Redis connections have no timeout: with Redis gone quiet (not refusing)
            # the count would hang this probe.
            results[name] = {"ok": False, "ms": 0.0, "error": "skipped: redis unreachable"}
            continue
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - a failed check is an answer, not a 500
            result = {"ok": False, "error": _short_error(exc, detailed)}
        else:
            result = {"ok": True}
        result["ms"] = round((time.perf_counter() - started) * 1000, 1)
        results[name] = result
    return all(result["ok"] for result in results.values()), results


@never_cache
def readyz(request):
    """Readiness: 200 when every check passes, else 503 with what failed."""
    ok, checks = readiness(detailed=monitoring_allowed(request))
    return JsonResponse(
        {"status": "ok" if ok else "error", "checks": checks}, status=200 if ok else 503
    )


# --------------------------------------------------------------------------- WebSockets


def counted_websocket(app, route: str):
    """Wrap a WebSocket consumer's ASGI app: count the socket in
    `huxiao_websocket_connections{route}` from its acceptance until the consumer ends
    (after disconnect, whoever closed it). The consumers themselves stay untouched."""
    gauge = metrics.WEBSOCKET_CONNECTIONS.labels(route)

    async def counted(scope, receive, send):
        accepted = False

        async def send_counting(message):
            nonlocal accepted
            await send(message)
            if not accepted and message.get("type") == "websocket.accept":
                accepted = True
                gauge.inc()

        try:
            return await app(scope, receive, send_counting)
        finally:
            if accepted:
                gauge.dec()

    return counted
