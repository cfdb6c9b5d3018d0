"""Incident pages: parse → call a selector or service → render.

The detail page has one working area (`#incident-work`: groups, tasks, note form,
timeline). Every form and button in it posts with htmx and the write view answers with the
area re-rendered, because one write changes several parts of it (a new task also adds a
timeline entry). As in the people pages, a failed htmx write answers 200 with the area and
the errors in place (htmx swaps only 2xx), and a plain form post answers 400 with the full
page; a successful plain post redirects.

Permissions: the incident comes from the scoped selector (out of scope is 404); write
views then check the right to manage it before reading the form (wrong role is 403), and
the services check again.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.alarms.selectors import alarm_get
from huxiao.incidents import rules, selectors, services
from huxiao.incidents.choices import IncidentStatus
from huxiao.incidents.forms import CloseForm, CommanderForm, MemberForm, NoteForm, TaskForm
from huxiao.people.forms import ServiceForm

WORK_TEMPLATE = "incidents/_work.html"


# ------------------------------------------------------------------ helpers


def _is_partial(request) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def _vary_on_htmx(response):
    patch_vary_headers(response, ("HX-Request",))
    return response


def _submit(form: ServiceForm, call) -> bool:
    if not form.is_valid():
        return False
    try:
        call(**form.service_kwargs())
    except ValidationError as exc:
        form.add_service_errors(exc)
        return False
    return True


def _forms(incident, data=None, *, bound: str = "") -> dict:
    """Blank forms for the working area; the one named `bound` gets the posted data."""
    responders = selectors.responder_memberships(incident=incident)

    def make(name, cls, **kwargs):
        return cls(data if name == bound else None, auto_id=f"{name}-%s", **kwargs)

    return {
        "member_form": make("member", MemberForm, responders=responders),
        "task_form": make("task", TaskForm, responders=responders),
        "note_form": make("note", NoteForm),
        "commander_form": make(
            "commander",
            CommanderForm,
            responders=responders,
            initial={"person": _commander_membership(incident, responders)},
        ),
    }


def _commander_membership(incident, responders):
    if incident.commander_id is None:
        return None
    return next((m.pk for m in responders if m.user_id == incident.commander_id), None)


def _work_context(request, incident, *, forms=None, notice="", error="") -> dict:
    can_edit = incident.is_open and rules.can_manage(request.user, incident.school_id)
    context = {
        "incident": incident,
        "groups": selectors.incident_groups(incident=incident),
        "tasks": selectors.incident_tasks(incident=incident),
        "timeline": selectors.incident_timeline(incident=incident),
        "can_edit": can_edit,
        "now": timezone.now(),
        "notice": notice,
        "error": error,
        "user_id": request.user.pk,
    }
    if can_edit:
        context.update(forms or _forms(incident))
    return context


def _detail_page(request, incident, *, forms=None, status=200, error=""):
    context = _work_context(request, incident, forms=forms, error=error)
    context.update(
        alarm_steps=selectors.alarm_response_steps(incident.alarm) if incident.alarm_id else [],
        can_close=context["can_edit"],
        nav_active="incidents",
    )
    return render(request, "incidents/incident_detail.html", context, status=status)


def _answer(request, incident, *, ok: bool, notice: str, forms=None, error=""):
    """The response to a write from the working area (see the module docstring)."""
    if ok:
        if _is_partial(request):
            return render(request, WORK_TEMPLATE, _work_context(request, incident, notice=notice))
        messages.success(request, notice)
        return redirect("incidents:detail", incident_id=incident.pk)
    if _is_partial(request):
        return render(
            request, WORK_TEMPLATE, _work_context(request, incident, forms=forms, error=error)
        )
    return _detail_page(request, incident, forms=forms, status=400, error=error)


def _form_write(request, incident, name: str, call, notice: str):
    rules.require_manage(request.user, incident.school_id)
    forms = _forms(incident, request.POST, bound=name)
    ok = _submit(forms[f"{name}_form"], call)
    return _answer(request, incident, ok=ok, notice=notice, forms=forms)


def _button_write(request, incident, call, notice: str):
    """A write without fields (remove, make leader, done): a refusal is shown as an error."""
    try:
        call()
    except ValidationError as exc:
        return _answer(request, incident, ok=False, notice="", error=" ".join(exc.messages))
    return _answer(request, incident, ok=True, notice=notice)


def _incident(request, incident_id):
    return selectors.incident_get(actor=request.user, incident_id=incident_id)


# ------------------------------------------------------------------ pages


def list_filters(query) -> dict:
    """The list's filters from its query string (the page and its export)."""
    status = query.get("status", "")
    return {"status": status if status in IncidentStatus.values else ""}


@login_required
@require_safe
def incident_list(request):
    status = list_filters(request.GET)["status"]
    incidents = selectors.incident_list(actor=request.user, status=status)[:200]
    return render(
        request,
        "incidents/incident_list.html",
        {
            "incidents": incidents,
            "status": status,
            "statuses": IncidentStatus.choices,
            "nav_active": "incidents",
        },
    )


