"""The floor: bare views that run the same SQL and return the same content as the real ones.

No middleware, no authentication, no scoping: the school (HUXIAO_BENCH_SCHOOL_ID) and the
user (HUXIAO_BENCH_USER_ID) are fixed and loaded once. What remains per request is what any
implementation of the endpoint must do: the same queries (built with the same querysets, so
the SQL text is identical; bench/queries.py checks that), model instances, serialization or
template rendering, and Django's bare WSGI request/response cycle.

Also the ROOT_URLCONF of bench/floor_settings.py (the floor's paths come first).
"""

from __future__ import annotations

import json
import os
from functools import cache

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template import loader
from django.urls import path
from django.utils import timezone
from django.utils.translation import get_language

CHILD_FIELDS_DEFERRED = ("id_number_encrypted", "id_number_hash")


@cache
def state() -> dict:
    """What the real app computes per request from the session/token and the memberships."""
    from django.contrib.auth import get_user_model

    from huxiao.core.navigation import navigation_for
    from huxiao.core.roles import Action
    from huxiao.core.scoping import visible_school_ids
    from huxiao.orgs.models import Membership

    school_id = int(os.environ["HUXIAO_BENCH_SCHOOL_ID"])
    user = get_user_model().objects.get(pk=int(os.environ["HUXIAO_BENCH_USER_ID"]))
    membership = Membership.objects.select_related("organization").get(
        user=user, organization_id=school_id, is_active=True
    )
    return {
        "school_id": school_id,
        # The scoping filter the real querysets carry (visible_to → school_id__in=...).
        "school_ids": frozenset({school_id}),
        "user": user,
        "membership": membership,
        "school": membership.organization,
        "nav_items": navigation_for(user, membership),
        "can_import": school_id in visible_school_ids(user, Action.IMPORT_ROSTER),
    }


def children(request):
    """GET /api/v1/children?limit=50 — the count and one page, serialized like ChildOut."""
    from huxiao.people.models import Child

    st = state()
    limit = max(1, min(int(request.GET.get("limit", 50)), 200))
    offset = max(0, int(request.GET.get("offset", 0)))
    qs = (
        Child.objects.filter(school_id__in=st["school_ids"])
        .select_related("school_class")
        .defer(*CHILD_FIELDS_DEFERRED)
    )
    count = qs.count()
    items = [
        {
            "id": c.id,
            "school_id": c.school_id,
            "class_id": c.school_class_id,
            "class_name": c.school_class.name,
            "name": c.name,
            "gender": c.gender,
            "birth_date": c.birth_date,
            "id_number_masked": c.id_number_masked,
            "is_active": c.is_active,
        }
        for c in qs[offset : offset + limit]
    ]
    body = json.dumps({"count": count, "items": items}, cls=DjangoJSONEncoder)
    return HttpResponse(body, content_type="application/json; charset=utf-8")


def home(request):
    """GET / for a principal — the school home page with the same counts and template."""
    from huxiao.people.models import Certificate, Child, SchoolClass, Staff

    st = state()
    ids, org = st["school_ids"], st["school"]
    today = timezone.localdate()
    context = {
        # What the context processors and RequestContext give the real page.
        "request": request,
        "user": st["user"],
        "csrf_token": get_token(request),
        "LANGUAGE_CODE": get_language(),
        "LANGUAGES": settings.LANGUAGES,
        "demo_mode": settings.DEMO_MODE,
        "active_membership": st["membership"],
        "memberships": [st["membership"]],
        "nav_items": st["nav_items"],
        # What core.views.home computes.
        "membership": st["membership"],
        "school": org,
        "class_count": SchoolClass.objects.filter(school_id__in=ids).filter(school=org).count(),
        "child_count": Child.objects.filter(school_id__in=ids)
        .filter(school=org, is_active=True)
        .count(),
        "staff_count": Staff.objects.filter(school_id__in=ids)
        .filter(school=org, is_active=True)
        .count(),
        "expiring": Certificate.objects.filter(staff__school_id__in=ids)
        .filter(staff__school=org, expires_on__lte=today + timezone.timedelta(days=60))
        .select_related("staff")[:10],
        "unchecked_staff": Staff.objects.filter(school_id__in=ids)
        .filter(school=org, is_active=True)
        .exclude(background_check="passed")
        .count(),
        "can_import": st["can_import"],
    }
    html = loader.get_template("core/home_school.html").render(context)
    return HttpResponse(html)


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


def _urlpatterns() -> list:
    from config.urls import urlpatterns as project_urls

    # The floor's views first, so they answer "/" and the children list; the project's
    # patterns after them only so that {% url %} in the templates reverses to the same links.
    return [
        path("", home),
        path("api/v1/children", children),
        path("healthz", healthz),
        *project_urls,
    ]


urlpatterns = _urlpatterns()
