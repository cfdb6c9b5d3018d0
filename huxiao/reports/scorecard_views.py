"""Pages of the scorecard area of the reports app (issue 10 item 3, ADR 0033 "School
scorecard"): one school's indicators, their trend and what the school still lacks.

- `reports:scorecard` `/reports/schools/<id>/scorecard/` for anyone with VIEW on the
  school; out of scope (or junk, or a huge id) 404. `?month=YYYY-MM` shows another past
  month (a future month or junk: 400 with the reason); `?scheme=<id>` another scheme that
  covers the school (any other: 404).
- `reports:my_scorecard` `/reports/scorecard/` sends a school's own people to their
  school's page; someone who sees schools only from outside gets 404 (they open a school's
  scorecard from the school), someone who sees no school 403.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from huxiao.core.roles import Action
from huxiao.core.scoping import visible_school_ids
from huxiao.reports import scorecard_selectors as sel

NAV = "scorecard"


@login_required
@require_safe
def scorecard(request, school_id: int):
    try:
        card = sel.scorecard(
            actor=request.user,
            school_id=school_id,
            month=request.GET.get("month"),
            scheme_id=request.GET.get("scheme"),
        )
    except sel.MonthError as exc:
        school = sel.school_get(actor=request.user, school_id=school_id)
        context = {"school": school, "error": str(exc), "nav_active": NAV}
        return render(request, "reports/scorecard.html", context, status=400)
    return render(
        request,
        "reports/scorecard.html",
        {"card": card, "school": card.school, "chart": card.chart(), "nav_active": NAV},
    )


@login_required
@require_safe
def my_scorecard(request):
    own = sel.own_school_ids(request.user)
    if own:
        return redirect("reports:scorecard", school_id=own[0])
    if visible_school_ids(request.user, Action.VIEW):
        raise Http404(
            _("You are not a member of a school: open a school's scorecard from the school's page.")
        )
    raise PermissionDenied(_("Your role does not allow this action."))


urlpatterns = [
    path("schools/<int:school_id>/scorecard/", scorecard, name="scorecard"),
    path("scorecard/", my_scorecard, name="my_scorecard"),
]
