"""The generated county of bench/tracing.py (issue 9): one large school traced in detail and a
county of 1,000 schools under surveillance.

The dates: the evaluation day is the last weekday on or before the anchor day (the real today
by default); the school days are the weekdays before it (no holiday calendar).

**The traced school** (school 0 of the county, a boarding primary school; its plan comes from
`plan_school`, pure and deterministic, so its shape is unit-tested): 3,000 children in 100
classes over six grades (the first class, the measured check page's, has exactly 40 and its
head teacher is the `teacher` login), 14 school days of:

- attendance per class and day, absences with a cause (illness episodes of one to three
  days with symptoms and an illness follow-up, personal, unknown — mostly chased);
- a morning check per class and day at one of 20 check points (five classes share one, their
  children interleaved in the queue, `checked_at` 10–20 s apart from 07:20), a few children
  unwell (temperature, symptoms, sent to the observation room or home) with their symptom
  events;
- lunch: a fixed table of eight per child (tables shared at class boundaries), a few
  children at the next table on a day;
- bus trips: ~13 % of the children ride one of ~9 routes (six stops, to school and home each
  day, a boarding row per rider present; a child sent home misses the trip home);
- dormitories: 40 % of grades 4–6 board, eight to a room by grade and sex; a few change room
  during the fortnight;
- the class's other teachers (`ClassStaff`), guardians, the four-party directory.

`--cases` suspected cases (`HealthCase`, default 60) are the samples of the contact tracing:
children of different classes, a third riding a bus, a third boarding, a third neither; each
present the days before its onset, feverish at the onset day's check, isolated that morning
(four in five; the others not yet isolated), absent ill the next two school days.

**The county**: the other schools are shaped by bench/activities_seed.school_facts (a
kindergarten of 3–9 classes or a primary school of 6–18), all children enrolled; ~3 weeks of
symptom events (`SymptomEvent`, the line list the cluster rules count): each school day a few
children fall ill (Poisson, 0.15 % of the enrolment) for two to four days with one or two
symptoms of a group — about two events a school and day, and a school alert from background
alone at ~2 % of the schools. Planted on top (`planted`): class clusters (four children of
one class with fever/cough within the three days ending on the evaluation day), school
clusters (seven children of four classes with vomiting/diarrhoea within the last seven days)
and near misses (two children of a class, below any threshold). Rows are written with
bench/supervision_seed.insert_rows (executemany on SQLite, COPY on PostgreSQL).

Users: the traced school's `teacher`, principal and health staff; each town's health officer
at its health centre, the county health officer, and a principal for every school.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time

from bench.activities_seed import PRIMARY_GRADES, school_facts
from bench.common import analyze, logger

SEED = "huxiao-bench-tracing-v1"
REGION_CODE = "BENCHTRC"
TOWNS = 12
CLASSES = 100
CHILDREN = 3000
SCHOOL_DAYS = 14
COUNTY_DAYS = 21  # calendar days of symptom events in the county
CASES = 60
PAGE_CLASS_SIZE = 40
CLASS_SIZE_RANGE = (20, 45)
CLASSES_PER_CHECKPOINT = 5
CHECK_START_S = 7 * 3600 + 20 * 60
QUEUE_GAP_S = (10, 20)
TABLE_SEATS = 8
ROOM_BEDS = 8
ROUTE_RIDERS = 40
ROUTE_STOPS = 6
MORNING_TRIP_S = 6 * 3600 + 40 * 60  # the first stop; then one stop every STOP_GAP_S
AFTERNOON_TRIP_S = 16 * 3600 + 40 * 60
STOP_GAP_S = 300
RIDER_SHARE = 0.13
BOARDING_GRADES = ("四年级", "五年级", "六年级")
BOARDER_SHARE = 0.4
ROOM_MOVE_SHARE = 0.03
ILLNESS_START = 0.006  # a present child falls ill (absent one to three days)
PERSONAL_ABSENCE = 0.008
UNKNOWN_ABSENCE = 0.002
UNWELL_AT_CHECK = 0.0015
NEXT_TABLE_SHARE = 0.05
COUNTY_ILLNESS_RATE = 0.0015  # new ill children per enrolled child and school day
GATES = ("东门", "西门", "南门", "北门")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = (
    "子梓浩宇轩一诺欣怡雨涵思博文佳琪晨阳俊杰嘉睿依然可馨若汐明哲天佑沐辰昊然语桐心悦乐安书瑶星宸"
)
# Symptom groups as the cluster rules count them (health.choices.SYMPTOM_GROUPS) and how
# often each falls ill in the background.
GROUP_SYMPTOMS = {
    "respiratory": ("fever", "cough"),
    "digestive": ("vomiting", "diarrhoea"),
    "skin": ("rash", "hfmd"),
    "eye": ("red_eyes",),
    "other": ("other",),
}
GROUP_WEIGHTS = {"respiratory": 30, "digestive": 20, "skin": 15, "eye": 10, "other": 25}
PLANTED_EVERY = {"class_cluster": (83, 5), "school_cluster": (167, 11), "near_miss": (83, 40)}


log = logger("tracing")


# ------------------------------------------------------------------ dates


def evaluation_day(anchor: dt.date) -> dt.date:
    """The last weekday on or before `anchor`."""
    while anchor.weekday() >= 5:
        anchor -= dt.timedelta(days=1)
    return anchor


def school_days(evaluation: dt.date, count: int) -> list[dt.date]:
    """The `count` weekdays ending on `evaluation`, oldest first."""
    days, day = [], evaluation
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= dt.timedelta(days=1)
    return days[::-1]


def county_days(evaluation: dt.date) -> list[dt.date]:
    """The weekdays of the COUNTY_DAYS calendar days ending on `evaluation`."""
    first = evaluation - dt.timedelta(days=COUNTY_DAYS - 1)
    return [
        first + dt.timedelta(days=k)
        for k in range(COUNTY_DAYS)
        if (first + dt.timedelta(days=k)).weekday() < 5
    ]


# ------------------------------------------------------------------ the traced school's plan


def _class_sizes(rng, classes: int, children: int) -> list[int]:
    low, high = CLASS_SIZE_RANGE
    rest = children - PAGE_CLASS_SIZE
    if not low * (classes - 1) <= rest <= high * (classes - 1):
        raise ValueError(f"{children} children do not fit {classes} classes ({low}–{high})")
    mean = rest / (classes - 1) if classes > 1 else 0
    sizes = [max(low, min(high, round(mean + rng.uniform(-4, 4)))) for _ in range(classes - 1)]
    while sum(sizes) != rest:  # nudge random classes to the exact total, within the range
        k = rng.randrange(len(sizes))
        step = 1 if sum(sizes) < rest else -1
        if low <= sizes[k] + step <= high:
            sizes[k] += step
    return [PAGE_CLASS_SIZE, *sizes]


def _names(rng, count: int) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        name = rng.choice(SURNAMES) + given
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def _symptoms(rng, group: str) -> list[str]:
    codes = GROUP_SYMPTOMS[group]
    picked = set(rng.sample(codes, k=rng.randint(1, len(codes))))
    return [code for code in codes if code in picked]


def _group(rng) -> str:
    return rng.choices(list(GROUP_WEIGHTS), weights=list(GROUP_WEIGHTS.values()))[0]


def _classes(rng, classes: int, children: int) -> list[dict]:
    per_grade = [classes // 6 + (g < classes % 6) for g in range(6)]
    sizes = _class_sizes(rng, classes, children)
    rows = []
    for g, count in enumerate(per_grade):
        for number in range(1, count + 1):
            grade = PRIMARY_GRADES[g]
            k = len(rows)
            checkpoint = k // CLASSES_PER_CHECKPOINT
            rows.append(
                {
                    "name": f"{grade}（{number}）班",
                    "grade": grade,
                    "size": sizes[k],
                    "checkpoint": f"{GATES[checkpoint % 4]}{checkpoint // 4 + 1}号晨检点",
                }
            )
    return rows


def _plan_children(rng, classes: list[dict]) -> list[dict]:
    names = _names(rng, sum(c["size"] for c in classes))
    kids, seat = [], 0
    for k, cls in enumerate(classes):
        for _ in range(cls["size"]):
            table = seat // TABLE_SEATS
            canteen = "一" if table % 2 == 0 else "二"
            kids.append(
                {
                    "class": k,
                    "name": names[len(kids)],
                    "gender": rng.choice(("male", "female")),
                    "table": f"{canteen}食堂{table + 1:03d}号桌",
                    "route": None,
                    "stop": None,
                    "rooms": [],  # (room, first day index or None, last day index or None)
                }
            )
            seat += 1
    return kids


def _riders(rng, kids: list[dict]) -> int:
    riders = [i for i in range(len(kids)) if rng.random() < RIDER_SHARE]
    routes = max(1, round(len(riders) / ROUTE_RIDERS))
    rng.shuffle(riders)
    for n, i in enumerate(riders):
        kids[i]["route"] = n % routes
        kids[i]["stop"] = rng.randrange(ROUTE_STOPS)
    return routes


def _boarders(rng, kids: list[dict], classes: list[dict], days: int) -> None:
    groups: dict[tuple, list[int]] = {}
    for i, kid in enumerate(kids):
        grade = classes[kid["class"]]["grade"]
        if grade in BOARDING_GRADES and rng.random() < BOARDER_SHARE:
            groups.setdefault((grade, kid["gender"]), []).append(i)
    rooms: dict[tuple, list[str]] = {}
    for (grade, gender), members in sorted(groups.items()):
        building = "男" if gender == "male" else "女"
        floor = BOARDING_GRADES.index(grade) + 2
        names = []
        for start in range(0, len(members), ROOM_BEDS):
            name = f"{building}生宿舍{floor}{len(names) + 1:02d}室"
            names.append(name)
            for i in members[start : start + ROOM_BEDS]:
                kids[i]["rooms"] = [(name, None, None)]
        rooms[(grade, gender)] = names
    for (grade, gender), members in groups.items():
        if len(rooms[(grade, gender)]) < 2 or days < 2:
            continue
        for i in members:
            if rng.random() < ROOM_MOVE_SHARE:
                old = kids[i]["rooms"][0][0]
                new = rng.choice([r for r in rooms[(grade, gender)] if r != old])
                moved = rng.randrange(1, days)
                kids[i]["rooms"] = [(old, None, moved - 1), (new, moved, None)]


def _pick_cases(kids: list[dict], classes: int, days: int, count: int) -> list[dict]:
    """Case children of different classes (cycling bus rider, boarder, neither), their onset
    day (index, with two school days before it) and whether they are isolated yet."""
    by_class: dict[int, list[int]] = {}
    for i, kid in enumerate(kids):
        by_class.setdefault(kid["class"], []).append(i)
    kinds = {
        "bus": lambda kid: kid["route"] is not None,
        "dormitory": lambda kid: bool(kid["rooms"]),
        "other": lambda kid: kid["route"] is None and not kid["rooms"],
    }
    cases, taken, used = [], set(), set()
    for n in range(count):
        kind = list(kinds)[n % 3]
        start = n * classes // count if count <= classes else n % classes
        order = [(start + step) % classes for step in range(classes)]
        # A class without a case first; a child of the kind; else any child not taken.
        candidates = [
            i
            for fresh in (True, False)
            for k in order
            if (k not in used) == fresh
            for i in by_class[k]
            if i not in taken and kinds[kind](kids[i])
        ]
        found = candidates[0] if candidates else min(set(range(len(kids))) - taken)
        taken.add(found)
        used.add(kids[found]["class"])
        cases.append(
            {
                "child": found,
                "kind": kind,
                "onset": 2 + n % (days - 2),
                "window_days": 2,
                "isolated": n % 5 != 4,
            }
        )
    return cases


def _absences(rng, kids: list[dict], days: int, cases: list[dict]) -> list[dict]:
    """absences[d][i] = {cause, symptoms, episode} for each child absent on day d. Cases are
    present from two days before onset to onset and absent ill the two days after."""
    forced_present: dict[int, set[int]] = {}
    forced_ill: dict[int, set[int]] = {}
    for case in cases:
        forced_present[case["child"]] = set(range(case["onset"] - 2, case["onset"] + 1))
        forced_ill[case["child"]] = {case["onset"] + 1, case["onset"] + 2}
    absences: list[dict] = [{} for _ in range(days)]
    episode_id = 0
    for i in range(len(kids)):
        d = 0
        while d < days:
            if d in forced_ill.get(i, ()):
                episode_id += 1
                span = [x for x in sorted(forced_ill[i]) if x < days]
                for x in span:
                    absences[x][i] = {
                        "cause": "illness",
                        "symptoms": ["fever", "cough"],
                        "episode": episode_id,
                    }
                d = span[-1] + 1
                continue
            if d in forced_present.get(i, ()):
                d += 1
                continue
            roll = rng.random()
            if roll < ILLNESS_START:
                episode_id += 1
                symptoms = _symptoms(rng, _group(rng))
                for x in range(d, min(days, d + rng.randint(1, 3))):
                    if x in forced_present.get(i, ()):
                        break
                    absences[x][i] = {
                        "cause": "illness",
                        "symptoms": symptoms,
                        "episode": episode_id,
                    }
                    d = x
            elif roll < ILLNESS_START + PERSONAL_ABSENCE:
                absences[d][i] = {"cause": "personal", "symptoms": [], "episode": None}
            elif roll < ILLNESS_START + PERSONAL_ABSENCE + UNKNOWN_ABSENCE:
                absences[d][i] = {"cause": "unknown", "symptoms": [], "episode": None}
            d += 1
    return absences


def _checks(rng, kids, classes, absences, cases, d: int) -> dict[int, dict]:
    """Day d's morning check: child index → {at (seconds after midnight), checkpoint,
    unwell fields}; the children of a check point's classes interleaved in one queue."""
    onset_today = {c["child"] for c in cases if c["onset"] == d}
    queues: dict[str, list[int]] = {}
    for i, kid in enumerate(kids):
        if i not in absences[d]:
            queues.setdefault(classes[kid["class"]]["checkpoint"], []).append(i)
    day: dict[int, dict] = {}
    for checkpoint, queue in sorted(queues.items()):
        rng.shuffle(queue)
        at = CHECK_START_S + rng.randrange(0, 120)
        for i in queue:
            at += rng.randint(*QUEUE_GAP_S)
            row = {"at": at, "checkpoint": checkpoint, "temperature": None, "symptoms": []}
            row["action"] = "none"
            if i in onset_today:
                row.update(temperature=38.5, symptoms=["fever", "cough"], action="observation")
            elif rng.random() < UNWELL_AT_CHECK:
                symptoms = ["fever", "cough"] if rng.random() < 0.5 else ["fever"]
                row.update(
                    temperature=round(rng.uniform(37.3, 38.8), 1),
                    symptoms=symptoms,
                    action="observation" if rng.random() < 0.6 else "sent_home",
                )
            day[i] = row
    return day


