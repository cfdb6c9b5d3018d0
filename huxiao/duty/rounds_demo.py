"""Patrol checkpoints and a week of rounds (issue 7 item 7; ADR 0029 "Rounds") for the demo
township.

`load_demo_rounds()` runs after `load_demo_township()` (it needs the schools of 大杨树镇 and
the logins `principal`, `guard`, `principal2`, `middle.principal`, `sunshine.principal`).
Demo mode only. Everything goes through the real services with a clock (`now=`): each scan
on its minute, so rounds, their ends, audit rows and the gaps are the real ones.

What a visitor of `make run` finds (T is today) under /duty/rounds/:

- **大杨树实验幼儿园** (`principal`, `guard`): 大门, 教学楼, 食堂, 操场, 围墙东侧; `guard` walked
  six rounds every day from T−7 to T−1 and today's rounds so far — no gap;
- **大杨树中心小学** (`principal2`): the same five checkpoints; five rounds a day until T−2,
  only three yesterday — flagged "rounds missed" (3 of 5);
- **大杨树镇中学** (boarding, `middle.principal`): the five plus 男生宿舍 and 女生宿舍 for
  the night round; five day rounds every day and a night round every night but the last
  night the daily check looks at — flagged "night round missed";
- **阳光幼儿园** (`sunshine.principal`): four checkpoints, five rounds every day;
- 大杨树第二小学, 红星村小学 and 柳河镇中心小学 have no checkpoints (no login plans their
  duty in the demo): the daily check flags them, since nothing shows they patrol.

The daily check (`rounds_check`) is run once at the end, as the 00:20/12:20 job would.
Idempotent: a school that already has checkpoints is left alone, so a second run (and any
change made during a demo) changes nothing. Everything is fictional.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from huxiao.demo.township import DemoModeOff
from huxiao.duty import checkpoint_services, rounds_services
from huxiao.duty.models import Checkpoint
from huxiao.duty.rounds_counts import local_tz
from huxiao.orgs.models import Organization

KINDERGARTEN = "大杨树实验幼儿园"
PRIMARY = "大杨树中心小学"
MIDDLE = "大杨树镇中学"
PRIVATE_KG = "阳光幼儿园"
DAYS = 7
STEP_MINUTES = 4

# (name, location, night round only)
KEY_AREAS = (
    ("大门", "正门门卫室外墙", False),
    ("教学楼", "一楼楼梯口", False),
    ("食堂", "后厨入口", False),
    ("操场", "主席台东侧", False),
    ("围墙东侧", "东围墙中段路灯杆", False),
)
DORMITORIES = (
    ("男生宿舍", "男生宿舍楼一楼值班室", True),
    ("女生宿舍", "女生宿舍楼一楼值班室", True),
)
KG_AREAS = (
    ("大门", "正门门卫室外墙", False),
    ("教学楼", "一楼楼梯口", False),
    ("食堂", "后厨入口", False),
    ("户外活动场", "滑梯东侧", False),
)
SIX = ("07:40", "09:50", "12:10", "15:00", "17:30", "20:10")
FIVE = SIX[:5]
THREE = ("07:40", "12:10", "17:30")
NIGHT = "22:30"


def _at(day: dt.date, hhmm: str) -> dt.datetime:
    hour, minute = (int(part) for part in hhmm.split(":"))
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)), local_tz())


def _walk(actor, checkpoints, start: dt.datetime) -> int:
    """One round: each checkpoint STEP_MINUTES after the other; ends by the button if it has
    not ended by itself. Returns the scans made."""
    outcome = None
    for index, cp in enumerate(checkpoints):
        outcome = rounds_services.checkpoint_scan(
            actor=actor,
            code=cp.code,
            now=start + dt.timedelta(minutes=STEP_MINUTES * index),
        )
    if outcome is not None and not outcome.finished:
        rounds_services.round_finish(
            actor=actor,
            round=outcome.round,
            now=start + dt.timedelta(minutes=STEP_MINUTES * len(checkpoints)),
        )
    return len(checkpoints)


def load_demo_rounds(stdout=None, *, now: dt.datetime | None = None) -> dict:
    """Create the demo checkpoints and rounds where missing; return the numbers created.

    Refuses with DemoModeOff unless settings.DEMO_MODE is on; does nothing without the demo
    township."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    created = {"checkpoints": 0, "rounds": 0, "scans": 0, "gaps": 0}
    users = {
        u.username: u
        for u in get_user_model().objects.filter(
            username__in=(
                "principal",
                "guard",
                "principal2",
                "middle.principal",
                "sunshine.principal",
            ),
            is_active=True,
        )
    }
    schools = {
        s.name: s
        for s in Organization.objects.schools().filter(
            name__in=(KINDERGARTEN, PRIMARY, MIDDLE, PRIVATE_KG), is_active=True
        )
    }
    if len(users) < 5 or len(schools) < 4:
        return created
    now = now or timezone.now()
    today = timezone.localtime(now, local_tz()).date()
    _day, checked_night = rounds_services.checked_days(now)
    plan = (
        # school, who plans, who walks, areas, day rounds per day (yesterday), boarding nights
        (KINDERGARTEN, "principal", "guard", KEY_AREAS, SIX, SIX, False),
        (PRIMARY, "principal2", "principal2", KEY_AREAS, FIVE, THREE, False),
        (MIDDLE, "middle.principal", "middle.principal", KEY_AREAS + DORMITORIES, FIVE, FIVE, True),
        (PRIVATE_KG, "sunshine.principal", "sunshine.principal", KG_AREAS, FIVE, FIVE, False),
    )
    with transaction.atomic():
        for name, planner, walker, areas, per_day, yesterday, nights in plan:
            school = schools[name]
            if Checkpoint.objects.filter(school=school).exists():
                continue
            cps = [
                checkpoint_services.checkpoint_create(
                    actor=users[planner],
                    school=school,
                    name=area,
                    location=location,
                    for_night=night_only,
                )
                for area, location, night_only in areas
            ]
            created["checkpoints"] += len(cps)
            day_cps = [cp for cp in cps if not cp.for_night]
            for offset in range(DAYS, -1, -1):
                day = today - dt.timedelta(days=offset)
                times = yesterday if offset == 1 else per_day
                for hhmm in times:
                    start = _at(day, hhmm)
                    # Today: only the rounds already over.
                    if start + dt.timedelta(minutes=STEP_MINUTES * len(day_cps)) >= now:
                        continue
                    if offset == 0 and walker != "guard":
                        continue
                    created["scans"] += _walk(users[walker], day_cps, start)
                    created["rounds"] += 1
                if nights and offset >= 1 and day != checked_night:
                    start = _at(day, NIGHT)
                    if start + dt.timedelta(minutes=STEP_MINUTES * len(cps)) < now:
                        created["scans"] += _walk(users[walker], cps, start)
                        created["rounds"] += 1
        if created["checkpoints"]:
            result = rounds_services.rounds_check(now=now)
            created["gaps"] = len(result.rounds_missed) + len(result.night_missed)
    if stdout is not None and created["checkpoints"]:
        stdout.write(
            f"  patrol rounds: +{created['checkpoints']} checkpoints, +{created['rounds']} "
            f"rounds ({created['scans']} scans), {created['gaps']} gaps flagged\n"
        )
    return created
