"""Request rate limits on the Django cache (ADR 0034, "Rate limits").

A fixed window per (scope, who): a counter in the cache that expires with its window.
locmem in embedded mode (one counter per process: the limit is per process there), Redis in
scale mode (one counter for all workers). A cache that fails lets the request through: a
rate limit is a brake on abuse, never a reason to refuse a real user or an alarm.

Scopes and their defaults (count per seconds, from the environment):
- ``login``  (HUXIAO_RATE_LOGIN, 60/60) per client address: the login page, its
  two-factor steps and POST /api/v1/auth/token. The failed-login lockout still counts
  wrong passwords per user; this caps how fast anyone can try at all.
- ``device`` (HUXIAO_RATE_DEVICE, 300/60) per device token: gate terminals scan a pass or a
  pick-up code every few seconds at dismissal; an alarm box presses far less. Raising an
  alarm (POST /api/v1/alarms) is counted but never refused: an alarm must get through.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, JsonResponse
from django.shortcuts import resolve_url
from django.utils.translation import gettext as _

logger = logging.getLogger("huxiao.ratelimit")


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """ "30/60" → 30 per 60 s. "0" or "" turns the limit off (count 0)."""
        text = (text or "").strip()
        if text in {"", "0", "off"}:
            return cls(0, 60)
        count, _sep, seconds = text.partition("/")
        return cls(int(count), int(seconds or 60))


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    count: int
    retry_after: int


def hit(scope: str, who: str, rate: Rate, *, now: float | None = None) -> Verdict:
    """Count one request of `who` in `scope`; allowed while within the rate."""
    if rate.count <= 0:
        return Verdict(True, 0, 0)
    now = time.time() if now is None else now
    window = int(now // rate.seconds)
    retry_after = max(1, math.ceil((window + 1) * rate.seconds - now))
    key = f"rl:{scope}:{who}:{window}"
    try:
        if cache.add(key, 1, timeout=rate.seconds + 1):
            count = 1
        else:
            try:
                count = cache.incr(key)
            except ValueError:  # expired between add and incr: this is the first again
                cache.set(key, 1, timeout=rate.seconds + 1)
                count = 1
    except Exception:  # noqa: BLE001 - a broken cache must not refuse anyone
        logger.warning("rate limit cache unavailable; %s not limited", scope, exc_info=True)
        return Verdict(True, 0, 0)
    return Verdict(count <= rate.count, count, retry_after)


def too_many(request, retry_after: int) -> HttpResponse:
    """429 in the user's language, JSON for the API, text for pages."""
    message = _("Too many requests. Try again in %(seconds)s seconds.") % {"seconds": retry_after}
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message, "errors": {}}, status=429)
    else:
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(retry_after)
    return response


@functools.lru_cache(maxsize=8)
def _rate(text: str) -> Rate:
    return Rate.parse(text)


class RateLimitMiddleware:
    """Applies the login and device limits before any view runs."""

    # Raising an alarm is never refused, whatever the count (module docstring).
    NEVER_REFUSED = {("POST", "/api/v1/alarms")}

    def __init__(self, get_response):
        self.get_response = get_response
        self.login_paths = None

    def _login_paths(self) -> set[str]:
        if self.login_paths is None:
            self.login_paths = {
                str(resolve_url("accounts:login")),
                str(resolve_url("accounts:two_factor")),
                str(resolve_url("accounts:two_factor_enrol")),
                "/api/v1/auth/token",
            }
        return self.login_paths

    def __call__(self, request):
        from huxiao.core.middleware import bearer_token, client_ip

        if request.method == "POST" and request.path in self._login_paths():
            verdict = hit("login", client_ip(request) or "-", _rate(settings.HUXIAO_RATE_LOGIN))
            if not verdict.allowed:
                logger.warning("login rate limit: %s", client_ip(request))
                return too_many(request, verdict.retry_after)
        token = bearer_token(request)
        if token.startswith("hxd_"):
            who = hashlib.sha256(token.encode()).hexdigest()[:24]
            verdict = hit("device", who, _rate(settings.HUXIAO_RATE_DEVICE))
            if not verdict.allowed:
                if (request.method, request.path.rstrip("/")) in self.NEVER_REFUSED:
                    logger.warning("device %s over its rate, alarm let through", who[:8])
                else:
                    return too_many(request, verdict.retry_after)
        return self.get_response(request)
