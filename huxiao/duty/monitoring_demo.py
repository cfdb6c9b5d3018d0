"""The monitoring-room log for the demo township (issue 7 item 6, ADR 0029 "Monitoring
room"): the last 24 hours at 大杨树实验幼儿园.

`load_demo_monitoring()` runs after `load_demo_township()` and after the security demo's
defence profiles (the kindergarten's profile says it has a monitoring room; without it the
gap check leaves the school alone and no gap is flagged). Demo mode only; through the real
services with a clock.

What a visitor finds on /duty/schools/<id>/monitoring/: two-hour entries by `guard` and
`teacher` (and one by 王师傅, a night watcher without a login) covering the last 24 hours up
to the last full hour, except four hours in the night nobody logged — flagged once as a
monitoring gap by the hourly check, run at the end; one entry is abnormal (a man loitering
by the east wall), which flagged the principal in real time.

Idempotent: if the kindergarten has any monitoring-room entry, nothing is done.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from huxiao.demo.township import DemoModeOff
from huxiao.duty import monitoring_services as services
from huxiao.duty.models import MonitoringLogEntry
from huxiao.orgs.models import Organization

KINDERGARTEN = "大杨树实验幼儿园"
USERNAMES = ("guard", "teacher")
# Blocks of two hours counted back from the last full hour; these are left unlogged.
MISSING = (3, 4)
NIGHT_WATCHER = "王师傅"
# What was seen, by the time of day of the stretch (the pick-up and drop-off text only for
# the stretches around 07:00–09:00 and 15:00–18:00, the night texts from 20:00 to 06:00).
DAY_OBSERVATIONS = (
    "园门、操场、走廊各路画面正常，录像正常。",
    "各路画面正常，无异常人员、车辆。",
)
SCHOOL_RUN = "接送时段园门口秩序正常，护学岗在岗。"
NIGHT_OBSERVATIONS = (
    "围墙、后门画面正常，夜间红外补光正常。",
    "园区夜间无人员出入，教学楼、食堂门窗画面正常。",
    "园门已落锁，周界画面正常，无异常人员、车辆。",
)


def observation(start: dt.datetime, block: int) -> str:
    """The demo text for a two-hour stretch starting at `start` (local hour decides)."""
    hour = timezone.localtime(start).hour
    if hour >= 20 or hour < 6:
        return NIGHT_OBSERVATIONS[block % len(NIGHT_OBSERVATIONS)]
    if 6 <= hour < 9 or 15 <= hour < 18:
        return SCHOOL_RUN
    return DAY_OBSERVATIONS[block % len(DAY_OBSERVATIONS)]


ANOMALY = (
    "东侧围墙外一名男子徘徊约10分钟后离开。",
    "已调取录像截图，通知门卫加强东侧巡查，并报告值班领导。",
)


def load_demo_monitoring(stdout=None, *, now: dt.datetime | None = None) -> dict:
    """Write the last 24 hours of the kindergarten's monitoring-room log and run the gap
    check once; return {"entries": n, "gaps": n}."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    created = {"entries": 0, "gaps": 0}
    school = Organization.objects.schools().filter(name=KINDERGARTEN).first()
    users = {
        u.username: u
        for u in get_user_model().objects.filter(username__in=USERNAMES, is_active=True)
    }
    if school is None or len(users) < len(USERNAMES):
        return created
    if MonitoringLogEntry.objects.filter(school=school).exists():
        return created
    now = (now or timezone.now()).replace(microsecond=0)
    last_hour = timezone.localtime(now).replace(minute=0, second=0)
    with transaction.atomic():
        for block in reversed(range(12)):
            if block in MISSING:
                continue
            end = last_hour - dt.timedelta(hours=2 * block)
            start = end - dt.timedelta(hours=2)
            hour = timezone.localtime(start).hour
            night = hour >= 20 or hour < 6
            anomaly = block == 6
            watcher = None if night else users["guard" if block % 2 else "teacher"]
            services.monitoring_add(
                actor=users["guard"],
                school_id=school.pk,
                watcher=watcher,
                watcher_name="" if watcher else NIGHT_WATCHER,
                period_start=start,
                period_end=end,
                observations=ANOMALY[0] if anomaly else observation(start, block),
                actions=ANOMALY[1] if anomaly else "",
                anomaly=anomaly,
                now=end + dt.timedelta(minutes=2) if end + dt.timedelta(minutes=2) <= now else now,
            )
            created["entries"] += 1
        created["gaps"] = len(services.monitoring_gaps_scan(now=now))
    if stdout is not None:
        stdout.write(
            f"  monitoring room: +{created['entries']} entries, {created['gaps']} gap(s) flagged\n"
        )
    return created
