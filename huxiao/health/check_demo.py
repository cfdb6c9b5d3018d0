"""Checks, attendance, dining seats and dormitory rooms of the demo township (issue 9 items
2–3).

`load_demo_check()` runs after the township (`load_demo_township`): it needs the
kindergarten 大杨树实验幼儿园 ("kg") and 大杨树中心小学 ("primary"); without them it does
nothing. Demo mode only. A month of data is written in bulk (tens of thousands of rows in
a few seconds), consistently: every unwell result and every illness absence has its
line-list rows (`SymptomEvent`), every illness absence its follow-up.

What a visitor of `make run` finds under /health/checks/:
- for both schools, every weekday of the last 30 days up to the latest school morning
  (today once the morning check is over, else the school day before): a morning check of
  every class — the kindergarten's children queue at one check table per grade
  ("小班晨检台"…), the pupils in their classroom — with a few unwell children spread out;
  attendance with absences for personal reasons, illness episodes of one to three days
  (followed up, most closed on the child's return with a note), and a few absences of
  unknown cause chased the same morning; dining tables of six per class and day;
- in 小一班 of the kindergarten (the class of `teacher`), the material of a cluster within
  the last three days: `DEMO_CASE_CHILD_NAME` found with 38.3 °C, fever and cough at the
  latest morning check and taken to the observation room (the suspected case of the case
  area's demo: `demo_case_check()`), a classmate sent home with a cough the school day
  before and now away ill, and another away ill with fever and cough — three children with
  fever or cough; the surveillance area's demo evaluates them and raises the alert. One
  more classmate is absent that day for a cause not yet known (the 15:00 reminder);
- the childcare workers listed as staff of the kindergarten's classes;
- the boarding middle school (大杨树镇中学): its boarders' dormitory rooms, eight to a room.

Idempotent: if the kindergarten has a check from the first demo day on, the month is not
written again (nor the staff or rooms when present), so a second run adds nothing.
Everything is fictional.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections, router, transaction
from django.utils import timezone

from huxiao.audit.models import AuditAction
from huxiao.audit.services import audit_record, insert_rows
from huxiao.demo.township import SCHOOLS, DemoModeOff
from huxiao.health.choices import AbsenceCause, CheckAction, CheckSession
from huxiao.health.models import (
    Absence,
    AttendanceDay,
    ChildCheck,
    ClassStaff,
    DiningSeat,
    DormAssignment,
    HealthCheck,
    IllnessFollowUp,
    SymptomEvent,
)
from huxiao.orgs.models import Organization
from huxiao.people.choices import StaffRole
from huxiao.people.models import Child, SchoolClass, Staff

# The suspected case of the case area's demo: the first child of 小一班 (the township's
# names are drawn from a fixed seed). `demo_case_child()` finds them, or the class's first
# child by name should the name ever change.
DEMO_CASE_CLASS_NAME = "小一班"
DEMO_CASE_CHILD_NAME = "王磊鹏"
DEMO_CASE_TEMPERATURE = Decimal("38.3")
CHECKPOINT_KG = "{grade}晨检台"
CHECKPOINT_SCHOOL = "{name}教室"
DAYS = 30
TABLE_SIZE = 6
ROOM_SIZE = 8
SEED = "huxiao-check-demo"
AUDIT_OBJECT_TYPE = "health.demo"
# The morning check is over by then: before it, the latest demo morning is the day before.
MORNING_DONE = dt.time(8, 30)
PERSONAL_RATE = 0.012
ILLNESS_EVERY = 3  # school days between two illness episodes at a school
UNWELL_EVERY = 4  # school days between two unwell children at a check
RETURN_NOTES = (
    "已痊愈返校，体温正常",
    "返校，精神好，带回社区医院诊断证明",
    "复课，晨检正常，家长已签返校告知书",
    "病愈返校，已查验就诊记录",
)
PERSONAL_NOTES = ("家中有事", "随家长外出", "走亲戚", "看牙医")
CHASED_NOTES = ("电话联系家长：睡过头，已到校", "电话联系家长：随家长外出", "家长回电：家中有事")
EPISODES = (
    (["fever", "cough"], "上呼吸道感染"),
    (["fever"], "发热待查"),
    (["cough"], "支气管炎"),
    (["vomiting", "diarrhoea"], "急性胃肠炎"),
    (["diarrhoea"], ""),
    (["red_eyes"], "结膜炎"),
)
UNWELL = (
    (Decimal("37.0"), ["cough"], CheckAction.NONE, "轻咳，留班观察"),
    (Decimal("37.5"), ["fever"], CheckAction.SENT_HOME, "家长接回"),
    (Decimal("36.8"), ["diarrhoea"], CheckAction.OBSERVATION, "腹泻一次，观察室休息"),
    (Decimal("36.6"), ["other"], CheckAction.NONE, "咽部不适"),
)


def _spec(key: str):
    return next(s for s in SCHOOLS if s.key == key)


def load_demo_check(stdout=None, *, today: dt.date | None = None) -> dict:
    """Write the month of checks and attendance (once); return what was created."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    created = defaultdict(int)
    kg = Organization.objects.schools().filter(name=_spec("kg").name).first()
    primary = Organization.objects.schools().filter(name=_spec("primary").name).first()
    if kg is None or primary is None:
        return dict(created)
    latest = _latest_school_day(today)
    days = [
        latest - dt.timedelta(days=n)
        for n in range(DAYS - 1, -1, -1)
        if (latest - dt.timedelta(days=n)).weekday() < 5
    ]
    users = {
        u.username: u
        for u in get_user_model().objects.filter(
            username__in=("principal", "teacher", "nurse", "principal2"), is_active=True
        )
    }
    with transaction.atomic():
        if not HealthCheck.objects.filter(school=kg, date__gte=days[0]).exists():
            for school in (kg, primary):
                month = _Month(school, days, users, rng=random.Random(f"{SEED}:{school.pk}"))
                if school.pk == kg.pk:
                    month.plant_cluster()
                for key, n in month.write().items():
                    created[key] += n
        created["class_staff"] += _class_staff(kg)
        middle = Organization.objects.schools().filter(name=_spec("middle").name).first()
        if middle is not None and middle.is_boarding:
            created["dorm_assignments"] += _dorm_rooms(middle, latest)
        if any(created.values()):
            audit_record(
                actor=None,
                action=AuditAction.IMPORT,
                object_type=AUDIT_OBJECT_TYPE,
                object_repr="demo checks and attendance loaded",
                changes={"created": dict(created)},
            )
    if stdout is not None:
        stdout.write(
            "  checks: +{checks} checks ({results} results), {absences} absences, "
            "{follow_ups} follow-ups, {seats} dining seats, {dorm_assignments} boarders\n".format(
                **{
                    k: created.get(k, 0)
                    for k in (
                        "checks",
                        "results",
                        "absences",
                        "follow_ups",
                        "seats",
                        "dorm_assignments",
                    )
                }
            )
        )
    return dict(created)


