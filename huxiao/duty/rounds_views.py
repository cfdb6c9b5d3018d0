"""Pages of patrol rounds (issue 7 item 7; ADR 0029 "Rounds"), phone first.

- `duty:scan` (code): what the QR of a plate opens on the guard's phone. Logged in with
  `KEEP_DUTY` at the checkpoint's school, the scan is recorded at once (the QR is the intent;
  a reload writes nothing new) and the page says "已打卡 · 第 N 个点位 / 共 M 个" with big
  buttons to go on or end the round. Not logged in: the login page, then back here. An
  unknown, retired or other school's code: a 404 page that says so; nothing written.
- `duty:rounds` (school): today and the last 7 days against the rule, for anyone who sees the
  school; with a code field (keyboard-wedge scanners) for those who keep duty there.
- `duty:round_detail`, `duty:round_finish`: one round; the guard ends it ("结束本轮").
- `duty:rounds_home`: the user's school's rounds (or a list of the schools in scope).

A role that may not do the thing anywhere gets 403; out of scope 404; a state refusal 409
with the sentence; a form error 400.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.core.permissions import require
from huxiao.core.roles import Action
from huxiao.core.scoping import can
from huxiao.duty import rounds_selectors as selectors
from huxiao.duty import rounds_services as services
from huxiao.duty.checkpoint_selectors import require_any, school_get
from huxiao.duty.rounds_forms import ScanCodeForm
from huxiao.orgs.models import Organization

NAV = "duty_rounds"


def _no_store(response):
    # The scan URL carries the plate's secret: no copy in a shared cache.
    response["Cache-Control"] = "no-store"
    return response


def _render_outcome(request, outcome, *, form=None, status=200):
    rnd = outcome.round
    return _no_store(
        render(
            request,
            "duty/rounds/scan.html",
            {
                "outcome": outcome,
                "round": rnd,
                "school": outcome.checkpoint.school,
                "form": form,
                "can_finish": rnd.finished_at is None and services.may_finish(request.user, rnd),
                "nav_active": NAV,
            },
            status=status,
        )
    )


def _render_unknown(request, message):
    return _no_store(
        render(
            request,
            "duty/rounds/scan_unknown.html",
            {"message": message, "nav_active": NAV},
            status=404,
        )
    )


@login_required
@require_safe
def scan(request, code: str):
    require_any(request.user, Action.KEEP_DUTY)
    try:
        outcome = services.checkpoint_scan(actor=request.user, code=code)
    except services.CheckpointUnknown as unknown:
        return _render_unknown(request, unknown.message)
    return _render_outcome(request, outcome)


@login_required
@require_safe
def rounds_home(request):
    ids = require_any(request.user, Action.VIEW)
    schools = Organization.objects.schools().filter(pk__in=ids).order_by("name")
    if len(ids) == 1:
        return redirect("duty:rounds", next(iter(ids)))
    return render(
        request,
        "duty/rounds/choose_school.html",
        {"schools": schools[:500], "nav_active": NAV},
    )


def _rounds_page(request, school, *, form=None, status=200):
    now = timezone.now()
    keeps_duty = can(request.user, Action.KEEP_DUTY, school.pk)
    if keeps_duty and form is None:
        form = ScanCodeForm()
    per_day, nights = selectors.requirement(school)
    return _no_store(
        render(
            request,
            "duty/rounds/rounds.html",
            {
                "school": school,
                "days": selectors.school_days(actor=request.user, school=school, now=now),
                "open_round": selectors.open_round(actor=request.user, school_id=school.pk, now=now)
                if keeps_duty
                else None,
                "form": form if keeps_duty else None,
                "may_plan": can(request.user, Action.PLAN_DUTY, school.pk),
                "required": per_day,
                "night_required": nights,
                "export_query": f"school={school.pk}",
                "nav_active": NAV,
            },
            status=status,
        )
    )


@login_required
@require_http_methods(["GET", "POST"])
def rounds(request, school_id: int):
    require_any(request.user, Action.VIEW)
    school = school_get(actor=request.user, school_id=school_id)
    if request.method != "POST":
        return _rounds_page(request, school)
    require(request.user, Action.KEEP_DUTY, school.pk)
    form = ScanCodeForm(request.POST)
    if not form.is_valid():
        return _rounds_page(request, school, form=form, status=400)
    try:
        outcome = services.checkpoint_scan(
            actor=request.user, code=form.cleaned_data["code"], school_id=school.pk, typed=True
        )
    except services.CheckpointUnknown as unknown:
        form.add_error("code", str(unknown.message))
        return _rounds_page(request, school, form=form, status=404)
    except ValidationError as exc:
        form.add_service_errors(exc)
        return _rounds_page(request, school, form=form, status=400)
    return _render_outcome(request, outcome, form=ScanCodeForm())


def _render_round(request, rnd, *, refusal=None, status=200):
    scanned, left = services.round_progress(rnd)
    return render(
        request,
        "duty/rounds/round_detail.html",
        {
            "round": rnd,
            "school": rnd.school,
            "scanned": scanned,
            "left": left,
            "can_finish": rnd.finished_at is None and services.may_finish(request.user, rnd),
            "refusal": refusal,
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_safe
def round_detail(request, round_id: int):
    require_any(request.user, Action.VIEW)
    rnd = selectors.round_get(actor=request.user, round_id=round_id)
    return _render_round(request, rnd)


@login_required
@require_POST
def round_finish(request, round_id: int):
    require_any(request.user, Action.KEEP_DUTY)
    rnd = selectors.round_get(actor=request.user, round_id=round_id)
    try:
        services.round_finish(actor=request.user, round=rnd)
    except services.RoundRefused as refused:
        return _render_round(request, rnd, refusal=refused.messages[0], status=409)
    messages.success(request, _("Round ended."))
    return redirect("duty:rounds", rnd.school_id)


urlpatterns = [
    path("scan/<str:code>/", scan, name="scan"),
    path("rounds/", rounds_home, name="rounds_home"),
    path("schools/<int:school_id>/rounds/", rounds, name="rounds"),
    path("rounds/<int:round_id>/", round_detail, name="round_detail"),
    path("rounds/<int:round_id>/finish/", round_finish, name="round_finish"),
]
