"""Safety activities and drills for the demo township (issue 8 items 1–2; ADR 0030).

`load_demo_activities()` runs after `load_demo_township()` (and the patrol demo is not
needed). Demo mode only. For the current term (`drills.terms.term_for`; in the holidays the
last term before) at each demo school:

- **weekly evacuation drills** (fire, earthquake, intrusion in turn) from the first week of
  the term to last week, with signal, all-out time and headcounts — except last week at
  大杨树实验幼儿园 and two weeks in the middle of the term at 红星村小学, so that the
  calendar and compliance pages show gaps. These ~90 rows are bulk-created (audited as the
  platform's own import): five schools have no demo login to act as, and the services
  would take several seconds for them;
- **safety-education sessions** per grade, covering every class but one at the
  kindergarten and at 大杨树中心小学; a **staff training** per school (bulk, the same way);
- through the real services, with the clock set to when they happened (audit rows,
  notifications, the alarm timeline are the real ones):
  - at the kindergarten, the drill of two weeks ago was started with a **drill alarm**
    raised by the principal (`alarm_raise(drill=True)`), acknowledged by the station
    commander, attended and resolved by officer 陈伟 — no open alarm is left on the police
    console — and its record links it; one **problem** found in it became a **hazard**;
  - a **legal lecture** by `officer` (陈伟, the kindergarten's legal vice-principal), his
    presence confirmed by recording it; a **parent meeting** the principal recorded with him
    present, which he confirmed;
  - two **planned activities** next week at the kindergarten (a drill and a
    safety-education session for 小一班).

Idempotent: if a demo school has any activity in the term, nothing is done, so changes
made during a demo survive a restart. Everything is fictional.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from huxiao.audit.services import audit_bulk_create
from huxiao.demo.township import SCHOOLS, DemoModeOff
from huxiao.drills import activity_selectors as sel
from huxiao.drills.activity_services import activity_confirm_presence, activity_create
from huxiao.drills.choices import ActivityKind, ActivityStatus, DrillKind
from huxiao.drills.drill_services import (
    drill_link_alarm,
    drill_problem_add,
    drill_problem_to_hazard,
    drill_record_save,
)
from huxiao.drills.models import Activity, DrillRecord
from huxiao.drills.standings import touch
from huxiao.drills.terms import term_for
from huxiao.orgs.models import Organization
from huxiao.people.models import Child, SchoolClass, Staff

USERNAMES = ("principal", "teacher", "officer", "police")
SCENARIOS = (DrillKind.FIRE, DrillKind.EARTHQUAKE, DrillKind.INTRUSION)
ASSEMBLY_POINT = "操场集合点"
DRILL_CONTENT = "按应急疏散预案，各班由班主任带领沿指定路线疏散至操场集合点，清点人数后报告总指挥。"
TOPICS = (
    "防溺水安全教育",
    "交通安全教育",
    "防欺凌与自我保护",
    "消防安全知识",
    "食品安全与卫生",
    "防拐骗安全教育",
)
# The kindergarten's drill of this many weeks ago was started with the drill alarm.
ALARM_WEEKS_AGO = 2
PROBLEM = "大班教室后门外堆放体育器材，疏散时造成拥堵"


@dataclass(frozen=True)
class DrillPlan:
    weekday: int  # 0 Monday … 4 Friday
    time: str
    skip: tuple[int, ...] = ()  # weeks without a drill: -1 last week, 3 the fourth week
    leave_out_class: bool = False  # one class without a safety-education session


PLANS = {
    "kg": DrillPlan(2, "10:00", skip=(-1,), leave_out_class=True),
    "primary": DrillPlan(1, "10:30", leave_out_class=True),
    "middle": DrillPlan(3, "15:40"),
    "private_kg": DrillPlan(2, "09:30"),
    "primary2": DrillPlan(4, "10:00"),
    "village": DrillPlan(1, "09:40", skip=(3, 4)),
    "far": DrillPlan(3, "10:10"),
}


def _at(day: dt.date, time: str) -> dt.datetime:
    hour, minute = (int(part) for part in time.split(":"))
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _in_break(term, day: dt.date) -> bool:
    return any(
        dt.date.fromisoformat(first) <= day <= dt.date.fromisoformat(last)
        for first, last in (term.breaks or [])
    )


def _school_day(term, day: dt.date, last: dt.date, *, same_week: bool = True) -> dt.date | None:
    """`day`, or the next weekday (of its week, or of the next two weeks) in the term, not
    in a break, and not after `last`."""
    monday = day - dt.timedelta(days=day.weekday())
    end = monday + dt.timedelta(days=4) if same_week else day + dt.timedelta(days=14)
    while day <= min(end, last):
        if day.weekday() < 5 and term.starts_on <= day <= term.ends_on and not _in_break(term, day):
            return day
        day += dt.timedelta(days=1)
    return None


def current_term(region_id: int, today: dt.date):
    """The term containing today; in the holidays, the last one before."""
    day = today
    for _ in range(200):
        term = term_for(region_id, day)
        if term is not None:
            return term
        day -= dt.timedelta(days=1)
    return None


def drill_weeks(term, today: dt.date) -> list[dt.date]:
    """The Mondays from the term's first week to last week (or the term's last week)."""
    first = term.starts_on - dt.timedelta(days=term.starts_on.weekday())
    this_week = today - dt.timedelta(days=today.weekday())
    last = min(this_week - dt.timedelta(days=7), term.ends_on)
    weeks = []
    while first <= last:
        weeks.append(first)
        first += dt.timedelta(days=7)
    return weeks


class _Loader:
    def __init__(self, now: dt.datetime, term, schools: dict, users: dict):
        self.now = now
        self.today = timezone.localtime(now).date()
        self.term = term
        self.schools = schools
        self.users = users
        self.created = {"activities": 0, "drills": 0, "alarms": 0, "hazards": 0}
        self.weeks = drill_weeks(term, self.today)
        self.last_day = min(self.today - dt.timedelta(days=1), term.ends_on)

    # ---------------------------------------------------------------- bulk background

    def weekly_drills(self) -> None:
        activities, records = [], []
        for key, school in self.schools.items():
            plan = PLANS[key]
            skipped = {index % len(self.weeks) for index in plan.skip} if self.weeks else set()
            if key == "kg" and len(self.weeks) >= ALARM_WEEKS_AGO + 1:
                skipped.add(len(self.weeks) - ALARM_WEEKS_AGO)  # made through the services
            for index, monday in enumerate(self.weeks):
                day = _school_day(
                    self.term, monday + dt.timedelta(days=plan.weekday), self.last_day
                )
                if index in skipped or day is None:
                    continue
                activity, record = self._drill(school, key, index, day, plan)
                activities.append(activity)
                records.append(record)
        made = Activity.objects.bulk_create(activities)
        touch({a.school_id for a in made})  # bulk writes send no signals
        for activity, record in zip(made, records, strict=True):
            record.activity = activity
        DrillRecord.objects.bulk_create(records)
        audit_bulk_create(actor=None, objs=made)
        audit_bulk_create(actor=None, objs=records)
        self.created["activities"] += len(made)
        self.created["drills"] += len(records)

    def _drill(self, school, key: str, index: int, day: dt.date, plan: DrillPlan):
        rng = random.Random(f"{key}-{day.isoformat()}")
        scenario = SCENARIOS[index % len(SCENARIOS)]
        signal = _at(day, plan.time)
        seconds = rng.randint(95, 250)
        expected = school.enrolment
        short = 1 if rng.random() < 0.15 else 0
        activity = Activity(
            school=school,
            kind=ActivityKind.DRILL,
            drill_kind=scenario,
            status=ActivityStatus.HELD,
            title=sel.default_title(ActivityKind.DRILL, scenario),
            date=day,
            starts_at=signal,
            ends_at=signal + dt.timedelta(minutes=20),
            location=ASSEMBLY_POINT,
            organiser_name="安全办",
            whole_school=True,
            headcount=expected,
            content=DRILL_CONTENT,
            outcome=f"疏散有序，全员撤离用时{seconds // 60}分{seconds % 60}秒。",
        )
        record = DrillRecord(
            signal_at=signal,
            all_out_at=signal + dt.timedelta(seconds=seconds),
            expected_headcount=expected,
            counted_headcount=expected - short,
            missing_resolved=bool(short),
            missing_note="1名学生如厕未及时归队，已由值班教师找到带回。" if short else "",
        )
        return activity, record

    def sessions_and_trainings(self) -> None:
        activities, links = [], []
        for offset, (key, school) in enumerate(self.schools.items()):
            classes = list(SchoolClass.objects.filter(school=school).order_by("grade", "name"))
            if PLANS[key].leave_out_class and classes:
                classes = classes[:-1]
            grades: dict[str, list] = {}
            for cls in classes:
                grades.setdefault(cls.grade, []).append(cls)
            for number, (grade, members) in enumerate(grades.items()):
                day = self._day_after(10 + 7 * number + offset)
                if day is None:
                    continue
                topic = TOPICS[(number + offset) % len(TOPICS)]
                activity = self._held(
                    school,
                    ActivityKind.SAFETY_EDUCATION,
                    day,
                    "14:30",
                    title=f"安全教育课：{topic}",
                    headcount=Child.objects.filter(
                        school_class__in=members, is_active=True
                    ).count(),
                    content=f"{grade}各班{topic}，结合案例讲解与情景演练。",
                )
                activities.append(activity)
                links.append(members)
            day = self._day_after(14 + offset)
            if day is not None:
                activities.append(
                    self._held(
                        school,
                        ActivityKind.STAFF_TRAINING,
                        day,
                        "16:00",
                        title="教职工安全培训：应急处置与疏散引导",
                        headcount=Staff.objects.filter(school=school, is_active=True).count(),
                        content="学习应急预案分工、疏散引导口令与防暴器械使用。",
                    )
                )
                links.append([])
        made = Activity.objects.bulk_create(activities)
        through = Activity.classes.through
        through.objects.bulk_create(
            [
                through(activity_id=activity.pk, schoolclass_id=cls.pk)
                for activity, members in zip(made, links, strict=True)
                for cls in members
            ]
        )
        audit_bulk_create(actor=None, objs=made)
        touch({a.school_id for a in made})  # bulk writes send no signals
        self.created["activities"] += len(made)

    def _day_after(self, days: int) -> dt.date | None:
        return _school_day(
            self.term,
            self.term.starts_on + dt.timedelta(days=days),
            self.last_day,
            same_week=False,
        )

    def _held(self, school, kind, day, time, **fields) -> Activity:
        starts = _at(day, time)
        return Activity(
            school=school,
            kind=kind,
            status=ActivityStatus.HELD,
            date=day,
            starts_at=starts,
            ends_at=starts + dt.timedelta(minutes=40),
            location="多功能厅",
            organiser_name="安全办",
            **fields,
        )

    # ---------------------------------------------------------------- through the services

    def alarm_drill(self) -> None:
        """The kindergarten's drill started with the drill alarm, and its problem."""
        from huxiao.alarms.choices import AlarmKind, AlarmSource
        from huxiao.alarms.services import (
            alarm_acknowledge,
            alarm_arrive,
            alarm_raise,
            alarm_resolve,
        )

        if len(self.weeks) < ALARM_WEEKS_AGO + 1:
            return
        kg, principal = self.schools["kg"], self.users["principal"]
        monday = self.weeks[len(self.weeks) - ALARM_WEEKS_AGO]
        day = _school_day(self.term, monday + dt.timedelta(days=PLANS["kg"].weekday), self.last_day)
        if day is None:
            return
        signal = _at(day, PLANS["kg"].time)
        activity = activity_create(
            actor=principal,
            school_id=kg.pk,
            status=ActivityStatus.HELD,
            kind=ActivityKind.DRILL,
            drill_kind=DrillKind.FIRE,
            starts_at=signal,
            ends_at=signal + dt.timedelta(minutes=25),
            location=ASSEMBLY_POINT,
            organiser_name="刘芳",
            whole_school=True,
            headcount=kg.enrolment,
            content="厨房模拟起火，按下一键报警（演练），各班疏散至操场；法制副校长陈伟到园指导。",
            outcome="报警后派出所28秒确认，民警7分钟到园；疏散有序。",
            now=signal + dt.timedelta(minutes=30),
        )
        alarm, _created = alarm_raise(
            actor=principal,
            school=kg,
            kind=AlarmKind.FIRE,
            location="幼儿园厨房（模拟起火点）",
            note="消防疏散演练，演练警报",
            drill=True,
            source=AlarmSource.BUTTON,
            now=signal,
        )
        alarm_acknowledge(
            actor=self.users["police"], alarm=alarm, now=signal + dt.timedelta(seconds=28)
        )
        alarm_arrive(actor=self.users["officer"], alarm=alarm, now=signal + dt.timedelta(minutes=7))
        alarm_resolve(
            actor=self.users["officer"],
            alarm=alarm,
            outcome="演练警报，演练结束，疏散有序。",
            now=signal + dt.timedelta(minutes=25),
        )
        drill_link_alarm(actor=principal, activity_id=activity.pk, alarm_id=alarm.pk)
        drill_record_save(
            actor=principal,
            activity_id=activity.pk,
            all_out_at=signal + dt.timedelta(minutes=2, seconds=48),
            expected_headcount=kg.enrolment,
            counted_headcount=kg.enrolment,
            now=self.now,
        )
        problem = drill_problem_add(actor=principal, activity_id=activity.pk, description=PROBLEM)
        drill_problem_to_hazard(
            actor=principal,
            problem_id=problem.pk,
            category="physical",
            level="general",
            deadline=self.today + dt.timedelta(days=10),
            now=signal + dt.timedelta(hours=2),
        )
        self.created["activities"] += 1
        self.created["drills"] += 1
        self.created["alarms"] += 1
        self.created["hazards"] += 1

    def officer_activities(self) -> None:
        """A legal lecture by 陈伟 and a parent meeting he attended, both confirmed."""
        kg, officer = self.schools["kg"], self.users["officer"]
        big = list(SchoolClass.objects.filter(school=kg, grade="大班").order_by("name"))
        lecture_day = self._day_after(24)
        if lecture_day is not None:
            starts = _at(lecture_day, "15:00")
            activity_create(
                actor=officer,
                school_id=kg.pk,
                status=ActivityStatus.HELD,
                kind=ActivityKind.LEGAL_LECTURE,
                title="法治教育讲座：认识警察叔叔，学会求助",
                starts_at=starts,
                ends_at=starts + dt.timedelta(minutes=40),
                location="多功能厅",
                organiser_name="陈伟",
                classes=[c.pk for c in big],
                headcount=Child.objects.filter(school_class__in=big, is_active=True).count(),
                content="讲解110报警方法、遇到陌生人怎么办、不跟陌生人走。",
                now=starts + dt.timedelta(minutes=45),
            )
            self.created["activities"] += 1
        meeting_day = self._day_after(38)
        if meeting_day is not None:
            starts = _at(meeting_day, "16:30")
            meeting = activity_create(
                actor=self.users["principal"],
                school_id=kg.pk,
                status=ActivityStatus.HELD,
                kind=ActivityKind.PARENT_MEETING,
                title="家长会：幼儿接送安全与家园共育",
                starts_at=starts,
                ends_at=starts + dt.timedelta(minutes=60),
                location="多功能厅",
                organiser_name="刘芳",
                whole_school=True,
                headcount=min(kg.enrolment, 200),
                police_officer=officer.pk,
                content="通报接送卡使用与门卫核验制度；法制副校长讲解接送安全和防拐骗。",
                now=starts + dt.timedelta(minutes=70),
            )
            activity_confirm_presence(
                actor=officer, activity_id=meeting.pk, now=starts + dt.timedelta(hours=3)
            )
            self.created["activities"] += 1

    def planned_next_week(self) -> None:
        kg = self.schools["kg"]
        monday = self.today - dt.timedelta(days=self.today.weekday()) + dt.timedelta(days=7)
        activity_create(
            actor=self.users["principal"],
            school_id=kg.pk,
            status=ActivityStatus.PLANNED,
            kind=ActivityKind.DRILL,
            drill_kind=DrillKind.EARTHQUAKE,
            starts_at=_at(monday + dt.timedelta(days=PLANS["kg"].weekday), PLANS["kg"].time),
            location=ASSEMBLY_POINT,
            organiser_name="刘芳",
            whole_school=True,
            now=self.now,
        )
        first_class = SchoolClass.objects.filter(school=kg, name="小一班").first()
        activity_create(
            actor=self.users["teacher"],
            school_id=kg.pk,
            status=ActivityStatus.PLANNED,
            kind=ActivityKind.SAFETY_EDUCATION,
            title="安全教育课：冬季防寒与用电安全",
            starts_at=_at(monday + dt.timedelta(days=3), "09:30"),
            location="小一班教室",
            organiser_name="李静",
            classes=[first_class.pk] if first_class else [],
            now=self.now,
        )
        self.created["activities"] += 2


