from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.handlers.asgi import ASGIRequest
from django.db import connection
from django.db.models import Count, Q
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from huxiao.core.context import SESSION_KEY, active_membership
from huxiao.core.roles import POLICE_KINDS, Action
from huxiao.core.scoping import memberships_of, visible_school_ids


@never_cache
def healthz(request):
    """Liveness for both servers: answers which one served it and that the database answers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            database = "ok"
    except Exception:  # noqa: BLE001 - report, do not raise
        database = "error"
    status = 200 if database == "ok" else 503
    server = "asgi" if isinstance(request, ASGIRequest) else "wsgi"
    return JsonResponse(
        {"status": "ok" if status == 200 else "error", "server": server, "database": database},
        status=status,
    )


@login_required
def home(request):
    from huxiao.orgs.selectors import school_list
    from huxiao.people.models import Certificate, Child, SchoolClass, Staff

    membership = active_membership(request)
    user = request.user
    context = {"membership": membership}
    if membership is None:
        return render(request, "core/home_none.html", context)
    org = membership.organization
    if org.is_school:
        today = timezone.localdate()
        context.update(
            school=org,
            class_count=SchoolClass.objects.visible_to(user).filter(school=org).count(),
            child_count=Child.objects.visible_to(user).filter(school=org, is_active=True).count(),
            staff_count=Staff.objects.visible_to(user).filter(school=org, is_active=True).count(),
            expiring=Certificate.objects.visible_to(user)
            .filter(staff__school=org, expires_on__lte=today + dt.timedelta(days=60))
            .select_related("staff")[:10],
            unchecked_staff=Staff.objects.visible_to(user)
            .filter(school=org, is_active=True)
            .exclude(background_check="passed")
            .count(),
            can_import=org.pk in visible_school_ids(user, Action.IMPORT_ROSTER),
        )
        return render(request, "core/home_school.html", context)
    schools = list(school_list(actor=user))
    staff_counts = dict(
        Staff.objects.visible_to(user)
        .filter(is_active=True)
        .values_list("school_id")
        .annotate(n=Count("id"))
        .values_list("school_id", "n")
    )
    for school in schools:
        school.staff_count = staff_counts.get(school.pk, 0)
    context.update(
        schools=schools,
        is_police=org.kind in POLICE_KINDS,
        totals={
            "schools": len(schools),
            "children": sum(s.children_count for s in schools),
            "boarding": sum(1 for s in schools if s.is_boarding),
            "unregistered": sum(1 for s in schools if not s.is_registered),
            "private": sum(1 for s in schools if s.ownership == "private"),
        },
        unchecked_staff=Staff.objects.visible_to(user)
        .filter(is_active=True)
        .filter(~Q(background_check="passed"))
        .count(),
    )
    return render(request, "core/home_office.html", context)


@login_required
@require_POST
def switch_organization(request):
    try:
        membership_id = int(request.POST.get("membership_id", ""))
    except ValueError:
        membership_id = None
    if any(m.pk == membership_id for m in memberships_of(request.user)):
        request.session[SESSION_KEY] = membership_id
    return HttpResponseRedirect(reverse("core:home"))


def _error(request, template, status):
    return render(request, template, status=status)


def page_not_found(request, exception=None):
    return _error(request, "errors/404.html", 404)


def permission_denied(request, exception=None):
    return _error(request, "errors/403.html", 403)


def csrf_failure(request, reason=""):
    """A form posted without its CSRF token (an expired page, cookies blocked): in the
    platform's layout and language; Django's own page carries an inline style that the
    policy refuses."""
    return _error(request, "errors/403_csrf.html", 403)


def bad_request(request, exception=None):
    return _error(request, "errors/400.html", 400)


def server_error(request):
    return render(request, "errors/500.html", status=500)