def plan_school(*, classes: int, children: int, days: int, cases: int) -> dict:
    """The traced school, deterministic: classes, children (class, name, table, route and
    stop, dormitory rooms by day index), the cases, and per school day index the absences
    and the morning check. Days are indices into the school days (oldest first)."""
    if days < 3:
        raise ValueError("at least three school days (a case has two days before its onset)")
    rng = random.Random(f"{SEED}:school:{classes}:{children}")
    class_rows = _classes(rng, classes, children)
    kids = _plan_children(rng, class_rows)
    routes = _riders(rng, kids)
    _boarders(rng, kids, class_rows, days)
    picked = _pick_cases(kids, classes, days, cases)
    absences = _absences(rng, kids, days, picked)
    checks = [_checks(rng, kids, class_rows, absences, picked, d) for d in range(days)]
    # The measured class's morning check of the evaluation day is not taken yet: its teacher
    # is about to (the page's blank form); the day before's is its edit form.
    for i, kid in enumerate(kids):
        if kid["class"] == 0:
            checks[-1].pop(i, None)
    return {
        "classes": class_rows,
        "children": kids,
        "routes": routes,
        "cases": picked,
        "absences": absences,
        "checks": checks,
        "rng_seed": rng.randrange(1 << 30),
    }


# ------------------------------------------------------------------ the county's line list


