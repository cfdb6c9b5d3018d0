"""Pages of child pick-up (issue 5, ADR 0025): parse → call → render.

- Class pages (MANAGE_PICKUP): children, their authorised adults, photos, codes, delegates.
- The waiting list of a class (RELEASE_CHILD or MANAGE_PICKUP).
- The gate: scan or type a code (`access:pickup_scan`) → confirm page → release.
- The adult's own page, opened from the SMS link (a signed token, no login): the rotating
  QR code, and for a guardian the form naming today's delegate.

A class or record outside the user's scope is 404; a role without the action is 403; bad
input answers 400 with the message in place; a refused code 409 with the reason.
"""

from __future__ import annotations

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.access import photos
from huxiao.access import pickup_selectors as selectors
from huxiao.access import pickup_services as services
from huxiao.access.models import GuardianPhoto, PickupCode, PickupDelegate
from huxiao.core.context import active_membership
from huxiao.core.permissions import require
from huxiao.core.roles import Action
from huxiao.core.scoping import visible_school_ids
from huxiao.orgs.models import Organization
from huxiao.people.models import Child, Guardian

MAX_ID = 2**63 - 1


def _id(value: int) -> int:
    if value > MAX_ID:
        raise Http404
    return value


def qr_svg(text: str, scale: int = 6) -> str:
    """An inline SVG QR code (alphanumeric mode for our codes)."""
    return mark_safe(segno.make(text, error="m").svg_inline(scale=scale))  # noqa: S308


class DelegateForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=40)
    relationship = forms.CharField(label=gettext_lazy("Relationship"), max_length=100)
    id_number = forms.CharField(
        label=gettext_lazy("Resident ID number (optional)"), max_length=40, required=False
    )
    photo = forms.FileField(label=gettext_lazy("Photo (optional)"), required=False)


class PhotoForm(forms.Form):
    photo = forms.FileField(label=gettext_lazy("Photo"))


def _photo_bytes(upload) -> bytes | None:
    if not upload:
        return None
    if upload.size > 2 * 1024 * 1024 + 1:
        return upload.read(2 * 1024 * 1024 + 1)
    return upload.read()


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _gate_school(request) -> Organization:
    """The school whose gate the user works: the active membership's when it may release
    there, else their only such school (403 when none)."""
    ids = visible_school_ids(request.user, Action.RELEASE_CHILD)
    if not ids:
        raise PermissionDenied(_("Your role does not allow this action."))
    membership = active_membership(request)
    chosen = request.POST.get("school") or request.GET.get("school") or ""
    if chosen.isascii() and chosen.isdigit() and len(chosen) <= 12 and int(chosen) in ids:
        school_id = int(chosen)
    elif membership is not None and membership.organization_id in ids:
        school_id = membership.organization_id
    else:
        school_id = min(ids)
    return Organization.objects.get(pk=school_id)


# ---------------------------------------------------------------- class pages


@login_required
@require_safe
def pickup_home(request):
    classes = list(selectors.pickup_class_list(actor=request.user))
    if not classes and not visible_school_ids(request.user, Action.RELEASE_CHILD):
        raise PermissionDenied(_("Your role does not allow this action."))
    manage_ids = visible_school_ids(request.user, Action.MANAGE_PICKUP)
    return render(
        request,
        "access/pickup/home.html",
        {"classes": classes, "manage_ids": manage_ids},
    )


@login_required
@require_safe
def pickup_class(request, class_id: int):
    school_class = selectors.pickup_class_get(actor=request.user, class_id=_id(class_id))
    require(request.user, Action.MANAGE_PICKUP, school_class.school_id)
    children = selectors.class_roster(school_class=school_class)
    return render(
        request,
        "access/pickup/class.html",
        {"school_class": school_class, "children": children},
    )


@login_required
@require_safe
def pickup_waiting(request, class_id: int):
    school_class = selectors.pickup_class_get(actor=request.user, class_id=_id(class_id))
    rows = selectors.class_waiting(school_class=school_class)
    context = {
        "school_class": school_class,
        "rows": rows,
        "waiting_count": sum(1 for r in rows if r.release is None),
    }
    return render(request, "access/pickup/waiting.html", context)


