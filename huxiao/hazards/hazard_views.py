"""Pages of hazards: the list with filters, one hazard with its timeline and the forms of
the moves the user may make, the report form, the photos and the printable notice
(整改通知书). Parse → call a selector/service → render.

A user who may see no school's hazards gets 403; a hazard outside the user's scope is 404;
a move the role does not allow is 403; a move the state does not allow is 409 with the
reason; a form with errors is 400 with the errors in place; a success redirects.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.core.roles import POLICE_KINDS, SCHOOL_KINDS, Action
from huxiao.core.scoping import memberships_of, visible_school_ids
from huxiao.hazards import hazard_selectors as selectors
from huxiao.hazards import hazard_services as services
from huxiao.hazards.hazard_forms import (
    AssignForm,
    ExtendForm,
    HazardFilterForm,
    HazardReportForm,
    NoteForm,
    ReasonForm,
    ReopenForm,
    SubmitForm,
)
from huxiao.orgs.models import Organization

MAX_ID = 2**63 - 1
PAGE_SIZE = 30
NAV = "hazards"


def _id(value: int) -> int:
    if value > MAX_ID:
        raise Http404
    return value


def _schools(ids) -> list[Organization]:
    return list(Organization.objects.filter(pk__in=ids).only("pk", "name").order_by("name"))


# ------------------------------------------------------------------ list


def _id_param(raw) -> int | None:
    """A positive id from a query parameter, or None (the form reports a bad one)."""
    raw = raw or ""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 12 else None


def list_filters(actor, query):
    """The list's filter form, the filters it gives and the query it was bound to (with
    the school's town filled in): shared by the page and its export. 403 for a user who
    sees no school; a bad filter is shown on the form and filters nothing."""
    selectors.require_any(actor, Action.VIEW)
    data = query.copy() if query else None
    picker = selectors.school_picker(
        actor=actor,
        town_id=_id_param(query.get("town")),
        school_id=_id_param(query.get("school")),
    )
    school_help = ""
    if not picker.complete:
        offered = {pk for pk, _name in picker.schools}
        if data is not None and picker.town_id is not None:
            if data.get("school") and _id_param(data.get("school")) not in offered:
                # The town was changed with the school of another still selected.
                data.pop("school")
            if not data.get("town"):
                data["town"] = str(picker.town_id)  # the chosen school's town
        if picker.town_id is None:
            school_help = _("Choose a town and filter: its schools are then listed here.")
    form = HazardFilterForm(
        data, schools=picker.schools, towns=picker.towns, school_help=school_help
    )
    filters = selectors.HazardFilters()
    if form.is_bound and form.is_valid():
        cleaned = form.cleaned_data
        filters = selectors.HazardFilters(
            school_id=cleaned["school"],
            town_id=cleaned.get("town"),
            status=cleaned["status"],
            category=cleaned["category"],
            level=cleaned["level"],
            overdue=cleaned["overdue"],
        )
    return form, filters, data


@login_required
@require_safe
def hazard_list(request):
    form, filters, data = list_filters(request.user, request.GET)
    today = services.local_today()
    qs = selectors.hazard_list(actor=request.user, filters=filters, today=today)
    page = Paginator(selectors.HazardRows(qs), PAGE_SIZE).get_page(request.GET.get("page"))
    query = data.copy() if data is not None else request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "hazards/hazards/hazard_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "today": today,
            "can_report": bool(visible_school_ids(request.user, Action.REPORT_HAZARD)),
            "nav_active": NAV,
        },
    )


# ------------------------------------------------------------------ report


@login_required
@require_http_methods(["GET", "POST"])
def hazard_new(request):
    ids = selectors.require_any(request.user, Action.REPORT_HAZARD)
    schools = _schools(ids)
    initial = {}
    if (school_id := _id_param(request.GET.get("school"))) is not None:
        initial["school"] = school_id
    form = HazardReportForm(request.POST or None, schools=schools, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        school = next(s for s in schools if s.pk == data["school"])
        school = Organization.objects.get(pk=school.pk)
        try:
            hazard = services.hazard_report(
                actor=request.user,
                school=school,
                category=data["category"],
                level=data["level"],
                title=data["title"],
                description=data["description"],
                deadline=data["deadline"],
                photos=request.FILES.getlist("photos"),
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Hazard reported."))
            return redirect("hazards:hazard_detail", hazard.pk)
    return render(
        request,
        "hazards/hazards/hazard_form.html",
        {"form": form, "nav_active": NAV},
        status=400 if form.is_bound and form.errors else 200,
    )


# ------------------------------------------------------------------ detail and moves

MOVE_FORMS = {
    "assign": AssignForm,
    "start": NoteForm,
    "submit": SubmitForm,
    "verify": NoteForm,
    "reject": ReasonForm,
    "reopen": ReopenForm,
    # Not a state move: the supervising side grants a later deadline (hazard_extend).
    "extend": ExtendForm,
}
MOVE_LABELS = {
    "assign": gettext_lazy("Assign the rectification"),
    "start": gettext_lazy("Start the rectification"),
    "submit": gettext_lazy("Submit for verification"),
    "verify": gettext_lazy("Verify and close"),
    "reject": gettext_lazy("Send back"),
    "reopen": gettext_lazy("Reopen"),
    "extend": gettext_lazy("Extend the deadline"),
}


def _move_form(name: str, hazard, data=None):
    cls = MOVE_FORMS[name]
    if cls is AssignForm:
        initial = {
            "owner": hazard.owner_id,
            "deadline": hazard.deadline,
            "plan": hazard.rectification_plan,
        }
        return AssignForm(
            data,
            candidates=selectors.owner_candidates(hazard.school_id),
            initial=initial,
            prefix=name,
        )
    return cls(data, prefix=name)


def _render_detail(request, hazard, *, bound=None, refusal=None, status=200):
    allowed = services.allowed_moves(request.user, hazard)
    if services.may_extend(request.user, hazard):
        allowed.append("extend")
    forms = []
    for name in allowed:
        form = bound if bound is not None and bound.prefix == name else _move_form(name, hazard)
        forms.append(
            {
                "name": name,
                "label": gettext_label(name),
                "form": form,
                "photos": name == "submit",
                "danger": name in ("reject", "reopen"),
            }
        )
    return render(
        request,
        "hazards/hazards/hazard_detail.html",
        {
            "hazard": hazard,
            "events": list(hazard.events.all()),
            "finding_photos": [p for p in hazard.photos.all() if p.kind == "finding"],
            "evidence_photos": [p for p in hazard.photos.all() if p.kind == "evidence"],
            "overdue": selectors.is_overdue(hazard),
            "move_forms": forms,
            "refusal": refusal,
            "nav_active": NAV,
        },
        status=status,
    )


def gettext_label(name: str) -> str:
    return str(MOVE_LABELS[name])


@login_required
@require_safe
def hazard_detail(request, hazard_id: int):
    selectors.require_any(request.user, Action.VIEW)
    hazard = selectors.hazard_get(actor=request.user, hazard_id=_id(hazard_id))
    return _render_detail(request, hazard)


@login_required
@require_POST
def hazard_move(request, hazard_id: int, move: str):
    if move not in MOVE_FORMS:
        raise Http404
    selectors.require_any(request.user, Action.VIEW)
    hazard = selectors.hazard_get(actor=request.user, hazard_id=_id(hazard_id))
    form = _move_form(move, hazard, request.POST)
    if not form.is_valid():
        return _render_detail(request, hazard, bound=form, status=400)
    data = form.cleaned_data
    try:
        _call_move(request, hazard, move, form, data)
    except services.HazardTransitionRefused as refused:
        hazard = selectors.hazard_get(actor=request.user, hazard_id=hazard.pk)
        return _render_detail(request, hazard, refusal=refused.messages[0], status=409)
    except ValidationError as exc:
        form.add_service_errors(exc)
        hazard = selectors.hazard_get(actor=request.user, hazard_id=hazard.pk)
        return _render_detail(request, hazard, bound=form, status=400)
    messages.success(request, _("Saved."))
    return redirect("hazards:hazard_detail", hazard.pk)


def _call_move(request, hazard, move, form, data):
    actor = request.user
    if move == "assign":
        return services.hazard_assign(
            actor=actor,
            hazard=hazard,
            owner=form.candidates.get(data["owner"]),
            deadline=data["deadline"],
            plan=data["plan"],
        )
    if move == "start":
        return services.hazard_start(actor=actor, hazard=hazard, note=data["note"])
    if move == "submit":
        return services.hazard_submit(
            actor=actor, hazard=hazard, note=data["note"], photos=request.FILES.getlist("photos")
        )
    if move == "verify":
        return services.hazard_verify(actor=actor, hazard=hazard, note=data["note"])
    if move == "reject":
        return services.hazard_reject(actor=actor, hazard=hazard, reason=data["reason"])
    if move == "extend":
        return services.hazard_extend(
            actor=actor, hazard=hazard, deadline=data["deadline"], reason=data["reason"]
        )
    return services.hazard_reopen(
        actor=actor, hazard=hazard, reason=data["reason"], deadline=data["deadline"]
    )


@login_required
@require_safe
def hazard_photo(request, photo_id: int):
    """A finding or evidence photo, served only to those who may see the hazard."""
    selectors.require_any(request.user, Action.VIEW)
    photo = selectors.photo_get(actor=request.user, photo_id=_id(photo_id))
    try:
        response = FileResponse(photo.file.open("rb"))
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response["Cache-Control"] = "private, max-age=3600"
    return response


# ------------------------------------------------------------------ the notice


def issuing_organization(hazard) -> Organization | None:
    """Who issues the notice, the same whoever prints it: the inspecting organization of the
    inspection that found the hazard, else the reporter's organization outside the school
    (police first), else the school's supervising education office."""
    if hazard.inspection_id:
        return hazard.inspection.organization
    if hazard.reported_by is not None:
        outside = [
            m.organization
            for m in memberships_of(hazard.reported_by)
            if m.organization.kind not in SCHOOL_KINDS and m.organization.is_active
        ]
        if outside:
            # Police first: their notice carries the station's name.
            outside.sort(key=lambda o: (o.kind not in POLICE_KINDS, o.name, o.pk))
            return outside[0]
    office_ids = sorted(services.supervising_offices([hazard.school]).get(hazard.school_id, []))
    if office_ids:
        return Organization.objects.filter(pk=office_ids[0]).first()
    return None


