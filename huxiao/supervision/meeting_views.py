"""Pages of the leading group (领导小组) and its meetings (ADR 0027, "Leading group and
meetings"): the group with its members, planning and recording meetings with their
decisions as action items, the printable minutes (纪要), the action items with the forms of
the moves the user may make, and the progress reports to the government.

Parse → call a selector/service → render. Someone with nothing in the area gets 403; a
record outside the user's scope is 404; a write the role does not allow is 403; one the
state does not allow is 409 with the reason; a form with errors is 400 with the errors in
place; a success redirects.
"""

from __future__ import annotations

import datetime as dt

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

from huxiao.supervision import meeting_selectors as sel
from huxiao.supervision import meeting_services as services
from huxiao.supervision.choices import ActionStatus, MeetingStatus
from huxiao.supervision.meeting_forms import (
    ActionFilterForm,
    ActionRowForm,
    GroupForm,
    MeetingForm,
    MemberEditForm,
    MemberForm,
    NoteForm,
    ProgressForm,
    ReasonForm,
    RecordForm,
    ReportForm,
    SubmitForm,
)
from huxiao.supervision.meeting_models import LeadingGroup

MAX_ID = 2**63 - 1
PAGE_SIZE = 30
NAV = "supervision_meetings"
DEFAULT_ROWS = 3
MAX_ROWS = 20
T = "supervision/meetings/"


def _id(value: int) -> int:
    if value > MAX_ID:
        raise Http404
    return value


def _status(form) -> int:
    return 400 if form.is_bound and form.errors else 200


def _ctx(**kwargs) -> dict:
    return {"nav_active": NAV, **kwargs}


# ------------------------------------------------------------------ groups


def _free_places(actor) -> list:
    """The actor's keeping organizations whose town (or county) has no group yet."""
    places = sel.keep_places(actor)
    taken = set(
        LeadingGroup.objects.filter(region_id__in={p.region_id for p in places}).values_list(
            "region_id", "town_id"
        )
    )
    return [p for p in places if (p.region_id, p.town_id) not in taken]


@login_required
@require_safe
def group_list(request):
    sel.require_area(request.user)
    groups = list(sel.group_list(actor=request.user))
    free = _free_places(request.user)
    if len(groups) == 1 and not free:
        return redirect("supervision:meetings_group_detail", groups[0].pk)
    return render(request, T + "group_list.html", _ctx(groups=groups, can_create=bool(free)))


@login_required
@require_http_methods(["GET", "POST"])
def group_new(request):
    free = _free_places(request.user)
    if not free:
        sel.require_area(request.user)
        if not sel.keep_places(request.user):
            raise PermissionDenied
        messages.info(request, _("Your town already has a leading group."))
        return redirect("supervision:meetings_group_list")
    initial = {"name": _default_name(free[0])}
    form = GroupForm(request.POST or None, places=free, initial=initial)
    refusal = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        owner = form.places.get(data.get("owner")) if "owner" in form.fields else free[0]
        try:
            group = services.group_create(
                actor=request.user,
                owner=owner,
                name=data["name"],
                established_on=data["established_on"],
                duties=data["duties"],
            )
        except services.MeetingConflict as exc:
            refusal = exc.messages[0]
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Leading group set up."))
            return redirect("supervision:meetings_group_detail", group.pk)
    status = 409 if refusal else _status(form)
    return render(
        request,
        T + "group_form.html",
        _ctx(form=form, group=None, refusal=refusal),
        status=status,
    )


def _default_name(org) -> str:
    place = org.town.name if org.town_id else org.region.name
    return f"{place}护校安园工作领导小组"


@login_required
@require_safe
def group_detail(request, group_id: int):
    sel.require_area(request.user)
    group = sel.group_get(actor=request.user, group_id=_id(group_id))
    today = sel.local_today()
    meetings = list(sel.meeting_list(actor=request.user, group_id=group.pk)[:30])
    actions = sel.action_list(
        actor=request.user, filters=sel.ActionFilters(group_id=group.pk), today=today
    )
    counts = {s: 0 for s in ActionStatus.values}
    overdue = 0
    for status, deadline in actions.values_list("status", "deadline"):
        counts[status] += 1
        overdue += int(status in sel.OWNER_STATUSES and deadline < today)
    members = list(group.members.all())
    return render(
        request,
        T + "group_detail.html",
        _ctx(
            group=group,
            members=[m for m in members if m.is_active],
            former=[m for m in members if not m.is_active],
            planned=[m for m in meetings if m.status == MeetingStatus.PLANNED],
            held=[m for m in meetings if m.status == MeetingStatus.HELD],
            counts=[(ActionStatus(s).label, s, n) for s, n in counts.items()],
            overdue=overdue,
            keeper=sel.may_keep(request.user, group),
        ),
    )


