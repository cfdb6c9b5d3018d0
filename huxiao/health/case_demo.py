"""The demo township's suspected case (issue 9 items 5–6; ADR 0032 "Case").

`load_demo_case()` takes one child of 大杨树实验幼儿园 through every step of the procedure
the case area owns, through the real services with a clock (`now=`), so the audit rows,
notifications and contacts are the real ones. Run it after the check demo: the child is the
check demo's (`check_demo.demo_case_child()`: `DEMO_CASE_CHILD_NAME` of 小一班, found with
fever and a cough at the latest morning check, `demo_case_check()`), and the contacts come
from the attendance, checks and seats the check demo wrote. Without the check demo: the
first child by name of 小一班, two school days before today at 08:00.

From that morning check on: the head teacher 李静 (`teacher`) reports a suspected influenza
(notifiable); the duty leader (the kindergarten's first duty-leader login, else the
principal) verifies; the health staff (`nurse`, else the principal) isolates the child in
the observation room; the principal 刘芳 (`principal`) starts the procedure, staffs the six
groups from the kindergarten's staff, moves the class, tells the parents, reports to the
central school and the health centre; 郑晓梅 of the health centre (`health`) takes the child
to the health centre and traces the contacts; the principal tells their families; in the
afternoon `health` records the outcome (confirmed). A case found this morning has its
procedure compressed into the time since. The case stays open: the response demo adds its
disinfection, assessment and aftercare to it (`demo_case()`), and the visitor may close it.

Idempotent: once the child has a case, nothing is done. Demo mode only; fictional people.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from huxiao.core.roles import Role
from huxiao.demo.township import DemoModeOff
from huxiao.health import case_services as services
from huxiao.health.choices import ResponseGroupKind, Step
from huxiao.health.models import ChildCheck, HealthCase
from huxiao.orgs.models import Membership, Organization
from huxiao.people.models import Child, Staff
from huxiao.people.validation import clean_phone

KINDERGARTEN = "大杨树实验幼儿园"
CLASS_NAME = "小一班"
USERNAMES = ("principal", "teacher", "health")
DISEASE = "流行性感冒"
DIAGNOSIS = "流行性感冒（甲型，抗原检测阳性）"
# From the morning check to the outcome in the afternoon.
SPAN = dt.timedelta(hours=7)


def _check_demo():
    try:
        from huxiao.health import check_demo
    except ImportError:  # the check area's demo is not there: fall back to 小一班
        return None
    return check_demo


def demo_child() -> Child | None:
    """The check demo's case child (`check_demo.demo_case_child`), else the first child by
    name of 小一班."""
    check_demo = _check_demo()
    if check_demo is not None and hasattr(check_demo, "demo_case_child"):
        return check_demo.demo_case_child()
    school = Organization.objects.schools().filter(name=KINDERGARTEN).first()
    if school is None:
        return None
    return (
        Child.objects.filter(school=school, school_class__name=CLASS_NAME, is_active=True)
        .order_by("name", "pk")
        .first()
    )


def _found_by_check(child: Child) -> ChildCheck | None:
    """The morning check that found the child (the check demo's), if any."""
    check_demo = _check_demo()
    if check_demo is not None and hasattr(check_demo, "demo_case_check"):
        found = check_demo.demo_case_check()
        if found is not None and found.child_id == child.pk:
            return found
    return None


def demo_case() -> HealthCase | None:
    """The demo's suspected case (the response demo adds its records to it)."""
    child = demo_child()
    if child is None:
        return None
    return HealthCase.objects.filter(child=child).order_by("reported_at", "pk").first()


def _school_days_before(today: dt.date, count: int) -> dt.date:
    day = today
    while count:
        day -= dt.timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def _at(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _member_of(school, role) -> object | None:
    m = (
        Membership.objects.filter(
            organization=school, role=role, is_active=True, user__is_active=True
        )
        .select_related("user")
        .order_by("user__username")
        .first()
    )
    return m.user if m else None


def _groups(school, principal) -> list[dict]:
    """The six groups staffed from the kindergarten's staff: the principal leads the
    coordination group; each other group is led by a member of staff (their login when
    they have one)."""
    staff = list(Staff.objects.filter(school=school, is_active=True).order_by("role", "name", "pk"))
    staff = [s for s in staff if s.user_id != principal.pk]
    members = [
        {"group": ResponseGroupKind.COORDINATION, "user_id": principal.pk, "is_leader": True}
    ]
    others = [g for g in ResponseGroupKind.values if g != ResponseGroupKind.COORDINATION]
    for n, group in enumerate(others):
        if n < len(staff):
            person = staff[n]
            if person.user_id:
                members.append({"group": group, "user_id": person.user_id, "is_leader": True})
            else:
                members.append(
                    {
                        "group": group,
                        "name": person.name,
                        "phone": _phone(person.phone),
                        "is_leader": True,
                    }
                )
        else:
            members.append({"group": group, "name": "后勤组", "is_leader": True})
    return members


def _phone(value: str) -> str:
    try:
        return clean_phone(value, required=False)
    except ValidationError:
        return ""


def load_demo_case(stdout=None, *, today: dt.date | None = None) -> dict:
    """Take the demo child through the procedure (see the module's docstring)."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    created = {"cases": 0, "steps": 0, "contacts": 0}
    users = {
        u.username: u
        for u in get_user_model().objects.filter(username__in=(*USERNAMES, "nurse"), is_active=True)
    }
    child = demo_child()
    if child is None or any(name not in users for name in USERNAMES):
        return created
    if HealthCase.objects.filter(child=child).exists():
        return created
    now = _at(today, 18, 0) if today is not None else timezone.now()
    today = timezone.localdate(now)
    school = child.school
    principal, teacher, health = users["principal"], users["teacher"], users["health"]
    duty_leader = _member_of(school, Role.DUTY_LEADER) or principal
    nurse = users.get("nurse") or _member_of(school, Role.HEALTH_STAFF) or principal
    found = _found_by_check(child)
    if found is not None:
        found_at = found.checked_at
        symptoms = list(found.symptoms or ["fever", "cough"])
        temperature = found.temperature or "38.3"
    else:
        found_at = _at(_school_days_before(today, 2), 8, 0)
        symptoms, temperature = ["fever", "cough"], "38.3"
    day = timezone.localdate(found_at)
    # The procedure runs over the morning and the outcome comes in the afternoon; a case
    # found this morning is compressed into the time that has passed since.
    span = min(SPAN, max(now - found_at - dt.timedelta(minutes=5), dt.timedelta(minutes=30)))

    def when(minutes: int) -> dt.datetime:
        return found_at + span * (minutes / (SPAN / dt.timedelta(minutes=1)))

    with transaction.atomic():
        case = services.case_report(
            actor=teacher,
            class_id=child.school_class_id,
            child_id=child.pk,
            symptoms=symptoms,
            temperature=temperature,
            onset_date=day,
            suspected_disease=DISEASE,
            notifiable=True,
            note="晨检发现发热、咳嗽，已送观察室。",
            check_id=found.pk if found else None,
            now=when(5),
        )

        def step(actor, name, minutes, **fields):
            services.case_step(actor=actor, case_id=case.pk, step=name, now=when(minutes), **fields)

        step(duty_leader, Step.VERIFIED, 10, note="已到班核实：体温、咳嗽属实。")
        step(
            nurse,
            Step.ISOLATED,
            12,
            isolation_place="保健室观察室",
            isolated_at=when(8),
            note="保健医陪同，情绪稳定。",
        )
        step(principal, Step.STARTED, 15, note="领导小组组长启动应急处置流程。")
        step(principal, Step.GROUPS, 20, members=_groups(school, principal))
        step(duty_leader, Step.CLASS_MOVED, 25, standby_classroom="多功能活动室")
        step(duty_leader, Step.PARENTS_NOTIFIED, 30)
        step(principal, Step.CENTRAL_SCHOOL_REPORTED, 35, note="电话并书面报告中心校。")
        step(principal, Step.HEALTH_CENTRE_REPORTED, 40)
        step(
            health,
            Step.TRANSFERRED,
            90,
            destination="大杨树卫生院发热门诊",
            escort="郑晓梅（卫生院）及家长",
        )
        step(health, Step.CONTACTS_TRACED, 120)
        step(principal, Step.CONTACTS_NOTIFIED, 130)
        step(
            health,
            Step.OUTCOME,
            SPAN / dt.timedelta(minutes=1),
            outcome="confirmed",
            diagnosis=DIAGNOSIS,
            note="卫生院流感抗原快速检测阳性。",
        )
    created["cases"] = 1
    created["steps"] = case.steps.count()
    created["contacts"] = case.contacts.count()
    if stdout is not None:
        stdout.write(
            f"  suspected case: {child.school_class.name} {child.name}, "
            f"{created['steps']} steps, {created['contacts']} contacts\n"
        )
    return created
