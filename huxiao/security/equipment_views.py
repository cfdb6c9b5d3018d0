"""Pages of protective equipment (issue 7 item 2; ADR 0028 "Equipment"). Parse → call a
selector/service → render.

A school's page (`security:equipment`) lists its county's items with the stock, what is
needed and what is missing; the principal and security officer (MANAGE_SECURITY) record
stock, issue per-guard items and take them back. The county list
(`security:equipment_types`) is kept by the county's education and governance offices
(MANAGE_SECURITY_RULES at a county-level office); everyone else gets 403. Out of reach is
404; a form with errors is 400 with nothing written; a change the state does not allow
(returning twice, deleting the last item of the county's list) is 409 with the reason.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.core.context import active_membership
from huxiao.hazards.hazard_views import _id
from huxiao.people.models import Staff
from huxiao.security import equipment_selectors as selectors
from huxiao.security import equipment_services as services
from huxiao.security.equipment_forms import EquipmentTypeForm, IssueForm, ReturnForm, StockForm
from huxiao.security.personnel_selectors import local_today, may_manage

NAV = "security_equipment"
NAV_TYPES = "security_equipment_types"


def _require_manager(request, school_id: int) -> None:
    if not may_manage(request.user, school_id):
        raise PermissionDenied(_("Your role does not allow this action."))


# ------------------------------------------------------------------ a school's equipment


@login_required
@require_safe
def equipment(request, school_id: int):
    school = selectors.school_get(actor=request.user, school_id=_id(school_id))
    rows = selectors.stock_rows(actor=request.user, school=school)
    return render(
        request,
        "security/equipment/list.html",
        {
            "school": school,
            "rows": rows,
            "missing": [r for r in rows if r.missing],
            "guard_count": selectors.guard_count(school.pk),
            "per_guard": selectors.counts_per_guard(school.region_id),
            "can_manage": may_manage(request.user, school.pk),
            "nav_active": NAV,
        },
    )


def _render_item(
    request, school, row, *, stock_form=None, issue_form=None, refusal=None, status=200
):
    can_manage = may_manage(request.user, school.pk)
    candidates = list(selectors.issue_candidates(school.pk)) if row.item.per_guard else []
    return render(
        request,
        "security/equipment/item.html",
        {
            "school": school,
            "row": row,
            "issues": list(
                selectors.issue_list(actor=request.user, school_id=school.pk, type_id=row.item.pk)
            ),
            "can_manage": can_manage,
            "stock_form": (stock_form or StockForm(stock=row.stock)) if can_manage else None,
            "issue_form": (
                (
                    issue_form
                    or IssueForm(candidates=candidates, initial={"issued_on": local_today()})
                )
                if can_manage and row.item.per_guard
                else None
            ),
            "refusal": refusal,
            # The per-guard need is shown only while the county's rule counts it, as
            # `row.required` does.
            "per_guard": selectors.counts_per_guard(school.region_id),
            "guard_count": selectors.guard_count(school.pk),
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def equipment_item(request, school_id: int, type_id: int):
    school = selectors.school_get(actor=request.user, school_id=_id(school_id))
    row = selectors.stock_row(actor=request.user, school=school, type_id=_id(type_id))
    if request.method == "GET":
        return _render_item(request, school, row)
    _require_manager(request, school.pk)
    form = StockForm(request.POST)
    if form.is_valid():
        try:
            services.stock_set(
                actor=request.user, school=school, equipment_type=row.item, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("security:equipment", school.pk)
    return _render_item(request, school, row, stock_form=form, status=400)


@login_required
@require_POST
def equipment_issue(request, school_id: int, type_id: int):
    school = selectors.school_get(actor=request.user, school_id=_id(school_id))
    row = selectors.stock_row(actor=request.user, school=school, type_id=_id(type_id))
    _require_manager(request, school.pk)
    form = IssueForm(request.POST, candidates=selectors.issue_candidates(school.pk))
    if form.is_valid():
        data = form.cleaned_data
        # The choices are the school's own security staff; the service checks again.
        staff = Staff.objects.filter(pk=data["staff_id"], school_id=school.pk).first()
        try:
            services.equipment_issue(
                actor=request.user,
                school=school,
                equipment_type=row.item,
                staff=staff,
                quantity=data["quantity"],
                issued_on=data["issued_on"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Issued."))
            return redirect("security:equipment_item", school.pk, row.item.pk)
    return _render_item(request, school, row, issue_form=form, status=400)


@login_required
@require_POST
def equipment_return(request, issue_id: int):
    issue = selectors.issue_get(actor=request.user, issue_id=_id(issue_id))
    school = issue.equipment.school
    _require_manager(request, school.pk)
    form = ReturnForm(request.POST)
    type_id = issue.equipment.equipment_type_id
    refusal, status = None, 400
    if form.is_valid():
        try:
            services.equipment_return(
                actor=request.user, issue=issue, returned_on=form.cleaned_data["returned_on"]
            )
        except services.EquipmentStateRefused as refused:
            refusal, status = refused.messages[0], 409
        except ValidationError as exc:
            refusal = " ".join(exc.messages)
        else:
            messages.success(request, _("Returned to the stock."))
            return redirect("security:equipment_item", school.pk, type_id)
    else:
        refusal = " ".join(str(m) for errors in form.errors.values() for m in errors)
    row = selectors.stock_row(actor=request.user, school=school, type_id=type_id)
    return _render_item(request, school, row, refusal=refusal, status=status)


# ------------------------------------------------------------------ the county list


def _keeper_region(request):
    """The county whose list is shown: ?region=, else the switcher's office's, else the
    first the user keeps."""
    raw = request.GET.get("region", "")
    if raw.isascii() and raw.isdigit() and len(raw) <= 18:
        return selectors.require_keeper(request.user, _id(int(raw)))
    membership = active_membership(request)
    regions = selectors.keeper_regions(request.user)
    for region in regions:
        if membership is not None and membership.organization.region_id == region.pk:
            return region
    return selectors.require_keeper(request.user)


def _render_types(request, region, *, form=None, refusal=None, status=200):
    return render(
        request,
        "security/equipment/types.html",
        {
            "region": region,
            "regions": selectors.keeper_regions(request.user),
            "items": selectors.county_list(region),
            "form": form or EquipmentTypeForm(),
            "refusal": refusal,
            "nav_active": NAV_TYPES,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def equipment_types(request):
    region = _keeper_region(request)
    if request.method == "GET":
        return _render_types(request, region)
    form = EquipmentTypeForm(request.POST)
    if form.is_valid():
        try:
            services.equipment_type_create(actor=request.user, region=region, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Item added; the county's schools are evaluated again."))
            return redirect(_types_url(region))
    return _render_types(request, region, form=form, status=400)


def _types_url(region) -> str:
    return f"{reverse('security:equipment_types')}?region={region.pk}"


@login_required
@require_http_methods(["GET", "POST"])
def equipment_type_edit(request, type_id: int):
    item = selectors.equipment_type_get(actor=request.user, type_id=_id(type_id))
    form = EquipmentTypeForm(request.POST or None, item=item)
    if request.method == "POST" and form.is_valid():
        try:
            services.equipment_type_update(
                actor=request.user, equipment_type=item, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Saved; the county's schools are evaluated again."))
            return redirect(_types_url(item.region))
    return render(
        request,
        "security/equipment/type_form.html",
        {"form": form, "item": item, "nav_active": NAV_TYPES},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_POST
def equipment_type_move(request, type_id: int):
    item = selectors.equipment_type_get(actor=request.user, type_id=_id(type_id))
    direction = request.POST.get("direction", "")
    try:
        services.equipment_type_move(actor=request.user, equipment_type=item, direction=direction)
    except ValidationError as exc:
        return _types_error(request, item.region, exc)
    return redirect(_types_url(item.region))


def _types_error(request, region, exc: ValidationError):
    return _render_types(request, region, refusal=" ".join(exc.messages), status=400)


@login_required
@require_POST
def equipment_type_remove(request, type_id: int):
    item = selectors.equipment_type_get(actor=request.user, type_id=_id(type_id))
    try:
        deleted = services.equipment_type_remove(actor=request.user, equipment_type=item)
    except services.EquipmentStateRefused as refused:
        return _render_types(request, item.region, refusal=refused.messages[0], status=409)
    if deleted:
        messages.success(request, _("Item deleted."))
    else:
        messages.warning(
            request,
            _(
                "Schools hold this item, so it stays on the list as not required; "
                "their stock records are kept."
            ),
        )
    return redirect(_types_url(item.region))


urlpatterns = [
    path("schools/<int:school_id>/equipment/", equipment, name="equipment"),
    path("schools/<int:school_id>/equipment/<int:type_id>/", equipment_item, name="equipment_item"),
    path(
        "schools/<int:school_id>/equipment/<int:type_id>/issue/",
        equipment_issue,
        name="equipment_issue",
    ),
    path("equipment/issues/<int:issue_id>/return/", equipment_return, name="equipment_return"),
    path("equipment-types/", equipment_types, name="equipment_types"),
    path("equipment-types/<int:type_id>/", equipment_type_edit, name="equipment_type_edit"),
    path("equipment-types/<int:type_id>/move/", equipment_type_move, name="equipment_type_move"),
    path(
        "equipment-types/<int:type_id>/remove/",
        equipment_type_remove,
        name="equipment_type_remove",
    ),
]
