"""Pages of activity compliance, terms and rules (issue 8 item 3; ADR 0030 "Compliance"):
parse → call a selector/service → render.

Someone who may view no school gets 403; a school or town out of reach 404; an overview
for a school member 403; terms and rules for anyone but the county's keepers 403 (`?region=`
names one of several counties a keeper has; another county 404); bad query parameters or a
form with errors 400 with the message in place; a success redirects.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.core.context import active_membership
from huxiao.core.roles import Action
from huxiao.core.scoping import can
from huxiao.drills import compliance_selectors as selectors
from huxiao.drills import compliance_services as services
from huxiao.drills.compliance_forms import (
    DayForm,
    OverviewFilterForm,
    RuleSetForm,
    TermForm,
    format_breaks,
)

MAX_ID = 2**63 - 1
NAV = "drills_compliance"
NAV_RULES = "drills_rules"
NAV_TERMS = "drills_rules"  # reached from the rules page


def _id(value: int) -> int:
    if value > MAX_ID:
        raise Http404
    return value


def link(name: str, *args, query: str = "") -> str:
    """A URL of another area, or "" while its page is not built."""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return ""
    return f"{url}?{query}" if query else url


# ------------------------------------------------------------------ home and one school


@login_required
@require_safe
def compliance_home(request):
    name, args = selectors.home_target(request.user)
    return redirect(name, *args)


@login_required
@require_safe
def compliance_school(request, school_id: int):
    form = DayForm(request.GET or None)
    on = form.cleaned_data["on"] if form.is_bound and form.is_valid() else None
    school, result = selectors.school_compliance(
        actor=request.user, school_id=_id(school_id), on=on
    )
    rows = selectors.verdict_rows(result)
    may_plan = can(request.user, Action.RECORD_ACTIVITY, school.pk)
    for row in rows:
        query = f"school={school.pk}&kind={row.activity_kind}"
        row.plan_url = link("drills:activity_new", query=query) if may_plan else ""
    flags = selectors.school_flags(actor=request.user, school=school, result=result)
    return render(
        request,
        "drills/compliance_school.html",
        {
            "school": school,
            "result": result,
            "term": result.term,
            "rows": rows,
            "lacking": [r for r in rows if r.verdict in ("fail", "due", "no_data")],
            "flags": flags,
            "open_flags": [f for f in flags if f.is_open],
            "form": form,
            "calendar_url": f"{reverse('drills:calendar')}?school={school.pk}",
            "list_url": link("drills:activity_list", query=f"school={school.pk}"),
            "may_overview": selectors.is_overview_reader(request.user),
            "nav_active": NAV,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


# ------------------------------------------------------------------ overviews


def overview_filters(query):
    """The overviews' filter form and filters, and the page's status (400 when the filters
    are wrong): shared by the pages and their export."""
    form = OverviewFilterForm(query or None)
    rule, verdict, on = form.filters()
    return form, {"rule": rule, "verdict": verdict, "on": on}, 400 if form.errors else 200


@login_required
@require_safe
def compliance_town(request, town_id: int):
    form, filters, status = overview_filters(request.GET)
    overview = selectors.town_overview(actor=request.user, town_id=_id(town_id), **filters)
    query = request.GET.copy()
    query["town"] = overview.town.pk
    context = {
        "overview": overview,
        "title": overview.town.name,
        "form": form,
        "export_query": query.urlencode(),
    }
    return _render_overview(request, context, filters, status, back=True)


@login_required
@require_safe
def compliance_overview(request):
    form, filters, status = overview_filters(request.GET)
    overview = selectors.schools_overview(actor=request.user, **filters)
    context = {
        "overview": overview,
        "title": _("Safety activity compliance"),
        "form": form,
        "export_query": request.GET.urlencode(),
    }
    return _render_overview(request, context, filters, status, back=False)


def _render_overview(request, context, filters, status, *, back: bool):
    context.update(
        {
            "rates": context["overview"].rates,
            "filtered": bool(filters["rule"] or filters["verdict"]),
            "back": reverse("drills:compliance_overview") if back else "",
            "school_url": reverse("drills:compliance_school", args=[MAX_ID]),
            "may_keep": bool(services.keeper_regions(request.user)),
            "nav_active": NAV,
        }
    )
    return render(request, "drills/compliance_overview.html", context, status=status)


# ------------------------------------------------------------------ keepers


def region_param(query) -> int | None:
    """?region= of the keepers' pages (404 when not theirs, by the service)."""
    raw = query.get("region", "")
    if raw.isascii() and raw.isdigit() and len(raw) <= 18:
        return _id(int(raw))
    return None


