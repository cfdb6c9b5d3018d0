"""The response to the demo township's suspected case, and a month of routine disinfection
(issue 9 items 7–10; ADR 0032 "Response").

`load_demo_response()` needs 大杨树实验幼儿园 and the logins `principal` and `teacher`;
`nurse` (the kindergarten's 保健医) and `health` (the health centre) are used when present,
else the principal stands in. Everything goes through the real services with a clock
(`now=`), so rules, steps, audit rows and notifications are the real ones.

What a visitor finds:
- the disinfection log of the last 30 days: the classrooms after school on most school days
  (小一班's by its head teacher 李静, `teacher`; the others by the 保健医 with the name of the
  class's carer), the canteen after lunch and the school buses in the evening;
- on the demo case (`case_demo.demo_case()`, when the case demo has run): the emergency
  disinfection of the observation room and of 小一班's classroom the morning of the report;
  the next school day, after the confirmation, 小一班 suspended by the principal for seven
  days from the following school day with the health centre's and the central school's
  assessments; an official statement; four aftercare tasks (the psychological support one
  done, with its notes); the class's monitoring plan (twice a day for 14 days).

Idempotent: the routine log is written when the kindergarten has no routine record in the
30 days; the case's part when the case has no emergency disinfection. A second run adds
nothing. Everything is fictional.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from huxiao.demo.township import DemoModeOff
from huxiao.health import response_services as services
from huxiao.health.choices import DisinfectionArea, DisinfectionKind
from huxiao.health.models import Disinfection, HealthCase
from huxiao.orgs.models import Organization
from huxiao.people.models import SchoolClass

KINDERGARTEN = "大杨树实验幼儿园"
DAYS = 30
# Every so many (class, day) pairs, a classroom's disinfection is not recorded.
SKIP_EVERY = 6
USERNAMES = ("principal", "teacher", "nurse", "health")
ISOLATION_ROOM = "保健室观察室"
HEALTH_CENTRE_OPINION = (
    "大杨树卫生院（会同县疾控中心）：小一班确诊手足口病1例，班内另有2名幼儿有可疑症状，"
    "建议小一班停课7天，停课期间教室、玩具每日消毒，复课前评估。"
)
EDUCATION_OFFICE_OPINION = (
    "大杨树镇中心校：同意小一班停课7天，做好家长告知与停课期间随访，复课由卫生院评估后报中心校。"
)
STATEMENT = (
    "我园小一班一名幼儿经县疾控中心确诊为手足口病，已在卫生院治疗，情况稳定。"
    "园方已按规定隔离、消毒，经卫生院与镇中心校评估，小一班自%(first)s起停课7天，"
    "其他班级正常上课。请家长每日关注孩子体温和手、口部皮疹，如有异常及时就医并告知班主任。"
    "有关情况以本园及上级部门发布的信息为准。"
)
TASKS = (
    # kind, description, assignee, due in school days after the decision, done with notes
    ("supplies", "为居家观察幼儿家庭准备体温计、口罩和消毒用品", "nurse", 1, ""),
    (
        "psychological",
        "对小一班幼儿及家长进行心理疏导，解答家长疑问",
        "teacher",
        1,
        "已在班级家长群和电话中逐一沟通，说明停课安排与居家观察要点；"
        "两位家长较焦虑，已单独通话安抚，情绪稳定。",
    ),
    ("reception", "接待、安抚患儿家长，转达园方慰问", "principal", 1, ""),
    ("follow_up", "每日电话随访患儿病情直至痊愈返园", "teacher", 7, ""),
)


def _school_days(today: dt.date, count: int) -> list[dt.date]:
    """School days (Monday–Friday) among the `count` days up to today, oldest first."""
    days = [today - dt.timedelta(days=n) for n in range(count - 1, -1, -1)]
    return [d for d in days if d.weekday() < 5]


def _next_school_day(day: dt.date) -> dt.date:
    day += dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def _at(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def load_demo_response(stdout=None, *, today: dt.date | None = None) -> dict:
    """Write the demo's routine disinfection and the response to its case; return what was
    created."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    created = {
        "disinfections": 0,
        "emergency": 0,
        "suspensions": 0,
        "statements": 0,
        "tasks": 0,
        "plans": 0,
    }
    school = Organization.objects.schools().filter(name=KINDERGARTEN).first()
    users = {
        u.username: u
        for u in get_user_model().objects.filter(username__in=USERNAMES, is_active=True)
    }
    if school is None or "principal" not in users or "teacher" not in users:
        return created
    users.setdefault("nurse", users["principal"])
    now = timezone.now()
    today = today or timezone.localdate(now)
    with transaction.atomic():
        created["disinfections"] = _routine(school, users, today, now)
        case = _demo_case()
        if case is not None and case.school_id == school.pk:
            created.update(_case_response(case, users, now))
    if stdout is not None:
        stdout.write(
            "  health response: {disinfections} routine disinfections, {emergency} emergency, "
            "{suspensions} suspension, {statements} statement, {tasks} aftercare tasks\n".format(
                **created
            )
        )
    return created


def _demo_case() -> HealthCase | None:
    try:
        from huxiao.health.case_demo import demo_case
    except ImportError:  # the case area's demo is not there: nothing to respond to
        return None
    return demo_case()


# ------------------------------------------------------------------ routine


def _carers(school) -> dict[int, str]:
    """Who disinfects each classroom: the class's head teacher (by name), else a carer."""
    names = {}
    for school_class in SchoolClass.objects.filter(school=school).select_related("head_teacher"):
        teacher = school_class.head_teacher
        names[school_class.pk] = teacher.name if teacher is not None else "保育员"
    return names


