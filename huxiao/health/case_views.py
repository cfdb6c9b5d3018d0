"""Pages of the suspected-case procedure (issue 9 items 5–6; ADR 0032 "Case"), phone first:
report a case from the class, follow the procedure as a checklist in §3 order, the response
groups, the contacts with their reasons, the export. Parse → call a selector/service →
render.

Nobody with the needed action anywhere gets 403; a class or case out of reach 404; a step
the role does not allow 403 with the reason, in place; a step the state does not allow 409
with the reason; a form with errors 400 with the errors in place; a success redirects.
Every page that shows a case logs the read (`log_health_read`).

- `health:case_report` /health/classes/<class_id>/cases/new/?child=&check=
- `health:case_reported` /health/cases/<id>/reported/: the reporter's confirmation
- `health:cases` /health/cases/?status=&school=
- `health:case` /health/cases/<id>/ (+ POST steps, groups, close)
- `health:case_contacts` /health/cases/<id>/contacts/ (+ POST record, notify, window)
- `health:case_contacts_export` /health/cases/<id>/contacts/export/ (.xlsx)
"""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.core.names import person_name
from huxiao.core.roles import Action
from huxiao.core.scoping import can, visible_school_ids
from huxiao.duty.duty_selectors import require_any, school_get
from huxiao.duty.duty_views import service_errors
from huxiao.health import case_selectors as sel
from huxiao.health import case_services as services
from huxiao.health.case_forms import (
    STEP_FORMS,
    CloseForm,
    MemberForm,
    ReportForm,
    WindowForm,
)
from huxiao.health.choices import CaseStatus, Step
from huxiao.health.contacts import case_contacts, contact_window
from huxiao.health.models import CaseContact, ChildCheck
from huxiao.health.reads import log_health_read
from huxiao.health.steps import steps_done
from huxiao.people.models import Child, SchoolClass

NAV = "health_cases"
PAGE_SIZE = 30
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _pk(value) -> int | None:
    try:
        value = int(value)
    except (TypeError, ValueError):
        return None
    return value if 1 <= value <= 2**63 - 1 else None


# ------------------------------------------------------------------ reporting


def _class_for_report(user, class_id) -> SchoolClass:
    school_class = (
        SchoolClass.objects.visible_to(user, Action.RECORD_HEALTH)
        .filter(pk=_pk(class_id) or 0)
        .select_related("school")
        .first()
    )
    if school_class is None:
        raise Http404
    return school_class


def _report_initial(user, school_class, data) -> dict:
    """The report prefilled from the check that found the child (?check=) or the child
    (?child=): symptoms, temperature, onset = the day of the check."""
    initial: dict = {}
    child = _pk(data.get("child"))
    if child:
        initial["child"] = child
    check_id = _pk(data.get("check"))
    if check_id:
        check = (
            ChildCheck.objects.visible_to(user, Action.RECORD_HEALTH)
            .filter(pk=check_id, child__school_class=school_class)
            .first()
        )
        if check is not None:
            initial.update(
                child=check.child_id,
                check=check.pk,
                symptoms=list(check.symptoms or []),
                temperature=str(check.temperature) if check.temperature is not None else "",
                onset_date=check.date,
            )
    initial.setdefault("onset_date", timezone.localdate())
    return initial