def _latest_school_day(today: dt.date | None) -> dt.date:
    if today is None:
        now = timezone.localtime()
        today = now.date()
        if today.weekday() < 5 and now.time() < MORNING_DONE:
            today -= dt.timedelta(days=1)
    while today.weekday() >= 5:
        today -= dt.timedelta(days=1)
    return today


def demo_case_child(school: Organization | None = None) -> Child | None:
    """The child of the demo's suspected case (see DEMO_CASE_CHILD_NAME)."""
    school = school or Organization.objects.schools().filter(name=_spec("kg").name).first()
    if school is None:
        return None
    children = Child.objects.filter(
        school=school, school_class__name=DEMO_CASE_CLASS_NAME, is_active=True
    )
    return (
        children.filter(name=DEMO_CASE_CHILD_NAME).order_by("pk").first()
        or children.order_by("name", "pk").first()
    )


def demo_case_check() -> ChildCheck | None:
    """The morning-check result that found the demo's suspected case (the latest check of
    the case child with the demo's temperature)."""
    child = demo_case_child()
    if child is None:
        return None
    return (
        ChildCheck.objects.filter(child=child, temperature=DEMO_CASE_TEMPERATURE, is_well=False)
        .select_related("health_check")
        .order_by("-date")
        .first()
    )


