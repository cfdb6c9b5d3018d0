"""Pages of surroundings tasks: the task list (a department's own tasks, or the tasks of
the giving side's schools), the form to give a task, one task with its timeline and the
forms of the moves the user may make.

Someone who neither gives tasks nor belongs to a department is 403; a task outside the
user's sight is 404; a move the role does not allow is 403, one the state does not allow
409 with the reason; a form with errors is 400; a success redirects.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.core.widgets import IsoDateInput as _DateInput
from huxiao.hazards import hazard_selectors
from huxiao.hazards import task_selectors as selectors
from huxiao.hazards import task_services as services
from huxiao.hazards.choices import DepartmentKind, TaskStatus
from huxiao.hazards.hazard_forms import ServiceErrorsMixin, _blank
from huxiao.hazards.hazard_services import local_today
from huxiao.hazards.hazard_views import MAX_ID, _id
from huxiao.orgs.models import Organization

PAGE_SIZE = 30
NAV = "hazards_tasks"


def _query_id(raw) -> int | None:
    raw = (raw or "").strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= 18 and 0 < int(raw) <= MAX_ID:
        return int(raw)
    return None


# ------------------------------------------------------------------ forms


class TaskFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=_blank(TaskStatus.choices, gettext_lazy("All")),
    )
    overdue = forms.BooleanField(label=gettext_lazy("Overdue only"), required=False)


class TaskForm(ServiceErrorsMixin, forms.Form):
    school = forms.TypedChoiceField(label=gettext_lazy("School"), coerce=int)
    department = forms.TypedChoiceField(label=gettext_lazy("Department"), coerce=int)
    department_kind = forms.ChoiceField(
        label=gettext_lazy("Kind of department"),
        choices=_blank(DepartmentKind.choices, gettext_lazy("Choose…")),
    )
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("Description"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    location = forms.CharField(label=gettext_lazy("Location"), required=False, max_length=200)
    deadline = forms.DateField(label=gettext_lazy("Deadline"), widget=_DateInput())
    assigned_by_org = forms.TypedChoiceField(label=gettext_lazy("Given by"), coerce=int)

    def __init__(self, *args, schools=(), departments=(), offices=(), hazard=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = _blank(
            [(d.pk, d.name) for d in departments], gettext_lazy("Choose…")
        )
        self.fields["assigned_by_org"].choices = [(o.pk, o.name) for o in offices]
        if hazard is not None:
            del self.fields["school"]
            self.fields["title"].initial = hazard.title
            self.fields["description"].initial = hazard.description
        else:
            self.fields["school"].choices = _blank(
                [(s.pk, s.name) for s in schools], gettext_lazy("Choose…")
            )


class NoteForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class FeedbackForm(ServiceErrorsMixin, forms.Form):
    # Required by the service (after the rights and the state).
    feedback = forms.CharField(
        label=gettext_lazy("What was done"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReturnForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


MOVE_FORMS = {
    "accept": NoteForm,
    "feedback": FeedbackForm,
    "confirm": NoteForm,
    "return": ReturnForm,
}
MOVE_LABELS = {
    "accept": gettext_lazy("Accept the task"),
    "feedback": gettext_lazy("Report back"),
    "confirm": gettext_lazy("Confirm done"),
    "return": gettext_lazy("Return with a reason"),
}


# ------------------------------------------------------------------ list


def list_filters(actor, query):
    """The list's filter form and filters (the page and its export); 403 for someone who
    neither gives tasks nor belongs to a department."""
    selectors.require_tasks(actor)
    form = TaskFilterForm(query or None)
    filters = selectors.TaskFilters()
    if form.is_bound and form.is_valid():
        filters = selectors.TaskFilters(
            status=form.cleaned_data["status"], overdue=form.cleaned_data["overdue"]
        )
    return form, filters


@login_required
@require_safe
def task_list(request):
    form, filters = list_filters(request.user, request.GET)
    today = local_today()
    qs = selectors.task_list(actor=request.user, filters=filters, today=today)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    departments = selectors.department_ids(request.user)
    return render(
        request,
        "hazards/tasks/list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "today": today,
            "departments": Organization.objects.filter(pk__in=departments).order_by("name"),
            "can_give": bool(selectors.giver_school_ids(request.user)),
            "nav_active": NAV,
        },
    )


# ------------------------------------------------------------------ new


@login_required
@require_http_methods(["GET", "POST"])
def task_new(request):
    ids = selectors.giver_school_ids(request.user)
    if not ids:
        raise PermissionDenied
    hazard = None
    raw = request.GET.get("hazard")
    hazard_id = _query_id(raw)
    if raw and hazard_id is None:
        raise Http404
    if hazard_id is not None:
        hazard = hazard_selectors.hazard_get(actor=request.user, hazard_id=hazard_id)
        if not services.may_give(request.user, hazard.school):
            raise PermissionDenied
    schools = list(
        Organization.objects.filter(pk__in=ids).only("pk", "name", "region_id").order_by("name")
    )
    departments = services.department_candidates({s.region_id for s in schools})
    offices = services.actor_giver_offices(request.user)
    initial = {}
    school_id = _query_id(request.GET.get("school"))
    if school_id in ids:
        initial["school"] = school_id
    form = TaskForm(
        request.POST or None,
        schools=schools,
        departments=departments,
        offices=offices,
        hazard=hazard,
        initial=initial,
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            school = None
            if hazard is None:
                school = Organization.objects.filter(pk=data["school"]).first()
            try:
                task = services.task_create(
                    actor=request.user,
                    school=school,
                    hazard=hazard,
                    department=next((d for d in departments if d.pk == data["department"]), None),
                    department_kind=data["department_kind"],
                    title=data["title"],
                    description=data["description"],
                    location=data["location"],
                    deadline=data["deadline"],
                    assigned_by_org=next(
                        (o for o in offices if o.pk == data["assigned_by_org"]), None
                    ),
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("The task has been given to the department."))
                return redirect("hazards:task_detail", task.pk)
    return render(
        request,
        "hazards/tasks/form.html",
        {"form": form, "hazard": hazard, "nav_active": NAV},
        status=status,
    )


# ------------------------------------------------------------------ detail and moves


def _render_detail(request, task, *, bound=None, refusal=None, status=200):
    forms_ = []
    for name in services.allowed_moves(request.user, task):
        form = (
            bound if bound is not None and bound.prefix == name else MOVE_FORMS[name](prefix=name)
        )
        forms_.append(
            {
                "name": name,
                "label": str(MOVE_LABELS[name]),
                "form": form,
                "danger": name == "return",
            }
        )
    return render(
        request,
        "hazards/tasks/detail.html",
        {
            "task": task,
            "events": list(task.events.all()),
            "overdue": selectors.is_overdue(task),
            "move_forms": forms_,
            "refusal": refusal,
            "nav_active": NAV,
        },
        status=status,
    )


def _task(request, task_id: int):
    selectors.require_tasks(request.user)
    return selectors.task_get(actor=request.user, task_id=_id(task_id))


@login_required
@require_safe
def task_detail(request, task_id: int):
    return _render_detail(request, _task(request, task_id))


@login_required
@require_POST
def task_move(request, task_id: int, move: str):
    if move not in MOVE_FORMS:
        raise Http404
    task = _task(request, task_id)
    form = MOVE_FORMS[move](request.POST, prefix=move)
    if not form.is_valid():
        return _render_detail(request, task, bound=form, status=400)
    data = form.cleaned_data
    actor = request.user
    try:
        if move == "accept":
            services.task_accept(actor=actor, task=task, note=data["note"])
        elif move == "feedback":
            services.task_feedback(actor=actor, task=task, feedback=data["feedback"])
        elif move == "confirm":
            services.task_confirm(actor=actor, task=task, note=data["note"])
        else:
            services.task_return(actor=actor, task=task, reason=data["reason"])
    except services.TaskTransitionRefused as refused:
        task = _task(request, task_id)
        return _render_detail(request, task, refusal=refused.messages[0], status=409)
    except ValidationError as exc:
        form.add_service_errors(exc)
        task = _task(request, task_id)
        return _render_detail(request, task, bound=form, status=400)
    messages.success(request, _("Saved."))
    return redirect("hazards:task_detail", task.pk)


urlpatterns = [
    path("tasks/", task_list, name="task_list"),
    path("tasks/new/", task_new, name="task_new"),
    path("tasks/<int:task_id>/", task_detail, name="task_detail"),
    path("tasks/<int:task_id>/<slug:move>/", task_move, name="task_move"),
]