def _render_report(request, school_class, form, *, refusal=None, existing=None, status=200):
    return render(
        request,
        "health/case_report.html",
        {
            "school_class": school_class,
            "school": school_class.school,
            "form": form,
            "refusal": refusal,
            "existing": existing,
            "may_view": can(request.user, Action.VIEW_HEALTH, school_class.school_id),
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def case_report(request, class_id: int):
    require_any(request.user, Action.RECORD_HEALTH)
    school_class = _class_for_report(request.user, class_id)
    children = Child.objects.filter(school_class=school_class, is_active=True).order_by(
        "name", "id"
    )
    if request.method != "POST":
        form = ReportForm(
            children=children, initial=_report_initial(request.user, school_class, request.GET)
        )
        return _render_report(request, school_class, form)
    form = ReportForm(request.POST, children=children)
    if not form.is_valid():
        return _render_report(request, school_class, form, status=400)
    values = form.cleaned_data
    try:
        case = services.case_report(
            actor=request.user,
            class_id=school_class.pk,
            child_id=values["child"],
            symptoms=values["symptoms"],
            temperature=values["temperature"],
            onset_date=values["onset_date"],
            suspected_disease=values["suspected_disease"],
            notifiable=values["notifiable"],
            note=values["note"],
            check_id=values["check"],
            contact_window_days=values["contact_window_days"],
        )
    except services.CaseConflict as conflict:
        return _render_report(
            request,
            school_class,
            form,
            refusal=conflict.messages[0],
            existing=conflict.case,
            status=409,
        )
    except ValidationError as exc:
        return _render_report(request, school_class, service_errors(form, exc), status=400)
    if can(request.user, Action.VIEW_HEALTH, case.school_id):
        messages.success(request, _("Suspected case reported; the duty leader has been told."))
        return redirect("health:case", case.pk)
    return redirect("health:case_reported", case.pk)


@login_required
@require_safe
def case_reported(request, case_id: int):
    if not (
        visible_school_ids(request.user, Action.RECORD_HEALTH)
        or visible_school_ids(request.user, Action.VIEW_HEALTH)
    ):
        raise PermissionDenied(_("Your role does not allow this."))
    case = sel.reported_case_get(actor=request.user, case_id=case_id)
    log_health_read(actor=request.user, obj=case, purpose="case report confirmation")
    from django.contrib.auth import get_user_model

    told = get_user_model().objects.filter(pk__in=sel.duty_leaders(case.school_id))
    return render(
        request,
        "health/case_reported.html",
        {
            "case": case,
            "school": case.school,
            "duty_leaders": [person_name(u) for u in told],
            "nav_active": NAV,
        },
    )


# ------------------------------------------------------------------ the list


def list_filters(actor, query):
    """The schools whose cases the actor sees (403 when none), the school chosen (404 out
    of reach) and the status: the page and its export."""
    ids = require_any(actor, Action.VIEW_HEALTH)
    school = None
    raw = query.get("school")
    if raw:
        school = school_get(actor=actor, school_id=raw, action=Action.VIEW_HEALTH)
    status = query.get("status") or ""
    if status not in ("open", *CaseStatus.values):
        status = ""
    return ids, school, status


@login_required
@require_safe
def case_list(request):
    ids, school, status = list_filters(request.user, request.GET)
    cases = Paginator(
        sel.case_list(actor=request.user, status=status, school_id=school.pk if school else None),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "health/case_list.html",
        {
            "cases": cases,
            "school": school,
            "status": status,
            "statuses": [("open", _("Open")), *CaseStatus.choices],
            "several_schools": len(ids) > 1,
            "nav_active": NAV,
        },
    )


# ------------------------------------------------------------------ one case


def _step_forms(request, case, rows, bound=None) -> None:
    """Give each step the user may record now its form (`bound` in place of a fresh one)."""
    first = True
    for row in rows:
        row.form = None
        row.open = False
        form_class = STEP_FORMS.get(row.step)
        if row.may_act and form_class is not None:
            if bound is not None and bound.prefix == row.step:
                row.form = bound
                row.open = True
            else:
                row.form = form_class(prefix=row.step)
                # The first step to do is open; the others a tap away (a phone's screen).
                row.open = first and bound is None
            first = False


def _render_case(
    request, case, *, bound=None, member_form=None, close_form=None, refusal=None, status=200
):
    log_health_read(actor=request.user, obj=case, purpose="case page")
    done = steps_done(case)
    rows = sel.checklist(request.user, case, done)
    _step_forms(request, case, rows, bound)
    may_groups = sel.may_step(request.user, case, Step.GROUPS) and not sel.order_problem(
        case, Step.GROUPS, done
    )
    may_manage = sel.may_manage(request.user, case) and sel.is_open(case)
    contacts = CaseContact.objects.filter(case=case)
    return render(
        request,
        "health/case_detail.html",
        {
            "case": case,
            "case_symptoms": sel.symptom_labels(case.symptoms),
            "school": case.school,
            "rows": rows,
            "done": done,
            "groups": sel.groups_of(case),
            "may_groups": may_groups,
            "member_form": member_form
            or (MemberForm(staff=sel.staff_logins(case.school_id)) if may_groups else None),
            "may_close": may_manage and Step.OUTCOME in done,
            "close_form": close_form or CloseForm(prefix="close"),
            "contacts_count": contacts.count(),
            "contacts_notified": contacts.filter(notified_at__isnull=False).count(),
            "refusal": refusal,
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_safe
def case_detail(request, case_id: int):
    require_any(request.user, Action.VIEW_HEALTH)
    return _render_case(request, sel.case_get(actor=request.user, case_id=case_id))


def _case_url(case_id: int, anchor: str = "") -> str:
    return reverse("health:case", args=[case_id]) + (f"#{anchor}" if anchor else "")


def _run(request, case, action, *, bound=None, member_form=None, close_form=None):
    """Run a service call for the case page; re-render it with the refusal or errors."""
    try:
        action()
    except PermissionDenied as exc:
        return _render_case(request, case, refusal=str(exc), status=403)
    except services.CaseConflict as conflict:
        return _render_case(request, case, refusal=conflict.messages[0], status=409)
    except ValidationError as exc:
        if bound is not None:
            bound = service_errors(bound, exc)
        elif member_form is not None:
            member_form = service_errors(member_form, exc)
        elif close_form is not None:
            close_form = service_errors(close_form, exc)
        else:
            return _render_case(request, case, refusal=exc.messages[0], status=400)
        return _render_case(
            request,
            case,
            bound=bound,
            member_form=member_form,
            close_form=close_form,
            status=400,
        )
    return None


@login_required
@require_POST
def case_step(request, case_id: int, step: str):
    require_any(request.user, Action.VIEW_HEALTH)
    case = sel.case_get(actor=request.user, case_id=case_id)
    form_class = STEP_FORMS.get(step)
    if form_class is None:
        raise Http404
    form = form_class(request.POST, prefix=step)
    if not form.is_valid():
        if not sel.may_step(request.user, case, step):
            return _render_case(request, case, refusal=sel.refusal(step), status=403)
        return _render_case(request, case, bound=form, status=400)
    values = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
    failed = _run(
        request,
        case,
        lambda: services.case_step(actor=request.user, case_id=case.pk, step=step, **values),
        bound=form,
    )
    if failed is not None:
        return failed
    messages.success(request, _("Recorded: %(step)s.") % {"step": Step(step).label})
    return redirect(_case_url(case.pk, f"step-{step}"))


@login_required
@require_POST
def case_member_add(request, case_id: int):
    require_any(request.user, Action.VIEW_HEALTH)
    case = sel.case_get(actor=request.user, case_id=case_id)
    form = MemberForm(request.POST, staff=sel.staff_logins(case.school_id))
    if not form.is_valid():
        if not sel.may_step(request.user, case, Step.GROUPS):
            return _render_case(request, case, refusal=sel.refusal(Step.GROUPS), status=403)
        return _render_case(request, case, member_form=form, status=400)
    failed = _run(
        request,
        case,
        lambda: services.case_group_member_add(
            actor=request.user, case_id=case.pk, **form.cleaned_data
        ),
        member_form=form,
    )
    if failed is not None:
        return failed
    messages.success(request, _("Added to the group."))
    return redirect(_case_url(case.pk, "groups"))


@login_required
@require_POST
def case_member_remove(request, case_id: int, member_id: int):
    require_any(request.user, Action.VIEW_HEALTH)
    case = sel.case_get(actor=request.user, case_id=case_id)
    failed = _run(
        request,
        case,
        lambda: services.case_group_member_remove(
            actor=request.user, case_id=case.pk, member_id=member_id
        ),
    )
    if failed is not None:
        return failed
    messages.success(request, _("Taken out of the group."))
    return redirect(_case_url(case.pk, "groups"))


@login_required
@require_POST
def case_close(request, case_id: int):
    require_any(request.user, Action.VIEW_HEALTH)
    case = sel.case_get(actor=request.user, case_id=case_id)
    form = CloseForm(request.POST, prefix="close")
    if not form.is_valid():
        return _render_case(request, case, close_form=form, status=400)
    failed = _run(
        request,
        case,
        lambda: services.case_close(
            actor=request.user, case_id=case.pk, note=form.cleaned_data["note"]
        ),
        close_form=form,
    )
    if failed is not None:
        return failed
    messages.success(request, _("Case closed."))
    return redirect("health:case", case.pk)


# ------------------------------------------------------------------ contacts


def _notified(case) -> dict[tuple, object]:
    return {
        ("child" if row.child_id else "staff", row.child_id or row.staff_id): row
        for row in CaseContact.objects.filter(case=case).select_related("notified_by")
    }


def _render_contacts(request, case, *, window_form=None, refusal=None, status=200):
    log_health_read(actor=request.user, obj=case, purpose="case contacts")
    contacts = case_contacts(case)
    rows = _notified(case)
    for contact in contacts:
        contact.record = rows.get((contact.kind, contact.id))
    start, end = contact_window(case)
    done = steps_done(case)
    may_manage = sel.may_manage(request.user, case)
    problem = sel.order_problem(case, Step.CONTACTS_TRACED, done)
    return render(
        request,
        "health/case_contacts.html",
        {
            "case": case,
            "school": case.school,
            "contacts": contacts,
            "children_count": sum(c.kind == "child" for c in contacts),
            "staff_count": sum(c.kind == "staff" for c in contacts),
            "start": start,
            "end": end,
            "done": done,
            "may_trace": may_manage and not problem,
            "problem": problem if may_manage else "",
            "pending": sum(1 for c in contacts if c.record is None or c.record.notified_at is None),
            "window_form": window_form
            or (
                WindowForm(
                    initial={
                        "onset_date": case.onset_date,
                        "contact_window_days": case.contact_window_days,
                    }
                )
                if may_manage and sel.is_open(case)
                else None
            ),
            "extra_check_url": _extra_check_url(case.school_class_id),
            "refusal": refusal,
            "nav_active": NAV,
        },
        status=status,
    )


def _extra_check_url(class_id: int) -> str:
    """The check area's extra check of the class (its page, when it is there)."""
    try:
        return reverse("health:check_entry", args=[class_id, "extra"])
    except NoReverseMatch:
        return f"/health/classes/{class_id}/checks/extra/"


@login_required
@require_safe
def case_contacts_page(request, case_id: int):
    require_any(request.user, Action.VIEW_HEALTH)
    return _render_contacts(request, sel.case_get(actor=request.user, case_id=case_id))


def _contacts_action(request, case_id: int, action):
    require_any(request.user, Action.VIEW_HEALTH)
    case = sel.case_get(actor=request.user, case_id=case_id)
    try:
        message = action(case)
    except PermissionDenied as exc:
        return _render_contacts(request, case, refusal=str(exc), status=403)
    except services.CaseConflict as conflict:
        return _render_contacts(request, case, refusal=conflict.messages[0], status=409)
    except ValidationError as exc:
        return _render_contacts(request, case, refusal=exc.messages[0], status=400)
    messages.success(request, message)
    return redirect("health:case_contacts", case.pk)


@login_required
@require_POST
def case_contacts_record(request, case_id: int):
    def record(case):
        n = services.case_contacts_record(actor=request.user, case_id=case.pk)
        return _("%(n)s close contacts recorded as traced.") % {"n": n}

    return _contacts_action(request, case_id, record)


@login_required
@require_POST
def case_contacts_notify(request, case_id: int):
    def notify(case):
        result = services.case_contacts_notify(actor=request.user, case_id=case.pk)
        if not result.notified and not result.unreachable:
            return _("Every contact has already been told.")
        text = _("%(n)s contacts told (%(p)s phones).") % {
            "n": result.notified,
            "p": result.phones,
        }
        if result.unreachable:
            text += " " + _("%(m)s have no phone on record: call them.") % {"m": result.unreachable}
        return text

    return _contacts_action(request, case_id, notify)


@login_required
@require_POST
def case_window(request, case_id: int):
    require_any(request.user, Action.VIEW_HEALTH)
    case = sel.case_get(actor=request.user, case_id=case_id)
    form = WindowForm(request.POST)
    if not form.is_valid():
        if not sel.may_manage(request.user, case):
            return _render_contacts(request, case, refusal=sel.refusal(Step.OUTCOME), status=403)
        return _render_contacts(request, case, window_form=form, status=400)
    try:
        services.case_window_set(actor=request.user, case_id=case.pk, **form.cleaned_data)
    except PermissionDenied as exc:
        return _render_contacts(request, case, refusal=str(exc), status=403)
    except services.CaseConflict as conflict:
        return _render_contacts(request, case, refusal=conflict.messages[0], status=409)
    except ValidationError as exc:
        return _render_contacts(request, case, window_form=service_errors(form, exc), status=400)
    messages.success(request, _("Contact window changed."))
    return redirect("health:case_contacts", case.pk)


@login_required
@require_safe
def case_contacts_export(request, case_id: int):
    require_any(request.user, Action.VIEW_HEALTH)
    case = sel.case_get(actor=request.user, case_id=case_id)
    log_health_read(actor=request.user, obj=case, purpose="case contacts export")
    data = contacts_workbook(case, case_contacts(case))
    response = HttpResponse(data, content_type=XLSX_TYPE)
    day = timezone.localdate().strftime("%Y%m%d")
    response["Content-Disposition"] = (
        f'attachment; filename="huxiao-case-{case.pk}-contacts-{day}.xlsx"'
    )
    return response


def contacts_workbook(case, contacts) -> bytes:
    """The contact list as an .xlsx: name, class, reasons, dates, guardians, phones (user
    text defused so that a name like "=HYPERLINK(…)" stays text)."""
    import openpyxl

    from huxiao.imports.columns import spreadsheet_safe

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(_("Close contacts")[:31])
    sheet.append([_("Name"), _("Class"), _("Reasons"), _("Dates"), _("Guardians"), _("Phones")])
    for c in contacts:
        reasons = "；".join(f"{r.label}（{r.detail}）" if r.detail else r.label for r in c.reasons)
        dates = "；".join(
            f"{r.label}: " + "、".join(d.strftime("%m-%d") for d in r.dates) for r in c.reasons
        )
        if c.kind == "child":
            guardians = "、".join(f"{g.name}（{g.relationship}）" for g in c.guardians)
            phones = "、".join(g.phone for g in c.guardians if g.phone)
        else:
            guardians = _("Staff")
            phones = c.phone
        sheet.append(
            [
                spreadsheet_safe(value)
                for value in (c.name, c.class_name, reasons, dates, guardians, phones)
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


urlpatterns = [
    path("classes/<int:class_id>/cases/new/", case_report, name="case_report"),
    path("cases/", case_list, name="cases"),
    path("cases/<int:case_id>/", case_detail, name="case"),
    path("cases/<int:case_id>/reported/", case_reported, name="case_reported"),
    path("cases/<int:case_id>/steps/<str:step>/", case_step, name="case_step"),
    path("cases/<int:case_id>/groups/add/", case_member_add, name="case_member_add"),
    path(
        "cases/<int:case_id>/groups/<int:member_id>/remove/",
        case_member_remove,
        name="case_member_remove",
    ),
    path("cases/<int:case_id>/close/", case_close, name="case_close"),
    path("cases/<int:case_id>/contacts/", case_contacts_page, name="case_contacts"),
    path("cases/<int:case_id>/contacts/record/", case_contacts_record, name="case_contacts_record"),
    path("cases/<int:case_id>/contacts/notify/", case_contacts_notify, name="case_contacts_notify"),
    path(
        "cases/<int:case_id>/contacts/export/",
        case_contacts_export,
        name="case_contacts_export",
    ),
    path("cases/<int:case_id>/window/", case_window, name="case_window"),
]
