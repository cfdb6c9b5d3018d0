"""Pages of school-related cases (ADR 0021): parse → call a selector or service → render.

A user who sees no case anywhere gets 403 on the list; a case outside their scope is 404;
editing a visible case without MANAGE_CASES is 403. A failed form answers 400 with the
errors in place, nothing written.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.core.names import person_name
from huxiao.core.roles import Action
from huxiao.core.scoping import can, visible_school_ids
from huxiao.intel import cases_selectors as selectors
from huxiao.intel import cases_services as services
from huxiao.intel import rules
from huxiao.intel.cases_choices import CASE_TRANSITIONS, CaseCategory, CaseStatus
from huxiao.orgs.models import Organization
from huxiao.people.forms import ServiceForm

NAV = "cases"
MAX_ID = 2**63 - 1
_DT = "%Y-%m-%dT%H:%M"


def _id(value: int) -> int:
    if value > MAX_ID:
        raise Http404
    return value


class IdListField(forms.CharField):
    """Record numbers separated by commas or spaces; the service checks whose they are."""

    def clean(self, value):
        text = super().clean(value) or ""
        parts = [p for p in text.replace("，", ",").replace(" ", ",").split(",") if p]
        if not all(p.isdigit() and 0 < int(p) <= MAX_ID for p in parts):
            raise ValidationError(gettext_lazy("Enter record numbers separated by commas."))
        return [int(p) for p in parts]


class CaseForm(ServiceForm):
    school = forms.TypedChoiceField(label=gettext_lazy("School"), coerce=int)
    case_number = forms.CharField(label=gettext_lazy("Case number"), max_length=60)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    category = forms.ChoiceField(label=gettext_lazy("Category"), choices=CaseCategory.choices)
    description = forms.CharField(
        label=gettext_lazy("Description"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    occurred_at = forms.DateTimeField(
        label=gettext_lazy("Occurred at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=_DT),
        input_formats=[_DT],
    )
    officer = forms.TypedChoiceField(label=gettext_lazy("Dedicated officer"), coerce=int)
    alarms = IdListField(label=gettext_lazy("Linked alarms (numbers)"), required=False)
    warning_signs = IdListField(
        label=gettext_lazy("Linked warning signs (numbers)"), required=False
    )
    persons = IdListField(label=gettext_lazy("Linked high-risk persons (numbers)"), required=False)
    service_error_fields = {
        "school_id": "school",
        "officer_id": "officer",
        "alarm_ids": "alarms",
        "warning_sign_ids": "warning_signs",
        "person_ids": "persons",
    }

    def __init__(self, *args, schools, officers, with_persons: bool, editing: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].choices = [(s.pk, s.name) for s in schools]
        self.fields["officer"].choices = [(u.pk, person_name(u)) for u in officers]
        if editing:
            del self.fields["school"]
        if not with_persons:
            del self.fields["persons"]


def _officers(school_ids):
    station_ids = set(
        Organization.objects.filter(pk__in=school_ids)
        .exclude(police_station_id=None)
        .values_list("police_station_id", flat=True)
    )
    users = {}
    for station_id in station_ids:
        for user in services.station_officers(station_id):
            users[user.pk] = user
    return list(users.values())


def case_filters(actor, query) -> tuple[dict[int, str], str, int | None]:
    """The case list's filters (the page and its export): the actor's case levels (403
    when none), the status and the school."""
    levels = selectors.require_case_access(actor)
    status = query.get("status", "")
    if status not in CaseStatus.values:
        status = ""
    school_id = query.get("school", "")
    # isascii: "²".isdigit() is true, and int("²") would be a 500.
    valid = school_id.isascii() and school_id.isdigit() and int(school_id) <= MAX_ID
    return levels, status, int(school_id) if valid else None


@login_required
@require_safe
def case_list(request):
    user = request.user
    levels, status, school_id = case_filters(user, request.GET)
    cases = selectors.case_list(actor=user, status=status, school_id=school_id)[:200]
    stats = None
    if any(level != selectors.SCHOOL for level in levels.values()):
        stats = selectors.case_stats(actor=user)
    return render(
        request,
        "intel/cases/case_list.html",
        {
            "cases": cases,
            "status": status,
            "statuses": CaseStatus.choices,
            "school_id": school_id,
            "schools": Organization.objects.filter(pk__in=levels).order_by("name"),
            "can_create": bool(visible_school_ids(user, Action.MANAGE_CASES)),
            "stats": stats,
            "nav_active": NAV,
        },
    )


@login_required
@require_safe
def case_detail(request, case_id: int):
    user = request.user
    case = selectors.case_get(actor=user, case_id=_id(case_id))
    levels = selectors.case_levels(user)
    level = levels[case.school_id]
    can_manage = level == selectors.MANAGE
    return render(
        request,
        "intel/cases/case_detail.html",
        {
            "case": case,
            "level": level,
            "show_details": level != selectors.SCHOOL,
            "show_persons": selectors.shows_persons(user, case, levels),
            "can_manage": can_manage,
            "next_statuses": [
                (s, CaseStatus(s).label) for s in sorted(CASE_TRANSITIONS[case.status])
            ]
            if can_manage
            else [],
            "nav_active": NAV,
        },
    )


def _render_form(request, form, *, title, action_url, cancel_url, status=200):
    return render(
        request,
        "intel/cases/case_form.html",
        {
            "form": form,
            "title": title,
            "action_url": action_url,
            "cancel_url": cancel_url,
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def case_new(request):
    user = request.user
    ids = visible_school_ids(user, Action.MANAGE_CASES)
    if not ids:
        raise PermissionDenied
    schools = list(Organization.objects.filter(pk__in=ids).order_by("name"))
    form = CaseForm(
        request.POST or None,
        schools=schools,
        officers=_officers(ids),
        with_persons=rules.can_use_register(user),
        editing=False,
    )
    if request.method == "POST":
        if form.is_valid():
            data = form.service_kwargs()
            try:
                case = services.case_register(actor=user, **data)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("The case was registered."))
                return redirect("intel:case_detail", case_id=case.pk)
        status = 400
    else:
        status = 200
    return _render_form(
        request,
        form,
        title=_("Register a school-related case"),
        action_url=reverse("intel:case_new"),
        cancel_url=reverse("intel:case_list"),
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def case_edit(request, case_id: int):
    user = request.user
    case = selectors.case_get(actor=user, case_id=_id(case_id))
    if not can(user, Action.MANAGE_CASES, case.school_id):
        raise PermissionDenied
    with_persons = selectors.shows_persons(user, case)
    initial = {
        "case_number": case.case_number,
        "title": case.title,
        "category": case.category,
        "description": case.description,
        "occurred_at": case.occurred_at,
        "officer": case.officer_id,
        "alarms": ", ".join(str(a.pk) for a in case.alarms.all()),
        "warning_signs": ", ".join(str(s.pk) for s in case.warning_signs.all()),
        "persons": ", ".join(str(p.pk) for p in case.persons.all()) if with_persons else "",
    }
    form = CaseForm(
        request.POST or None,
        initial=initial,
        schools=[],
        officers=list(services.station_officers(case.station_id)),
        with_persons=with_persons,
        editing=True,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.case_update(actor=user, case=case, **form.service_kwargs())
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("The case was saved."))
                return redirect("intel:case_detail", case_id=case.pk)
        status = 400
    return _render_form(
        request,
        form,
        title=_("Edit the case"),
        action_url=reverse("intel:case_edit", args=[case.pk]),
        cancel_url=reverse("intel:case_detail", args=[case.pk]),
        status=status,
    )


@login_required
@require_POST
def case_transition(request, case_id: int):
    user = request.user
    case = selectors.case_get(actor=user, case_id=_id(case_id))
    if not can(user, Action.MANAGE_CASES, case.school_id):
        raise PermissionDenied
    try:
        services.case_transition(
            actor=user,
            case=case,
            status=request.POST.get("status", "")[:20],
            note=request.POST.get("note", "")[:4000],
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        response = redirect("intel:case_detail", case_id=case.pk)
        response.status_code = 303
        return response
    messages.success(request, _("The case was moved on."))
    return redirect("intel:case_detail", case_id=case.pk)
