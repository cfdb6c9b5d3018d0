"""The generated county of bench/dashboard.py (issue 10): 1,000 schools over 12 towns with a
year of everything the command dashboard and the monthly report count.

Dates: the year is the 365 days ending on the anchor day (the real today by default); the
anchor day itself only up to the moment of the seed (nothing is dated in the future but
planned activities and open deadlines). Gate days are the teaching days of the shipped
default term calendar (`drills.terms`): weekdays inside a term and outside its holidays.

**The world** (`_world`): the county (region BENCHDSH) with its governance centre (the
`county` login, a governance coordinator), education bureau and health bureau; per town an
education office (central school), a police station with its campus police post, a health
centre, a township government and a governance office (综治办); the schools, shaped by
bench/activities_seed.school_facts (a kindergarten of 3–9 classes or a primary school of
6–18), each with its classes, a principal and a guard login. Police: a commander and
officers per station (the legal vice-principals of bench/activities_seed).

**Gate events** (`_gate`, --gate-events, 10 M by default), spread day by day over the year
(in time order, as a real county writes them), each school's share by enrolment: pass scans
50 % (staff passes scanned in and out), pick-up releases 35 % (a pick-up roster per school,
each child released at most once a day), visits 10 %, vehicle entries 4.5 %, refused
pick-ups 0.3 %, contraband interceptions 0.2 %; holidays and weekends a tenth of a gate
day's traffic and no pick-up. Today's visitors and vehicles still inside are open. These
rows are written raw (executemany with the values already in the database's text form on
SQLite, COPY on PostgreSQL): the only tables big enough to need it.

**Everything else** (bench/supervision_seed.insert_rows or bulk_create):
- hazards (--hazards, 100 k) reported over the year in realistic states: most closed (some
  after their deadline), the recent ones open, an open one past its deadline escalated
  0–2 levels; a few hundred listed supervisions (挂牌督办) of major hazards, active or
  lifted; monthly self-checks and outside inspections signed off;
- gate posts (护学岗): a morning and an afternoon post per school, a shift on every gate
  day with the guard's check-in and, where police were planned, the officer's (police
  present, car, lights — the "三见"), some late, some missed; police visits (≥ 2 a week
  for most schools, fewer for some) and the weekly shortfall flags;
- drills, safety education, legal lectures, parent meetings and trainings over the terms
  of the year (bench/activities_seed.plan_school, the same rules), with drill records;
- alarms: a few a day over the county with their timeline (acknowledged, dispatched,
  arrived, resolved; some false, some cancelled), today's some still open; incidents for
  the serious ones;
- early warnings from the stations to their schools (most acknowledged) and warning signs
  from the schools; compliance rows (达标率 / 联网率) evaluated this morning;
- health: cluster alerts and suspected cases (a few open), class suspensions (a few
  running today); the register is not generated (the county dashboard never shows it);
- the county's default assessment scheme computed and published for last month, and a
  few notices (通报) published last month.

Deterministic: every random choice comes from random.Random seeded with SEED and a key.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import random
import time

from bench import activities_seed
from bench.common import analyze, logger
from bench.supervision_seed import insert_rows
from bench.tracing_seed import insert_returning

SEED = "huxiao-bench-dashboard-v1"
REGION_CODE = "BENCHDSH"
TOWNS = 12
SCHOOLS = 1000
GATE_EVENTS = 10_000_000
HAZARDS = 100_000
YEAR_DAYS = 365
# Shares of the gate events by table (they sum to 1).
GATE_SHARES = {
    "scans": 0.50,
    "releases": 0.35,
    "visits": 0.10,
    "vehicles": 0.045,
    "refusals": 0.003,
    "interceptions": 0.002,
}
HOLIDAY_TRAFFIC = 0.1  # a weekend or holiday day's gate traffic against a gate day's
PASSES_PER_SCHOOL = 24
ALARMS_PER_DAY = 8  # real alarms raised in the county per day (mean)
FLUSH_ROWS = 250_000
SHOWN_STEPS = {
    "gate",
    "hazards",
    "posts",
    "police_visits",
    "activities",
    "alarms",
    "warnings",
    "compliance",
    "health",
    "supervision",
}
POLICE_SHARE = 0.6  # gate-post shifts with police planned
LISTED_ACTIVE = 180
LISTED_LIFTED = 150

log = logger("dashboard")


# ------------------------------------------------------------------ dates and times


def year_days(anchor: dt.date) -> list[dt.date]:
    return [anchor - dt.timedelta(days=k) for k in range(YEAR_DAYS - 1, -1, -1)]


def year_terms(anchor: dt.date) -> list:
    """The default-calendar terms (unsaved `drills.Term`) overlapping the year, oldest
    first."""
    from huxiao.drills.terms import default_terms_between

    return default_terms_between(None, anchor - dt.timedelta(days=YEAR_DAYS - 1), anchor)


def gate_days(anchor: dt.date, terms: list) -> set[dt.date]:
    """The teaching days of the year (weekdays in a term, outside its holidays)."""
    first = anchor - dt.timedelta(days=YEAR_DAYS - 1)
    return {
        day
        for term in terms
        for day in activities_seed.teaching_days(term)
        if first <= day <= anchor
    }


def aware(day: dt.date, seconds: int) -> dt.datetime:
    from django.utils import timezone

    return timezone.make_aware(dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=seconds))


class RawWriter:
    """Rows written raw: values already in the database's input form (timestamps as UTC
    text), executemany in one transaction per batch on SQLite, COPY on PostgreSQL.

    The big tables are bulk-loaded as databases are: their secondary indexes are dropped
    before the load and built again after it (`deferred_indexes`), and on PostgreSQL the
    foreign-key triggers are off during the seed (`session_replication_role = replica`;
    the generator writes only keys it has just read back)."""

    def __init__(self):
        from django.db import connection

        self.connection = connection
        self.vendor = connection.vendor
        suffix = "+00" if self.vendor == "postgresql" else ""
        # A timestamp is its minute's prefix and its second's text: two lookups.
        self._seconds = [f"{k:02d}{suffix}" for k in range(60)]
        self._minutes: dict[dt.date, list[str]] = {}

    def minutes(self, day: dt.date) -> list[str]:
        """'YYYY-MM-DD HH:MM:' (UTC) of each local minute of `day` and the next."""
        found = self._minutes.get(day)
        if found is None:
            base = aware(day, 0).astimezone(dt.UTC).replace(tzinfo=None)
            found = [
                (base + dt.timedelta(minutes=m)).strftime("%Y-%m-%d %H:%M:") for m in range(2880)
            ]
            self._minutes[day] = found
        return found

    def ts(self, day: dt.date, seconds: int) -> str:
        """The text of local `day` + `seconds` (0 ≤ seconds < 2 days) as the column stores
        it."""
        return self.minutes(day)[seconds // 60] + self._seconds[seconds % 60]

    def insert(self, model, columns: tuple[str, ...], rows: list[tuple]) -> None:
        """Insert `rows` (tuples in `columns` order: every column but the primary key)."""
        from django.db import transaction

        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        expected = {f.column for f in fields}
        if set(columns) != expected or len(columns) != len(expected):
            raise RuntimeError(
                f"{model.__name__}: columns {sorted(set(columns) ^ expected)} differ from "
                "the model's (the benchmark writes every column)"
            )
        if not rows:
            return
        table = model._meta.db_table
        quote = self.connection.ops.quote_name
        names = ", ".join(quote(c) for c in columns)
        with transaction.atomic():
            raw = self.connection.connection
            if self.vendor == "postgresql":
                with (
                    raw.cursor() as cursor,
                    cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,  # our names
                ):
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" * len(columns))
                raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608

    def _indexes(self, table: str) -> list[tuple[str, str]]:
        """(name, CREATE statement) of the table's secondary indexes (on PostgreSQL not
        those behind a constraint: the primary key, unique constraints)."""
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND "
                    "indexname NOT IN (SELECT conname FROM pg_constraint "
                    "WHERE conrelid = %s::regclass)",
                    [table, table],
                )
            else:
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                    "AND tbl_name = %s AND sql IS NOT NULL",
                    [table],
                )
            return list(cursor.fetchall())

    @contextlib.contextmanager
    def deferred_indexes(self, models):
        """Drop the tables' secondary indexes for the load, build them again after it."""
        saved = []
        quote = self.connection.ops.quote_name
        with self.connection.cursor() as cursor:
            for model in models:
                for name, statement in self._indexes(model._meta.db_table):
                    cursor.execute(f"DROP INDEX {quote(name)}")
                    saved.append((name, statement))
        try:
            yield
        finally:
            t0 = time.perf_counter()
            with self.connection.cursor() as cursor:
                for _name, statement in saved:
                    cursor.execute(statement)
            log(f"{len(saved)} indexes built in {time.perf_counter() - t0:.1f} s")


