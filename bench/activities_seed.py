"""The generated county of bench/activities.py (issue 8): 1,000 schools over 12 towns with
three school years of safety activities.

What each school is comes from `school_facts(n)` alone (deterministic, so the intended shares
are known and unit-tested): a kindergarten (3–9 classes of 20–30 children) or a primary
school (6–18 classes of 35–45 pupils); whether it is *irregular* (misses some drill weeks),
has *education gaps* (some classes without a safety-education session in some terms) and has
a legal vice-principal (`patrols.LegalVicePrincipal`, an officer of its town's station).

The terms are the shipped default calendar (`drills.terms.default_term`), entered for the
county as `drills.Term` rows: the autumn and spring terms of the two school years before the
evaluation day's and the autumn term it falls in (five terms). `plan_school` lays out one
school's activities over them (deterministic too), dated relative to the evaluation day:

- an evacuation drill in every school week of every term (`drills.terms.school_weeks`: a
  Monday–Sunday week with a weekday inside the term and outside its holidays), on a teaching
  day of the week, held with its
  timed `DrillRecord` — except the weeks an irregular school misses (a third of those have a
  cancelled drill instead); the running week's drill is held if its day is before the
  evaluation day, else planned, and the next PLANNED_WEEKS weeks of the term are planned;
- per term, a safety-education session for each class (some listing a whole grade, some
  terms one whole-school session instead), a legal lecture (by the legal vice-principal
  mostly), a parent meeting (attended by the legal vice-principal mostly), one or two staff
  trainings; each may be missing with a small share; one dated after the evaluation day is
  planned.

About 165 activities a school (≈165,000 for the county), 90,000 drill records. Rows are
written with bench/supervision_seed.insert_rows (executemany on SQLite, COPY on PostgreSQL).
Users: a county and one town education supervisor per town office, the principal of school
0 (the calendar page's user) and the station officers.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import sys
import time

SEED = "huxiao-bench-activities-v1"
REGION_CODE = "BENCHACT"
TOWNS = 12
SCHOOL_YEARS = 3
KINDERGARTEN_SHARE = 0.35
IRREGULAR_SHARE = 0.3  # schools that miss some drill weeks
EDUCATION_GAP_SHARE = 0.25  # schools with classes missing a safety-education session
NO_LVP_SHARE = 0.05  # schools without a legal vice-principal
SCHOOLS_PER_OFFICER = 15
PLANNED_WEEKS = 3  # weeks after the evaluation day with a planned drill
DRILL_KINDS = ("fire", "earthquake", "intrusion", "other")
DRILL_TITLES = {
    "fire": "消防疏散演练",
    "earthquake": "防震疏散演练",
    "intrusion": "防暴入侵演练",
    "other": "应急疏散演练",
}
PRIMARY_GRADES = ("一年级", "二年级", "三年级", "四年级", "五年级", "六年级")
KINDERGARTEN_GRADES = ("小班", "中班", "大班")
CALENDAR_SCHOOL = 0  # the school whose calendar page is measured: a large, irregular primary


def log(message: str) -> None:
    print(f"activities: {message}", file=sys.stderr, flush=True)


def evaluation_day(today: dt.date) -> dt.date:
    """The day compliance is evaluated on: a day late in the autumn term of the third school
    year — today if today is between 1 November and the end of an autumn term (20 January),
    else the 1 December before today."""
    year = today.year if today.month >= 9 else today.year - 1
    if dt.date(year, 11, 1) <= today <= dt.date(year + 1, 1, 20):
        return today
    year = today.year if today >= dt.date(today.year, 12, 1) else today.year - 1
    return dt.date(year, 12, 1)


def bench_terms(evaluation: dt.date, years: int = SCHOOL_YEARS) -> list:
    """The default-calendar terms (unsaved `drills.Term`) of `years` school years up to the
    autumn term containing `evaluation`, oldest first."""
    from huxiao.drills.terms import default_term

    last = evaluation.year if evaluation.month >= 9 else evaluation.year - 1
    terms = []
    for year in range(last - years + 1, last + 1):
        terms.append(default_term(None, dt.date(year, 9, 1)))
        if year < last:
            terms.append(default_term(None, dt.date(year + 1, 3, 1)))
    if not terms[-1].starts_on <= evaluation <= terms[-1].ends_on:
        raise ValueError(f"{evaluation} is not in the autumn term {terms[-1].name}")
    return terms


def school_weeks(term) -> list[tuple[dt.date, list[dt.date]]]:
    """(Monday, its teaching days) of each school week of the term, as the rules count them
    (`drills.terms.school_weeks`): teaching days are the week's Monday–Friday inside the term
    and outside its holidays, never none."""
    from huxiao.drills.terms import school_weeks as mondays
    from huxiao.drills.terms import term_breaks

    breaks = term_breaks(term)
    weeks = []
    for monday in mondays(term):
        days = [monday + dt.timedelta(days=k) for k in range(5)]
        weeks.append(
            (
                monday,
                [
                    d
                    for d in days
                    if term.starts_on <= d <= term.ends_on
                    and not any(a <= d <= b for a, b in breaks)
                ],
            )
        )
    return weeks


def teaching_days(term) -> list[dt.date]:
    return [day for _monday, days in school_weeks(term) for day in days]


def school_facts(n: int) -> dict:
    """What school `n` is (deterministic)."""
    rng = random.Random(f"{SEED}:school:{n}")
    kindergarten = rng.random() < KINDERGARTEN_SHARE
    if kindergarten:
        count, grades, size = rng.randint(3, 9), KINDERGARTEN_GRADES, (20, 30)
    else:
        count, grades, size = rng.randint(6, 18), PRIMARY_GRADES, (35, 45)
    irregular = rng.random() < IRREGULAR_SHARE
    miss_share = rng.uniform(0.05, 0.2) if irregular else 0.0
    gaps = rng.random() < EDUCATION_GAP_SHARE
    has_lvp = rng.random() >= NO_LVP_SHARE
    if n == CALENDAR_SCHOOL:
        kindergarten, count, grades, size = False, 18, PRIMARY_GRADES, (35, 45)
        irregular, miss_share, gaps, has_lvp = True, 0.1, False, True
    classes = []
    for k in range(count):
        grade = grades[k % len(grades)]
        number = k // len(grades) + 1
        classes.append({"grade": grade, "name": f"{grade}（{number}）班"})
    sizes = [rng.randint(*size) for _ in classes]
    return {
        "stage": "kindergarten" if kindergarten else "primary",
        "classes": classes,
        "class_sizes": sizes,
        "enrolment": sum(sizes),
        "irregular": irregular,
        "miss_share": round(miss_share, 3),
        "education_gaps": gaps,
        "has_lvp": has_lvp,
        "plan_seed": rng.randrange(1 << 30),
    }


def _status(day: dt.date, evaluation: dt.date) -> str:
    return "held" if day < evaluation else "planned"


def _activity(kind: str, day: dt.date, at: tuple[int, int], minutes: int, **fields) -> dict:
    return {
        "kind": kind,
        "date": day,
        "at": at,
        "minutes": minutes,
        "drill_kind": "",
        "whole_school": False,
        "classes": (),
        "police": None,  # "lvp" or "other" officer of the station
        **fields,
    }


def _drills(rng, facts: dict, term, evaluation: dt.date, design: dict) -> list[dict]:
    planned_until = evaluation + dt.timedelta(weeks=PLANNED_WEEKS)
    rows = []
    for index, (monday, days) in enumerate(school_weeks(term)):
        if monday > planned_until:
            break
        day = rng.choice(days)
        drill_kind = DRILL_KINDS[index % len(DRILL_KINDS)]
        title = f"第{index + 1}周{DRILL_TITLES[drill_kind]}"
        completed = monday + dt.timedelta(days=6) < evaluation
        at = (10, rng.randrange(0, 40))
        if completed and rng.random() < facts["miss_share"]:
            design["missed_weeks"].append(monday)
            if rng.random() < 1 / 3:
                rows.append(
                    _activity(
                        "drill",
                        day,
                        at,
                        20,
                        title=title,
                        drill_kind=drill_kind,
                        status="cancelled",
                        cancel_reason="恶劣天气，改期",
                    )
                )
            continue
        status = _status(day, evaluation)
        absent = rng.randrange(0, 6)
        rows.append(
            _activity(
                "drill",
                day,
                at,
                20,
                title=title,
                drill_kind=drill_kind,
                status=status,
                whole_school=True,
                headcount=facts["enrolment"] - absent if status == "held" else None,
                record={
                    "seconds": rng.randrange(90, 300),
                    "expected": facts["enrolment"] - absent,
                },
            )
        )
    return rows


def _sessions(rng, facts: dict, term, days: list[dt.date], evaluation, design) -> list[dict]:
    """Safety-education sessions of one term: per class, some per grade, or one for the
    whole school; an education-gap school leaves some classes without one."""
    classes = list(range(len(facts["classes"])))
    if not facts["education_gaps"] and rng.random() < 0.1:
        day = rng.choice(days)
        return [
            _activity(
                "safety_education",
                day,
                (14, 30),
                40,
                title="全校安全教育大会",
                status=_status(day, evaluation),
                whole_school=True,
                headcount=facts["enrolment"],
            )
        ]
    if facts["education_gaps"]:
        missing = [k for k in classes if rng.random() < 0.15]
        design["classes_missing"].append(len(missing))
        classes = [k for k in classes if k not in missing]
    by_grade: dict[str, list[int]] = {}
    for k in classes:
        by_grade.setdefault(facts["classes"][k]["grade"], []).append(k)
    groups = []
    for grade_classes in by_grade.values():
        if len(grade_classes) > 1 and rng.random() < 0.2:
            groups.append(grade_classes)
        else:
            groups += [[k] for k in grade_classes]
    rows = []
    for group in groups:
        day = rng.choice(days)
        label = facts["classes"][group[0]]["grade"] if len(group) > 1 else ""
        name = label or facts["classes"][group[0]]["name"]
        rows.append(
            _activity(
                "safety_education",
                day,
                (15, rng.randrange(0, 30)),
                40,
                title=f"{name}自护安全教育课",
                status=_status(day, evaluation),
                classes=tuple(group),
                headcount=sum(facts["class_sizes"][k] for k in group),
            )
        )
    return rows


def _term_others(rng, facts: dict, days: list[dt.date], evaluation) -> list[dict]:
    """The term's legal lecture, parent meeting and staff trainings."""
    rows = []
    if rng.random() >= 0.1:
        day = rng.choice(days)
        by_lvp = facts["has_lvp"] and rng.random() < 0.93
        rows.append(
            _activity(
                "legal_lecture",
                day,
                (9, 0),
                60,
                title="法治进校园专题讲座",
                status=_status(day, evaluation),
                whole_school=True,
                headcount=facts["enrolment"],
                police="lvp" if by_lvp else "other",
            )
        )
    if rng.random() >= 0.08:
        day = rng.choice(days)
        rows.append(
            _activity(
                "parent_meeting",
                day,
                (18, 30),
                90,
                title="家长会（安全专题）",
                status=_status(day, evaluation),
                whole_school=True,
                police="lvp" if facts["has_lvp"] and rng.random() < 0.8 else None,
            )
        )
    for k in range(rng.choice((0, 1, 1, 1, 2, 2))):
        day = rng.choice(days)
        rows.append(
            _activity(
                "staff_training",
                day,
                (16, 30),
                60,
                title=("消防器材使用培训", "应急处置培训")[k],
                status=_status(day, evaluation),
                headcount=rng.randrange(10, 60),
            )
        )
    return rows


