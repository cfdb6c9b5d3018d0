"""Pages of safety activities (issue 8 item 1; ADR 0030 "Activities and drill records"):
the list with filters, a new activity (planned or taken place), its page with the drill
record's summary, files and the officer's confirmation, editing and cancelling. Parse →
call a selector/service → render.

Nobody who sees a school gets 403 on the list; a school or activity out of reach is 404; a
step the role does not allow is 403; a step the state does not allow 409 with the reason; a
form with errors 400 with the errors in place and nothing written; a success redirects.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.core.names import person_name
from huxiao.core.roles import Action
from huxiao.core.scoping import can, visible_school_ids
from huxiao.drills import activity_selectors as sel
from huxiao.drills import activity_services as services
from huxiao.drills.activity_forms import ActivityFilterForm, ActivityForm, AttachForm, CancelForm
from huxiao.drills.choices import ActivityKind, ActivityStatus
from huxiao.hazards.hazard_selectors import school_picker
from huxiao.hazards.hazard_views import _id_param
from huxiao.intel.warnings_api import attachment_response

NAV = "drills_activities"
PAGE_SIZE = 50


def render_refusal(request, template: str, context: dict, refusal: str):
    return render(request, template, {**context, "refusal": refusal}, status=409)


# ------------------------------------------------------------------ list


def list_filters(actor, query) -> tuple[frozenset, ActivityFilterForm, sel.ActivityFilters]:
    """The schools the actor sees, the filter form and its filters: shared by the page and
    its export. 403 for who sees no school, 404 for a school out of reach."""
    ids = sel.require_any(actor, Action.VIEW)
    school_id = _id_param(query.get("school"))
    if school_id is not None:
        sel.school_get(actor=actor, school_id=school_id)
    picker = school_picker(actor=actor, school_id=school_id)
    form = ActivityFilterForm(query if query else None, schools=picker.schools)
    filters = sel.ActivityFilters()
    if form.is_bound and form.is_valid():
        cleaned = form.cleaned_data
        filters = sel.ActivityFilters(
            school_id=cleaned.get("school"),
            kind=cleaned["kind"],
            status=cleaned["status"],
            date_from=cleaned["date_from"],
            date_to=cleaned["date_to"],
        )
    if len(ids) == 1:
        filters = dataclasses.replace(filters, school_id=next(iter(ids)))
    return ids, form, filters


@login_required
@require_safe
def activity_list(request):
    """A school's activities (`?school=` for those who see several), filtered by kind,
    status and dates; the officer's activities to confirm come first."""
    ids, form, filters = list_filters(request.user, request.GET)
    page = Paginator(sel.activity_list(actor=request.user, filters=filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for activity in page:
        record = getattr(activity, "drill", None)
        activity.duration = sel.duration_text(record.duration_seconds) if record else ""
    query = request.GET.copy()
    query.pop("page", None)
    recorder_schools = visible_school_ids(request.user, Action.RECORD_ACTIVITY)
    single = filters.school_id if filters.school_id in recorder_schools else None
    return render(
        request,
        "drills/activity_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "to_confirm": sel.to_confirm(actor=request.user),
            "can_record": bool(recorder_schools),
            "can_start_drill": any(sel.is_school_recorder(request.user, pk) for pk in ids),
            "school_id": single,
            "labels": _labels(),
            "nav_active": NAV,
        },
    )


def _labels() -> dict:
    return {
        "kinds": sel.KIND_LABELS,
        "drill_kinds": sel.DRILL_KIND_LABELS,
        "statuses": sel.STATUS_LABELS,
    }


# ------------------------------------------------------------------ new and edit


def _recorder_schools(request):
    from huxiao.duty.duty_selectors import schools_in_scope

    return list(schools_in_scope(request.user, Action.RECORD_ACTIVITY))


def _prefill(request) -> dict:
    """The form's first values: `?date=` (09:00 that day; a past day has taken place) and
    `?kind=`, as the calendar links them."""
    initial = {"organiser_name": person_name(request.user), "status": ActivityStatus.PLANNED}
    day = sel.parse_day(request.GET.get("date"))
    if day is not None:
        initial["starts_at"] = timezone.make_aware(dt.datetime.combine(day, dt.time(9, 0)))
        if day < sel.local_today():
            initial["status"] = ActivityStatus.HELD
    kind = request.GET.get("kind")
    if kind in ActivityKind.values:
        initial["kind"] = kind
    return initial


def _form_page(request, form, school, *, activity=None, status=200):
    return render(
        request,
        "drills/activity_form.html",
        {
            "form": form,
            "school": school,
            "activity": activity,
            "police": sel.is_police_recorder(request.user, school.pk),
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def activity_new(request):
    """A new activity of a school: `?school=&date=YYYY-MM-DD&kind=` prefill the form."""
    schools = _recorder_schools(request)
    if not schools:
        raise PermissionDenied(_("Your role does not allow recording activities here."))
    wanted = _id_param(request.POST.get("school") or request.GET.get("school"))
    school = next((s for s in schools if s.pk == wanted), None)
    if school is None and wanted is not None:
        sel.school_get(actor=request.user, school_id=wanted)  # 404 out of scope
        raise PermissionDenied(_("Your role does not allow recording activities here."))
    if school is None and len(schools) == 1:
        school = schools[0]
    if school is None:
        return render(
            request,
            "drills/activity_choose_school.html",
            {"schools": schools, "query": request.GET.urlencode(), "nav_active": NAV},
        )
    police = sel.is_police_recorder(request.user, school.pk)
    if request.method == "GET":
        form = ActivityForm(school=school, police=police, initial=_prefill(request))
        return _form_page(request, form, school)
    form = ActivityForm(request.POST, request.FILES, school=school, police=police)
    if form.is_valid():
        try:
            activity = services.activity_create(
                actor=request.user,
                school_id=school.pk,
                files=form.cleaned_data.get("attachments") or [],
                **form.service_kwargs(),
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Activity saved."))
            return redirect(_after_save(activity))
    return _form_page(request, form, school, status=400)


def _after_save(activity) -> str:
    """A drill that took place goes on to its record (timing and headcount)."""
    if activity.kind == ActivityKind.DRILL and activity.status == ActivityStatus.HELD:
        return reverse("drills:drill_record", args=[activity.pk])
    return reverse("drills:activity_detail", args=[activity.pk])


def _initial_of(activity) -> dict:
    return {
        "status": activity.status,
        "kind": activity.kind,
        "drill_kind": activity.drill_kind,
        "title": activity.title,
        "starts_at": timezone.localtime(activity.starts_at),
        "ends_at": timezone.localtime(activity.ends_at) if activity.ends_at else None,
        "location": activity.location,
        "organiser_name": activity.organiser_name,
        "whole_school": activity.whole_school,
        "classes": [c.pk for c in activity.classes.all()],
        "headcount": activity.headcount,
        "police_officer": activity.police_officer_id,
        "content": activity.content,
        "outcome": activity.outcome,
    }


@login_required
@require_http_methods(["GET", "POST"])
def activity_edit(request, activity_id: int):
    activity = sel.activity_get(actor=request.user, activity_id=activity_id)
    if not sel.may_edit(request.user, activity):
        raise PermissionDenied(_("Your role does not allow changing this activity."))
    school = activity.school
    police = not sel.is_school_recorder(request.user, school.pk)
    if request.method == "GET":
        initial = _initial_of(activity)
        if request.GET.get("status") == ActivityStatus.HELD:
            initial["status"] = ActivityStatus.HELD
        form = ActivityForm(school=school, police=police, with_files=False, initial=initial)
        return _form_page(request, form, school, activity=activity)
    form = ActivityForm(request.POST, school=school, police=police, with_files=False)
    if form.is_valid():
        try:
            services.activity_update(
                actor=request.user, activity_id=activity.pk, **form.service_kwargs()
            )
        except services.ActivityRefused as refused:
            return _detail(request, activity, refusal=refused.messages[0], status=409)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Activity saved."))
            return redirect("drills:activity_detail", activity.pk)
    return _form_page(request, form, school, activity=activity, status=400)


# ------------------------------------------------------------------ one activity


def _detail(request, activity, *, refusal=None, cancel_form=None, attach_form=None, status=200):
    editable = sel.may_edit(request.user, activity) and activity.status != ActivityStatus.CANCELLED
    record = sel.record_of(activity) if activity.kind == ActivityKind.DRILL else None
    return render(
        request,
        "drills/activity_detail.html",
        {
            "activity": activity,
            "school": activity.school,
            "record": record,
            "duration": sel.duration_text(record.duration_seconds) if record else "",
            "kind_label": sel.KIND_LABELS.get(activity.kind, ""),
            "drill_label": sel.DRILL_KIND_LABELS.get(activity.drill_kind, ""),
            "status_label": sel.STATUS_LABELS.get(activity.status, ""),
            "classes": list(activity.classes.all()),
            "attachments": list(activity.attachments.all()),
            "can_edit": editable,
            "can_hold": editable and activity.status == ActivityStatus.PLANNED,
            "can_drill": activity.kind == ActivityKind.DRILL
            and sel.is_school_recorder(request.user, activity.school_id),
            "can_confirm": sel.may_confirm(request.user, activity),
            "can_see_alarm": can(request.user, Action.VIEW_ALARM, activity.school_id),
            "cancel_form": (cancel_form or CancelForm())
            if editable and activity.status == ActivityStatus.PLANNED
            else None,
            "attach_form": (attach_form or AttachForm()) if editable else None,
            "refusal": refusal,
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_safe
def activity_detail(request, activity_id: int):
    activity = sel.activity_get(actor=request.user, activity_id=activity_id)
    return _detail(request, activity)


@login_required
@require_POST
def activity_cancel(request, activity_id: int):
    activity = sel.activity_get(actor=request.user, activity_id=activity_id)
    form = CancelForm(request.POST)
    try:
        services.activity_cancel(
            actor=request.user, activity_id=activity.pk, reason=request.POST.get("reason", "")
        )
    except services.ActivityRefused as refused:
        return _detail(request, activity, refusal=refused.messages[0], status=409)
    except ValidationError as exc:
        form.is_valid()
        form.add_service_errors(exc)
        return _detail(request, activity, cancel_form=form, status=400)
    messages.success(request, _("Activity cancelled."))
    return redirect("drills:activity_detail", activity.pk)


@login_required
@require_POST
def activity_confirm(request, activity_id: int):
    activity = sel.activity_get(actor=request.user, activity_id=activity_id)
    try:
        services.activity_confirm_presence(actor=request.user, activity_id=activity.pk)
    except services.ActivityRefused as refused:
        return _detail(request, activity, refusal=refused.messages[0], status=409)
    messages.success(request, _("Your presence is confirmed."))
    return redirect("drills:activity_detail", activity.pk)


# ------------------------------------------------------------------ files


@login_required
@require_POST
def activity_attach(request, activity_id: int):
    activity = sel.activity_get(actor=request.user, activity_id=activity_id)
    form = AttachForm(request.POST, request.FILES)
    try:
        services.activity_attach(
            actor=request.user,
            activity_id=activity.pk,
            files=request.FILES.getlist("attachments"),
        )
    except services.ActivityRefused as refused:
        return _detail(request, activity, refusal=refused.messages[0], status=409)
    except ValidationError as exc:
        form.is_valid()
        form.add_service_errors(exc)
        activity = sel.activity_get(actor=request.user, activity_id=activity.pk)
        return _detail(request, activity, attach_form=form, status=400)
    messages.success(request, _("Files added."))
    return redirect("drills:activity_detail", activity.pk)


@login_required
@require_safe
def activity_attachment(request, activity_id: int, attachment_id: int):
    attachment = sel.attachment_get(
        actor=request.user, activity_id=activity_id, attachment_id=attachment_id
    )
    return attachment_response(attachment)


@login_required
@require_POST
def activity_attachment_delete(request, activity_id: int, attachment_id: int):
    attachment = sel.attachment_get(
        actor=request.user, activity_id=activity_id, attachment_id=attachment_id
    )
    try:
        services.activity_attachment_delete(
            actor=request.user, activity_id=attachment.activity_id, attachment_id=attachment.pk
        )
    except services.ActivityRefused as refused:
        activity = sel.activity_get(actor=request.user, activity_id=attachment.activity_id)
        return _detail(request, activity, refusal=refused.messages[0], status=409)
    messages.success(request, _("File removed."))
    return redirect("drills:activity_detail", attachment.activity_id)


urlpatterns = [
    path("activities/", activity_list, name="activity_list"),
    path("activities/new/", activity_new, name="activity_new"),
    path("activities/<int:activity_id>/", activity_detail, name="activity_detail"),
    path("activities/<int:activity_id>/edit/", activity_edit, name="activity_edit"),
    path("activities/<int:activity_id>/cancel/", activity_cancel, name="activity_cancel"),
    path("activities/<int:activity_id>/confirm/", activity_confirm, name="activity_confirm"),
    path("activities/<int:activity_id>/files/", activity_attach, name="activity_attach"),
    path(
        "activities/<int:activity_id>/files/<int:attachment_id>/",
        activity_attachment,
        name="activity_attachment",
    ),
    path(
        "activities/<int:activity_id>/files/<int:attachment_id>/delete/",
        activity_attachment_delete,
        name="activity_attachment_delete",
    ),
]
