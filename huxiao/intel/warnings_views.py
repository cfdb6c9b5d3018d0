"""Pages of warnings both ways (ADR 0019): parse → call a selector or service → render.

A page whose action the user's role allows nowhere is 403; a record outside the user's
scope is 404 (it comes from a scoped selector); a write on a visible record by a role that
may not make it is 403. A failed form post answers 400 with the errors in place.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.core.roles import Action
from huxiao.core.scoping import visible_school_ids
from huxiao.intel import warnings_selectors as selectors
from huxiao.intel import warnings_services as services
from huxiao.intel.warnings_api import attachment_response
from huxiao.intel.warnings_choices import SIGN_TRANSITIONS, SignStatus
from huxiao.intel.warnings_forms import EarlyWarningForm, SignForm, TransitionForm
from huxiao.orgs.models import Organization

NAV = "warnings"
MAX_ID = 2**63 - 1


def _id(value: int) -> int:
    if value > MAX_ID:
        raise Http404
    return value


def _schools(ids):
    return list(Organization.objects.filter(pk__in=ids).order_by("name"))


# ------------------------------------------------------------------ warning signs


def sign_filters(actor, query) -> dict:
    """The sign list's filters (the page and its export); 403 for who sees no sign."""
    selectors.require_sign_access(actor)
    status = query.get("status", "")
    return {"status": status if status in SignStatus.values else ""}


@login_required
@require_safe
def sign_list(request):
    """Schools: the signs they sent, with feedback. Police: the inbox of their schools."""
    user = request.user
    status = sign_filters(user, request.GET)["status"]
    return render(
        request,
        "intel/warnings/sign_list.html",
        {
            "signs": selectors.warning_sign_list(actor=user, status=status)[:200],
            "status": status,
            "statuses": SignStatus.choices,
            "is_police": bool(visible_school_ids(user, Action.HANDLE_WARNING)),
            "can_report": bool(visible_school_ids(user, Action.REPORT_WARNING)),
            "nav_active": NAV,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def sign_new(request):
    ids = visible_school_ids(request.user, Action.REPORT_WARNING)
    if not ids:
        raise PermissionDenied
    schools = _schools(ids)
    form = SignForm(request.POST or None, request.FILES or None, schools=schools)
    if request.method == "POST":
        if form.is_valid():
            data = dict(form.cleaned_data)
            school = next(s for s in schools if s.pk == data.pop("school"))
            files = data.pop("attachments") or []
            try:
                sign = services.warning_sign_report(
                    actor=request.user, school=school, files=files, **data
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Warning sign reported to the police."))
                return redirect("intel:sign_detail", sign_id=sign.pk)
        return _sign_form_page(request, form, status=400)
    return _sign_form_page(request, form)


def _sign_form_page(request, form, status=200):
    return render(
        request,
        "intel/warnings/form_page.html",
        {
            "title": _("Report a warning sign"),
            "form": form,
            "multipart": True,
            "action_url": reverse("intel:sign_new"),
            "cancel_url": reverse("intel:sign_list"),
            "nav_active": NAV,
        },
        status=status,
    )


def _sign_page(request, sign, *, form=None, status=200):
    can_handle = sign.school_id in visible_school_ids(request.user, Action.HANDLE_WARNING)
    allowed = SIGN_TRANSITIONS.get(sign.status, frozenset())
    if can_handle and allowed and form is None:
        form = TransitionForm()
    if form is not None:
        form.fields["status"].choices = [
            c for c in form.fields["status"].choices if c[0] in allowed
        ]
    return render(
        request,
        "intel/warnings/sign_detail.html",
        {
            "sign": sign,
            "form": form if can_handle and allowed else None,
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_safe
def sign_detail(request, sign_id: int):
    selectors.require_sign_access(request.user)
    sign = selectors.warning_sign_get(actor=request.user, sign_id=_id(sign_id))
    return _sign_page(request, sign)


@login_required
@require_POST
def sign_transition(request, sign_id: int):
    selectors.require_sign_access(request.user)
    sign = selectors.warning_sign_get(actor=request.user, sign_id=_id(sign_id))
    if sign.school_id not in visible_school_ids(request.user, Action.HANDLE_WARNING):
        raise PermissionDenied
    form = TransitionForm(request.POST)
    if form.is_valid():
        try:
            services.warning_sign_transition(actor=request.user, sign=sign, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Warning sign updated; the school sees your note."))
            return redirect("intel:sign_detail", sign_id=sign.pk)
    return _sign_page(request, sign, form=form, status=400)


@login_required
@require_safe
def sign_attachment(request, sign_id: int, attachment_id: int):
    selectors.require_sign_access(request.user)
    attachment = selectors.attachment_get(
        actor=request.user, sign_id=_id(sign_id), attachment_id=_id(attachment_id)
    )
    return attachment_response(attachment)


# ------------------------------------------------------------------ early warnings


@login_required
@require_safe
def early_list(request):
    """Police: warnings issued to their schools with receipt counts. Schools: received."""
    user = request.user
    selectors.require_early_access(user)
    return render(
        request,
        "intel/warnings/early_list.html",
        {
            "rows": selectors.early_warning_list(actor=user, limit=200),
            "now": timezone.now(),
            "can_issue": bool(services.issuer_orgs(user)),
            "receive_ids": visible_school_ids(user, Action.RECEIVE_WARNING),
            "nav_active": NAV,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def early_new(request):
    user = request.user
    orgs = services.issuer_orgs(user)
    if not orgs:
        raise PermissionDenied
    schools = _schools(visible_school_ids(user, Action.HANDLE_WARNING))
    form = EarlyWarningForm(request.POST or None, schools=schools)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                warning = services.early_warning_issue(actor=user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Early warning issued."))
                return redirect("intel:early_detail", warning_id=warning.pk)
    return render(
        request,
        "intel/warnings/form_page.html",
        {
            "title": _("Issue an early warning"),
            "form": form,
            "action_url": reverse("intel:early_new"),
            "cancel_url": reverse("intel:early_list"),
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_safe
def early_detail(request, warning_id: int):
    selectors.require_early_access(request.user)
    view = selectors.early_warning_get(actor=request.user, warning_id=_id(warning_id))
    return render(
        request,
        "intel/warnings/early_detail.html",
        {
            "view": view,
            "warning": view.warning,
            "now": timezone.now(),
            "receive_ids": visible_school_ids(request.user, Action.RECEIVE_WARNING),
            "nav_active": NAV,
        },
    )


@login_required
@require_POST
def early_acknowledge(request, warning_id: int):
    selectors.require_early_access(request.user)
    raw = request.POST.get("school", "")
    school_id = int(raw) if raw.isdigit() and len(raw) < 19 else None
    recipient = selectors.recipient_for_ack(
        actor=request.user, warning_id=_id(warning_id), school_id=school_id
    )
    services.early_warning_acknowledge(actor=request.user, recipient=recipient)
    messages.success(request, _("Receipt acknowledged."))
    return redirect("intel:early_detail", warning_id=warning_id)
