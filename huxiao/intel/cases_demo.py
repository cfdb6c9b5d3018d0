"""School-related cases (涉校涉园案件, ADR 0021) for the demo township (大杨树派出所).

`load_demo_cases()` runs after `load_demo_township()` and `load_demo_warnings()` (it needs
the station, its schools and the demo logins `police` and `officer`; a case links the demo
warning sign it grew out of when that sign exists). Demo mode only. Idempotent: a case is
keyed by its station and case number; existing ones are left as the demo users may have
changed them. Everything goes through the services, so the timeline and audit rows are the
real ones, and the cases cover every state — open, solved, referred (移送) and closed — so
the station's speed figures have something to show. Times are relative to now. Everything
is fictional.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from huxiao.core.roles import OrgKind
from huxiao.demo.township import DemoModeOff
from huxiao.intel import cases_services as services
from huxiao.intel.models import SchoolCase, WarningSign
from huxiao.intel.warnings_demo import SIGNS
from huxiao.orgs.models import Organization

STATION_NAME = "大杨树派出所"


@dataclass(frozen=True)
class DemoCase:
    case_number: str
    school: str
    created_by: str
    officer: str
    category: str
    title: str
    description: str
    days_ago: float  # when it occurred; registered two hours later
    steps: tuple[tuple[str, float, str], ...] = ()  # (state, days after registration, note)
    sign: str = ""  # description of the demo warning sign it grew out of


CASES = (
    DemoCase(
        case_number="大公（刑）立字〔2026〕101号",
        school="大杨树实验幼儿园",
        created_by="police",
        officer="officer",
        category="other",
        title="幼儿园东门外可疑男子询问幼儿姓名",
        description="门卫连续三天发现一名男子放学时段在东门外徘徊并询问幼儿姓名，立案调查。",
        days_ago=2,
        steps=(
            ("investigating", 0.1, "调取东门及周边监控，走访接送家长。"),
            ("closed", 1.5, "该男子系附近务工人员，无违法犯罪事实，已批评教育并登记。"),
        ),
        sign=SIGNS[0][3],
    ),
    DemoCase(
        case_number="大公（刑）立字〔2026〕102号",
        school="大杨树中心小学",
        created_by="officer",
        officer="officer",
        category="violence",
        title="家长在班级微信群扬言伤害班主任",
        description="一名家长因座位调整在班级微信群扬言报复班主任，学校已保存截图。",
        days_ago=0.8,
        steps=(("investigating", 0.05, "已约谈该家长，正在核实其是否有实施准备。"),),
        sign=SIGNS[1][3],
    ),
    DemoCase(
        case_number="大公（刑）立字〔2026〕087号",
        school="大杨树镇中学",
        created_by="police",
        officer="officer",
        category="theft",
        title="学生宿舍楼电动车电瓶被盗案",
        description="夜间宿舍楼车棚内三辆教职工电动车电瓶被盗。",
        days_ago=24,
        steps=(
            ("investigating", 0.2, "调取车棚监控，锁定一名校外可疑人员。"),
            ("solved", 4.5, "嫌疑人已抓获，三块电瓶全部追回并发还。"),
        ),
    ),
    DemoCase(
        case_number="大公（刑）立字〔2026〕064号",
        school="大杨树镇中学",
        created_by="police",
        officer="police",
        category="bullying_injury",
        title="校门口学生斗殴致一人轻伤案",
        description="放学后两名校外青年在校门口殴打本校学生，致一名学生轻伤。",
        days_ago=45,
        steps=(
            ("investigating", 0.1, "伤者已送医，两名嫌疑人已到案。"),
            ("solved", 2.0, "案件事实查清，两名嫌疑人对殴打行为供认不讳。"),
            ("referred", 12.0, "已移送县人民检察院审查起诉。"),
        ),
    ),
    DemoCase(
        case_number="大公（刑）立字〔2026〕109号",
        school="大杨树实验幼儿园",
        created_by="officer",
        officer="officer",
        category="fraud",
        title="冒充教师在家长群收取“资料费”诈骗案",
        description="有人冒用班主任头像和昵称加入家长群，以订购资料为由收款，两名家长被骗。",
        days_ago=0.3,
    ),
)


def _user(username):
    return get_user_model().objects.filter(username=username).first()


def load_demo_cases(*, stdout=None) -> dict:
    """Register the demo cases that are missing; return {"cases": n} created. Refuses with
    DemoModeOff unless settings.DEMO_MODE is on; does nothing if the demo township has not
    been loaded."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    station = Organization.objects.filter(kind=OrgKind.POLICE_STATION, name=STATION_NAME).first()
    users = {name: _user(name) for name in ("police", "officer")}
    if station is None or None in users.values():
        return {"cases": 0}
    schools = {
        school.name: school
        for school in Organization.objects.schools().filter(police_station=station)
    }
    now = timezone.now()
    created = 0
    with transaction.atomic():
        for spec in CASES:
            school = schools.get(spec.school)
            if school is None:
                continue
            if SchoolCase.objects.filter(station=station, case_number=spec.case_number).exists():
                continue
            occurred = now - dt.timedelta(days=spec.days_ago)
            registered = occurred + dt.timedelta(hours=2)
            signs = list(
                WarningSign.objects.filter(school=school, description=spec.sign).values_list(
                    "pk", flat=True
                )
                if spec.sign
                else ()
            )
            case = services.case_register(
                actor=users[spec.created_by],
                school=school,
                case_number=spec.case_number,
                title=spec.title,
                category=spec.category,
                description=spec.description,
                occurred_at=occurred,
                officer=users[spec.officer],
                warning_signs=signs,
                now=min(registered, now),
            )
            for status, days_after, note in spec.steps:
                case = services.case_transition(
                    actor=users[spec.officer],
                    case=case,
                    status=status,
                    note=note,
                    now=min(registered + dt.timedelta(days=days_after), now),
                )
            created += 1
    if stdout is not None:
        stdout.write(f"  cases: +{created} school-related cases\n")
    return {"cases": created}
