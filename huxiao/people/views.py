"""Pages for classes, children, guardians / authorised pick-up persons, staff and
certificates: parse → call a selector or service → render.

Each page is made of sections ("panels": the class table with its new-class form, the
children of a class with the add-child form, a child's guardians, a staff member's
certificates). Every form inside a panel posts with htmx and targets the whole panel, and the
write view answers with that panel re-rendered.

Form errors and htmx: htmx 2 does not swap 4xx responses by default and the vendored build
has no response-targets extension (`hx-target-error`). So a write that fails validation
answers **200 with the panel partial** (errors shown in place, nothing written) to an htmx
request, and **400 with the full page** to a plain form post (no JavaScript). A successful
plain post redirects (post/redirect/get); a successful htmx post answers 200 with the panel.

Permissions: records come from the scoped selectors, so out of scope is 404; the write views
then call `require()` before reading the form so that a wrong role gets 403 whatever it
sent. The services check again; the view never decides a rule on its own.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.core.context import active_membership
from huxiao.core.permissions import require
from huxiao.core.roles import Action
from huxiao.core.scoping import can
from huxiao.orgs import selectors as org_selectors
from huxiao.people import selectors, services
from huxiao.people.choices import StaffRole
from huxiao.people.forms import (
    CertificateForm,
    ChildForm,
    ChildMoveForm,
    ClassForm,
    GuardianForm,
    ServiceForm,
    StaffForm,
)

# Certificates expiring within this many days are highlighted (amber) on the staff page.
CERTIFICATE_WARNING_DAYS = 60
_SEARCH_MAX = 50

# ------------------------------------------------------------------ helpers


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _is_partial(request) -> bool:
    # A history-restore request (cache miss after "back") wants the whole page.
    return bool(request.htmx) and not request.htmx.history_restore_request


def _error_status(request) -> int:
    # See the module docstring: htmx only swaps 2xx responses.
    return 200 if _is_partial(request) else 400


def _vary_on_htmx(response):
    patch_vary_headers(response, ("HX-Request",))
    return response


def _submit(form: ServiceForm, call) -> bool:
    """Check the form's shape, then let the service apply its rules.

    `call(**kwargs)` runs the service; its ValidationError shows next to the fields.
    """
    if not form.is_valid():
        return False
    try:
        call(**form.service_kwargs())
    except ValidationError as exc:
        form.add_service_errors(exc)
        return False
    return True


def school_choice(actor, params, *, preferred_org_id: int | None = None):
    """The visible schools and the chosen one (`school` of `params`, else the preferred
    organization if it is a visible school, else the first visible). An out-of-scope
    `school` is 404; a malformed one is ignored. Shared by the pages and their exports."""
    schools = list(org_selectors.school_list(actor=actor))
    school_id = _int(params.get("school"))
    if school_id is not None:
        return schools, org_selectors.school_get(actor=actor, school_id=school_id)
    for school in schools:
        if school.pk == preferred_org_id:
            return schools, school
    return schools, (schools[0] if schools else None)


def _school_choice(request):
    """`school_choice` preferring the school of the membership active in the switcher."""
    membership = active_membership(request)
    return school_choice(
        request.user,
        request.GET,
        preferred_org_id=membership.organization_id if membership is not None else None,
    )


def _list_url(name: str, school_id: int) -> str:
    return f"{reverse(name)}?school={school_id}"


def _audit_url(request, object_type: str, object_id: int, school_id: int) -> str:
    if not can(request.user, Action.VIEW_AUDIT, school_id):
        return ""
    return f"{reverse('audit:event_list')}?object_type={object_type}&object_id={object_id}"


def _delete_page(
    request, *, delete, done_message, done_url, title, name, action_url, cancel_url, nav_active
):
    """GET: ask for confirmation. POST: call `delete` (a service); a refusal (e.g. a class
    that still has children) is shown on the confirmation page."""
    errors = []
    if request.method == "POST":
        try:
            delete()
        except ValidationError as exc:
            errors = list(exc.messages)
        else:
            messages.success(request, done_message)
            return redirect(done_url)
    return _confirm_delete(
        request,
        title=title,
        name=name,
        action_url=action_url,
        cancel_url=cancel_url,
        nav_active=nav_active,
        errors=errors,
    )


def _confirm_delete(request, *, title, name, action_url, cancel_url, nav_active, errors=()):
    return render(
        request,
        "people/confirm_delete.html",
        {
            "title": title,
            "object_name": name,
            "action_url": action_url,
            "cancel_url": cancel_url,
            "errors": errors,
            "nav_active": nav_active,
        },
        status=400 if errors else 200,
    )


def _form_page(request, *, title, form, action_url, cancel_url, nav_active, status=200):
    return render(
        request,
        "people/form_page.html",
        {
            "title": title,
            "form": form,
            "action_url": action_url,
            "cancel_url": cancel_url,
            "nav_active": nav_active,
        },
        status=status,
    )


def _id_number_response(request, *, obj, number: str, dom_id: str, back_url: str):
    if _is_partial(request):
        response = render(request, "people/_id_number.html", {"dom_id": dom_id, "revealed": number})
    else:
        response = render(
            request,
            "people/id_number_revealed.html",
            {"obj": obj, "revealed": number, "back_url": back_url},
        )
    return _vary_on_htmx(response)


# ------------------------------------------------------------------ classes


def _class_form(request, school, data=None, school_class=None) -> ClassForm:
    staff = selectors.staff_list(actor=request.user, school_id=school.pk)
    return ClassForm(data, staff=staff, school_class=school_class, auto_id="class-%s")


def _class_panel_context(request, school, *, form=None, notice="") -> dict:
    can_edit = can(request.user, Action.EDIT_ROSTER, school.pk)
    if can_edit and form is None:
        form = _class_form(request, school)
    return {
        "school": school,
        "classes": selectors.class_list(actor=request.user, school_id=school.pk),
        "can_edit": can_edit,
        "form": form,
        "notice": notice,
    }


def _class_list_page(request, schools, school, *, form=None, status=200):
    context = {"schools": schools, "school": school, "nav_active": "classes"}
    if school is not None:
        context.update(_class_panel_context(request, school, form=form))
    return render(request, "people/class_list.html", context, status=status)


@login_required
@require_safe
def class_list(request):
    schools, school = _school_choice(request)
    if school is not None and _is_partial(request):
        response = render(
            request, "people/_class_panel.html", _class_panel_context(request, school)
        )
    else:
        response = _class_list_page(request, schools, school)
    return _vary_on_htmx(response)


@login_required
@require_POST
def class_create(request, school_id: int):
    school = org_selectors.school_get(actor=request.user, school_id=school_id)
    require(request.user, Action.EDIT_ROSTER, school.pk)
    form = _class_form(request, school, request.POST)
    created = _submit(
        form, lambda **kw: services.class_create(actor=request.user, school=school, **kw)
    )
    if created:
        if _is_partial(request):
            return render(
                request,
                "people/_class_panel.html",
                _class_panel_context(request, school, notice=_("Class created.")),
            )
        messages.success(request, _("Class created."))
        return redirect(_list_url("people:class_list", school.pk))
    if _is_partial(request):
        return render(
            request, "people/_class_panel.html", _class_panel_context(request, school, form=form)
        )
    schools = list(org_selectors.school_list(actor=request.user))
    return _class_list_page(request, schools, school, form=form, status=400)


def child_search(params) -> str:
    """The children table's name search (`q`), trimmed to what the search accepts. A NUL
    is dropped: no name holds one, and PostgreSQL refuses it in a query (a 500)."""
    return params.get("q", "").replace("\x00", "").strip()[:_SEARCH_MAX]


def _children_panel_context(request, school_class, *, search="", form=None, notice="") -> dict:
    can_edit = can(request.user, Action.EDIT_ROSTER, school_class.school_id)
    if can_edit and form is None:
        form = ChildForm(auto_id="child-%s")
    return {
        "school_class": school_class,
        "children": selectors.child_list(
            actor=request.user, class_id=school_class.pk, search=search
        ),
        "search": search,
        "can_edit": can_edit,
        "form": form,
        "notice": notice,
    }


def _class_detail_page(request, school_class, *, search="", form=None, status=200):
    context = _children_panel_context(request, school_class, search=search, form=form)
    context.update(
        nav_active="classes",
        audit_url=_audit_url(
            request, "people.schoolclass", school_class.pk, school_class.school_id
        ),
    )
    return render(request, "people/class_detail.html", context, status=status)


@login_required
@require_safe
def class_detail(request, class_id: int):
    school_class = selectors.class_get(actor=request.user, class_id=class_id)
    search = child_search(request.GET)
    if _is_partial(request):
        # The live name search asks for the children table only.
        response = render(
            request,
            "people/_children_table.html",
            {
                "children": selectors.child_list(
                    actor=request.user, class_id=school_class.pk, search=search
                ),
                "search": search,
                "school_class": school_class,
            },
        )
    else:
        response = _class_detail_page(request, school_class, search=search)
    return _vary_on_htmx(response)


@login_required
@require_http_methods(["GET", "POST"])
def class_edit(request, class_id: int):
    school_class = selectors.class_get(actor=request.user, class_id=class_id)
    require(request.user, Action.EDIT_ROSTER, school_class.school_id)
    form = _class_form(
        request, school_class.school, request.POST or None, school_class=school_class
    )
    if request.method == "POST":
        saved = _submit(
            form,
            lambda **kw: services.class_update(actor=request.user, school_class=school_class, **kw),
        )
        if saved:
            messages.success(request, _("Saved."))
            return redirect("people:class_detail", class_id=school_class.pk)
    return _form_page(
        request,
        title=_("Edit class"),
        form=form,
        action_url=reverse("people:class_edit", args=[school_class.pk]),
        cancel_url=reverse("people:class_detail", args=[school_class.pk]),
        nav_active="classes",
        status=400 if form.is_bound else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def class_delete(request, class_id: int):
    school_class = selectors.class_get(actor=request.user, class_id=class_id)
    require(request.user, Action.EDIT_ROSTER, school_class.school_id)
    return _delete_page(
        request,
        delete=lambda: services.class_delete(actor=request.user, school_class=school_class),
        done_message=_("Class deleted."),
        done_url=_list_url("people:class_list", school_class.school_id),
        title=_("Delete class"),
        name=school_class.name,
        action_url=reverse("people:class_delete", args=[school_class.pk]),
        cancel_url=reverse("people:class_detail", args=[school_class.pk]),
        nav_active="classes",
    )


# ------------------------------------------------------------------ children


@login_required
@require_POST
def child_create(request, class_id: int):
    school_class = selectors.class_get(actor=request.user, class_id=class_id)
    require(request.user, Action.EDIT_ROSTER, school_class.school_id)
    form = ChildForm(request.POST, auto_id="child-%s")
    created = _submit(
        form,
        lambda **kw: services.child_create(actor=request.user, school_class=school_class, **kw),
    )
    if created:
        if _is_partial(request):
            return render(
                request,
                "people/_children_panel.html",
                _children_panel_context(request, school_class, notice=_("Child added.")),
            )
        messages.success(request, _("Child added."))
        return redirect("people:class_detail", class_id=school_class.pk)
    if _is_partial(request):
        return render(
            request,
            "people/_children_panel.html",
            _children_panel_context(request, school_class, form=form),
        )
    return _class_detail_page(request, school_class, form=form, status=400)


def _move_form(request, child, data=None) -> ChildMoveForm:
    classes = selectors.class_list(actor=request.user, school_id=child.school_id).exclude(
        pk=child.school_class_id
    )
    return ChildMoveForm(data, classes=classes, auto_id="move-%s")


def _guardians_context(
    request, child, *, form=None, editing_id=None, edit_form=None, notice=""
) -> dict:
    can_edit = can(request.user, Action.EDIT_ROSTER, child.school_id)
    if can_edit and form is None:
        form = GuardianForm(auto_id="guardian-new-%s")
    return {
        "child": child,
        "guardians": selectors.guardian_list(actor=request.user, child_id=child.pk),
        "can_edit": can_edit,
        "can_reveal": can(request.user, Action.VIEW_ID_NUMBER, child.school_id),
        "guardian_form": form,
        "editing_id": editing_id,
        "edit_form": edit_form,
        "notice": notice,
    }


def _child_detail_page(request, child, *, move_form=None, guardian_form=None, status=200):
    context = _guardians_context(request, child, form=guardian_form)
    if context["can_edit"] and move_form is None:
        move_form = _move_form(request, child)
    context.update(
        move_form=move_form,
        nav_active="classes",
        audit_url=_audit_url(request, "people.child", child.pk, child.school_id),
    )
    return render(request, "people/child_detail.html", context, status=status)


@login_required
@require_safe
def child_detail(request, child_id: int):
    child = selectors.child_get(actor=request.user, child_id=child_id)
    return _child_detail_page(request, child)


@login_required
@require_http_methods(["GET", "POST"])
def child_edit(request, child_id: int):
    child = selectors.child_get(actor=request.user, child_id=child_id)
    require(request.user, Action.EDIT_ROSTER, child.school_id)
    form = ChildForm(request.POST or None, child=child, auto_id="child-%s")
    if request.method == "POST":
        saved = _submit(
            form, lambda **kw: services.child_update(actor=request.user, child=child, **kw)
        )
        if saved:
            messages.success(request, _("Saved."))
            return redirect("people:child_detail", child_id=child.pk)
    return _form_page(
        request,
        title=_("Edit child"),
        form=form,
        action_url=reverse("people:child_edit", args=[child.pk]),
        cancel_url=reverse("people:child_detail", args=[child.pk]),
        nav_active="classes",
        status=400 if form.is_bound else 200,
    )


@login_required
@require_POST
def child_move(request, child_id: int):
    child = selectors.child_get(actor=request.user, child_id=child_id)
    require(request.user, Action.EDIT_ROSTER, child.school_id)
    form = _move_form(request, child, request.POST)
    moved = _submit(form, lambda **kw: services.child_update(actor=request.user, child=child, **kw))
    if moved:
        messages.success(request, _("Moved to another class."))
        return redirect("people:child_detail", child_id=child.pk)
    return _child_detail_page(request, child, move_form=form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def child_delete(request, child_id: int):
    child = selectors.child_get(actor=request.user, child_id=child_id)
    require(request.user, Action.EDIT_ROSTER, child.school_id)
    return _delete_page(
        request,
        delete=lambda: services.child_delete(actor=request.user, child=child),
        done_message=_("Child removed."),
        done_url=reverse("people:class_detail", args=[child.school_class_id]),
        title=_("Remove child"),
        name=child.name,
        action_url=reverse("people:child_delete", args=[child.pk]),
        cancel_url=reverse("people:child_detail", args=[child.pk]),
        nav_active="classes",
    )


@never_cache
@login_required
@require_POST
def child_reveal_id(request, child_id: int):
    child = selectors.child_get(actor=request.user, child_id=child_id)
    # The service checks VIEW_ID_NUMBER and logs the read before returning the number.
    number = services.child_reveal_id_number(actor=request.user, child=child)
    return _id_number_response(
        request,
        obj=child,
        number=number,
        dom_id="child-id-number",
        back_url=reverse("people:child_detail", args=[child.pk]),
    )


# ------------------------------------------------------------------ guardians


def _guardians_panel(request, child, *, status=200, **kwargs):
    return render(
        request,
        "people/_guardians_panel.html",
        _guardians_context(request, child, **kwargs),
        status=status,
    )


@login_required
@require_POST
def guardian_create(request, child_id: int):
    child = selectors.child_get(actor=request.user, child_id=child_id)
    require(request.user, Action.EDIT_ROSTER, child.school_id)
    form = GuardianForm(request.POST, auto_id="guardian-new-%s")
    created = _submit(
        form, lambda **kw: services.guardian_create(actor=request.user, child=child, **kw)
    )
    if created:
        if _is_partial(request):
            return _guardians_panel(request, child, notice=_("Guardian added."))
        messages.success(request, _("Guardian added."))
        return redirect("people:child_detail", child_id=child.pk)
    if _is_partial(request):
        return _guardians_panel(request, child, form=form)
    return _child_detail_page(request, child, guardian_form=form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def guardian_edit(request, guardian_id: int):
    guardian = selectors.guardian_get(actor=request.user, guardian_id=guardian_id)
    child = guardian.child
    require(request.user, Action.EDIT_ROSTER, child.school_id)
    form = GuardianForm(
        request.POST or None, guardian=guardian, auto_id=f"guardian-{guardian.pk}-%s"
    )
    if request.method == "POST":
        saved = _submit(
            form,
            lambda **kw: services.guardian_update(actor=request.user, guardian=guardian, **kw),
        )
        if saved:
            if _is_partial(request):
                return _guardians_panel(request, child, notice=_("Saved."))
            messages.success(request, _("Saved."))
            return redirect("people:child_detail", child_id=child.pk)
    if _is_partial(request):
        # The edit form opens in place of the guardian's card.
        return _guardians_panel(request, child, editing_id=guardian.pk, edit_form=form)
    return _form_page(
        request,
        title=_("Edit guardian"),
        form=form,
        action_url=reverse("people:guardian_edit", args=[guardian.pk]),
        cancel_url=reverse("people:child_detail", args=[child.pk]),
        nav_active="classes",
        status=400 if form.is_bound else 200,
    )


@login_required
@require_POST
def guardian_delete(request, guardian_id: int):
    guardian = selectors.guardian_get(actor=request.user, guardian_id=guardian_id)
    child = guardian.child
    require(request.user, Action.EDIT_ROSTER, child.school_id)
    services.guardian_delete(actor=request.user, guardian=guardian)
    if _is_partial(request):
        return _guardians_panel(request, child, notice=_("Guardian removed."))
    messages.success(request, _("Guardian removed."))
    return redirect("people:child_detail", child_id=child.pk)


@never_cache
@login_required
@require_POST
def guardian_reveal_id(request, guardian_id: int):
    guardian = selectors.guardian_get(actor=request.user, guardian_id=guardian_id)
    number = services.guardian_reveal_id_number(actor=request.user, guardian=guardian)
    return _id_number_response(
        request,
        obj=guardian,
        number=number,
        dom_id=f"guardian-{guardian.pk}-id-number",
        back_url=reverse("people:child_detail", args=[guardian.child_id]),
    )


# ------------------------------------------------------------------ staff


def role_filter(params) -> str:
    """The staff list's post filter (`role`); an unknown post means every post."""
    role = params.get("role", "")
    return role if role in StaffRole.values else ""