def _region_id(request) -> int | None:
    """?region= (404 when not theirs, by the service), else the county of the office chosen
    in the switcher, else the first the keeper has."""
    region_id = region_param(request.GET)
    if region_id is not None:
        return region_id
    membership = active_membership(request)
    if membership is not None and membership.organization.region_id in services.keeper_regions(
        request.user
    ):
        return membership.organization.region_id
    return None


@login_required
@require_http_methods(["GET", "POST"])
def rules_page(request):
    region, rules = services.rule_list(actor=request.user, region_id=_region_id(request))
    form = RuleSetForm(request.POST or None, rules=rules)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.rules_update(
                actor=request.user, region=region, changes=form.changes()
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            text = _("Rules saved.") if changed else _("Nothing changed.")
            messages.success(request, text)
            return redirect(f"{reverse('drills:rules')}?region={region.pk}")
    return render(
        request,
        "drills/compliance_rules.html",
        {
            "region": region,
            "regions": services.keeper_counties(request.user),
            "form": form,
            "nav_active": NAV_RULES,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_safe
def term_list(request):
    region, terms = services.term_list(actor=request.user, region_id=_region_id(request))
    return render(
        request,
        "drills/term_list.html",
        {
            "region": region,
            "regions": services.keeper_counties(request.user),
            "terms": terms,
            "export_query": f"region={region.pk}",
            "nav_active": NAV_TERMS,
        },
    )


def _term_form(request, *, region, term=None):
    initial = None
    if term is not None:
        initial = {
            "name": term.name,
            "starts_on": term.starts_on,
            "ends_on": term.ends_on,
            "breaks": format_breaks(term.breaks),
        }
    form = TermForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if term is None:
                services.term_create(actor=request.user, region=region, **form.values())
            else:
                services.term_update(actor=request.user, term=term, **form.values())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Term saved."))
            return redirect(f"{reverse('drills:terms')}?region={region.pk}")
    return render(
        request,
        "drills/term_form.html",
        {"form": form, "term": term, "region": region, "nav_active": NAV_TERMS},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def term_new(request):
    region, _terms = services.term_list(actor=request.user, region_id=_region_id(request))
    return _term_form(request, region=region)


@login_required
@require_http_methods(["GET", "POST"])
def term_edit(request, term_id: int):
    term = services.term_get(actor=request.user, term_id=_id(term_id))
    return _term_form(request, region=term.region, term=term)


@login_required
@require_POST
def term_delete(request, term_id: int):
    term = services.term_get(actor=request.user, term_id=_id(term_id))
    region_id = term.region_id
    services.term_delete(actor=request.user, term=term)
    messages.success(request, _("Term deleted."))
    return redirect(f"{reverse('drills:terms')}?region={region_id}")


urlpatterns = [
    path("compliance/", compliance_home, name="compliance_home"),
    path("compliance/schools/", compliance_overview, name="compliance_overview"),
    path("compliance/schools/<int:school_id>/", compliance_school, name="compliance_school"),
    path("compliance/towns/<int:town_id>/", compliance_town, name="compliance_town"),
    path("rules/", rules_page, name="rules"),
    path("terms/", term_list, name="terms"),
    path("terms/new/", term_new, name="term_new"),
    path("terms/<int:term_id>/", term_edit, name="term_edit"),
    path("terms/<int:term_id>/delete/", term_delete, name="term_delete"),
]
