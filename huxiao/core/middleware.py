from __future__ import annotations

import logging
import re
import time
import uuid

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.utils import translation
from django.utils.cache import patch_vary_headers

from huxiao.core import observability, request_context

logger = logging.getLogger("huxiao.request")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def bearer_token(request) -> str:
    """The token of an `Authorization: Bearer …` header, "" without one. The scheme is
    case-insensitive (RFC 9110), as ninja's HttpBearer reads it."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else ""


def client_ip(request) -> str:
    """The client's address. X-Forwarded-For counts only when the direct peer is one of
    HUXIAO_TRUSTED_PROXIES (nginx); then the right-most address not itself a trusted
    proxy is the client, since anything left of it the client could have written."""
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = settings.HUXIAO_TRUSTED_PROXIES
    if remote not in trusted:
        return remote
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    for address in reversed(forwarded):
        if address not in trusted:
            return address[:64]
    return remote


class RequestIdMiddleware:
    """Gives every request an id (or keeps a well-formed one from the proxy), which every
    log record of the request carries, and records the request's metrics and access line
    (huxiao/core/observability.py). Also in the gate lane: keep it cheap."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_context.set_current(
            request_context.RequestContext(
                request_id=request_id, ip=client_ip(request), path=request.path[:255]
            )
        )
        request_token = observability.enter_request(request)
        try:
            response = self.get_response(request)
            observability.request_finished(request, response, started)
        finally:
            observability.leave_request(request_token)
            request_context.reset(token)
        response["X-Request-ID"] = request_id
        return response


class HtmxLoginRedirectMiddleware:
    """An htmx request whose session expired gets a full-page redirect to the login page,
    not the login form swapped into a panel."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.headers.get("HX-Request") == "true"
            and response.status_code == 302
            and response.get("Location", "").startswith(str(resolve_url(settings.LOGIN_URL)))
        ):
            redirect = HttpResponse(status=204)
            redirect["HX-Redirect"] = response["Location"]
            return redirect
        return response


class LanguageMiddleware:
    """Simplified Chinese unless the user chose English with the switch (a cookie).

    Django's LocaleMiddleware would follow the browser's Accept-Language, so a police
    workstation with an English-locale browser would get English pages; the platform's
    default is Chinese, and English is a choice, not a guess (ADR 0008).
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response
