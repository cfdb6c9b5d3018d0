"""Pages of gate passes (issue 5, ADR 0024): parse → call → render.

The list, issue form and printable pass are for `manage_gate`; the scan page (`access:
pass_scan`, also the kiosk's target for `HX1.P.` codes) is for the gate. A page whose
action the role allows nowhere is 403; a record or school out of scope is 404; a failed
form post answers 400 with the errors in place. Vehicle and contraband pages live in their
own modules and are routed from here."""

from __future__ import annotations

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.access import contraband_views, pass_selectors, pass_services, vehicle_views
from huxiao.access.choices import PassKind, ScanResult
from huxiao.access.pass_forms import PassForm, RevokeForm, ScanForm
from huxiao.access.pass_pages import choose_school, gate_school, school_of, submit
from huxiao.access.pass_pages import object_id as _id
from huxiao.access.pass_selectors import require_any
from huxiao.core.roles import Action
from huxiao.people.models import Staff

# ------------------------------------------------------------------ passes


def list_filters(actor, query):
    """The pass list's schools, school (None: several and none chosen), kind and state;
    shared by the page and its export."""
    ids = require_any(actor, Action.MANAGE_GATE)
    school = school_of(query.get("school") or "", ids)
    kind = query.get("kind", "")
    state = query.get("state", "")
    kind = kind if kind in PassKind.values else ""
    state = state if state in pass_selectors.PASS_STATES else ""
    return ids, school, kind, state


@login_required
@require_safe
def pass_list(request):
    ids, school, kind, state = list_filters(request.user, request.GET)
    if school is None:
        return choose_school(request, ids, _("Passes"))
    passes = pass_selectors.pass_list(
        actor=request.user, school_id=school.pk, kind=kind, state=state
    )
    return render(
        request,
        "access/passes/pass_list.html",
        {
            "school": school,
            "passes": passes[:500],
            "kind": kind,
            "state": state,
            "kinds": PassKind.choices,
            "now": timezone.now(),
            "scans": pass_selectors.scan_list(actor=request.user, school_id=school.pk)[:20],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def pass_new(request):
    ids = require_any(request.user, Action.MANAGE_GATE)
    school = gate_school(request, ids)
    if school is None:
        return choose_school(request, ids, _("Issue a pass"))
    staff = Staff.objects.filter(school=school, is_active=True).order_by("name")
    created = {}
    if request.method == "POST":
        form = PassForm(request.POST, staff=staff)

        def call(**kwargs):
            created["pass"] = pass_services.pass_issue(actor=request.user, school=school, **kwargs)

        if submit(form, call):
            messages.success(request, _("Pass issued."))
            return redirect("access:pass_detail", pass_id=created["pass"].pk)
        status = 400
    else:
        form = PassForm(staff=staff, initial={"kind": request.GET.get("kind", "")})
        status = 200
    return render(
        request,
        "access/passes/pass_form.html",
        {"form": form, "school": school},
        status=status,
    )


def qr_svg(text: str) -> str:
    """An inline SVG of the QR code (alphanumeric mode: the code is A–Z, 0–9 and dots)."""
    return segno.make_qr(text, error="m").svg_inline(scale=6, border=2)


@login_required
@require_safe
def pass_detail(request, pass_id: int):
    """The printable pass: holder, validity and the QR code."""
    require_any(request.user, Action.MANAGE_GATE)
    gate_pass = pass_selectors.pass_get(actor=request.user, pass_id=_id(pass_id))
    code = pass_services.pass_code(gate_pass)
    response = render(
        request,
        "access/passes/pass_detail.html",
        {
            "gate_pass": gate_pass,
            "code": code,
            "qr": qr_svg(code),
            "now": timezone.now(),
            "revoke_form": RevokeForm(),
            "scans": gate_pass.scans.all()[:20],
        },
    )
    # The page carries a credential: no copy in a shared cache or the browser's history.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def pass_revoke(request, pass_id: int):
    require_any(request.user, Action.MANAGE_GATE)
    gate_pass = pass_selectors.pass_get(actor=request.user, pass_id=_id(pass_id))
    form = RevokeForm(request.POST)

    def call(**kwargs):
        pass_services.pass_revoke(actor=request.user, gate_pass=gate_pass, **kwargs)

    if submit(form, call):
        messages.success(request, _("Pass revoked."))
        return redirect("access:pass_detail", pass_id=gate_pass.pk)
    code = pass_services.pass_code(gate_pass)
    response = render(
        request,
        "access/passes/pass_detail.html",
        {
            "gate_pass": gate_pass,
            "code": code,
            "qr": qr_svg(code),
            "now": timezone.now(),
            "revoke_form": form,
            "scans": gate_pass.scans.all()[:20],
        },
        status=400,
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def pass_scan(request):
    """Scan a pass at the gate: the result fills the screen, green or red."""
    ids = require_any(request.user, Action.REGISTER_VISITOR)
    school = gate_school(request, ids)
    if school is None:
        return choose_school(request, ids, _("Scan a pass"))
    scan = None
    status = 200
    if request.method == "POST":
        form = ScanForm(request.POST)
        if form.is_valid():
            scan = pass_services.pass_scan(
                actor=request.user,
                school=school,
                text=form.cleaned_data["code"],
                direction=form.cleaned_data["direction"] or "in",
            )
            form = ScanForm(initial={"direction": form.cleaned_data["direction"] or "in"})
        else:
            status = 400
    else:
        form = ScanForm()
    return render(
        request,
        "access/passes/scan.html",
        {
            "form": form,
            "school": school,
            "scan": scan,
            "accepted": scan is not None and scan.result == ScanResult.ACCEPTED,
        },
        status=status,
    )


urlpatterns = [
    path("passes/", pass_list, name="pass_list"),
    path("passes/new/", pass_new, name="pass_new"),
    path("passes/scan/", pass_scan, name="pass_scan"),
    path("passes/<int:pass_id>/", pass_detail, name="pass_detail"),
    path("passes/<int:pass_id>/revoke/", pass_revoke, name="pass_revoke"),
    *vehicle_views.urlpatterns,
    *contraband_views.urlpatterns,
]