@login_required
@require_POST
def open_from_alarm(request, alarm_id: int):
    """The alarm page's "open incident" button; pressing it again opens the same one."""
    alarm = alarm_get(actor=request.user, alarm_id=alarm_id)
    try:
        incident, created = services.incident_open_from_alarm(actor=request.user, alarm=alarm)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        back = request.headers.get("referer", "")
        if not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            back = reverse("incidents:list")
        # Not redirect(): it would take a Referer that is not a URL for a view's name.
        return HttpResponseRedirect(back)
    if created:
        messages.success(request, _("Incident opened."))
    url = reverse("incidents:detail", args=[incident.pk])
    if _is_partial(request):
        # An htmx button on the alarm page: go to the incident as a full page.
        response = HttpResponse()
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@login_required
@require_safe
def incident_detail(request, incident_id: int):
    incident = _incident(request, incident_id)
    if _is_partial(request):
        response = render(request, WORK_TEMPLATE, _work_context(request, incident))
    else:
        response = _detail_page(request, incident)
    return _vary_on_htmx(response)


@login_required
@require_POST
def commander_set(request, incident_id: int):
    incident = _incident(request, incident_id)
    rules.require_manage(request.user, incident.school_id)
    forms = _forms(incident, request.POST, bound="commander")
    ok = _submit(
        forms["commander_form"],
        lambda **kw: services.incident_commander_set(actor=request.user, incident=incident, **kw),
    )
    if ok:
        messages.success(request, _("Commander assigned."))
        return redirect("incidents:detail", incident_id=incident.pk)
    return _detail_page(request, incident, forms=forms, status=400)


@login_required
@require_POST
def member_add(request, incident_id: int):
    incident = _incident(request, incident_id)
    return _form_write(
        request,
        incident,
        "member",
        lambda **kw: services.incident_member_add(actor=request.user, incident=incident, **kw),
        _("Member added."),
    )


@login_required
@require_POST
def member_remove(request, incident_id: int, member_id: int):
    incident = _incident(request, incident_id)
    rules.require_manage(request.user, incident.school_id)
    member = selectors.member_get(incident=incident, member_id=member_id)
    return _button_write(
        request,
        incident,
        lambda: services.incident_member_remove(actor=request.user, member=member),
        _("Member removed."),
    )


@login_required
@require_POST
def member_leader(request, incident_id: int, member_id: int):
    incident = _incident(request, incident_id)
    rules.require_manage(request.user, incident.school_id)
    member = selectors.member_get(incident=incident, member_id=member_id)
    return _button_write(
        request,
        incident,
        lambda: services.incident_leader_set(
            actor=request.user, incident=incident, group_kind=member.group.kind, user=member.user
        ),
        _("Group leader assigned."),
    )


@login_required
@require_POST
def task_add(request, incident_id: int):
    incident = _incident(request, incident_id)
    return _form_write(
        request,
        incident,
        "task",
        lambda **kw: services.task_add(actor=request.user, incident=incident, **kw),
        _("Task assigned."),
    )


@login_required
@require_POST
def task_complete(request, incident_id: int, task_id: int):
    incident = _incident(request, incident_id)
    task = selectors.task_get(incident=incident, task_id=task_id)
    if not rules.can_complete_task(request.user, task):
        raise PermissionDenied(_("Your role does not allow this action."))
    return _button_write(
        request,
        incident,
        lambda: services.task_complete(
            actor=request.user, task=task, note=request.POST.get("note", "")
        ),
        _("Task done."),
    )


@login_required
@require_POST
def note_add(request, incident_id: int):
    incident = _incident(request, incident_id)
    return _form_write(
        request,
        incident,
        "note",
        lambda **kw: services.incident_note_add(actor=request.user, incident=incident, **kw),
        _("Note added."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def incident_close(request, incident_id: int):
    incident = _incident(request, incident_id)
    rules.require_manage(request.user, incident.school_id)
    if not incident.is_open:
        return redirect("incidents:report", incident_id=incident.pk)
    form = CloseForm(request.POST or None, auto_id="close-%s")
    if request.method == "POST":
        closed = _submit(
            form,
            lambda **kw: services.incident_close(actor=request.user, incident=incident, **kw),
        )
        if closed:
            messages.success(request, _("Incident closed."))
            return redirect("incidents:report", incident_id=incident.pk)
    open_tasks = [t for t in selectors.incident_tasks(incident=incident) if not t.is_done]
    return render(
        request,
        "incidents/incident_close.html",
        {
            "incident": incident,
            "form": form,
            "open_tasks": open_tasks,
            "nav_active": "incidents",
        },
        status=400 if form.is_bound else 200,
    )


def incident_report_context(incident) -> dict:
    """What the closing report shows; the printable page and its PDF (reports app) share it."""
    tasks = selectors.incident_tasks(incident=incident)
    return {
        "incident": incident,
        "groups": selectors.incident_groups(incident=incident),
        "tasks": tasks,
        "open_task_count": sum(1 for t in tasks if not t.is_done),
        "timeline": selectors.incident_timeline(incident=incident),
        "alarm_steps": (
            selectors.alarm_response_steps(incident.alarm) if incident.alarm_id else []
        ),
        "printed_at": timezone.now(),
    }


@login_required
@require_safe
def incident_report(request, incident_id: int):
    """The closing report, laid out for printing (a draft while the incident is open)."""
    incident = _incident(request, incident_id)
    return render(request, "incidents/incident_report.html", incident_report_context(incident))
