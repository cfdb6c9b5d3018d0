"""Pages of the high-risk persons register: parse → call a selector or service → render.

Every page starts from `selectors.require_register` or `selectors.person_get`: anyone
without the register gets 404 and leaves a probe row, exactly like a record out of scope
or one that does not exist (ADR 0017). Pages are never cached. Searching is a POST, so
that names and ID numbers stay out of URLs and browser history.
"""

from __future__ import annotations

import datetime as dt
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.audit.models import AuditAction
from huxiao.audit.services import audit_record
from huxiao.intel import rules, selectors, services
from huxiao.intel.choices import PersonStatus, RiskCategory, RiskLevel
from huxiao.intel.forms import CloseForm, FollowUpForm, MeasureForm, PersonForm, SearchForm
from huxiao.intel.validation import PHOTO_MAX_BYTES

NAV = "register"
PAGE_SIZE = 50


def _no_store(view):
    return never_cache(view)


def _submit(form, call) -> bool:
    if not form.is_valid():
        return False
    try:
        call(**form.service_kwargs())
    except ValidationError as exc:
        form.add_service_errors(exc)
        return False
    return True


def _person(request, person_id: int, route: str, *, log_read: bool = True):
    return selectors.person_get(
        actor=request.user, person_id=person_id, route=route, log_read=log_read
    )


def _form_page(request, *, title, form, action_url, cancel_url, status=200, multipart=False):
    return render(
        request,
        "intel/form_page.html",
        {
            "title": title,
            "form": form,
            "action_url": action_url,
            "cancel_url": cancel_url,
            "multipart": multipart,
            "nav_active": NAV,
        },
        status=status,
    )


def _read_photo(form) -> bytes | None:
    upload = form.cleaned_data.get("photo")
    if not upload:
        return None
    if upload.size and upload.size > PHOTO_MAX_BYTES:
        return b"\0" * (PHOTO_MAX_BYTES + 1)  # the service words the refusal
    return upload.read(PHOTO_MAX_BYTES + 1)


# ------------------------------------------------------------------ list and search


@_no_store
@login_required
@require_http_methods(["GET", "POST"])
def register_list(request):
    """GET: the register, filtered; POST: a search by name or ID number."""
    stations = selectors.require_register(request.user, route="page.list")
    today = timezone.localdate()
    filters = {
        "status": request.GET.get("status", PersonStatus.ACTIVE)[:10],
        "category": request.GET.get("category", "")[:30],
        "risk_level": request.GET.get("risk", "")[:10],
        "review": request.GET.get("review", "")[:10],
    }
    qs = selectors.person_list(actor=request.user, today=today, **filters)
    search_form = SearchForm(request.POST or None)
    page = None
    searched = False
    if request.method == "POST" and search_form.is_valid():
        searched = True
        found = selectors.person_search(
            actor=request.user, qs=qs, query=search_form.cleaned_data["q"]
        )
        rows = selectors.person_rows(
            actor=request.user, persons=found, purpose="page.search", today=today
        )
    else:
        page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
        rows = selectors.person_rows(
            actor=request.user, persons=page.object_list, purpose="page.list", today=today
        )
    since = timezone.now() - dt.timedelta(days=7)
    context = {
        "rows": rows,
        "page": page,
        "searched": searched,
        "search_form": search_form,
        "filters": filters,
        "statuses": PersonStatus.choices,
        "categories": RiskCategory.choices,
        "risk_levels": RiskLevel.choices,
        "recent_hits": list(selectors.hits_for_station(actor=request.user, since=since)[:20]),
        "can_create": bool(rules.register_station_ids(request.user, rules.EDIT)),
        "can_export": any(rules.is_commander(request.user, pk) for pk in stations),
        "show_station": len(stations) > 1,
        "nav_active": NAV,
    }
    return render(request, "intel/register_list.html", context)


# ------------------------------------------------------------------ one record


@_no_store
@login_required
@require_safe
def register_detail(request, person_id: int):
    person = _person(request, person_id, "page.detail")
    detail = selectors.person_detail(person=person)
    can_edit = rules.can_edit(request.user, person.station_id)
    context = {
        "detail": detail,
        "person": person,
        "can_edit": can_edit and person.is_active,
        "can_reopen": can_edit and not person.is_active,
        "access_log": selectors.person_access_log(actor=request.user, person=person),
        "is_commander": rules.is_commander(request.user, person.station_id),
        "today": timezone.localdate(),
        "nav_active": NAV,
    }
    return render(request, "intel/register_detail.html", context)


@_no_store
@login_required
@require_safe
def register_photo(request, person_id: int):
    person = _person(request, person_id, "page.photo")
    photo = selectors.person_photo(person=person)
    if photo is None:
        raise Http404
    data, content_type = photo
    return HttpResponse(data, content_type=content_type)