# ------------------------------------------------------------------ one school's month


@dataclass
class _Episode:
    child: Child
    days: list[dt.date]
    symptoms: list[str]
    diagnosis: str
    returned_on: dt.date | None  # None: still away on the latest day


@dataclass
class _Unwell:
    temperature: Decimal
    symptoms: list[str]
    action: str
    note: str
    symptom_note: str = ""


@dataclass
class _Month:
    school: Organization
    days: list[dt.date]
    users: dict
    rng: random.Random
    classes: list = field(default_factory=list)
    children: dict = field(default_factory=dict)  # class id → [Child]
    absent: dict = field(default_factory=dict)  # (child id, day) → (cause, note, chased)
    episodes: list = field(default_factory=list)
    unwell: dict = field(default_factory=dict)  # (child id, day) → _Unwell
    quiet: set = field(default_factory=set)  # (class id, day): no random symptoms

    def __post_init__(self):
        self.classes = list(
            SchoolClass.objects.filter(school=self.school).order_by("grade", "name", "pk")
        )
        for child in Child.objects.filter(school=self.school, is_active=True).order_by(
            "school_class_id", "name", "pk"
        ):
            self.children.setdefault(child.school_class_id, []).append(child)
        self.kindergarten = self.school.kind == "kindergarten"
        recorder = self.users.get("principal" if self.kindergarten else "principal2")
        self.recorders = {c.pk: recorder for c in self.classes}
        if self.kindergarten:
            nurse = self.users.get("nurse") or recorder
            for c in self.classes:
                self.recorders[c.pk] = nurse
            teacher = self.users.get("teacher")
            head = next((c for c in self.classes if c.name == DEMO_CASE_CLASS_NAME), None)
            if head is not None and teacher is not None:
                self.recorders[head.pk] = teacher
        self._plan()

    # ---------------------------------------------------------------- the plan

    def _all_children(self) -> list[Child]:
        return [c for c in (self.children.get(k.pk, []) for k in self.classes) for c in c]

    def _plan(self) -> None:
        rng = self.rng
        everyone = self._all_children()
        if not everyone:
            return
        for i, day in enumerate(self.days):
            for child in everyone:
                if rng.random() < PERSONAL_RATE:
                    self.absent[(child.pk, day)] = (
                        AbsenceCause.PERSONAL,
                        rng.choice(PERSONAL_NOTES),
                        None,
                    )
            if i % 4 == 2:  # now and then a cause unknown at first, chased by mid-morning
                child = rng.choice(everyone)
                self.absent[(child.pk, day)] = (
                    AbsenceCause.PERSONAL,
                    rng.choice(CHASED_NOTES),
                    "chased",
                )
        ill_before: set[int] = set()  # one episode per child: never two open follow-ups
        for i in range(0, len(self.days), ILLNESS_EVERY):
            child = rng.choice([c for c in everyone if c.pk not in ill_before] or everyone)
            ill_before.add(child.pk)
            length = rng.choice((1, 1, 2, 2, 3))
            span = self.days[i : i + length]
            after = self.days[i + length] if i + length < len(self.days) else None
            symptoms, diagnosis = rng.choice(EPISODES)
            self.episodes.append(_Episode(child, span, list(symptoms), diagnosis, after))
            for day in [*span, after]:
                self.absent.pop((child.pk, day), None)  # back on the return day
        for i in range(1, len(self.days), UNWELL_EVERY):
            child = rng.choice(everyone)
            temperature, symptoms, action, note = rng.choice(UNWELL)
            self.unwell[(child.pk, self.days[i])] = _Unwell(
                temperature,
                list(symptoms),
                action,
                note,
                symptom_note="咽痛" if "other" in symptoms else "",
            )

    def plant_cluster(self) -> None:
        """小一班's three children with fever or cough within the last three days, the
        latest day's unknown absence, and nothing else with symptoms in the kindergarten's
        last week (so that exactly this class cluster is there to be found)."""
        school_class = next((c for c in self.classes if c.name == DEMO_CASE_CLASS_NAME), None)
        if school_class is None or len(self.children.get(school_class.pk, [])) < 4:
            return
        latest = self.days[-1]
        week = {d for d in self.days if (latest - d).days < 7}
        self.episodes = [e for e in self.episodes if not set(e.days) & week]
        self.unwell = {k: v for k, v in self.unwell.items() if k[1] not in week}
        case = demo_case_child(self.school)
        others = [c for c in self.children[school_class.pk] if c.pk != case.pk]
        coughing, feverish, unknown = others[0], others[1], others[2]
        for child in (case, coughing, feverish, unknown):
            for day in self.days:
                if (latest - day).days < 7:
                    self.absent.pop((child.pk, day), None)
        previous = (
            self.days[-2] if len(self.days) > 1 and (latest - self.days[-2]).days <= 2 else latest
        )
        self.unwell[(case.pk, latest)] = _Unwell(
            DEMO_CASE_TEMPERATURE, ["fever", "cough"], CheckAction.OBSERVATION, "精神差，已送观察室"
        )
        if previous != latest:
            self.unwell[(coughing.pk, previous)] = _Unwell(
                Decimal("37.6"), ["fever", "cough"], CheckAction.SENT_HOME, "咳嗽，家长接回"
            )
            self.episodes.append(_Episode(coughing, [latest], ["cough"], "", None))
        else:
            self.episodes.append(_Episode(coughing, [latest], ["fever", "cough"], "", None))
        self.episodes.append(_Episode(feverish, [latest], ["fever", "cough"], "发热待查", None))
        self.absent[(unknown.pk, latest)] = (AbsenceCause.UNKNOWN, "", None)

    # ---------------------------------------------------------------- writing

    def write(self) -> dict:
        created: dict[str, int] = defaultdict(int)
        if not self.classes:
            return created
        illness = {}
        for e in self.episodes:
            for day in e.days:
                illness[(e.child.pk, day)] = e
        checks, absences, seats, days_taken = [], [], [], []
        results: list[tuple] = []  # well results, in bulk
        unwell_rows: list[ChildCheck] = []
        queues_of = {day: self._queues(day, illness) for day in self.days}
        for day in self.days:
            queues = queues_of[day]
            for school_class in self.classes:
                pupils = self.children.get(school_class.pk, [])
                recorder = self.recorders.get(school_class.pk)
                present = [
                    c
                    for c in pupils
                    if (c.pk, day) not in self.absent and (c.pk, day) not in illness
                ]
                away = [c for c in pupils if c not in present]
                times = queues[school_class.pk]
                checkpoint = self._checkpoint(school_class)
                unwell_here = [c for c in present if (c.pk, day) in self.unwell]
                last = max(times.values()) if times else _at(day, dt.time(8, 0))
                checks.append(
                    HealthCheck(
                        school=self.school,
                        school_class=school_class,
                        date=day,
                        session=CheckSession.MORNING,
                        checkpoint=checkpoint,
                        expected=len(pupils),
                        checked=len(present),
                        unwell=len(unwell_here),
                        recorded_by=recorder,
                        recorded_at=last + dt.timedelta(minutes=2),
                    )
                )
                days_taken.append(
                    AttendanceDay(
                        school=self.school,
                        school_class=school_class,
                        date=day,
                        enrolled=len(pupils),
                        absent=len(away),
                        recorded_by=recorder,
                        recorded_at=_at(day, dt.time(8, 40)),
                    )
                )
                for child in away:
                    absences.append((school_class, child, day, recorder))
                order = sorted(present, key=lambda c: (self.rng.random(), c.pk))
                for n, child in enumerate(order):
                    seats.append(
                        (
                            school_class.pk,
                            child.pk,
                            day,
                            f"{school_class.name}{n // TABLE_SIZE + 1}号桌",
                        )
                    )
        HealthCheck.objects.bulk_create(checks, batch_size=500)
        AttendanceDay.objects.bulk_create(days_taken, batch_size=500)
        created["checks"] = len(checks)
        created["attendance_days"] = len(days_taken)
        check_of = {(c.school_class_id, c.date): c for c in checks}

        # Results: the unwell ones as objects (their line list needs the ids), the rest in bulk.
        for day in self.days:
            queues = queues_of[day]
            for school_class in self.classes:
                check = check_of[(school_class.pk, day)]
                for child_id, moment in queues[school_class.pk].items():
                    sick = self.unwell.get((child_id, day))
                    if sick is None:
                        results.append(
                            (check.pk, self.school.pk, child_id, day, check.checkpoint, moment)
                        )
                        continue
                    unwell_rows.append(
                        ChildCheck(
                            health_check=check,
                            school=self.school,
                            child_id=child_id,
                            date=day,
                            checkpoint=check.checkpoint,
                            checked_at=moment,
                            temperature=sick.temperature,
                            symptoms=sick.symptoms,
                            symptom_note=sick.symptom_note,
                            is_well=False,
                            action=sick.action,
                            note=sick.note,
                        )
                    )
        _insert(
            ChildCheck,
            ["health_check", "school", "child", "date", "checkpoint", "checked_at"],
            results,
            fixed={"is_well": True, "action": CheckAction.NONE},
        )
        ChildCheck.objects.bulk_create(unwell_rows, batch_size=500)
        created["results"] = len(results) + len(unwell_rows)
        events = [
            SymptomEvent(
                school=self.school,
                school_class_id=check_of_row.health_check.school_class_id,
                child_id=check_of_row.child_id,
                date=check_of_row.date,
                symptom=code,
                source="check",
                child_check=check_of_row,
            )
            for check_of_row in unwell_rows
            for code in check_of_row.symptoms
        ]

        # Illness episodes: one follow-up each, closed on the return day when there is one.
        follow_ups = {}
        for e in self.episodes:
            recorder = self.recorders.get(e.child.school_class_id)
            follow_ups[id(e)] = IllnessFollowUp(
                school=self.school,
                child=e.child,
                first_day=e.days[0],
                symptoms=e.symptoms,
                diagnosis=e.diagnosis,
                returned_on=e.returned_on,
                return_note=self.rng.choice(RETURN_NOTES) if e.returned_on else "",
                closed_by=recorder if e.returned_on else None,
            )
        IllnessFollowUp.objects.bulk_create(list(follow_ups.values()))
        created["follow_ups"] = len(follow_ups)

        rows = []
        for school_class, child, day, recorder in absences:
            episode = illness.get((child.pk, day))
            if episode is not None:
                rows.append(
                    Absence(
                        school=self.school,
                        school_class=school_class,
                        child=child,
                        date=day,
                        cause=AbsenceCause.ILLNESS,
                        symptoms=episode.symptoms,
                        diagnosis=episode.diagnosis,
                        follow_up=follow_ups[id(episode)],
                        recorded_by=recorder,
                        recorded_at=_at(day, dt.time(8, 40)),
                    )
                )
                continue
            cause, note, chased = self.absent[(child.pk, day)]
            rows.append(
                Absence(
                    school=self.school,
                    school_class=school_class,
                    child=child,
                    date=day,
                    cause=cause,
                    note=note,
                    chased_at=_at(day, dt.time(10, self.rng.randrange(0, 50))) if chased else None,
                    chased_by=recorder if chased else None,
                    recorded_by=recorder,
                    recorded_at=_at(day, dt.time(8, 40)),
                )
            )
        Absence.objects.bulk_create(rows, batch_size=500)
        created["absences"] = len(rows)
        events += [
            SymptomEvent(
                school=self.school,
                school_class_id=a.school_class_id,
                child_id=a.child_id,
                date=a.date,
                symptom=code,
                source="absence",
                absence=a,
            )
            for a in rows
            if a.cause == AbsenceCause.ILLNESS
            for code in a.symptoms
        ]
        SymptomEvent.objects.bulk_create(events, batch_size=500)
        created["symptom_events"] = len(events)
        created["seats"] = _insert(
            DiningSeat,
            ["school_class", "child", "date", "table"],
            seats,
            fixed={"school": self.school.pk},
        )
        return created

    def _checkpoint(self, school_class) -> str:
        if self.kindergarten:
            return CHECKPOINT_KG.format(grade=school_class.grade or school_class.name)
        return CHECKPOINT_SCHOOL.format(name=school_class.name)

    def _queues(self, day: dt.date, illness: dict) -> dict[int, dict[int, dt.datetime]]:
        """When each present child was checked: the kindergarten's children of a grade
        queue together at their grade's table from 07:40, one every 25 s, in the order they
        arrive; pupils in their classroom from 07:50, one every 15 s."""
        rng = random.Random(f"{SEED}:{self.school.pk}:{day.isoformat()}")
        by_point: dict[str, list] = defaultdict(list)
        for school_class in self.classes:
            for child in self.children.get(school_class.pk, []):
                if (child.pk, day) in self.absent or (child.pk, day) in illness:
                    continue
                by_point[self._checkpoint(school_class)].append(child)
        queues: dict[int, dict[int, dt.datetime]] = {c.pk: {} for c in self.classes}
        start = dt.time(7, 40) if self.kindergarten else dt.time(7, 50)
        step = 25 if self.kindergarten else 15
        for children in by_point.values():
            children.sort(key=lambda c: (rng.random(), c.pk))
            for n, child in enumerate(children):
                queues[child.school_class_id][child.pk] = _at(day, start) + dt.timedelta(
                    seconds=n * step
                )
        return queues