def _poisson(rng, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def planted(n: int) -> str | None:
    """What cluster (if any) is planted at county school n (n ≥ 1)."""
    for kind, (every, at) in PLANTED_EVERY.items():
        if n % every == at:
            return kind
    return None


def county_events(n: int, sizes: list[int], days: list[dt.date]) -> list[tuple]:
    """School n's symptom events over `days` (its school days, oldest first), deterministic:
    (class index, child index in the class, day, symptom)."""
    rng = random.Random(f"{SEED}:county:{n}")
    enrolment = sum(sizes)
    events: list[tuple] = []

    def child(k=None):
        if k is None:
            k = rng.choices(range(len(sizes)), weights=sizes)[0]
        return k, rng.randrange(sizes[k])

    for d in range(len(days)):
        for _ in range(_poisson(rng, enrolment * COUNTY_ILLNESS_RATE)):
            k, c = child()
            symptoms = _symptoms(rng, _group(rng))
            for x in range(d, min(len(days), d + rng.randint(2, 4))):
                events += [(k, c, days[x], s) for s in symptoms]
    kind = planted(n)
    # Planted within the rules' default windows (3 and 7 calendar days ending today).
    last_3 = [d for d in days if (days[-1] - d).days < 3]
    last_7 = [d for d in days if (days[-1] - d).days < 7]
    if kind in ("class_cluster", "near_miss"):
        k = rng.randrange(len(sizes))
        count = 4 if kind == "class_cluster" else 2
        for j, c in enumerate(rng.sample(range(sizes[k]), k=min(count, sizes[k]))):
            events += [(k, c, last_3[-1 - j % len(last_3)], s) for s in ("fever", "cough")]
    elif kind == "school_cluster":
        classes = rng.sample(range(len(sizes)), k=min(4, len(sizes)))
        for j in range(7):
            k = classes[j % len(classes)]
            c = j // len(classes)  # distinct children: a class's first, second … child
            events.append((k, c, last_7[-1 - j % len(last_7)], ("vomiting", "diarrhoea")[j % 2]))
    return list(dict.fromkeys(events))  # one row per child, day and symptom


# ------------------------------------------------------------------ writing


def aware(day: dt.date, seconds: int) -> dt.datetime:
    from django.utils import timezone

    return timezone.make_aware(dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=seconds))


