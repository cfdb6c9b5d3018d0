"""Security records of the demo township's guards (issue 7 item 1; ADR 0028 "Personnel").

`load_demo_personnel()` runs after `load_demo_township()`, whose staff it completes: the
township already has, per school, two guards and a security officer (and two dormitory
managers at the boarding 大杨树镇中学), each guard with a 保安员证 in the staff records.
Demo mode only. Everything goes through the real services as the school's principal, with
today's date, so audit rows and compliance evaluations are the real ones.

What a visitor finds (T is today) under /security/schools/<id>/personnel/:

- **大杨树实验幼儿园** (`principal`): both guards (one is `guard`, 张国强) full-time, employed
  by the school, certified (the licences of the staff records), filed with the police,
  background-checked, trained this year; the security officer trained too — all in order;
- **大杨树中心小学** (`principal2`): two guards from 示范县保安服务有限公司, certified and
  filed; one has had no training for over a year (badge and reminder);
- **大杨树镇中学** (`middle.principal`, boarding, about 360 pupils): one full-time guard and
  one part-time guard from the security company — too few full-time guards for a boarding
  school; both dormitory managers recorded and trained;
- **阳光幼儿园** (`sunshine.principal`): the guard whose licence runs out in three weeks
  (the township's expiring licence) and a guard whose certificate in the security record
  expired last month, background check still pending; neither filed with the police.

大杨树第二小学, 红星村小学 and 柳河镇中心小学 have no principal login in the demo, so their
guards have no security record yet (the page says so; compliance reports what is missing).

Idempotent: a school whose security staff already has a record is left alone, so changes
made during a demo survive a restart. Everything is fictional.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from huxiao.demo.township import REGION_CODE, DemoModeOff
from huxiao.orgs.models import Organization
from huxiao.people.choices import StaffRole
from huxiao.people.models import Certificate, Staff
from huxiao.security import personnel_services as services
from huxiao.security.choices import Employer, Employment
from huxiao.security.models import GuardProfile
from huxiao.security.personnel_selectors import SECURITY_POSTS

KINDERGARTEN = "大杨树实验幼儿园"
PRIMARY = "大杨树中心小学"
MIDDLE = "大杨树镇中学"
PRIVATE_KG = "阳光幼儿园"
# school → the username of its principal (a township demo login)
PRINCIPALS = {
    KINDERGARTEN: "principal",
    PRIMARY: "principal2",
    MIDDLE: "middle.principal",
    PRIVATE_KG: "sunshine.principal",
}
COMPANY = "示范县保安服务有限公司"
POLICE_TRAINING = "示范县公安局治安大队"
STATION = "大杨树派出所"

# Trainings: (days before today, topic, hours, given by).
REFRESHER = (60, "保安员年度复训（法律法规、职业道德、岗位技能）", "8", POLICE_TRAINING)
DRILL = (20, "防暴器械使用与校园突发事件应急处置演练", "2", STATION)
OFFICER_COURSE = (35, "学校安保干部业务培训", "6", "示范县教育和体育局")
DORM_COURSE = (45, "寄宿生宿舍安全管理与夜间巡查培训", "4", "示范县教育和体育局")
OLD_REFRESHER = (430, "保安员年度复训（法律法规、职业道德、岗位技能）", "8", POLICE_TRAINING)


def _licence(staff: Staff) -> dict:
    """The guard licence of the staff records, as the security record's certificate."""
    certificate = (
        Certificate.objects.filter(staff=staff, kind__contains="保安")
        .order_by("-expires_on", "-id")
        .first()
    )
    if certificate is None:
        return {}
    return {
        "certificate_number": certificate.number,
        "certificate_issued_on": certificate.issued_on,
        "certificate_expires_on": certificate.expires_on,
    }


class _Plan:
    """Records for one school, written as its principal on `today`."""

    def __init__(self, actor, school, today: dt.date):
        self.actor, self.school, self.today = actor, school, today
        staff = Staff.objects.filter(
            school=school, role__in=SECURITY_POSTS, is_active=True
        ).order_by("pk")
        self.guards = [s for s in staff if s.role == StaffRole.GUARD]
        self.officers = [s for s in staff if s.role == StaffRole.SECURITY_OFFICER]
        self.dorm = [s for s in staff if s.role == StaffRole.DORMITORY_MANAGER]

    def day(self, days_ago: int) -> dt.date:
        return self.today - dt.timedelta(days=days_ago)

    def record(self, staff, *, filed_days_ago=None, hired_days_ago=900, **fields):
        fields.setdefault("employment", Employment.FULL_TIME)
        fields.setdefault("employer", Employer.SCHOOL)
        fields["hired_on"] = self.day(hired_days_ago)
        if filed_days_ago is not None:
            fields["filed_with_police"] = True
            fields["filed_on"] = self.day(filed_days_ago)
        services.guard_update(actor=self.actor, staff=staff, today=self.today, **fields)

    def train(self, staff, *courses):
        for days_ago, topic, hours, provider in courses:
            services.training_add(
                actor=self.actor,
                staff=staff,
                held_on=self.day(days_ago),
                topic=topic,
                hours=hours,
                provider=provider,
                today=self.today,
            )