def _at(day: dt.date, time: dt.time) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, time))


def _insert(model, names: list[str], rows: list[tuple], fixed: dict) -> int:
    """`insert_rows` with each row's values prepared for the database first (dates and
    times in the backend's own form)."""
    connection = connections[router.db_for_write(model)]
    fields = [model._meta.get_field(name) for name in names]
    prepared = [
        tuple(f.get_db_prep_save(value, connection) for f, value in zip(fields, row, strict=True))
        for row in rows
    ]
    total = 0
    for start in range(0, len(prepared), 5000):
        total += insert_rows(model, names, prepared[start : start + 5000], fixed=fixed)
    return total


# ------------------------------------------------------------------ staff and dormitories


def _class_staff(school: Organization) -> int:
    """Each class of the kindergarten with a childcare worker (保育员) as class staff."""
    classes = list(SchoolClass.objects.filter(school=school).order_by("grade", "name", "pk"))
    if not classes or ClassStaff.objects.filter(school_class__in=classes).exists():
        return 0
    carers = list(
        Staff.objects.filter(school=school, role=StaffRole.CHILDCARE, is_active=True).order_by(
            "name", "pk"
        )
    )
    if not carers:
        return 0
    rows = [
        ClassStaff(school_class=c, staff=carers[i % len(carers)], duty="保育员")
        for i, c in enumerate(classes)
    ]
    ClassStaff.objects.bulk_create(rows)
    return len(rows)