def _person_form(request, *, data=None, files=None, stations, initial=None, editing=False):
    station_ids = [s.pk for s in stations]
    from huxiao.core.roles import SCHOOL_KINDS
    from huxiao.orgs.models import Organization

    schools = Organization.objects.filter(
        police_station_id__in=station_ids, kind__in=SCHOOL_KINDS
    ).order_by("name")
    officers = rules.register_members(station_ids[0]) if len(station_ids) == 1 else None
    if officers is None:
        from django.contrib.auth import get_user_model

        ids = set()
        for pk in station_ids:
            ids |= set(rules.register_members(pk).values_list("pk", flat=True))
        officers = get_user_model().objects.filter(pk__in=ids).order_by("last_name", "first_name")
    return PersonForm(
        data,
        files,
        stations=stations,
        schools=schools,
        officers=officers,
        editing=editing,
        initial=initial,
    )


@_no_store
@login_required
@require_http_methods(["GET", "POST"])
def register_create(request):
    selectors.require_register(request.user, route="page.create")
    stations = list(selectors.register_stations(actor=request.user, action=rules.EDIT))
    if not stations:
        raise PermissionDenied
    today = timezone.localdate()
    form = _person_form(
        request,
        data=request.POST if request.method == "POST" else None,
        files=request.FILES if request.method == "POST" else None,
        stations=stations,
        initial={"station": stations[0].pk},
    )
    if request.method == "POST" and form.is_valid():
        kwargs = form.service_kwargs()
        station = kwargs.pop("station", None) or stations[0].pk
        try:
            with transaction.atomic():
                person = services.person_register(
                    actor=request.user, station=station, today=today, **kwargs
                )
                photo = _read_photo(form)
                if photo is not None:
                    services.person_photo_set(actor=request.user, person=person, data=photo)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request, _("Person registered as %(ref)s.") % {"ref": person.reference}
            )
            return redirect("intel:register_detail", person_id=person.pk)
    return _form_page(
        request,
        title=_("Register a high-risk person"),
        form=form,
        action_url=reverse("intel:register_create"),
        cancel_url=reverse("intel:register_list"),
        status=400 if request.method == "POST" else 200,
        multipart=True,
    )


@_no_store
@login_required
@require_http_methods(["GET", "POST"])
def register_edit(request, person_id: int):
    # The form shows the decrypted record: a read, logged.
    person = _person(request, person_id, "page.edit")
    rules.require_edit(request.user, person.station_id)
    detail = selectors.person_detail(person=person)
    initial = {
        "station": person.station_id,
        "name": detail.name,
        "id_number": detail.id_number,
        "birth_date": detail.birth_date,
        "gender": person.gender,
        "address": detail.address,
        "category": person.category,
        "risk_level": person.risk_level,
        "related_schools": [s.pk for s in detail.related_schools],
        "responsible_officer": person.responsible_officer_id,
        "next_review_on": person.next_review_on,
        "notes": detail.notes,
    }
    form = _person_form(
        request,
        data=request.POST if request.method == "POST" else None,
        files=request.FILES if request.method == "POST" else None,
        stations=[person.station],
        initial=initial,
        editing=True,
    )
    if request.method == "POST" and form.is_valid():
        kwargs = form.service_kwargs()
        kwargs.pop("station", None)
        try:
            with transaction.atomic():
                services.person_update(actor=request.user, person=person, **kwargs)
                photo = _read_photo(form)
                if photo is not None:
                    services.person_photo_set(actor=request.user, person=person, data=photo)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Record saved."))
            return redirect("intel:register_detail", person_id=person.pk)
    return _form_page(
        request,
        title=_("Edit %(ref)s") % {"ref": person.reference},
        form=form,
        action_url=reverse("intel:register_edit", args=[person.pk]),
        cancel_url=reverse("intel:register_detail", args=[person.pk]),
        status=400 if request.method == "POST" else 200,
        multipart=True,
    )


def _simple_form_view(request, person, *, form, call, title, action_url, success):
    """A form of one record whose valid input goes straight to a service."""
    rules.require_edit(request.user, person.station_id)
    if request.method == "POST" and _submit(form, call):
        messages.success(request, success)
        return redirect("intel:register_detail", person_id=person.pk)
    return _form_page(
        request,
        title=title,
        form=form,
        action_url=action_url,
        cancel_url=reverse("intel:register_detail", args=[person.pk]),
        status=400 if request.method == "POST" else 200,
    )