def load_demo_activities(stdout=None, *, now: dt.datetime | None = None) -> dict:
    """Make the term's activities and drills; return what was created."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    empty = {"activities": 0, "drills": 0, "alarms": 0, "hazards": 0}
    by_name = {
        o.name: o for o in Organization.objects.schools().filter(name__in=[s.name for s in SCHOOLS])
    }
    schools = {s.key: by_name[s.name] for s in SCHOOLS if s.name in by_name}
    users = {
        u.username: u
        for u in get_user_model().objects.filter(username__in=USERNAMES, is_active=True)
    }
    if len(schools) < len(SCHOOLS) or len(users) < len(USERNAMES):
        return empty
    now = now or timezone.now()
    term = current_term(schools["kg"].region_id, timezone.localtime(now).date())
    if term is None:
        return empty
    if Activity.objects.filter(school__in=schools.values(), date__gte=term.starts_on).exists():
        return empty
    loader = _Loader(now, term, schools, users)
    with transaction.atomic():
        loader.weekly_drills()
        loader.sessions_and_trainings()
        loader.officer_activities()
        loader.alarm_drill()
        loader.planned_next_week()
    if stdout is not None:
        created = loader.created
        stdout.write(
            f"  activities: +{created['activities']} activities ({created['drills']} timed "
            f"drills, {created['alarms']} drill alarm, {created['hazards']} hazard) in "
            f"{term.name}\n"
        )
    return loader.created
