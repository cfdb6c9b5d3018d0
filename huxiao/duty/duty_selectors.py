"""Reads of duty rosters, shifts, the duty log and handovers (issue 7 item 5; ADR 0029
"Duty").

Who sees what: anyone with VIEW on a school (its members, the police station of its
jurisdiction, the town's offices, the county) reads its plan, roster, shifts, log and
handovers; out of scope is 404 exactly like a shift that does not exist. Writes need more
(duty_services): PLAN_DUTY keeps the plan and the roster, KEEP_DUTY people on a shift check
in, write the log and hand over.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.core.roles import ROLE_ACTIONS, SCHOOL_KINDS, Action, role_allows
from huxiao.core.scoping import can, visible_school_ids
from huxiao.duty.choices import ShiftKind
from huxiao.duty.models import (
    DutyAssignment,
    DutyHandover,
    DutyLogEntry,
    DutyOpenItem,
    DutyPlan,
    DutyShift,
)
from huxiao.orgs.models import Membership, Organization

MAX_ID = 2**63 - 1
# Check-in opens this long before a shift starts (people arrive early for the handover).
CHECK_IN_BEFORE = dt.timedelta(minutes=60)
FORGOTTEN_CHECK_OUT = dt.timedelta(hours=12)
DEFAULT_TIMES = {
    "day_starts": dt.time(7, 0),
    "night_starts": dt.time(19, 0),
    "night_round_from": dt.time(21, 0),
    "night_round_until": dt.time(5, 0),
}


def _id(value) -> int:
    try:
        value = int(value)
    except (TypeError, ValueError):
        raise Http404 from None
    if value < 1 or value > MAX_ID:
        raise Http404
    return value


# The dates a page or the API accepts (a roster's week, a day of the monitoring-room log or
# of rounds): far beyond any real use either way, and far from date.min/date.max, where a
# day's bounds in local time overflow.
DATE_MIN = dt.date(2000, 1, 1)
DATE_MAX = dt.date(2100, 12, 31)


def date_in_range(day) -> bool:
    return isinstance(day, dt.date) and DATE_MIN <= day <= DATE_MAX


def check_date(day, field: str = "date"):
    """`day` itself (None stays None) when within DATE_MIN..DATE_MAX, else a
    ValidationError on `field` (400 on the API)."""
    if day is None or date_in_range(day):
        return day
    raise ValidationError(
        {
            field: [
                _("Choose a date between %(first)s and %(last)s.")
                % {"first": DATE_MIN.isoformat(), "last": DATE_MAX.isoformat()}
            ]
        }
    )


def parse_date(value) -> dt.date | None:
    """A local date from a query or form value; None when it is not one, or is outside
    DATE_MIN..DATE_MAX (pages then show today)."""
    try:
        day = dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        return None
    return day if date_in_range(day) else None


def as_time(value) -> dt.time:
    """A plan's time: the model's string defaults ("07:00") on an unsaved plan, a time once
    read from the database."""
    if isinstance(value, dt.time):
        return value
    return dt.time.fromisoformat(str(value))


# ------------------------------------------------------------------ who and where


def require_any(actor, action: str = Action.VIEW) -> frozenset[int]:
    """The schools where the actor may do `action`; 403 when there are none."""
    ids = visible_school_ids(actor, action)
    if not ids:
        raise PermissionDenied(_("Your role does not allow this."))
    return ids


def school_get(*, actor, school_id, action: str = Action.VIEW) -> Organization:
    """A school in the actor's scope for `action`, else 404."""
    school = (
        Organization.objects.visible_to(actor, action)
        .filter(pk=_id(school_id), kind__in=SCHOOL_KINDS)
        .select_related("town")
        .first()
    )
    if school is None:
        raise Http404
    return school


def schools_in_scope(actor, action: str = Action.VIEW):
    return (
        Organization.objects.filter(pk__in=visible_school_ids(actor, action), kind__in=SCHOOL_KINDS)
        .select_related("town")
        .order_by("town__name", "name")
    )


def school_members(school_id: int) -> list:
    """Active members of the school (users), each once, by name: who may be put on duty or
    named as the watcher of the monitoring room."""
    from huxiao.core.names import person_name

    users = {}
    for m in (
        Membership.objects.filter(organization_id=school_id, is_active=True, user__is_active=True)
        .select_related("user")
        .order_by("user_id")
    ):
        users.setdefault(m.user_id, m.user)
    return sorted(users.values(), key=lambda u: (person_name(u), u.pk))


def user_id_of(value) -> int | None:
    """A user id from a form or the API, or None when it cannot be one (a number beyond a
    64-bit key would overflow in the database driver)."""
    try:
        value = int(getattr(value, "pk", value))
    except (TypeError, ValueError, OverflowError):
        return None
    return value if 1 <= value <= MAX_ID else None


def _memberships_at(user_id, school_id: int):
    return Membership.objects.filter(
        user_id=user_id, organization_id=school_id, is_active=True, user__is_active=True
    )


