"""Pages of drill records (issue 8 item 2; ADR 0030): the phone page for the assembly point
(big "signal now" and "all out now" buttons, a live elapsed time, headcounts, typed times,
the drill alarm and its police response, problems and "make hazard"), and starting a drill
now, with or without a drill alarm. Parse → call a service → render; the same answers as
the activity pages (404 out of reach, 403 the role, 409 the state, 400 the input)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.core.roles import Action
from huxiao.core.scoping import can
from huxiao.drills import activity_selectors as sel
from huxiao.drills import drill_services as services
from huxiao.drills.activity_forms import (
    DrillCountForm,
    DrillStartForm,
    DrillTimesForm,
    HazardFromProblemForm,
    LinkAlarmForm,
    ProblemForm,
)
from huxiao.drills.activity_services import ActivityRefused
from huxiao.drills.activity_views import NAV
from huxiao.drills.choices import ActivityKind, ActivityStatus

COUNT_FIELDS = ("expected_headcount", "counted_headcount", "missing_resolved", "missing_note")
TIME_FIELDS = ("signal_at", "all_out_at")


def _local(moment):
    return timezone.localtime(moment) if moment else None


def _record_forms(activity, record, bound: dict) -> dict:
    expected = record.expected_headcount if record else None
    if expected is None:
        expected = sel.expected_headcount(activity) or None
    return {
        "times_form": bound.get("times")
        or DrillTimesForm(
            initial={
                "signal_at": _local(record.signal_at) if record else None,
                "all_out_at": _local(record.all_out_at) if record else None,
            }
        ),
        "count_form": bound.get("counts")
        or DrillCountForm(
            initial={
                "expected_headcount": expected,
                "counted_headcount": record.counted_headcount if record else None,
                "missing_resolved": record.missing_resolved if record else False,
                "missing_note": record.missing_note if record else "",
            }
        ),
        "problem_form": bound.get("problem") or ProblemForm(),
    }


def _render(request, activity, *, refusal=None, bound=None, status=200):
    """The drill's page; `bound` holds forms posted with errors, by name."""
    bound = bound or {}
    record = sel.record_of(activity)
    writable = (
        sel.is_school_recorder(request.user, activity.school_id)
        and activity.status != ActivityStatus.CANCELLED
    )
    alarms = sel.linkable_alarms(activity) if writable and not (record and record.alarm_id) else []
    problems = list(record.problems.all()) if record else []
    may_report = can(request.user, Action.REPORT_HAZARD, activity.school_id)
    for problem in problems:
        problem.hazard_form = (
            bound.get(f"hazard-{problem.pk}")
            or HazardFromProblemForm(prefix=f"hazard-{problem.pk}")
            if writable and may_report and problem.hazard_id is None
            else None
        )
    signal = record.signal_at if record else None
    context = {
        "activity": activity,
        "school": activity.school,
        "record": record,
        "problems": problems,
        "duration": sel.duration_text(record.duration_seconds) if record else "",
        "missing": record.missing if record else None,
        "drill_label": sel.DRILL_KIND_LABELS.get(activity.drill_kind, ""),
        "status_label": sel.STATUS_LABELS.get(activity.status, ""),
        "writable": writable,
        "can_signal": writable
        and signal is None
        and (activity.status == ActivityStatus.PLANNED or activity.date == sel.local_today()),
        "can_all_out": writable and signal is not None and record.all_out_at is None,
        "can_raise_alarm": can(request.user, Action.RAISE_ALARM, activity.school_id),
        "can_see_alarm": can(request.user, Action.VIEW_ALARM, activity.school_id),
        "link_form": LinkAlarmForm(alarms=alarms) if alarms else None,
        "now": timezone.now(),
        "refusal": refusal,
        "nav_active": NAV,
        **(_record_forms(activity, record, bound) if writable else {}),
    }
    return render(request, "drills/drill_record.html", context, status=status)


def _drill(request, activity_id):
    activity = sel.activity_get(actor=request.user, activity_id=activity_id)
    if activity.kind != ActivityKind.DRILL:
        raise Http404
    return activity


def _back(activity):
    return redirect("drills:drill_record", activity.pk)


@login_required
@require_safe
def drill_record(request, activity_id: int):
    return _render(request, _drill(request, activity_id))


def _step(request, activity_id, call, success, **kwargs):
    activity = _drill(request, activity_id)
    try:
        call(actor=request.user, activity_id=activity.pk, **kwargs)
    except ActivityRefused as refused:
        return _render(request, activity, refusal=refused.messages[0], status=409)
    except ValidationError as exc:
        return _render(request, activity, refusal=" ".join(exc.messages), status=400)
    messages.success(request, success)
    return _back(activity)


@login_required
@require_POST
def drill_signal(request, activity_id: int):
    with_alarm = request.POST.get("with_alarm") == "1"
    return _step(
        request,
        activity_id,
        services.drill_signal,
        _("Drill alarm raised; the signal is given.") if with_alarm else _("Signal given."),
        with_alarm=with_alarm,
    )