def _guardian_for(request, guardian_id: int) -> Guardian:
    guardian = get_object_or_404(
        Guardian.objects.visible_to(request.user, Action.VIEW).select_related(
            "child", "child__school", "child__school_class"
        ),
        pk=_id(guardian_id),
    )
    require(request.user, Action.MANAGE_PICKUP, guardian.child.school_id)
    return guardian


@login_required
@require_POST
def pickup_photo_upload(request, guardian_id: int):
    guardian = _guardian_for(request, guardian_id)
    form = PhotoForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.guardian_photo_set(
                actor=request.user,
                guardian=guardian,
                data=_photo_bytes(form.cleaned_data["photo"]),
            )
        except ValidationError as exc:
            _add_errors(form, exc)
    if form.errors:
        return render(
            request,
            "access/pickup/photo_form.html",
            {"guardian": guardian, "form": form},
            status=400,
        )
    messages.success(request, _("The photo was saved."))
    return redirect("access:pickup_class", guardian.child.school_class_id)


@login_required
@require_http_methods(["GET", "POST"])
def pickup_code_issue(request, guardian_id: int):
    guardian = _guardian_for(request, guardian_id)
    if request.method == "GET":
        return redirect("access:pickup_class", guardian.child.school_class_id)
    try:
        issued = services.pickup_code_issue(actor=request.user, guardian=guardian)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("access:pickup_class", guardian.child.school_class_id)
    return _issued_page(request, issued, guardian.child, guardian.name)


def _issued_page(request, issued, child, adult_name, status=200):
    response = render(
        request,
        "access/pickup/issued.html",
        {
            "issued": issued,
            "child": child,
            "adult_name": adult_name,
            "card_qr": qr_svg(issued.card_text),
            "link": request.build_absolute_uri(issued.link_path),
        },
        status=status,
    )
    # The PIN is shown once: never from a cache.
    response["Cache-Control"] = "no-store"
    return response


def _code_for(request, code_id: int) -> PickupCode:
    code = get_object_or_404(
        PickupCode.objects.visible_to(request.user, Action.VIEW).select_related(
            "guardian", "guardian__child", "delegate", "delegate__child", "school"
        ),
        pk=_id(code_id),
    )
    require(request.user, Action.MANAGE_PICKUP, code.school_id)
    return code


@login_required
@require_POST
def pickup_code_revoke(request, code_id: int):
    code = _code_for(request, code_id)
    services.pickup_code_revoke(actor=request.user, code=code)
    messages.success(request, _("The pick-up code was revoked."))
    child = code.guardian.child if code.guardian_id else code.delegate.child
    return redirect("access:pickup_class", child.school_class_id)