def plan_school(n: int, facts: dict, terms: list, evaluation: dt.date) -> tuple[list, dict]:
    """School `n`'s activities over `terms` (dicts, oldest term first) and what it was made
    to miss in the evaluation's term (deterministic)."""
    rows, design = [], {}
    for term in terms:
        rng = random.Random(f"{SEED}:plan:{facts['plan_seed']}:{term.starts_on}")
        current = {"missed_weeks": [], "classes_missing": []}
        days = teaching_days(term)
        rows += _drills(rng, facts, term, evaluation, current)
        rows += _sessions(rng, facts, term, days, evaluation, current)
        rows += _term_others(rng, facts, days, evaluation)
        design = current  # the last term's: the evaluation's
    return rows, design


def aware(day: dt.date, hour: int, minute: int) -> dt.datetime:
    from django.utils import timezone

    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _ensure_rules(region) -> str:
    """The county's default activity rules (ActivityRule rows) from drills/rules.py."""
    try:
        from huxiao.drills.rules import ensure_rules
    except ImportError:
        return "not available (drills.rules.ensure_rules missing)"
    ensure_rules(region)
    return "drills.rules.ensure_rules"


def _world(schools: int, towns: int, facts: list[dict]) -> dict:
    """County, towns, offices, stations, schools, classes, users and legal vice-principals."""
    from django.contrib.auth import get_user_model

    from huxiao.core.roles import OrgKind, Role
    from huxiao.orgs.models import Membership, Organization, Region, Town
    from huxiao.people.models import SchoolClass

    User = get_user_model()
    per_town = math.ceil(schools / towns)
    towns_count = math.ceil(schools / per_town)
    region = Region.objects.create(code=REGION_CODE, name="活动基准县")
    county_office = Organization.objects.create(
        kind=OrgKind.EDUCATION_OFFICE, name="活动基准县教育局", region=region
    )
    town_rows = Town.objects.bulk_create(
        [
            Town(region=region, code=f"{REGION_CODE}{n:02d}", name=f"活动镇{n:02d}")
            for n in range(towns_count)
        ]
    )
    offices = Organization.objects.bulk_create(
        [
            Organization(
                kind=OrgKind.EDUCATION_OFFICE, name=f"{t.name}中心校", region=region, town=t
            )
            for t in town_rows
        ]
    )
    stations = Organization.objects.bulk_create(
        [
            Organization(kind=OrgKind.POLICE_STATION, name=f"{t.name}派出所", region=region, town=t)
            for t in town_rows
        ]
    )
    school_rows = Organization.objects.bulk_create(
        [
            Organization(
                kind=OrgKind.KINDERGARTEN if f["stage"] == "kindergarten" else OrgKind.SCHOOL,
                name=f"活动学校{n:04d}",
                region=region,
                town=town_rows[n // per_town],
                stage=f["stage"],
                enrolment=f["enrolment"],
                police_station=stations[n // per_town],
                education_office=offices[n // per_town] if n % 2 else None,
            )
            for n, f in enumerate(facts)
        ],
        batch_size=500,
    )
    classes = SchoolClass.objects.bulk_create(
        [
            SchoolClass(school=school, name=c["name"], grade=c["grade"])
            for school, f in zip(school_rows, facts, strict=True)
            for c in f["classes"]
        ],
        batch_size=2000,
    )
    class_ids: dict[int, list[int]] = {}
    for row in classes:
        class_ids.setdefault(row.school_id, []).append(row.pk)

    officers_per_town = math.ceil(per_town / SCHOOLS_PER_OFFICER)
    users = User.objects.bulk_create(
        [
            User(username="bench-act-county", first_name="县督导", password="!"),
            User(username="bench-act-principal", first_name="校长", password="!"),
        ]
        + [User(username=f"bench-act-town-{n:02d}", password="!") for n in range(towns_count)]
        + [
            User(
                username=f"bench-act-officer-{t:02d}-{k}",
                first_name=f"民警{t:02d}{k}",
                password="!",
            )
            for t in range(towns_count)
            for k in range(officers_per_town)
        ]
    )
    county_user, principal = users[0], users[1]
    town_users = users[2 : 2 + towns_count]
    officers = users[2 + towns_count :]
    officers_of = [
        officers[t * officers_per_town : (t + 1) * officers_per_town] for t in range(towns_count)
    ]
    memberships = [
        Membership(user=county_user, organization=county_office, role=Role.EDUCATION_SUPERVISOR),
        Membership(user=principal, organization=school_rows[CALENDAR_SCHOOL], role=Role.PRINCIPAL),
    ]
    memberships += [
        Membership(user=u, organization=o, role=Role.EDUCATION_SUPERVISOR)
        for u, o in zip(town_users, offices, strict=True)
    ]
    for t, station in enumerate(stations):
        for officer in officers_of[t]:
            memberships.append(
                Membership(user=officer, organization=station, role=Role.POLICE_OFFICER)
            )
            memberships.append(
                Membership(
                    user=officer,
                    organization=station,
                    role=Role.LEGAL_VICE_PRINCIPAL,
                    title="法制副校长",
                )
            )
    Membership.objects.bulk_create(memberships)
    return {
        "region": region,
        "schools": school_rows,
        "class_ids": class_ids,
        "stations": stations,
        "officers_of": officers_of,
        "per_town": per_town,
        "towns": towns_count,
    }


def _lvps(world: dict, facts: list[dict], since: dt.date) -> dict[int, int]:
    """Each school's legal vice-principal (an officer of its station): school pk → user pk."""
    from huxiao.patrols.models import LegalVicePrincipal

    rows, lvp_of = [], {}
    for n, (school, f) in enumerate(zip(world["schools"], facts, strict=True)):
        if not f["has_lvp"]:
            continue
        town = n // world["per_town"]
        officer = world["officers_of"][town][(n % world["per_town"]) // SCHOOLS_PER_OFFICER]
        lvp_of[school.pk] = officer.pk
        rows.append(
            LegalVicePrincipal(
                school=school,
                station=world["stations"][town],
                officer=officer,
                term_start=since,
                appointment_no=f"活公法〔{since.year}〕{n + 1}号",
            )
        )
    LegalVicePrincipal.objects.bulk_create(rows, batch_size=2000)
    return lvp_of


def _activity_row(school, activity: dict, police_id, now: dt.datetime) -> dict:
    starts = aware(activity["date"], *activity["at"])
    ends = starts + dt.timedelta(minutes=activity["minutes"])
    held = activity["status"] == "held"
    return {
        "school_id": school.pk,
        "kind": activity["kind"],
        "drill_kind": activity["drill_kind"],
        "status": activity["status"],
        "title": activity["title"],
        "date": activity["date"],
        "starts_at": starts,
        "ends_at": ends if held else None,
        "location": "操场" if activity["kind"] == "drill" else "多功能厅",
        "organiser_name": "安全办",
        "whole_school": activity["whole_school"],
        "headcount": activity.get("headcount"),
        "police_officer_id": police_id,
        "police_confirmed_at": ends if police_id and held else None,
        "content": "",
        "outcome": "按预案完成，秩序良好。" if held else "",
        "cancel_reason": activity.get("cancel_reason", ""),
        "created_at": min(starts - dt.timedelta(days=3), now),
        "updated_at": min(ends, now),
    }


def _write_activities(world, facts, terms, evaluation, lvp_of) -> dict:
    """Every school's activities, their drill records and class links, in batches."""
    from django.utils import timezone

    from bench.supervision_seed import insert_rows
    from huxiao.drills.models import Activity, DrillRecord

    now = timezone.now()
    Link = Activity.classes.through
    counts = {"activities": 0, "drill_records": 0, "class_links": 0, "by_status": {}}
    designed = {"schools_missing_a_week": 0, "weeks_missed": 0, "classes_missing": 0}
    pending: list[tuple[dict, dict]] = []  # (row, plan)

    def flush():
        first = Activity.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        insert_rows(Activity, [row for row, _plan in pending])
        made = list(
            Activity.objects.filter(pk__gt=first)
            .order_by("pk")
            .values_list("pk", "school_id", "date", "kind")
        )
        expected = [(r["school_id"], r["date"], r["kind"]) for r, _plan in pending]
        if [m[1:] for m in made] != expected:
            raise RuntimeError("activity rows did not come back in insertion order")
        records, links = [], []
        for (pk, *_rest), (row, plan) in zip(made, pending, strict=True):
            record = plan.get("record")
            if record and row["status"] == "held":
                records.append(
                    {
                        "activity_id": pk,
                        "signal_at": row["starts_at"],
                        "all_out_at": row["starts_at"] + dt.timedelta(seconds=record["seconds"]),
                        "expected_headcount": record["expected"],
                        "counted_headcount": record["expected"],
                        "missing_resolved": True,
                        "updated_at": row["updated_at"],
                    }
                )
            classes = world["class_ids"][row["school_id"]]
            links += [{"activity_id": pk, "schoolclass_id": classes[k]} for k in plan["classes"]]
        insert_rows(DrillRecord, records)
        insert_rows(Link, links)
        counts["activities"] += len(made)
        counts["drill_records"] += len(records)
        counts["class_links"] += len(links)
        pending.clear()

    for n, (school, f) in enumerate(zip(world["schools"], facts, strict=True)):
        plans, design = plan_school(n, f, terms, evaluation)
        designed["schools_missing_a_week"] += bool(design["missed_weeks"])
        designed["weeks_missed"] += len(design["missed_weeks"])
        designed["classes_missing"] += sum(design["classes_missing"])
        town = n // world["per_town"]
        for plan in plans:
            police = plan["police"]
            police_id = (
                lvp_of.get(school.pk)
                if police == "lvp"
                else world["officers_of"][town][-1].pk
                if police == "other"
                else None
            )
            if police == "other" and police_id == lvp_of.get(school.pk):
                police_id = world["officers_of"][town][0].pk  # another officer than the LVP
            pending.append((_activity_row(school, plan, police_id, now), plan))
            status = counts["by_status"]
            status[plan["status"]] = status.get(plan["status"], 0) + 1
        if len(pending) >= 20_000:
            flush()
            log(f"activities: {counts['activities']:,} ({n + 1:,} of {len(facts):,} schools)")
    flush()
    return {**counts, "designed_in_evaluation_term": designed}


def build(*, schools: int, anchor: dt.date, towns: int = TOWNS) -> dict:
    """Generate the county (the evaluation day is `evaluation_day(anchor)`); returns what the
    measurements and the report need."""
    from django.db import connection, transaction

    from huxiao.drills.models import Term

    started = time.perf_counter()
    evaluation = evaluation_day(anchor)
    terms = bench_terms(evaluation)
    facts = [school_facts(n) for n in range(schools)]
    with transaction.atomic():
        world = _world(schools, towns, facts)
        region = world["region"]
        for term in terms:
            term.region = region
        Term.objects.bulk_create(terms)
        lvp_of = _lvps(world, facts, terms[0].starts_on - dt.timedelta(days=365))
        rules_source = _ensure_rules(region)
    log(
        f"{schools:,} schools in {world['towns']} towns, "
        f"{sum(len(c) for c in world['class_ids'].values()):,} classes, {len(terms)} terms "
        f"({terms[0].starts_on} – {terms[-1].ends_on}), evaluation day {evaluation}"
    )
    written = _write_activities(world, facts, terms, evaluation, lvp_of)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log(
        f"{written['activities']:,} activities, {written['drill_records']:,} drill records, "
        f"{written['class_links']:,} class links; rules: {rules_source}"
    )
    return {
        "region_id": region.pk,
        "schools": schools,
        "towns": world["towns"],
        "kindergartens": sum(f["stage"] == "kindergarten" for f in facts),
        "classes": sum(len(f["classes"]) for f in facts),
        "terms": [
            {"name": t.name, "starts_on": t.starts_on.isoformat(), "ends_on": t.ends_on.isoformat()}
            for t in terms
        ],
        "evaluation_day": evaluation.isoformat(),
        "legal_vice_principals": len(lvp_of),
        "rules": rules_source,
        **written,
        "designed_in_evaluation_term": {
            **written["designed_in_evaluation_term"],
            "irregular_schools": sum(f["irregular"] for f in facts),
            "education_gap_schools": sum(f["education_gaps"] for f in facts),
            "schools_without_lvp": schools - len(lvp_of),
        },
        "anchor": anchor.isoformat(),
        "generated_s": round(time.perf_counter() - started, 1),
    }


def actors(region_id: int) -> dict:
    """The users whose pages are measured, and what they look at."""
    from django.contrib.auth import get_user_model

    from huxiao.orgs.models import Organization, Town

    users = get_user_model().objects
    return {
        "county": users.get(username="bench-act-county"),
        "town": users.get(username="bench-act-town-00"),
        "principal": users.get(username="bench-act-principal"),
        "town_id": Town.objects.filter(region_id=region_id).order_by("code").first().pk,
        "school_id": Organization.objects.get(
            region_id=region_id, name=f"活动学校{CALENDAR_SCHOOL:04d}"
        ).pk,
    }
