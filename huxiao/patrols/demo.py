"""Demo data of gate posts, patrols and visits for the demo township (ADR 0010, ADR 0018).

`load_demo_patrols()` runs after `load_demo_township()` (demo mode only) and gives the
township's six schools of 大杨树镇 their post plans, the past week of check-ins (mostly on
time; some late, some missed, one day called off), patrol logs and police-post visits, plus
the visit shortfalls of last week flagged to the station commander's inbox.

Idempotent, by natural keys: posts by (school, peak), staff by (post, user or name), shifts
by (post, date), patrol logs by (officer, start), visits by (school, officer, arrival). A
past shift that already has check-ins or a flag is left alone, so a second run writes
nothing and a run on a later day adds only the days that came since. Everything random is
drawn from fixed seeds per school, day and peak.
"""

from __future__ import annotations

import datetime as dt
import random

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from huxiao.audit.models import AuditAction
from huxiao.audit.services import audit_record
from huxiao.demo.township import REGION_CODE, DemoModeOff
from huxiao.orgs.models import Organization
from huxiao.patrols import conf, services
from huxiao.patrols.choices import POLICE_STAFF_KINDS, Dress, PatrolMode, Period, StaffKind
from huxiao.patrols.models import (
    GatePost,
    GatePostStaff,
    GatePostWindow,
    PatrolLog,
    PoliceVisit,
    PostCheckIn,
    PostShift,
)

SEED = "huxiao-demo-patrols-v1"
AUDIT_OBJECT_TYPE = "demo.patrols"
DAYS_BACK = 7
_T = dt.time

