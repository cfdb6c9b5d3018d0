"""Security headers, and no template left with an inline script, event handler or style."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def _directives(header: str) -> dict[str, str]:
    return {
        part.strip().split(" ", 1)[0]: part.strip().partition(" ")[2]
        for part in header.split(";")
        if part.strip()
    }


@override_settings(HUXIAO_WS_URL="", HUXIAO_WS_PORT=8001)
def test_policy_on_pages(client):
    response = client.get("/accounts/login/")
    csp = _directives(response["Content-Security-Policy"])
    assert csp["script-src"] == "'self'"  # no inline script, no eval
    assert csp["style-src"] == "'self'"  # no <style> block, no style= attribute
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert csp["default-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'" and csp["base-uri"] == "'self'"
    assert csp["form-action"] == "'self'" and csp["object-src"] == "'none'"
    # Embedded mode: the socket is on the ASGI port of the same host, and only there.
    assert csp["connect-src"] == "'self' ws://testserver:8001"
    assert "camera=(self)" in response["Permissions-Policy"]
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


@override_settings(HUXIAO_WS_URL="wss://push.example.org:9443/ws/")
def test_connect_src_follows_an_absolute_socket_url(client):
    csp = _directives(client.get("/accounts/login/")["Content-Security-Policy"])
    assert csp["connect-src"] == "'self' wss://push.example.org:9443"


@override_settings(HUXIAO_WS_URL="/ws/")
def test_connect_src_same_origin_behind_proxy(client):
    csp = _directives(client.get("/accounts/login/")["Content-Security-Policy"])
    assert csp["connect-src"] == "'self' ws://testserver"


@override_settings(HUXIAO_CSP_REPORT_ONLY=True)
def test_report_only_switch(client):
    response = client.get("/accounts/login/")
    assert "Content-Security-Policy" not in response
    assert "script-src 'self'" in response["Content-Security-Policy-Report-Only"]


def _templates():
    return [p for p in (ROOT / "huxiao").rglob("*.html") if "static" not in p.parts]


def test_no_inline_script_in_templates():
    offenders = []
    for path in _templates():
        for match in re.finditer(r"<script\b([^>]*)>", path.read_text(encoding="utf-8")):
            attrs = match.group(1)
            # json_script renders type="application/json", which is not executed.
            if "src=" not in attrs and "application/json" not in attrs:
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, offenders


def test_no_inline_event_handlers_or_javascript_urls():
    handler = re.compile(r"<[^>]*\s(on[a-z]+)\s*=", re.I)
    offenders = []
    for path in _templates():
        text = path.read_text(encoding="utf-8")
        if handler.search(text) or "javascript:" in text or "hx-on" in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, offenders


def test_no_inline_style_in_templates():
    # The PDF templates (reports/pdf/) are WeasyPrint's, never served to a browser.
    style = re.compile(r"<style\b|<[^>]*\sstyle\s*=", re.I)
    offenders = [
        str(path.relative_to(ROOT))
        for path in _templates()
        if "pdf" not in path.parts and style.search(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, offenders


def test_no_inline_style_written_by_our_scripts():
    # Markup with style= given to innerHTML, or a <style> element, is refused by the policy;
    # element.style (the CSSOM) is not.
    written = re.compile(r"""style=|setAttribute\(\s*["']style|createElement\(\s*["']style""")
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "huxiao").rglob("*.js")
        if "static" in path.parts
        and "vendor" not in path.parts
        and written.search(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, offenders


def test_no_inline_handlers_in_widget_attributes():
    # Widgets render their attrs into pages too (e.g. a date input's onchange).
    handler = re.compile(
        r"""["']on(click|change|submit|input|load|keyup|keydown|focus|blur)["']\s*:"""
    )
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "huxiao").rglob("*.py")
        if "tests" not in path.parts and handler.search(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, offenders


@pytest.mark.django_db
def test_a_csrf_failure_is_the_platforms_page_without_inline_style():
    """Django's own CSRF page carries a <style> block the policy refuses."""
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        "/accounts/login/", {"username": "x", "password": "y"}
    )
    assert response.status_code == 403
    page = response.content.decode()
    assert "表单已过期" in page and "<style" not in page
    assert "style-src 'self'" in response["Content-Security-Policy"]
