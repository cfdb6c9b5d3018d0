from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from huxiao.core.roles import Action
from huxiao.core.scoping import can
from huxiao.orgs import selectors, services
from huxiao.orgs.forms import SchoolForm
from huxiao.people.models import SchoolClass, Staff


@login_required
def school_list(request):
    schools = selectors.school_list(actor=request.user)
    return render(request, "orgs/school_list.html", {"schools": schools, "nav_active": "schools"})


@login_required
def school_detail(request, school_id: int):
    school = selectors.school_get(actor=request.user, school_id=school_id)
    context = {
        "school": school,
        "nav_active": "schools",
        "can_edit": can(request.user, Action.EDIT_ORG, school.pk),
        "class_count": SchoolClass.objects.visible_to(request.user).filter(school=school).count(),
        "staff_count": Staff.objects.visible_to(request.user).filter(school=school).count(),
        "child_count": school.children_enrolled.filter(is_active=True).count(),
    }
    return render(request, "orgs/school_detail.html", context)


@login_required
def school_edit(request, school_id: int):
    school = selectors.school_get(actor=request.user, school_id=school_id)
    if not can(request.user, Action.EDIT_ORG, school.pk):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    form = SchoolForm(request.POST or None, instance=school)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.school_update(
                    actor=request.user,
                    school=selectors.school_get(actor=request.user, school_id=school_id),
                    **form.cleaned_data,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("orgs:school_detail", school_id=school.pk)
        status = 400
    return render(
        request,
        "orgs/school_form.html",
        {"form": form, "school": school, "nav_active": "schools"},
        status=status,
    )