# school name → {peak: (starts, ends, location, [(kind, username or name)])}
_MON_FRI = range(5)
PLANS = {
    "大杨树实验幼儿园": {
        Period.MORNING: (
            _T(7, 40),
            _T(8, 20),
            "幸福路8号园门口及人行横道",
            [(StaffKind.GUARD, "@guard"), (StaffKind.PARENT_VOLUNTEER, "王丽（小一班家长）")],
        ),
        Period.AFTERNOON: (
            _T(16, 30),
            _T(17, 10),
            "幸福路8号园门口及人行横道",
            [
                (StaffKind.POLICE, "@officer"),
                (StaffKind.GUARD, "@guard"),
                (StaffKind.PARENT_VOLUNTEER, "赵敏（中二班家长）"),
            ],
        ),
    },
    "大杨树中心小学": {
        Period.MORNING: (
            _T(7, 20),
            _T(8, 0),
            "幸福路6号校门口",
            [(StaffKind.AUXILIARY_POLICE, "辅警 孙浩"), (StaffKind.GUARD, "门卫 李德福")],
        ),
        Period.NOON: (
            _T(11, 40),
            _T(12, 10),
            "幸福路6号校门口",
            [(StaffKind.GUARD, "门卫 李德福")],
        ),
        Period.AFTERNOON: (
            _T(16, 20),
            _T(17, 0),
            "幸福路6号校门口至建设路口",
            [(StaffKind.POLICE, "@police"), (StaffKind.AUXILIARY_POLICE, "辅警 孙浩")],
        ),
    },
    "大杨树镇中学": {
        Period.MORNING: (
            _T(7, 0),
            _T(7, 40),
            "育才路15号校门口",
            [(StaffKind.GUARD, "保安 周建军")],
        ),
        Period.AFTERNOON: (
            _T(17, 10),
            _T(17, 50),
            "育才路15号校门口",
            [(StaffKind.AUXILIARY_POLICE, "辅警 马俊"), (StaffKind.GUARD, "保安 周建军")],
        ),
    },
    "阳光幼儿园": {
        Period.AFTERNOON: (
            _T(16, 30),
            _T(17, 10),
            "大杨树村东街23号园门口",
            [(StaffKind.GUARD, "保安 王建军"), (StaffKind.COMMUNITY_VOLUNTEER, "村治保员 冯国庆")],
        ),
    },
    "大杨树第二小学": {
        Period.AFTERNOON: (
            _T(16, 20),
            _T(17, 0),
            "西环路31号校门口",
            [
                (StaffKind.AUXILIARY_POLICE, "辅警 马俊"),
                (StaffKind.PARENT_VOLUNTEER, "家长志愿者轮值"),
            ],
        ),
    },
    "红星村小学": {
        Period.AFTERNOON: (
            _T(16, 0),
            _T(16, 40),
            "红星村村委会南校门",
            [(StaffKind.MILITIA, "民兵 韩立军"), (StaffKind.COMMUNITY_VOLUNTEER, "村治保员 曹永")],
        ),
    },
}
# Visits of the past weeks per school (the rule asks for two): the middle school and the
# village school fall short, so the commander has something to follow up.
VISITS_PER_WEEK = {
    "大杨树实验幼儿园": 2,
    "大杨树中心小学": 3,
    "大杨树镇中学": 1,
    "阳光幼儿园": 2,
    "大杨树第二小学": 2,
    "红星村小学": 0,
}
_VISIT_NOTES = (
    ("了解门卫值守和外来人员登记情况", "指导门卫规范使用钢叉、防暴盾牌", ""),
    ("收集家长反映的校门口接送拥堵情况", "提醒放学时段错峰放学", "校门口缺少减速带"),
    ("了解近期师生矛盾纠纷情况，未发现苗头性信息", "指导开展防拐骗安全教育", ""),
    ("检查监控室值班记录", "指导完善一键报警测试记录", "东侧围墙监控存在盲区"),
)
_PATROLS = (
    (_T(7, 0), 80, PatrolMode.CAR, Dress.UNIFORM, "建设路—幸福路—育才路", ("大杨树实验幼儿园", "大杨树中心小学", "大杨树镇中学"), "", 0, ""),
    (_T(15, 50), 70, PatrolMode.FOOT, Dress.PLAIN_CLOTHES, "幸福路—西环路步行", ("大杨树实验幼儿园", "大杨树第二小学"), "西环路口有流动摊贩，已劝离", 1, "盘查一名在校门口徘徊男子，系学生亲属，已核实放行"),
    (_T(20, 30), 60, PatrolMode.CAR, Dress.UNIFORM, "镇区—大杨树村—红星村", ("阳光幼儿园", "红星村小学", "大杨树镇中学"), "镇中学宿舍区周边正常", 0, ""),
    (_T(11, 30), 50, PatrolMode.MIXED, Dress.MIXED, "育才路—建设路", ("大杨树镇中学", "大杨树中心小学"), "", 2, "盘查两名无业青年，登记身份信息后教育离开"),
    (_T(16, 10), 60, PatrolMode.CAR, Dress.UNIFORM, "幸福路—西环路", ("大杨树实验幼儿园", "大杨树中心小学", "大杨树第二小学"), "放学高峰交通秩序良好", 0, ""),
)  # fmt: skip


def _rng(*parts) -> random.Random:
    return random.Random(":".join([SEED, *map(str, parts)]))


def _local(day: dt.date, time: dt.time) -> dt.datetime:
    return services.aware(day, time)


