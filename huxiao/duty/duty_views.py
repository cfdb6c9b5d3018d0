"""Pages of duty (ADR 0029 "Duty"), phone first where guards use them: "My duty" with big
check-in and check-out buttons, one shift with its log, handover and open items, the week's
roster and the duty plan, and the schools overview for those who read several schools.
Parse → call a selector/service → render.

Nobody with the needed action anywhere gets 403; a school or shift out of reach 404; a step
the role does not allow 403; a step the state does not allow 409 with the reason; a form
with errors 400 with the errors in place; a success redirects.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms.utils import ErrorDict
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.core.redirects import next_url
from huxiao.core.roles import Action
from huxiao.core.scoping import can, visible_school_ids
from huxiao.duty import duty_selectors as sel
from huxiao.duty import duty_services as services
from huxiao.duty.duty_forms import (
    AssignForm,
    CloseItemForm,
    HandoverForm,
    LogForm,
    PlanForm,
    WeekForm,
)
from huxiao.duty.gap_selectors import open_gap_counts

NAV = "duty"
PLAN_FIELDS = (
    "day_starts",
    "night_starts",
    "check_in_grace_minutes",
    "monitoring_max_gap_minutes",
    "night_round_from",
    "night_round_until",
)


def service_errors(form, exc: ValidationError):
    """The bound form showing the service's errors (the service is the one judge of the
    input; the form's own checks are for the browser)."""
    form.is_valid()
    form._errors = ErrorDict()
    form.cleaned_data = {}
    form.add_service_errors(exc)
    return form


def _next_url(request, default: str) -> str:
    return next_url(request, default)


# ------------------------------------------------------------------ my duty


def _shift_panel(request, shift, now, *, log_form=None):
    """The shift's log, open items and log form, for "My duty"."""
    view = sel.shift_view(shift)
    writable = (
        sel.may_write(request.user, shift)
        and view.handover_out is None
        and now >= shift.starts_at - sel.CHECK_IN_BEFORE
    )
    return {
        "view": view,
        "log_form": (log_form or LogForm(prefix=f"log-{shift.pk}")) if writable else None,
    }


def _panel_card(cards: list, now, *, log_form=None):
    """The card whose shift the log panel of "My duty" is for: the shift a bound log form
    was posted to; else the shift the user is checked in to and not out of (the latest);
    else the one running now; else the first."""
    if not cards:
        return None
    if log_form is not None:
        for card in cards:
            if log_form.prefix == f"log-{card['shift'].pk}":
                return card
    on = [
        c
        for c in cards
        if c["assignment"].checked_in_at is not None and c["assignment"].checked_out_at is None
    ]
    if on:
        return on[-1]
    running = [c for c in cards if c["running"]]
    return running[-1] if running else cards[0]


