"""Listed supervision and surroundings tasks for the demo township (issue 6, ADR 0026).

`load_demo_listings()` runs after `load_demo_hazards()`: it needs the demo township (大杨树镇,
its governance office `gov`, the police station `police`) and the demo hazards. Demo mode
only. Everything goes through the real services, so audit rows, timelines and
notifications are the real ones.

What a visitor of `make run` finds (T is today):

- The township's **two departments** (made by huxiao/demo/township.py, each with a demo
  login): 大杨树市场监管所 (`market`, market regulation) and 县交警大队大杨树中队 (`traffic`,
  traffic police).
- **One listed supervision** (/hazards/listings/): the major hazard of 大杨树镇中学 (男生宿舍楼
  安全出口堵塞、夜间上锁) was listed automatically when it was reported, under 大杨树镇综治办;
  `gov` has given it its reference number 挂督〔<year>〕1号 and requirements. Its notice is
  printable; it cannot be lifted before the hazard is verified (or only "anyway").
- **Two surroundings tasks** (/hazards/tasks/): the street stalls at 阳光幼儿园's gate, given by
  `gov` to the market regulation office at T−7, accepted at T−6, reported back at T−2 — `gov`
  can confirm it or return it; and the parking at 大杨树中心小学's gate at peak hours, given by
  `police` to the traffic police squad yesterday — `traffic` can accept it.

Idempotent: the
listing by its hazard (and completed only while its reference is empty); a task by school
and title. A second run writes nothing.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from huxiao.core.roles import OrgKind
from huxiao.demo.township import DemoModeOff
from huxiao.hazards import listing_services, task_services
from huxiao.hazards.choices import DepartmentKind
from huxiao.hazards.demo import MIDDLE, PRIMARY, PRIVATE_KG
from huxiao.hazards.models import Hazard, ListedSupervision, SurroundingsTask
from huxiao.orgs.models import Organization, Region, Town

COUNTY_CODE = "130123"
TOWN_CODE = "130123101"
MARKET = "大杨树市场监管所"
TRAFFIC = "县交警大队大杨树中队"
DEPARTMENTS = (
    # name, short name, address, phone, (username, surname, given name, title)
    (MARKET, "市场监管所", "示范县大杨树镇建设路26号", "0311-85213315",
     ("market", "马", "晓东", "所长")),
    (TRAFFIC, "交警中队", "示范县大杨树镇幸福路2号", "0311-85213122",
     ("traffic", "韩", "磊", "中队长")),
)  # fmt: skip
MAJOR_HAZARD = "男生宿舍楼安全出口堵塞、夜间上锁"
STALL_HAZARD = "园门口早晚流动摊点占道经营"
STALL_TASK = "取缔阳光幼儿园门口早点流动摊点"
PARKING_TASK = "上下学高峰校门口车辆乱停乱放"


def load_demo_listings(stdout=None, *, today: dt.date | None = None) -> dict:
    """Create what is missing; return what this run did
    ({"listings": n, "tasks": n}).

    Refuses with DemoModeOff unless settings.DEMO_MODE is on; does nothing without the demo
    township. `today` moves the dates (default: today)."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    done = {"listings": 0, "tasks": 0}
    region = Region.objects.filter(code=COUNTY_CODE).first()
    town = Town.objects.filter(code=TOWN_CODE).first()
    names = ("gov", "police", "market", "traffic")
    users = {u.username: u for u in get_user_model().objects.filter(username__in=names)}
    departments = _departments(region) if region is not None else {}
    if town is None or len(users) < len(names) or len(departments) < 2:
        return done
    now = timezone.now()
    if today is not None and today != timezone.localdate(now):
        now = timezone.make_aware(dt.datetime.combine(today, dt.time(12, 0)))
    today = timezone.localtime(now).date()

    def at(days_ago: int, hhmm: str) -> dt.datetime:
        hour, minute = (int(x) for x in hhmm.split(":"))
        moment = timezone.make_aware(
            dt.datetime.combine(today - dt.timedelta(days=days_ago), dt.time(hour, minute))
        )
        return min(moment, now)

    with transaction.atomic():
        _listing(users["gov"], today, at, done)
        _tasks(users, departments, today, at, done)
    if stdout is not None:
        stdout.write(
            f"  listings: {done['listings']} listing(s) completed, +{done['tasks']} tasks\n"
        )
    return done


