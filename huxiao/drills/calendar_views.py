"""A school's activity calendar (issue 8 item 3; ADR 0030 "Calendar"):
`/drills/calendar/?school=<id>&month=YYYY-MM`, both optional (the user's school, this
month). A bad parameter is a 400 with the message on the page, never a 500; a school out of
reach 404; someone who may view no school 403."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from huxiao.core.context import active_membership
from huxiao.core.roles import Action
from huxiao.core.scoping import can
from huxiao.drills import calendar_selectors as selectors
from huxiao.drills.compliance_forms import CalendarForm
from huxiao.drills.compliance_views import link

NAV = "drills_calendar"
MAX_ID = 2**63 - 1


@login_required
@require_safe
def calendar(request):
    form = CalendarForm(request.GET or None)
    valid = not form.is_bound or form.is_valid()
    data = form.cleaned_data if form.is_bound and valid else {}
    today = timezone.localdate()
    school_id = data.get("school") or selectors.default_school_id(
        request.user, active_membership(request)
    )
    first = data.get("month") or today.replace(day=1)
    month = selectors.calendar_month(actor=request.user, school_id=school_id, month=first)
    school = month.school
    may_plan = can(request.user, Action.RECORD_ACTIVITY, school.pk)
    new_url = link("drills:activity_new") if may_plan else ""
    detail = link("drills:activity_detail", MAX_ID)
    for week in month.weeks:
        for day in week.days:
            for item in day.items:
                item.url = detail.replace(str(MAX_ID), str(item.pk)) if detail else ""
    return render(
        request,
        "drills/calendar_month.html",
        {
            "month": month,
            "school": school,
            "form": form,
            "schools": selectors.school_choices(request.user),
            "new_url": new_url,
            "list_url": link("drills:activity_list", query=f"school={school.pk}"),
            "compliance_url": reverse("drills:compliance_school", args=[school.pk]),
            "here": reverse("drills:calendar"),
            "nav_active": NAV,
        },
        status=200 if valid else 400,
    )


urlpatterns = [path("calendar/", calendar, name="calendar")]
