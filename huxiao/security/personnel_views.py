"""Pages of a school's security personnel (issue 7 item 1; ADR 0028 "Personnel"). Parse →
call a selector/service → render.

Everyone with VIEW on the school reads; the principal and security officer
(MANAGE_SECURITY) add, edit and keep trainings. A school or person out of reach is 404; a
change the role does not allow is 403; a form with errors is 400 with the errors in place
and nothing written; a success redirects.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.hazards.hazard_views import _id
from huxiao.security import personnel_selectors as selectors
from huxiao.security import personnel_services as services
from huxiao.security.personnel_forms import GuardForm, TrainingForm

NAV = "security_personnel"


def _require_manager(request, school_id: int) -> None:
    if not selectors.may_manage(request.user, school_id):
        raise PermissionDenied(_("Your role does not allow this action."))


@login_required
@require_safe
def personnel(request, school_id: int):
    school = selectors.school_get(actor=request.user, school_id=_id(school_id))
    today = selectors.local_today()
    rows = [
        selectors.person_status(s, today)
        for s in selectors.personnel_list(actor=request.user, school_id=school.pk)
    ]
    former = list(selectors.personnel_list(actor=request.user, school_id=school.pk, active=False))
    guards = [r for r in rows if r.staff.role == "guard"]
    return render(
        request,
        "security/personnel/list.html",
        {
            "school": school,
            "rows": rows,
            "former": former,
            "guard_count": len(guards),
            "full_time_guards": sum(1 for r in guards if r.full_time),
            "attention": sum(1 for r in rows if r.badges),
            "can_manage": selectors.may_manage(request.user, school.pk),
            "nav_active": NAV,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def personnel_new(request, school_id: int):
    school = selectors.school_get(actor=request.user, school_id=_id(school_id))
    _require_manager(request, school.pk)
    form = GuardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            record = services.guard_create(
                actor=request.user, school=school, **form.service_kwargs()
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Added to the security staff."))
            return redirect("security:personnel_detail", record.staff_id)
    return render(
        request,
        "security/personnel/form.html",
        {"form": form, "school": school, "staff": None, "nav_active": NAV},
        status=400 if form.is_bound and form.errors else 200,
    )


def _render_detail(request, staff, *, training_form=None, status=200):
    today = selectors.local_today()
    can_manage = selectors.may_manage(request.user, staff.school_id)
    return render(
        request,
        "security/personnel/detail.html",
        {
            "school": staff.school,
            "staff": staff,
            "status": selectors.person_status(staff, today),
            "profile": selectors.profile_of(staff),
            "trainings": list(selectors.training_list(staff)),
            "cutoff": selectors.training_cutoff(today),
            "can_manage": can_manage,
            "training_form": (training_form or TrainingForm(initial={"held_on": today}))
            if can_manage and staff.is_active
            else None,
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_safe
def personnel_detail(request, staff_id: int):
    staff = selectors.staff_get(actor=request.user, staff_id=_id(staff_id))
    return _render_detail(request, staff)


def _certificate_prefill(staff) -> dict:
    """A first security record copies the guard licence the staff records already hold."""
    certificate = (
        staff.certificates.filter(kind__contains="保安").order_by("-expires_on", "-id").first()
    )
    if certificate is None:
        return {}
    return {
        "certificate_number": certificate.number,
        "certificate_issued_on": certificate.issued_on,
        "certificate_expires_on": certificate.expires_on,
    }


@login_required
@require_http_methods(["GET", "POST"])
def personnel_edit(request, staff_id: int):
    staff = selectors.staff_get(actor=request.user, staff_id=_id(staff_id))
    _require_manager(request, staff.school_id)
    profile = selectors.profile_of(staff)
    if request.method == "POST":
        form = GuardForm(request.POST, staff=staff)
    else:
        form = GuardForm(staff=staff, profile=profile)
        if profile is None:
            form.initial.update(_certificate_prefill(staff))
    if request.method == "POST" and form.is_valid():
        try:
            services.guard_update(actor=request.user, staff=staff, **form.service_kwargs())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("security:personnel_detail", staff.pk)
    return render(
        request,
        "security/personnel/form.html",
        {"form": form, "school": staff.school, "staff": staff, "nav_active": NAV},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_POST
def personnel_left(request, staff_id: int):
    """Mark a member of the security staff as having left (or back again)."""
    staff = selectors.staff_get(actor=request.user, staff_id=_id(staff_id))
    _require_manager(request, staff.school_id)
    services.guard_update(actor=request.user, staff=staff, is_active=not staff.is_active)
    messages.success(request, _("Saved."))
    return redirect("security:personnel", staff.school_id)


@login_required
@require_POST
def training_add(request, staff_id: int):
    staff = selectors.staff_get(actor=request.user, staff_id=_id(staff_id))
    _require_manager(request, staff.school_id)
    form = TrainingForm(request.POST)
    if form.is_valid():
        try:
            services.training_add(actor=request.user, staff=staff, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Training recorded."))
            return redirect("security:personnel_detail", staff.pk)
    return _render_detail(request, staff, training_form=form, status=400)


@login_required
@require_POST
def training_delete(request, training_id: int):
    training = selectors.training_get(actor=request.user, training_id=_id(training_id))
    _require_manager(request, training.staff.school_id)
    staff_id = training.staff_id
    services.training_delete(actor=request.user, training=training)
    messages.success(request, _("Training deleted."))
    return redirect("security:personnel_detail", staff_id)


urlpatterns = [
    path("schools/<int:school_id>/personnel/", personnel, name="personnel"),
    path("schools/<int:school_id>/personnel/new/", personnel_new, name="personnel_new"),
    path("personnel/<int:staff_id>/", personnel_detail, name="personnel_detail"),
    path("personnel/<int:staff_id>/edit/", personnel_edit, name="personnel_edit"),
    path("personnel/<int:staff_id>/left/", personnel_left, name="personnel_left"),
    path("personnel/<int:staff_id>/trainings/", training_add, name="personnel_training_add"),
    path(
        "personnel/trainings/<int:training_id>/delete/",
        training_delete,
        name="personnel_training_delete",
    ),
]
