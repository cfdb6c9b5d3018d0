"""The terminals' lane: the hot paths of gate terminals and alarm boxes without the
browser's middleware and without searching the URL table (ADR 0022, "Performance").

A gate terminal checks visitors in (`POST /api/v1/visitors/check-in`) and releases children
(`POST /api/v1/pickup/lookup`, then `/pickup/release`); an alarm box raises alarms
(`POST /api/v1/alarms`, ADR 0011). Both send a bearer token and no cookies.
For such a request the session, authentication, CSRF, message, htmx and static-file
middleware do nothing but cost time, and Django tries some 130 URL patterns before it
reaches the API's (together, a fifth of a check-in's CPU). The lane runs the *same* view —
the API's own operation, with its authentication (device or user token), schema, services
and error handlers — behind every other middleware of `settings.MIDDLEWARE` (security
headers and redirect, request id, language, allowed hosts and content length, frame
options, rate limits), with the URL match resolved once at start-up.

What goes through the lane: POST to one of `LANE_URL_NAMES`' paths, with an `Authorization:
Bearer …` header and no `Cookie` header. Everything else — a browser's session (the school
page's alarm button), a request with cookies, another method or path — takes Django's full
stack, unchanged. A new middleware in settings joins the lane too unless it is listed in
`BROWSER_ONLY_MIDDLEWARE`.

Served by `config/wsgi.py` (`GateWSGIHandler`); tests drive `GateLane.get_response`
(huxiao/access/tests/test_gate_performance.py, huxiao/alarms/tests/test_alarm_lane.py).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.urls import resolve, reverse
from django.utils.module_loading import import_string

from huxiao.core.middleware import bearer_token

LANE_URL_NAMES = (
    "api:visitor_check_in",
    "api:pickup_lookup",
    "api:pickup_release",
    "api:alarm_create",
)

# Middleware that serve browsers only: for a request with a bearer token and no cookie they
# have nothing to read (no session, no CSRF cookie, no static path, no htmx header) and
# nothing to add to the response.
BROWSER_ONLY_MIDDLEWARE = frozenset(
    {
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django_htmx.middleware.HtmxMiddleware",
        "huxiao.core.middleware.HtmxLoginRedirectMiddleware",
        "huxiao.accounts.middleware.SessionIdleTimeoutMiddleware",
    }
)


def lane_middleware() -> list[str]:
    """`settings.MIDDLEWARE` in its order, less the browser-only ones."""
    return [path for path in settings.MIDDLEWARE if path not in BROWSER_ONLY_MIDDLEWARE]


class GateLane(BaseHandler):
    """Django's request handling (`BaseHandler.get_response`: middleware chain, view,
    exception conversion, error logging) with the lane's middleware and URL matches."""

    def __init__(self):
        super().__init__()
        self._matches = {}
        for name in LANE_URL_NAMES:
            path = reverse(name)
            self._matches[path] = resolve(path)
        self._load_lane_middleware()

    def takes(self, request) -> bool:
        meta = request.META
        return (
            request.method == "POST"
            and request.path_info in self._matches
            and not meta.get("HTTP_COOKIE")
            and bearer_token(request) != ""
        )

    def resolve_request(self, request):
        match = self._matches[request.path_info]
        request.resolver_match = match
        return match

    def _load_lane_middleware(self) -> None:
        """`BaseHandler.load_middleware` for the lane's list (all synchronous)."""
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(lane_middleware()):
            try:
                instance = import_string(path)(handler)
            except MiddlewareNotUsed:
                continue
            if hasattr(instance, "process_view"):
                self._view_middleware.insert(0, instance.process_view)
            if hasattr(instance, "process_template_response"):
                self._template_response_middleware.append(instance.process_template_response)
            if hasattr(instance, "process_exception"):
                self._exception_middleware.append(instance.process_exception)
            handler = convert_exception_to_response(instance)
        self._middleware_chain = handler


class GateWSGIHandler(WSGIHandler):
    """The project's WSGI handler: the gate lane's requests go through the lane, every
    other request through Django's full stack."""

    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=is_async)
        self.gate_lane = GateLane()

    def get_response(self, request):
        if self.gate_lane.takes(request):
            return self.gate_lane.get_response(request)
        return super().get_response(request)