def load_demo_patrols(*, today: dt.date | None = None, stdout=None) -> dict:
    """Load (or complete) the demo's gate posts, check-ins, patrols and visits.

    Returns the totals and what this run created: {"posts": …, "check_ins": …, …,
    "created": {...}}. Refuses with DemoModeOff unless settings.DEMO_MODE is on; does
    nothing for schools the township has not loaded."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    today = today or timezone.localdate()
    users = {
        u.username: u
        for u in get_user_model().objects.filter(username__in=["police", "officer", "guard"])
    }
    schools = {
        o.name: o
        for o in Organization.objects.filter(region__code=REGION_CODE, name__in=list(PLANS))
    }
    created: dict[str, int] = {}

    def count(key, n=1):
        if n:
            created[key] = created.get(key, 0) + n

    with transaction.atomic():
        posts = []
        for name, plans in PLANS.items():
            school = schools.get(name)
            if school is None:
                continue
            for period, (starts, ends, location, staff) in plans.items():
                post, made = GatePost.objects.get_or_create(
                    school=school, period=period, defaults={"location": location}
                )
                if made:
                    count("posts")
                    GatePostWindow.objects.bulk_create(
                        GatePostWindow(post=post, weekday=d, starts=starts, ends=ends)
                        for d in _MON_FRI
                    )
                for kind, who in staff:
                    if who.startswith("@"):
                        user = users.get(who[1:])
                        if user is None:
                            continue
                        _, made = GatePostStaff.objects.get_or_create(
                            post=post, user=user, is_active=True, defaults={"kind": kind}
                        )
                    else:
                        _, made = GatePostStaff.objects.get_or_create(
                            post=post, name=who, user=None, defaults={"kind": kind}
                        )
                    count("staff", int(made))
                posts.append(post)
        first = today - dt.timedelta(days=DAYS_BACK)
        count(
            "shifts",
            services.shifts_ensure(
                first_day=first,
                last_day=today + dt.timedelta(days=conf.shift_horizon_days()),
                posts=list(
                    GatePost.objects.filter(pk__in=[p.pk for p in posts]).prefetch_related(
                        "windows", "staff"
                    )
                ),
            ),
        )
        count("check_ins", _load_check_ins(posts, users, first, today))
        count("patrol_logs", _load_patrols(schools, users, today))
        count("visits", _load_visits(schools, users, today))
        if created:
            audit_record(
                actor=None,
                action=AuditAction.IMPORT,
                object_type=AUDIT_OBJECT_TYPE,
                object_repr="demo patrols loaded",
                changes={"created": created},
            )
    # The rule of ≥ 2 visits, as the Friday job would have found it last week: the station
    # commander's inbox has the flags (idempotent per school and week).
    last_friday = today - dt.timedelta(days=today.weekday() + 3)
    flagged = services.visits_flag_shortfalls(now=_local(last_friday, _T(9, 30)))
    count("visit_shortfalls", len(flagged))
    if stdout is not None:
        stdout.write(f"  gate posts: {created}\n")
    return {
        "posts": GatePost.objects.filter(school__in=schools.values()).count(),
        "shifts": PostShift.objects.filter(school__in=schools.values()).count(),
        "check_ins": PostCheckIn.objects.filter(school__in=schools.values()).count(),
        "patrol_logs": PatrolLog.objects.filter(schools__in=schools.values()).distinct().count(),
        "visits": PoliceVisit.objects.filter(school__in=schools.values()).count(),
        "created": created,
    }


def _load_check_ins(posts, users, first: dt.date, today: dt.date) -> int:
    """Past shifts (before today) without check-ins or flags get the day's story: mostly on
    time, police with the car and often its lights; about one in ten late; about one in
    twelve missed; one afternoon called off for a sports day."""
    recorder = users.get("guard") or users.get("officer")
    police_user = users.get("officer")
    if recorder is None or police_user is None:
        return 0
    shifts = list(
        PostShift.objects.filter(
            post__in=[p.pk for p in posts],
            date__gte=first,
            date__lt=today,
            late_flagged_at__isnull=True,
            missed_flagged_at__isnull=True,
            cancelled_at__isnull=True,
            check_ins__isnull=True,
        )
        .select_related("post", "school")
        .prefetch_related("post__staff__user")
        .order_by("date", "starts_at")
    )
    created = 0
    grace = conf.late_grace()
    for shift in shifts:
        rng = _rng(shift.school.name, shift.date, shift.period)
        roll = rng.random()
        if shift.school.name == "阳光幼儿园" and shift.date.weekday() == 3:
            shift.cancelled_at = shift.starts_at - dt.timedelta(hours=6)
            shift.cancel_reason = "春季运动会，提前放学"
            shift.save(update_fields=["cancelled_at", "cancel_reason"])
            continue
        if roll < 0.08:
            # Missed: nobody came; the sweep told the station at the end.
            shift.missed_flagged_at = shift.ends_at
            shift.save(update_fields=["missed_flagged_at"])
            continue
        late = roll < 0.18
        staff = [s for s in shift.post.staff.all() if s.is_active]
        for index, member in enumerate(staff):
            if index and rng.random() < 0.15:
                continue  # a volunteer who did not come today
            offset = rng.randint(-12, 0) if not late or index else rng.randint(7, 15)
            at = shift.starts_at + dt.timedelta(minutes=offset + index)
            is_police = member.kind in POLICE_STAFF_KINDS
            car = is_police and rng.random() < 0.85
            if member.user_id:
                user, on_behalf, person = member.user, False, member.display_name
            else:
                user, on_behalf, person = (
                    (police_user if is_police else recorder),
                    True,
                    member.name,
                )
            PostCheckIn.objects.create(
                shift=shift,
                school=shift.school,
                user=user,
                staff=member,
                on_behalf=on_behalf,
                kind=member.kind,
                person_name=person[:50],
                checked_in_at=at,
                checked_out_at=shift.ends_at + dt.timedelta(minutes=rng.randint(0, 10)),
                is_late=at > shift.starts_at + grace,
                vehicle_present=car,
                lights_on=car and rng.random() < 0.75,
            )
            created += 1
        services._refresh_shift(shift)
        if shift.arrived_late:
            shift.late_flagged_at = shift.starts_at + grace
            shift.save(update_fields=["late_flagged_at"])
    return created


def _load_patrols(schools, users, today: dt.date) -> int:
    officers = [u for u in (users.get("officer"), users.get("police")) if u is not None]
    if not officers:
        return 0
    created = 0
    for index, (time, minutes, mode, dress, route, names, findings, checked, notes) in enumerate(
        _PATROLS
    ):
        day = today - dt.timedelta(days=index + 1)
        started = _local(day, time)
        officer = officers[index % len(officers)]
        log, made = PatrolLog.objects.get_or_create(
            officer=officer,
            started_at=started,
            defaults={
                "ended_at": started + dt.timedelta(minutes=minutes),
                "mode": mode,
                "dress": dress,
                "route": route,
                "companions": "辅警 孙浩" if mode != PatrolMode.FOOT else "",
                "findings": findings,
                "suspicious_checked": checked,
                "suspicious_notes": notes,
            },
        )
        if made:
            log.schools.set([schools[n] for n in names if n in schools])
            created += 1
    return created


def _load_visits(schools, users, today: dt.date) -> int:
    """Visits of last week and of this week up to yesterday, spread over the weekdays."""
    officer = users.get("officer")
    if officer is None:
        return 0
    created = 0
    monday = services.week_start_of(today)
    for week_start in (monday - dt.timedelta(days=7), monday):
        for name, per_week in VISITS_PER_WEEK.items():
            school = schools.get(name)
            if school is None:
                continue
            rng = _rng("visits", name, week_start)
            days = sorted(rng.sample(range(5), per_week)) if per_week else []
            for n, weekday in enumerate(days):
                day = week_start + dt.timedelta(days=weekday)
                if day >= today:
                    continue
                arrived = _local(day, _T(9 + 2 * n, 10 * rng.randint(0, 4)))
                info, guidance, problems = _VISIT_NOTES[rng.randrange(len(_VISIT_NOTES))]
                _, made = PoliceVisit.objects.get_or_create(
                    school=school,
                    officer=officer,
                    arrived_at=arrived,
                    defaults={
                        "left_at": arrived + dt.timedelta(minutes=rng.randint(30, 70)),
                        "information_collected": info,
                        "guidance_given": guidance,
                        "problems_found": problems,
                    },
                )
                created += int(made)
    return created
