"""Pages of checks, attendance, illness follow-ups, dining seats, dormitory rooms, class staff
and a child's health record (issue 9 items 2–3; §3 3). Phone first: a teacher takes a
class of 40 with one hand. Parse → call a selector/service → render.

Nobody with a health role anywhere (police, the other offices) gets 403; a school, class
or child out of reach 404; a write the role does not allow 403; a form with errors 400
with the errors in place; a success redirects.

- `health:check_home` /health/checks/: my classes (teachers), the schools in scope
- `health:checks` /health/schools/<id>/checks/?date=: every class's checks of a day
- `health:check_entry` /health/classes/<id>/checks/<session>/?date=: the class sheet
- `health:attendance` /health/classes/<id>/attendance/?date=
- `health:absence_establish` /health/absences/<id>/cause/ (POST)
- `health:follow_ups` /health/schools/<id>/follow-ups/ ; `health:follow_up_close` (POST)
- `health:dining` /health/classes/<id>/dining/?date=
- `health:dorms` /health/schools/<id>/dorms/
- `health:class_staff` /health/classes/<id>/staff/ ; `health:class_staff_remove` (POST)
- `health:child` /health/children/<id>/: the child's health record (a logged read)
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.core.permissions import require
from huxiao.core.roles import Action
from huxiao.core.scoping import can
from huxiao.duty.duty_selectors import parse_date
from huxiao.duty.duty_views import service_errors
from huxiao.health import check_forms as f
from huxiao.health import check_selectors as sel
from huxiao.health import check_services as services
from huxiao.health.choices import AbsenceCause, CheckAction, CheckSession, Symptom
from huxiao.health.models import HealthCheck
from huxiao.health.reads import log_health_read
from huxiao.health.symptoms import FEVER_FROM, clean_temperature
from huxiao.people.models import Child, Staff

NAV = "health_checks"
RETURNED_DAYS = 14


def _url_or_none(name: str, *args) -> str | None:
    """A page of another area that may not be built yet: no link rather than an error."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def checks_day(query, today: dt.date) -> dt.date:
    """The day of a school's checks page from `?date=` (today by default, never after it):
    the page and its export."""
    return min(parse_date(query.get("date")) or today, today)


def _day(request, today: dt.date) -> dt.date:
    source = request.POST if request.method == "POST" else request.GET
    return parse_date(source.get("date") or request.GET.get("date")) or today


def _errors_on_rows(exc: ValidationError, prefix: str, rows) -> tuple[dict, list]:
    """A service's errors: those of a child on the page go on their row, the others (a
    child not of the class, …) above the form."""
    by_row, rest = f.row_errors(exc.message_dict, prefix)
    shown = {str(row.child.pk) for row in rows}
    for key in [k for k in by_row if k not in shown]:
        rest.extend(by_row.pop(key))
    return by_row, rest


def _future(request, template_context: dict, day: dt.date):
    return render(
        request,
        "health/check_refusal.html",
        {
            **template_context,
            "day": day,
            "refusal": _("This day has not come yet: choose today or earlier."),
            "nav_active": NAV,
        },
        status=400,
    )


def _with_date(url: str, day: dt.date, **extra) -> str:
    return url + "?" + urlencode({"date": day.isoformat(), **extra})


def _symptom_choices(school, given=()) -> list[tuple[str, str]]:
    """The symptom toggles: mouth/hand/foot blisters for kindergartens (or when given)."""
    show_hfmd = sel.is_kindergarten(school) or Symptom.HFMD in given
    return [(code, label) for code, label in Symptom.choices if code != Symptom.HFMD or show_hfmd]


def _toggles_html(kind: str, name: str, options, chosen) -> str:
    """A row's toggles (checkboxes or radios) as HTML. A class of 40 has some 500 of them:
    built here from values escaped once per page, they cost a fraction of a template loop
    (the sheet's target is 150 ms at p95 for 40 children)."""
    return mark_safe(  # noqa: S308 - every part is escaped (`_escaped_options`) or ours
        "".join(
            f'<label><input type="{kind}" name="{name}" value="{code}"'
            f"{' checked' if code in chosen else ''}>{label}</label>"
            for code, label in options
        )
    )


def _escaped_options(options) -> list[tuple[str, str]]:
    return [(escape(code), escape(str(label))) for code, label in options]


# ------------------------------------------------------------------ home and a school's day