def is_member(user_id, school_id: int) -> bool:
    user_id = user_id_of(user_id)
    return user_id is not None and _memberships_at(user_id, school_id).exists()


def keeps_duty(user_id, school_id: int) -> bool:
    """Is the user an active member of the school in a role that keeps duty (KEEP_DUTY)?
    Only they may be put on the roster: someone else could not check in."""
    user_id = user_id_of(user_id)
    if user_id is None:
        return False
    return any(
        role_allows(role, Action.KEEP_DUTY)
        for role in _memberships_at(user_id, school_id).values_list("role", flat=True)
    )


def duty_keepers(school_id: int) -> list:
    """The school's members who keep duty, by name: the choices of the roster form."""
    roles = [role for role in ROLE_ACTIONS if role_allows(role, Action.KEEP_DUTY)]
    ids = set(
        Membership.objects.filter(
            organization_id=school_id, is_active=True, user__is_active=True, role__in=roles
        ).values_list("user_id", flat=True)
    )
    return [u for u in school_members(school_id) if u.pk in ids]


def guards_without_login(*, actor, school_id: int) -> list:
    """The school's active guards and security officers (people.Staff) who have no login:
    they cannot be rostered (an assignment needs someone who checks in), so the roster
    page names them and says why."""
    from huxiao.people.choices import StaffRole
    from huxiao.people.models import Staff

    return list(
        Staff.objects.visible_to(actor, Action.VIEW)
        .filter(
            school_id=school_id,
            is_active=True,
            user__isnull=True,
            role__in=[StaffRole.GUARD, StaffRole.SECURITY_OFFICER],
        )
        .order_by("role", "name", "id")
    )


# ------------------------------------------------------------------ plan


def plan_for(school_id: int) -> DutyPlan:
    """The school's plan, or an unsaved one with the defaults."""
    plan = DutyPlan.objects.filter(school_id=school_id).first()
    if plan is None:
        plan = DutyPlan(school_id=school_id, **DEFAULT_TIMES)
    for name in DEFAULT_TIMES:
        setattr(plan, name, as_time(getattr(plan, name)))
    return plan


def plans_for(school_ids) -> dict[int, DutyPlan]:
    """Plans of many schools in one query; schools without one get the defaults."""
    found = {p.school_id: p for p in DutyPlan.objects.filter(school_id__in=list(school_ids))}
    result = {}
    for school_id in school_ids:
        plan = found.get(school_id) or DutyPlan(school_id=school_id, **DEFAULT_TIMES)
        for name in DEFAULT_TIMES:
            setattr(plan, name, as_time(getattr(plan, name)))
        result[school_id] = plan
    return result


def shift_times(plan: DutyPlan, day: dt.date, kind: str) -> tuple[dt.datetime, dt.datetime]:
    """A shift's start and end in local time: the day shift from the day start to the night
    start, the night shift from the night start to the next day's day start."""
    day_start = timezone.make_aware(dt.datetime.combine(day, as_time(plan.day_starts)))
    night_start = timezone.make_aware(dt.datetime.combine(day, as_time(plan.night_starts)))
    if kind == ShiftKind.DAY:
        return day_start, night_start
    next_day = timezone.make_aware(
        dt.datetime.combine(day + dt.timedelta(days=1), as_time(plan.day_starts))
    )
    return night_start, next_day


# ------------------------------------------------------------------ roster


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@dataclass
class RosterDay:
    date: dt.date
    shifts: dict = field(default_factory=dict)  # kind → DutyShift

    @property
    def day(self):
        return self.shifts.get(ShiftKind.DAY)

    @property
    def night(self):
        return self.shifts.get(ShiftKind.NIGHT)


def _with_people(qs):
    return qs.prefetch_related(
        Prefetch(
            "assignments",
            queryset=DutyAssignment.objects.select_related("user").order_by("role", "id"),
        )
    )


def roster_week(*, school, monday: dt.date) -> list[RosterDay]:
    """The seven days from `monday`, each with its day and night shift (when created)."""
    days = [RosterDay(monday + dt.timedelta(days=i)) for i in range(7)]
    by_date = {d.date: d for d in days}
    for shift in _with_people(
        DutyShift.objects.filter(
            school=school, date__gte=monday, date__lte=monday + dt.timedelta(days=6)
        )
    ):
        by_date[shift.date].shifts[shift.kind] = shift
    return days


def shift_list(*, actor, school_id=None, date_from: dt.date, date_to: dt.date):
    """Shifts in the actor's scope between two local dates (both included)."""
    qs = DutyShift.objects.visible_to(actor, Action.VIEW).filter(
        date__gte=date_from, date__lte=date_to
    )
    if school_id is not None:
        qs = qs.filter(school_id=school_id)
    return _with_people(qs.select_related("school")).order_by("starts_at", "school_id", "id")


# ------------------------------------------------------------------ one shift


