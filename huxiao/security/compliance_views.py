"""Pages of computed compliance (issue 7 item 4; ADR 0028 "Compliance"): a school's
verdicts with what it lacks, the town and county overviews with 达标率 and 联网率 and their
drill-down, a police station's schools, and the county's rule set. Parse → call a
selector/service → render.

Someone who may view no school gets 403; a school or town out of reach 404; an overview
for a school member 403; the rule set for anyone but the county's offices 403 (`?region=`
names one of several counties a keeper has; another county 404); a form with
errors 400 with the errors in place; a success redirects.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.core.context import active_membership
from huxiao.security import compliance_selectors as selectors
from huxiao.security import compliance_services as services
from huxiao.security.compliance_forms import OverviewFilterForm, RuleSetForm

MAX_ID = 2**63 - 1
NAV = "security_compliance"
# Where the facts of each rule area are kept (pages of the other areas).
AREA_PAGES = {
    "personnel": "security:personnel",
    "equipment": "security:equipment",
    "defence": "security:defence",
    "rounds": "duty:rounds",
}
AREA_LABELS = {
    "personnel": gettext_lazy("Guards and security staff"),
    "equipment": gettext_lazy("Protective equipment"),
    "defence": gettext_lazy("Technical and physical defences"),
    "rounds": gettext_lazy("Patrol rounds"),
}


def _id(value: int) -> int:
    if value > MAX_ID:
        raise Http404
    return value


def _area_links(school_id: int) -> dict[str, str]:
    """The fact pages of the school; a page not built yet is simply not linked."""
    links = {}
    for area, name in AREA_PAGES.items():
        try:
            links[area] = reverse(name, args=[school_id])
        except NoReverseMatch:
            continue
    return links


# ------------------------------------------------------------------ home


@login_required
@require_safe
def compliance_home(request):
    name, args = selectors.home_target(request.user)
    return redirect(name, *args)


# ------------------------------------------------------------------ one school


def _render_school(request, school_id: int, *, status=200):
    school, record = selectors.school_compliance(actor=request.user, school_id=school_id)
    rows = selectors.verdict_rows(record)
    links = _area_links(school.pk)
    for row in rows:
        row.link = links.get(row.area)
    area_links = [(links[area], AREA_LABELS[area]) for area in AREA_PAGES if area in links]
    return render(
        request,
        "security/compliance/school.html",
        {
            "school": school,
            "record": record,
            "rows": rows,
            "failing": [r for r in rows if r.verdict == "fail"],
            "area_links": area_links,
            "may_reevaluate": services.may_reevaluate(request.user, school),
            "may_overview": selectors.is_overview_reader(request.user),
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_safe
def compliance_school(request, school_id: int):
    return _render_school(request, _id(school_id))


@login_required
@require_POST
def compliance_reevaluate(request, school_id: int):
    services.compliance_reevaluate(actor=request.user, school_id=_id(school_id))
    messages.success(request, _("Evaluated again against the county's rules."))
    return redirect("security:compliance_school", school_id)


# ------------------------------------------------------------------ overviews


def overview_filters(params):
    """The schools table's drill-down (`rule`, `verdict`), for the page and its export:
    (form, rule, verdict); an invalid filter shows every school and the form's errors."""
    form = OverviewFilterForm(params or None)
    rule, verdict = form.filters()
    return form, rule, verdict


def _filter_form(request):
    form, rule, verdict = overview_filters(request.GET)
    status = 400 if form.is_bound and form.errors else 200
    return form, rule, verdict, status


@login_required
@require_safe
def compliance_town(request, town_id: int):
    form, rule, verdict, status = _filter_form(request)
    overview = selectors.town_overview(
        actor=request.user, town_id=_id(town_id), rule=rule, verdict=verdict
    )
    return render(
        request,
        "security/compliance/overview.html",
        {
            "overview": overview,
            "rates": overview.rates,
            "title": overview.town.name,
            "town": overview.town,
            "form": form,
            "filtered": bool(rule or verdict),
            "back": reverse("security:compliance_county"),
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_safe
def compliance_schools(request):
    form, rule, verdict, status = _filter_form(request)
    overview = selectors.schools_overview(actor=request.user, rule=rule, verdict=verdict)
    return render(
        request,
        "security/compliance/overview.html",
        {
            "overview": overview,
            "rates": overview.rates,
            "title": _("Compliance of my schools"),
            "town": None,
            "form": form,
            "filtered": bool(rule or verdict),
            "back": "",
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_safe
def compliance_county(request):
    overview = selectors.county_overview(actor=request.user)
    return render(
        request,
        "security/compliance/county.html",
        {
            "overview": overview,
            "rates": overview.rates,
            "may_edit_rules": bool(services.rules_manager_regions(request.user)),
            "nav_active": NAV,
        },
    )


# ------------------------------------------------------------------ the rule set


def _rules_region_id(request) -> int | None:
    """The county whose rules are shown: ?region= (404 if not theirs), else the county of
    the office chosen in the switcher, else the first the user keeps."""
    raw = request.GET.get("region", "")
    if raw.isascii() and raw.isdigit() and len(raw) <= 18:
        return _id(int(raw))
    membership = active_membership(request)
    if membership is not None:
        region_id = membership.organization.region_id
        if region_id in services.rules_manager_regions(request.user):
            return region_id
    return None


def _rules_url(region) -> str:
    return f"{reverse('security:rules')}?region={region.pk}"


@login_required
@require_http_methods(["GET", "POST"])
def rules_page(request):
    region, rules = services.rule_list(actor=request.user, region_id=_rules_region_id(request))
    form = RuleSetForm(request.POST or None, rules=rules)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.rules_update(actor=request.user, region=region, changes=form.changes())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            if not saved.changed:
                messages.info(request, _("Nothing changed."))
            elif saved.evaluated is None:
                messages.success(
                    request, _("Rules saved; the county's schools are being evaluated again.")
                )
            else:
                messages.success(
                    request,
                    ngettext(
                        "Rules saved; %(n)s school evaluated again.",
                        "Rules saved; %(n)s schools evaluated again.",
                        saved.evaluated,
                    )
                    % {"n": saved.evaluated},
                )
            return redirect(_rules_url(region))
    return render(
        request,
        "security/compliance/rules.html",
        {
            "region": region,
            "regions": services.rules_manager_counties(request.user),
            "form": form,
            "nav_active": NAV,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


urlpatterns = [
    path("compliance/", compliance_home, name="compliance_home"),
    path("compliance/county/", compliance_county, name="compliance_county"),
    path("compliance/schools/", compliance_schools, name="compliance_schools"),
    path("compliance/schools/<int:school_id>/", compliance_school, name="compliance_school"),
    path(
        "compliance/schools/<int:school_id>/evaluate/",
        compliance_reevaluate,
        name="compliance_reevaluate",
    ),
    path("compliance/towns/<int:town_id>/", compliance_town, name="compliance_town"),
    path("rules/", rules_page, name="rules"),
]
