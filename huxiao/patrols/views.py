"""Pages of gate posts, coverage, patrols and police-post visits: parse → call → render.

Permissions: a page whose action the user's role allows nowhere is 403; a record outside
the user's scope is 404 (it comes from a scoped selector); a write on a visible record by a
role that may not make it is 403. A failed form post answers 400 with the page and the
errors in place, a refused check-in 409 with the reason; a successful post redirects.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.core.permissions import require
from huxiao.core.redirects import next_url
from huxiao.core.roles import Action
from huxiao.core.scoping import can, visible_school_ids
from huxiao.orgs.models import Organization
from huxiao.patrols import conf, selectors, services
from huxiao.patrols.choices import PERIOD_ORDER, Period
from huxiao.patrols.forms import (
    CancelShiftForm,
    CheckInForm,
    CoverageForm,
    PatrolLogForm,
    PostForm,
    StaffForm,
    VisitCompleteForm,
    VisitForm,
    WeekForm,
)

MAX_ID = 2**63 - 1


def _id(value: int) -> int:
    if value > MAX_ID:
        raise Http404
    return value


def _submit(form, call) -> bool:
    if not form.is_valid():
        return False
    try:
        call(**form.service_kwargs())
    except services.CheckInRefused:
        raise
    except ValidationError as exc:
        form.add_service_errors(exc)
        return False
    return True


def _back(request, default: str) -> str:
    return next_url(request, default)


def _preselected_school(request) -> int | None:
    """?school=<id> to preselect in a form; anything else (², a huge number) is ignored."""
    raw = request.GET.get("school", "")
    if raw.isascii() and raw.isdigit() and len(raw) <= 12:
        return int(raw)
    return None


def school_param(params, ids) -> int | None:
    """`school` of the query narrowed to the user's scope; another school is 404 like a
    missing one."""
    raw = params.get("school", "")
    if not raw:
        return None
    try:
        school_id = int(raw)
    except ValueError:
        raise Http404 from None
    if school_id not in ids:
        raise Http404
    return school_id


# ------------------------------------------------------------------ today and check-in


@login_required
@require_safe
def today(request):
    """护学岗 today: the posts of the user's scope, check-in and check-out (phone first)."""
    user = request.user
    staff_ids = visible_school_ids(user, Action.STAFF_POST)
    view_ids = visible_school_ids(user, Action.VIEW_COVERAGE)
    if not staff_ids and not view_ids:
        raise PermissionDenied
    now = timezone.now()
    day = services.local_now(now).date()
    # Shifts are derived rows: make sure today's exist even if the night job has not run.
    services.shifts_ensure(first_day=day, last_day=day, school_ids=staff_ids | view_ids)
    return render(
        request,
        "patrols/today.html",
        {
            "rows": selectors.today_shifts(actor=user, now=now),
            "open_check_ins": selectors.open_check_ins(actor=user, now=now),
            "today": day,
            "can_plan": bool(visible_school_ids(user, Action.PLAN_POSTS)),
            "can_log": bool(visible_school_ids(user, Action.LOG_PATROL)),
            "can_view": bool(view_ids),
            "nav_active": "patrols_posts",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def check_in(request, post_id: int):
    """The one-hand check-in page of a post: a big button, optional photo and location."""
    selectors.require_any(request.user, Action.STAFF_POST)
    post = selectors.post_get(actor=request.user, post_id=_id(post_id), action=Action.STAFF_POST)
    now = timezone.now()
    shift = services.shift_for_today(post, now=now)
    volunteers = post.staff.filter(is_active=True, user__isnull=True)
    police = services.staff_side(request.user, post.school) == "police"
    data = (request.POST, request.FILES) if request.method == "POST" else ()
    form = CheckInForm(*data, volunteers=volunteers, police=police)
    refusal = None
    status = 200
    if request.method == "POST":
        try:
            ok = _submit(
                form,
                lambda **kw: _do_check_in(request, post, now, **kw),
            )
        except services.CheckInRefused as refused:
            refusal, ok, status = refused, False, 409
        if ok:
            messages.success(
                request,
                _("Checked in at %(time)s: %(school)s, %(period)s.")
                % {
                    "time": timezone.localtime(now).strftime("%H:%M"),
                    "school": post.school.name,
                    "period": Period(post.period).label,
                },
            )
            return redirect("patrols:today")
        status = status if refusal else 400
    window = post.windows.filter(weekday=services.local_now(now).weekday()).first()
    return render(
        request,
        "patrols/check_in.html",
        {
            "post": post,
            "shift": shift,
            "window": window,
            "opens_at": shift.starts_at - conf.checkin_early() if shift else None,
            "form": form,
            "refusal": refusal,
            "police": police,
            "nav_active": "patrols_posts",
        },
        status=status,
    )


def _do_check_in(request, post, now, **data):
    return services.post_check_in(
        actor=request.user,
        post=post,
        staff=data.get("staff"),
        vehicle_present=data.get("vehicle_present", False),
        lights_on=data.get("lights_on", False),
        latitude=data.get("latitude"),
        longitude=data.get("longitude"),
        accuracy_m=data.get("accuracy_m"),
        photo=data.get("photo"),
        note=data.get("note", ""),
        now=now,
    )


def _own_check_in(request, check_in_id):
    selectors.require_any(request.user, Action.STAFF_POST)
    check_in = selectors.check_in_get(actor=request.user, check_in_id=_id(check_in_id))
    if check_in.user_id != request.user.pk:
        raise PermissionDenied(_("Only the person who checked in may change this check-in."))
    return check_in


@login_required
@require_POST
def check_out(request, check_in_id: int):
    check_in = _own_check_in(request, check_in_id)
    try:
        check_in = services.post_check_out(actor=request.user, check_in=check_in)
    except services.CheckInRefused as refused:
        messages.error(request, " ".join(refused.messages))
    else:
        messages.success(
            request,
            _("Checked out at %(time)s.")
            % {"time": timezone.localtime(check_in.checked_out_at).strftime("%H:%M")},
        )
    return redirect(_back(request, reverse("patrols:today")))


@login_required
@require_POST
def check_in_vehicle(request, check_in_id: int):
    """The police car came (or left) after the check-in: correct car and lights."""
    check_in = _own_check_in(request, check_in_id)
    try:
        services.post_check_in_update(
            actor=request.user,
            check_in=check_in,
            vehicle_present=request.POST.get("vehicle_present") == "on",
            lights_on=request.POST.get("lights_on") == "on",
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Police car and lights updated."))
    return redirect(_back(request, reverse("patrols:today")))


@login_required
@require_safe
def check_in_photo(request, check_in_id: int):
    """The photo of a check-in, for those who may see the school's coverage (and the person
    who took it). Served through this view, never from a public media URL."""
    if not visible_school_ids(request.user, Action.VIEW_COVERAGE) and not visible_school_ids(
        request.user, Action.STAFF_POST
    ):
        raise PermissionDenied
    check_in = selectors.check_in_get(actor=request.user, check_in_id=_id(check_in_id))
    if not check_in.photo:
        raise Http404
    response = FileResponse(check_in.photo.open("rb"))
    response["Cache-Control"] = "private, max-age=3600"
    return response


# ------------------------------------------------------------------ posts


def post_filters(actor, params) -> dict:
    """The post list's filters (page and export): 403 for a role that views no coverage."""
    ids = selectors.require_any(actor, Action.VIEW_COVERAGE)
    return {"school_id": school_param(params, ids)}


@login_required
@require_safe
def post_list(request):
    filters = post_filters(request.user, request.GET)
    return render(
        request,
        "patrols/post_list.html",
        {
            "posts": selectors.post_list(actor=request.user, **filters),
            "plan_ids": visible_school_ids(request.user, Action.PLAN_POSTS),
            "nav_active": "patrols_posts",
        },
    )


def _plan_schools(user):
    return Organization.objects.visible_to(user, Action.PLAN_POSTS).schools().order_by("name")


@login_required
@require_http_methods(["GET", "POST"])
def post_new(request):
    selectors.require_any(request.user, Action.PLAN_POSTS)
    schools = _plan_schools(request.user)
    if request.method == "POST":
        form = PostForm(request.POST, schools=schools)
        created = {}

        def call(**kwargs):
            created["post"] = services.gate_post_create(actor=request.user, **kwargs)

        if _submit(form, call):
            messages.success(request, _("Gate post planned."))
            return redirect("patrols:post_detail", post_id=created["post"].pk)
        status = 400
    else:
        initial = {}
        school_id = _preselected_school(request)
        if school_id is not None:
            initial["school"] = schools.filter(pk=school_id).first()
        if request.GET.get("period") in Period.values:
            initial["period"] = request.GET["period"]
        form = PostForm(schools=schools, initial=initial)
        status = 200
    return render(
        request,
        "patrols/post_form.html",
        {"form": form, "post": None, "nav_active": "patrols_posts"},
        status=status,
    )


def _post_detail_page(request, post, *, staff_form=None, status=200):
    can_plan = can(request.user, Action.PLAN_POSTS, post.school_id)
    today = services.local_now().date()
    shifts = selectors.shift_list(actor=request.user, school_id=post.school_id).filter(
        post=post,
        date__gte=today - dt.timedelta(days=13),
        date__lte=today + dt.timedelta(days=7),
    )
    return render(
        request,
        "patrols/post_detail.html",
        {
            "post": post,
            "windows": post.windows.order_by("weekday"),
            "staff": selectors.post_staff(post=post),
            "shifts": shifts.order_by("-date"),
            "can_plan": can_plan,
            "can_staff": can(request.user, Action.STAFF_POST, post.school_id),
            "staff_form": staff_form
            or (
                StaffForm(candidates=_candidate_qs(post), auto_id="staff-%s") if can_plan else None
            ),
            "nav_active": "patrols_posts",
        },
        status=status,
    )


def _candidate_qs(post):
    from huxiao.orgs.models import Membership

    ids = [m.pk for m in services.staff_candidates(post.school)]
    return Membership.objects.filter(pk__in=ids).select_related("user", "organization")


@login_required
@require_safe
def post_detail(request, post_id: int):
    selectors.require_any(request.user, Action.VIEW_COVERAGE)
    post = selectors.post_get(actor=request.user, post_id=_id(post_id))
    return _post_detail_page(request, post)


@login_required
@require_http_methods(["GET", "POST"])
def post_edit(request, post_id: int):
    selectors.require_any(request.user, Action.VIEW_COVERAGE)
    post = selectors.post_get(actor=request.user, post_id=_id(post_id))
    require(request.user, Action.PLAN_POSTS, post.school_id)
    if request.method == "POST":
        form = PostForm(request.POST, post=post)
        if _submit(
            form, lambda **kw: services.gate_post_update(actor=request.user, post=post, **kw)
        ):
            messages.success(request, _("Gate post saved."))
            return redirect("patrols:post_detail", post_id=post.pk)
        status = 400
    else:
        form = PostForm(post=post)
        status = 200
    return render(
        request,
        "patrols/post_form.html",
        {"form": form, "post": post, "nav_active": "patrols_posts"},
        status=status,
    )


@login_required
@require_POST
def staff_add(request, post_id: int):
    selectors.require_any(request.user, Action.VIEW_COVERAGE)
    post = selectors.post_get(actor=request.user, post_id=_id(post_id))
    require(request.user, Action.PLAN_POSTS, post.school_id)
    form = StaffForm(request.POST, candidates=_candidate_qs(post), auto_id="staff-%s")
    if _submit(
        form, lambda **kw: services.gate_post_staff_add(actor=request.user, post=post, **kw)
    ):
        messages.success(request, _("Staff added to the post."))
        return redirect("patrols:post_detail", post_id=post.pk)
    return _post_detail_page(request, post, staff_form=form, status=400)


@login_required
@require_POST
def staff_remove(request, post_id: int, staff_id: int):
    selectors.require_any(request.user, Action.VIEW_COVERAGE)
    post = selectors.post_get(actor=request.user, post_id=_id(post_id))
    require(request.user, Action.PLAN_POSTS, post.school_id)
    staff = selectors.staff_get(post=post, staff_id=_id(staff_id))
    services.gate_post_staff_remove(actor=request.user, staff=staff)
    messages.success(request, _("Taken off the post."))
    return redirect("patrols:post_detail", post_id=post.pk)


@login_required
@require_safe
def shift_detail(request, shift_id: int):
    selectors.require_any(request.user, Action.VIEW_COVERAGE)
    shift = selectors.shift_get(actor=request.user, shift_id=_id(shift_id))
    return _shift_page(request, shift)


def _shift_page(request, shift, *, cancel_form=None, status=200):
    can_cancel = shift.cancelled_at is None and can(
        request.user, Action.PLAN_POSTS, shift.school_id
    )
    return render(
        request,
        "patrols/shift_detail.html",
        {
            "shift": shift,
            "check_ins": selectors.shift_check_ins(shift=shift),
            "cancel_form": cancel_form or (CancelShiftForm() if can_cancel else None),
            "nav_active": "patrols_posts",
        },
        status=status,
    )


@login_required
@require_POST
def shift_cancel(request, shift_id: int):
    selectors.require_any(request.user, Action.VIEW_COVERAGE)
    shift = selectors.shift_get(actor=request.user, shift_id=_id(shift_id))
    require(request.user, Action.PLAN_POSTS, shift.school_id)
    form = CancelShiftForm(request.POST)
    if _submit(form, lambda **kw: services.shift_cancel(actor=request.user, shift=shift, **kw)):
        messages.success(request, _("Shift called off."))
        return redirect("patrols:shift_detail", shift_id=shift.pk)
    return _shift_page(request, shift, cancel_form=form, status=400)


# ------------------------------------------------------------------ coverage


@login_required
@require_safe
def coverage(request):
    """三见 coverage: rates per police station, school, peak and week; the week's grid."""
    ids = selectors.require_any(request.user, Action.VIEW_COVERAGE)
    school_id = school_param(request.GET, ids)
    form = CoverageForm(request.GET)
    week_form = WeekForm(request.GET)
    context = {
        "form": form,
        "week_form": week_form,
        "school_id": school_id,
        "schools": Organization.objects.filter(pk__in=ids).schools().order_by("name"),
        "nav_active": "patrols_coverage",
    }
    if not form.is_valid() or not week_form.is_valid():
        return render(request, "patrols/coverage.html", context, status=400)
    data = form.cleaned_data
    report = selectors.coverage(
        actor=request.user,
        first_day=data["first_day"],
        last_day=data["last_day"],
        school_id=school_id,
    )
    week_start = week_form.cleaned_data["week"]
    grid = selectors.coverage_week(actor=request.user, week_start=week_start, school_id=school_id)
    context.update(
        report=report,
        grid=grid,
        periods=[Period(p) for p in PERIOD_ORDER],
        previous_week=week_start - dt.timedelta(days=7),
        next_week=week_start + dt.timedelta(days=7),
        form=CoverageForm(initial={"since": data["first_day"], "until": data["last_day"]}),
    )
    return render(request, "patrols/coverage.html", context)


# ------------------------------------------------------------------ patrol logs


def log_filters(actor, params) -> dict:
    """The patrol log list's filters (page and export): 403 for a role that logs none."""
    ids = selectors.require_any(actor, Action.LOG_PATROL)
    return {"school_id": school_param(params, ids)}


@login_required
@require_safe
def log_list(request):
    filters = log_filters(request.user, request.GET)
    return render(
        request,
        "patrols/log_list.html",
        {
            "logs": selectors.patrol_log_list(actor=request.user, **filters)[:100],
            "nav_active": "patrols_posts",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def log_new(request):
    selectors.require_any(request.user, Action.LOG_PATROL)
    schools = Organization.objects.visible_to(request.user, Action.LOG_PATROL).schools()
    if request.method == "POST":
        form = PatrolLogForm(request.POST, schools=schools.order_by("name"))
        created = {}

        def call(**kwargs):
            created["log"] = services.patrol_log_create(actor=request.user, **kwargs)

        if _submit(form, call):
            messages.success(request, _("Patrol logged."))
            return redirect("patrols:log_detail", log_id=created["log"].pk)
        status = 400
    else:
        form = PatrolLogForm(schools=schools.order_by("name"))
        status = 200
    return render(
        request,
        "patrols/log_form.html",
        {"form": form, "nav_active": "patrols_posts"},
        status=status,
    )


@login_required
@require_safe
def log_detail(request, log_id: int):
    selectors.require_any(request.user, Action.LOG_PATROL)
    log = selectors.patrol_log_get(actor=request.user, log_id=_id(log_id))
    return render(request, "patrols/log_detail.html", {"log": log, "nav_active": "patrols_posts"})


# ------------------------------------------------------------------ visits


def visit_filters(actor, params) -> tuple[int | None, WeekForm]:
    """The visits page's school and week form (page and export)."""
    ids = selectors.require_any(actor, Action.VIEW_COVERAGE)
    return school_param(params, ids), WeekForm(params)


def visit_week_rows(actor, *, week_start, school_id):
    """The week against the rule, school by school (narrowed to `school_id`)."""
    rows = selectors.visit_week(actor=actor, week_start=week_start)
    return [r for r in rows if r.school_id == school_id] if school_id else rows


@login_required
@require_safe
def visit_list(request):
    """The week against the ≥ 2 visits rule, school by school, and the week's visits."""
    school_id, form = visit_filters(request.user, request.GET)
    context = {"week_form": form, "nav_active": "patrols_visits"}
    if not form.is_valid():
        return render(request, "patrols/visit_list.html", context, status=400)
    week_start = form.cleaned_data["week"]
    rows = visit_week_rows(request.user, week_start=week_start, school_id=school_id)
    context.update(
        week_start=week_start,
        week_end=week_start + dt.timedelta(days=6),
        previous_week=week_start - dt.timedelta(days=7),
        next_week=week_start + dt.timedelta(days=7),
        rows=rows,
        visits=selectors.visit_list(actor=request.user, school_id=school_id, week_start=week_start),
        can_log=bool(visible_school_ids(request.user, Action.LOG_PATROL)),
        required=conf.visits_required(),
    )
    return render(request, "patrols/visit_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def visit_new(request):
    selectors.require_any(request.user, Action.LOG_PATROL)
    schools = Organization.objects.visible_to(request.user, Action.LOG_PATROL).schools()
    schools = schools.order_by("name")
    if request.method == "POST":
        form = VisitForm(request.POST, schools=schools)
        created = {}

        def call(**kwargs):
            created["visit"] = services.police_visit_create(actor=request.user, **kwargs)

        if _submit(form, call):
            messages.success(request, _("Visit recorded."))
            return redirect("patrols:visit_detail", visit_id=created["visit"].pk)
        status = 400
    else:
        initial = {}
        school_id = _preselected_school(request)
        if school_id is not None:
            initial["school"] = schools.filter(pk=school_id).first()
        form = VisitForm(schools=schools, initial=initial)
        status = 200
    return render(
        request,
        "patrols/visit_form.html",
        {"form": form, "nav_active": "patrols_visits"},
        status=status,
    )


def _visit_page(request, visit, *, form=None, status=200):
    can_complete = visit.is_open and visit.officer_id == request.user.pk
    return render(
        request,
        "patrols/visit_detail.html",
        {
            "visit": visit,
            "form": form or (VisitCompleteForm() if can_complete else None),
            "nav_active": "patrols_visits",
        },
        status=status,
    )


@login_required
@require_safe
def visit_detail(request, visit_id: int):
    selectors.require_any(request.user, Action.VIEW_COVERAGE)
    visit = selectors.visit_get(actor=request.user, visit_id=_id(visit_id))
    return _visit_page(request, visit)


@login_required
@require_POST
def visit_complete(request, visit_id: int):
    selectors.require_any(request.user, Action.VIEW_COVERAGE)
    visit = selectors.visit_get(actor=request.user, visit_id=_id(visit_id))
    if visit.officer_id != request.user.pk:
        raise PermissionDenied(_("Only the officer who made the visit may complete it."))
    form = VisitCompleteForm(request.POST)
    if _submit(
        form, lambda **kw: services.police_visit_complete(actor=request.user, visit=visit, **kw)
    ):
        messages.success(request, _("Visit completed."))
        return redirect("patrols:visit_detail", visit_id=visit.pk)
    return _visit_page(request, visit, form=form, status=400)