def _clock(seconds: int) -> dt.time:
    return dt.time(seconds // 3600, seconds // 60 % 60, seconds % 60)


def insert_returning(model, rows: list[dict]) -> list[int]:
    """Insert the rows (bench/supervision_seed.insert_rows) and return their new pks in the
    rows' order (the benchmark is the only writer: new pks follow the old maximum)."""
    from bench.supervision_seed import insert_rows

    first = model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    insert_rows(model, rows)
    pks = list(model.objects.filter(pk__gt=first).order_by("pk").values_list("pk", flat=True))
    if len(pks) != len(rows):
        raise RuntimeError(f"{model.__name__}: {len(pks)} rows came back for {len(rows)}")
    return pks


def _world(schools: int, towns: int, plan: dict, facts: list[dict]) -> dict:
    """County, towns, offices, stations, health centres, schools, classes and users."""
    from django.contrib.auth import get_user_model

    from huxiao.core.roles import OrgKind, Role
    from huxiao.orgs.models import Membership, Organization, Region, Town
    from huxiao.people.models import SchoolClass

    User = get_user_model()
    per_town = math.ceil(schools / towns)
    towns_count = math.ceil(schools / per_town)
    region = Region.objects.create(code=REGION_CODE, name="卫生基准县")
    bureau = Organization.objects.create(
        kind=OrgKind.HEALTH_CENTRE, name="卫生基准县卫健局", region=region
    )
    Organization.objects.create(
        kind=OrgKind.EDUCATION_OFFICE, name="卫生基准县教育局", region=region
    )
    town_rows = Town.objects.bulk_create(
        [
            Town(region=region, code=f"{REGION_CODE}{n:02d}", name=f"卫生镇{n:02d}")
            for n in range(towns_count)
        ]
    )

    def per_town_orgs(kind, suffix):
        return Organization.objects.bulk_create(
            [
                Organization(kind=kind, name=f"{t.name}{suffix}", region=region, town=t)
                for t in town_rows
            ]
        )

    offices = per_town_orgs(OrgKind.EDUCATION_OFFICE, "中心校")
    stations = per_town_orgs(OrgKind.POLICE_STATION, "派出所")
    centres = per_town_orgs(OrgKind.HEALTH_CENTRE, "卫生院")
    per_town_orgs(OrgKind.GOVERNMENT, "人民政府")
    shapes = [
        {"stage": "primary", "enrolment": sum(c["size"] for c in plan["classes"])},
        *({"stage": f["stage"], "enrolment": f["enrolment"]} for f in facts[1:]),
    ]
    school_rows = Organization.objects.bulk_create(
        [
            Organization(
                kind=OrgKind.KINDERGARTEN if s["stage"] == "kindergarten" else OrgKind.SCHOOL,
                name="卫生基准实验学校" if n == 0 else f"卫生学校{n:04d}",
                region=region,
                town=town_rows[n // per_town],
                stage=s["stage"],
                enrolment=s["enrolment"],
                is_boarding=n == 0,
                police_station=stations[n // per_town],
                education_office=offices[n // per_town],
                health_centre=centres[n // per_town],
            )
            for n, s in enumerate(shapes)
        ],
        batch_size=500,
    )
    class_specs = [(school_rows[0], c["name"], c["grade"]) for c in plan["classes"]] + [
        (school, c["name"], c["grade"])
        for school, f in zip(school_rows[1:], facts[1:], strict=True)
        for c in f["classes"]
    ]
    classes = SchoolClass.objects.bulk_create(
        [SchoolClass(school=s, name=name, grade=grade) for s, name, grade in class_specs],
        batch_size=2000,
    )
    class_ids: dict[int, list[int]] = {}
    for row in classes:
        class_ids.setdefault(row.school_id, []).append(row.pk)

    users = User.objects.bulk_create(
        [
            User(username="bench-trc-teacher", first_name="一（1）班班主任", password="!"),
            User(username="bench-trc-principal", first_name="校长", password="!"),
            User(username="bench-trc-nurse", first_name="校医", password="!"),
            User(username="bench-trc-county-health", first_name="县卫健局", password="!"),
        ]
        + [User(username=f"bench-trc-health-{t:02d}", password="!") for t in range(towns_count)]
        + [User(username=f"bench-trc-principal-{n:04d}", password="!") for n in range(1, schools)]
    )
    teacher, principal, nurse, county_health = users[:4]
    town_health = users[4 : 4 + towns_count]
    principals = users[4 + towns_count :]
    memberships = [
        Membership(user=teacher, organization=school_rows[0], role=Role.TEACHER),
        Membership(user=principal, organization=school_rows[0], role=Role.PRINCIPAL),
        Membership(user=nurse, organization=school_rows[0], role=Role.HEALTH_STAFF),
        Membership(user=county_health, organization=bureau, role=Role.HEALTH_OFFICER),
    ]
    memberships += [
        Membership(user=u, organization=c, role=Role.HEALTH_OFFICER)
        for u, c in zip(town_health, centres, strict=True)
    ]
    memberships += [
        Membership(user=u, organization=s, role=Role.PRINCIPAL)
        for u, s in zip(principals, school_rows[1:], strict=True)
    ]
    Membership.objects.bulk_create(memberships, batch_size=2000)
    return {
        "region": region,
        "schools": school_rows,
        "class_ids": class_ids,
        "towns": towns_count,
        "users": {"teacher": teacher, "principal": principal, "nurse": nurse},
    }


def _child_row(school_id: int, class_id: int, name: str, gender: str, now) -> dict:
    return {
        "school_id": school_id,
        "school_class_id": class_id,
        "name": name,
        "gender": gender,
        "birth_date": dt.date(2016, 9, 1),
        "is_active": True,
        "created_at": now,
        "updated_at": now,
    }


def _staff(school, plan: dict, class_ids: list[int], users: dict, now) -> dict:
    """Head teachers (the first class's with the teacher's login), subject teachers as class
    staff, the health staff, bus safety officers and the four-party directory."""
    from huxiao.health.models import ClassStaff, HealthContact
    from huxiao.people.models import SchoolClass, Staff

    classes = plan["classes"]
    heads = Staff.objects.bulk_create(
        [
            Staff(
                school=school,
                user=users["teacher"] if k == 0 else None,
                name=f"{c['name']}班主任",
                role="teacher",
                phone=f"139{k:08d}",
            )
            for k, c in enumerate(classes)
        ]
    )
    SchoolClass.objects.bulk_update(
        [
            SchoolClass(pk=pk, head_teacher_id=head.pk)
            for pk, head in zip(class_ids, heads, strict=True)
        ],
        ["head_teacher"],
        batch_size=500,
    )
    subjects = ("数学", "英语", "体育")
    # Each subject teacher of a grade teaches every third class of it.
    keys = [(g, s, i) for g in PRIMARY_GRADES for s in subjects for i in range(3)]
    pool = Staff.objects.bulk_create(
        [
            Staff(school=school, name=f"{g}{s}教师{i + 1}", role="teacher", phone="13800000000")
            for g, s, i in keys
        ]
    )
    teacher_of = dict(zip(keys, pool, strict=True))
    per_grade: dict[str, int] = {}
    links = []
    for k, c in enumerate(classes):
        n = per_grade.get(c["grade"], 0)
        per_grade[c["grade"]] = n + 1
        links += [
            ClassStaff(
                school_class_id=class_ids[k], staff=teacher_of[(c["grade"], s, n % 3)], duty=s
            )
            for s in subjects
        ]
    ClassStaff.objects.bulk_create(links, batch_size=1000)
    Staff.objects.bulk_create(
        [
            Staff(school=school, user=users["nurse"], name="校医", role="health_staff"),
            Staff(school=school, name="保健员", role="health_staff"),
        ]
    )
    officers = Staff.objects.bulk_create(
        [
            Staff(school=school, name=f"照管员{r + 1}", role="other", phone="13700000000")
            for r in range(plan["routes"])
        ]
    )
    HealthContact.objects.bulk_create(
        [
            HealthContact(
                school=school, party=party, name=name, title=title, phone=phone, is_primary=True
            )
            for party, name, title, phone in (
                ("health_centre", "周医生", "公卫科科长", "13900001111"),
                ("government", "孙镇长", "分管副镇长", "13900002222"),
                ("central_school", "钱主任", "安全办主任", "13900003333"),
                ("school", "校医", "学校疫情报告人", "13900004444"),
            )
        ]
    )
    return {"heads": len(heads), "class_staff": len(links), "officers": officers}


def _write_children(school, plan: dict, class_ids: list[int], now) -> list[int]:
    from bench.supervision_seed import insert_rows
    from huxiao.people.models import Child, Guardian

    kids = plan["children"]
    ids = insert_returning(
        Child,
        [
            _child_row(school.pk, class_ids[kid["class"]], kid["name"], kid["gender"], now)
            for kid in kids
        ],
    )
    guardians = []
    for n, (pk, kid) in enumerate(zip(ids, kids, strict=True)):
        for g, relationship in enumerate(("mother", "father")[: 1 + n % 2]):
            guardians.append(
                {
                    "child_id": pk,
                    "name": f"{kid['name'][0]}{'妈妈' if relationship == 'mother' else '爸爸'}",
                    "relationship": relationship,
                    "phone": f"13{g + 5}{n:08d}",
                    "can_pick_up": True,
                    "is_primary": g == 0,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    insert_rows(Guardian, guardians)
    return ids


def _buses(school, plan: dict, child_ids: list[int], officers: list, days: list) -> dict:
    """Buses, drivers, routes with stops and riders, two trips a day per route and a boarding
    row for each rider present (none home for a child sent home at the check)."""
    from bench.supervision_seed import insert_rows
    from huxiao.transport.models import Boarding, Bus, Driver, Route, RouteRider, RouteStop, Trip

    routes = plan["routes"]
    buses = Bus.objects.bulk_create(
        [Bus(school=school, plate=f"冀A·X{r:04d}", seats=45, is_active=True) for r in range(routes)]
    )
    drivers = Driver.objects.bulk_create(
        [Driver(school=school, name=f"司机{r + 1}", licence_class="A1") for r in range(routes)]
    )
    route_rows = Route.objects.bulk_create(
        [
            Route(
                school=school,
                name=f"{r + 1}号线",
                bus=buses[r],
                driver=drivers[r],
                safety_officer=officers[r],
            )
            for r in range(routes)
        ]
    )
    stops = RouteStop.objects.bulk_create(
        [
            RouteStop(
                route=route,
                order=s + 1,
                name=f"{route.name}第{s + 1}站",
                morning_time=_clock(MORNING_TRIP_S + s * STOP_GAP_S),
                afternoon_time=_clock(AFTERNOON_TRIP_S + 600 + s * STOP_GAP_S),
            )
            for route in route_rows
            for s in range(ROUTE_STOPS)
        ]
    )
    stop_of = {
        (r, s): stops[r * ROUTE_STOPS + s] for r in range(routes) for s in range(ROUTE_STOPS)
    }
    kids = plan["children"]
    riders = [i for i, kid in enumerate(kids) if kid["route"] is not None]
    RouteRider.objects.bulk_create(
        [
            RouteRider(
                route=route_rows[kids[i]["route"]],
                child_id=child_ids[i],
                stop=stop_of[(kids[i]["route"], kids[i]["stop"])],
            )
            for i in riders
        ],
        batch_size=1000,
    )
    rng = random.Random(f"{SEED}:buses:{plan['rng_seed']}")
    trips, boardings = [], []
    for d, day in enumerate(days):
        absent = plan["absences"][d]
        checks = plan["checks"][d]
        for r, route in enumerate(route_rows):
            on_board = [i for i in riders if kids[i]["route"] == r and i not in absent]
            home = [i for i in on_board if checks.get(i, {}).get("action") != "sent_home"]
            for direction, children, start_s, end_s in (
                ("to_school", on_board, MORNING_TRIP_S, MORNING_TRIP_S + 50 * 60),
                ("from_school", home, AFTERNOON_TRIP_S, AFTERNOON_TRIP_S + 50 * 60),
            ):
                trips.append(
                    Trip(
                        school=school,
                        route=route,
                        date=day,
                        direction=direction,
                        bus=buses[r],
                        driver=drivers[r],
                        safety_officer=officers[r],
                        status="finished",
                        started_at=aware(day, start_s),
                        ended_at=aware(day, end_s),
                        riders_at_start=len(children),
                    )
                )
                for i in children:
                    stop = kids[i]["stop"]
                    if direction == "to_school":
                        boarded = start_s + stop * STOP_GAP_S + rng.randrange(60)
                        alighted = end_s - rng.randrange(120)
                    else:
                        boarded = start_s - 600 + rng.randrange(300)
                        alighted = start_s + 600 + stop * STOP_GAP_S + rng.randrange(60)
                    boardings.append((len(trips) - 1, i, stop, aware(day, boarded), alighted, day))
    trips = Trip.objects.bulk_create(trips, batch_size=500)
    insert_rows(
        Boarding,
        [
            {
                "trip_id": trips[t].pk,
                "child_id": child_ids[i],
                "stop_id": stop_of[(kids[i]["route"], stop)].pk,
                "boarded_at": boarded,
                "alighted_at": aware(day, alighted),
            }
            for t, i, stop, boarded, alighted, day in boardings
        ],
    )
    return {
        "routes": routes,
        "riders": len(riders),
        "trips": len(trips),
        "boardings": len(boardings),
    }


def _dormitories(school, plan: dict, child_ids: list[int], days: list) -> int:
    from bench.supervision_seed import insert_rows
    from huxiao.health.models import DormAssignment

    term_start = days[0] - dt.timedelta(days=60)
    rows = []
    for i, kid in enumerate(plan["children"]):
        for room, first, last in kid["rooms"]:
            rows.append(
                {
                    "school_id": school.pk,
                    "child_id": child_ids[i],
                    "room": room,
                    "starts_on": term_start if first is None else days[first],
                    "ends_on": None if last is None else days[last],
                }
            )
    insert_rows(DormAssignment, rows)
    return len(rows)


def _attendance(school, plan, class_ids, child_ids, days, users) -> dict:
    """Attendance days, illness follow-ups and absences; returns the absences' pks by
    (day index, child index) for their symptom events."""
    from bench.supervision_seed import insert_rows
    from huxiao.health.models import Absence, AttendanceDay, IllnessFollowUp

    kids, classes, absences = plan["children"], plan["classes"], plan["absences"]
    teacher = users["teacher"].pk
    episodes: dict[int, dict] = {}
    for d, absent in enumerate(absences):
        for i, a in absent.items():
            if a["episode"] is not None:
                episode = episodes.setdefault(
                    a["episode"], {"child": i, "first": d, "last": d, "symptoms": a["symptoms"]}
                )
                episode["last"] = d
    order = sorted(episodes)
    follow_ups = IllnessFollowUp.objects.bulk_create(
        [
            IllnessFollowUp(
                school=school,
                child_id=child_ids[episodes[e]["child"]],
                first_day=days[episodes[e]["first"]],
                symptoms=episodes[e]["symptoms"],
                returned_on=days[episodes[e]["last"] + 1]
                if episodes[e]["last"] + 1 < len(days)
                else None,
                return_note="已康复，返校复课" if episodes[e]["last"] + 1 < len(days) else "",
            )
            for e in order
        ],
        batch_size=1000,
    )
    follow_up_of = {e: f.pk for e, f in zip(order, follow_ups, strict=True)}
    attendance, rows, keys = [], [], []
    for d, day in enumerate(days):
        absent_by_class: dict[int, int] = {}
        for i in absences[d]:
            absent_by_class[kids[i]["class"]] = absent_by_class.get(kids[i]["class"], 0) + 1
        for k, c in enumerate(classes):
            attendance.append(
                {
                    "school_id": school.pk,
                    "school_class_id": class_ids[k],
                    "date": day,
                    "enrolled": c["size"],
                    "absent": absent_by_class.get(k, 0),
                    "recorded_by_id": teacher if k == 0 else None,
                    "recorded_at": aware(day, 8 * 3600 + 30 * 60),
                }
            )
        for i, a in sorted(absences[d].items()):
            # An unknown cause is chased the same day (then it is known), but half of the
            # evaluation day's are still being chased.
            chased = a["cause"] == "unknown" and (d < len(days) - 1 or i % 2)
            cause = "personal" if chased else a["cause"]
            rows.append(
                {
                    "school_id": school.pk,
                    "school_class_id": class_ids[kids[i]["class"]],
                    "child_id": child_ids[i],
                    "date": day,
                    "cause": cause,
                    "symptoms": a["symptoms"],
                    "diagnosis": "上呼吸道感染" if "cough" in a["symptoms"] else "",
                    "note": "",
                    "follow_up_id": follow_up_of.get(a["episode"]),
                    "chased_at": aware(day, 10 * 3600) if chased else None,
                    "chased_by_id": teacher if chased and kids[i]["class"] == 0 else None,
                    "recorded_at": aware(day, 8 * 3600 + 30 * 60),
                }
            )
            keys.append((d, i))
    insert_rows(AttendanceDay, attendance)
    pks = insert_returning(Absence, rows)
    return {
        "attendance_days": len(attendance),
        "follow_ups": len(follow_ups),
        "absence_pks": dict(zip(keys, pks, strict=True)),
    }


def _checks_and_meals(school, plan, class_ids, child_ids, days, users) -> dict:
    """The morning checks (a HealthCheck per class and day, a ChildCheck per present child)
    and lunch seats; returns the child checks' pks by (day index, child index)."""
    from bench.supervision_seed import insert_rows
    from huxiao.health.models import ChildCheck, DiningSeat, HealthCheck

    kids, classes = plan["children"], plan["classes"]
    teacher = users["teacher"].pk
    rng = random.Random(f"{SEED}:meals:{plan['rng_seed']}")
    health_checks, check_keys = [], []
    for d, (day, checks) in enumerate(zip(days, plan["checks"], strict=True)):
        by_class: dict[int, list[dict]] = {}
        for i, row in checks.items():
            by_class.setdefault(kids[i]["class"], []).append(row)
        for k, c in enumerate(classes):
            rows = by_class.get(k, [])
            if not rows:
                continue  # not taken yet
            check_keys.append((d, k))
            health_checks.append(
                {
                    "school_id": school.pk,
                    "school_class_id": class_ids[k],
                    "date": day,
                    "session": "morning",
                    "checkpoint": c["checkpoint"],
                    "expected": c["size"],
                    "checked": len(rows),
                    "unwell": sum(r["action"] != "none" or bool(r["symptoms"]) for r in rows),
                    "recorded_by_id": teacher if k == 0 else None,
                    # Saved a second after the last tick: every child carries a tick time of
                    # its own (a result timed at the save is an untimed one: contacts.py).
                    "recorded_at": aware(
                        day, max((r["at"] for r in rows), default=CHECK_START_S) + 1
                    ),
                    "updated_at": aware(day, 9 * 3600),
                }
            )
    check_pks = insert_returning(HealthCheck, health_checks)
    check_of = dict(zip(check_keys, check_pks, strict=True))
    rows, keys, seats = [], [], []
    for d, (day, checks) in enumerate(zip(days, plan["checks"], strict=True)):
        for i, row in sorted(checks.items()):
            unwell = row["action"] != "none" or bool(row["symptoms"])
            rows.append(
                {
                    "health_check_id": check_of[(d, kids[i]["class"])],
                    "school_id": school.pk,
                    "child_id": child_ids[i],
                    "date": day,
                    "checkpoint": row["checkpoint"],
                    "checked_at": aware(day, row["at"]),
                    "temperature": row["temperature"],
                    "symptoms": row["symptoms"],
                    "symptom_note": "",
                    "is_well": not unwell,
                    "action": row["action"],
                    "note": "",
                }
            )
            keys.append((d, i))
            if row["action"] in ("sent_home", "hospital"):
                continue  # not at lunch
            table = kids[i]["table"]
            if rng.random() < NEXT_TABLE_SHARE:
                number = int(table[3:6]) + rng.choice((-1, 1))
                number = max(1, number)
                table = f"{'一' if (number - 1) % 2 == 0 else '二'}食堂{number:03d}号桌"
            seats.append(
                {
                    "school_id": school.pk,
                    "school_class_id": class_ids[kids[i]["class"]],
                    "child_id": child_ids[i],
                    "date": day,
                    "table": table,
                }
            )
    pks = insert_returning(ChildCheck, rows)
    insert_rows(DiningSeat, seats)
    return {
        "health_checks": len(health_checks),
        "child_checks": len(rows),
        "dining_seats": len(seats),
        "child_check_pks": dict(zip(keys, pks, strict=True)),
    }


def _school_events(school, plan, class_ids, child_ids, days, absences, checks) -> int:
    """The line list of the traced school: each unwell child's check and illness absence."""
    from bench.supervision_seed import insert_rows
    from huxiao.health.models import SymptomEvent

    kids = plan["children"]
    rows = []
    for d, day in enumerate(days):
        for source, records, anchors, key in (
            ("check", plan["checks"][d], checks, "child_check_id"),
            ("absence", plan["absences"][d], absences, "absence_id"),
        ):
            for i, record in sorted(records.items()):
                rows += [
                    {
                        "school_id": school.pk,
                        "school_class_id": class_ids[kids[i]["class"]],
                        "child_id": child_ids[i],
                        "date": day,
                        "symptom": symptom,
                        "source": source,
                        key: anchors[(d, i)],
                    }
                    for symptom in record["symptoms"]
                ]
    insert_rows(SymptomEvent, rows)
    return len(rows)


def _cases(school, plan, class_ids, child_ids, days, checks, users) -> list[dict]:
    from huxiao.health.models import HealthCase

    kids = plan["children"]
    cases = []
    for n, case in enumerate(plan["cases"]):
        i, onset = case["child"], days[case["onset"]]
        cases.append(
            HealthCase(
                school=school,
                school_class_id=class_ids[kids[i]["class"]],
                child_id=child_ids[i],
                status="active",
                symptoms=["fever", "cough"],
                temperature=38.5,
                onset_date=onset,
                contact_window_days=case["window_days"],
                isolated_at=aware(onset, 8 * 3600 + 20 * 60 + n) if case["isolated"] else None,
                isolation_place="观察室" if case["isolated"] else "",
                child_check_id=checks.get((case["onset"], i)),
                reported_by=users["teacher"],
                reported_at=aware(onset, 8 * 3600 + 10 * 60),
            )
        )
    rows = HealthCase.objects.bulk_create(cases)
    return [
        {"case_id": row.pk, "kind": case["kind"], "class": kids[case["child"]]["class"]}
        for row, case in zip(rows, plan["cases"], strict=True)
    ]


def _county(world: dict, facts: list[dict], evaluation: dt.date, now) -> dict:
    """Every other school's children and its symptom events, school by school in batches."""
    from bench.supervision_seed import insert_rows
    from huxiao.health.models import SymptomEvent
    from huxiao.people.models import Child

    days = county_days(evaluation)
    counts = {"children": 0, "symptom_events": 0, "planted": {k: 0 for k in PLANTED_EVERY}}
    pending: list[tuple] = []  # (school, facts)

    def flush():
        kids = []
        for school, f in pending:
            for class_id, size in zip(world["class_ids"][school.pk], f["class_sizes"], strict=True):
                kids += [
                    _child_row(
                        school.pk, class_id, f"儿童{school.pk}-{class_id}-{c:02d}", "male", now
                    )
                    for c in range(size)
                ]
        pks = iter(insert_returning(Child, kids))
        events = []
        for school, f in pending:
            class_ids = world["class_ids"][school.pk]
            ids = [[next(pks) for _ in range(size)] for size in f["class_sizes"]]
            n = int(school.name[-4:])
            for k, c, day, symptom in county_events(n, f["class_sizes"], days):
                events.append(
                    {
                        "school_id": school.pk,
                        "school_class_id": class_ids[k],
                        "child_id": ids[k][c],
                        "date": day,
                        "symptom": symptom,
                        "source": "check",
                    }
                )
        insert_rows(SymptomEvent, events)
        counts["children"] += len(kids)
        counts["symptom_events"] += len(events)
        pending.clear()

    for n, (school, f) in enumerate(zip(world["schools"], facts, strict=True)):
        if n == 0:
            continue
        kind = planted(n)
        if kind:
            counts["planted"][kind] += 1
        pending.append((school, f))
        if len(pending) >= 100:
            flush()
            log(f"county: {counts['children']:,} children, {counts['symptom_events']:,} events")
    if pending:
        flush()
    counts["days"] = [days[0].isoformat(), days[-1].isoformat(), len(days)]
    return counts


def build(
    *,
    schools: int,
    anchor: dt.date,
    towns: int = TOWNS,
    classes: int = CLASSES,
    children: int = CHILDREN,
    days: int = SCHOOL_DAYS,
    cases: int = CASES,
) -> dict:
    """Generate the county and its traced school; returns what the measurements need."""
    from django.db import transaction
    from django.utils import timezone

    started = time.perf_counter()
    evaluation = evaluation_day(anchor)
    school_day_list = school_days(evaluation, days)
    plan = plan_school(classes=classes, children=children, days=days, cases=cases)
    facts = [None, *(school_facts(n) for n in range(1, schools))]
    now = timezone.now()
    with transaction.atomic():
        world = _world(schools, towns, plan, facts)
        school = world["schools"][0]
        class_ids = world["class_ids"][school.pk]
        staff = _staff(school, plan, class_ids, world["users"], now)
        child_ids = _write_children(school, plan, class_ids, now)
    log(
        f"{schools:,} schools in {world['towns']} towns; the traced school: "
        f"{len(child_ids):,} children in {len(class_ids)} classes, {days} school days "
        f"({school_day_list[0]} – {evaluation})"
    )
    buses = _buses(school, plan, child_ids, staff["officers"], school_day_list)
    dorms = _dormitories(school, plan, child_ids, school_day_list)
    attendance = _attendance(school, plan, class_ids, child_ids, school_day_list, world["users"])
    checks = _checks_and_meals(school, plan, class_ids, child_ids, school_day_list, world["users"])
    school_events = _school_events(
        school,
        plan,
        class_ids,
        child_ids,
        school_day_list,
        attendance.pop("absence_pks"),
        checks["child_check_pks"],
    )
    case_rows = _cases(
        school,
        plan,
        class_ids,
        child_ids,
        school_day_list,
        checks.pop("child_check_pks"),
        world["users"],
    )
    log(
        f"traced school: {checks['child_checks']:,} child checks, "
        f"{checks['dining_seats']:,} dining seats, {buses['boardings']:,} boardings, "
        f"{dorms:,} dormitory rows, {len(case_rows)} cases"
    )
    county = _county(world, facts, evaluation, now)
    analyze()
    log(f"county: {county['children']:,} children, {county['symptom_events']:,} symptom events")
    absences = sum(len(a) for a in plan["absences"])
    return {
        "region_id": world["region"].pk,
        "school_id": school.pk,
        "page_class_id": class_ids[0],
        "schools": schools,
        "towns": world["towns"],
        "anchor": anchor.isoformat(),
        "evaluation_day": evaluation.isoformat(),
        "traced_school": {
            "classes": len(class_ids),
            "children": len(child_ids),
            "page_class_size": plan["classes"][0]["size"],
            "school_days": [school_day_list[0].isoformat(), evaluation.isoformat(), days],
            "check_points": len({c["checkpoint"] for c in plan["classes"]}),
            "absences": absences,
            **attendance,
            **checks,
            "symptom_events": school_events,
            **buses,
            "dormitory_rows": dorms,
            "boarders": sum(bool(k["rooms"]) for k in plan["children"]),
            "head_teachers": staff["heads"],
            "class_staff": staff["class_staff"],
        },
        "cases": case_rows,
        "county": county,
        "generated_s": round(time.perf_counter() - started, 1),
    }


def actors(school_id: int) -> dict:
    """The users whose pages are measured."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    return {"teacher": users.get(username="bench-trc-teacher"), "school_id": school_id}