def shift_get(*, actor, shift_id, action: str = Action.VIEW) -> DutyShift:
    shift = (
        DutyShift.objects.visible_to(actor, action)
        .filter(pk=_id(shift_id))
        .select_related("school")
        .first()
    )
    if shift is None:
        raise Http404
    return shift


def assignment_of(actor, shift) -> DutyAssignment | None:
    if not getattr(actor, "pk", None):
        return None
    return DutyAssignment.objects.filter(shift=shift, user_id=actor.pk).first()


def is_on_shift(actor, shift) -> bool:
    return assignment_of(actor, shift) is not None


def may_plan(actor, school_id: int) -> bool:
    return can(actor, Action.PLAN_DUTY, school_id)


def may_write(actor, shift) -> bool:
    """People on the shift (KEEP_DUTY) and the school's duty planners."""
    if may_plan(actor, shift.school_id):
        return True
    return can(actor, Action.KEEP_DUTY, shift.school_id) and is_on_shift(actor, shift)


def next_shift(shift) -> DutyShift | None:
    return (
        DutyShift.objects.filter(school_id=shift.school_id, starts_at__gte=shift.ends_at)
        .exclude(pk=shift.pk)
        .order_by("starts_at", "id")
        .first()
    ) or (
        DutyShift.objects.filter(school_id=shift.school_id, starts_at__gt=shift.starts_at)
        .exclude(pk=shift.pk)
        .order_by("starts_at", "id")
        .first()
    )


def previous_shift(shift) -> DutyShift | None:
    return (
        DutyShift.objects.filter(school_id=shift.school_id, starts_at__lt=shift.starts_at)
        .order_by("-starts_at", "-id")
        .first()
    )


@dataclass
class ShiftView:
    shift: DutyShift
    assignments: list
    log: list
    open_items: list
    handover_out: DutyHandover | None
    handovers_in: list
    checked_in: bool


def shift_view(shift) -> ShiftView:
    assignments = list(
        DutyAssignment.objects.filter(shift=shift).select_related("user").order_by("role", "id")
    )
    return ShiftView(
        shift=shift,
        assignments=assignments,
        log=list(DutyLogEntry.objects.filter(shift=shift).select_related("author")),
        open_items=open_items_of(shift),
        handover_out=DutyHandover.objects.filter(from_shift=shift)
        .select_related("to_shift", "handed_over_by", "received_by")
        .first(),
        handovers_in=list(
            DutyHandover.objects.filter(to_shift=shift).select_related(
                "from_shift", "handed_over_by", "received_by"
            )
        ),
        checked_in=any(a.checked_in_at for a in assignments),
    )


def open_items_of(shift) -> list:
    """Open items the shift holds (raised in it or carried over to it), oldest first."""
    return list(
        DutyOpenItem.objects.filter(current_shift=shift, closed_at__isnull=True)
        .select_related("raised_in", "raised_by")
        .order_by("created_at", "id")
    )


def open_item_get(*, actor, item_id) -> DutyOpenItem:
    item = (
        DutyOpenItem.objects.visible_to(actor, Action.VIEW)
        .filter(pk=_id(item_id))
        .select_related("current_shift", "raised_in")
        .first()
    )
    if item is None:
        raise Http404
    return item


def handover_get(*, actor, handover_id) -> DutyHandover:
    handover = (
        DutyHandover.objects.visible_to(actor, Action.VIEW)
        .filter(pk=_id(handover_id))
        .select_related("from_shift", "to_shift")
        .first()
    )
    if handover is None:
        raise Http404
    return handover


# ------------------------------------------------------------------ my duty


@dataclass
class MyDuty:
    current: list  # assignments whose shift is on (or open for check-in, or not checked out)
    upcoming: list  # the next assignments


def my_duty(*, actor, now: dt.datetime | None = None, upcoming: int = 3) -> MyDuty:
    """The actor's shifts that matter now: those open for check-in or running, those they
    checked in for and have not checked out of, then the next ones."""
    now = now or timezone.now()
    keep = visible_school_ids(actor, Action.KEEP_DUTY)
    base = DutyAssignment.objects.filter(
        user_id=actor.pk, shift__school_id__in=keep
    ).select_related("shift", "shift__school")
    current = list(
        base.filter(
            Q(shift__starts_at__lte=now + CHECK_IN_BEFORE, shift__ends_at__gt=now)
            # Checked in and not out yet: until half a day after the end (one forgets).
            | Q(
                checked_in_at__isnull=False,
                checked_out_at__isnull=True,
                shift__ends_at__gt=now - FORGOTTEN_CHECK_OUT,
            )
        ).order_by("shift__starts_at", "id")
    )
    current_ids = {a.pk for a in current}
    later = [
        a
        for a in base.filter(shift__starts_at__gt=now + CHECK_IN_BEFORE).order_by(
            "shift__starts_at", "id"
        )[: upcoming + len(current_ids)]
        if a.pk not in current_ids
    ][:upcoming]
    return MyDuty(current=current, upcoming=later)
