"""Technical and physical defences of the demo township (issue 7 item 3).

`load_demo_defence()` runs after `load_demo_township()` and `load_demo_video()` (the
cameras of the video registry are theirs: read here, never changed). Demo mode only.
Everything goes through the real services (`defence_profile_save`, `technical_system_add`)
acting as each school's principal, with today's date as the clock of the date checks.

What a visitor finds under /security/defence/ (T is today):

- **大杨树实验幼儿园** (`principal`): fully equipped and networked — 90 days of video, a
  monitoring room staffed 24 hours, wall, 4 bollards, vehicle barrier, speed bumps, parent
  waiting area, closed management, gatehouse staffed 24 hours; a networked one-click alarm
  (tested T−20), a networked perimeter alarm and a networked recorder. 3 of its 4 registry
  cameras are networked.
- **大杨树中心小学** (`principal2`): video kept only 15 days; otherwise equipped, its
  one-click alarm networked but last tested T−200 (the campaign demo returns its
  self-check for that).
- **大杨树镇中学** (boarding, `middle.principal`): its one-click alarm sounds in the
  gatehouse only (not networked to the police), nor is the dormitory's intrusion alarm;
  30 days of video, a monitoring room staffed 24 hours, closed management.
- **阳光幼儿园** (`sunshine.principal`): no closed management and no vehicle barrier (a
  fence, no bollards, no monitoring room); 30 days of video; a networked one-click alarm.
- 大杨树第二小学, 红星村小学 and 柳河镇中心小学 have recorded nothing yet (they have no
  demo login): the page shows the defaults and "not recorded".

No HuXiao alarm box is issued: a device token is shown once and belongs to its device, so
the demo's alarms are other vendors' one-click alarms (`TechnicalSystem`).

Idempotent: a school that already has a profile is left as it is (changes made during a
demo survive a restart), and systems are keyed by (school, name). A second run writes
nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from huxiao.core.roles import Role
from huxiao.demo.township import REGION_CODE, DemoModeOff
from huxiao.orgs.models import Organization
from huxiao.security import defence_services as services
from huxiao.security.choices import Perimeter, SystemKind
from huxiao.security.models import DefenceProfile, TechnicalSystem

KINDERGARTEN = "大杨树实验幼儿园"
PRIMARY = "大杨树中心小学"
MIDDLE = "大杨树镇中学"
PRIVATE_KG = "阳光幼儿园"
K = SystemKind


@dataclass(frozen=True)
class System:
    kind: str
    name: str
    location: str
    networked: bool
    installed_days_ago: int | None
    tested_days_ago: int | None


@dataclass(frozen=True)
class SchoolDefence:
    school: str
    principal: str  # username of the school's principal login
    profile: dict
    systems: tuple[System, ...] = field(default_factory=tuple)


def _profile(**changes) -> dict:
    base = {
        "video_retention_days": 30,
        "monitoring_room": True,
        "monitoring_room_24h": True,
        "perimeter": Perimeter.WALL,
        "bollards": 2,
        "vehicle_barrier": True,
        "speed_bumps": True,
        "parent_waiting_area": True,
        "closed_management": True,
        "gatehouse_24h": True,
        "notes": "",
    }
    base.update(changes)
    return base


DEFENCES = (
    SchoolDefence(
        KINDERGARTEN,
        "principal",
        _profile(
            video_retention_days=90,
            bollards=4,
            notes="监控室与派出所视频平台联网，录像保存90天；东门升降柱2023年安装。",
        ),
        (
            System(K.ONE_CLICK_ALARM, "门卫室一键报警", "园门门卫室", True, 900, 20),
            System(K.PERIMETER_ALARM, "围墙红外对射报警", "北侧、东侧围墙", True, 700, 45),
            System(K.VIDEO_RECORDER, "监控室录像机（16路）", "行政楼一层监控室", True, 900, 20),
        ),
    ),
    SchoolDefence(
        PRIMARY,
        "principal2",
        _profile(
            video_retention_days=15,
            bollards=3,
            notes="录像机硬盘容量不足，录像仅保存15天，已申请扩容。",
        ),
        (
            System(K.ONE_CLICK_ALARM, "校门一键报警", "校门门卫室", True, 1200, 200),
            System(K.VIDEO_RECORDER, "教学楼录像机（8路）", "教学楼一层值班室", False, 1200, 200),
        ),
    ),
    SchoolDefence(
        MIDDLE,
        "middle.principal",
        _profile(
            bollards=3,
            notes="寄宿制学校：宿舍楼夜间由宿管员值守。",
        ),
        (
            System(K.ONE_CLICK_ALARM, "门卫室报警按钮", "南门门卫室", False, 1500, 60),
            System(K.INTRUSION_ALARM, "宿舍楼入侵报警", "男生宿舍楼", False, 800, 60),
            System(K.VIDEO_RECORDER, "监控中心录像机（32路）", "综合楼监控中心", True, 800, 30),
        ),
    ),
    SchoolDefence(
        PRIVATE_KG,
        "sunshine.principal",
        _profile(
            monitoring_room=False,
            monitoring_room_24h=False,
            perimeter=Perimeter.FENCE,
            bollards=0,
            vehicle_barrier=False,
            speed_bumps=False,
            closed_management=False,
            gatehouse_24h=False,
            notes="租用民房办园，院门临街，上下学时段家长直接进院接送。",
        ),
        (System(K.ONE_CLICK_ALARM, "一键报警（联网型）", "院门值班室", True, 400, 30),),
    ),
)


def load_demo_defence(stdout=None, *, today: dt.date | None = None) -> dict:
    """Record the demo schools' defences where missing; return what was created:
    {"profiles": n, "systems": n}."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    today = today or timezone.localdate()
    created = {"profiles": 0, "systems": 0}
    schools = {
        o.name: o
        for o in Organization.objects.schools().filter(
            region__code=REGION_CODE, name__in=[d.school for d in DEFENCES]
        )
    }
    users = {
        u.username: u
        for u in get_user_model().objects.filter(
            username__in=[d.principal for d in DEFENCES], is_active=True
        )
    }
    with transaction.atomic():
        for spec in DEFENCES:
            school, actor = schools.get(spec.school), users.get(spec.principal)
            if school is None or actor is None:
                continue
            if not actor.memberships.filter(
                organization=school, role=Role.PRINCIPAL, is_active=True
            ).exists():
                continue
            if not DefenceProfile.objects.filter(school=school).exists():
                services.defence_profile_save(actor=actor, school=school, **spec.profile)
                created["profiles"] += 1
            known = set(
                TechnicalSystem.objects.filter(school=school).values_list("name", flat=True)
            )
            for system in spec.systems:
                if system.name in known:
                    continue
                services.technical_system_add(
                    actor=actor,
                    school=school,
                    kind=system.kind,
                    name=system.name,
                    location=system.location,
                    networked_to_police=system.networked,
                    installed_on=_days_ago(today, system.installed_days_ago),
                    last_tested_on=_days_ago(today, system.tested_days_ago),
                    today=today,
                )
                created["systems"] += 1
    if stdout is not None:
        stdout.write(f"  defences: {created}\n")
    return created


def _days_ago(today: dt.date, days: int | None) -> dt.date | None:
    return None if days is None else today - dt.timedelta(days=days)
