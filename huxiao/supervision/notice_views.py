"""Pages of notices (通报) and accountability records (问责), ADR 0027. Parse → call a
selector/service → render.

Anyone who belongs to an organization has a notice list (what was published to it); the
issuing office also sees its drafts and who read each notice. A notice outside the user's
reach is 404; a change the role does not allow is 403; a change the state does not allow
(editing a published notice) is 409 with the reason; a form with errors is 400 with the
errors in place; a success redirects. Accountability pages are for governance offices
(HOLD_ACCOUNTABLE) and, read-only, the principal of the school concerned; others 403/404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.core.context import active_membership
from huxiao.supervision import notice_selectors as selectors
from huxiao.supervision import notice_services as services
from huxiao.supervision.choices import NoticeKind, NoticeStatus
from huxiao.supervision.models import Notice
from huxiao.supervision.notice_forms import (
    AccountabilityFilterForm,
    AccountabilityForm,
    FollowUpForm,
    NoticeFilterForm,
    NoticeForm,
    PrefillForm,
    ResolveForm,
)

MAX_ID = 2**63 - 1
PAGE_SIZE = 30
NAV_NOTICES = "supervision_notices"
NAV_ACCOUNTABILITY = "supervision_accountability"


def _id(value: int) -> int:
    if value > MAX_ID:
        raise Http404
    return value


def _default_office(request, offices):
    """The office of the membership chosen in the switcher, else the first one."""
    membership = active_membership(request)
    for office in offices:
        if membership is not None and office.pk == membership.organization_id:
            return office
    return offices[0]


def _organizations(offices) -> list:
    seen, result = set(), []
    for office in offices:
        for org in services.scope_organizations(office):
            if org.pk not in seen:
                seen.add(org.pk)
                result.append(org)
    result.sort(key=lambda o: (not o.is_school, o.name, o.pk))
    return result


def _runs(offices) -> list:
    seen, result = set(), []
    for office in offices:
        for run in services.runs_for(office)[:20]:
            if run.pk not in seen:
                seen.add(run.pk)
                result.append(run)
    return result


# ------------------------------------------------------------------ notices: list


def notice_filters(actor, params):
    """The notice list's form, filters and whether the actor issues notices (page and
    export); invalid filters show every notice. 403 for those who read none."""
    selectors.require_notice_reader(actor)
    can_issue = bool(services.issuing_offices(actor))
    form = NoticeFilterForm(params or None, can_issue=can_issue)
    filters = selectors.NoticeFilters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = selectors.NoticeFilters(
            box=data["box"], kind=data["kind"], status=data.get("status", "")
        )
    return form, filters, can_issue


@login_required
@require_safe
def notice_list(request):
    form, filters, can_issue = notice_filters(request.user, request.GET)
    qs = selectors.notice_list(actor=request.user, filters=filters)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    today = services.local_today()
    issuers = {o.pk for o in services.issuing_offices(request.user)}
    rows = [
        {
            "notice": n,
            "manager": n.issuer_id in issuers,
            "days_left": selectors.days_left(n, today),
            "overdue": selectors.is_overdue(n, today),
        }
        for n in page.object_list
    ]
    return render(
        request,
        "supervision/notices/list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "box": filters.box,
            "query": query.urlencode(),
            "can_issue": can_issue,
            "nav_active": NAV_NOTICES,
        },
    )


# ------------------------------------------------------------------ notices: draft and edit


def _recipient_ids(form: NoticeForm, office) -> list[int]:
    """The addressees ticked, plus, with "all schools", the schools of the issuing office's
    own scope (not of every office the user belongs to)."""
    data = form.cleaned_data
    ids = set(data.get("recipients") or ())
    if data.get("all_schools"):
        ids.update(o.pk for o in services.scope_organizations(office) if o.is_school)
    return sorted(ids)


def _notice_kwargs(form: NoticeForm, office) -> dict:
    data = form.cleaned_data
    return {
        "kind": data["kind"],
        "title": data["title"],
        "body": data["body"],
        "reference": data["reference"],
        "improve_by": data["improve_by"],
        "subjects": data["subjects"],
        "recipients": _recipient_ids(form, office),
        "run": data["run"],
    }


def _office_by_id(offices, office_id, default):
    for office in offices:
        if office.pk == office_id:
            return office
    return default


def _prefill_office(offices, default, run_id):
    """The issuer a ranking prefill is made for (and the draft's issuer): the default
    office (the switcher's) when the run concerns its schools, else the first of the
    user's offices whose schools it concerns; None if none."""
    candidates = [default, *(o for o in offices if o.pk != default.pk)]
    for office in candidates:
        if services.runs_for(office).filter(pk=run_id).exists():
            return office
    return None


@login_required
@require_http_methods(["GET", "POST"])
def notice_new(request):
    offices = selectors.require_issuer(request.user)
    office = _default_office(request, offices)
    runs = _runs(offices)
    prefill = PrefillForm(request.GET or None, runs=runs)
    prefill_failed = False
    prefilled = {}
    if request.method == "GET" and prefill.is_bound and prefill.is_valid():
        data = prefill.cleaned_data
        # The ranking is read within the scope of the office the draft is issued by.
        chosen = _prefill_office(offices, office, data["run"])
        if chosen is None:
            prefill.add_error("run", _("Choose a published assessment of schools in your scope."))
            prefill_failed = True
        else:
            office = chosen
            prefilled = selectors.run_prefill(
                office=office, run_id=data["run"], kind=data["kind"], n=data["n"]
            )
    initial = {"kind": NoticeKind.CRITICISM, "issuer": office.pk, **prefilled}
    form = NoticeForm(
        request.POST or None,
        offices=offices,
        organizations=_organizations(offices),
        runs=runs,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        issuer = _office_by_id(offices, form.cleaned_data.get("issuer", office.pk), office)
        try:
            notice = services.notice_draft(
                actor=request.user, issuer=issuer.pk, **_notice_kwargs(form, issuer)
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Draft saved. Check it, then publish it."))
            return redirect("supervision:notice_detail", notice.pk)
    return render(
        request,
        "supervision/notices/form.html",
        {
            "form": form,
            "prefill": prefill if runs else None,
            "notice": None,
            "nav_active": NAV_NOTICES,
        },
        status=400 if (form.is_bound and form.errors) or prefill_failed else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def notice_edit(request, notice_id: int):
    selectors.require_notice_reader(request.user)
    notice = selectors.notice_get(actor=request.user, notice_id=_id(notice_id))
    if not services.may_manage_notice(request.user, notice):
        raise PermissionDenied(_("Only the issuing office can change this notice."))
    if notice.status != NoticeStatus.DRAFT:
        return _render_detail(
            request,
            notice,
            refusal=_(
                "This notice has been published and can no longer be changed; "
                "issue a new notice to correct it."
            ),
            status=409,
        )
    offices = [notice.issuer]
    initial = {
        "kind": notice.kind,
        "reference": notice.reference,
        "title": notice.title,
        "body": notice.body,
        "improve_by": notice.improve_by,
        "run": notice.run_id,
        "subjects": [o.pk for o in notice.subjects.all()],
        "recipients": [r.organization_id for r in notice.receipts.all()],
    }
    form = NoticeForm(
        request.POST or None,
        offices=offices,
        organizations=_organizations(offices),
        runs=_runs(offices),
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.notice_update(
                actor=request.user, notice=notice, **_notice_kwargs(form, notice.issuer)
            )
        except services.NoticeStateRefused as refused:
            notice = selectors.notice_get(actor=request.user, notice_id=notice.pk)
            return _render_detail(request, notice, refusal=refused.messages[0], status=409)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("supervision:notice_detail", notice.pk)
    return render(
        request,
        "supervision/notices/form.html",
        {"form": form, "prefill": None, "notice": notice, "nav_active": NAV_NOTICES},
        status=400 if form.is_bound and form.errors else 200,
    )


# ------------------------------------------------------------------ notices: detail and moves


def _render_detail(
    request, notice: Notice, *, refusal=None, errors=None, resolve_form=None, status=200
):
    user = request.user
    manager = services.may_manage_notice(user, notice)
    receipts = list(notice.receipts.all())
    own = selectors.own_receipts(user, notice)
    today = services.local_today()
    left = selectors.days_left(notice, today)
    resolvable = (
        manager
        and notice.status == NoticeStatus.PUBLISHED
        and notice.kind == NoticeKind.CRITICISM
        and notice.resolved_at is None
    )
    return render(
        request,
        "supervision/notices/detail.html",
        {
            "notice": notice,
            "manager": manager,
            "is_draft": notice.status == NoticeStatus.DRAFT,
            "receipts": receipts if manager else [],
            "read_count": sum(1 for r in receipts if r.read_at),
            "own_receipts": own if notice.status == NoticeStatus.PUBLISHED else [],
            "unread": notice.status == NoticeStatus.PUBLISHED and any(not r.read_at for r in own),
            "days_left": left,
            "days_over": -left if left is not None and left < 0 else 0,
            "overdue": selectors.is_overdue(notice, today),
            "resolve_form": (resolve_form or ResolveForm()) if resolvable else None,
            "refusal": refusal,
            "errors": errors or [],
            "nav_active": NAV_NOTICES,
        },
        status=status,
    )


@login_required
@require_safe
def notice_detail(request, notice_id: int):
    selectors.require_notice_reader(request.user)
    notice = selectors.notice_get(actor=request.user, notice_id=_id(notice_id))
    return _render_detail(request, notice)


def _post(request, notice_id: int, call, *, success: str, resolve_form=None):
    """Run one change of a notice and answer like the other pages."""
    selectors.require_notice_reader(request.user)
    notice = selectors.notice_get(actor=request.user, notice_id=_id(notice_id))
    try:
        call(notice)
    except services.NoticeStateRefused as refused:
        notice = selectors.notice_get(actor=request.user, notice_id=notice.pk)
        return _render_detail(request, notice, refusal=refused.messages[0], status=409)
    except ValidationError as exc:
        notice = selectors.notice_get(actor=request.user, notice_id=notice.pk)
        if resolve_form is not None:
            resolve_form.add_service_errors(exc)
        return _render_detail(
            request, notice, errors=exc.messages, resolve_form=resolve_form, status=400
        )
    messages.success(request, success)
    return redirect("supervision:notice_detail", notice.pk)


@login_required
@require_POST
def notice_publish(request, notice_id: int):
    return _post(
        request,
        notice_id,
        lambda n: services.notice_publish(actor=request.user, notice=n),
        success=_("Published; the recipients have been notified."),
    )


@login_required
@require_POST
def notice_read(request, notice_id: int):
    return _post(
        request,
        notice_id,
        lambda n: services.notice_mark_read(actor=request.user, notice=n),
        success=_("Marked as read."),
    )


@login_required
@require_POST
def notice_resolve(request, notice_id: int):
    form = ResolveForm(request.POST)
    if not form.is_valid():
        selectors.require_notice_reader(request.user)
        notice = selectors.notice_get(actor=request.user, notice_id=_id(notice_id))
        if not services.may_manage_notice(request.user, notice):
            raise PermissionDenied(_("Only the issuing office can change this notice."))
        return _render_detail(request, notice, resolve_form=form, status=400)
    return _post(
        request,
        notice_id,
        lambda n: services.notice_resolve(
            actor=request.user, notice=n, resolution=form.cleaned_data["resolution"]
        ),
        success=_("Recorded as put right."),
        resolve_form=form,
    )


@login_required
@require_POST
def notice_discard(request, notice_id: int):
    response = _post(
        request,
        notice_id,
        lambda n: services.notice_discard(actor=request.user, notice=n),
        success=_("Draft deleted."),
    )
    if response.status_code == 302:
        return redirect("supervision:notice_list")
    return response


@login_required
@require_safe
def notice_print(request, notice_id: int):
    """The printable notice: issuer, reference, date, text, subjects, seal area."""
    selectors.require_notice_reader(request.user)
    notice = selectors.notice_get(actor=request.user, notice_id=_id(notice_id))
    return render(
        request,
        "supervision/notices/print.html",
        {
            "notice": notice,
            "is_draft": notice.status == NoticeStatus.DRAFT,
            "issued_on": (
                services.local_today(notice.published_at) if notice.published_at else None
            ),
            "printed_on": services.local_today(),
        },
    )


# ------------------------------------------------------------------ accountability


def accountability_filters(actor, params):
    """The accountability list's form and filters (page and export); invalid filters show
    every record. 403 for those who read none."""
    selectors.require_accountability_reader(actor)
    subjects = selectors.accountability_subjects(actor)
    form = AccountabilityFilterForm(
        params or None, subjects=subjects, towns=selectors.accountability_towns(subjects)
    )
    filters = selectors.AccountabilityFilters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = selectors.AccountabilityFilters(
            subject_id=data["subject"], town_id=data["town"], kind=data["kind"]
        )
    return form, filters


@login_required
@require_safe
def accountability_list(request):
    form, filters = accountability_filters(request.user, request.GET)
    qs = selectors.accountability_list(actor=request.user, filters=filters)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "supervision/accountability/list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "can_record": bool(services.deciding_offices(request.user)),
            "nav_active": NAV_ACCOUNTABILITY,
        },
    )


def _linkable_notices(request, offices):
    """Published notices of the actor's reach about organizations in the offices' scope."""
    scope = set()
    for office in offices:
        scope.update(services.scope_organizations(office).values_list("pk", flat=True))
    return list(
        Notice.objects.filter(
            services.notice_visible_q(request.user),
            status=NoticeStatus.PUBLISHED,
            subjects__pk__in=scope,
        )
        .distinct()
        .order_by("-published_at", "-id")[:50]
    )


@login_required
@require_http_methods(["GET", "POST"])
def accountability_new(request):
    offices = services.deciding_offices(request.user)
    if not offices:
        raise PermissionDenied
    office = _default_office(request, offices)
    initial = {"deciding_org": office.pk, "decided_on": services.local_today()}
    for key in ("subject", "hazard", "notice"):
        raw = request.GET.get(key, "")
        if raw.isascii() and raw.isdigit() and len(raw) <= 12:
            initial[key] = int(raw)
    form = AccountabilityForm(
        request.POST or None,
        offices=offices,
        organizations=_organizations(offices),
        notices=_linkable_notices(request, offices),
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            record = services.accountability_record(
                actor=request.user,
                deciding_org=data.get("deciding_org", office.pk),
                kind=data["kind"],
                subject=data["subject"],
                person_name=data["person_name"],
                person_position=data["person_position"],
                reason=data["reason"],
                decided_on=data["decided_on"],
                hazard=data["hazard"],
                notice=data["notice"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Recorded."))
            return redirect("supervision:accountability_detail", record.pk)
    return render(
        request,
        "supervision/accountability/form.html",
        {"form": form, "nav_active": NAV_ACCOUNTABILITY},
        status=400 if form.is_bound and form.errors else 200,
    )


def _render_record(request, record, *, form=None, status=200):
    manager = services.may_manage_accountability(request.user, record)
    return render(
        request,
        "supervision/accountability/detail.html",
        {
            "record": record,
            "manager": manager,
            "follow_up_form": (form or FollowUpForm(initial={"follow_up": record.follow_up}))
            if manager
            else None,
            "nav_active": NAV_ACCOUNTABILITY,
        },
        status=status,
    )


@login_required
@require_safe
def accountability_detail(request, record_id: int):
    selectors.require_accountability_reader(request.user)
    record = selectors.accountability_get(actor=request.user, record_id=_id(record_id))
    return _render_record(request, record)


@login_required
@require_POST
def accountability_follow_up(request, record_id: int):
    selectors.require_accountability_reader(request.user)
    record = selectors.accountability_get(actor=request.user, record_id=_id(record_id))
    if not services.may_manage_accountability(request.user, record):
        raise PermissionDenied(_("Only the governance office can write the follow-up."))
    form = FollowUpForm(request.POST)
    if form.is_valid():
        try:
            services.accountability_follow_up(
                actor=request.user, record=record, follow_up=form.cleaned_data["follow_up"]
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("supervision:accountability_detail", record.pk)
    return _render_record(request, record, form=form, status=400)


urlpatterns = [
    path("notices/", notice_list, name="notice_list"),
    path("notices/new/", notice_new, name="notice_new"),
    path("notices/<int:notice_id>/", notice_detail, name="notice_detail"),
    path("notices/<int:notice_id>/edit/", notice_edit, name="notice_edit"),
    path("notices/<int:notice_id>/publish/", notice_publish, name="notice_publish"),
    path("notices/<int:notice_id>/read/", notice_read, name="notice_read"),
    path("notices/<int:notice_id>/resolve/", notice_resolve, name="notice_resolve"),
    path("notices/<int:notice_id>/discard/", notice_discard, name="notice_discard"),
    path("notices/<int:notice_id>/print/", notice_print, name="notice_print"),
    path("accountability/", accountability_list, name="accountability_list"),
    path("accountability/new/", accountability_new, name="accountability_new"),
    path("accountability/<int:record_id>/", accountability_detail, name="accountability_detail"),
    path(
        "accountability/<int:record_id>/follow-up/",
        accountability_follow_up,
        name="accountability_follow_up",
    ),
]
