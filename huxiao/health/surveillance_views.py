"""Pages of the surveillance (issue 9 item 4; §3 3; ADR 0032 "Surveillance"): parse → call a
selector/service → render.

- `health:rules` /health/rules/?region=: the county's cluster-alert rules (VIEW_HEALTH
  holders read; the county's keepers — county-level MANAGE_HEALTH_RULES — edit)
- `health:alerts` /health/alerts/?status=&school=: alerts in scope, open first
- `health:alert` /health/alerts/<id>/: one alert (four-party directory; each view logged)
- `health:alert_close` POST /health/alerts/<id>/close/: close with the handling note
- `health:alert_link_case` POST /health/alerts/<id>/case/: link the alert to a case
- `health:surveillance` /health/schools/<id>/surveillance/?days=14: a school's days
- `health:surveillance_town` /health/surveillance/: the schools in scope, today

Nobody with VIEW_HEALTH anywhere (police, teachers) gets 403; a school or alert out of reach
404; a step the role does not allow 403; closing a closed alert 409; a form or query with
errors 400 with the errors in place; a success redirects.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.core.roles import Action
from huxiao.core.scoping import can
from huxiao.duty.duty_selectors import schools_in_scope
from huxiao.duty.duty_views import service_errors
from huxiao.health import surveillance_selectors as sel
from huxiao.health import surveillance_services as services
from huxiao.health.choices import AlertStatus
from huxiao.health.reads import log_health_read
from huxiao.health.surveillance_forms import (
    AddRuleForm,
    AlertFilterForm,
    CloseAlertForm,
    DaysForm,
    LinkCaseForm,
    RuleSetForm,
)

NAV_ALERTS = "health_alerts"
NAV_RULES = "health_rules"
NAV_SURVEILLANCE = "health_surveillance"
PAGE_SIZE = 30
TOWN_PAGE_SIZE = 100
READ_PURPOSE = "cluster alert"


# ------------------------------------------------------------------ rules


def _region_id(request) -> int | None:
    raw = request.GET.get("region", "")
    if raw.isascii() and raw.isdigit() and len(raw) <= 18:
        return sel._id(raw)
    return None


@login_required
@require_http_methods(["GET", "POST"])
def rules_page(request):
    view = sel.rules_view(actor=request.user, region_id=_region_id(request))
    posted = request.method == "POST"
    adding = posted and request.POST.get("action") == "add"
    form = RuleSetForm(request.POST if posted and not adding else None, rules=view.rules)
    add_form = AddRuleForm(request.POST if adding else None)
    bound = add_form if adding else form
    if posted:
        if not view.editable:
            # The service is the judge: it answers 403 for anyone who keeps no county.
            services.require_keeper(request.user, view.region.pk)
        if bound.is_valid():
            try:
                if adding:
                    services.cluster_rule_create(
                        actor=request.user, region=view.region, **add_form.cleaned_data
                    )
                    changed = True
                else:
                    changed = services.cluster_rules_set(
                        actor=request.user, region=view.region, rules=form.changes()
                    )
            except ValidationError as exc:
                bound.add_service_errors(exc)
            else:
                messages.success(request, _("Rules saved.") if changed else _("Nothing changed."))
                return redirect(f"{reverse('health:rules')}?region={view.region.pk}")
    return render(
        request,
        "health/surveillance_rules.html",
        {
            "view": view,
            "form": form,
            "add_form": add_form,
            "nav_active": NAV_RULES,
        },
        status=400 if posted and bound.errors else 200,
    )


# ------------------------------------------------------------------ alerts


def alert_filters(actor, query):
    """The schools whose health the actor sees (403 when none), the filter form, and the
    status and school it gives (none when the form has errors; a school out of reach 404):
    the page and its export."""
    ids = sel.require_viewer(actor)
    schools = list(schools_in_scope(actor, Action.VIEW_HEALTH)[:500]) if len(ids) > 1 else []
    form = AlertFilterForm(query or None, schools=schools)
    status, school_id = "", None
    if form.is_bound and form.is_valid():
        status = form.cleaned_data["status"]
        school_id = form.cleaned_data["school"]
    if school_id is not None:
        school_id = sel.health_school_get(actor=actor, school_id=school_id).pk
    return ids, form, status, school_id


@login_required
@require_safe
def alert_list(request):
    ids, form, status, school_id = alert_filters(request.user, request.GET)
    status_code = 400 if form.is_bound and form.errors else 200
    page = Paginator(
        sel.alert_list(actor=request.user, status=status, school_id=school_id), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    for alert in page.object_list:
        alert.kids = sel.children_of(alert)
    query = "&".join(f"{k}={v}" for k, v in (("status", status), ("school", school_id or "")) if v)
    return render(
        request,
        "health/surveillance_alerts.html",
        {
            "page": page,
            "form": form,
            "several_schools": len(ids) > 1,
            "query": query,
            "nav_active": NAV_ALERTS,
        },
        status=status_code,
    )


def _render_alert(request, alert, *, close_form=None, link_form=None, refusal="", status=200):
    may_manage = can(request.user, Action.MANAGE_HEALTH, alert.school_id)
    cases = sel.cases_to_link(alert) if may_manage else []
    if may_manage:
        close_form = close_form or CloseAlertForm()
        link_form = link_form or LinkCaseForm(initial={"case_id": alert.case_id}, cases=cases)
    log_health_read(actor=request.user, obj=alert, purpose=READ_PURPOSE)
    return render(
        request,
        "health/surveillance_alert.html",
        {
            "alert": alert,
            "kids": sel.children_of(alert),
            "case_url": sel.link("health:case", alert.case_id) if alert.case_id else "",
            "may_manage": may_manage,
            "is_open": alert.status == AlertStatus.OPEN,
            "close_form": close_form if may_manage else None,
            "link_form": link_form if may_manage and cases else None,
            "refusal": refusal,
            "surveillance_url": reverse("health:surveillance", args=[alert.school_id]),
            "nav_active": NAV_ALERTS,
        },
        status=status,
    )


@login_required
@require_safe
def alert_detail(request, alert_id: int):
    sel.require_viewer(request.user)
    return _render_alert(request, sel.alert_get(actor=request.user, alert_id=alert_id))


@login_required
@require_POST
def alert_close(request, alert_id: int):
    sel.require_viewer(request.user)
    alert = sel.alert_get(actor=request.user, alert_id=alert_id)
    services.require_manager(request.user, alert)
    form = CloseAlertForm(request.POST)
    if not form.is_valid():
        return _render_alert(request, alert, close_form=form, status=400)
    try:
        services.cluster_alert_close(
            actor=request.user, alert_id=alert.pk, note=form.cleaned_data["note"]
        )
    except services.AlertConflict as conflict:
        return _render_alert(request, alert, refusal=conflict.messages[0], status=409)
    except ValidationError as exc:
        return _render_alert(request, alert, close_form=service_errors(form, exc), status=400)
    messages.success(request, _("Alert closed."))
    return redirect("health:alert", alert.pk)


@login_required
@require_POST
def alert_link_case(request, alert_id: int):
    sel.require_viewer(request.user)
    alert = sel.alert_get(actor=request.user, alert_id=alert_id)
    services.require_manager(request.user, alert)
    form = LinkCaseForm(request.POST, cases=sel.cases_to_link(alert))
    if not form.is_valid():
        return _render_alert(request, alert, link_form=form, status=400)
    try:
        services.cluster_alert_link_case(
            actor=request.user, alert_id=alert.pk, case_id=form.cleaned_data["case_id"]
        )
    except ValidationError as exc:
        return _render_alert(request, alert, link_form=service_errors(form, exc), status=400)
    messages.success(
        request,
        _("Alert linked to the case.") if form.cleaned_data["case_id"] else _("Link removed."),
    )
    return redirect("health:alert", alert.pk)


# ------------------------------------------------------------------ overviews


@login_required
@require_safe
def school_surveillance(request, school_id: int):
    form = DaysForm(request.GET or None)
    days = form.days_or_default()
    data = sel.school_surveillance(actor=request.user, school_id=school_id, days=days)
    return render(
        request,
        "health/surveillance_school.html",
        {
            "data": data,
            "school": data.school,
            "form": form,
            "days": days,
            "export_query": f"school={data.school.pk}&days={days}",
            "several_schools": len(sel.require_viewer(request.user)) > 1,
            "nav_active": NAV_SURVEILLANCE,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_safe
def town_surveillance(request):
    today = timezone.localdate()
    rows = sel.schools_today(actor=request.user, today=today)
    page = Paginator(rows, TOWN_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "health/surveillance_town.html",
        {
            "page": page,
            "today": today,
            "open_alerts": sum(r.open_alerts for r in rows),
            "open_cases": sum(r.open_cases for r in rows),
            "nav_active": NAV_SURVEILLANCE,
        },
    )


urlpatterns = [
    path("rules/", rules_page, name="rules"),
    path("alerts/", alert_list, name="alerts"),
    path("alerts/<int:alert_id>/", alert_detail, name="alert"),
    path("alerts/<int:alert_id>/close/", alert_close, name="alert_close"),
    path("alerts/<int:alert_id>/case/", alert_link_case, name="alert_link_case"),
    path("schools/<int:school_id>/surveillance/", school_surveillance, name="surveillance"),
    path("surveillance/", town_surveillance, name="surveillance_town"),
]
