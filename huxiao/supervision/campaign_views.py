"""Pages of self-check campaigns (ADR 0027 "Campaigns"), phone first: the list (campaigns
one runs or reviews, and the school's own), a new campaign and its draft editor, the
progress page (per school, per town), one school's self-check with its gap list, one item
answered per screen, and the forms of the moves. Parse → call a selector/service → render.

Someone who takes no part in campaigns gets 403; a campaign or school out of reach 404; a
move the role does not allow 403; a move the state does not allow 409 with the reason; a
form with errors 400 with the errors in place; a success redirects.
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
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.hazards.hazard_services import local_today
from huxiao.hazards.models import ChecklistTemplate
from huxiao.orgs.models import Town
from huxiao.supervision import campaign_selectors as selectors
from huxiao.supervision import campaign_services as services
from huxiao.supervision.campaign_forms import (
    AnswerForm,
    CampaignFilterForm,
    CampaignForm,
    FixForm,
    NoteForm,
    ReasonForm,
    SpotCheckForm,
    item_lines,
    parse_item_lines,
)
from huxiao.supervision.choices import CampaignResult, CampaignStatus, GapStatus

MAX_ID = 2**63 - 1
PAGE_SIZE = 30
NAV = "supervision_campaigns"


def _id(value: int) -> int:
    if value > MAX_ID:
        raise Http404
    return value


# ------------------------------------------------------------------ list


def campaign_filters(actor, params) -> tuple[CampaignFilterForm, str]:
    """The campaign list's filter form and status (page and export); an unknown status
    shows every campaign. 403 for those who take no part in campaigns."""
    selectors.require_campaign_user(actor)
    form = CampaignFilterForm(params or None)
    status = form.cleaned_data["status"] if form.is_bound and form.is_valid() else ""
    return form, status


@login_required
@require_safe
def campaign_list(request):
    form, status = campaign_filters(request.user, request.GET)
    qs = selectors.campaign_list(actor=request.user, status=status)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "supervision/campaigns/campaign_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "my_entries": selectors.my_entries(actor=request.user),
            "can_create": bool(selectors.manager_offices(request.user)),
            "nav_active": NAV,
        },
    )


# ------------------------------------------------------------------ new and edit


def _form_choices(actor, offices) -> dict:
    schools = []
    seen = set()
    for office in offices:
        for school in (
            services.owner_schools(office).select_related("town").order_by("town__name", "name")
        ):
            if school.pk not in seen:
                seen.add(school.pk)
                schools.append(school)
    town_ids = {s.town_id for s in schools if s.town_id}
    return {
        "offices": offices,
        "templates": list(
            ChecklistTemplate.objects.filter(is_published=True, is_current=True).order_by(
                "owner_id", "name"
            )
        ),
        "towns": list(Town.objects.filter(pk__in=town_ids).order_by("name")),
        "schools": schools,
    }


def _save_kwargs(request, data) -> dict:
    return {
        "title": data["title"],
        "description": data["description"],
        "self_check_due": data["self_check_due"],
        "spot_check_due": data["spot_check_due"],
        "acceptance_due": data["acceptance_due"],
        "template": data["template"],
        "items": parse_item_lines(data["items"]),
        "schools": data["schools"],
        "all_schools": data["all_schools"],
        "towns": data.get("towns") or (),
    }


@login_required
@require_http_methods(["GET", "POST"])
def campaign_new(request):
    offices = selectors.require_manager(request.user)
    form = CampaignForm(request.POST or None, **_form_choices(request.user, offices))
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(
                actor=request.user,
                owner=form.cleaned_data.get("owner"),
                **_save_kwargs(request, form.cleaned_data),
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Campaign saved as a draft. Check it, then start it."))
            return redirect("supervision:campaign_detail", campaign.pk)
    return render(
        request,
        "supervision/campaigns/campaign_form.html",
        {"form": form, "campaign": None, "nav_active": NAV},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def campaign_edit(request, campaign_id: int):
    selectors.require_campaign_user(request.user)
    campaign = selectors.campaign_get(actor=request.user, campaign_id=_id(campaign_id))
    if not selectors.is_manager(request.user, campaign):
        raise PermissionDenied(_("Only the office that runs the campaign may change it."))
    choices = _form_choices(request.user, [campaign.owner])
    if campaign.status != CampaignStatus.DRAFT:
        return _render_detail(
            request,
            campaign,
            refusal=_(
                "The campaign has started: its items, schools and dates can no longer change."
            ),
            status=409,
        )
    initial = {
        "title": campaign.title,
        "description": campaign.description,
        "self_check_due": campaign.self_check_due,
        "spot_check_due": campaign.spot_check_due,
        "acceptance_due": campaign.acceptance_due,
        "items": item_lines(campaign.items.all()),
        "schools": list(campaign.schools.values_list("school_id", flat=True)),
    }
    form = CampaignForm(request.POST or None, initial=initial, **choices)
    if request.method == "POST" and form.is_valid():
        try:
            services.campaign_update(
                actor=request.user, campaign=campaign, **_save_kwargs(request, form.cleaned_data)
            )
        except services.CampaignRefused as refused:
            return _render_detail(request, campaign, refusal=refused.messages[0], status=409)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("supervision:campaign_detail", campaign.pk)
    return render(
        request,
        "supervision/campaigns/campaign_form.html",
        {"form": form, "campaign": campaign, "nav_active": NAV},
        status=400 if form.is_bound and form.errors else 200,
    )


# ------------------------------------------------------------------ progress


def _render_detail(request, campaign, *, refusal=None, errors=None, status=200):
    today = local_today()
    entries = selectors.campaign_entries(actor=request.user, campaign=campaign, today=today)
    total, towns = selectors.campaign_progress(entries)
    manager = selectors.is_manager(request.user, campaign)
    return render(
        request,
        "supervision/campaigns/campaign_detail.html",
        {
            "campaign": campaign,
            "items": list(campaign.items.all()),
            "entries": entries,
            "total": total,
            "towns": towns if selectors.show_town_totals(campaign, towns) else [],
            "statuses": services.ES.choices,
            "is_manager": manager,
            "can_start": manager and campaign.status == CampaignStatus.DRAFT,
            "can_close": manager and campaign.status == CampaignStatus.RUNNING,
            "refusal": refusal,
            "errors": errors or [],
            "today": today,
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_safe
def campaign_detail(request, campaign_id: int):
    selectors.require_campaign_user(request.user)
    campaign = selectors.campaign_get(actor=request.user, campaign_id=_id(campaign_id))
    return _render_detail(request, campaign)


CAMPAIGN_MOVES = {"start": services.campaign_start, "close": services.campaign_close}


@login_required
@require_POST
def campaign_move(request, campaign_id: int, move: str):
    if move not in CAMPAIGN_MOVES:
        raise Http404
    selectors.require_campaign_user(request.user)
    campaign = selectors.campaign_get(actor=request.user, campaign_id=_id(campaign_id))
    try:
        CAMPAIGN_MOVES[move](actor=request.user, campaign=campaign)
    except services.CampaignRefused as refused:
        campaign = selectors.campaign_get(actor=request.user, campaign_id=campaign.pk)
        return _render_detail(request, campaign, refusal=refused.messages[0], status=409)
    except ValidationError as exc:
        return _render_detail(request, campaign, errors=exc.messages, status=400)
    messages.success(request, _("Campaign started.") if move == "start" else _("Campaign closed."))
    return redirect("supervision:campaign_detail", campaign.pk)


# ------------------------------------------------------------------ one school

ENTRY_FORMS = {
    "submit": NoteForm,
    "return": ReasonForm,
    "spot-check": SpotCheckForm,
    "accept": NoteForm,
}
MOVE_NAMES = {
    "submit": "submit",
    "return": "return",
    "spot-check": "spot_check",
    "accept": "accept",
}
MOVE_SLUGS = {name: slug for slug, name in MOVE_NAMES.items()}
MOVE_LABELS = {
    "submit": gettext_lazy("Submit the self-check"),
    "return": gettext_lazy("Return for more work"),
    "spot-check": gettext_lazy("Record the spot check"),
    "accept": gettext_lazy("Accept"),
}


def _entry(request, campaign_id, school_id):
    selectors.require_campaign_user(request.user)
    return selectors.entry_get(
        actor=request.user, campaign_id=_id(campaign_id), school_id=_id(school_id)
    )


def _move_form(request, slug: str, entry, data=None):
    cls = ENTRY_FORMS[slug]
    if cls is SpotCheckForm:
        return SpotCheckForm(
            data,
            inspections=selectors.spot_check_inspections(
                actor=request.user, school_id=entry.school_id
            ),
            prefix=slug,
        )
    return cls(data, prefix=slug)


def _may_fix(actor, entry, answer) -> bool:
    return (
        entry.campaign.status == CampaignStatus.RUNNING
        and entry.status != services.ES.ACCEPTED
        and answer.result == CampaignResult.GAP
        and answer.gap_status == GapStatus.OPEN
        and (answer.gap_owner_id == actor.pk or selectors.may_self_check(actor, entry.school_id))
    )


def _render_entry(request, entry, *, bound=None, fix_bound=None, refusal=None, status=200):
    today = local_today()
    rows = selectors.entry_rows(entry, today)
    forms = []
    for name in services.allowed_moves(request.user, entry):
        slug = MOVE_SLUGS[name]
        form = bound if bound is not None and bound.prefix == slug else None
        forms.append(
            {
                "slug": slug,
                "label": str(MOVE_LABELS[slug]),
                "form": form or _move_form(request, slug, entry),
                "danger": slug == "return",
                "open": form is not None,
            }
        )
    gaps = [r for r in rows if r.answer is not None and r.answer.result == CampaignResult.GAP]
    fix_forms = {}
    for row in gaps:
        if _may_fix(request.user, entry, row.answer):
            key = row.item.pk
            fix_forms[key] = (
                fix_bound
                if fix_bound is not None and fix_bound.prefix == f"fix-{key}"
                else FixForm(prefix=f"fix-{key}")
            )
    for row in gaps:
        row.fix_form = fix_forms.get(row.item.pk)
    answered = sum(1 for r in rows if r.answer is not None)
    return render(
        request,
        "supervision/campaigns/entry_detail.html",
        {
            "entry": entry,
            "campaign": entry.campaign,
            "rows": rows,
            "gaps": gaps,
            "answered": answered,
            "unanswered": len(rows) - answered,
            "may_answer": services.may_answer(request.user, entry),
            "move_forms": forms,
            "overdue": selectors.entry_overdue(entry, entry.campaign, today),
            "events": list(entry.events.all()),
            "refusal": refusal,
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_safe
def entry_detail(request, campaign_id: int, school_id: int):
    entry = _entry(request, campaign_id, school_id)
    return _render_entry(request, entry)


@login_required
@require_POST
def entry_move(request, campaign_id: int, school_id: int, move: str):
    if move not in ENTRY_FORMS:
        raise Http404
    entry = _entry(request, campaign_id, school_id)
    form = _move_form(request, move, entry, request.POST)
    if not form.is_valid():
        try:
            services.entry_move_check(actor=request.user, entry=entry, name=MOVE_NAMES[move])
        except services.CampaignRefused as refused:
            return _render_entry(request, entry, refusal=refused.messages[0], status=409)
        return _render_entry(request, entry, bound=form, status=400)
    data = form.cleaned_data
    actor = request.user
    try:
        if move == "submit":
            services.entry_submit(actor=actor, entry=entry, note=data["note"])
        elif move == "return":
            services.entry_return(actor=actor, entry=entry, reason=data["reason"])
        elif move == "spot-check":
            services.entry_spot_check(
                actor=actor, entry=entry, note=data["note"], inspection=data["inspection"]
            )
        else:
            services.entry_accept(actor=actor, entry=entry, note=data["note"])
    except services.CampaignRefused as refused:
        entry = _entry(request, campaign_id, school_id)
        return _render_entry(request, entry, refusal=refused.messages[0], status=409)
    except ValidationError as exc:
        form.add_service_errors(exc)
        entry = _entry(request, campaign_id, school_id)
        return _render_entry(request, entry, bound=form, status=400)
    messages.success(request, _("Saved."))
    return redirect("supervision:entry_detail", entry.campaign_id, entry.school_id)


@login_required
@require_POST
def gap_fixed(request, campaign_id: int, school_id: int, item_id: int):
    entry = _entry(request, campaign_id, school_id)
    answer = next((a for a in entry.answers.all() if a.item_id == _id(item_id)), None)
    if answer is None:
        raise Http404
    form = FixForm(request.POST, prefix=f"fix-{answer.item_id}")
    try:
        if not form.is_valid():
            # Rights and state first (403/409), then the input (400), as the service does.
            services.gap_fix(actor=request.user, answer=answer, note="")
        else:
            services.gap_fix(actor=request.user, answer=answer, note=form.cleaned_data["note"])
    except services.CampaignRefused as refused:
        entry = _entry(request, campaign_id, school_id)
        return _render_entry(request, entry, refusal=refused.messages[0], status=409)
    except ValidationError as exc:
        if form.is_valid():
            form.add_service_errors(exc)
        entry = _entry(request, campaign_id, school_id)
        return _render_entry(request, entry, fix_bound=form, status=400)
    messages.success(request, _("Gap marked fixed."))
    return redirect("supervision:entry_detail", entry.campaign_id, entry.school_id)


# ------------------------------------------------------------------ one item per screen


@login_required
@require_http_methods(["GET", "POST"])
def entry_item(request, campaign_id: int, school_id: int, item_id: int):
    """Answer one item (phone: one screen per item, then on to the next unanswered one)."""
    entry = _entry(request, campaign_id, school_id)
    items = list(entry.campaign.items.all())
    index = next((i for i, it in enumerate(items) if it.pk == _id(item_id)), None)
    if index is None:
        raise Http404
    item = items[index]
    if not selectors.may_self_check(request.user, entry.school_id):
        raise PermissionDenied(
            _("Only the school's principal or security officer does its self-check.")
        )
    if not services.may_answer(request.user, entry):
        refusal = (
            _("The campaign is closed.")
            if entry.campaign.status == CampaignStatus.CLOSED
            else _("The self-check has been submitted; it can be changed only when returned.")
        )
        return _render_entry(request, entry, refusal=refusal, status=409)
    answers = {a.item_id: a for a in entry.answers.all()}
    answer = answers.get(item.pk)
    initial = {}
    if answer is not None:
        initial = {
            "result": answer.result,
            "note": answer.note,
            "gap_owner": answer.gap_owner_id,
            "gap_deadline": answer.gap_deadline,
        }
    form = AnswerForm(
        request.POST or None,
        initial=initial,
        candidates=selectors.gap_owner_candidates(entry.school_id),
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.campaign_answer(
                    actor=request.user,
                    entry=entry,
                    item=item,
                    result=data["result"],
                    note=data["note"],
                    gap_owner=form.candidates.get(data["gap_owner"]),
                    gap_deadline=data["gap_deadline"],
                )
            except services.CampaignRefused as refused:
                entry = _entry(request, campaign_id, school_id)
                return _render_entry(request, entry, refusal=refused.messages[0], status=409)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                answers[item.pk] = True
                later = items[index + 1 :] + items[:index]
                following = next((it for it in later if it.pk not in answers), None)
                if following is not None:
                    return redirect(
                        "supervision:entry_item", entry.campaign_id, entry.school_id, following.pk
                    )
                messages.success(request, _("Every item is answered; check and submit."))
                return redirect("supervision:entry_detail", entry.campaign_id, entry.school_id)
        status = 400
    return render(
        request,
        "supervision/campaigns/entry_item.html",
        {
            "entry": entry,
            "campaign": entry.campaign,
            "item": item,
            "position": index + 1,
            "count": len(items),
            "previous": items[index - 1] if index > 0 else None,
            "next": items[index + 1] if index + 1 < len(items) else None,
            "answer": answer,
            "form": form,
            "today": local_today(),
            "nav_active": NAV,
        },
        status=status,
    )


urlpatterns = [
    path("campaigns/", campaign_list, name="campaign_list"),
    path("campaigns/new/", campaign_new, name="campaign_new"),
    path("campaigns/<int:campaign_id>/", campaign_detail, name="campaign_detail"),
    path("campaigns/<int:campaign_id>/edit/", campaign_edit, name="campaign_edit"),
    path(
        "campaigns/<int:campaign_id>/schools/<int:school_id>/",
        entry_detail,
        name="entry_detail",
    ),
    path(
        "campaigns/<int:campaign_id>/schools/<int:school_id>/items/<int:item_id>/",
        entry_item,
        name="entry_item",
    ),
    path(
        "campaigns/<int:campaign_id>/schools/<int:school_id>/gaps/<int:item_id>/fixed/",
        gap_fixed,
        name="gap_fixed",
    ),
    path(
        "campaigns/<int:campaign_id>/schools/<int:school_id>/<slug:move>/",
        entry_move,
        name="entry_move",
    ),
    path("campaigns/<int:campaign_id>/<slug:move>/", campaign_move, name="campaign_move"),
]