@login_required
@require_safe
def hazard_notice(request, hazard_id: int):
    """The printable rectification notice (整改通知书)."""
    selectors.require_any(request.user, Action.VIEW)
    hazard = selectors.hazard_get(actor=request.user, hazard_id=_id(hazard_id))
    return render(request, "hazards/hazards/hazard_notice.html", hazard_notice_context(hazard))


def hazard_notice_context(hazard) -> dict:
    """What the notice shows; the printable page and its PDF (reports app) share it."""
    return {
        "hazard": hazard,
        "issuer": issuing_organization(hazard),
        "issued_on": timezone.localtime(hazard.reported_at).date(),
        "printed_on": services.local_today(),
        "finding_photos": [p for p in hazard.photos.all() if p.kind == "finding"],
    }


urlpatterns = [
    path("hazards/", hazard_list, name="hazard_list"),
    path("hazards/new/", hazard_new, name="hazard_new"),
    path("hazards/<int:hazard_id>/", hazard_detail, name="hazard_detail"),
    path("hazards/<int:hazard_id>/notice/", hazard_notice, name="hazard_notice"),
    path("hazards/<int:hazard_id>/<slug:move>/", hazard_move, name="hazard_move"),
    path("hazards/photos/<int:photo_id>/", hazard_photo, name="hazard_photo"),
]
