"""The health home `health:home` `/health/` (issue 9 item 1; ADR 0032 "Health home"): the
entry point of the "Health" navigation item for every role with a health action (police and
users without one: 403).

- a teacher: their classes today, with big buttons to the check and the attendance;
- health staff, principal, duty leader (one school): the school's day and its directory;
- the health centre, the county (many schools): one row per school, open alerts and cases
  first; `?school=<id>` opens one school's day (404 out of reach);
- those who only see suspensions (guard, offices): the classes suspended today.
`?date=` shows another past day (a future date, or one that is not a date, shows today).
Links to the other areas' pages are built only when their routes exist.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.views.decorators.http import require_safe

from huxiao.duty.duty_selectors import parse_date
from huxiao.health import directory_selectors as dsel
from huxiao.health import home_selectors as sel

NAV = "health"


def url_or_none(name: str, *args) -> str | None:
    """The URL of a page of another health area, or None while it does not exist."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _class_links(row: sel.ClassToday, day) -> None:
    class_id = row.school_class.pk
    suffix = f"?date={day.isoformat()}"
    morning = url_or_none("health:check_entry", class_id, "morning")
    noon = url_or_none("health:check_entry", class_id, "noon")
    attendance = url_or_none("health:attendance", class_id)
    row.morning_url = f"{morning}{suffix}" if morning else None
    row.noon_url = f"{noon}{suffix}" if noon else None
    row.attendance_url = f"{attendance}{suffix}" if attendance else None


def _school_links(row: sel.SchoolDay) -> None:
    school_id = row.school.pk
    row.checks_url = url_or_none("health:checks", school_id)
    row.directory_url = reverse("health:directory", args=[school_id])
    row.home_url = f"{reverse('health:home')}?school={school_id}"
    for alert in row.alerts:
        alert.url = url_or_none("health:alert", alert.pk)
    for case_row in row.cases:
        case_row.url = url_or_none("health:case", case_row.case.pk)


@login_required
@require_safe
def home(request):
    actor = request.user
    scope = sel.home_scope(actor)
    today = sel.today_local()
    day = parse_date(request.GET.get("date"))
    if day is None or day > today:
        day = today
    wanted = request.GET.get("school")
    focus = None
    if wanted is not None:
        focus = dsel.valid_id(wanted)
        if focus not in scope.any:
            raise Http404

    def within(ids):
        """The schools of a part of the page, narrowed to `?school=` when given."""
        return [focus] if focus in ids else [] if focus else sorted(ids)

    suspended = sel.suspended_on(within(scope.suspension | scope.view), day)
    classes = sel.my_classes(actor, within(scope.record), day, suspended)
    for row in classes:
        _class_links(row, day)
    view_schools = sel.schools(within(scope.view))
    detail = None
    rows = []
    if len(view_schools) == 1:
        detail = sel.school_day_detail(view_schools[0], day, suspended)
        _school_links(detail)
    elif view_schools:
        rows = sel.school_days(view_schools, day, suspended)
        for row in rows:
            _school_links(row)
    # The directory shown is that of the one school the page is about; a user of many
    # schools without the figures (the offices) gets the list of the schools' directories.
    about = within(scope.any)
    if detail is not None and len(about) == 1:
        directory_school = detail.school
    else:
        directory_school = sel.schools(about)[0] if len(about) == 1 else None
    directories = [] if (directory_school or rows) else sel.schools(about)
    for school in directories:
        school.directory_url = reverse("health:directory", args=[school.pk])
    return render(
        request,
        "health/home.html",
        {
            "day": day,
            "is_today": day == today,
            "classes": classes,
            "teacher": bool(scope.record) and not scope.view,
            "detail": detail,
            "rows": rows,
            "focus": focus,
            "directory_school": directory_school,
            "suspensions": suspended.rows,
            "directories": directories,
            "suspensions_url": url_or_none("health:suspensions"),
            "check_home_url": url_or_none("health:check_home")
            if scope.record or scope.view
            else None,
            "cases_url": url_or_none("health:cases"),
            "alerts_url": url_or_none("health:alerts"),
            "many_schools": len(scope.any) > 1,
            "nav_active": NAV,
        },
    )


urlpatterns = [path("", home, name="home")]