@login_required
@require_safe
def check_home(request):
    sel.require_health(request.user)
    today = timezone.localdate()
    classes = sel.teacher_classes(request.user)
    schools = list(sel.schools_in_scope(request.user)[:500])
    if not classes and len(schools) == 1:
        return redirect("health:checks", schools[0].pk)
    done: dict[int, set] = {}
    for class_id, session in HealthCheck.objects.filter(
        school_class_id__in=[c.pk for c in classes], date=today
    ).values_list("school_class_id", "session"):
        done.setdefault(class_id, set()).add(session)
    return render(
        request,
        "health/check_home.html",
        {
            "classes": [
                {
                    "school_class": c,
                    "morning": CheckSession.MORNING in done.get(c.pk, ()),
                    "noon": CheckSession.NOON in done.get(c.pk, ()),
                }
                for c in classes
            ],
            "schools": schools,
            "today": today,
            "nav_active": NAV,
        },
    )


@login_required
@require_safe
def school_checks(request, school_id: int):
    sel.require_health(request.user)
    school = sel.school_get(actor=request.user, school_id=school_id)
    today = timezone.localdate()
    day = checks_day(request.GET, today)
    rows = sel.school_day(school, day)
    return render(
        request,
        "health/check_school.html",
        {
            "school": school,
            "day": day,
            "today": today,
            "previous_day": day - dt.timedelta(days=1),
            "next_day": day + dt.timedelta(days=1) if day < today else None,
            "rows": rows,
            "done": sum(1 for r in rows if r.morning is not None),
            "export_query": f"school={school.pk}&date={day.isoformat()}",
            "open_follow_ups": len(sel.open_follow_ups(school.pk)),
            "may_record": sel.may_record(request.user, school.pk),
            "nav_active": NAV,
        },
    )


# ------------------------------------------------------------------ the check sheet


def _feverish(text) -> bool:
    try:
        temperature = clean_temperature(text)
    except ValidationError:
        return False
    return temperature is not None and temperature >= FEVER_FROM


def _row_states(sheet, school, *, posted=None, errors=None) -> list[dict]:
    """What each child's row shows: the saved result, or what was posted with its errors."""
    posted = {str(item["child_id"]): item for item in (posted or [])}
    errors = errors or {}
    symptom_options = _escaped_options(_symptom_choices(school))
    shown = {code for code, _label in symptom_options}
    action_options = _escaped_options(CheckAction.choices)
    rows = []
    for row in sheet.rows:
        key = str(row.child.pk)
        item = posted.get(key)
        result = row.result
        if item is not None:
            temperature = item["temperature"]
            symptoms = set(item["symptoms"])
            other, action, note = item["symptom_note"], item["action"], item["note"]
            at = item["checked_at"] or ""
        elif result is not None:
            temperature = "" if result.temperature is None else str(result.temperature)
            symptoms = set(result.symptoms)
            other, action, note = result.symptom_note, result.action, result.note
            at = result.checked_at.isoformat()
        else:
            temperature, symptoms, other, action, note, at = "", set(), "", "none", "", ""
        unwell = bool(symptoms) or action != CheckAction.NONE or _feverish(temperature)
        key_id = row.child.pk
        rows.append(
            {
                "child": row.child,
                "absence": row.absence if result is None else None,
                "result": result,
                "temperature": temperature,
                "toggles": _toggles_html(
                    "checkbox",
                    f"s-{key_id}",
                    symptom_options
                    if not (set(symptoms) - shown)
                    else _escaped_options(_symptom_choices(school, symptoms)),
                    symptoms,
                ),
                "actions": _toggles_html("radio", f"a-{key_id}", action_options, {action}),
                "other": other,
                "action": action,
                "note": note,
                "at": at,
                "unwell": unwell,
                "errors": errors.get(key, []),
            }
        )
    return rows