@login_required
@require_POST
def drill_all_out(request, activity_id: int):
    return _step(request, activity_id, services.drill_all_out, _("Everyone is out."))


@login_required
@require_POST
def drill_link_alarm(request, activity_id: int):
    return _step(
        request,
        activity_id,
        services.drill_link_alarm,
        _("The drill alarm is linked."),
        alarm_id=request.POST.get("alarm", ""),
    )


def _save(request, activity_id, form_class, name: str, fields):
    activity = _drill(request, activity_id)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            services.drill_record_save(
                actor=request.user,
                activity_id=activity.pk,
                **{f: form.cleaned_data.get(f) for f in fields},
            )
        except ActivityRefused as refused:
            return _render(request, activity, refusal=refused.messages[0], status=409)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Drill record saved."))
            return _back(activity)
    return _render(request, activity, bound={name: form}, status=400)


@login_required
@require_POST
def drill_times(request, activity_id: int):
    return _save(request, activity_id, DrillTimesForm, "times", TIME_FIELDS)


@login_required
@require_POST
def drill_counts(request, activity_id: int):
    return _save(request, activity_id, DrillCountForm, "counts", COUNT_FIELDS)


# ------------------------------------------------------------------ problems


@login_required
@require_POST
def problem_add(request, activity_id: int):
    activity = _drill(request, activity_id)
    form = ProblemForm(request.POST)
    try:
        services.drill_problem_add(
            actor=request.user,
            activity_id=activity.pk,
            description=request.POST.get("description", ""),
        )
    except ActivityRefused as refused:
        return _render(request, activity, refusal=refused.messages[0], status=409)
    except ValidationError as exc:
        form.is_valid()
        form.add_service_errors(exc)
        return _render(request, activity, bound={"problem": form}, status=400)
    messages.success(request, _("Problem recorded."))
    return _back(activity)


@login_required
@require_POST
def problem_delete(request, problem_id: int):
    problem = sel.problem_get(actor=request.user, problem_id=problem_id)
    activity = problem.record.activity
    try:
        services.drill_problem_delete(actor=request.user, problem_id=problem.pk)
    except ActivityRefused as refused:
        return _render(request, activity, refusal=refused.messages[0], status=409)
    messages.success(request, _("Problem removed."))
    return _back(activity)


@login_required
@require_POST
def problem_hazard(request, problem_id: int):
    problem = sel.problem_get(actor=request.user, problem_id=problem_id)
    activity = problem.record.activity
    prefix = f"hazard-{problem.pk}"
    form = HazardFromProblemForm(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            hazard = services.drill_problem_to_hazard(
                actor=request.user, problem_id=problem.pk, **form.cleaned_data
            )
        except ActivityRefused as refused:
            return _render(request, activity, refusal=refused.messages[0], status=409)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("The problem is now a hazard."))
            return redirect("hazards:hazard_detail", hazard.pk)
    return _render(request, activity, bound={prefix: form}, status=400)


# ------------------------------------------------------------------ start a drill now


@login_required
@require_http_methods(["GET", "POST"])
def drill_start(request):
    """A whole-school drill taking place now; "with drill alarm" gives its signal at once
    through the alarm system (the police console shows it as a drill)."""
    from huxiao.duty.duty_selectors import schools_in_scope

    schools = [
        s
        for s in schools_in_scope(request.user, Action.RECORD_ACTIVITY)
        if sel.is_school_recorder(request.user, s.pk)
    ]
    if not schools:
        raise PermissionDenied(_("Only the school's own staff keep its drill records."))
    form = DrillStartForm(request.POST or None, schools=schools)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                activity = services.drill_start(
                    actor=request.user,
                    school_id=form.cleaned_data["school"],
                    drill_kind=form.cleaned_data["drill_kind"],
                    location=form.cleaned_data["location"],
                    with_alarm=request.POST.get("with_alarm") == "1",
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Drill started."))
                return redirect(reverse("drills:drill_record", args=[activity.pk]))
    return render(
        request,
        "drills/drill_start.html",
        {"form": form, "nav_active": NAV},
        status=status,
    )


urlpatterns = [
    path("drills/start/", drill_start, name="drill_start"),
    path("activities/<int:activity_id>/drill/", drill_record, name="drill_record"),
    path("activities/<int:activity_id>/drill/signal/", drill_signal, name="drill_signal"),
    path("activities/<int:activity_id>/drill/all-out/", drill_all_out, name="drill_all_out"),
    path("activities/<int:activity_id>/drill/times/", drill_times, name="drill_times"),
    path("activities/<int:activity_id>/drill/counts/", drill_counts, name="drill_counts"),
    path(
        "activities/<int:activity_id>/drill/link-alarm/",
        drill_link_alarm,
        name="drill_link_alarm",
    ),
    path("activities/<int:activity_id>/drill/problems/", problem_add, name="drill_problem_add"),
    path("drill-problems/<int:problem_id>/delete/", problem_delete, name="drill_problem_delete"),
    path("drill-problems/<int:problem_id>/hazard/", problem_hazard, name="drill_problem_hazard"),
]