def bulk_load(on: bool) -> None:
    """During the seed only. SQLite: no rollback journal, no syncs, no foreign-key checks,
    a big page cache. PostgreSQL: foreign-key triggers off for this session."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SET session_replication_role = {'replica' if on else 'DEFAULT'}")
        elif on:
            cursor.execute("PRAGMA foreign_keys=OFF")
            cursor.execute("PRAGMA journal_mode=OFF")
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-400000")
        else:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA cache_size=-2000")
            cursor.execute("PRAGMA foreign_keys=ON")


# ------------------------------------------------------------------ the world


def _world(schools: int, towns: int, facts: list[dict]) -> dict:
    """County, towns, offices, stations and posts, health centres, schools, classes, users."""
    from django.contrib.auth import get_user_model

    from huxiao.core.roles import OrgKind, Role
    from huxiao.orgs.models import Membership, Organization, Region, Town
    from huxiao.people.models import SchoolClass

    User = get_user_model()
    per_town = math.ceil(schools / towns)
    towns_count = math.ceil(schools / per_town)
    region = Region.objects.create(code=REGION_CODE, name="指挥基准县")

    def county_org(kind, name):
        return Organization.objects.create(kind=kind, name=name, region=region)

    governance = county_org(OrgKind.GOVERNANCE_OFFICE, "指挥基准县综治中心")
    county_edu = county_org(OrgKind.EDUCATION_OFFICE, "指挥基准县教育局")
    county_health = county_org(OrgKind.HEALTH_CENTRE, "指挥基准县卫健局")
    town_rows = Town.objects.bulk_create(
        [
            Town(region=region, code=f"{REGION_CODE}{n:02d}", name=f"指挥镇{n:02d}")
            for n in range(towns_count)
        ]
    )

    def per_town_orgs(kind, suffix, **extra):
        return Organization.objects.bulk_create(
            [
                Organization(kind=kind, name=f"{t.name}{suffix}", region=region, town=t, **extra)
                for t in town_rows
            ]
        )

    offices = per_town_orgs(OrgKind.EDUCATION_OFFICE, "中心校")
    stations = per_town_orgs(OrgKind.POLICE_STATION, "派出所")
    posts = Organization.objects.bulk_create(
        [
            Organization(
                kind=OrgKind.POLICE_POST,
                name=f"{t.name}校园警务室",
                region=region,
                town=t,
                parent=station,
            )
            for t, station in zip(town_rows, stations, strict=True)
        ]
    )
    centres = per_town_orgs(OrgKind.HEALTH_CENTRE, "卫生院")
    per_town_orgs(OrgKind.GOVERNMENT, "人民政府")
    town_governance = per_town_orgs(OrgKind.GOVERNANCE_OFFICE, "综治办")
    school_rows = Organization.objects.bulk_create(
        [
            Organization(
                kind=OrgKind.KINDERGARTEN if f["stage"] == "kindergarten" else OrgKind.SCHOOL,
                name=f"指挥学校{n:04d}",
                region=region,
                town=town_rows[n // per_town],
                stage=f["stage"],
                enrolment=f["enrolment"],
                police_station=stations[n // per_town],
                police_post=posts[n // per_town] if n % 3 == 0 else None,
                education_office=offices[n // per_town] if n % 2 else None,
                health_centre=centres[n // per_town],
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

    officers_per_town = math.ceil(per_town / activities_seed.SCHOOLS_PER_OFFICER)
    named = [
        ("bench-dsh-county", "县综治中心"),
        ("bench-dsh-county-edu", "县教育局督导"),
        ("bench-dsh-county-health", "县卫健局"),
    ]
    users = User.objects.bulk_create(
        [User(username=u, first_name=f, password="!") for u, f in named]
        + [User(username=f"bench-dsh-edu-{t:02d}", password="!") for t in range(towns_count)]
        + [User(username=f"bench-dsh-police-{t:02d}", password="!") for t in range(towns_count)]
        + [User(username=f"bench-dsh-health-{t:02d}", password="!") for t in range(towns_count)]
        + [
            User(
                username=f"bench-dsh-officer-{t:02d}-{k}",
                first_name=f"民警{t:02d}{k}",
                password="!",
            )
            for t in range(towns_count)
            for k in range(officers_per_town)
        ]
        + [
            User(username=f"bench-dsh-{kind}-{n:04d}", first_name=f"{label}{n:04d}", password="!")
            for n in range(schools)
            for kind, label in (("principal", "校长"), ("guard", "门卫"))
        ],
        batch_size=2000,
    )
    county_user, county_edu_user, county_health_user = users[:3]
    at = 3
    edu_users = users[at : at + towns_count]
    commanders = users[at + towns_count : at + 2 * towns_count]
    health_users = users[at + 2 * towns_count : at + 3 * towns_count]
    at += 3 * towns_count
    officers = users[at : at + towns_count * officers_per_town]
    officers_of = [
        officers[t * officers_per_town : (t + 1) * officers_per_town] for t in range(towns_count)
    ]
    school_users = users[at + len(officers) :]
    principals, guards = school_users[0::2], school_users[1::2]
    memberships = [
        Membership(user=county_user, organization=governance, role=Role.GOVERNANCE_COORDINATOR),
        Membership(user=county_edu_user, organization=county_edu, role=Role.EDUCATION_SUPERVISOR),
        Membership(user=county_health_user, organization=county_health, role=Role.HEALTH_OFFICER),
    ]
    for t in range(towns_count):
        memberships += [
            Membership(user=edu_users[t], organization=offices[t], role=Role.EDUCATION_SUPERVISOR),
            Membership(user=commanders[t], organization=stations[t], role=Role.POLICE_COMMANDER),
            Membership(user=health_users[t], organization=centres[t], role=Role.HEALTH_OFFICER),
        ]
        for officer in officers_of[t]:
            memberships.append(
                Membership(user=officer, organization=stations[t], role=Role.POLICE_OFFICER)
            )
            memberships.append(
                Membership(
                    user=officer,
                    organization=stations[t],
                    role=Role.LEGAL_VICE_PRINCIPAL,
                    title="法制副校长",
                )
            )
    for school, principal, guard in zip(school_rows, principals, guards, strict=True):
        memberships.append(Membership(user=principal, organization=school, role=Role.PRINCIPAL))
        memberships.append(Membership(user=guard, organization=school, role=Role.GUARD))
    Membership.objects.bulk_create(memberships, batch_size=2000)
    return {
        "region": region,
        "governance": governance,
        "county_edu": county_edu,
        "town_governance": town_governance,
        "towns": town_rows,
        "stations": stations,
        "schools": school_rows,
        "class_ids": class_ids,
        "per_town": per_town,
        "officers_of": officers_of,
        "users": {
            "county": county_user,
            "county_edu": county_edu_user,
            "principals": principals,
            "guards": guards,
            "commanders": commanders,
        },
    }


def _children(world: dict, facts: list[dict], pickup: list[int], now) -> list[list[tuple]]:
    """Each school's pick-up roster (the children its releases, refusals, cases and
    suspensions name): [(child id, class id)…] per school. No real names."""
    rows, keys = [], []
    for n, (school, count) in enumerate(zip(world["schools"], pickup, strict=True)):
        class_ids = world["class_ids"][school.pk]
        for c in range(count):
            class_id = class_ids[c % len(class_ids)]
            keys.append((n, class_id))
            rows.append(
                {
                    "school_id": school.pk,
                    "school_class_id": class_id,
                    "name": f"幼童{n:04d}-{c:03d}",
                    "gender": "male" if c % 2 else "female",
                    "birth_date": dt.date(2020, 9, 1) + dt.timedelta(days=c % 700),
                    "is_active": True,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    from huxiao.people.models import Child

    pks = insert_returning(Child, rows)
    roster: list[list[tuple]] = [[] for _ in facts]
    for pk, (n, class_id) in zip(pks, keys, strict=True):
        roster[n].append((pk, class_id))
    return roster


# ------------------------------------------------------------------ the gate


VISIT_PURPOSES = ("parent", "parent", "official", "supplier", "repair", "interview", "other")
VEHICLE_PURPOSES = ("staff", "staff", "supplier", "official", "school_bus", "other")
REFUSALS = ("not_authorised", "expired", "unknown", "already_released", "revoked")
SCAN_REFUSALS = ("expired", "revoked", "unknown", "other_school")
CONTRABAND = (
    ("knife", "管制刀具（折叠刀）"),
    ("knife", "水果刀"),
    ("flammable", "打火机"),
    ("flammable", "鞭炮"),
    ("other", "电击器"),
)
HANDLING = ("held", "returned", "handed_to_police", "destroyed")

SCAN_COLUMNS = (
    "school_id",
    "gate_pass_id",
    "at",
    "direction",
    "result",
    "reason",
    "scanned_by_id",
    "scanned_by_label",
)
RELEASE_COLUMNS = (
    "school_id",
    "child_id",
    "school_class_id",
    "on_date",
    "released_at",
    "released_by_id",
    "released_by_label",
    "guardian_id",
    "delegate_id",
    "adult_name",
    "method",
)
VISIT_COLUMNS = (
    "id_number_encrypted",
    "id_number_hash",
    "id_number_masked",
    "photo_encrypted",
    "photo_content_type",
    "school_id",
    "name",
    "phone",
    "purpose",
    "purpose_note",
    "host_id",
    "items",
    "status",
    "screening",
    "expected_on",
    "invitation_code",
    "invited_by_id",
    "badge_code",
    "badge_expires_at",
    "checked_in_at",
    "checked_in_by_id",
    "checked_in_by_label",
    "checked_out_at",
    "checked_out_by_id",
    "overstay_flagged_at",
    "hold_resolution",
    "hold_resolved_at",
    "hold_resolved_by_id",
    "hold_note",
    "created_at",
    "updated_at",
)
VEHICLE_COLUMNS = (
    "school_id",
    "plate",
    "driver_name",
    "driver_phone",
    "purpose",
    "note",
    "gate_pass_id",
    "entered_at",
    "exited_at",
    "recorded_by_id",
)
REFUSAL_COLUMNS = ("school_id", "at", "reason", "child_id", "code_id", "by_id", "by_label")
INTERCEPTION_COLUMNS = (
    "photo_encrypted",
    "photo_content_type",
    "school_id",
    "at",
    "category",
    "item",
    "carrier_kind",
    "carrier_name",
    "visit_id",
    "handling",
    "note",
    "recorded_by_id",
    "police_notified_at",
)


def gate_means(facts: list[dict], total: int, gate_count: int, other_count: int) -> dict:
    """Per table, each school's mean rows on a gate day (a holiday: HOLIDAY_TRAFFIC of it,
    no pick-up), so that the year holds about `total` gate events."""
    weights = [f["enrolment"] for f in facts]
    whole = sum(weights)
    units = gate_count + HOLIDAY_TRAFFIC * other_count
    means = {}
    for table, share in GATE_SHARES.items():
        days = gate_count if table in ("releases", "refusals") else units
        means[table] = [total * share * w / whole / max(days, 1) for w in weights]
    return means


def _count(rand, mean: float) -> int:
    """A day's rows around `mean` (±25 %), an integer whose expectation is the mean
    (`rand`: a generator's `random`)."""
    value = mean * (0.75 + 0.5 * rand())
    whole = int(value)
    return whole + (rand() < value - whole)


def _passes(world: dict, now) -> list[list[int]]:
    """Each school's staff passes (valid all year)."""
    from huxiao.access.models import GatePass

    start = now - dt.timedelta(days=YEAR_DAYS + 30)
    rows = [
        {
            "school_id": school.pk,
            "kind": "staff",
            "holder_name": f"教职工{k:02d}",
            "serial": f"BDSH{n:04d}{k:03d}",
            "valid_from": start,
            "valid_until": now + dt.timedelta(days=365),
            "created_at": start,
        }
        for n, school in enumerate(world["schools"])
        for k in range(PASSES_PER_SCHOOL)
    ]
    pks = insert_returning(GatePass, rows)
    return [
        pks[n * PASSES_PER_SCHOOL : (n + 1) * PASSES_PER_SCHOOL]
        for n in range(len(world["schools"]))
    ]


def _gate(world, facts, roster, passes, days, gate_set, means, now, writer) -> dict:
    """The year's gate events, day by day, every school each day; returns the rows per
    table and today's."""
    from django.utils import timezone

    from huxiao.access.models import (
        Interception,
        PassScan,
        PickupRefusal,
        Release,
        VehicleMovement,
        Visit,
    )

    tables = {
        "scans": (PassScan, SCAN_COLUMNS),
        "releases": (Release, RELEASE_COLUMNS),
        "visits": (Visit, VISIT_COLUMNS),
        "vehicles": (VehicleMovement, VEHICLE_COLUMNS),
        "refusals": (PickupRefusal, REFUSAL_COLUMNS),
        "interceptions": (Interception, INTERCEPTION_COLUMNS),
    }
    pending: dict[str, list[tuple]] = {t: [] for t in tables}
    counts = {t: 0 for t in tables}
    today_counts = {t: 0 for t in tables}
    rngs = [random.Random(f"{SEED}:gate:{n}") for n in range(len(facts))]
    schools = [s.pk for s in world["schools"]]
    local_now = timezone.localtime(now)
    now_s = local_now.hour * 3600 + local_now.minute * 60 + local_now.second
    ts = writer.ts
    started = time.perf_counter()

    def flush():
        for table, rows in pending.items():
            model, columns = tables[table]
            writer.insert(model, columns, rows)
            counts[table] += len(rows)
            rows.clear()

    with writer.deferred_indexes([model for model, _columns in tables.values()]):
        for d, day in enumerate(days):
            gate_day = day in gate_set
            factor = 1.0 if gate_day else HOLIDAY_TRAFFIC
            limit = now_s if day == local_now.date() else 86400
            day_text = day.isoformat()
            scans, releases, visits = pending["scans"], pending["releases"], pending["visits"]
            vehicles, refusals = pending["vehicles"], pending["refusals"]
            interceptions = pending["interceptions"]
            before = {t: len(rows) for t, rows in pending.items()}
            for n, school in enumerate(schools):
                rng = rngs[n]
                rand = rng.random
                own_passes = passes[n]
                for _ in range(_count(rand, means["scans"][n] * factor)):
                    morning = rand() < 0.6
                    at = (
                        25200 + int(rand() * (29400 - 25200))
                        if morning
                        else 59400 + int(rand() * (64800 - 59400))
                    )
                    if at > limit:
                        continue
                    refused = rand() < 0.01
                    scans.append(
                        (
                            school,
                            own_passes[int(rand() * PASSES_PER_SCHOOL)],
                            ts(day, at),
                            "in" if morning else "out",
                            "refused" if refused else "accepted",
                            SCAN_REFUSALS[int(rand() * 4)] if refused else "",
                            None,
                            "南门闸机",
                        )
                    )
                children = roster[n]
                if gate_day and children:
                    k = min(_count(rand, means["releases"][n]), len(children))
                    first = d % len(children)
                    for i in range(k):
                        child, class_id = children[(first + i) % len(children)]
                        at = 57600 + int(rand() * (63600 - 57600))
                        if at > limit:
                            continue
                        releases.append(
                            (
                                school,
                                child,
                                class_id,
                                day_text,
                                ts(day, at),
                                None,
                                "门卫",
                                None,
                                None,
                                "家长",
                                "pin" if rand() < 0.5 else "qr",
                            )
                        )
                    for _ in range(_count(rand, means["refusals"][n])):
                        at = 57600 + int(rand() * (63600 - 57600))
                        if at > limit:
                            continue
                        refusals.append(
                            (
                                school,
                                ts(day, at),
                                REFUSALS[int(rand() * len(REFUSALS))],
                                children[int(rand() * len(children))][0],
                                None,
                                None,
                                "门卫",
                            )
                        )
                for i in range(_count(rand, means["visits"][n] * factor)):
                    at = 28800 + int(rand() * (59400 - 28800))
                    if at > limit:
                        continue
                    out = at + 600 + int(rand() * (5400 - 600))
                    inside = out > limit
                    held = rand() < 0.002
                    visits.append(
                        (
                            "",
                            "",
                            "",
                            "",
                            "",
                            school,
                            f"访客{d:03d}{i:02d}",
                            "",
                            VISIT_PURPOSES[int(rand() * len(VISIT_PURPOSES))],
                            "",
                            None,
                            "",
                            "inside" if inside else "left",
                            "hold" if held else "clear",
                            None,
                            None,
                            None,
                            None,
                            None,
                            ts(day, at),
                            None,
                            "门卫",
                            None if inside else ts(day, out),
                            None,
                            None,
                            "admitted" if held else "",
                            ts(day, at + 300) if held else None,
                            None,
                            "",
                            ts(day, at),
                            ts(day, at if inside else out),
                        )
                    )
                for i in range(_count(rand, means["vehicles"][n] * factor)):
                    at = 25200 + int(rand() * (61200 - 25200))
                    if at > limit:
                        continue
                    out = at + 300 + int(rand() * (7200 - 300))
                    inside = out > limit
                    vehicles.append(
                        (
                            school,
                            f"冀B{i:02d}{n:04d}",
                            "",
                            "",
                            VEHICLE_PURPOSES[int(rand() * len(VEHICLE_PURPOSES))],
                            "",
                            None,
                            ts(day, at),
                            None if inside else ts(day, out),
                            None,
                        )
                    )
                for _ in range(_count(rand, means["interceptions"][n] * factor)):
                    at = 25200 + int(rand() * (61200 - 25200))
                    if at > limit:
                        continue
                    category, item = CONTRABAND[int(rand() * len(CONTRABAND))]
                    interceptions.append(
                        (
                            "",
                            "",
                            school,
                            ts(day, at),
                            category,
                            item,
                            ("visitor", "student", "other")[int(rand() * 3)],
                            "",
                            None,
                            HANDLING[int(rand() * 4)],
                            "",
                            None,
                            ts(day, at + 300) if category == "knife" else None,
                        )
                    )
            if day == days[-1]:
                today_counts = {t: len(rows) - before[t] for t, rows in pending.items()}
            if sum(len(rows) for rows in pending.values()) >= FLUSH_ROWS:
                flush()
            if d % 30 == 29:
                done = sum(counts.values()) + sum(len(rows) for rows in pending.values())
                log(
                    f"gate: {day} {done:,} events written "
                    f"({done / (time.perf_counter() - started):,.0f} a second)"
                )
        flush()
    return {
        "by_table": counts,
        "total": sum(counts.values()),
        "today": today_counts,
        "written_s": round(time.perf_counter() - started, 1),
    }


# ------------------------------------------------------------------ hazards


HAZARD_CATEGORIES = (
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


def hazard_facts(index: int, anchor: dt.date) -> dict:
    """What hazard `index` is (deterministic): reported within the year; most of the older
    ones closed (some late), half of the last six weeks' still open."""
    rng = random.Random(f"{SEED}:hazard:{index}")
    age = int(rng.random() ** 1.3 * (YEAR_DAYS - 1))  # a little more of the recent past
    reported = anchor - dt.timedelta(days=age)
    at = rng.randrange(8 * 3600, 18 * 3600)
    deadline = reported + dt.timedelta(days=rng.choice((7, 14, 14, 30)))
    facts = {
        "category": HAZARD_CATEGORIES[rng.randrange(len(HAZARD_CATEGORIES))],
        "level": "major" if rng.random() < 0.08 else "general",
        "reported": reported,
        "at": at,
        "deadline": deadline,
        "escalation_level": 0,
        "escalated_on": None,
        "submitted_on": None,
        "closed_on": None,
    }
    closed = rng.random() < (0.96 if age > 42 else 0.5)
    if closed:
        late = rng.random() < 0.12
        span = (deadline - reported).days
        took = span + rng.randrange(1, 20) if late else rng.randrange(1, span + 1)
        closed_on = min(reported + dt.timedelta(days=took), anchor)
        facts.update(
            status="closed",
            closed_on=closed_on,
            submitted_on=max(reported, closed_on - dt.timedelta(days=rng.randrange(0, 3))),
        )
        return facts
    status = OPEN_STATUSES[rng.randrange(4)]
    facts["status"] = status
    if status == "submitted":
        facts["submitted_on"] = min(anchor, reported + dt.timedelta(days=rng.randrange(1, 7)))
    if deadline < anchor:
        level = min(2, (anchor - deadline).days // 7)
        facts["escalation_level"] = level
        if level:
            facts["escalated_on"] = deadline + dt.timedelta(days=level * 3)
    return facts


def _inspections(world, anchor: dt.date, template_id: int) -> dict[int, list[int]]:
    """Monthly self-checks and a few outside inspections per school, signed off."""
    from huxiao.hazards.models import Inspection

    rows = []
    kinds = ("police", "central_school", "governance", "joint")
    for n, school in enumerate(world["schools"]):
        rng = random.Random(f"{SEED}:inspections:{n}")
        town = n // world["per_town"]
        for back in range(12):
            month_end = anchor.replace(day=1) - dt.timedelta(days=1)
            month = (month_end - dt.timedelta(days=31 * back)).replace(day=1)
            day = month + dt.timedelta(days=rng.randrange(3, 25))
            if rng.random() < 0.08:  # a month without its self-check
                continue
            rows.append(_inspection(school, "self_check", school.pk, day, rng, template_id))
        for k in range(3):
            day = anchor - dt.timedelta(days=rng.randrange(1, YEAR_DAYS))
            kind = kinds[(n + k) % len(kinds)]
            org = (
                world["stations"][town].pk
                if kind == "police"
                else world["governance"].pk
                if kind == "governance"
                else world["county_edu"].pk
            )
            rows.append(_inspection(school, kind, org, day, rng, template_id))
    pks = insert_returning(Inspection, rows)
    of: dict[int, list[int]] = {}
    for pk, row in zip(pks, rows, strict=True):
        of.setdefault(row["school_id"], []).append(pk)
    return of


def _inspection(school, kind, org_id, day, rng, template_id) -> dict:
    return {
        "school_id": school.pk,
        "template_id": template_id,
        "kind": kind,
        "unannounced": kind != "self_check" and rng.random() < 0.3,
        "organization_id": org_id,
        "planned_on": day,
        "status": "signed_off",
        "started_at": aware(day, 9 * 3600),
        "signed_off_at": aware(day, 11 * 3600),
        "score": rng.randrange(60, 101),
        "max_score": 100,
        "summary": "",
        "created_at": aware(day - dt.timedelta(days=3), 9 * 3600),
    }


def _hazards(world, anchor: dt.date, total: int, inspections_of: dict, now) -> dict:
    from huxiao.hazards.models import Hazard, ListedSupervision

    schools = world["schools"]
    users = world["users"]
    rows, major_open, major_closed = [], [], []
    counts = {"open": 0, "overdue": 0, "closed": 0, "closed_late": 0, "major": 0}
    for index in range(total):
        n = index % len(schools)
        school = schools[n]
        f = hazard_facts(index, anchor)
        found_in = inspections_of.get(school.pk) if index % 5 == 0 else None
        closed = f["status"] == "closed"
        rows.append(
            {
                "school_id": school.pk,
                "category": f["category"],
                "level": f["level"],
                "title": f"{school.name}隐患{index // len(schools):03d}",
                "description": "门禁、监控或消防设施存在问题，需限期整改。",
                "inspection_id": found_in[index % len(found_in)] if found_in else None,
                "status": f["status"],
                "owner_id": None if f["status"] == "reported" else users["principals"][n].pk,
                "deadline": f["deadline"],
                "reported_by_id": users["principals"][n].pk,
                "reported_at": min(aware(f["reported"], f["at"]), now),
                "submitted_at": min(aware(f["submitted_on"], f["at"] + 3600), now)
                if f["submitted_on"]
                else None,
                "closed_at": min(aware(f["closed_on"], f["at"] + 7200), now) if closed else None,
                "verified_by_id": users["county_edu"].pk if closed else None,
                "escalation_level": f["escalation_level"],
                "escalated_at": min(aware(f["escalated_on"], 7 * 3600 + 1800), now)
                if f["escalated_on"]
                else None,
            }
        )
        counts["closed" if closed else "open"] += 1
        if closed and f["closed_on"] > f["deadline"]:
            counts["closed_late"] += 1
        if not closed and f["deadline"] < anchor:
            counts["overdue"] += 1
        if f["level"] == "major":
            counts["major"] += 1
            (major_closed if closed else major_open).append(index)
    pks = insert_returning(Hazard, rows)
    # Listed supervision: the longest-overdue major hazards still open, and some closed
    # major ones whose listing was lifted when they were verified.
    major_open.sort(key=lambda i: rows[i]["deadline"])
    listings = []
    governance, county = world["governance"].pk, users["county"].pk
    for k, i in enumerate(major_open[:LISTED_ACTIVE]):
        row = rows[i]
        listed = max(row["deadline"], anchor - dt.timedelta(days=120)) + dt.timedelta(days=3)
        listed = min(listed, anchor)
        listings.append(
            _listing(k, pks[i], row, listed, governance, county, anchor, lifted_at=None)
        )
    rng = random.Random(f"{SEED}:listings")
    for k, i in enumerate(rng.sample(major_closed, min(LISTED_LIFTED, len(major_closed)))):
        row = rows[i]
        listed = row["deadline"] if row["deadline"] < anchor else row["reported_at"].date()
        listings.append(
            _listing(
                LISTED_ACTIVE + k,
                pks[i],
                row,
                listed,
                governance,
                county,
                anchor,
                lifted_at=row["closed_at"],
            )
        )
    insert_rows(ListedSupervision, listings)
    return {
        "hazards": total,
        **counts,
        "listed_active": sum(1 for x in listings if x["status"] == "active"),
        "listed_lifted": sum(1 for x in listings if x["status"] == "lifted"),
    }


def _listing(k, hazard_id, row, listed, org, user, anchor, *, lifted_at) -> dict:
    listed_at = aware(listed, 10 * 3600)
    if lifted_at is not None and lifted_at < listed_at:
        listed_at = lifted_at - dt.timedelta(days=5)
    return {
        "school_id": row["school_id"],
        "hazard_id": hazard_id,
        "reference": f"综督〔{listed.year}〕{k + 1}号",
        "title": f"挂牌督办：{row['title']}",
        "reason": "重大隐患逾期未整改",
        "requirements": "限期整改到位，逐项销号。",
        "supervising_org_id": org,
        "deadline": listed + dt.timedelta(days=30),
        "status": "active" if lifted_at is None else "lifted",
        "is_public": k % 4 == 0,
        "listed_by_id": user,
        "listed_at": listed_at,
        "lifted_by_id": None if lifted_at is None else user,
        "lifted_at": lifted_at,
        "lift_note": "" if lifted_at is None else "整改到位，予以摘牌。",
    }


# ------------------------------------------------------------------ gate posts and visits


MORNING = (7 * 3600, 8 * 3600)
AFTERNOON = (16 * 3600 + 1800, 17 * 3600 + 1800)
CHECK_IN_COLUMNS = (
    "shift_id",
    "school_id",
    "user_id",
    "staff_id",
    "on_behalf",
    "kind",
    "person_name",
    "checked_in_at",
    "checked_out_at",
    "is_late",
    "latitude",
    "longitude",
    "accuracy_m",
    "photo",
    "vehicle_present",
    "lights_on",
    "note",
)


SHIFT_COLUMNS = (
    "post_id",
    "school_id",
    "period",
    "date",
    "week_start",
    "starts_at",
    "ends_at",
    "expects_police",
    "staffed",
    "police_present",
    "police_car",
    "police_lights",
    "first_check_in_at",
    "police_arrived_at",
    "arrived_late",
    "late_flagged_at",
    "missed_flagged_at",
    "cancelled_at",
    "cancel_reason",
    "cancelled_by_id",
)


def raw_returning(writer: RawWriter, model, columns, rows: list[tuple]) -> list[int]:
    """Insert raw rows and return their new pks in the rows' order (the benchmark is the
    only writer: new pks follow the old maximum, in insertion order)."""
    first = model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    for start in range(0, len(rows), FLUSH_ROWS):
        writer.insert(model, columns, rows[start : start + FLUSH_ROWS])
    pks = list(model.objects.filter(pk__gt=first).order_by("pk").values_list("pk", flat=True))
    if len(pks) != len(rows):
        raise RuntimeError(f"{model.__name__}: {len(pks)} rows came back for {len(rows)}")
    return pks


def _posts(world, days, gate_set, now, writer) -> dict:
    """Two posts per school, a shift each gate day (once it has started) with the guard's
    and, where police were planned and came, the officer's check-in."""
    from django.utils import timezone

    from huxiao.patrols.models import GatePost, GatePostWindow, PostCheckIn, PostShift

    schools = world["schools"]
    posts = GatePost.objects.bulk_create(
        [
            GatePost(school=school, period=period, location="校门口")
            for school in schools
            for period in ("morning", "afternoon")
        ],
        batch_size=2000,
    )
    GatePostWindow.objects.bulk_create(
        [
            GatePostWindow(
                post=post,
                weekday=w,
                starts=dt.time(7) if post.period == "morning" else dt.time(16, 30),
                ends=dt.time(8) if post.period == "morning" else dt.time(17, 30),
            )
            for post in posts
            for w in range(5)
        ],
        batch_size=5000,
    )
    local_now = timezone.localtime(now)
    now_s = local_now.hour * 3600 + local_now.minute * 60 + local_now.second
    ts = writer.ts
    shifts, check_ins = [], []  # check-ins: (shift index, row without its shift id)
    police_planned = all_three = 0
    for n, school in enumerate(schools):
        rng = random.Random(f"{SEED}:posts:{n}")
        rand = rng.random
        officers = world["officers_of"][n // world["per_town"]]
        guard_id = world["users"]["guards"][n].pk
        weak = rand() < 0.15  # a school whose police often do not come
        for post in posts[2 * n : 2 * n + 2]:
            start_s, end_s = MORNING if post.period == "morning" else AFTERNOON
            for day in days:
                if day not in gate_set:
                    continue
                today = day == local_now.date()
                if today and start_s > now_s:
                    continue  # not started yet: the coverage does not count it
                ended = not today or end_s <= now_s
                police = rand() < POLICE_SHARE
                guard = rand() < 0.97
                officer = police and rand() < (0.6 if weak else 0.93)
                car = officer and rand() < 0.85
                lights = car and rand() < 0.8
                late = rand() < 0.05
                arrive_s = start_s + (720 if late else int(rand() * 600) - 300)
                guard_s = start_s - int(rand() * 600)
                staffed = guard or officer
                first = min(
                    [t for t, on in ((guard_s, guard), (arrive_s, officer)) if on], default=None
                )
                counted = officer if police else staffed
                late = late and (officer if police else not guard)
                police_planned += police
                all_three += lights
                out = ts(day, end_s) if ended else None
                if guard:
                    check_ins.append(
                        (len(shifts), school.pk, guard_id, None, False, "guard", "门卫")
                        + (ts(day, guard_s), out, False, None, None, None, "", False, False, "")
                    )
                if officer:
                    officer_id = officers[int(rand() * len(officers))].pk
                    check_ins.append(
                        (len(shifts), school.pk, officer_id, None, False, "police", "民警")
                        + (ts(day, arrive_s), out, late, None, None, None, "", car, lights, "")
                    )
                shifts.append(
                    (
                        post.pk,
                        school.pk,
                        post.period,
                        day.isoformat(),
                        (day - dt.timedelta(days=day.weekday())).isoformat(),
                        ts(day, start_s),
                        ts(day, end_s),
                        police,
                        staffed,
                        officer,
                        car,
                        lights,
                        None if first is None else ts(day, first),
                        ts(day, arrive_s) if officer else None,
                        late,
                        ts(day, start_s + 600) if late else None,
                        ts(day, end_s) if ended and not counted else None,
                        None,
                        "",
                        None,
                    )
                )
    with writer.deferred_indexes([PostShift, PostCheckIn]):
        pks = raw_returning(writer, PostShift, SHIFT_COLUMNS, shifts)
        rows = [(pks[row[0]], *row[1:]) for row in check_ins]
        for start in range(0, len(rows), FLUSH_ROWS):
            writer.insert(PostCheckIn, CHECK_IN_COLUMNS, rows[start : start + FLUSH_ROWS])
    return {
        "posts": len(posts),
        "shifts": len(shifts),
        "check_ins": len(rows),
        "police_planned": police_planned,
        "all_three": all_three,
    }


def _visits(world, days, anchor: dt.date, now) -> dict:
    """Police visits: most schools twice a week or more, some less (their shortfall
    flagged each Monday for the week before)."""
    from huxiao.patrols.models import PoliceVisit, VisitShortfall

    mondays = sorted({d - dt.timedelta(days=d.weekday()) for d in days})
    rows, shortfalls = [], []
    for n, school in enumerate(world["schools"]):
        rng = random.Random(f"{SEED}:visits:{n}")
        officers = world["officers_of"][n // world["per_town"]]
        usual = 1 if rng.random() < 0.12 else 2
        for monday in mondays:
            visits = usual + (rng.random() < 0.3) - (rng.random() < 0.08)
            made = 0
            for k in sorted(rng.sample(range(5), min(max(visits, 0), 5))):
                day = monday + dt.timedelta(days=k)
                arrived = aware(day, rng.randrange(9 * 3600, 16 * 3600))
                if arrived > now or day < days[0]:
                    continue
                made += 1
                left = arrived + dt.timedelta(minutes=rng.randrange(15, 60))
                rows.append(
                    {
                        "school_id": school.pk,
                        "officer_id": officers[rng.randrange(len(officers))].pk,
                        "arrived_at": arrived,
                        "left_at": left if left <= now else None,
                        "information_collected": "了解校园周边治安情况",
                        "guidance_given": "指导门卫查验登记",
                        "problems_found": "",
                        "created_at": arrived,
                    }
                )
            week_over = monday + dt.timedelta(days=7) <= anchor
            if week_over and made < 2 and monday >= days[0]:
                shortfalls.append(
                    {
                        "school_id": school.pk,
                        "week_start": monday,
                        "visits_counted": made,
                        "required": 2,
                        "flagged_at": aware(monday + dt.timedelta(days=7), 7 * 3600),
                    }
                )
    insert_rows(PoliceVisit, rows)
    insert_rows(VisitShortfall, shortfalls)
    return {"police_visits": len(rows), "visit_shortfalls": len(shortfalls)}


# ------------------------------------------------------------------ drills


def _activities(world, facts, anchor: dt.date, terms: list) -> dict:
    """The year's activities by bench/activities_seed (its plans, rules and writer)."""
    from huxiao.drills.models import Term

    for term in terms:
        term.region = world["region"]
    Term.objects.bulk_create(terms)
    activities_seed._ensure_rules(world["region"])
    lvp_of = activities_seed._lvps(world, facts, terms[0].starts_on - dt.timedelta(days=365))
    written = activities_seed._write_activities(world, facts, terms, anchor, lvp_of)
    return {
        "terms": [t.name for t in terms],
        "activities": written["activities"],
        "drill_records": written["drill_records"],
        "by_status": written["by_status"],
    }


# ------------------------------------------------------------------ alarms and incidents


ALARM_KINDS = ("intrusion", "violence", "medical", "fire", "suspicious", "fight", "other")
ALARM_WEIGHTS = (10, 4, 25, 3, 30, 18, 10)


def _alarms(world, days, now) -> dict:
    """A few alarms a day over the county, each with its timeline; today's latest still
    open. Serious ones (violence, intrusion, fire) open an incident."""
    from django.utils import timezone

    from huxiao.alarms.models import Alarm, AlarmEvent
    from huxiao.incidents.models import Incident

    rng = random.Random(f"{SEED}:alarms")
    schools = world["schools"]
    local_now = timezone.localtime(now)
    mean = ALARMS_PER_DAY * len(schools) / SCHOOLS
    rows = []
    # Today's last three presses are still being handled (raised, acknowledged, dispatched).
    planted = [local_now - dt.timedelta(seconds=s) for s in (2400, 1500, 40)]
    for day in days:
        times = [
            aware(day, rng.randrange(7 * 3600, 19 * 3600)) for _ in range(_count(rng.random, mean))
        ]
        if day == days[-1]:
            times = [t for t in times if t < planted[0]] + planted
        for raised in sorted(times):
            if raised > local_now:
                continue
            n = rng.randrange(len(schools))
            kind = rng.choices(ALARM_KINDS, weights=ALARM_WEIGHTS)[0]
            slow = rng.random() < 0.07
            ack = raised + dt.timedelta(seconds=rng.randrange(5, 400 if slow else 50))
            if raised in planted:
                ack = raised + dt.timedelta(seconds=(20, 60, 120)[planted.index(raised)])
            dispatched = ack + dt.timedelta(seconds=rng.randrange(20, 180))
            if raised in planted:
                dispatched = ack + dt.timedelta(seconds=(600, 3600, 3600)[planted.index(raised)])
            arrived = dispatched + dt.timedelta(seconds=rng.randrange(180, 1200))
            resolved = arrived + dt.timedelta(seconds=rng.randrange(600, 5400))
            if raised in planted:
                resolved = arrived + dt.timedelta(hours=2)
            roll = rng.random() if raised not in planted else 0.5
            false_alarm = roll < 0.1
            if roll < 0.04:
                status = "cancelled"  # an accidental press, cancelled in the free window
            else:
                status = "resolved"
                for stage, until in (
                    ("raised", ack),
                    ("acknowledged", dispatched),
                    ("dispatched", arrived),
                    ("arrived", resolved),
                ):
                    if local_now < until:
                        status = stage
                        break
            order = ("raised", "acknowledged", "dispatched", "arrived", "resolved")
            reached_level = order.index(status) if status in order else -1
            reached = {
                "ack": reached_level >= 1,
                "dispatched": reached_level >= 2,
                "arrived": reached_level >= 3,
                "resolved": reached_level >= 4,
            }
            cancelled_at = raised + dt.timedelta(seconds=rng.randrange(5, 25))
            rows.append(
                {
                    "school_id": schools[n].pk,
                    "kind": kind,
                    "location": "校门口" if kind in ("intrusion", "suspicious") else "教学楼",
                    "note": "",
                    "is_drill": False,
                    "source": "button",
                    "status": status,
                    "raised_at": raised,
                    "raised_by_id": world["users"]["guards"][n].pk,
                    "cancel_window_ends_at": raised + dt.timedelta(seconds=30),
                    "acknowledged_at": ack if reached["ack"] else None,
                    "acknowledged_by_id": world["users"]["commanders"][n // world["per_town"]].pk
                    if reached["ack"]
                    else None,
                    "dispatched_at": dispatched if reached["dispatched"] else None,
                    "dispatch_note": "派巡逻车前往" if reached["dispatched"] else "",
                    "arrived_at": arrived if reached["arrived"] else None,
                    "resolved_at": resolved if reached["resolved"] else None,
                    "outcome": ("误报" if false_alarm else "已妥善处置")
                    if reached["resolved"]
                    else "",
                    "cancelled_at": cancelled_at if status == "cancelled" else None,
                    "cancel_reason": "误触" if status == "cancelled" else "",
                    "is_false_alarm": false_alarm and status == "resolved",
                    "escalation_level": 0,
                    "idempotency_scope": "",
                    "idempotency_key": "",
                    "request_fingerprint": "",
                }
            )
    pks = insert_returning(Alarm, rows)
    events, incidents = [], []
    for pk, row in zip(pks, rows, strict=True):
        stages = [("alarm.raised", row["raised_at"])]
        if row["status"] == "cancelled":
            stages.append(("alarm.cancelled", row["cancelled_at"]))
        stages += [
            (kind, row[field])
            for kind, field in (
                ("alarm.acknowledged", "acknowledged_at"),
                ("alarm.dispatched", "dispatched_at"),
                ("alarm.arrived", "arrived_at"),
                ("alarm.resolved", "resolved_at"),
            )
            if row[field] is not None
        ]
        events += [
            {"alarm_id": pk, "type": kind, "at": at, "actor_label": "", "data": {}}
            for kind, at in stages
        ]
        if row["kind"] in ("violence", "intrusion", "fire") and not row["is_false_alarm"]:
            if row["status"] == "cancelled" or rng.random() > 0.3:
                continue
            closed = row["resolved_at"]
            incidents.append(
                {
                    "school_id": row["school_id"],
                    "alarm_id": pk,
                    "title": f"{row['raised_at']:%m月%d日}校园突发事件",
                    "status": "closed" if closed else "open",
                    "opened_at": row["acknowledged_at"] or row["raised_at"],
                    "opened_by_id": row["acknowledged_by_id"],
                    "commander_id": row["acknowledged_by_id"],
                    "closed_at": closed + dt.timedelta(hours=2) if closed else None,
                    "closed_by_id": row["acknowledged_by_id"] if closed else None,
                    "summary": "已处置完毕。" if closed else "",
                    "casualties": "",
                    "actions_taken": "",
                    "lessons": "",
                }
            )
    insert_rows(AlarmEvent, events)
    insert_rows(Incident, incidents)
    today = days[-1]
    return {
        "alarms": len(rows),
        "alarm_events": len(events),
        "incidents": len(incidents),
        "today": sum(timezone.localtime(r["raised_at"]).date() == today for r in rows),
        "open": sum(
            r["status"] in ("raised", "acknowledged", "dispatched", "arrived") for r in rows
        ),
    }


# ------------------------------------------------------------------ warnings


def _warnings(world, days, now) -> dict:
    """Early warnings from each station to its schools (two a month; most acknowledged
    within hours) and warning signs from the schools (about three a year each)."""
    from huxiao.intel.models import EarlyWarning, EarlyWarningRecipient, WarningSign

    rng = random.Random(f"{SEED}:warnings")
    schools_of: dict[int, list] = {}
    for n, school in enumerate(world["schools"]):
        schools_of.setdefault(n // world["per_town"], []).append((n, school))
    warnings, keys = [], []
    for t, station in enumerate(world["stations"]):
        for day in days[::15]:
            issued = aware(day, rng.randrange(9 * 3600, 17 * 3600))
            if issued > now:
                continue
            warnings.append(
                EarlyWarning(
                    issuer=station,
                    title=f"{day:%m月%d日}辖区治安预警",
                    content="近期辖区有可疑人员在校园周边活动，请加强门卫查验。",
                    level=("blue", "yellow", "orange", "red")[
                        rng.choices(range(4), (50, 30, 15, 5))[0]
                    ],
                    valid_from=issued,
                    valid_until=issued + dt.timedelta(days=7),
                    issued_at=issued,
                    issued_by=world["users"]["commanders"][t],
                )
            )
            keys.append(t)
    warnings = EarlyWarning.objects.bulk_create(warnings, batch_size=1000)
    recipients = []
    for warning, t in zip(warnings, keys, strict=True):
        age = now - warning.issued_at
        for n, school in schools_of[t]:
            acked = rng.random() < (0.97 if age > dt.timedelta(days=2) else 0.6)
            at = warning.issued_at + dt.timedelta(minutes=rng.randrange(5, 600))
            acked = acked and at <= now
            recipients.append(
                {
                    "warning_id": warning.pk,
                    "school_id": school.pk,
                    "acknowledged_at": at if acked else None,
                    "acknowledged_by_id": world["users"]["principals"][n].pk if acked else None,
                    "acknowledged_by_label": "校长" if acked else "",
                    "chase_count": 0 if acked else 1,
                    "last_chased_at": None if acked else warning.issued_at + dt.timedelta(hours=4),
                }
            )
    insert_rows(EarlyWarningRecipient, recipients)
    signs = []
    for n, school in enumerate(world["schools"]):
        for _ in range(rng.choice((1, 2, 3, 3, 4, 5))):
            day = days[rng.randrange(len(days))]
            reported = aware(day, rng.randrange(8 * 3600, 18 * 3600))
            if reported > now:
                continue
            age = (now - reported).days
            status = (
                "reported"
                if age < 2 and rng.random() < 0.7
                else "assessing"
                if age < 7 and rng.random() < 0.5
                else rng.choice(("action_taken", "no_action"))
            )
            closed = status in ("action_taken", "no_action")
            signs.append(
                {
                    "school_id": school.pk,
                    "category": rng.choice(
                        ("threat", "dispute", "suspicious_person", "suspicious_vehicle", "other")
                    ),
                    "description": "校门口发现可疑人员徘徊。",
                    "observed_at": reported - dt.timedelta(hours=1),
                    "observed_place": "校门口",
                    "time_node": rng.choice(("new_term", "parent_meeting", "pickup_time", "other")),
                    "status": status,
                    "reported_at": reported,
                    "reported_by_id": world["users"]["principals"][n].pk,
                    "feedback": "已核查处置。" if closed else "",
                    "closed_at": reported + dt.timedelta(days=1) if closed else None,
                }
            )
    insert_rows(WarningSign, signs)
    return {
        "early_warnings": len(warnings),
        "recipients": len(recipients),
        "acknowledged": sum(r["acknowledged_at"] is not None for r in recipients),
        "warning_signs": len(signs),
    }


# ------------------------------------------------------------------ compliance


def _compliance(world, now) -> dict:
    """A compliance row per school, evaluated this morning by the county's rules in force:
    about 60 % compliant, 75 % networked; a failing school misses one to three rules."""
    from huxiao.security import rules as R
    from huxiao.security.compliance import NETWORK_RULES
    from huxiao.security.models import ComplianceRule, SchoolCompliance

    R.ensure_rules(world["region"].pk)
    keys = [
        key
        for key in ComplianceRule.objects.filter(region=world["region"], enabled=True)
        .order_by("order", "id")
        .values_list("key", flat=True)
        if key in R.RULES
    ]
    evaluated = now.replace(hour=0, minute=40, second=0, microsecond=0)
    evaluated = min(evaluated, now)
    rows = []
    for n, school in enumerate(world["schools"]):
        rng = random.Random(f"{SEED}:compliance:{n}")
        failing: set[str] = set()
        if rng.random() >= 0.6:
            failing = set(rng.sample(keys, rng.randint(1, 3)))
        if rng.random() < 0.2:
            failing.add(NETWORK_RULES[rng.randrange(len(NETWORK_RULES))])
        no_data = {k for k in failing if rng.random() < 0.15}
        verdicts = []
        for key in keys:
            verdict = "no_data" if key in no_data else "fail" if key in failing else "pass"
            missing = [{"key": f"{key}_need", "params": {}}] if verdict == "fail" else []
            verdicts.append({"rule": key, **R.result(verdict, missing=missing)})
        by = {v["rule"]: v["verdict"] for v in verdicts}
        network = [by[k] for k in NETWORK_RULES if k in by]
        rows.append(
            SchoolCompliance(
                school=school,
                evaluated_at=evaluated,
                is_compliant=not failing,
                is_networked=bool(network) and all(v == "pass" for v in network),
                passed=sum(v == "pass" for v in by.values()),
                failed=sum(v == "fail" for v in by.values()),
                no_data=sum(v == "no_data" for v in by.values()),
                verdicts=verdicts,
            )
        )
    SchoolCompliance.objects.bulk_create(rows, batch_size=500)
    return {
        "rules": len(keys),
        "compliant": sum(r.is_compliant for r in rows),
        "networked": sum(r.is_networked for r in rows),
    }


# ------------------------------------------------------------------ health


def _health(world, roster, days, now) -> dict:
    """Cluster alerts and suspected cases over the year (a few still open) and class
    suspensions (a few running today). Children are the pick-up rosters'."""
    from huxiao.health.models import ClassSuspension, ClusterAlert, HealthCase

    rng = random.Random(f"{SEED}:health")
    schools = world["schools"]
    today = days[-1]
    alerts, cases, suspensions = [], [], []
    for k in range(60):
        n = rng.randrange(len(schools))
        if not roster[n]:
            continue
        recent = k < 6
        day = today - dt.timedelta(days=rng.randrange(0, 3) if recent else rng.randrange(3, 360))
        child, class_id = roster[n][rng.randrange(len(roster[n]))]
        raised = min(aware(day, 10 * 3600 + k), now)
        group = rng.choice(("respiratory", "digestive", "skin"))
        kind = "class_cluster" if k % 3 else "school_cluster"
        alerts.append(
            {
                "school_id": schools[n].pk,
                "school_class_id": class_id if kind == "class_cluster" else None,
                "kind": kind,
                "symptom_group": group,
                "key": f"bench:{kind}:{schools[n].pk}:{class_id}:{group}:{day}",
                "window_start": day - dt.timedelta(days=2),
                "window_end": day,
                "child_count": rng.randrange(4, 9),
                "status": "open" if recent else "closed",
                "raised_at": raised,
                "closed_at": None if recent else raised + dt.timedelta(days=5),
                "note": "",
            }
        )
    for k in range(40):
        n = rng.randrange(len(schools))
        if not roster[n]:
            continue
        recent = k < 5
        day = today - dt.timedelta(days=rng.randrange(0, 4) if recent else rng.randrange(4, 360))
        child, class_id = roster[n][rng.randrange(len(roster[n]))]
        reported = min(aware(day, 8 * 3600 + 600 + k), now)
        cases.append(
            {
                "school_id": schools[n].pk,
                "school_class_id": class_id,
                "child_id": child,
                "status": ("reported", "active")[k % 2] if recent else "closed",
                "symptoms": ["fever", "cough"],
                "temperature": 38.5,
                "onset_date": day,
                "contact_window_days": 2,
                "isolated_at": reported + dt.timedelta(minutes=10),
                "isolation_place": "观察室",
                "reported_at": reported,
                "closed_at": None if recent else reported + dt.timedelta(days=10),
                "note": "",
            }
        )
    for k in range(12):
        n = rng.randrange(len(schools))
        if not roster[n]:
            continue
        running = k < 3
        start = today - dt.timedelta(
            days=rng.randrange(0, 3) if running else rng.randrange(10, 360)
        )
        child, class_id = roster[n][0]
        suspensions.append(
            {
                "school_id": schools[n].pk,
                "scope": "class",
                "school_class_id": class_id,
                "grade": "",
                "starts_on": start,
                "ends_on": start + dt.timedelta(days=7),
                "reason": "聚集性疫情，停课观察",
                "health_centre_opinion": "建议停课一周",
                "education_office_opinion": "同意",
                "decided_at": min(aware(start, 8 * 3600), now),
                "resumed_on": None if running else start + dt.timedelta(days=7),
                "resume_note": "",
            }
        )
    insert_rows(ClusterAlert, alerts)
    insert_rows(HealthCase, cases)
    insert_rows(ClassSuspension, suspensions)
    return {
        "cluster_alerts": len(alerts),
        "open_alerts": sum(a["status"] == "open" for a in alerts),
        "cases": len(cases),
        "open_cases": sum(c["status"] != "closed" for c in cases),
        "suspensions": len(suspensions),
        "suspended_today": len(
            {
                s["school_class_id"]
                for s in suspensions
                if s["starts_on"] <= today <= s["ends_on"] and s["resumed_on"] is None
            }
        ),
    }


# ------------------------------------------------------------------ supervision


def _supervision(world, anchor: dt.date, now) -> dict:
    """The county's default assessment scheme computed and published for last month (the
    ranking of the monthly report) and three notices published last month."""
    from huxiao.supervision import assessment_selectors, assessment_services
    from huxiao.supervision.models import Notice, NoticeReceipt

    actor = world["users"]["county_edu"]
    office = world["county_edu"]
    started = time.perf_counter()
    scheme = assessment_services.ensure_default_scheme(office, actor=actor)
    last = assessment_selectors.previous_period(scheme.period_kind, anchor)
    run = assessment_services.assessment_compute(actor=actor, scheme=scheme, day=last.end, now=now)
    assessment_services.assessment_publish(actor=actor, run=run, now=now)
    assessed_s = time.perf_counter() - started
    month_start = (anchor.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    notices = []
    for k, kind in enumerate(("criticism", "commendation", "criticism")):
        published = aware(month_start + dt.timedelta(days=5 + 7 * k), 10 * 3600)
        notices.append(
            Notice(
                kind=kind,
                reference=f"县教督〔{month_start.year}〕{k + 1}号",
                title=("关于校园安全隐患整改不力的通报", "关于护校安园工作先进学校的通报")[k % 2],
                body="经督导检查，现将有关情况通报如下。",
                issuer=office,
                run=run if kind == "commendation" else None,
                improve_by=month_start + dt.timedelta(days=40) if kind == "criticism" else None,
                status="published",
                created_by=actor,
                created_at=published - dt.timedelta(days=1),
                published_by=actor,
                published_at=published,
            )
        )
    notices = Notice.objects.bulk_create(notices)
    receipts = [
        NoticeReceipt(notice=notice, organization=school)
        for k, notice in enumerate(notices)
        for school in world["schools"][k * 10 : k * 10 + 10]
    ]
    NoticeReceipt.objects.bulk_create(receipts)
    return {
        "assessment_run": run.pk,
        "period": [str(last.start), str(last.end)],
        "assessed_s": round(assessed_s, 1),
        "notices": len(notices),
    }


# ------------------------------------------------------------------ build


def vacuum_analyze() -> None:
    """Fresh planner statistics; on PostgreSQL also the visibility map a loaded table lacks
    until autovacuum passes (which would otherwise pass during the measurements)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        analyze()
        return
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")


def build(
    *,
    anchor: dt.date,
    schools: int = SCHOOLS,
    towns: int = TOWNS,
    gate_events: int = GATE_EVENTS,
    hazards: int = HAZARDS,
) -> dict:
    """Generate the county; returns what the measurements need and what was written."""
    from django.db import transaction
    from django.utils import timezone

    from huxiao.hazards.models import ChecklistTemplate

    started = time.perf_counter()
    now = min(timezone.now(), aware(anchor, 86399))
    days = year_days(anchor)
    terms = year_terms(anchor)
    gate_set = gate_days(anchor, terms)
    facts = [activities_seed.school_facts(n) for n in range(schools)]
    means = gate_means(facts, gate_events, len(gate_set), len(days) - len(gate_set))
    pickup = [math.ceil(m * 1.25) + 1 for m in means["releases"]]
    timings: dict[str, float] = {}
    writer = RawWriter()

    def step(name, function, *args):
        t0 = time.perf_counter()
        result = function(*args)
        timings[name] = round(time.perf_counter() - t0, 1)
        shown = result if isinstance(result, dict) and name in SHOWN_STEPS else ""
        log(f"{name}: {timings[name]} s {shown}")
        return result

    bulk_load(True)
    try:
        with transaction.atomic():
            world = step("world", _world, schools, towns, facts)
        roster = step("children", _children, world, facts, pickup, now)
        passes = step("passes", _passes, world, now)
        gate = step("gate", _gate, world, facts, roster, passes, days, gate_set, means, now, writer)
        template = ChecklistTemplate.objects.filter(is_published=True).order_by("pk").first()
        if template is None:
            raise RuntimeError("no published checklist template: has migrate run?")
        inspections_of = step("inspections", _inspections, world, anchor, template.pk)
        hazard_counts = step("hazards", _hazards, world, anchor, hazards, inspections_of, now)
        posts = step("posts", _posts, world, days, gate_set, now, writer)
        visits = step("police_visits", _visits, world, days, anchor, now)
        activities = step("activities", _activities, world, facts, anchor, terms)
        alarms = step("alarms", _alarms, world, days, now)
        warnings = step("warnings", _warnings, world, days, now)
        compliance = step("compliance", _compliance, world, now)
        health = step("health", _health, world, roster, days, now)
        supervision = step("supervision", _supervision, world, anchor, now)
    finally:
        bulk_load(False)
    step("analyze", vacuum_analyze)
    return {
        "region_id": world["region"].pk,
        "schools": schools,
        "towns": len(world["towns"]),
        "anchor": anchor.isoformat(),
        "year": [days[0].isoformat(), days[-1].isoformat()],
        "gate_days": len(gate_set),
        "pickup_children": sum(pickup),
        "gate_events": gate,
        "hazards": hazard_counts,
        "inspections": sum(len(v) for v in inspections_of.values()),
        "posts": posts,
        "police_visits": visits,
        "activities": activities,
        "alarms": alarms,
        "warnings": warnings,
        "compliance": compliance,
        "health": health,
        "supervision": supervision,
        "step_s": timings,
        "generated_s": round(time.perf_counter() - started, 1),
    }


def actors(region_id: int) -> dict:
    """The users whose pages and reports are measured, and the town they drill into."""
    from django.contrib.auth import get_user_model

    from huxiao.orgs.models import Town

    users = get_user_model().objects
    return {
        "county": users.get(username="bench-dsh-county"),
        "police": users.get(username="bench-dsh-police-00"),
        "principal": users.get(username="bench-dsh-principal-0000"),
        "town_id": Town.objects.filter(region_id=region_id).order_by("code").first().pk,
    }