def _render_entry(request, sheet, *, posted=None, errors=None, general=None, status=200):
    school = sheet.school_class.school
    today = timezone.localdate()
    report = _url_or_none("health:case_report", sheet.school_class.pk)
    unwell = [
        {
            "result": r,
            "symptoms": sel.symptom_text(r.symptoms),
            "report_url": f"{report}?{urlencode({'child': r.child_id, 'check': r.pk})}"
            if report
            else None,
        }
        for r in sheet.unwell
    ]
    session_links = [
        {
            "value": value,
            "label": label,
            "url": _with_date(
                reverse("health:check_entry", args=[sheet.school_class.pk, value]), sheet.date
            ),
        }
        for value, label in CheckSession.choices
    ]
    return render(
        request,
        "health/check_entry.html",
        {
            "school": school,
            "school_class": sheet.school_class,
            "sheet": sheet,
            "day": sheet.date,
            "rows": _row_states(sheet, school, posted=posted, errors=errors),
            "general_errors": general or [],
            "checkpoint": request.POST.get("checkpoint", sheet.checkpoint)
            if posted is not None
            else sheet.checkpoint,
            "unwell": unwell,
            "session_links": session_links,
            "session_label": CheckSession(sheet.session).label,
            "may_record": sel.may_record(request.user, school.pk),
            "may_view_child": can(request.user, Action.VIEW_HEALTH, school.pk),
            "live": sheet.date == today,
            "server_now_ms": int(timezone.now().timestamp() * 1000),
            "previous_day": sheet.date - dt.timedelta(days=1),
            "next_day": sheet.date + dt.timedelta(days=1) if sheet.date < today else None,
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def check_entry(request, class_id: int, session: str):
    if session not in CheckSession.values:
        raise Http404
    sel.require_health(request.user)
    school_class = sel.class_get(actor=request.user, class_id=class_id)
    today = timezone.localdate()
    day = _day(request, today)
    if day > today:
        return _future(request, {"school": school_class.school, "school_class": school_class}, day)
    if request.method == "POST":
        require(request.user, Action.RECORD_HEALTH, school_class.school_id)
        results = f.check_results_from_post(request.POST)
        try:
            check = services.health_check_record(
                actor=request.user,
                school_class_id=school_class.pk,
                date=day,
                session=session,
                checkpoint=request.POST.get("checkpoint", ""),
                results=results,
            )
        except ValidationError as exc:
            sheet = sel.check_sheet(school_class, day, session)
            rows, rest = _errors_on_rows(exc, "results", sheet.rows)
            return _render_entry(
                request, sheet, posted=results, errors=rows, general=rest, status=400
            )
        if check.unwell:
            messages.warning(
                request,
                _("Check saved: %(n)s child(ren) unwell. Report a suspected case if needed.")
                % {"n": check.unwell},
            )
        else:
            messages.success(request, _("Check saved: everyone is well."))
        url = _with_date(reverse("health:check_entry", args=[school_class.pk, session]), day)
        return redirect(url + "#unwell")
    return _render_entry(request, sel.check_sheet(school_class, day, session))


# ------------------------------------------------------------------ attendance


def _attendance_rows(sheet, school, *, posted=None, errors=None) -> list[dict]:
    posted_by = {str(item["child_id"]): item for item in (posted or [])}
    errors = errors or {}
    rows = []
    for row in sheet.rows:
        key = str(row.child.pk)
        if posted is not None:
            item = posted_by.get(key)
            absent = item is not None
            cause = item["cause"] if item else AbsenceCause.UNKNOWN
            symptoms = set(item["symptoms"]) if item else set()
            diagnosis = item["diagnosis"] if item else ""
            note = item["note"] if item else ""
        elif row.absence is not None:
            absent = True
            cause, symptoms = row.absence.cause, set(row.absence.symptoms)
            diagnosis, note = row.absence.diagnosis, row.absence.note
        else:
            absent, cause, symptoms, diagnosis, note = False, AbsenceCause.UNKNOWN, set(), "", ""
        rows.append(
            {
                "child": row.child,
                "absence": row.absence,
                "follow_up": row.follow_up,
                "absent": absent,
                "cause": cause,
                "toggles": [
                    (code, label, code in symptoms)
                    for code, label in _symptom_choices(school, symptoms)
                ],
                "diagnosis": diagnosis,
                "note": note,
                "errors": errors.get(key, []),
            }
        )
    return rows


def _render_attendance(
    request, sheet, *, posted=None, errors=None, general=None, establish=None, status=200
):
    school = sheet.school_class.school
    today = timezone.localdate()
    unknown = []
    for absence in sheet.unknown:
        form = establish if establish is not None and establish.prefix == f"e{absence.pk}" else None
        unknown.append(
            {"absence": absence, "form": form or f.EstablishForm(prefix=f"e{absence.pk}")}
        )
    return render(
        request,
        "health/check_attendance.html",
        {
            "school": school,
            "school_class": sheet.school_class,
            "sheet": sheet,
            "day": sheet.date,
            "rows": _attendance_rows(sheet, school, posted=posted, errors=errors),
            "causes": AbsenceCause.choices,
            "general_errors": general or [],
            "unknown": unknown,
            "may_record": sel.may_record(request.user, school.pk),
            "previous_day": sheet.date - dt.timedelta(days=1),
            "next_day": sheet.date + dt.timedelta(days=1) if sheet.date < today else None,
            "today": today,
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def attendance(request, class_id: int):
    sel.require_health(request.user)
    school_class = sel.class_get(actor=request.user, class_id=class_id)
    today = timezone.localdate()
    day = _day(request, today)
    if day > today:
        return _future(request, {"school": school_class.school, "school_class": school_class}, day)
    if request.method == "POST":
        require(request.user, Action.RECORD_HEALTH, school_class.school_id)
        absences = f.absences_from_post(request.POST)
        try:
            record = services.attendance_record(
                actor=request.user, school_class_id=school_class.pk, date=day, absences=absences
            )
        except ValidationError as exc:
            sheet = sel.attendance_sheet(school_class, day)
            rows, rest = _errors_on_rows(exc, "absences", sheet.rows)
            return _render_attendance(
                request,
                sheet,
                posted=absences,
                errors=rows,
                general=rest,
                status=400,
            )
        messages.success(
            request,
            _("Attendance saved: %(absent)s absent of %(enrolled)s.")
            % {"absent": record.absent, "enrolled": record.enrolled},
        )
        return redirect(_with_date(reverse("health:attendance", args=[school_class.pk]), day))
    return _render_attendance(request, sel.attendance_sheet(school_class, day))


@login_required
@require_POST
def absence_establish(request, absence_id: int):
    sel.require_health(request.user)
    absence = sel.absence_get(actor=request.user, absence_id=absence_id)
    require(request.user, Action.RECORD_HEALTH, absence.school_id)
    prefix = f"e{absence.pk}"
    form = f.EstablishForm(request.POST, prefix=prefix)
    back = _with_date(reverse("health:attendance", args=[absence.school_class_id]), absence.date)
    try:
        services.absence_cause_establish(
            actor=request.user,
            absence_id=absence.pk,
            cause=request.POST.get(f"{prefix}-cause", ""),
            symptoms=request.POST.getlist(f"{prefix}-symptoms"),
            diagnosis=request.POST.get(f"{prefix}-diagnosis", ""),
            note=request.POST.get(f"{prefix}-note", ""),
        )
    except ValidationError as exc:
        school_class = sel.class_get(actor=request.user, class_id=absence.school_class_id)
        return _render_attendance(
            request,
            sel.attendance_sheet(school_class, absence.date),
            establish=service_errors(form, exc),
            status=400,
        )
    messages.success(
        request, _("Cause of %(name)s's absence recorded.") % {"name": absence.child.name}
    )
    return redirect(back)


# ------------------------------------------------------------------ illness follow-ups


def _render_follow_ups(request, school, *, bound=None, status=200):
    today = timezone.localdate()
    rows = sel.open_follow_ups(school.pk)
    may_close = can(request.user, Action.RECORD_HEALTH, school.pk) or can(
        request.user, Action.MANAGE_HEALTH, school.pk
    )
    for row in rows:
        prefix = f"r{row.follow_up.pk}"
        row.form = None
        if may_close:
            row.form = (
                bound
                if bound is not None and bound.prefix == prefix
                else f.FollowUpCloseForm(
                    prefix=prefix, initial={"returned_on": row.present_again or today}
                )
            )
        row.days_since = (today - row.follow_up.first_day).days
    return render(
        request,
        "health/check_follow_ups.html",
        {
            "school": school,
            "rows": rows,
            "returned": sel.recently_returned(school.pk, today - dt.timedelta(days=RETURNED_DAYS)),
            "export_query": f"school={school.pk}",
            "may_view_child": can(request.user, Action.VIEW_HEALTH, school.pk),
            "today": today,
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_safe
def follow_ups(request, school_id: int):
    sel.require_health(request.user)
    return _render_follow_ups(request, sel.school_get(actor=request.user, school_id=school_id))


@login_required
@require_POST
def follow_up_close(request, follow_up_id: int):
    sel.require_health(request.user)
    follow_up = sel.follow_up_get(actor=request.user, follow_up_id=follow_up_id)
    prefix = f"r{follow_up.pk}"
    try:
        services.illness_follow_up_close(
            actor=request.user,
            follow_up_id=follow_up.pk,
            returned_on=request.POST.get(f"{prefix}-returned_on", ""),
            return_note=request.POST.get(f"{prefix}-return_note", ""),
        )
    except ValidationError as exc:
        form = service_errors(f.FollowUpCloseForm(request.POST, prefix=prefix), exc)
        return _render_follow_ups(request, follow_up.school, bound=form, status=400)
    messages.success(
        request, _("%(name)s is back: return recorded.") % {"name": follow_up.child.name}
    )
    return redirect("health:follow_ups", follow_up.school_id)


# ------------------------------------------------------------------ dining seats


def _render_dining(
    request, school_class, day, *, posted=None, errors=None, general=None, status=200
):
    school = school_class.school
    today = timezone.localdate()
    sheet = sel.attendance_sheet(school_class, day)
    seats = sel.dining_seats(school_class.pk, day)
    errors = errors or {}
    rows = []
    for row in sheet.rows:
        key = str(row.child.pk)
        table = (
            posted.get(row.child.pk, posted.get(key, ""))
            if posted is not None
            else seats.get(row.child.pk, "")
        )
        rows.append(
            {
                "child": row.child,
                "absent": row.absence is not None,
                "table": table,
                "errors": errors.get(key, []),
            }
        )
    return render(
        request,
        "health/check_dining.html",
        {
            "school": school,
            "school_class": school_class,
            "day": day,
            "rows": rows,
            "seated": sum(1 for r in rows if r["table"]),
            "tables": sorted({t for t in seats.values() if t}),
            "last_day": sel.last_dining_day(school_class.pk, day),
            "general_errors": general or [],
            "may_record": sel.may_record(request.user, school.pk),
            "previous_day": day - dt.timedelta(days=1),
            "next_day": day + dt.timedelta(days=1) if day < today else None,
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def dining(request, class_id: int):
    sel.require_health(request.user)
    school_class = sel.class_get(actor=request.user, class_id=class_id)
    today = timezone.localdate()
    day = _day(request, today)
    if day > today:
        return _future(request, {"school": school_class.school, "school_class": school_class}, day)
    if request.method == "POST":
        require(request.user, Action.RECORD_HEALTH, school_class.school_id)
        seats = None
        try:
            if request.POST.get("copy") == "1":
                source, count = services.dining_seats_copy(
                    actor=request.user, school_class_id=school_class.pk, date=day
                )
                messages.success(
                    request,
                    _("Seats of %(day)s copied: %(n)s children seated.")
                    % {"day": source.isoformat(), "n": count},
                )
            else:
                seats = f.seats_from_post(request.POST)
                count = services.dining_seats_record(
                    actor=request.user, school_class_id=school_class.pk, date=day, seats=seats
                )
                messages.success(
                    request, _("Dining seats saved: %(n)s children seated.") % {"n": count}
                )
        except ValidationError as exc:
            rows, rest = _errors_on_rows(exc, "seats", sel.attendance_sheet(school_class, day).rows)
            return _render_dining(
                request, school_class, day, posted=seats, errors=rows, general=rest, status=400
            )
        return redirect(_with_date(reverse("health:dining", args=[school_class.pk]), day))
    return _render_dining(request, school_class, day)


# ------------------------------------------------------------------ dormitory rooms


def _render_dorms(request, school, *, form=None, status=200):
    today = timezone.localdate()
    assignments = sel.dorm_current(school.pk, today) if school.is_boarding else []
    rooms: dict[str, list] = {}
    for a in assignments:
        rooms.setdefault(a.room, []).append(a)
    may_record = school.is_boarding and sel.may_record(request.user, school.pk)
    if may_record and form is None:
        form = f.DormForm(
            initial={"starts_on": today},
            children=Child.objects.filter(school=school, is_active=True)
            .select_related("school_class")
            .order_by("school_class__grade", "school_class__name", "name"),
        )
    return render(
        request,
        "health/check_dorms.html",
        {
            "school": school,
            "rooms": sorted(rooms.items()),
            "boarders": len(assignments),
            "form": form if may_record else None,
            "today": today,
            "nav_active": NAV,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def dorms(request, school_id: int):
    sel.require_health(request.user)
    school = sel.school_get(actor=request.user, school_id=school_id)
    if request.method != "POST":
        return _render_dorms(request, school)
    require(request.user, Action.RECORD_HEALTH, school.pk)
    children = Child.objects.filter(school=school, is_active=True).select_related("school_class")
    form = f.DormForm(request.POST, children=children)
    try:
        assignment = services.dorm_assign(
            actor=request.user,
            school_id=school.pk,
            child_id=request.POST.get("child", ""),
            room=request.POST.get("room", ""),
            starts_on=request.POST.get("starts_on", ""),
        )
    except ValidationError as exc:
        return _render_dorms(request, school, form=service_errors(form, exc), status=400)
    if assignment is None:
        messages.success(request, _("The child leaves the dormitory."))
    else:
        messages.success(
            request,
            _("%(name)s sleeps in %(room)s from %(day)s.")
            % {
                "name": assignment.child.name,
                "room": assignment.room,
                "day": assignment.starts_on.isoformat(),
            },
        )
    return redirect("health:dorms", school.pk)


# ------------------------------------------------------------------ class staff


def _render_class_staff(request, school_class, *, form=None, status=200):
    school = school_class.school
    may_record = sel.may_record(request.user, school.pk)
    if may_record and form is None:
        form = f.ClassStaffForm(staff=_school_staff(school.pk))
    return render(
        request,
        "health/check_class_staff.html",
        {
            "school": school,
            "school_class": school_class,
            "rows": sel.class_staff(school_class.pk),
            "form": form if may_record else None,
            "nav_active": NAV,
        },
        status=status,
    )


def _school_staff(school_id: int):
    return Staff.objects.filter(school_id=school_id, is_active=True).order_by("name", "id")


@login_required
@require_http_methods(["GET", "POST"])
def class_staff(request, class_id: int):
    sel.require_health(request.user)
    school_class = sel.class_get(actor=request.user, class_id=class_id)
    if request.method != "POST":
        return _render_class_staff(request, school_class)
    require(request.user, Action.RECORD_HEALTH, school_class.school_id)
    form = f.ClassStaffForm(request.POST, staff=_school_staff(school_class.school_id))
    try:
        row = services.class_staff_add(
            actor=request.user,
            school_class_id=school_class.pk,
            staff_id=request.POST.get("staff", ""),
            duty=request.POST.get("duty", ""),
        )
    except ValidationError as exc:
        return _render_class_staff(
            request, school_class, form=service_errors(form, exc), status=400
        )
    messages.success(request, _("%(name)s added to the class.") % {"name": row.staff.name})
    return redirect("health:class_staff", school_class.pk)


@login_required
@require_POST
def class_staff_remove(request, class_staff_id: int):
    class_id = services.class_staff_remove(actor=request.user, class_staff_id=class_staff_id)
    messages.success(request, _("Removed from the class."))
    return redirect("health:class_staff", class_id)


# ------------------------------------------------------------------ a child's record


@login_required
@require_safe
def child_record(request, child_id: int):
    sel.require_health(request.user, Action.VIEW_HEALTH)
    child = sel.child_get(actor=request.user, child_id=child_id)
    record = sel.child_record(child)
    for row in [*record.checks, *record.absences]:
        row.symptom_text = sel.symptom_text(row.symptoms)
    log_health_read(actor=request.user, obj=child, purpose="child health record")
    case_links = _url_or_none("health:case", 1) is not None
    return render(
        request,
        "health/check_child.html",
        {
            "school": child.school,
            "child": child,
            "record": record,
            "case_links": case_links,
            "nav_active": NAV,
        },
    )


urlpatterns = [
    path("checks/", check_home, name="check_home"),
    path("schools/<int:school_id>/checks/", school_checks, name="checks"),
    path("classes/<int:class_id>/checks/<str:session>/", check_entry, name="check_entry"),
    path("classes/<int:class_id>/attendance/", attendance, name="attendance"),
    path("absences/<int:absence_id>/cause/", absence_establish, name="absence_establish"),
    path("schools/<int:school_id>/follow-ups/", follow_ups, name="follow_ups"),
    path("follow-ups/<int:follow_up_id>/return/", follow_up_close, name="follow_up_close"),
    path("classes/<int:class_id>/dining/", dining, name="dining"),
    path("schools/<int:school_id>/dorms/", dorms, name="dorms"),
    path("classes/<int:class_id>/staff/", class_staff, name="class_staff"),
    path("class-staff/<int:class_staff_id>/remove/", class_staff_remove, name="class_staff_remove"),
    path("children/<int:child_id>/", child_record, name="child"),
]