def _departments(region) -> dict[str, Organization]:
    """The township's two departments (huxiao/demo/township.py makes them and their logins)."""
    return {
        org.name: org
        for org in Organization.objects.filter(
            region=region, kind=OrgKind.DEPARTMENT, name__in=(MARKET, TRAFFIC)
        )
    }


def _listing(gov, today, at, done) -> None:
    """The major hazard's listing: made automatically when the hazard was reported (or by
    `gov` here if the hazard predates the rule), then given its reference number."""
    hazard = Hazard.objects.filter(school__name=MIDDLE, title=MAJOR_HAZARD).first()
    if hazard is None:
        return
    listing = ListedSupervision.objects.filter(hazard=hazard).first()
    if listing is None:
        if hazard.status == "closed":
            return
        listing = listing_services.listing_create(
            actor=gov,
            hazard=hazard,
            reason="重大隐患：男生宿舍楼安全出口被堵塞并夜间上锁，一旦发生火灾后果严重。",
            deadline=(
                hazard.deadline
                if hazard.deadline and hazard.deadline >= today
                else today + dt.timedelta(days=listing_services.AUTO_DEADLINE_DAYS)
            ),
            now=at(0, "08:30"),
        )
    if listing.reference or listing.status != "active":
        return
    listing_services.listing_update(
        actor=gov,
        listing=listing,
        reference=f"挂督〔{today.year}〕1号",
        requirements=(
            "一、立即清除男生宿舍楼安全出口处的床板和杂物，夜间不得上锁，落实专人值守；\n"
            "二、三日内完成宿舍楼消防设施全面检查，书面报告镇综治办；\n"
            "三、整改期间每日报告进展，整改完成后申请验收，验收合格后摘牌。"
        ),
        now=at(0, "08:40"),
    )
    done["listings"] += 1


def _tasks(users, departments, today, at, done) -> None:
    gov, police = users["gov"], users["police"]
    stall = Hazard.objects.filter(school__name=PRIVATE_KG, title=STALL_HAZARD).first()
    kindergarten = Organization.objects.filter(kind=OrgKind.KINDERGARTEN, name=PRIVATE_KG).first()
    if (
        kindergarten is not None
        and not SurroundingsTask.objects.filter(school=kindergarten, title=STALL_TASK).exists()
    ):
        task = task_services.task_create(
            actor=gov,
            school=kindergarten,
            hazard=stall if stall is not None and stall.status != "closed" else None,
            department=departments[MARKET],
            department_kind=DepartmentKind.MARKET_REGULATION,
            title=STALL_TASK,
            description="入园、离园时段园门口有两个早点摊点占道经营，影响幼儿通行和接送秩序，"
            "请依法取缔并建立长效巡查。",
            location="阳光幼儿园正门两侧",
            deadline=today + dt.timedelta(days=7),
            now=at(7, "15:00"),
        )
        market = users["market"]
        task = task_services.task_accept(
            actor=market, task=task, note="已安排执法人员跟进。", now=at(6, "09:20")
        )
        task_services.task_feedback(
            actor=market,
            task=task,
            feedback="已于早晚高峰联合城管劝离两处摊点，摊主签订承诺书；每日两次巡查，持续一周。",
            now=at(2, "17:30"),
        )
        done["tasks"] += 1
    primary = Organization.objects.filter(kind=OrgKind.SCHOOL, name=PRIMARY).first()
    if (
        primary is not None
        and not SurroundingsTask.objects.filter(school=primary, title=PARKING_TASK).exists()
    ):
        task_services.task_create(
            actor=police,
            school=primary,
            department=departments[TRAFFIC],
            department_kind=DepartmentKind.TRAFFIC_POLICE,
            title=PARKING_TASK,
            description="护学岗发现上下学高峰接送车辆在校门口两侧乱停，占用学生通行道，"
            "请设置临时停车区并在高峰时段疏导交通。",
            location="大杨树中心小学正门幸福路段",
            deadline=today + dt.timedelta(days=10),
            now=at(1, "16:40"),
        )
        done["tasks"] += 1
