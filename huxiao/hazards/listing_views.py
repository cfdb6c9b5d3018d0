"""Pages of listed supervision (挂牌督办): the public board of a town or county with its
countdowns, one listing with the supervising side's actions (edit, lift), the form to list
a hazard or a prominent problem, and the printable listed-supervision notice.

A user who may see no school is 403 on the board; a listing outside the user's scope is
404; an action the role does not allow is 403; one the state does not allow is 409 with the
reason; a form with errors is 400 with the errors in place; a success redirects.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.core.roles import Action
from huxiao.core.scoping import visible_school_ids
from huxiao.core.widgets import IsoDateInput as _DateInput
from huxiao.hazards import hazard_selectors
from huxiao.hazards import listing_selectors as selectors
from huxiao.hazards import listing_services as services
from huxiao.hazards.choices import ListingStatus
from huxiao.hazards.hazard_forms import ServiceErrorsMixin, _blank
from huxiao.hazards.hazard_services import local_today
from huxiao.hazards.hazard_views import MAX_ID, _id
from huxiao.orgs.models import Organization

PAGE_SIZE = 30
NAV = "hazards_listings"


def _query_id(raw) -> int | None:
    raw = (raw or "").strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= 18 and 0 < int(raw) <= MAX_ID:
        return int(raw)
    return None


# ------------------------------------------------------------------ forms


class BoardFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=_blank(ListingStatus.choices, gettext_lazy("All")),
    )
    town = forms.TypedChoiceField(
        label=gettext_lazy("Town"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args, towns=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["town"].choices = _blank([(t.pk, t.name) for t in towns], gettext_lazy("All"))


class ListingForm(ServiceErrorsMixin, forms.Form):
    school = forms.TypedChoiceField(label=gettext_lazy("School"), coerce=int)
    title = forms.CharField(label=gettext_lazy("Problem"), max_length=200)
    reason = forms.CharField(
        label=gettext_lazy("Reason for listing"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    requirements = forms.CharField(
        label=gettext_lazy("Requirements"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    deadline = forms.DateField(label=gettext_lazy("Deadline"), widget=_DateInput())
    reference = forms.CharField(
        label=gettext_lazy("Reference number"),
        required=False,
        max_length=60,
        help_text=gettext_lazy("E.g. 挂督〔2026〕3号"),
    )
    supervising_org = forms.TypedChoiceField(
        label=gettext_lazy("Supervising organization"), coerce=int
    )
    is_public = forms.BooleanField(
        label=gettext_lazy("Show on the public board"), required=False, initial=True
    )

    def __init__(self, *args, schools=(), offices=(), hazard=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supervising_org"].choices = [(o.pk, o.name) for o in offices]
        if hazard is not None:
            del self.fields["school"]
            self.fields["title"].required = False
            self.fields["title"].initial = hazard.title
            self.fields["deadline"].initial = hazard.deadline
        else:
            self.fields["school"].choices = _blank(
                [(s.pk, s.name) for s in schools], gettext_lazy("Choose…")
            )


class LiftForm(ServiceErrorsMixin, forms.Form):
    # Checked by the service, after the rights and the state (a note is required).
    note = forms.CharField(
        label=gettext_lazy("Note on lifting"),
        required=False,
        max_length=1800,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    lift_anyway = forms.BooleanField(
        label=gettext_lazy("Lift anyway, although the hazard is not closed"), required=False
    )


class ListingEditForm(ServiceErrorsMixin, forms.Form):
    reference = forms.CharField(
        label=gettext_lazy("Reference number"), required=False, max_length=60
    )
    requirements = forms.CharField(
        label=gettext_lazy("Requirements"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    deadline = forms.DateField(label=gettext_lazy("Deadline"), required=False, widget=_DateInput())
    is_public = forms.BooleanField(label=gettext_lazy("Show on the public board"), required=False)


# ------------------------------------------------------------------ helpers


def _rows(listings, today):
    return [{"listing": x, "countdown": selectors.countdown(x, today)} for x in listings]


# ------------------------------------------------------------------ board


def board_filters(actor, query):
    """The board's filter form and filters (the page and its export); 403 for a user who
    sees no school."""
    ids = selectors.require_board(actor)
    form = BoardFilterForm(query or None, towns=selectors.board_towns(ids))
    filters = selectors.ListingFilters()
    if form.is_bound and form.is_valid():
        filters = selectors.ListingFilters(
            status=form.cleaned_data["status"], town_id=form.cleaned_data["town"]
        )
    return form, filters


@login_required
@require_safe
def listing_board(request):
    form, filters = board_filters(request.user, request.GET)
    today = local_today()
    page = Paginator(
        selectors.listing_list(actor=request.user, filters=filters), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "hazards/listings/board.html",
        {
            "form": form,
            "page": page,
            "rows": _rows(page.object_list, today),
            "query": query.urlencode(),
            "today": today,
            "can_list": bool(visible_school_ids(request.user, Action.LIST_SUPERVISION)),
            "nav_active": NAV,
        },
    )


# ------------------------------------------------------------------ new


@login_required
@require_http_methods(["GET", "POST"])
def listing_new(request):
    ids = visible_school_ids(request.user, Action.LIST_SUPERVISION)
    if not ids:
        raise PermissionDenied
    hazard = None
    hazard_id = _query_id(request.GET.get("hazard"))
    if request.GET.get("hazard") and hazard_id is None:
        raise Http404
    if hazard_id is not None:
        hazard = hazard_selectors.hazard_get(actor=request.user, hazard_id=hazard_id)
        if hazard.school_id not in ids:
            raise PermissionDenied
    schools = list(Organization.objects.filter(pk__in=ids).only("pk", "name").order_by("name"))
    offices = services.actor_supervising_offices(request.user)
    initial = {"is_public": True}
    school_id = _query_id(request.GET.get("school"))
    if school_id in ids:
        initial["school"] = school_id
    form = ListingForm(
        request.POST or None, schools=schools, offices=offices, hazard=hazard, initial=initial
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            school = None
            if hazard is None:
                school = Organization.objects.filter(pk=data["school"]).first()
            try:
                listing = services.listing_create(
                    actor=request.user,
                    school=school,
                    hazard=hazard,
                    title=data["title"],
                    reason=data["reason"],
                    requirements=data["requirements"],
                    deadline=data["deadline"],
                    reference=data["reference"],
                    supervising_org=next(
                        (o for o in offices if o.pk == data["supervising_org"]), None
                    ),
                    is_public=data["is_public"],
                )
            except services.ListingRefused as refused:
                form.add_error(None, refused.messages[0])
                status = 409
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Placed under listed supervision."))
                return redirect("hazards:listing_detail", listing.pk)
    return render(
        request,
        "hazards/listings/form.html",
        {"form": form, "hazard": hazard, "nav_active": NAV},
        status=status,
    )


# ------------------------------------------------------------------ detail, edit, lift


def _render_detail(request, listing, *, lift_form=None, edit_form=None, refusal=None, status=200):
    manage = services.may_manage(request.user, listing) and listing.status == "active"
    if manage and edit_form is None:
        edit_form = ListingEditForm(
            initial={
                "reference": listing.reference,
                "requirements": listing.requirements,
                "deadline": listing.deadline,
                "is_public": listing.is_public,
            },
            prefix="edit",
        )
    return render(
        request,
        "hazards/listings/detail.html",
        {
            "listing": listing,
            "countdown": selectors.countdown(listing),
            "manage": manage,
            "hazard_open": listing.hazard is not None and listing.hazard.status != "closed",
            "lift_form": lift_form or LiftForm(prefix="lift"),
            "edit_form": edit_form,
            "refusal": refusal,
            "nav_active": NAV,
        },
        status=status,
    )


def _listing(request, listing_id: int):
    selectors.require_board(request.user)
    return selectors.listing_get(actor=request.user, listing_id=_id(listing_id))


@login_required
@require_safe
def listing_detail(request, listing_id: int):
    return _render_detail(request, _listing(request, listing_id))


@login_required
@require_POST
def listing_lift(request, listing_id: int):
    listing = _listing(request, listing_id)
    form = LiftForm(request.POST, prefix="lift")
    if not form.is_valid():
        if not services.may_manage(request.user, listing):
            raise PermissionDenied
        return _render_detail(request, listing, lift_form=form, status=400)
    try:
        services.listing_lift(
            actor=request.user,
            listing=listing,
            note=form.cleaned_data["note"],
            lift_anyway=form.cleaned_data["lift_anyway"],
        )
    except services.ListingRefused as refused:
        listing = _listing(request, listing_id)
        return _render_detail(
            request, listing, lift_form=form, refusal=refused.messages[0], status=409
        )
    except ValidationError as exc:
        form.add_service_errors(exc)
        return _render_detail(request, listing, lift_form=form, status=400)
    messages.success(request, _("The listing has been lifted."))
    return redirect("hazards:listing_detail", listing.pk)


@login_required
@require_POST
def listing_edit(request, listing_id: int):
    listing = _listing(request, listing_id)
    form = ListingEditForm(request.POST, prefix="edit")
    if not form.is_valid():
        if not services.may_manage(request.user, listing):
            raise PermissionDenied
        return _render_detail(request, listing, edit_form=form, status=400)
    data = form.cleaned_data
    try:
        services.listing_update(
            actor=request.user,
            listing=listing,
            reference=data["reference"],
            requirements=data["requirements"],
            deadline=data["deadline"],
            is_public=data["is_public"],
        )
    except services.ListingRefused as refused:
        listing = _listing(request, listing_id)
        return _render_detail(request, listing, refusal=refused.messages[0], status=409)
    except ValidationError as exc:
        form.add_service_errors(exc)
        return _render_detail(request, listing, edit_form=form, status=400)
    messages.success(request, _("Saved."))
    return redirect("hazards:listing_detail", listing.pk)


# ------------------------------------------------------------------ the notice


@login_required
@require_safe
def listing_notice(request, listing_id: int):
    """The printable listed-supervision notice (挂牌督办通知书), in the name of the
    supervising organization, dated the day of listing."""
    listing = _listing(request, listing_id)
    return render(
        request,
        "hazards/listings/notice.html",
        {
            "listing": listing,
            "issued_on": timezone.localtime(listing.listed_at).date(),
            "printed_on": local_today(),
        },
    )


urlpatterns = [
    path("listings/", listing_board, name="listing_board"),
    path("listings/new/", listing_new, name="listing_new"),
    path("listings/<int:listing_id>/", listing_detail, name="listing_detail"),
    path("listings/<int:listing_id>/notice/", listing_notice, name="listing_notice"),
    path("listings/<int:listing_id>/lift/", listing_lift, name="listing_lift"),
    path("listings/<int:listing_id>/edit/", listing_edit, name="listing_edit"),
]
