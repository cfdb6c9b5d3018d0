from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render

from huxiao.audit.selectors import audit_event_list
from huxiao.core.roles import Action
from huxiao.core.scoping import visible_school_ids


def _int(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def event_filters(actor, query) -> dict:
    """The page's filters from its query string (the page and its export); 403 for a role
    that audits nowhere."""
    if not visible_school_ids(actor, Action.VIEW_AUDIT):
        raise PermissionDenied
    return {
        "object_type": query.get("object_type", "")[:100],
        "object_id": query.get("object_id", "")[:64],
        "user_id": _int(query.get("user")),
        "school_id": _int(query.get("school")),
    }


@login_required
def event_list(request):
    """The trail per object (?object_type=&object_id=) and per user (?user=)."""
    filters = event_filters(request.user, request.GET)
    events = audit_event_list(actor=request.user, **filters)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    template = "audit/_events.html" if request.htmx else "audit/event_list.html"
    return render(
        request,
        template,
        {"page": page, "filters": filters, "nav_active": "audit"},
    )