def _render_home(request, *, refusal=None, log_form=None, status=200):
    now = timezone.now()
    duty = sel.my_duty(actor=request.user, now=now)
    cards = []
    for assignment in duty.current:
        shift = assignment.shift
        cards.append(
            {
                "assignment": assignment,
                "shift": shift,
                "can_check_in": assignment.checked_in_at is None
                and shift.starts_at - sel.CHECK_IN_BEFORE <= now < shift.ends_at,
                "can_check_out": assignment.checked_in_at is not None
                and assignment.checked_out_at is None,
                "running": shift.starts_at <= now < shift.ends_at,
            }
        )
    panel = None
    card = _panel_card(cards, now, log_form=log_form)
    if card is not None:
        bound = (
            log_form
            if log_form is not None and log_form.prefix == f"log-{card['shift'].pk}"
            else None
        )
        panel = _shift_panel(request, card["shift"], now, log_form=bound)
    plan_ids = visible_school_ids(request.user, Action.PLAN_DUTY)
    keep_ids = visible_school_ids(request.user, Action.KEEP_DUTY)
    schools = list(sel.schools_in_scope(request.user, Action.KEEP_DUTY))
    gaps = open_gap_counts(plan_ids) if plan_ids else {}
    return render(
        request,
        "duty/duty/home.html",
        {
            "cards": cards,
            "upcoming": duty.upcoming,
            "panel": panel,
            "schools": [
                {
                    "school": s,
                    "can_plan": s.pk in plan_ids,
                    "keeps": s.pk in keep_ids,
                    "open_gaps": gaps.get(s.pk, 0),
                }
                for s in schools
            ],
            "refusal": refusal,
            "now": now,
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_safe
def home(request):
    sel.require_any(request.user, Action.KEEP_DUTY)
    return _render_home(request)


# ------------------------------------------------------------------ overview


@login_required
@require_safe
def overview(request):
    """The schools in scope with today's shifts and their open gaps."""
    now = timezone.now()
    return render(
        request,
        "duty/duty/overview.html",
        {"rows": overview_rows(request.user, now), "now": now, "nav_active": NAV},
    )


def overview_rows(actor, now) -> list[dict]:
    """Each school in scope with its shift now, whether someone checked in, and its open
    gaps: the overview page and its export. 403 for who sees no school."""
    sel.require_any(actor, Action.VIEW)
    schools = list(sel.schools_in_scope(actor, Action.VIEW))
    today = timezone.localtime(now).date()
    shifts: dict[int, list] = {}
    for shift in sel.shift_list(actor=actor, date_from=today - dt.timedelta(days=1), date_to=today):
        if shift.starts_at <= now < shift.ends_at or (
            shift.date == today and shift.starts_at > now
        ):
            shifts.setdefault(shift.school_id, []).append(shift)
    gaps = open_gap_counts([s.pk for s in schools])
    rows = []
    for school in schools:
        current = [s for s in shifts.get(school.pk, []) if s.starts_at <= now]
        rows.append(
            {
                "school": school,
                "current": current[0] if current else None,
                "covered": bool(current)
                and any(a.checked_in_at for a in current[0].assignments.all()),
                "open_gaps": gaps.get(school.pk, 0),
            }
        )
    return rows


# ------------------------------------------------------------------ check-in and check-out


def _check(request, shift_id, call, success):
    shift = sel.shift_get(actor=request.user, shift_id=shift_id)
    try:
        call(actor=request.user, shift_id=shift.pk)
    except services.DutyRefused as refused:
        if request.POST.get("next"):
            return _render_home(request, refusal=refused.messages[0], status=409)
        return _render_shift(request, shift, refusal=refused.messages[0], status=409)
    messages.success(request, success)
    return redirect(_next_url(request, reverse("duty:shift", args=[shift.pk])))


@login_required
@require_POST
def check_in(request, shift_id: int):
    return _check(request, shift_id, services.shift_check_in, _("Checked in for the shift."))


@login_required
@require_POST
def check_out(request, shift_id: int):
    return _check(request, shift_id, services.shift_check_out, _("Checked out."))


# ------------------------------------------------------------------ one shift


def _render_shift(
    request,
    shift,
    *,
    refusal=None,
    log_form=None,
    handover_form=None,
    close_bound=None,
    status=200,
):
    now = timezone.now()
    view = sel.shift_view(shift)
    actor = request.user
    writer = sel.may_write(actor, shift)
    mine = next((a for a in view.assignments if a.user_id == actor.pk), None)
    keeps = can(actor, Action.KEEP_DUTY, shift.school_id)
    open_for_log = (
        writer and view.handover_out is None and now >= shift.starts_at - sel.CHECK_IN_BEFORE
    )
    may_hand_over = writer and view.handover_out is None and now >= shift.starts_at
    on_this = keeps and mine is not None
    close_forms = {}
    if writer:
        for item in view.open_items:
            prefix = f"close-{item.pk}"
            close_forms[item.pk] = (
                close_bound
                if close_bound is not None and close_bound.prefix == prefix
                else CloseItemForm(prefix=prefix)
            )
    for item in view.open_items:
        item.close_form = close_forms.get(item.pk)
    return render(
        request,
        "duty/duty/shift.html",
        {
            "shift": shift,
            "view": view,
            "mine": mine if keeps else None,
            "can_check_in": on_this
            and mine.checked_in_at is None
            and shift.starts_at - sel.CHECK_IN_BEFORE <= now < shift.ends_at,
            "can_check_out": on_this
            and mine.checked_in_at is not None
            and mine.checked_out_at is None,
            "log_form": (log_form or LogForm(prefix="log")) if open_for_log else None,
            "handover_form": (handover_form or HandoverForm(prefix="handover"))
            if may_hand_over
            else None,
            "may_receive": [h.pk for h in view.handovers_in if h.received_at is None and on_this],
            "can_plan": sel.may_plan(actor, shift.school_id),
            "previous": sel.previous_shift(shift),
            "next": sel.next_shift(shift),
            "refusal": refusal,
            "now": now,
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_safe
def shift_detail(request, shift_id: int):
    shift = sel.shift_get(actor=request.user, shift_id=shift_id)
    return _render_shift(request, shift)


def _post(request, prefix: str, name: str) -> str:
    return request.POST.get(f"{prefix}-{name}", "")


@login_required
@require_POST
def log_add(request, shift_id: int):
    shift = sel.shift_get(actor=request.user, shift_id=shift_id)
    prefix = request.POST.get("prefix") or "log"
    if prefix not in ("log", f"log-{shift.pk}"):
        prefix = "log"
    from_home = prefix != "log"
    try:
        services.log_add(
            actor=request.user,
            shift_id=shift.pk,
            text=_post(request, prefix, "text"),
            kind=_post(request, prefix, "kind"),
        )
    except services.DutyRefused as refused:
        if from_home:
            return _render_home(request, refusal=refused.messages[0], status=409)
        return _render_shift(request, shift, refusal=refused.messages[0], status=409)
    except ValidationError as exc:
        form = service_errors(LogForm(request.POST, prefix=prefix), exc)
        if from_home:
            return _render_home(request, log_form=form, status=400)
        return _render_shift(request, shift, log_form=form, status=400)
    messages.success(request, _("Entry added to the duty log."))
    return redirect(_next_url(request, reverse("duty:shift", args=[shift.pk])))


@login_required
@require_POST
def handover_create(request, shift_id: int):
    shift = sel.shift_get(actor=request.user, shift_id=shift_id)
    try:
        services.handover_create(
            actor=request.user,
            shift_id=shift.pk,
            notes=_post(request, "handover", "notes"),
            open_items=_post(request, "handover", "open_items"),
        )
    except services.DutyRefused as refused:
        return _render_shift(request, shift, refusal=refused.messages[0], status=409)
    except ValidationError as exc:
        form = service_errors(HandoverForm(request.POST, prefix="handover"), exc)
        return _render_shift(request, shift, handover_form=form, status=400)
    messages.success(request, _("Shift handed over."))
    return redirect("duty:shift", shift.pk)


@login_required
@require_POST
def handover_receive(request, handover_id: int):
    handover = sel.handover_get(actor=request.user, handover_id=handover_id)
    target = handover.to_shift or handover.from_shift
    try:
        services.handover_receive(actor=request.user, handover_id=handover.pk)
    except services.DutyRefused as refused:
        return _render_shift(request, target, refusal=refused.messages[0], status=409)
    messages.success(request, _("Handover received."))
    return redirect(_next_url(request, reverse("duty:shift", args=[target.pk])))


@login_required
@require_POST
def item_close(request, item_id: int):
    item = sel.open_item_get(actor=request.user, item_id=item_id)
    shift = item.current_shift or item.raised_in
    prefix = f"close-{item.pk}"
    try:
        services.open_item_close(
            actor=request.user, item_id=item.pk, note=_post(request, prefix, "note")
        )
    except services.DutyRefused as refused:
        return _render_shift(request, shift, refusal=refused.messages[0], status=409)
    except ValidationError as exc:
        form = service_errors(CloseItemForm(request.POST, prefix=prefix), exc)
        return _render_shift(request, shift, close_bound=form, status=400)
    messages.success(request, _("Open item closed."))
    return redirect(_next_url(request, reverse("duty:shift", args=[shift.pk])))


# ------------------------------------------------------------------ roster


def _render_roster(
    request, school, monday, *, refusal=None, week_form=None, assign_bound=None, status=200
):
    now = timezone.now()
    can_plan = sel.may_plan(request.user, school.pk)
    days = sel.roster_week(school=school, monday=monday)
    # Only those who keep duty: anyone else could not check in (duty_services).
    members = sel.duty_keepers(school.pk) if can_plan else []
    for day in days:
        for shift in day.shifts.values():
            shift.editable = can_plan and shift.ends_at > now
            if shift.editable:
                prefix = f"assign-{shift.pk}"
                shift.assign_form = (
                    assign_bound
                    if assign_bound is not None and assign_bound.prefix == prefix
                    else AssignForm(prefix=prefix, members=members)
                )
            shift.covered = any(a.checked_in_at for a in shift.assignments.all())
    missing = sum(1 for d in days for k in ("day", "night") if getattr(d, k) is None)
    no_login = sel.guards_without_login(actor=request.user, school_id=school.pk) if can_plan else []
    return render(
        request,
        "duty/duty/roster.html",
        {
            "school": school,
            "days": days,
            "monday": monday,
            "previous_week": monday - dt.timedelta(days=7),
            "next_week": monday + dt.timedelta(days=7),
            "can_plan": can_plan,
            "missing": missing,
            "no_login": no_login,
            "staff_url": f"{reverse('people:staff_list')}?school={school.pk}",
            "week_form": week_form or WeekForm(initial={"week_start": monday}),
            "export_query": f"school={school.pk}&week={monday.isoformat()}",
            "plan": sel.plan_for(school.pk),
            "refusal": refusal,
            "now": now,
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_safe
def roster(request, school_id: int):
    school = sel.school_get(actor=request.user, school_id=school_id)
    return _render_roster(request, school, roster_monday(request.GET))


def roster_monday(query) -> dt.date:
    """The Monday of the roster's `?week=` (this week's by default): the page and its
    export."""
    return sel.monday_of(sel.parse_date(query.get("week")) or timezone.localdate())


@login_required
@require_POST
def roster_week_create(request, school_id: int):
    school = sel.school_get(actor=request.user, school_id=school_id)
    raw = request.POST.get("week_start", "")
    try:
        created = services.week_create(actor=request.user, school_id=school.pk, week_start=raw)
    except ValidationError as exc:
        monday = sel.monday_of(sel.parse_date(raw) or timezone.localdate())
        form = service_errors(WeekForm(request.POST), exc)
        return _render_roster(request, school, monday, week_form=form, status=400)
    monday = sel.monday_of(sel.parse_date(raw))
    if created:
        messages.success(request, _("%(n)s shifts created.") % {"n": len(created)})
    else:
        messages.info(request, _("The week's shifts already exist."))
    return redirect(f"{reverse('duty:roster', args=[school.pk])}?week={monday.isoformat()}")


def _roster_url(shift) -> str:
    return f"{reverse('duty:roster', args=[shift.school_id])}?week={sel.monday_of(shift.date)}"


@login_required
@require_POST
def assignment_add(request, shift_id: int):
    shift = sel.shift_get(actor=request.user, shift_id=shift_id)
    prefix = f"assign-{shift.pk}"
    try:
        services.assignment_add(
            actor=request.user,
            shift_id=shift.pk,
            user=_post(request, prefix, "user"),
            role=_post(request, prefix, "role"),
        )
    except services.DutyRefused as refused:
        return _render_roster(
            request,
            shift.school,
            sel.monday_of(shift.date),
            refusal=refused.messages[0],
            status=409,
        )
    except ValidationError as exc:
        members = sel.duty_keepers(shift.school_id)
        form = service_errors(AssignForm(request.POST, prefix=prefix, members=members), exc)
        return _render_roster(
            request, shift.school, sel.monday_of(shift.date), assign_bound=form, status=400
        )
    messages.success(request, _("Added to the shift."))
    return redirect(_roster_url(shift))


@login_required
@require_POST
def assignment_remove(request, assignment_id: int):
    from huxiao.duty.models import DutyAssignment

    assignment = (
        DutyAssignment.objects.visible_to(request.user, Action.VIEW)
        .filter(pk=sel._id(assignment_id))
        .select_related("shift", "shift__school")
        .first()
    )
    if assignment is None:
        raise Http404
    shift = assignment.shift
    try:
        services.assignment_remove(actor=request.user, assignment_id=assignment.pk)
    except services.DutyRefused as refused:
        return _render_roster(
            request,
            shift.school,
            sel.monday_of(shift.date),
            refusal=refused.messages[0],
            status=409,
        )
    messages.success(request, _("Removed from the shift."))
    return redirect(_roster_url(shift))


# ------------------------------------------------------------------ plan


@login_required
@require_http_methods(["GET", "POST"])
def plan(request, school_id: int):
    school = sel.school_get(actor=request.user, school_id=school_id)
    current = sel.plan_for(school.pk)
    can_plan = sel.may_plan(request.user, school.pk)
    initial = {name: getattr(current, name) for name in PLAN_FIELDS}
    form = PlanForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        try:
            services.plan_save(
                actor=request.user,
                school_id=school.pk,
                **{name: request.POST.get(name, "") for name in PLAN_FIELDS},
            )
        except ValidationError as exc:
            form = service_errors(PlanForm(request.POST, initial=initial), exc)
            status = 400
        else:
            messages.success(request, _("Duty plan saved."))
            return redirect("duty:roster", school.pk)
    return render(
        request,
        "duty/duty/plan.html",
        {
            "school": school,
            "form": form,
            "plan": current,
            "can_plan": can_plan,
            "nav_active": NAV,
        },
        status=status,
    )


urlpatterns = [
    path("", home, name="home"),
    path("schools/", overview, name="overview"),
    path("schools/<int:school_id>/roster/", roster, name="roster"),
    path("schools/<int:school_id>/roster/week/", roster_week_create, name="roster_week_create"),
    path("schools/<int:school_id>/plan/", plan, name="plan"),
    path("shifts/<int:shift_id>/", shift_detail, name="shift"),
    path("shifts/<int:shift_id>/check-in/", check_in, name="check_in"),
    path("shifts/<int:shift_id>/check-out/", check_out, name="check_out"),
    path("shifts/<int:shift_id>/log/", log_add, name="log_add"),
    path("shifts/<int:shift_id>/handover/", handover_create, name="handover_create"),
    path("shifts/<int:shift_id>/assign/", assignment_add, name="assignment_add"),
    path("assignments/<int:assignment_id>/remove/", assignment_remove, name="assignment_remove"),
    path("handovers/<int:handover_id>/receive/", handover_receive, name="handover_receive"),
    path("open-items/<int:item_id>/close/", item_close, name="item_close"),
]
