"""Duty for the demo township (issue 7 item 5, ADR 0029 "Duty"): a roster that has run for
a few days at 大杨树实验幼儿园.

`load_demo_duty()` runs after `load_demo_township()` (it needs the kindergarten and the
logins `principal`, `guard` and `teacher`; the township has no duty-leader login, so the
principal leads on duty). Demo mode only. Everything goes through the real services with a
clock (`now=`), so times, audit rows, gaps and notifications are the real ones.

What a visitor of `make run` finds (T is now) under /duty/:
- the roster of this week (and of the days before it, back to the day before yesterday),
  made from the default plan (day 07:00–19:00, night 19:00–07:00), the shifts spread over
  the three logins by `ROTA` (the principal leads the weekday days, `teacher` is staff on
  duty on most days, `guard` takes most nights; nobody works two shifts in a row); the
  school's guards without a login are listed on the roster page as not rosterable;
- the shifts before today checked in and out, with their duty-log entries; yesterday's day
  shift handed over to the night with one open item (the east-gate bollard's remote),
  received by the guard and carried on to today's day shift;
- the night of the day before yesterday flagged uncovered by the gap check (the one on
  duty checked in 70 minutes late): an open gap on /duty/schools/<id>/gaps/;
- today's day shift checked in by its people (once their check-in time has come).

Idempotent: if the kindergarten has any shift from the first demo day on, nothing is done,
so changes made during a demo survive a restart. Everything is fictional.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from huxiao.demo.township import DemoModeOff
from huxiao.duty import duty_selectors as sel
from huxiao.duty import duty_services as services
from huxiao.duty.choices import DutyRole, LogKind, ShiftKind
from huxiao.duty.models import DutyShift
from huxiao.orgs.models import Organization

KINDERGARTEN = "大杨树实验幼儿园"
USERNAMES = ("principal", "guard", "teacher")
LATE = dt.timedelta(minutes=70)
OPEN_ITEM = "东门升降柱遥控失灵，已报修，待维修人员到场后验收。"

DAY_LOG = (
    ("07:40", LogKind.ROUTINE, "入园时段秩序正常，护学岗民警7:20到岗。"),
    ("10:15", LogKind.VISITOR, "区疾控中心2人来园检查晨检记录，已核验身份并登记。"),
    ("16:30", LogKind.FACILITY, "东门升降柱遥控失灵，手动升起，已电话报修。"),
    ("17:20", LogKind.ROUTINE, "离园时段家长接送有序，无滞留幼儿。"),
)
NIGHT_LOG = (
    ("21:30", LogKind.ROUTINE, "夜间巡查一遍：教学楼、食堂、配电室门窗已锁，无异常。"),
    ("01:40", LogKind.ROUTINE, "围墙周边巡查无异常，监控室画面正常。"),
    ("05:30", LogKind.ROUTINE, "清晨巡查一遍，食堂供货车辆6:10到达，已核对登记。"),
)


# The week's rota (weekday → people of the day shift, of the night shift), spread over the
# kindergarten's three logins so nobody works two shifts in a row: `guard` (张国强) mostly
# nights, `teacher` (李静) mostly days, the principal (刘芳) leads the weekday days and takes
# the Saturday night. The night shift has one person on duty (who checks in).
ROTA = {
    0: (
        (("principal", DutyRole.LEADER), ("teacher", DutyRole.STAFF)),
        (("guard", DutyRole.GUARD),),
    ),
    1: (
        (("principal", DutyRole.LEADER), ("teacher", DutyRole.STAFF)),
        (("guard", DutyRole.GUARD),),
    ),
    2: (
        (("principal", DutyRole.LEADER), ("teacher", DutyRole.STAFF)),
        (("guard", DutyRole.GUARD),),
    ),
    3: ((("principal", DutyRole.LEADER),), (("teacher", DutyRole.STAFF),)),
    4: (
        (("principal", DutyRole.LEADER), ("guard", DutyRole.GUARD)),
        (("teacher", DutyRole.STAFF),),
    ),
    5: ((("guard", DutyRole.GUARD),), (("principal", DutyRole.LEADER),)),
    6: ((("teacher", DutyRole.STAFF),), (("guard", DutyRole.GUARD),)),
}
# Day-shift arrivals in minutes from the start, by duty role (the leader comes later).
DAY_ARRIVAL = {DutyRole.GUARD: -10, DutyRole.STAFF: -5, DutyRole.LEADER: 20}


def rota(shift) -> list[tuple[str, str]]:
    """(username, duty role) of the people on the shift."""
    day, night = ROTA[shift.date.weekday()]
    return list(day if shift.kind == ShiftKind.DAY else night)


def _people(shift, users: dict) -> list:
    """The users on the shift, the one on duty first (guard, staff, then the leader)."""
    order = {DutyRole.GUARD: 0, DutyRole.STAFF: 1, DutyRole.LEADER: 2}
    return [users[name] for name, role in sorted(rota(shift), key=lambda p: order[p[1]])]


class _Clock:
    def __init__(self, now: dt.datetime):
        self.now = now
        self.today = timezone.localtime(now).date()

    def at(self, day: dt.date, time: str) -> dt.datetime:
        hour, minute = (int(part) for part in time.split(":"))
        return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))

    def past(self, moment: dt.datetime) -> bool:
        return moment <= self.now


def _shift_day(shift, time: str, clock: _Clock) -> dt.datetime:
    """A log time of a shift: night times before noon belong to the next morning."""
    moment = clock.at(shift.date, time)
    if shift.kind == ShiftKind.NIGHT and moment < shift.starts_at:
        moment = clock.at(shift.date + dt.timedelta(days=1), time)
    return moment


def load_demo_duty(stdout=None, *, now: dt.datetime | None = None) -> dict:
    """Make the demo roster and run it up to now; return what was created."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    created = {"shifts": 0, "check_ins": 0, "log_entries": 0, "handovers": 0, "gaps": 0}
    school = Organization.objects.schools().filter(name=KINDERGARTEN).first()
    users = {
        u.username: u
        for u in get_user_model().objects.filter(username__in=USERNAMES, is_active=True)
    }
    if school is None or len(users) < len(USERNAMES):
        return created
    clock = _Clock(now or timezone.now())
    today = clock.today
    first_day = min(sel.monday_of(today), today - dt.timedelta(days=2))
    if DutyShift.objects.filter(school=school, date__gte=first_day).exists():
        return created
    principal = users["principal"]
    uncovered_night = today - dt.timedelta(days=2)
    with transaction.atomic():
        # The roster, made the evening before the first demo day.
        made_at = clock.at(first_day - dt.timedelta(days=1), "17:00")
        shifts = []
        week = sel.monday_of(first_day)
        while week <= sel.monday_of(today):
            shifts += services.week_create(
                actor=principal, school_id=school.pk, week_start=week, now=made_at
            )
            week += dt.timedelta(days=7)
        shifts = [s for s in shifts if s.date >= first_day]
        created["shifts"] = len(shifts)
        shifts.sort(key=lambda s: s.starts_at)
        for shift in shifts:
            for username, role in rota(shift):
                services.assignment_add(
                    actor=principal, shift_id=shift.pk, user=users[username], role=role, now=made_at
                )
        plan = sel.plan_for(school.pk)
        grace = dt.timedelta(minutes=plan.check_in_grace_minutes + 1)
        for index, shift in enumerate(shifts):
            if not clock.past(shift.starts_at - dt.timedelta(minutes=10)):
                break
            late = shift.kind == ShiftKind.NIGHT and shift.date == uncovered_night
            _check_in(shift, clock, users, late=late, created=created)
            if clock.past(shift.starts_at + grace):
                created["gaps"] += len(services.duty_gaps_scan(now=shift.starts_at + grace))
            if late:
                at = shift.starts_at + LATE
                if clock.past(at):
                    services.shift_check_in(
                        actor=_people(shift, users)[0], shift_id=shift.pk, now=at
                    )
                    created["check_ins"] += 1
            _write_log(shift, clock, users, late=late, created=created)
            _close_shift(shift, shifts[index + 1 :], clock, users, created=created)
    if stdout is not None:
        stdout.write(
            f"  duty: +{created['shifts']} shifts, {created['check_ins']} check-ins, "
            f"{created['log_entries']} log entries, {created['handovers']} handovers, "
            f"{created['gaps']} gap(s) flagged\n"
        )
    return created


