"""Pages of the response to a case (§3 7–10; ADR 0032 "Response"), phone first. Parse →
call a selector/service → render; a success redirects (back to the case page for the
forms of the case's response panel).

Nobody with the needed action anywhere gets 403 (police roles hold no health action); a
school, case or record out of reach 404; a step the role does not allow 403; a step the
state does not allow 409 with the reason; a form with errors 400 with the errors in place.

- `health:disinfections` /health/schools/<id>/disinfection/?month=  routine log (+ POST)
- `health:case_disinfection` POST /health/cases/<id>/disinfection/  emergency
- `health:suspensions` /health/suspensions/?school=                 current and past
- `health:suspension_new` /health/schools/<id>/suspensions/new/?case=
- `health:suspension_resume` POST /health/suspensions/<id>/resume/
- `health:case_no_suspension` POST /health/cases/<id>/no-suspension/
- `health:statements` /health/schools/<id>/statements/?case=         (+ POST)
- `health:case_statement` POST /health/cases/<id>/statements/
- `health:case_aftercare` POST /health/cases/<id>/aftercare/
- `health:aftercare` /health/aftercare/                             my tasks, open tasks
- `health:aftercare_done` POST /health/aftercare/<id>/done/
- `health:monitoring` /health/schools/<id>/monitoring/              plans (+ POST)
- `health:monitoring_end` POST /health/monitoring/<id>/end/
- `health:case_response` /health/cases/<id>/response/               the case's panel alone
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.core.names import person_name
from huxiao.core.roles import Action
from huxiao.core.scoping import can
from huxiao.duty.duty_views import service_errors
from huxiao.health import response_selectors as sel
from huxiao.health import response_services as services
from huxiao.health.models import HealthCase
from huxiao.health.reads import log_health_read
from huxiao.health.response_forms import (
    AftercareDoneForm,
    AftercareForm,
    DisinfectionForm,
    NoSuspensionForm,
    PlanEndForm,
    PlanForm,
    ResumeForm,
    StatementForm,
    SuspensionForm,
)

NAV = "health"
PAGE_SIZE = 30


def require_any_of(actor, actions) -> frozenset[int]:
    """The schools where the actor holds one of `actions`; 403 when there are none."""
    ids = sel.school_ids_for(actor, actions)
    if not ids:
        raise PermissionDenied(_("Your role does not allow this."))
    return ids


def reader_school(actor, school_id, actions=sel.HEALTH_READERS):
    """A school's page of the response (and its export): 403 for a role holding none of
    `actions` anywhere, 404 for a school out of reach."""
    require_any_of(actor, actions)
    return sel.school_in(actor, school_id, actions)


def disinfection_month(query, today: dt.date) -> dt.date:
    """The month of the disinfection log from `?month=` (this month by default)."""
    return sel.parse_month(query.get("month")) or today.replace(day=1)


def suspension_filters(actor, query):
    """The schools where the actor sees suspensions (403 when none) and the one chosen by
    `?school=` (404 out of reach): the page and its export."""
    ids = require_any_of(actor, (Action.VIEW_SUSPENSION,))
    school = None
    if query.get("school"):
        school = sel.school_in(actor, query["school"], (Action.VIEW_SUSPENSION,))
    return ids, school


def case_url(case_id: int, anchor: str = "") -> str:
    """The case page (the case area's), or this area's panel page until it exists."""
    try:
        url = reverse("health:case", args=[case_id])
    except NoReverseMatch:
        url = reverse("health:case_response", args=[case_id])
    return url + (f"#{anchor}" if anchor else "")


def _now_local():
    return timezone.localtime().replace(second=0, microsecond=0, tzinfo=None)


def _open_cases(school_id: int):
    return list(
        HealthCase.objects.filter(school_id=school_id, closed_at__isnull=True)
        .select_related("child", "school_class")
        .order_by("-reported_at", "-id")[:50]
    )


def _first(exc: ValidationError) -> str:
    return exc.messages[0] if exc.messages else ""


# ------------------------------------------------------------------ the case's panel


def _render_case(request, case, *, forms=None, refusal=None, status=200):
    """This area's panel of a case on its own page: shown when a form posted from the case
    page has errors (with them in place), or before the case page exists."""
    log_health_read(actor=request.user, obj=case, purpose="case response")
    return render(
        request,
        "health/response_case.html",
        {
            "case": case,
            "response_forms": forms or {},
            "refusal": refusal,
            "case_page": case_url(case.pk),
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_safe
def case_response(request, case_id: int):
    require_any_of(request.user, (Action.VIEW_HEALTH,))
    case = sel.case_get(actor=request.user, case_id=case_id)
    return _render_case(request, case)


def _case_post(request, case_id: int, action: str):
    """The case of a panel form: 403 without the action anywhere, 404 out of reach."""
    require_any_of(request.user, (action,))
    return sel.case_get(actor=request.user, case_id=case_id)


def _panel_post(request, case_id: int, *, action: str, key: str, make_form, record, done, anchor):
    """A form of this area's panel posted from the case page: `make_form(case)` builds it
    from the POST, `record(case, values)` calls the service. Errors come back in place
    (400), a refusal as such (409); else the success message and back to the case page at
    `anchor`."""
    case = _case_post(request, case_id, action)
    form = make_form(case)
    if not form.is_valid():
        return _render_case(request, case, forms={key: form}, status=400)
    try:
        record(case, form.cleaned_data)
    except services.ResponseConflict as conflict:
        return _render_case(request, case, refusal=_first(conflict), status=409)
    except ValidationError as exc:
        form = service_errors(make_form(case), exc)
        return _render_case(request, case, forms={key: form}, status=400)
    messages.success(request, done)
    return redirect(case_url(case.pk, anchor))


@login_required
@require_POST
def case_disinfection(request, case_id: int):
    return _panel_post(
        request,
        case_id,
        action=Action.MANAGE_HEALTH,
        key="disinfection",
        make_form=lambda case: DisinfectionForm(
            request.POST, prefix="disinfection", emergency=True
        ),
        record=lambda case, values: services.disinfection_record(
            actor=request.user,
            school_id=case.school_id,
            case_id=case.pk,
            area=values["area"],
            area_detail=values["area_detail"],
            method=values["method"],
            agent=values["agent"],
            done_by_name=values["done_by_name"],
            done_at=values["done_at"],
        ),
        done=_("Emergency disinfection recorded."),
        anchor="response-disinfection",
    )


@login_required
@require_POST
def case_no_suspension(request, case_id: int):
    return _panel_post(
        request,
        case_id,
        action=Action.SUSPEND_CLASSES,
        key="assessment",
        make_form=lambda case: NoSuspensionForm(request.POST, prefix="assessment"),
        record=lambda case, values: services.case_assessed_no_suspension(
            actor=request.user, case_id=case.pk, note=values["note"]
        ),
        done=_("Assessment recorded: no suspension."),
        anchor="response-suspension",
    )


@login_required
@require_POST
def case_statement(request, case_id: int):
    return _panel_post(
        request,
        case_id,
        action=Action.MANAGE_HEALTH,
        key="statement",
        make_form=lambda case: StatementForm(request.POST, prefix="statement"),
        record=lambda case, values: services.statement_publish(
            actor=request.user,
            school_id=case.school_id,
            case_id=case.pk,
            text=values["text"],
            published_at=values["published_at"],
            approved_by=values["approved_by"],
        ),
        done=_("Official statement recorded; the school's staff have been told."),
        anchor="response-statements",
    )


@login_required
@require_POST
def case_aftercare(request, case_id: int):
    return _panel_post(
        request,
        case_id,
        action=Action.MANAGE_HEALTH,
        key="aftercare",
        make_form=lambda case: AftercareForm(
            request.POST, prefix="aftercare", users=sel.assignable_users(case.school_id)
        ),
        record=lambda case, values: services.aftercare_create(
            actor=request.user,
            case_id=case.pk,
            kind=values["kind"],
            description=values["description"],
            assignee_id=values["assignee"],
            due_on=values["due_on"],
        ),
        done=_("Aftercare task added."),
        anchor="response-aftercare",
    )


# ------------------------------------------------------------------ disinfection


def _render_disinfections(request, school, *, form=None, status=200):
    today = timezone.localdate()
    month = disinfection_month(request.GET, today)
    records = list(sel.disinfection_list(actor=request.user, school_id=school.pk, month=month))
    may_record = can(request.user, Action.RECORD_HEALTH, school.pk)
    if may_record and form is None:
        form = DisinfectionForm(
            initial={"done_at": _now_local(), "done_by_name": person_name(request.user)}
        )
    by_area: dict[str, int] = {}
    for record in records:
        label = str(record.get_area_display())
        by_area[label] = by_area.get(label, 0) + 1
    return render(
        request,
        "health/response_disinfections.html",
        {
            "school": school,
            "month": month,
            "previous_month": sel.previous_month(month),
            "next_month": sel.next_month(month) if month < today.replace(day=1) else None,
            "days": sel.disinfection_days(records),
            "export_query": urlencode({"school": school.pk, "month": month.strftime("%Y-%m")}),
            "count": len(records),
            "by_area": sorted(by_area.items()),
            "form": form if may_record else None,
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def disinfections(request, school_id: int):
    school = reader_school(request.user, school_id)
    if request.method != "POST":
        return _render_disinfections(request, school)
    if not can(request.user, Action.RECORD_HEALTH, school.pk):
        raise PermissionDenied(_("Your role does not allow this action."))
    form = DisinfectionForm(request.POST)
    if not form.is_valid():
        return _render_disinfections(request, school, form=form, status=400)
    values = form.cleaned_data
    try:
        record = services.disinfection_record(
            actor=request.user,
            school_id=school.pk,
            area=values["area"],
            area_detail=values["area_detail"],
            method=values["method"],
            agent=values["agent"],
            done_by_name=values["done_by_name"],
            done_at=values["done_at"],
        )
    except ValidationError as exc:
        form = service_errors(DisinfectionForm(request.POST), exc)
        return _render_disinfections(request, school, form=form, status=400)
    messages.success(request, _("Disinfection recorded."))
    month = timezone.localdate(record.done_at).strftime("%Y-%m")
    return redirect(
        reverse("health:disinfections", args=[school.pk]) + "?" + urlencode({"month": month})
    )


# ------------------------------------------------------------------ suspensions


def _resume_forms(request, rows, bound=None) -> None:
    for row in rows:
        prefix = f"resume-{row.pk}"
        row.resume_form = None
        if row.resumed_on is None and can(request.user, Action.SUSPEND_CLASSES, row.school_id):
            row.resume_form = (
                bound
                if bound is not None and bound.prefix == prefix
                else ResumeForm(prefix=prefix, initial={"resumed_on": row.ends_on})
            )


def _render_suspensions(request, *, bound=None, refusal=None, status=200):
    ids, school = suspension_filters(request.user, request.GET)
    today = timezone.localdate()
    current = list(
        sel.suspension_list(
            actor=request.user, school_id=school.pk if school else None, state="current"
        )[:200]
    )
    for row in current:
        row.in_force = sel.suspension_in_force(row, today)
    _resume_forms(request, current, bound)
    past = Paginator(
        sel.suspension_list(
            actor=request.user, school_id=school.pk if school else None, state="past"
        ),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "health/response_suspensions.html",
        {
            "school": school,
            "current": current,
            "past": past,
            "today": today,
            "several_schools": len(ids) > 1,
            "may_decide": school is not None
            and can(request.user, Action.SUSPEND_CLASSES, school.pk),
            "decide_schools": list(sel.schools_where(request.user, Action.SUSPEND_CLASSES)[:20])
            if school is None
            else [],
            "refusal": refusal,
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_safe
def suspensions(request):
    return _render_suspensions(request)


@login_required
@require_http_methods(["GET", "POST"])
def suspension_new(request, school_id: int):
    require_any_of(request.user, (Action.SUSPEND_CLASSES,))
    school = sel.school_in(request.user, school_id, (Action.VIEW_SUSPENSION,))
    if not can(request.user, Action.SUSPEND_CLASSES, school.pk):
        raise PermissionDenied(_("Only the principal decides a class suspension."))
    classes = sel.classes_of(school.pk)
    grades = sel.grades_of(school.pk)
    cases = _open_cases(school.pk)
    options = {"classes": classes, "grades": grades, "cases": cases}
    case = None
    if request.method != "POST":
        case = sel.case_of_school(school.pk, request.GET.get("case"))
        initial = {"starts_on": timezone.localdate()}
        if case is not None:
            if case.pk not in {c.pk for c in cases}:
                cases.insert(0, case)
            initial.update({"case": case.pk, "school_class": case.school_class_id})
        form = SuspensionForm(initial=initial, **options)
        return _render_decide(request, school, form, case)
    form = SuspensionForm(request.POST, **options)
    if not form.is_valid():
        return _render_decide(request, school, form, None, status=400)
    values = form.cleaned_data
    try:
        suspension = services.suspension_decide(
            actor=request.user,
            school_id=school.pk,
            scope=values["scope"],
            school_class_id=values["school_class"],
            grade=values["grade"],
            starts_on=values["starts_on"],
            ends_on=values["ends_on"],
            reason=values["reason"],
            health_centre_opinion=values["health_centre_opinion"],
            education_office_opinion=values["education_office_opinion"],
            case_id=values.get("case"),
        )
    except ValidationError as exc:
        form = service_errors(SuspensionForm(request.POST, **options), exc)
        return _render_decide(request, school, form, None, status=400)
    messages.success(
        request, _("Suspension recorded; the school, the offices and the families have been told.")
    )
    if suspension.case_id:
        return redirect(case_url(suspension.case_id, "response-suspension"))
    return redirect(reverse("health:suspensions") + "?" + urlencode({"school": school.pk}))


def _render_decide(request, school, form, case, status=200):
    return render(
        request,
        "health/response_suspension_new.html",
        {"school": school, "form": form, "case": case, "nav_active": NAV},
        status=status,
    )


@login_required
@require_POST
def suspension_resume(request, suspension_id: int):
    require_any_of(request.user, (Action.SUSPEND_CLASSES,))
    suspension = sel.suspension_get(actor=request.user, suspension_id=suspension_id)
    prefix = f"resume-{suspension.pk}"
    form = ResumeForm(request.POST, prefix=prefix)
    if not form.is_valid():
        return _render_suspensions(request, bound=form, status=400)
    try:
        services.suspension_resume(
            actor=request.user,
            suspension_id=suspension.pk,
            resumed_on=form.cleaned_data["resumed_on"],
            note=form.cleaned_data["note"],
        )
    except services.ResponseConflict as conflict:
        return _render_suspensions(request, refusal=_first(conflict), status=409)
    except ValidationError as exc:
        form = service_errors(ResumeForm(request.POST, prefix=prefix), exc)
        return _render_suspensions(request, bound=form, status=400)
    messages.success(request, _("Resumption recorded; everyone concerned has been told."))
    return redirect(
        reverse("health:suspensions") + "?" + urlencode({"school": suspension.school_id})
    )


# ------------------------------------------------------------------ statements


def _render_statements(request, school, *, form=None, status=200):
    case = sel.case_of_school(school.pk, request.GET.get("case"))
    cases = _open_cases(school.pk)
    if case is not None and case.pk not in {c.pk for c in cases}:
        cases.insert(0, case)
    rows = list(
        sel.statement_list(
            actor=request.user, school_id=school.pk, case_id=case.pk if case else None
        )[:200]
    )
    may_publish = can(request.user, Action.MANAGE_HEALTH, school.pk)
    if may_publish and form is None:
        form = StatementForm(
            initial={"published_at": _now_local(), "case": case.pk if case else None},
            cases=cases,
        )
    return render(
        request,
        "health/response_statements.html",
        {
            "school": school,
            "case": case,
            "statements": rows,
            "export_query": urlencode({"school": school.pk, **({"case": case.pk} if case else {})}),
            "form": form if may_publish else None,
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def statements(request, school_id: int):
    school = reader_school(request.user, school_id, (Action.VIEW_SUSPENSION,))
    if request.method != "POST":
        return _render_statements(request, school)
    if not can(request.user, Action.MANAGE_HEALTH, school.pk):
        raise PermissionDenied(_("Your role does not allow this action."))
    cases = _open_cases(school.pk)
    form = StatementForm(request.POST, cases=cases)
    if not form.is_valid():
        return _render_statements(request, school, form=form, status=400)
    values = form.cleaned_data
    try:
        services.statement_publish(
            actor=request.user,
            school_id=school.pk,
            case_id=values.get("case"),
            text=values["text"],
            published_at=values["published_at"],
            approved_by=values["approved_by"],
        )
    except ValidationError as exc:
        form = service_errors(StatementForm(request.POST, cases=cases), exc)
        return _render_statements(request, school, form=form, status=400)
    messages.success(request, _("Official statement recorded; the school's staff have been told."))
    return redirect("health:statements", school.pk)


# ------------------------------------------------------------------ aftercare


def _render_aftercare(request, *, bound=None, refusal=None, status=200):
    require_any_of(request.user, (Action.VIEW_SUSPENSION,))
    mine = list(sel.my_aftercare(request.user)[:200])
    others = list(sel.aftercare_list(actor=request.user, state="open")[:200])
    mine_ids = {t.pk for t in mine}
    others = [t for t in others if t.pk not in mine_ids]
    manage = sel.school_ids_for(request.user, (Action.MANAGE_HEALTH,))
    for task in mine + others:
        prefix = f"done-{task.pk}"
        task.done_form = None
        if task.done_at is None and (task.pk in mine_ids or task.case.school_id in manage):
            task.done_form = (
                bound
                if bound is not None and bound.prefix == prefix
                else AftercareDoneForm(prefix=prefix)
            )
    return render(
        request,
        "health/response_aftercare.html",
        {"mine": mine, "others": others, "refusal": refusal, "nav_active": NAV},
        status=status,
    )


@login_required
@require_safe
def aftercare(request):
    return _render_aftercare(request)


@login_required
@require_POST
def aftercare_done(request, task_id: int):
    require_any_of(request.user, (Action.VIEW_SUSPENSION,))
    task = sel.aftercare_get(actor=request.user, task_id=task_id)
    prefix = f"done-{task.pk}"
    back_to_case = request.POST.get("back") == "case"
    form = AftercareDoneForm(request.POST, prefix=prefix)

    def again(*, bound=None, refusal=None, status):
        if back_to_case and can(request.user, Action.VIEW_HEALTH, task.case.school_id):
            forms = {f"done-{task.pk}": bound} if bound is not None else None
            return _render_case(request, task.case, forms=forms, refusal=refusal, status=status)
        return _render_aftercare(request, bound=bound, refusal=refusal, status=status)

    if not form.is_valid():
        return again(bound=form, status=400)
    try:
        services.aftercare_done(actor=request.user, task_id=task.pk, note=form.cleaned_data["note"])
    except services.ResponseConflict as conflict:
        return again(refusal=_first(conflict), status=409)
    except ValidationError as exc:
        return again(
            bound=service_errors(AftercareDoneForm(request.POST, prefix=prefix), exc), status=400
        )
    messages.success(request, _("Task done."))
    if back_to_case and can(request.user, Action.VIEW_HEALTH, task.case.school_id):
        return redirect(case_url(task.case_id, "response-aftercare"))
    return redirect("health:aftercare")


# ------------------------------------------------------------------ monitoring plans


def _render_monitoring(request, school, *, form=None, bound_end=None, refusal=None, status=200):
    today = timezone.localdate()
    current = sel.with_today(
        sel.plan_list(actor=request.user, school_id=school.pk, state="current"), today
    )
    past = list(sel.plan_list(actor=request.user, school_id=school.pk, state="past")[:50])
    may_plan = can(request.user, Action.MANAGE_HEALTH, school.pk)
    if may_plan and form is None:
        form = PlanForm(
            initial={
                "starts_on": today,
                "ends_on": today + dt.timedelta(days=services.MONITORING_DAYS - 1),
            },
            classes=sel.classes_of(school.pk),
            cases=_open_cases(school.pk),
        )
    for plan in current:
        prefix = f"end-{plan.pk}"
        plan.end_form = None
        if may_plan:
            plan.end_form = (
                bound_end
                if bound_end is not None and bound_end.prefix == prefix
                else PlanEndForm(prefix=prefix, initial={"ends_on": max(today, plan.starts_on)})
            )
    return render(
        request,
        "health/response_monitoring.html",
        {
            "school": school,
            "today": today,
            "current": current,
            "past": past,
            "form": form if may_plan else None,
            "export_query": urlencode({"school": school.pk}),
            "refusal": refusal,
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def monitoring(request, school_id: int):
    school = reader_school(request.user, school_id)
    if request.method != "POST":
        return _render_monitoring(request, school)
    if not can(request.user, Action.MANAGE_HEALTH, school.pk):
        raise PermissionDenied(_("Your role does not allow this action."))
    options = {"classes": sel.classes_of(school.pk), "cases": _open_cases(school.pk)}
    form = PlanForm(request.POST, **options)
    if not form.is_valid():
        return _render_monitoring(request, school, form=form, status=400)
    values = form.cleaned_data
    try:
        services.monitoring_plan_create(
            actor=request.user,
            school_id=school.pk,
            school_class_id=values["school_class"],
            starts_on=values["starts_on"],
            ends_on=values["ends_on"],
            checks_per_day=values["checks_per_day"],
            case_id=values.get("case"),
        )
    except ValidationError as exc:
        form = service_errors(PlanForm(request.POST, **options), exc)
        return _render_monitoring(request, school, form=form, status=400)
    messages.success(
        request, _("Monitoring plan saved; reminders go to the head teacher and the health staff.")
    )
    return redirect("health:monitoring", school.pk)


@login_required
@require_POST
def monitoring_end(request, plan_id: int):
    require_any_of(request.user, (Action.MANAGE_HEALTH,))
    plan = sel.plan_get(actor=request.user, plan_id=plan_id)
    school = sel.school_in(request.user, plan.school_id, sel.HEALTH_READERS)
    prefix = f"end-{plan.pk}"
    form = PlanEndForm(request.POST, prefix=prefix)
    if not form.is_valid():
        return _render_monitoring(request, school, bound_end=form, status=400)
    try:
        services.monitoring_plan_end(
            actor=request.user, plan_id=plan.pk, ends_on=form.cleaned_data["ends_on"]
        )
    except services.ResponseConflict as conflict:
        return _render_monitoring(request, school, refusal=_first(conflict), status=409)
    except ValidationError as exc:
        form = service_errors(PlanEndForm(request.POST, prefix=prefix), exc)
        return _render_monitoring(request, school, bound_end=form, status=400)
    messages.success(request, _("Monitoring plan ended."))
    return redirect("health:monitoring", school.pk)


urlpatterns = [
    path("schools/<int:school_id>/disinfection/", disinfections, name="disinfections"),
    path("cases/<int:case_id>/disinfection/", case_disinfection, name="case_disinfection"),
    path("suspensions/", suspensions, name="suspensions"),
    path("schools/<int:school_id>/suspensions/new/", suspension_new, name="suspension_new"),
    path("suspensions/<int:suspension_id>/resume/", suspension_resume, name="suspension_resume"),
    path("cases/<int:case_id>/no-suspension/", case_no_suspension, name="case_no_suspension"),
    path("schools/<int:school_id>/statements/", statements, name="statements"),
    path("cases/<int:case_id>/statements/", case_statement, name="case_statement"),
    path("cases/<int:case_id>/aftercare/", case_aftercare, name="case_aftercare"),
    path("aftercare/", aftercare, name="aftercare"),
    path("aftercare/<int:task_id>/done/", aftercare_done, name="aftercare_done"),
    path("schools/<int:school_id>/monitoring/", monitoring, name="monitoring"),
    path("monitoring/<int:plan_id>/end/", monitoring_end, name="monitoring_end"),
    path("cases/<int:case_id>/response/", case_response, name="case_response"),
]
