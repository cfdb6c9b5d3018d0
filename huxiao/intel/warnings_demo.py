"""Warnings both ways for the demo township (大杨树派出所 and its schools).

`load_demo_warnings()` runs after `load_demo_township()` (it needs the station, its schools
and the demo logins `police`, `officer`, `guard`, `principal2`). Demo mode only. Idempotent:
a warning sign is keyed by its school and description, an early warning by its station and
title; existing ones are left as the demo users may have changed them. Everything goes
through the services, so the timeline, audit rows and notifications are the real ones.
Times are relative to now, so the active warning is in force whenever the demo is loaded.
Everything is fictional.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from huxiao.core.roles import OrgKind
from huxiao.demo.township import DemoModeOff
from huxiao.intel import warnings_services as services
from huxiao.intel.models import EarlyWarning, WarningSign
from huxiao.orgs.models import Organization

STATION_NAME = "大杨树派出所"

# (school, reporter, category, description, place, time node, hours ago, [(status, note)…])
SIGNS = (
    (
        "大杨树实验幼儿园",
        "guard",
        "suspicious_person",
        "一名中年男子连续三天放学时段在幼儿园东门外徘徊，询问孩子姓名，见门卫上前即离开。",
        "东门外人行道",
        "pickup_time",
        50,
        (
            ("assessing", "已安排护学岗民警放学时段重点关注东门。"),
            ("action_taken", "经盘查，该男子系附近务工人员，已批评教育并登记，护学岗继续关注。"),
        ),
    ),
    (
        "大杨树中心小学",
        "principal2",
        "threat",
        "有家长在班级微信群扬言“要让班主任好看”，起因是孩子座位调整。截图已保存。",
        "班级微信群",
        "",
        20,
        (("assessing", "已联系该家长了解情况，正在研判。"),),
    ),
    (
        "大杨树实验幼儿园",
        "guard",
        "suspicious_vehicle",
        "开学第一天一辆无牌白色面包车在校门口停留约二十分钟。",
        "校门口",
        "new_term",
        3,
        (),
    ),
)


def _user(username):
    return get_user_model().objects.filter(username=username).first()


def load_demo_warnings(*, stdout=None) -> dict:
    """Create the demo warnings that are missing; return {"signs": n, "early": n} created.
    Refuses with DemoModeOff unless settings.DEMO_MODE is on; does nothing if the demo
    township has not been loaded."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    station = Organization.objects.filter(kind=OrgKind.POLICE_STATION, name=STATION_NAME).first()
    police, officer = _user("police"), _user("officer")
    if station is None or police is None or officer is None:
        return {"signs": 0, "early": 0}
    schools = {
        school.name: school
        for school in Organization.objects.schools().filter(police_station=station)
    }
    now = timezone.now()
    created = {"signs": 0, "early": 0}
    with transaction.atomic():
        for school_name, reporter, category, text, place, node, hours, steps in SIGNS:
            school, user = schools.get(school_name), _user(reporter)
            if school is None or user is None:
                continue
            if WarningSign.objects.filter(school=school, description=text).exists():
                continue
            at = now - dt.timedelta(hours=hours)
            sign = services.warning_sign_report(
                actor=user,
                school=school,
                category=category,
                description=text,
                observed_place=place,
                observed_at=at - dt.timedelta(minutes=30),
                time_node=node,
                now=at,
            )
            for index, (status, note) in enumerate(steps, start=1):
                services.warning_sign_transition(
                    actor=officer,
                    sign=sign,
                    status=status,
                    note=note,
                    now=at + dt.timedelta(hours=index * 2),
                )
            created["signs"] += 1
        created["early"] += _early_warnings(station, schools, police, now)
    if stdout is not None:
        stdout.write(
            f"  warnings: +{created['signs']} warning signs, +{created['early']} early warnings\n"
        )
    return created


def _early_warnings(station, schools, police, now) -> int:
    made = 0
    acked_title = "开学期间校园周边高度戒备"
    if not EarlyWarning.objects.filter(issuer=station, title=acked_title).exists():
        targets = [schools[n] for n in ("大杨树实验幼儿园", "大杨树中心小学") if n in schools]
        if targets:
            issued = now - dt.timedelta(days=1)
            warning = services.early_warning_issue(
                actor=police,
                school_ids=[s.pk for s in targets],
                title=acked_title,
                content="开学第一周上下学高峰时段，请各校落实门卫值守和护学岗，发现可疑情况立即报警。",
                level="yellow",
                valid_from=issued,
                valid_until=now + dt.timedelta(days=6),
                now=issued,
            )
            for recipient in warning.recipients.select_related("school"):
                receiver = _user(
                    "guard" if recipient.school.name == "大杨树实验幼儿园" else "principal2"
                )
                if receiver is not None:
                    services.early_warning_acknowledge(
                        actor=receiver, recipient=recipient, now=issued + dt.timedelta(minutes=12)
                    )
            made += 1
    open_title = "在逃人员协查：驾驶灰色轿车男子"
    if not EarlyWarning.objects.filter(issuer=station, title=open_title).exists():
        issued = now - dt.timedelta(hours=2)
        services.early_warning_issue(
            actor=police,
            all_schools=True,
            title=open_title,
            content="男，约35岁，身高约175厘米，驾驶灰色轿车，可能在辖区学校周边出现。发现后请勿接触，立即拨打110。",
            level="orange",
            valid_from=issued,
            valid_until=now + dt.timedelta(days=3),
            now=issued,
        )
        made += 1
    return made