@_no_store
@login_required
@require_http_methods(["GET", "POST"])
def register_close(request, person_id: int):
    person = _person(request, person_id, "page.close", log_read=False)
    form = CloseForm(request.POST if request.method == "POST" else None)
    return _simple_form_view(
        request,
        person,
        form=form,
        call=lambda **kw: services.person_close(actor=request.user, person=person, **kw),
        title=_("Close %(ref)s") % {"ref": person.reference},
        action_url=reverse("intel:register_close", args=[person.pk]),
        success=_("Record closed; it is no longer screened at the gates."),
    )


@_no_store
@login_required
@require_POST
def register_reopen(request, person_id: int):
    person = _person(request, person_id, "page.reopen", log_read=False)
    rules.require_edit(request.user, person.station_id)
    try:
        services.person_reopen(actor=request.user, person=person)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Record reopened."))
    return redirect("intel:register_detail", person_id=person.pk)


@_no_store
@login_required
@require_http_methods(["GET", "POST"])
def measure_add(request, person_id: int):
    person = _person(request, person_id, "page.measure_add", log_read=False)
    form = MeasureForm(
        request.POST if request.method == "POST" else None,
        officers=rules.register_members(person.station_id),
        initial={"started_on": timezone.localdate()},
    )
    return _simple_form_view(
        request,
        person,
        form=form,
        call=lambda **kw: services.measure_add(actor=request.user, person=person, **kw),
        title=_("Add a control measure for %(ref)s") % {"ref": person.reference},
        action_url=reverse("intel:measure_add", args=[person.pk]),
        success=_("Control measure recorded."),
    )


@_no_store
@login_required
@require_POST
def measure_end(request, person_id: int, measure_id: int):
    person = _person(request, person_id, "page.measure_end", log_read=False)
    rules.require_edit(request.user, person.station_id)
    measure = selectors.measure_get(person=person, measure_id=measure_id)
    try:
        services.measure_end(actor=request.user, measure=measure, ended_on=timezone.localdate())
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Control measure ended today."))
    return redirect("intel:register_detail", person_id=person.pk)


@_no_store
@login_required
@require_http_methods(["GET", "POST"])
def follow_up_add(request, person_id: int):
    person = _person(request, person_id, "page.follow_up_add", log_read=False)
    form = FollowUpForm(
        request.POST if request.method == "POST" else None,
        initial={"on": timezone.localdate()},
    )
    return _simple_form_view(
        request,
        person,
        form=form,
        call=lambda **kw: services.follow_up_add(actor=request.user, person=person, **kw),
        title=_("Add a follow-up for %(ref)s") % {"ref": person.reference},
        action_url=reverse("intel:follow_up_add", args=[person.pk]),
        success=_("Follow-up recorded."),
    )


# ------------------------------------------------------------------ export


@_no_store
@login_required
@require_safe
def register_export(request):
    """The active records of the stations the user commands, as .xlsx, ID numbers masked
    (full numbers never leave the system in a file); one export row and one read row per
    record in the trail."""
    import openpyxl

    stations = selectors.require_register(request.user, route="page.export")
    commanded = [pk for pk in stations if rules.is_commander(request.user, pk)]
    if not commanded:
        raise PermissionDenied
    persons = list(
        selectors.person_list(actor=request.user, status=PersonStatus.ACTIVE).filter(
            station_id__in=commanded
        )
    )
    rows = selectors.person_rows(actor=request.user, persons=persons, purpose="page.export")
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(_("High-risk persons")[:31])
    sheet.append(
        [
            _("Record"),
            _("Police station"),
            _("Name"),
            _("Gender"),
            _("Resident ID number"),
            _("Category"),
            _("Risk level"),
            _("Related schools"),
            _("Responsible officer"),
            _("Next review"),
        ]
    )
    from huxiao.core.names import person_name
    from huxiao.imports.columns import spreadsheet_safe

    for row in rows:
        p = row.person
        # Text that a spreadsheet would run as a formula (=HYPERLINK…) is defused.
        sheet.append(
            [
                spreadsheet_safe(value) if isinstance(value, str) else value
                for value in [
                    p.reference,
                    p.station.name,
                    row.name,
                    str(p.get_gender_display()) if p.gender else "",
                    p.id_number_masked,
                    str(p.get_category_display()),
                    str(p.get_risk_level_display()),
                    "、".join(row.related_school_names),
                    person_name(p.responsible_officer),
                    p.next_review_on.isoformat() if p.next_review_on else "",
                ]
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    audit_record(
        actor=request.user,
        action=AuditAction.EXPORT,
        object_type=selectors.PERSON_TYPE,
        changes={"stations": commanded, "rows": len(rows)},
    )
    today = timezone.localdate().strftime("%Y%m%d")
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="huxiao-register-{today}.xlsx"'
    return response
