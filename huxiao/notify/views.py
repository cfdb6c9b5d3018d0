"""The inbox pages: the logged-in user's own notifications, unread first in attention."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from huxiao.core.redirects import local_url
from huxiao.notify import selectors, services

PAGE_SIZE = 50


def item_link(notification) -> str:
    """The page a notification is about (`payload["url"]`), only if it is a path on this
    site: the payload comes from other apps and must not turn into an open redirect."""
    url = (notification.payload or {}).get("url") if isinstance(notification.payload, dict) else ""
    if isinstance(url, str) and url.startswith("/") and not url.startswith(("//", "/\\")):
        return url
    return ""


def _with_links(items):
    for item in items:
        item.link = item_link(item.notification)
    return items


def unread_filter(params) -> bool:
    """The inbox's "unread only" filter (page and export)."""
    return params.get("unread") == "1"


@never_cache
@login_required
@require_GET
def inbox(request):
    unread_only = unread_filter(request.GET)
    items = selectors.inbox_list(user=request.user, unread_only=unread_only)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    _with_links(page.object_list)
    context = {
        "page": page,
        "unread_only": unread_only,
        "unread_count": selectors.inbox_unread_count(request.user),
        "nav_active": "inbox",
    }
    template = "notify/_inbox_items.html" if request.htmx else "notify/inbox.html"
    return render(request, template, context)


@never_cache
@login_required
@require_GET
def inbox_item(request, delivery_id: int):
    item = selectors.inbox_get(user=request.user, delivery_id=delivery_id)
    item.link = item_link(item.notification)
    return render(request, "notify/inbox_item.html", {"item": item, "nav_active": "inbox"})


@login_required
@require_POST
def inbox_item_read(request, delivery_id: int):
    item = services.inbox_mark_read(actor=request.user, delivery_id=delivery_id)
    if request.htmx:
        item.link = item_link(item.notification)
        return render(request, "notify/_inbox_item.html", {"item": item})
    target = local_url(request, request.POST.get("next"))
    return redirect(target) if target else redirect("notify:inbox")


@login_required
@require_POST
def inbox_read_all(request):
    services.inbox_mark_all_read(actor=request.user)
    return redirect("notify:inbox")


@never_cache
@login_required
@require_GET
def inbox_unread_badge(request):
    """A fragment for the header, refreshed with htmx (e.g. on a `notify.inbox` push)."""
    return render(
        request,
        "notify/_unread_badge.html",
        {"unread_count": selectors.inbox_unread_count(request.user)},
    )