def _check_in(shift, clock: _Clock, users: dict, *, late: bool, created: dict) -> None:
    if shift.kind == ShiftKind.DAY:
        arrivals = [(users[name], DAY_ARRIVAL[role]) for name, role in rota(shift)]
    else:
        arrivals = [] if late else [(_people(shift, users)[0], -10)]
    for user, minutes in arrivals:
        at = shift.starts_at + dt.timedelta(minutes=minutes)
        if clock.past(at):
            services.shift_check_in(actor=user, shift_id=shift.pk, now=at)
            created["check_ins"] += 1


def _write_log(shift, clock: _Clock, users: dict, *, late: bool, created: dict) -> None:
    """The shift's log up to now; days before yesterday keep their first entry only."""
    people = _people(shift, users)
    log = DAY_LOG if shift.kind == ShiftKind.DAY else NIGHT_LOG
    # The one on duty writes; on a day shift of two on duty, they take turns.
    on_duty = [u for u in people if u != users["principal"]] or people
    writers = [on_duty[i % len(on_duty)] for i in range(len(log))]
    for (time, kind, text), writer in zip(log, writers, strict=True):
        if shift.date < clock.today - dt.timedelta(days=1) and time != log[0][0]:
            continue
        at = _shift_day(shift, time, clock)
        if late and at < shift.starts_at + LATE:
            continue
        if clock.past(at):
            services.log_add(actor=writer, shift_id=shift.pk, text=text, kind=kind, at=at, now=at)
            created["log_entries"] += 1


def _close_shift(shift, later: list, clock: _Clock, users: dict, *, created: dict) -> None:
    """Hand over at the end (yesterday's day shift raises the open item), the next shift
    receives, everyone checks out."""
    handover_at = shift.ends_at - dt.timedelta(minutes=5)
    if not clock.past(handover_at):
        return
    yesterday = clock.today - dt.timedelta(days=1)
    raise_item = shift.kind == ShiftKind.DAY and shift.date == yesterday
    by = _people(shift, users)[0]
    handover = services.handover_create(
        actor=by,
        shift_id=shift.pk,
        notes=(
            "东门升降柱遥控失灵，今晚注意东门值守；其余设施正常。"
            if raise_item
            else "本班无异常情况，设施设备正常。"
        ),
        open_items=[OPEN_ITEM] if raise_item else [],
        now=handover_at,
    )
    created["handovers"] += 1
    nxt = later[0] if later else None
    if nxt is not None:
        # The next shift's leader receives (the one on duty when it has no leader).
        receiver = _people(nxt, users)[-1]
        received_at = nxt.starts_at + dt.timedelta(minutes=25)
        if clock.past(received_at):
            services.handover_receive(actor=receiver, handover_id=handover.pk, now=received_at)
    people = _people(shift, users)
    out_at = shift.ends_at + dt.timedelta(minutes=5)
    if clock.past(out_at):
        for user in people:
            assignment = sel.assignment_of(user, shift)
            if assignment is not None and assignment.checked_in_at is not None:
                services.shift_check_out(actor=user, shift_id=shift.pk, now=out_at)
