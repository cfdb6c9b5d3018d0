"""Where a "next" parameter or a Referer may send the browser back to."""

from __future__ import annotations

from django.utils.http import url_has_allowed_host_and_scheme


def local_url(request, value) -> str:
    """`value` if it is a path on this site, else "". Only a path: Django's redirect() takes
    anything else ("-1", "abc") for the name of a view and fails with a server error, and
    url_has_allowed_host_and_scheme() lets such values through."""
    value = value if isinstance(value, str) else ""
    if value.startswith("/") and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


def next_url(request, default: str) -> str:
    """The request's `next` (form field, else query) if it is a path on this site, else
    `default`."""
    return local_url(request, request.POST.get("next") or request.GET.get("next")) or default