def _staff_panel_context(request, school, *, role="", form=None, notice="") -> dict:
    can_edit = can(request.user, Action.EDIT_STAFF, school.pk)
    if can_edit and form is None:
        form = StaffForm(auto_id="staff-%s")
    return {
        "school": school,
        "staff_members": selectors.staff_list(actor=request.user, school_id=school.pk, role=role),
        "role": role,
        "can_edit": can_edit,
        "form": form,
        "notice": notice,
    }


def _staff_list_page(request, schools, school, *, role="", form=None, status=200):
    context = {
        "schools": schools,
        "school": school,
        "role": role,
        "roles": StaffRole.choices,
        "nav_active": "staff",
    }
    if school is not None:
        context.update(_staff_panel_context(request, school, role=role, form=form))
    return render(request, "people/staff_list.html", context, status=status)


@login_required
@require_safe
def staff_list(request):
    schools, school = _school_choice(request)
    role = role_filter(request.GET)
    if school is not None and _is_partial(request):
        response = render(
            request, "people/_staff_panel.html", _staff_panel_context(request, school, role=role)
        )
    else:
        response = _staff_list_page(request, schools, school, role=role)
    return _vary_on_htmx(response)


@login_required
@require_POST
def staff_create(request, school_id: int):
    school = org_selectors.school_get(actor=request.user, school_id=school_id)
    require(request.user, Action.EDIT_STAFF, school.pk)
    form = StaffForm(request.POST, auto_id="staff-%s")
    created = _submit(
        form, lambda **kw: services.staff_create(actor=request.user, school=school, **kw)
    )
    if created:
        if _is_partial(request):
            return render(
                request,
                "people/_staff_panel.html",
                _staff_panel_context(request, school, notice=_("Staff member added.")),
            )
        messages.success(request, _("Staff member added."))
        return redirect(_list_url("people:staff_list", school.pk))
    if _is_partial(request):
        return render(
            request, "people/_staff_panel.html", _staff_panel_context(request, school, form=form)
        )
    schools = list(org_selectors.school_list(actor=request.user))
    return _staff_list_page(request, schools, school, form=form, status=400)


