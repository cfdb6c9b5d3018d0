"""Content-Security-Policy and the other security headers of every response (ADR 0034).

Scripts come from the platform's own origin only: no inline script, no on…= handler, no
eval (htmx runs with allowEval off). Data for a page's script travels as JSON in a
``json_script`` element, which the browser does not execute. Styles too come from the
platform's static files only: no <style> block, no style= attribute (an injected style
cannot run code, but it can restyle a page to mislead or read it out with attribute
selectors). A page's own rules live in its app's static CSS, linked from the template;
a computed position (the duty day's bar) is SVG geometry; scripts may still set
element.style, which the policy does not govern, and chart tooltips are built as elements
(huxiao/chart-tooltip.js) because ECharts' default tooltip markup carries style attributes.
The PDF templates (reports/pdf/) keep their <style>: WeasyPrint renders them, no browser.

The live consoles open a WebSocket: behind nginx on the same origin (/ws/), in embedded mode
on the ASGI port of the same host (HUXIAO_WS_PORT), or at an absolute HUXIAO_WS_URL; the
policy allows exactly that origin.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import DisallowedHost

PERMISSIONS_POLICY = ", ".join(
    [
        # The gate kiosk photographs visitors; patrol check-in may take the position.
        "camera=(self)",
        "geolocation=(self)",
        "microphone=()",
        "payment=()",
        "usb=()",
        "serial=()",
        "bluetooth=()",
        "magnetometer=()",
        "gyroscope=()",
        "accelerometer=()",
    ]
)


def websocket_sources(request) -> list[str]:
    """The origin(s) the page's WebSocket may connect to."""
    configured = settings.HUXIAO_WS_URL
    host = (request.get_host() or "127.0.0.1").rsplit(":", 1)[0]
    scheme = "wss" if request.is_secure() else "ws"
    if configured:
        parts = urlsplit(configured)
        if parts.scheme in {"ws", "wss"} and parts.netloc:
            return [f"{parts.scheme}://{parts.netloc}"]
        # A path on this origin: 'self' covers ws(s) of the same host in CSP 3; older
        # browsers need the scheme spelled out.
        return [f"{scheme}://{request.get_host()}"]
    return [f"{scheme}://{host}:{settings.HUXIAO_WS_PORT}"]


def content_security_policy(request) -> str:
    try:
        sockets = websocket_sources(request)
    except DisallowedHost:  # the answer is a 400 anyway; it needs no socket
        sockets = []
    connect = " ".join(["'self'", *sockets])
    directives = [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        f"connect-src {connect}",
        "media-src 'self' blob:",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
    report_uri = getattr(settings, "HUXIAO_CSP_REPORT_URI", "")
    if report_uri:
        directives.append(f"report-uri {report_uri}")
    return "; ".join(directives)


class SecurityHeadersMiddleware:
    """Adds CSP, Permissions-Policy and the cross-origin isolation headers.

    HUXIAO_CSP_REPORT_ONLY sends the policy as Content-Security-Policy-Report-Only, for
    trying a changed policy on a live deployment without breaking pages.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        header = (
            "Content-Security-Policy-Report-Only"
            if getattr(settings, "HUXIAO_CSP_REPORT_ONLY", False)
            else "Content-Security-Policy"
        )
        if header not in response:
            response[header] = content_security_policy(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response