def _kindergarten(plan: _Plan) -> None:
    for index, guard in enumerate(plan.guards):
        plan.record(guard, filed_days_ago=700 - index * 30, **_licence(guard))
        plan.train(guard, REFRESHER, DRILL)
    for officer in plan.officers:
        plan.record(officer, hired_days_ago=1500)
        plan.train(officer, OFFICER_COURSE, DRILL)


def _primary(plan: _Plan) -> None:
    for index, guard in enumerate(plan.guards):
        plan.record(
            guard,
            employer=Employer.SECURITY_COMPANY,
            security_company=COMPANY,
            filed_days_ago=400,
            hired_days_ago=420,
            notes="由保安服务公司派驻，合同一年一签。",
            **_licence(guard),
        )
        plan.train(guard, OLD_REFRESHER if index == 1 else REFRESHER)
    for officer in plan.officers:
        plan.record(officer, hired_days_ago=2000)
        plan.train(officer, OFFICER_COURSE)


def _middle(plan: _Plan) -> None:
    for index, guard in enumerate(plan.guards):
        if index == 0:
            plan.record(guard, filed_days_ago=500, hired_days_ago=1200, **_licence(guard))
        else:
            plan.record(
                guard,
                employment=Employment.PART_TIME,
                employer=Employer.SECURITY_COMPANY,
                security_company=COMPANY,
                filed_days_ago=150,
                hired_days_ago=160,
                notes="兼职，仅夜间值守。",
                **_licence(guard),
            )
        plan.train(guard, REFRESHER)
    for officer in plan.officers:
        plan.record(officer, hired_days_ago=2500)
        plan.train(officer, OFFICER_COURSE)
    for manager in plan.dorm:
        plan.record(manager, hired_days_ago=800)
        plan.train(manager, DORM_COURSE)


def _sunshine(plan: _Plan) -> None:
    for index, guard in enumerate(plan.guards):
        if index == 0:
            # The township's licence that runs out within 30 days; not filed yet.
            plan.record(guard, hired_days_ago=300, **_licence(guard))
        else:
            # The security record still holds the old licence, which expired last month.
            expired = plan.day(40)
            plan.record(
                guard,
                hired_days_ago=2200,
                certificate_number=f"冀公保{guard.pk % 10**8:08d}",
                certificate_issued_on=expired - dt.timedelta(days=3 * 365),
                certificate_expires_on=expired,
                notes="保安员证已过期，需复审换证后报派出所备案。",
            )
        plan.train(guard, REFRESHER)
    for officer in plan.officers:
        plan.record(officer, hired_days_ago=600)
        plan.train(officer, OFFICER_COURSE)


SCHOOL_PLANS = {
    KINDERGARTEN: _kindergarten,
    PRIMARY: _primary,
    MIDDLE: _middle,
    PRIVATE_KG: _sunshine,
}


def load_demo_personnel(stdout=None, *, today: dt.date | None = None) -> dict:
    """Create the security records of the demo schools that have none; return
    {"schools": n, "records": n, "trainings": n} written by this run.

    Refuses with DemoModeOff unless settings.DEMO_MODE is on; does nothing without the demo
    township."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    today = today or timezone.localdate()
    created = {"schools": 0, "records": 0, "trainings": 0}
    schools = {
        s.name: s
        for s in Organization.objects.schools().filter(
            region__code=REGION_CODE, name__in=list(SCHOOL_PLANS), is_active=True
        )
    }
    users = {
        u.username: u
        for u in get_user_model().objects.filter(
            username__in=list(PRINCIPALS.values()), is_active=True
        )
    }
    from huxiao.security.models import TrainingRecord

    for name, build in SCHOOL_PLANS.items():
        school, actor = schools.get(name), users.get(PRINCIPALS[name])
        if school is None or actor is None:
            continue
        if GuardProfile.objects.filter(staff__school=school).exists():
            continue
        records = GuardProfile.objects.count()
        trainings = TrainingRecord.objects.count()
        with transaction.atomic():
            build(_Plan(actor, school, today))
        created["schools"] += 1
        created["records"] += GuardProfile.objects.count() - records
        created["trainings"] += TrainingRecord.objects.count() - trainings
        if stdout is not None:
            stdout.write(f"  {name}: security records of its guards and security staff\n")
    return created
