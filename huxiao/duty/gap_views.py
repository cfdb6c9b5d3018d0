"""The duty-gaps page (ADR 0029 "Gaps"): a school's open and resolved gaps of every kind
(uncovered shifts, monitoring-room log, patrol rounds), and the resolve form for its duty
planners. The school's people, its police station, the town's offices and the county read
it; out of scope is 404; resolving needs PLAN_DUTY (403); a gap already resolved is 409.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from huxiao.duty import duty_selectors as sel
from huxiao.duty import gap_selectors as gsel
from huxiao.duty.duty_views import NAV, service_errors
from huxiao.duty.gap_forms import ResolveForm
from huxiao.duty.gap_services import DutyRefused, gap_resolve

PAGE_SIZE = 30


def _render_gaps(request, school, *, refusal=None, bound=None, status=200):
    can_resolve = sel.may_plan(request.user, school.pk)
    open_gaps = list(gsel.gap_list(actor=request.user, school_id=school.pk, state="open"))
    for gap in open_gaps:
        prefix = f"resolve-{gap.pk}"
        gap.resolve_form = None
        if can_resolve:
            gap.resolve_form = (
                bound
                if bound is not None and bound.prefix == prefix
                else ResolveForm(prefix=prefix)
            )
    resolved = Paginator(
        gsel.gap_list(actor=request.user, school_id=school.pk, state="resolved"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "duty/gaps/list.html",
        {
            "school": school,
            "open_gaps": open_gaps,
            "resolved": resolved,
            "can_resolve": can_resolve,
            "refusal": refusal,
            "export_query": f"school={school.pk}",
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_safe
def gap_list(request, school_id: int):
    school = sel.school_get(actor=request.user, school_id=school_id)
    return _render_gaps(request, school)


@login_required
@require_POST
def gap_resolve_view(request, gap_id: int):
    gap = gsel.gap_get(actor=request.user, gap_id=gap_id)
    prefix = f"resolve-{gap.pk}"
    try:
        gap_resolve(actor=request.user, gap_id=gap.pk, note=request.POST.get(f"{prefix}-note", ""))
    except DutyRefused as refused:
        return _render_gaps(request, gap.school, refusal=refused.messages[0], status=409)
    except ValidationError as exc:
        form = service_errors(ResolveForm(request.POST, prefix=prefix), exc)
        return _render_gaps(request, gap.school, bound=form, status=400)
    messages.success(request, _("Gap resolved."))
    return redirect("duty:gaps", gap.school_id)


urlpatterns = [
    path("schools/<int:school_id>/gaps/", gap_list, name="gaps"),
    path("gaps/<int:gap_id>/resolve/", gap_resolve_view, name="gap_resolve"),
]