def _with_expiry(certificates) -> list:
    """Mark each certificate "expired" or "soon" (within CERTIFICATE_WARNING_DAYS)."""
    today = timezone.localdate()
    soon = today + dt.timedelta(days=CERTIFICATE_WARNING_DAYS)
    rows = list(certificates)
    for certificate in rows:
        expires = certificate.expires_on
        if expires is None:
            certificate.expiry = ""
        elif expires < today:
            certificate.expiry = "expired"
        elif expires <= soon:
            certificate.expiry = "soon"
        else:
            certificate.expiry = ""
    return rows


def _certificates_context(request, staff, *, form=None, notice="") -> dict:
    can_edit = can(request.user, Action.EDIT_STAFF, staff.school_id)
    if can_edit and form is None:
        form = CertificateForm(auto_id="certificate-%s")
    return {
        "staff": staff,
        "certificates": _with_expiry(
            selectors.certificate_list(actor=request.user, staff_id=staff.pk)
        ),
        "can_edit": can_edit,
        "certificate_form": form,
        "notice": notice,
        "warning_days": CERTIFICATE_WARNING_DAYS,
    }


def _certificates_panel(request, staff, **kwargs):
    return render(
        request, "people/_certificates_panel.html", _certificates_context(request, staff, **kwargs)
    )


