"""The generated county of bench/supervision.py (issue 6): schools, inspections, hazards.

One county (region BENCHSUP) of --schools schools in towns of 50, each town with its
education office (central school) and police station, plus a county education office.
Users: an education supervisor of the county office (sees every school), one of each town
office, and per school a principal and a security officer (the hazards' owner).

Hazards (100 per school by default) are spread over two years, newest first in the list:
70 % closed, 30 % open (reported, assigned, rectifying, submitted). A third of the open
ones are past their deadline, in equal thirds at escalation level 0 (never escalated),
1 (escalated to the principal two days ago) and 2 (at the supervising office since
yesterday): the first run of the daily job on the anchor day moves the first two thirds
one level each (those the service escalates: not the submitted ones, which wait on the
verifier) — a heavier day than the steady state, where only hazards that fell overdue
yesterday or the day before move. Inspections (20 per school by default) are
signed off over the past year; one hazard in five points at one of them.

Everything is dated relative to the anchor day (the day the data were generated), so the
cached database is rebuilt on another day. Rows are written with executemany (SQLite) or
COPY (PostgreSQL) through the fields' own database conversions.
"""

from __future__ import annotations

import datetime as dt
import random
import time

SEED = "huxiao-bench-supervision-v1"
REGION_CODE = "BENCHSUP"
SCHOOLS_PER_TOWN = 50
BATCH = 20_000
CATEGORIES = (
    "staffing",
    "equipment",
    "technical",
    "physical",
    "rules",
    "canteen",
    "dormitory",
    "traffic",
    "surroundings",
    "other",
)
OPEN_STATUSES = ("reported", "assigned", "rectifying", "submitted")
INSPECTION_KINDS = ("self_check", "police", "central_school", "governance", "joint")
JOB_HOUR = dt.time(7, 30)


def aware(day: dt.date, at: dt.time = JOB_HOUR) -> dt.datetime:
    from django.utils import timezone

    return timezone.make_aware(dt.datetime.combine(day, at))


def job_now(anchor: dt.date) -> dt.datetime:
    """When the daily job runs on the anchor day (07:30 local, as tasks.py schedules it)."""
    return aware(anchor)


def level_1_escalated_at(anchor: dt.date) -> dt.datetime:
    return aware(anchor - dt.timedelta(days=2))


def level_2_escalated_at(anchor: dt.date) -> dt.datetime:
    return aware(anchor - dt.timedelta(days=1))


def hazard_facts(index: int, anchor: dt.date) -> dict:
    """What hazard `index` is: deterministic, so the expected counts are known."""
    rng = random.Random(f"{SEED}:hazard:{index}")
    roll = rng.random()
    minute = dt.time(rng.randrange(8, 18), rng.randrange(60), rng.randrange(60))
    facts = {
        "category": CATEGORIES[rng.randrange(len(CATEGORIES))],
        "level": "major" if rng.random() < 0.1 else "general",
        "escalation_level": 0,
        "escalated_at": None,
        "submitted_at": None,
        "closed_at": None,
        "overdue": False,
    }
    if roll < 0.7:
        reported = anchor - dt.timedelta(days=rng.randrange(31, 730))
        facts.update(
            status="closed",
            reported_at=aware(reported, minute),
            deadline=reported + dt.timedelta(days=14),
            submitted_at=aware(reported + dt.timedelta(days=rng.randrange(1, 14)), minute),
            closed_at=aware(reported + dt.timedelta(days=rng.randrange(14, 20)), minute),
        )
        return facts
    status = OPEN_STATUSES[int((roll - 0.7) / 0.3 * len(OPEN_STATUSES))]
    if rng.random() < 1 / 3:
        deadline = anchor - dt.timedelta(days=rng.randrange(2, 60))
        reported = deadline - dt.timedelta(days=rng.randrange(7, 30))
        level = rng.randrange(3)
        facts.update(
            overdue=True,
            escalation_level=level,
            escalated_at=(
                None
                if level == 0
                else level_1_escalated_at(anchor)
                if level == 1
                else level_2_escalated_at(anchor)
            ),
        )
    else:
        deadline = anchor + dt.timedelta(days=rng.randrange(0, 30))
        reported = anchor - dt.timedelta(days=rng.randrange(1, 31))
    facts.update(status=status, reported_at=aware(reported, minute), deadline=deadline)
    if status == "submitted":
        facts["submitted_at"] = facts["reported_at"] + dt.timedelta(days=3)
    return facts


def log(message: str) -> None:
    import sys

    print(f"supervision: {message}", file=sys.stderr, flush=True)