def _keeper_group(request, group_id: int) -> LeadingGroup:
    sel.require_area(request.user)
    group = sel.group_get(actor=request.user, group_id=_id(group_id))
    sel.require_keep(request.user, group)
    return group


@login_required
@require_http_methods(["GET", "POST"])
def group_edit(request, group_id: int):
    group = _keeper_group(request, group_id)
    initial = {"name": group.name, "established_on": group.established_on, "duties": group.duties}
    form = GroupForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.group_update(
                actor=request.user,
                group=group,
                name=data["name"],
                established_on=data["established_on"],
                duties=data["duties"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("supervision:meetings_group_detail", group.pk)
    return render(
        request, T + "group_form.html", _ctx(form=form, group=group), status=_status(form)
    )


# ------------------------------------------------------------------ members


@login_required
@require_http_methods(["GET", "POST"])
def member_new(request, group_id: int):
    group = _keeper_group(request, group_id)
    form = MemberForm(
        request.POST or None,
        organizations=list(sel.area_organizations(group)),
        people=sel.person_choices(group),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.member_add(
                actor=request.user,
                group=group,
                organization_id=data["organization"],
                user_id=data["user"],
                name=data["name"],
                title=data["title"],
                position=data["position"],
                duties=data["duties"],
                order=data["order"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Member added."))
            return redirect("supervision:meetings_group_detail", group.pk)
    return render(
        request,
        T + "member_form.html",
        _ctx(form=form, group=group, member=None),
        status=_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def member_edit(request, member_id: int):
    sel.require_area(request.user)
    member = sel.member_get(actor=request.user, member_id=_id(member_id))
    sel.require_keep(request.user, member.group)
    initial = {
        "name": member.name,
        "title": member.title,
        "position": member.position,
        "duties": member.duties,
        "order": member.order,
    }
    form = MemberEditForm(request.POST or None, initial=initial, named=member.user_id is None)
    refusal = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.member_update(
                actor=request.user,
                member=member,
                name=data.get("name"),
                title=data["title"],
                position=data["position"],
                duties=data["duties"],
                order=data["order"],
            )
        except services.MeetingConflict as exc:
            refusal = exc.messages[0]
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("supervision:meetings_group_detail", member.group_id)
    return render(
        request,
        T + "member_form.html",
        _ctx(form=form, group=member.group, member=member, refusal=refusal),
        status=409 if refusal else _status(form),
    )


@login_required
@require_POST
def member_deactivate(request, member_id: int):
    sel.require_area(request.user)
    member = sel.member_get(actor=request.user, member_id=_id(member_id))
    try:
        services.member_deactivate(actor=request.user, member=member)
    except services.MeetingConflict as exc:
        messages.error(request, exc.messages[0])
        return _group_detail_with_status(request, member.group_id, 409)
    messages.success(request, _("%(name)s has left the group.") % {"name": member.name})
    return redirect("supervision:meetings_group_detail", member.group_id)


def _group_detail_with_status(request, group_id, status):
    response = group_detail(request, group_id)
    response.status_code = status
    return response


# ------------------------------------------------------------------ meetings


def _meeting_form(group, data=None, *, meeting=None):
    if meeting is None:
        return MeetingForm(
            data,
            candidates=sel.invitee_candidates(group),
            initial={
                "invitees": [f"g{m.pk}" for m in group.members.all() if m.is_active],
                "kind": "leading_group",
            },
        )
    initial = {
        "kind": meeting.kind,
        "title": meeting.title,
        "starts_at": timezone.localtime(meeting.starts_at),
        "location": meeting.location,
        "chair": meeting.chair,
        "agenda": meeting.agenda,
    }
    return MeetingForm(data, initial=initial)


@login_required
@require_http_methods(["GET", "POST"])
def meeting_plan(request, group_id: int):
    group = _keeper_group(request, group_id)
    form = _meeting_form(group, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            meeting = services.meeting_plan(
                actor=request.user,
                group=group,
                kind=data["kind"],
                title=data["title"],
                starts_at=data["starts_at"],
                location=data["location"],
                chair=data["chair"],
                agenda=data["agenda"],
                invitees=data["invitees"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Meeting planned; the invitees have been told."))
            return redirect("supervision:meetings_meeting_detail", meeting.pk)
    return render(
        request,
        T + "meeting_form.html",
        _ctx(form=form, group=group, meeting=None),
        status=_status(form),
    )


def _render_meeting(request, meeting, *, refusal=None, status=200):
    now = timezone.now()
    keeper = sel.may_keep(request.user, meeting.group)
    today = sel.local_today(now)
    actions = list(meeting.actions.all())
    return render(
        request,
        T + "meeting_detail.html",
        _ctx(
            meeting=meeting,
            group=meeting.group,
            attendees=list(meeting.attendees.all()),
            actions=[(a, sel.is_overdue(a, today)) for a in actions],
            keeper=keeper,
            can_record=keeper
            and meeting.status == MeetingStatus.PLANNED
            and meeting.starts_at <= now,
            can_edit=keeper and meeting.status == MeetingStatus.PLANNED,
            can_correct=keeper and services.minutes_editable(meeting, now),
            edit_days=services.MINUTES_EDIT_DAYS,
            refusal=refusal,
        ),
        status=status,
    )


@login_required
@require_safe
def meeting_detail(request, meeting_id: int):
    sel.require_any_membership(request.user)
    meeting = sel.meeting_get(actor=request.user, meeting_id=_id(meeting_id))
    return _render_meeting(request, meeting)


def _keeper_meeting(request, meeting_id: int):
    sel.require_any_membership(request.user)
    meeting = sel.meeting_get(actor=request.user, meeting_id=_id(meeting_id))
    sel.require_keep(request.user, meeting.group)
    return meeting


@login_required
@require_http_methods(["GET", "POST"])
def meeting_edit(request, meeting_id: int):
    meeting = _keeper_meeting(request, meeting_id)
    if meeting.status != MeetingStatus.PLANNED:
        return _render_meeting(
            request, meeting, refusal=_("Only a planned meeting can be changed."), status=409
        )
    form = _meeting_form(meeting.group, request.POST or None, meeting=meeting)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.meeting_update(
                actor=request.user,
                meeting=meeting,
                kind=data["kind"],
                title=data["title"],
                starts_at=data["starts_at"],
                location=data["location"],
                chair=data["chair"],
                agenda=data["agenda"],
            )
        except services.MeetingConflict as exc:
            meeting = sel.meeting_get(actor=request.user, meeting_id=meeting.pk)
            return _render_meeting(request, meeting, refusal=exc.messages[0], status=409)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("supervision:meetings_meeting_detail", meeting.pk)
    return render(
        request,
        T + "meeting_form.html",
        _ctx(form=form, group=meeting.group, meeting=meeting),
        status=_status(form),
    )


def _row_count(request) -> int:
    raw = request.POST.get("rows") or request.GET.get("rows") or ""
    if raw.isascii() and raw.isdigit() and len(raw) <= 3:
        return max(0, min(int(raw), MAX_ROWS))
    return DEFAULT_ROWS


def _row_forms(meeting, count: int, data=None) -> list[ActionRowForm]:
    organizations = list(sel.area_organizations(meeting.group))
    people = sel.person_choices(meeting.group)
    return [
        ActionRowForm(data, organizations=organizations, people=people, prefix=f"a{i}")
        for i in range(count)
    ]


def _record_form(meeting, data=None, *, initial_present=None):
    attendees = list(meeting.attendees.all())
    if initial_present is None:
        initial_present = [str(a.pk) for a in attendees if a.present]
    return RecordForm(
        data,
        attendees=attendees,
        initial={"present": initial_present, "minutes": meeting.minutes},
    )


def _apply_row_errors(exc: ValidationError, form, rows: list[ActionRowForm], index_of: list[int]):
    """Service errors "actions.<i>.<field>" go to the i-th non-blank row; the others to the
    main form."""
    rest = {}
    for key, errors in exc.message_dict.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "actions" and parts[1].isdigit():
            row = rows[index_of[int(parts[1])]]
            for message in errors:
                row.add_error(parts[2] if parts[2] in row.fields else None, message)
        else:
            rest[key] = errors
    if rest:
        form.add_service_errors(ValidationError(rest))


@login_required
@require_http_methods(["GET", "POST"])
def meeting_record(request, meeting_id: int):
    meeting = _keeper_meeting(request, meeting_id)
    if meeting.status != MeetingStatus.PLANNED:
        return _render_meeting(
            request,
            meeting,
            refusal=_("The meeting has already been recorded as held."),
            status=409,
        )
    if meeting.starts_at > timezone.now():
        return _render_meeting(
            request,
            meeting,
            refusal=_("The meeting has not started yet; record it once it is held."),
            status=409,
        )
    count = _row_count(request)
    data = request.POST if request.method == "POST" else None
    form = _record_form(meeting, data)
    rows = _row_forms(meeting, count, data)
    status, refusal = 200, None
    if request.method == "POST":
        valid = form.is_valid() & all([r.is_valid() for r in rows])
        if valid:
            index_of = [i for i, r in enumerate(rows) if not r.is_blank()]
            try:
                services.meeting_record(
                    actor=request.user,
                    meeting=meeting,
                    minutes=form.cleaned_data["minutes"],
                    absent_ids=form.absent_ids(),
                    actions=[rows[i].row() for i in index_of],
                )
            except services.MeetingConflict as exc:
                refusal, status = exc.messages[0], 409
            except ValidationError as exc:
                _apply_row_errors(exc, form, rows, index_of)
                status = 400
            else:
                messages.success(request, _("Meeting recorded as held."))
                return redirect("supervision:meetings_meeting_detail", meeting.pk)
        else:
            status = 400
    return render(
        request,
        T + "meeting_record.html",
        _ctx(
            meeting=meeting,
            group=meeting.group,
            form=form,
            rows=rows,
            row_count=count,
            more_rows=min(count + 3, MAX_ROWS),
            refusal=refusal,
        ),
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def meeting_minutes_edit(request, meeting_id: int):
    meeting = _keeper_meeting(request, meeting_id)
    if not services.minutes_editable(meeting):
        return _render_meeting(
            request,
            meeting,
            refusal=_(
                "The minutes were recorded more than %(days)s days ago; they are the record "
                "now and can no longer be changed."
            )
            % {"days": services.MINUTES_EDIT_DAYS}
            if meeting.status == MeetingStatus.HELD
            else _("Record the meeting as held first."),
            status=409,
        )
    form = _record_form(meeting, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_minutes_edit(
                actor=request.user,
                meeting=meeting,
                minutes=form.cleaned_data["minutes"],
                absent_ids=form.absent_ids(),
            )
        except services.MeetingConflict as exc:
            meeting = sel.meeting_get(actor=request.user, meeting_id=meeting.pk)
            return _render_meeting(request, meeting, refusal=exc.messages[0], status=409)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Minutes corrected."))
            return redirect("supervision:meetings_meeting_detail", meeting.pk)
    return render(
        request,
        T + "minutes_form.html",
        _ctx(meeting=meeting, group=meeting.group, form=form),
        status=_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def action_new(request, meeting_id: int):
    meeting = _keeper_meeting(request, meeting_id)
    if not services.minutes_editable(meeting):
        return _render_meeting(
            request,
            meeting,
            refusal=_(
                "Action items can be added to a held meeting while its minutes can be corrected."
            ),
            status=409,
        )
    data = request.POST if request.method == "POST" else None
    form = _row_forms(meeting, 1, data)[0]
    if request.method == "POST" and form.is_valid():
        row = form.row()
        try:
            item = services.action_add(
                actor=request.user,
                meeting=meeting,
                decision=row["decision"],
                owner_org_id=row["owner_org_id"],
                owner_id=row["owner_id"],
                deadline=row["deadline"],
            )
        except services.MeetingConflict as exc:
            meeting = sel.meeting_get(actor=request.user, meeting_id=meeting.pk)
            return _render_meeting(request, meeting, refusal=exc.messages[0], status=409)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Action item added."))
            return redirect("supervision:meetings_action_detail", item.pk)
    return render(
        request,
        T + "action_form.html",
        _ctx(meeting=meeting, group=meeting.group, form=form),
        status=_status(form),
    )


@login_required
@require_safe
def meeting_print(request, meeting_id: int):
    """The printable minutes (会议纪要)."""
    sel.require_any_membership(request.user)
    meeting = sel.meeting_get(actor=request.user, meeting_id=_id(meeting_id))
    attendees = list(meeting.attendees.all())
    return render(
        request,
        T + "minutes_print.html",
        {
            "meeting": meeting,
            "group": meeting.group,
            "present": [a for a in attendees if a.present],
            "absent": [a for a in attendees if not a.present],
            "actions": list(meeting.actions.all()),
            "printed_on": sel.local_today(),
        },
    )


# ------------------------------------------------------------------ action items


def action_filters(actor, params):
    """The action item list's form and filters (page and export): `group` narrows to one
    leading group's meetings; invalid filters show every item."""
    sel.require_any_membership(actor)
    form = ActionFilterForm(params or None, organizations=sel.visible_owner_orgs(actor))
    filters = sel.ActionFilters()
    group_id = params.get("group", "")
    if group_id.isascii() and group_id.isdigit() and len(group_id) <= 18:
        filters.group_id = int(group_id)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters.status = data["status"]
        filters.owner_org_id = data["organization"]
        filters.overdue = data["overdue"]
        filters.mine = data["mine"]
    return form, filters


@login_required
@require_safe
def action_list(request):
    form, filters = action_filters(request.user, request.GET)
    today = sel.local_today()
    qs = sel.action_list(actor=request.user, filters=filters, today=today)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        T + "action_list.html",
        _ctx(
            form=form,
            page=page,
            rows=[(a, sel.is_overdue(a, today)) for a in page.object_list],
            query=query.urlencode(),
        ),
    )


MOVE_FORMS = {
    "start": NoteForm,
    "progress": ProgressForm,
    "submit": SubmitForm,
    "close": NoteForm,
    "send_back": ReasonForm,
}
MOVE_LABELS = {
    "start": gettext_lazy("Start the work"),
    "progress": gettext_lazy("Report progress"),
    "submit": gettext_lazy("Report done"),
    "close": gettext_lazy("Close the action item"),
    "send_back": gettext_lazy("Send back"),
}


def _render_action(request, item, *, bound=None, refusal=None, status=200):
    forms = []
    for name in services.allowed_moves(request.user, item):
        form = (
            bound if bound is not None and bound.prefix == name else MOVE_FORMS[name](prefix=name)
        )
        forms.append(
            {
                "name": name,
                "label": str(MOVE_LABELS[name]),
                "form": form,
                "danger": name == "send_back",
            }
        )
    return render(
        request,
        T + "action_detail.html",
        _ctx(
            item=item,
            meeting=item.meeting,
            group=item.meeting.group,
            events=list(item.events.all()),
            overdue=sel.is_overdue(item),
            move_forms=forms,
            refusal=refusal,
        ),
        status=status,
    )


@login_required
@require_safe
def action_detail(request, action_id: int):
    sel.require_any_membership(request.user)
    item = sel.action_get(actor=request.user, action_id=_id(action_id))
    return _render_action(request, item)


@login_required
@require_POST
def action_move(request, action_id: int, move: str):
    if move not in MOVE_FORMS:
        raise Http404
    sel.require_any_membership(request.user)
    item = sel.action_get(actor=request.user, action_id=_id(action_id))
    try:
        # The right (403) and the state (409) before the input (400).
        services.check_move(request.user, item, move)
    except services.MeetingConflict as exc:
        return _render_action(request, item, refusal=exc.messages[0], status=409)
    form = MOVE_FORMS[move](request.POST, prefix=move)
    if not form.is_valid():
        return _render_action(request, item, bound=form, status=400)
    try:
        _call_move(request.user, item, move, form.cleaned_data)
    except services.MeetingConflict as exc:
        item = sel.action_get(actor=request.user, action_id=item.pk)
        return _render_action(request, item, refusal=exc.messages[0], status=409)
    except ValidationError as exc:
        form.add_service_errors(exc)
        item = sel.action_get(actor=request.user, action_id=item.pk)
        return _render_action(request, item, bound=form, status=400)
    messages.success(request, _("Saved."))
    return redirect("supervision:meetings_action_detail", item.pk)


def _call_move(actor, item, move, data):
    if move == "start":
        return services.action_start(actor=actor, item=item, note=data["note"])
    if move == "progress":
        return services.action_progress(actor=actor, item=item, note=data["note"])
    if move == "submit":
        return services.action_submit(actor=actor, item=item, note=data["note"])
    if move == "close":
        return services.action_close(actor=actor, item=item, note=data["note"])
    return services.action_send_back(actor=actor, item=item, reason=data["reason"])


# ------------------------------------------------------------------ progress reports


def _default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    return today.replace(day=1), today


@login_required
@require_safe
def report_list(request, group_id: int):
    sel.require_area(request.user)
    group = sel.group_get(actor=request.user, group_id=_id(group_id))
    reports = sel.report_list(actor=request.user, group=group)
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        T + "report_list.html",
        _ctx(group=group, page=page, keeper=sel.may_keep(request.user, group)),
    )


@login_required
@require_http_methods(["GET", "POST"])
def report_new(request, group_id: int):
    """The figures for a period (GET: preview), and sending them (POST)."""
    group = _keeper_group(request, group_id)
    today = sel.local_today()
    start, end = _default_period(today)
    if request.method == "POST":
        data = request.POST
    else:
        data = request.GET if "period_start" in request.GET else None
    form = ReportForm(data, initial={"period_start": start, "period_end": end})
    status = 200
    if form.is_bound:
        if form.is_valid():
            start, end = form.cleaned_data["period_start"], form.cleaned_data["period_end"]
            try:
                services.clean_period(start, end)
            except ValidationError as exc:
                form.add_service_errors(exc)
        if form.errors:
            status = 400
        elif request.method == "POST" and not request.POST.get("preview"):
            try:
                report = services.report_send(
                    actor=request.user,
                    group=group,
                    period_start=start,
                    period_end=end,
                    summary=form.cleaned_data["summary"],
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
                status = 400
            else:
                messages.success(request, _("Progress report sent to the government."))
                return redirect("supervision:meetings_report_detail", report.pk)
    figures = sel.progress_figures(group, start, end, today) if status == 200 else None
    return render(
        request,
        T + "report_new.html",
        _ctx(
            group=group,
            form=form,
            figures=figures,
            recipients=services.report_recipients(group),
        ),
        status=status,
    )


@login_required
@require_safe
def report_detail(request, report_id: int):
    """The printable progress report, from the figures kept when it was sent."""
    sel.require_area(request.user)
    report = sel.report_get(actor=request.user, report_id=_id(report_id))
    return render(
        request,
        T + "report_print.html",
        {
            "report": report,
            "group": report.group,
            "figures": report.snapshot,
            "recipients": list(report.sent_to.all()),
            "printed_on": sel.local_today(),
        },
    )


urlpatterns = [
    path("group/", group_list, name="meetings_group_list"),
    path("group/new/", group_new, name="meetings_group_new"),
    path("group/<int:group_id>/", group_detail, name="meetings_group_detail"),
    path("group/<int:group_id>/edit/", group_edit, name="meetings_group_edit"),
    path("group/<int:group_id>/members/new/", member_new, name="meetings_member_new"),
    path("group/members/<int:member_id>/edit/", member_edit, name="meetings_member_edit"),
    path(
        "group/members/<int:member_id>/deactivate/",
        member_deactivate,
        name="meetings_member_deactivate",
    ),
    path("group/<int:group_id>/meetings/new/", meeting_plan, name="meetings_meeting_plan"),
    path("group/meetings/<int:meeting_id>/", meeting_detail, name="meetings_meeting_detail"),
    path("group/meetings/<int:meeting_id>/edit/", meeting_edit, name="meetings_meeting_edit"),
    path("group/meetings/<int:meeting_id>/record/", meeting_record, name="meetings_meeting_record"),
    path(
        "group/meetings/<int:meeting_id>/minutes/",
        meeting_minutes_edit,
        name="meetings_minutes_edit",
    ),
    path("group/meetings/<int:meeting_id>/print/", meeting_print, name="meetings_minutes_print"),
    path("group/meetings/<int:meeting_id>/actions/new/", action_new, name="meetings_action_new"),
    path("group/actions/", action_list, name="meetings_action_list"),
    path("group/actions/<int:action_id>/", action_detail, name="meetings_action_detail"),
    path("group/actions/<int:action_id>/<slug:move>/", action_move, name="meetings_action_move"),
    path("group/<int:group_id>/reports/", report_list, name="meetings_report_list"),
    path("group/<int:group_id>/reports/new/", report_new, name="meetings_report_new"),
    path("group/reports/<int:report_id>/", report_detail, name="meetings_report_detail"),
]