def _staff_detail_page(request, staff, *, certificate_form=None, status=200):
    context = _certificates_context(request, staff, form=certificate_form)
    context.update(
        nav_active="staff",
        can_reveal=can(request.user, Action.VIEW_ID_NUMBER, staff.school_id),
        audit_url=_audit_url(request, "people.staff", staff.pk, staff.school_id),
    )
    return render(request, "people/staff_detail.html", context, status=status)


@login_required
@require_safe
def staff_detail(request, staff_id: int):
    staff = selectors.staff_get(actor=request.user, staff_id=staff_id)
    return _staff_detail_page(request, staff)


@login_required
@require_http_methods(["GET", "POST"])
def staff_edit(request, staff_id: int):
    staff = selectors.staff_get(actor=request.user, staff_id=staff_id)
    require(request.user, Action.EDIT_STAFF, staff.school_id)
    form = StaffForm(request.POST or None, staff=staff, auto_id="staff-%s")
    if request.method == "POST":
        saved = _submit(
            form, lambda **kw: services.staff_update(actor=request.user, staff=staff, **kw)
        )
        if saved:
            messages.success(request, _("Saved."))
            return redirect("people:staff_detail", staff_id=staff.pk)
    return _form_page(
        request,
        title=_("Edit staff member"),
        form=form,
        action_url=reverse("people:staff_edit", args=[staff.pk]),
        cancel_url=reverse("people:staff_detail", args=[staff.pk]),
        nav_active="staff",
        status=400 if form.is_bound else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def staff_delete(request, staff_id: int):
    staff = selectors.staff_get(actor=request.user, staff_id=staff_id)
    require(request.user, Action.EDIT_STAFF, staff.school_id)
    return _delete_page(
        request,
        delete=lambda: services.staff_delete(actor=request.user, staff=staff),
        done_message=_("Staff member removed."),
        done_url=_list_url("people:staff_list", staff.school_id),
        title=_("Remove staff member"),
        name=staff.name,
        action_url=reverse("people:staff_delete", args=[staff.pk]),
        cancel_url=reverse("people:staff_detail", args=[staff.pk]),
        nav_active="staff",
    )


@never_cache
@login_required
@require_POST
def staff_reveal_id(request, staff_id: int):
    staff = selectors.staff_get(actor=request.user, staff_id=staff_id)
    number = services.staff_reveal_id_number(actor=request.user, staff=staff)
    return _id_number_response(
        request,
        obj=staff,
        number=number,
        dom_id="staff-id-number",
        back_url=reverse("people:staff_detail", args=[staff.pk]),
    )


@login_required
@require_POST
def certificate_add(request, staff_id: int):
    staff = selectors.staff_get(actor=request.user, staff_id=staff_id)
    require(request.user, Action.EDIT_STAFF, staff.school_id)
    form = CertificateForm(request.POST, auto_id="certificate-%s")
    added = _submit(
        form, lambda **kw: services.certificate_add(actor=request.user, staff=staff, **kw)
    )
    if added:
        if _is_partial(request):
            return _certificates_panel(request, staff, notice=_("Certificate added."))
        messages.success(request, _("Certificate added."))
        return redirect("people:staff_detail", staff_id=staff.pk)
    if _is_partial(request):
        return _certificates_panel(request, staff, form=form)
    return _staff_detail_page(request, staff, certificate_form=form, status=400)


@login_required
@require_POST
def certificate_remove(request, staff_id: int, certificate_id: int):
    staff = selectors.staff_get(actor=request.user, staff_id=staff_id)
    certificate = get_object_or_404(
        selectors.certificate_list(actor=request.user, staff_id=staff.pk), pk=certificate_id
    )
    require(request.user, Action.EDIT_STAFF, staff.school_id)
    services.certificate_remove(actor=request.user, certificate=certificate)
    if _is_partial(request):
        return _certificates_panel(request, staff, notice=_("Certificate removed."))
    messages.success(request, _("Certificate removed."))
    return redirect("people:staff_detail", staff_id=staff.pk)