def _dorm_rooms(school: Organization, latest: dt.date) -> int:
    """The boarders (seven in ten children) in rooms of eight, by grade and gender, since
    the start of the school year."""
    if DormAssignment.objects.filter(school=school).exists():
        return 0
    year = latest.year if latest.month >= 9 else latest.year - 1
    starts_on = dt.date(year, 9, 1)
    rng = random.Random(f"{SEED}:dorms:{school.pk}")
    groups: dict[tuple, list[Child]] = defaultdict(list)
    for child in (
        Child.objects.filter(school=school, is_active=True)
        .select_related("school_class")
        .order_by("school_class__grade", "name", "pk")
    ):
        if rng.random() < 0.7:
            groups[(child.school_class.grade, child.gender)].append(child)
    rows = []
    floors = {grade: n for n, grade in enumerate(sorted({g for g, _ in groups}), start=1)}
    for (grade, gender), children in sorted(groups.items()):
        building = "男生楼" if gender == "male" else "女生楼"
        for n, child in enumerate(children):
            room = f"{building}{floors[grade]}{n // ROOM_SIZE + 1:02d}室"
            rows.append(DormAssignment(school=school, child=child, room=room, starts_on=starts_on))
    DormAssignment.objects.bulk_create(rows, batch_size=500)
    return len(rows)
