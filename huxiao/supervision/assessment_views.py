"""Pages of assessment and ranking (issue 6 item 5, ADR 0027): schemes (list, detail,
editor, copy), manual scores, computing and publishing a ranking, the ranking per school
and per town, a school's own results, and the one-vote veto. Parse → call → render.

Someone who may assess nowhere gets 403 on the assessors' pages (a school member is sent
to their school's results instead); a scheme, run, school or veto out of reach is 404; a
right missing on one's own scope is 403; a write the state refuses (published, revoked,
switched off) is 409 with the reason; bad input is 400 with the errors in place.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.core.roles import Action
from huxiao.core.scoping import can
from huxiao.orgs.models import Organization
from huxiao.supervision import assessment_selectors as sel
from huxiao.supervision import assessment_services as services
from huxiao.supervision import indicators as registry
from huxiao.supervision.assessment_forms import (
    ComputeForm,
    CopyForm,
    IndicatorFormSet,
    RankingFilterForm,
    RevokeForm,
    SchemeForm,
    VetoForm,
    indicator_initial,
    indicator_rows,
)
from huxiao.supervision.choices import RunStatus
from huxiao.supervision.models import ManualScore

NAV = "supervision_assessment"
PAGE_SIZE = 100
T = "supervision/assessment/"


def _refused_message(exc: ValidationError) -> str:
    return exc.messages[0] if exc.messages else _("This cannot be done now.")


# ------------------------------------------------------------------ home and schemes


@login_required
@require_safe
def assessment_home(request):
    """Assessors: the schemes. A school member: their school's results."""
    actor = request.user
    if not sel.is_assessor(actor):
        schools = [s for s in sel.own_schools(actor) if can(actor, Action.VIEW, s.pk)]
        if len(schools) == 1:
            return redirect("supervision:assessment_school", schools[0].pk)
        if not schools:
            raise PermissionDenied(_("Your role does not allow this action."))
        return render(request, T + "my_schools.html", {"schools": schools, "nav_active": NAV})
    schemes = list(sel.scheme_list(actor=actor))
    return render(
        request,
        T + "scheme_list.html",
        {
            "schemes": schemes,
            "managed": {s.pk for s in schemes if sel.may_manage(actor, s)},
            "can_create": bool(sel.assessor_offices(actor)),
            "can_veto": sel.may_hold_accountable(actor),
            "nav_active": NAV,
        },
    )


def _scheme_form_context(request, form, formset, *, scheme=None, refusal=None, frozen=False):
    return {
        "form": form,
        "formset": formset,
        "scheme": scheme,
        "sources": registry.sources(),
        "refusal": refusal,
        "frozen": frozen,
        "nav_active": NAV,
    }