def insert_rows(model, rows: list[dict]) -> None:
    """Insert rows (dicts of attname → Python value) in one statement per batch."""
    from django.db import connection, transaction

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    table = model._meta.db_table
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    for start in range(0, len(rows), BATCH):
        values = [
            tuple(
                f.get_db_prep_save(row.get(f.attname, f.get_default()), connection) for f in fields
            )
            for row in rows[start : start + BATCH]
        ]
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with (
                    connection.connection.cursor() as raw,
                    raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,  # our own names
                ):
                    for value in values:
                        copy.write_row(value)
            else:
                marks = ", ".join(["%s"] * len(fields))
                cursor.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608
                    values,
                )


def build(*, schools: int, hazards_per_school: int, inspections_per_school: int, anchor) -> dict:
    """Generate the county; returns the ids the measurements need."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from huxiao.core.roles import OrgKind, Role
    from huxiao.hazards.models import ChecklistTemplate, Hazard, Inspection
    from huxiao.orgs.models import Membership, Organization, Region, Town

    started = time.perf_counter()
    User = get_user_model()
    rng = random.Random(f"{SEED}:world")
    region = Region.objects.create(code=REGION_CODE, name="督导基准县")
    county_office = Organization.objects.create(
        kind=OrgKind.EDUCATION_OFFICE, name="督导基准县教育局", region=region
    )
    Town.objects.bulk_create(
        [
            Town(region=region, code=f"{REGION_CODE}{n:03d}", name=f"基准镇{n:03d}")
            for n in range((schools + SCHOOLS_PER_TOWN - 1) // SCHOOLS_PER_TOWN)
        ]
    )
    towns = list(Town.objects.filter(region=region).order_by("code"))
    Organization.objects.bulk_create(
        [
            Organization(
                kind=OrgKind.EDUCATION_OFFICE, name=f"{t.name}中心校", region=region, town=t
            )
            for t in towns
        ]
    )
    Organization.objects.bulk_create(
        [
            Organization(kind=OrgKind.POLICE_STATION, name=f"{t.name}派出所", region=region, town=t)
            for t in towns
        ]
    )
    offices = list(
        Organization.objects.filter(kind=OrgKind.EDUCATION_OFFICE, town__region=region).order_by(
            "town__code"
        )
    )
    stations = list(
        Organization.objects.filter(kind=OrgKind.POLICE_STATION, region=region).order_by(
            "town__code"
        )
    )
    Organization.objects.bulk_create(
        [
            Organization(
                kind=OrgKind.SCHOOL if n % 4 else OrgKind.KINDERGARTEN,
                name=f"基准学校{n:04d}",
                region=region,
                town=towns[n // SCHOOLS_PER_TOWN],
                police_station=stations[n // SCHOOLS_PER_TOWN],
                # Half name their supervising office; the others fall back to the town's.
                education_office=offices[n // SCHOOLS_PER_TOWN] if n % 2 else None,
            )
            for n in range(schools)
        ]
    )
    school_rows = list(
        Organization.objects.filter(
            region=region, kind__in=[OrgKind.SCHOOL, OrgKind.KINDERGARTEN]
        ).order_by("name")
    )
    User.objects.bulk_create(
        [User(username="bench-sup-county", first_name="县督导", password="!")]
        + [User(username=f"bench-sup-town-{n:03d}", password="!") for n in range(len(towns))]
        + [
            User(username=f"bench-sup-{kind}-{n:04d}", first_name=f"{label}{n:04d}", password="!")
            for n in range(schools)
            for kind, label in (("principal", "校长"), ("owner", "安全员"))
        ]
    )
    users = {u.username: u.pk for u in User.objects.filter(username__startswith="bench-sup-")}
    memberships = [
        Membership(
            user_id=users["bench-sup-county"],
            organization=county_office,
            role=Role.EDUCATION_SUPERVISOR,
        )
    ]
    memberships += [
        Membership(
            user_id=users[f"bench-sup-town-{n:03d}"],
            organization=office,
            role=Role.EDUCATION_SUPERVISOR,
        )
        for n, office in enumerate(offices)
    ]
    for n, school in enumerate(school_rows):
        memberships.append(
            Membership(
                user_id=users[f"bench-sup-principal-{n:04d}"],
                organization=school,
                role=Role.PRINCIPAL,
            )
        )
        memberships.append(
            Membership(
                user_id=users[f"bench-sup-owner-{n:04d}"],
                organization=school,
                role=Role.SECURITY_OFFICER,
            )
        )
    Membership.objects.bulk_create(memberships)

    template = ChecklistTemplate.objects.filter(is_published=True).order_by("pk").first()
    if template is None:
        raise RuntimeError("no published checklist template: has migrate run?")
    inspection_rows = []
    for n, school in enumerate(school_rows):
        for k in range(inspections_per_school):
            kind = INSPECTION_KINDS[(n + k) % len(INSPECTION_KINDS)]
            planned = anchor - dt.timedelta(days=rng.randrange(1, 366))
            inspector = (
                school
                if kind == "self_check"
                else stations[n // SCHOOLS_PER_TOWN]
                if kind == "police"
                else offices[n // SCHOOLS_PER_TOWN]
            )
            score = rng.randrange(60, 101)
            inspection_rows.append(
                {
                    "school_id": school.pk,
                    "template_id": template.pk,
                    "kind": kind,
                    "unannounced": kind != "self_check" and k % 3 == 0,
                    "organization_id": inspector.pk,
                    "planned_on": planned,
                    "status": "signed_off",
                    "started_at": aware(planned, dt.time(9)),
                    "signed_off_at": aware(planned, dt.time(11)),
                    "score": score,
                    "max_score": 100,
                    "created_at": aware(planned - dt.timedelta(days=3), dt.time(9)),
                }
            )
    insert_rows(Inspection, inspection_rows)
    inspections_of: dict[int, list[int]] = {}
    for school_id, pk in Inspection.objects.filter(school__region=region).values_list(
        "school_id", "pk"
    ):
        inspections_of.setdefault(school_id, []).append(pk)
    log(f"{len(school_rows):,} schools, {len(inspection_rows):,} inspections")

    total = schools * hazards_per_school
    rows = []
    counts = {"open": 0, "overdue": 0, "overdue_by_level": [0, 0, 0]}
    for index in range(total):
        n = index % schools
        school = school_rows[n]
        facts = hazard_facts(index, anchor)
        principal = users[f"bench-sup-principal-{n:04d}"]
        owner = users[f"bench-sup-owner-{n:04d}"]
        found_in = inspections_of.get(school.pk) if index % 5 == 0 else None
        rows.append(
            {
                "school_id": school.pk,
                "category": facts["category"],
                "level": facts["level"],
                "title": f"{school.name}隐患{index // schools:03d}",
                "description": "基准生成的隐患描述：门禁、监控或消防设施存在问题，需限期整改。",
                "inspection_id": found_in[index % len(found_in)] if found_in else None,
                "answer_id": None,
                "status": facts["status"],
                "owner_id": None if facts["status"] == "reported" else owner,
                "rectification_plan": "",
                "deadline": facts["deadline"],
                "reported_by_id": principal,
                "reported_at": facts["reported_at"],
                "submitted_at": facts["submitted_at"],
                "closed_at": facts["closed_at"],
                "verified_by_id": users["bench-sup-county"]
                if facts["status"] == "closed"
                else None,
                "escalation_level": facts["escalation_level"],
                "escalated_at": facts["escalated_at"],
            }
        )
        if facts["status"] != "closed":
            counts["open"] += 1
        if facts["overdue"]:
            counts["overdue"] += 1
            counts["overdue_by_level"][facts["escalation_level"]] += 1
        if len(rows) == BATCH:
            insert_rows(Hazard, rows)
            rows = []
            log(f"hazards: {index + 1:,} of {total:,}")
    insert_rows(Hazard, rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "schools": schools,
        "hazards": total,
        "inspections": len(inspection_rows),
        "open": counts["open"],
        "overdue": counts["overdue"],
        "overdue_by_level": counts["overdue_by_level"],
        "generated_s": round(time.perf_counter() - started, 1),
    }


def actors() -> dict:
    """The users whose pages are measured and the ids their filters name."""
    from django.contrib.auth import get_user_model

    from huxiao.orgs.models import Organization

    users = get_user_model().objects
    town_user = users.get(username="bench-sup-town-000")
    principal = users.get(username="bench-sup-principal-0000")
    school = (
        Organization.objects.filter(region__code=REGION_CODE, memberships__user=principal)
        .only("pk")
        .get()
    )
    # A school of another town than the town user's, for the county user's school filter.
    other = (
        Organization.objects.filter(region__code=REGION_CODE, name__startswith="基准学校")
        .order_by("-name")
        .only("pk")
        .first()
    )
    return {
        "county": users.get(username="bench-sup-county"),
        "town": town_user,
        "principal": principal,
        "principal_school_id": school.pk,
        "far_school_id": other.pk,
    }