@login_required
@require_safe
def pickup_card(request, code_id: int):
    code = _code_for(request, code_id)
    if code.revoked_at is not None:
        raise Http404
    child = code.guardian.child if code.guardian_id else code.delegate.child
    adult = code.guardian or code.delegate
    response = render(
        request,
        "access/pickup/card.html",
        {
            "code": code,
            "child": child,
            "adult": adult,
            "card_qr": qr_svg(services.card_text(code)),
            "expires": services.card_expiry(code),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def pickup_delegate_add(request, child_id: int):
    child = get_object_or_404(
        Child.objects.visible_to(request.user, Action.VIEW).select_related(
            "school", "school_class"
        ),
        pk=_id(child_id),
    )
    require(request.user, Action.MANAGE_PICKUP, child.school_id)
    form = DelegateForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                delegate, issued = services.delegate_add(
                    actor=request.user,
                    child=child,
                    name=form.cleaned_data["name"],
                    phone=form.cleaned_data["phone"],
                    relationship=form.cleaned_data["relationship"],
                    id_number=form.cleaned_data["id_number"],
                    photo=_photo_bytes(form.cleaned_data["photo"]),
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            except services.PickupRefused as refused:
                form.add_error(None, str(refused.message))
            else:
                return _issued_page(request, issued, child, delegate.name)
        status = 400
    return render(
        request,
        "access/pickup/delegate_form.html",
        {"child": child, "form": form, "cutoff": services.gate_settings(child.school)},
        status=status,
    )


@login_required
@require_safe
def pickup_photo(request, kind: str, pk: int):
    """An adult's photo for the confirm page and the class page (no-store)."""
    if kind == "guardian":
        record = get_object_or_404(
            GuardianPhoto.objects.visible_to(request.user, Action.VIEW), guardian_id=_id(pk)
        )
        school_id = record.guardian.child.school_id
    elif kind == "delegate":
        record = get_object_or_404(
            PickupDelegate.objects.visible_to(request.user, Action.VIEW), pk=_id(pk)
        )
        school_id = record.school_id
    else:
        raise Http404
    services.require_release_or_manage(request.user, school_id)
    opened = photos.open_photo(record)
    if opened is None:
        raise Http404
    data, content_type = opened
    response = HttpResponse(data, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------- the gate


@login_required
@require_http_methods(["GET", "POST"])
def pickup_scan(request):
    school = _gate_school(request)
    context = {"school": school, "code": ""}
    if request.method == "GET":
        return render(request, "access/pickup/scan.html", context)
    text = request.POST.get("code", "")
    try:
        match = services.pickup_lookup(actor=request.user, school=school, text=text)
    except ValidationError as exc:
        context["error"] = " ".join(exc.messages)
        return render(request, "access/pickup/scan.html", context, status=400)
    except services.PinLocked as locked:
        context["error"] = locked.message
        return render(request, "access/pickup/scan.html", context, status=locked.status)
    except services.PickupRefused as refused:
        context["refused"] = refused
        return render(request, "access/pickup/scan.html", context, status=409)
    return render(
        request,
        "access/pickup/confirm.html",
        {
            "school": school,
            "match": match,
            "initials": selectors.initials(match.child.name),
            "adult_has_photo": match.has_photo,
        },
    )


@login_required
@require_POST
def pickup_release(request):
    school = _gate_school(request)
    try:
        release = services.pickup_release(
            actor=request.user, school=school, token=request.POST.get("token", "")
        )
    except ValidationError as exc:
        context = {"school": school, "error": " ".join(exc.messages)}
        return render(request, "access/pickup/scan.html", context, status=400)
    except services.PickupRefused as refused:
        context = {"school": school, "refused": refused}
        return render(request, "access/pickup/scan.html", context, status=409)
    return render(
        request,
        "access/pickup/scan.html",
        {"school": school, "released": release},
    )


# ---------------------------------------------------------------- the adult's own page


def _link_code(token: str) -> PickupCode:
    code = services.code_from_link(token)
    if code is None:
        raise Http404
    return code


@never_cache
@require_http_methods(["GET", "POST"])
def pickup_guardian(request, token: str):
    code = _link_code(token)
    child = code.guardian.child if code.guardian_id else code.delegate.child
    form = DelegateForm(request.POST or None, request.FILES or None) if code.guardian_id else None
    status = 200
    done = issued = None
    if request.method == "POST":
        if form is None:
            raise Http404
        if form.is_valid():
            try:
                done, issued = services.delegate_add(
                    actor=None,
                    named_by=code.guardian,
                    child=child,
                    name=form.cleaned_data["name"],
                    phone=form.cleaned_data["phone"],
                    relationship=form.cleaned_data["relationship"],
                    id_number=form.cleaned_data["id_number"],
                    photo=_photo_bytes(form.cleaned_data["photo"]),
                )
                form = DelegateForm()
            except ValidationError as exc:
                _add_errors(form, exc)
                status = 400
            except services.PickupRefused as refused:
                form.add_error(None, str(refused.message))
                status = 400
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
                status = 403
        else:
            status = 400
    extra = {}
    if issued is not None and not issued.sms_queued:
        # No SMS reaches the delegate: the guardian forwards the link to their code page.
        delegate_link = request.build_absolute_uri(issued.link_path)
        extra = {"delegate_link": delegate_link, "delegate_link_qr": qr_svg(delegate_link, 5)}
    return _guardian_page(
        request, code, token, form=form, done=done, issued=issued, status=status, **extra
    )


def _guardian_page(request, code, token, *, form=None, done=None, status=200, **extra):
    child = code.guardian.child if code.guardian_id else code.delegate.child
    if code.guardian_id and form is None:
        form = DelegateForm()
    response = render(
        request,
        "access/pickup/guardian.html",
        {
            "code": code,
            "child": child,
            "token": token,
            "form": form,
            "done": done,
            "delegates": selectors.delegates_named_today(guardian=code.guardian)
            if code.guardian_id
            else [],
            "qr": qr_svg(services.rotating_text(code), scale=7),
            "cutoff": services.gate_settings(code.school).delegate_cutoff,
            **extra,
        },
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@require_POST
def pickup_guardian_delegate_cancel(request, token: str, delegate_id: int):
    """The guardian cancels a delegate they named (their code dies at once)."""
    code = _link_code(token)
    if not code.guardian_id:
        raise Http404
    delegate = get_object_or_404(
        PickupDelegate, pk=_id(delegate_id), child_id=code.guardian.child_id
    )
    try:
        cancelled = services.delegate_cancel(
            actor=None, delegate=delegate, cancelled_by=code.guardian
        )
    except PermissionDenied as exc:
        return _guardian_page(request, code, token, cancel_error=str(exc), status=403)
    except ValidationError as exc:
        return _guardian_page(request, code, token, cancel_error=" ".join(exc.messages), status=400)
    return _guardian_page(request, code, token, cancelled=cancelled)


@login_required
@require_POST
def pickup_delegate_cancel(request, delegate_id: int):
    """Staff with MANAGE_PICKUP cancel a delegate of a child of their school."""
    delegate = get_object_or_404(
        PickupDelegate.objects.visible_to(request.user, Action.VIEW).select_related("child"),
        pk=_id(delegate_id),
    )
    require(request.user, Action.MANAGE_PICKUP, delegate.school_id)
    try:
        services.delegate_cancel(actor=request.user, delegate=delegate)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("%(name)s may no longer pick up today; their code was revoked.")
            % {"name": delegate.name},
        )
    return redirect("access:pickup_class", delegate.child.school_class_id)


@never_cache
@require_safe
def pickup_guardian_qr(request, token: str):
    """The rotating QR alone, refreshed by the page every 20 s."""
    code = _link_code(token)
    return render(
        request,
        "access/pickup/_rotating_qr.html",
        {
            "token": token,
            "qr": qr_svg(services.rotating_text(code), scale=7),
            "now": timezone.now(),
        },
    )


urlpatterns = [
    path("pickup/", pickup_home, name="pickup_home"),
    path("pickup/classes/<int:class_id>/", pickup_class, name="pickup_class"),
    path("pickup/classes/<int:class_id>/waiting/", pickup_waiting, name="pickup_waiting"),
    path("pickup/adults/<int:guardian_id>/photo/", pickup_photo_upload, name="pickup_photo_upload"),
    path("pickup/adults/<int:guardian_id>/code/", pickup_code_issue, name="pickup_code_issue"),
    path("pickup/codes/<int:code_id>/revoke/", pickup_code_revoke, name="pickup_code_revoke"),
    path("pickup/codes/<int:code_id>/card/", pickup_card, name="pickup_card"),
    path(
        "pickup/children/<int:child_id>/delegate/",
        pickup_delegate_add,
        name="pickup_delegate_add",
    ),
    path("pickup/photos/<str:kind>/<int:pk>/", pickup_photo, name="pickup_photo"),
    path("pickup/scan/", pickup_scan, name="pickup_scan"),
    path("pickup/release/", pickup_release, name="pickup_release"),
    path("pickup/g/<str:token>/", pickup_guardian, name="pickup_guardian"),
    path("pickup/g/<str:token>/qr/", pickup_guardian_qr, name="pickup_guardian_qr"),
    path(
        "pickup/g/<str:token>/delegates/<int:delegate_id>/cancel/",
        pickup_guardian_delegate_cancel,
        name="pickup_guardian_delegate_cancel",
    ),
    path(
        "pickup/delegates/<int:delegate_id>/cancel/",
        pickup_delegate_cancel,
        name="pickup_delegate_cancel",
    ),
]