@login_required
@require_http_methods(["GET", "POST"])
def scheme_new(request):
    offices = sel.assessor_offices(request.user)
    if not offices:
        raise PermissionDenied(_("Your role does not allow this action."))
    initial = {
        "owner": offices[0].pk,
        "period_kind": "month",
        "excellent_from": 90,
        "good_from": 80,
        "pass_from": 60,
        "is_active": True,
    }
    form = SchemeForm(request.POST or None, offices=offices, initial=initial)
    formset = IndicatorFormSet(request.POST or None, prefix="ind")
    if request.method == "POST":
        if form.is_valid() and formset.is_valid():
            data = form.cleaned_data
            try:
                scheme = services.scheme_create(
                    actor=request.user,
                    owner=data["owner"],
                    name=data["name"],
                    description=data["description"],
                    period_kind=data["period_kind"],
                    excellent_from=data["excellent_from"],
                    good_from=data["good_from"],
                    pass_from=data["pass_from"],
                    is_active=data["is_active"],
                    indicators=indicator_rows(formset),
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Assessment scheme saved."))
                return redirect("supervision:assessment_scheme", scheme.pk)
        return render(
            request,
            T + "scheme_form.html",
            _scheme_form_context(request, form, formset),
            status=400,
        )
    return render(request, T + "scheme_form.html", _scheme_form_context(request, form, formset))


@login_required
@require_http_methods(["GET", "POST"])
def scheme_edit(request, scheme_id: int):
    actor = request.user
    scheme = sel.scheme_get(actor=actor, scheme_id=scheme_id)
    if not sel.may_manage(actor, scheme):
        raise PermissionDenied(_("Only the office that owns this scheme may change or compute it."))
    frozen = sel.has_published_runs(scheme)
    initial = {
        "owner": scheme.owner_id,
        "name": scheme.name,
        "description": scheme.description,
        "period_kind": scheme.period_kind,
        "excellent_from": scheme.excellent_from,
        "good_from": scheme.good_from,
        "pass_from": scheme.pass_from,
        "is_active": scheme.is_active,
    }
    form = SchemeForm(
        request.POST or None,
        offices=[scheme.owner],
        initial=initial,
        frozen=frozen,
    )
    formset = IndicatorFormSet(
        request.POST or None,
        prefix="ind",
        initial=indicator_initial(sel.scheme_indicators(scheme)),
    )
    if request.method == "POST":
        status, refusal = 400, None
        # A frozen scheme's indicators are not sent back for saving (see the template).
        if form.is_valid() and (frozen or formset.is_valid()):
            data = form.cleaned_data
            try:
                services.scheme_update(
                    actor=actor,
                    scheme=scheme,
                    name=data["name"],
                    description=data["description"],
                    period_kind=data["period_kind"],
                    excellent_from=data["excellent_from"],
                    good_from=data["good_from"],
                    pass_from=data["pass_from"],
                    is_active=data["is_active"],
                    indicators=None if frozen else indicator_rows(formset),
                )
            except services.AssessmentRefused as exc:
                status, refusal = 409, _refused_message(exc)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Assessment scheme saved."))
                return redirect("supervision:assessment_scheme", scheme.pk)
        return render(
            request,
            T + "scheme_form.html",
            _scheme_form_context(
                request, form, formset, scheme=scheme, refusal=refusal, frozen=frozen
            ),
            status=status,
        )
    return render(
        request,
        T + "scheme_form.html",
        _scheme_form_context(request, form, formset, scheme=scheme, frozen=frozen),
    )


def _render_scheme(request, scheme, *, compute_form=None, copy_form=None, refusal=None, status=200):
    actor = request.user
    runs = list(sel.run_list(actor=actor, scheme=scheme)[:24])
    indicators = sel.scheme_indicators(scheme)
    return render(
        request,
        T + "scheme_detail.html",
        {
            "scheme": scheme,
            "indicators": [(ind, registry.get_source(ind.source)) for ind in indicators],
            "has_manual": any(ind.source == registry.MANUAL for ind in indicators),
            "runs": runs,
            "may_manage": sel.may_manage(actor, scheme),
            "may_copy": bool(sel.assessor_offices(actor)),
            "frozen": sel.has_published_runs(scheme),
            "compute_form": compute_form or ComputeForm(initial={"date": sel.local_today()}),
            "copy_form": copy_form or CopyForm(),
            "refusal": refusal,
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_safe
def scheme_detail(request, scheme_id: int):
    scheme = sel.scheme_get(actor=request.user, scheme_id=scheme_id)
    return _render_scheme(request, scheme)


@login_required
@require_POST
def scheme_copy(request, scheme_id: int):
    scheme = sel.scheme_get(actor=request.user, scheme_id=scheme_id)
    form = CopyForm(request.POST)
    if form.is_valid():
        try:
            copy = services.scheme_copy(
                actor=request.user, scheme=scheme, name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Copy made; edit it below."))
            return redirect("supervision:assessment_scheme_edit", copy.pk)
    return _render_scheme(request, scheme, copy_form=form, status=400)


@login_required
@require_POST
def run_compute(request, scheme_id: int):
    scheme = sel.scheme_get(actor=request.user, scheme_id=scheme_id)
    form = ComputeForm(request.POST)
    if form.is_valid():
        try:
            run = services.assessment_compute(
                actor=request.user, scheme=scheme, day=form.cleaned_data["date"]
            )
        except services.AssessmentRefused as exc:
            return _render_scheme(
                request, scheme, compute_form=form, refusal=_refused_message(exc), status=409
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Ranking computed (draft)."))
            return redirect("supervision:assessment_run", run.pk)
    return _render_scheme(request, scheme, compute_form=form, status=400)


# ------------------------------------------------------------------ manual scores


def _score_key(indicator_id: int, school_id: int) -> str:
    return f"s-{indicator_id}-{school_id}"


@login_required
@require_http_methods(["GET", "POST"])
def manual_scores(request, scheme_id: int):
    actor = request.user
    scheme = sel.scheme_get(actor=actor, scheme_id=scheme_id)
    if not sel.may_manage(actor, scheme):
        raise PermissionDenied(_("Only the office that owns this scheme may change or compute it."))
    indicators = [i for i in sel.scheme_indicators(scheme) if i.source == registry.MANUAL]
    raw_date = request.POST.get("date") if request.method == "POST" else request.GET.get("date")
    errors: dict[str, list[str]] = {}
    day = sel.local_today()
    if raw_date:
        try:
            day = services.clean_day(raw_date)
        except ValidationError as exc:
            errors["date"] = [str(m) for m in exc.messages]
    period = sel.period_of(scheme.period_kind, day)
    schools = list(sel.covered_schools(scheme.owner).order_by("town__name", "name"))
    existing = {
        (s.indicator_id, s.school_id): s
        for s in ManualScore.objects.filter(
            indicator__in=indicators, period_start=period.start, school__in=schools
        )
    }
    posted = request.POST if request.method == "POST" and not errors else None
    status = 200
    if posted is not None:
        entries = []
        for ind in indicators:
            for school in schools:
                key = _score_key(ind.pk, school.pk)
                if key not in posted:
                    continue
                current = existing.get((ind.pk, school.pk))
                value = posted.get(key, "").strip()
                if not value and current is None:
                    continue
                entries.append(
                    {
                        "indicator_id": ind.pk,
                        "school_id": school.pk,
                        "percent": value,
                        "note": current.note if current else "",
                    }
                )
        try:
            count = services.manual_scores_save(
                actor=actor, scheme=scheme, day=day, entries=entries
            )
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
            status = 400
        else:
            messages.success(request, _("%(n)s score(s) saved.") % {"n": count})
            return redirect(f"{request.path}?date={period.start.isoformat()}")
    elif errors:
        status = 400
    rows = []
    for school in schools:
        cells = []
        for ind in indicators:
            key = _score_key(ind.pk, school.pk)
            current = existing.get((ind.pk, school.pk))
            value = (
                posted.get(key, "") if posted is not None else (current.percent if current else "")
            )
            cells.append(
                {
                    "key": key,
                    "value": value,
                    "errors": errors.get(f"{ind.pk}-{school.pk}", []),
                }
            )
        rows.append({"school": school, "cells": cells})
    return render(
        request,
        T + "manual_scores.html",
        {
            "scheme": scheme,
            "indicators": indicators,
            "rows": rows,
            "period": period,
            "day": day,
            "date_errors": errors.get("date", []),
            "other_errors": errors.get("", []),
            "nav_active": NAV,
        },
        status=status,
    )


# ------------------------------------------------------------------ the ranking


def ranking_filters(actor, run, params):
    """The ranking's towns, town filter form and chosen town (page and export)."""
    towns = sel.run_towns(actor=actor, run=run)
    form = RankingFilterForm(params or None, towns=[t.town for t in towns])
    town_id = None
    if form.is_bound and form.is_valid():
        town_id = form.cleaned_data["town"]
    return towns, form, town_id


def _render_run(request, run, *, refusal=None, status=200):
    actor = request.user
    towns, form, town_id = ranking_filters(actor, run, request.GET)
    indicators = sel.scheme_indicators(run.scheme)
    page = Paginator(sel.run_results(actor=actor, run=run, town_id=town_id), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [{"result": r, "cells": sel.cells_of(r, indicators)} for r in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        T + "run_ranking.html",
        {
            "run": run,
            "scheme": run.scheme,
            "period": sel.period_of(run.scheme.period_kind, run.period_start),
            "indicators": indicators,
            "rows": rows,
            "page": page,
            "query": query.urlencode(),
            "towns": towns,
            "ranked": sel.ranked_count(run),
            "form": form,
            "may_manage": sel.may_manage(actor, run.scheme),
            "can_veto": sel.may_hold_accountable(actor),
            "is_draft": run.status == RunStatus.DRAFT,
            "refusal": refusal,
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_safe
def run_ranking(request, run_id: int):
    run = sel.run_get(actor=request.user, run_id=run_id)
    return _render_run(request, run)


@login_required
@require_POST
def run_recompute(request, run_id: int):
    """Compute the run's period again (a new draft; a published run stays)."""
    run = sel.run_get(actor=request.user, run_id=run_id)
    try:
        new = services.assessment_compute(
            actor=request.user, scheme=run.scheme, day=min(run.period_end, sel.local_today())
        )
    except services.AssessmentRefused as exc:
        return _render_run(request, run, refusal=_refused_message(exc), status=409)
    except ValidationError as exc:
        return _render_run(request, run, refusal=" ".join(exc.messages), status=400)
    messages.success(request, _("Ranking computed (draft)."))
    return redirect("supervision:assessment_run", new.pk)


@login_required
@require_POST
def run_publish(request, run_id: int):
    run = sel.run_get(actor=request.user, run_id=run_id)
    try:
        services.assessment_publish(actor=request.user, run=run)
    except services.AssessmentRefused as exc:
        run = sel.run_get(actor=request.user, run_id=run_id)
        return _render_run(request, run, refusal=_refused_message(exc), status=409)
    messages.success(request, _("Ranking published; each school's principal has been told."))
    return redirect("supervision:assessment_run", run.pk)


# ------------------------------------------------------------------ a school's own results


@login_required
@require_safe
def school_result(request, school_id: int):
    results = sel.school_results(actor=request.user, school_id=school_id)
    school = Organization.objects.get(pk=school_id)
    return render(
        request,
        T + "school_result.html",
        {"school": school, "results": results, "nav_active": NAV},
    )


# ------------------------------------------------------------------ the one-vote veto


def veto_school_param(params) -> int | None:
    """The veto list's `school` filter (page and export); anything but an id is ignored."""
    raw = params.get("school", "")
    if raw.isascii() and raw.isdigit() and len(raw) <= 12:
        return int(raw)
    return None


def _render_vetoes(request, *, form=None, status=200, refusal=None):
    actor = request.user
    school_id = veto_school_param(request.GET)
    schools = sel.veto_schools(actor)
    if form is None and schools:
        initial = {"period_kind": "month", "date": sel.local_today()}
        if school_id is not None:
            initial["school"] = school_id
        form = VetoForm(schools=schools, initial=initial)
    vetoes = list(sel.veto_list(actor=actor, school_id=school_id)[:200])
    return render(
        request,
        T + "vetoes.html",
        {
            "vetoes": vetoes,
            "form": form,
            "revoke_form": RevokeForm(),
            "can_veto": bool(schools),
            "revocable": {
                v.pk
                for v in vetoes
                if v.revoked_at is None and can(actor, Action.HOLD_ACCOUNTABLE, v.school_id)
            },
            "refusal": refusal,
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def veto_list(request):
    actor = request.user
    sel.require_assessor(actor)
    if request.method == "GET":
        return _render_vetoes(request)
    schools = sel.veto_schools(actor)
    if not schools:
        raise PermissionDenied(_("Your role does not allow this action."))
    form = VetoForm(request.POST, schools=schools)
    if form.is_valid():
        data = form.cleaned_data
        school = next(s for s in schools if s.pk == data["school"])
        try:
            services.veto_record(
                actor=actor,
                school=school,
                day=data["date"],
                period_kind=data["period_kind"],
                reason=data["reason"],
            )
        except services.AssessmentRefused as exc:
            return _render_vetoes(request, form=form, status=409, refusal=_refused_message(exc))
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request, _("One-vote veto recorded; recompute the ranking to apply it.")
            )
            return redirect("supervision:assessment_vetoes")
    return _render_vetoes(request, form=form, status=400)


@login_required
@require_POST
def veto_revoke(request, veto_id: int):
    actor = request.user
    sel.require_assessor(actor)
    veto = sel.veto_get(actor=actor, veto_id=veto_id)
    form = RevokeForm(request.POST)
    if not form.is_valid():
        return _render_vetoes(request, status=400, refusal=_("Give a reason for revoking."))
    try:
        services.veto_revoke(actor=actor, veto=veto, reason=form.cleaned_data["reason"])
    except services.AssessmentRefused as exc:
        return _render_vetoes(request, status=409, refusal=_refused_message(exc))
    except ValidationError as exc:
        return _render_vetoes(request, status=400, refusal=" ".join(exc.messages))
    messages.success(request, _("Veto revoked; recompute the ranking to apply it."))
    return redirect("supervision:assessment_vetoes")


urlpatterns = [
    path("assessment/", assessment_home, name="assessment_home"),
    path("assessment/schemes/new/", scheme_new, name="assessment_scheme_new"),
    path("assessment/schemes/<int:scheme_id>/", scheme_detail, name="assessment_scheme"),
    path("assessment/schemes/<int:scheme_id>/edit/", scheme_edit, name="assessment_scheme_edit"),
    path("assessment/schemes/<int:scheme_id>/copy/", scheme_copy, name="assessment_scheme_copy"),
    path("assessment/schemes/<int:scheme_id>/compute/", run_compute, name="assessment_compute"),
    path("assessment/schemes/<int:scheme_id>/scores/", manual_scores, name="assessment_scores"),
    path("assessment/runs/<int:run_id>/", run_ranking, name="assessment_run"),
    path("assessment/runs/<int:run_id>/recompute/", run_recompute, name="assessment_recompute"),
    path("assessment/runs/<int:run_id>/publish/", run_publish, name="assessment_publish"),
    path("assessment/schools/<int:school_id>/", school_result, name="assessment_school"),
    path("assessment/vetoes/", veto_list, name="assessment_vetoes"),
    path("assessment/vetoes/<int:veto_id>/revoke/", veto_revoke, name="assessment_veto_revoke"),
]