def _buses(school) -> list[str]:
    try:
        from huxiao.transport.models import Bus
    except ImportError:
        return []
    return list(
        Bus.objects.filter(school=school, is_active=True)
        .order_by("plate")
        .values_list("plate", flat=True)
    )


def _routine(school, users, today: dt.date, now: dt.datetime) -> int:
    days = _school_days(today, DAYS)
    if not days:
        return 0
    start = _at(days[0], 0, 0)
    if Disinfection.objects.filter(
        school=school, kind=DisinfectionKind.ROUTINE, done_at__gte=start
    ).exists():
        return 0
    classes = list(SchoolClass.objects.filter(school=school).order_by("grade", "name", "pk"))
    carers = _carers(school)
    buses = _buses(school) or ["校车"]
    teacher = users["teacher"]
    count = 0

    def record(actor, done_at, **fields):
        nonlocal count
        if done_at > now:
            return
        services.disinfection_record(
            actor=actor,
            school_id=school.pk,
            done_at=done_at,
            now=done_at + dt.timedelta(minutes=2),
            **fields,
        )
        count += 1

    for day_index, day in enumerate(days):
        record(
            users["nurse"],
            _at(day, 13, 10),
            area=DisinfectionArea.CANTEEN,
            area_detail="幼儿餐厅",
            method="餐桌擦拭，餐具蒸汽消毒30分钟",
            agent="含氯消毒液 250mg/L",
            done_by_name="食堂 赵桂芝",
        )
        for class_index, school_class in enumerate(classes):
            if (day_index * len(classes) + class_index) % SKIP_EVERY == SKIP_EVERY - 1:
                continue
            is_teachers = school_class.name == "小一班"
            record(
                teacher if is_teachers else users["nurse"],
                _at(day, 16, 20 + class_index % 4 * 5),
                area=DisinfectionArea.CLASSROOM,
                area_detail=f"{school_class.name}教室",
                method="桌面、门把手、玩具擦拭，开窗通风30分钟",
                agent="含氯消毒液 500mg/L",
                done_by_name=carers.get(school_class.pk, "保育员"),
            )
        for bus_index, plate in enumerate(buses):
            record(
                users["nurse"],
                _at(day, 17, 50 + bus_index * 3),
                area=DisinfectionArea.BUS,
                area_detail=plate,
                method="座椅、扶手擦拭，车厢通风",
                agent="75%酒精",
                done_by_name="校车安全员",
            )
    return count


# ------------------------------------------------------------------ the case


def _case_response(case: HealthCase, users, now: dt.datetime) -> dict:
    created = {"emergency": 0, "suspensions": 0, "statements": 0, "tasks": 0, "plans": 0}
    if case.disinfections.filter(kind=DisinfectionKind.EMERGENCY).exists():
        return created
    principal, nurse = users["principal"], users["nurse"]
    manager = users.get("health") or nurse
    report_day = timezone.localdate(case.reported_at)
    decided_day = _next_school_day(report_day)
    first = _next_school_day(decided_day)

    def at(day, hour, minute):
        return min(_at(day, hour, minute), now)

    for area, detail, moment in (
        (DisinfectionArea.CLASSROOM, f"{case.school_class.name}教室", at(report_day, 9, 10)),
        (DisinfectionArea.ISOLATION, ISOLATION_ROOM, at(report_day, 10, 20)),
    ):
        services.disinfection_record(
            actor=nurse,
            school_id=case.school_id,
            case_id=case.pk,
            area=area,
            area_detail=detail,
            method="终末消毒：物表擦拭、地面拖洗，空气紫外线照射60分钟",
            agent="含氯消毒液 1000mg/L",
            done_by_name="郭秀兰（保健医）",
            done_at=moment,
            now=moment + dt.timedelta(minutes=5),
        )
        created["emergency"] += 1
    decided_at = at(decided_day, 16, 0)
    services.suspension_decide(
        actor=principal,
        school_id=case.school_id,
        scope="class",
        school_class_id=case.school_class_id,
        starts_on=first,
        ends_on=first + dt.timedelta(days=6),
        reason="小一班一名幼儿确诊手足口病，另有2名幼儿可疑症状",
        health_centre_opinion=HEALTH_CENTRE_OPINION,
        education_office_opinion=EDUCATION_OFFICE_OPINION,
        case_id=case.pk,
        now=decided_at,
    )
    created["suspensions"] = 1
    published_at = at(decided_day, 16, 30)
    services.statement_publish(
        actor=principal,
        school_id=case.school_id,
        case_id=case.pk,
        text=STATEMENT % {"first": f"{first.month}月{first.day}日"},
        published_at=published_at,
        approved_by="刘芳（园长），经大杨树镇中心校同意",
        now=published_at + dt.timedelta(minutes=1),
    )
    created["statements"] = 1
    created_at = at(decided_day, 16, 45)
    for kind, description, who, due_days, notes in TASKS:
        due = decided_day
        for _n in range(due_days):
            due = _next_school_day(due)
        task = services.aftercare_create(
            actor=manager if kind == "follow_up" else nurse,
            case_id=case.pk,
            kind=kind,
            description=description,
            assignee_id=users.get(who, principal).pk,
            due_on=due,
            now=created_at,
        )
        created["tasks"] += 1
        if notes:
            services.aftercare_done(
                actor=users.get(who, principal),
                task_id=task.pk,
                note=notes,
                now=at(decided_day, 18, 30),
            )
    before = case.monitoring_plans.count()
    services.monitoring_plan_for_case(actor=principal, case=case, today=report_day)
    created["plans"] = case.monitoring_plans.count() - before
    return created
