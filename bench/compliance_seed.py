"""The generated county of bench/compliance.py (issue 7): 1,000 schools over 12 towns.

What each school is comes from `school_facts(n)` alone (deterministic, so the intended shares
are known and unit-tested): stage and enrolment (30–2,500 pupils; middle schools and some
primary schools board), and whether it is a *model* school — one built to meet every default
rule of the county (ADR 0028: security body, guards by enrolment, certified guards,
dormitory managers, the eight protective items, 24-hour gatehouse, closed management,
physical barriers, one-click alarm and video networked to the police, 30 days of video,
a monitoring room staffed 24 hours, ≥ 5 patrol rounds a day and a night round for boarders).
The other schools miss one or more of those aspects (`ASPECTS`), each in a way the issue
names: too few full-time guards, an expired, missing or unfiled certificate, a missing or
broken item, a camera not networked, 15 days of video, days with three rounds…

Rows per school: 1–7 guards (`people.Staff`, role guard, most with a `GuardProfile`), a
security officer and dormitory managers where the school has them; the county's protective
set (security/defaults.py's, or eight rows of our own while it does not exist) in stock;
a `DefenceProfile`; 2–20 registry cameras (`patrols.Camera`, unique 20-digit GB/T 28181
IDs); an alarm box (`accounts.DeviceToken`) for most, other technical systems for some;
five checkpoints and seven full days (the 7 days before the anchor day) of finished patrol
rounds with 2–5 scans each (and, at boarding schools, the night rounds of the 8 nights before) — about 40,000 rounds and 140,000 scans. Users: a county and one
town education supervisor per town, a principal of school 0 (the floor page's user) and a
guard login per school (who walked the rounds).

Everything is dated relative to the anchor day (the day the county is generated); the
evaluation runs at `evaluation_now(anchor)` (00:40, when the nightly job runs).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
import sys
import time

SEED = "huxiao-bench-compliance-v1"
REGION_CODE = "BENCHCMP"
TOWNS = 12
# GB/T 28181 device IDs: 8-digit centre code, 2-digit trade, 3-digit type (132 = IP camera),
# 1-digit network, 6-digit serial. A division code no real county has.
DIVISION = "99990100"
MODEL_SHARE = 0.4  # schools built to meet every default rule
FAIL_SHARE = 0.2  # each aspect of any other school misses with this probability
DAYS = 7
ASPECTS = (
    "security_body",
    "guards_staffing",
    "guards_certified",
    "dormitory_managers",
    "equipment_complete",
    "gatehouse_24h",
    "closed_management",
    "physical_barriers",
    "alarm_networked",
    "video_networked",
    "video_retention",
    "monitoring_room",
    "patrol_rounds",
)
DEFENCE_ASPECTS = (
    "gatehouse_24h",
    "closed_management",
    "physical_barriers",
    "video_retention",
    "monitoring_room",
)
# Used only while security/defaults.py does not exist yet: (key, name, min, per_guard).
FALLBACK_EQUIPMENT = (
    ("helmet", "头盔", 1, True),
    ("shield", "盾牌", 1, False),
    ("steel_fork", "钢叉", 2, False),
    ("stab_vest", "防刺服", 1, True),
    ("cut_gloves", "防割手套", 1, True),
    ("baton", "橡胶警棍", 1, False),
    ("flashlight", "强光手电", 1, False),
    ("pepper_spray", "防暴喷雾", 1, False),
)
EQUIPMENT_ITEMS = len(FALLBACK_EQUIPMENT)
CHECKPOINTS = ("校门", "教学楼", "操场", "食堂", "宿舍楼")
BAD_CERTIFICATES = ("expired", "missing", "not_filed", "background", "no_profile")


def log(message: str) -> None:
    print(f"compliance: {message}", file=sys.stderr, flush=True)


def required_guards(enrolment: int, boarding: bool) -> int:
    """Full-time guards the default rule asks for (ADR 0028): 1 under 100 pupils; 3 at
    1,000 plus 1 per further full 500; linear in between, rounded up; boarders at least 2."""
    if enrolment < 100:
        need = 1
    elif enrolment >= 1000:
        need = 3 + (enrolment - 1000) // 500
    else:
        need = math.ceil(1 + (enrolment - 100) * 2 / 900)
    return max(need, 2) if boarding else need


def school_facts(n: int) -> dict:
    """What school `n` is and how it stands against each default rule (deterministic)."""
    rng = random.Random(f"{SEED}:school:{n}")
    roll = rng.random()
    if roll < 0.3:
        stage, enrolment, boarding = "kindergarten", rng.randrange(30, 400), False
    elif roll < 0.75:
        stage, enrolment = "primary", rng.randrange(60, 1800)
        boarding = rng.random() < 0.1
    else:
        stage, enrolment = "middle", rng.randrange(300, 2501)
        boarding = rng.random() < 0.5
    model = rng.random() < MODEL_SHARE
    failing: set[str] = set()
    if not model:
        candidates = [a for a in ASPECTS if boarding or a != "dormitory_managers"]
        failing = {a for a in candidates if rng.random() < FAIL_SHARE}
        if not failing:
            failing = {rng.choice(candidates)}
    has_profile = model or rng.random() >= 0.05
    if not has_profile:
        failing |= set(DEFENCE_ASPECTS)

    # Personnel.
    need = required_guards(enrolment, boarding)
    if "guards_staffing" in failing:
        full_time = max(0, need - 1 - (rng.random() < 0.3))
        part_time = 1 if full_time == 0 or rng.random() < 0.4 else 0
    else:
        full_time = need + (rng.random() < 0.3)
        part_time = 1 if rng.random() < 0.1 else 0
    guards = [{"employment": "full_time", "certificate": "valid"} for _ in range(full_time)]
    guards += [{"employment": "part_time", "certificate": "valid"} for _ in range(part_time)]
    if "guards_certified" in failing:
        for guard in rng.sample(guards, k=min(len(guards), 1 + (rng.random() < 0.3))):
            bad = rng.choice(BAD_CERTIFICATES)
            # A guard without a profile counts as full-time: keep staffing as intended.
            if bad == "no_profile" and guard["employment"] == "part_time":
                bad = "expired"
            guard["certificate"] = bad
    officers = 0 if "security_body" in failing else 1
    dormitory = 0 if not boarding or "dormitory_managers" in failing else 1 + (rng.random() < 0.4)

    # Equipment: one state per item of the county's list.
    equipment = ["ok"] * EQUIPMENT_ITEMS
    if "equipment_complete" in failing:
        for index in rng.sample(range(EQUIPMENT_ITEMS), k=1 + (rng.random() < 0.4)):
            equipment[index] = rng.choice(("missing", "short", "broken"))
    worn = [rng.random() < 0.1 for _ in range(EQUIPMENT_ITEMS)]

    # Defence profile.
    defence = None
    if has_profile:
        perimeter = rng.choice(("wall", "wall", "fence"))
        bollards, barrier = rng.randrange(0, 7), rng.random() < 0.8
        if not bollards and not barrier:
            barrier = True
        if "physical_barriers" in failing:
            if rng.random() < 0.5:
                perimeter = rng.choice(("partial", "none"))
            else:
                bollards, barrier = 0, False
        room = "monitoring_room" not in failing or rng.random() < 0.5
        defence = {
            "video_retention_days": (
                rng.choice((7, 15, 15, 20, None))
                if "video_retention" in failing
                else rng.choice((30, 30, 45, 60, 90))
            ),
            "monitoring_room": room,
            "monitoring_room_24h": room and "monitoring_room" not in failing,
            "perimeter": perimeter,
            "bollards": bollards,
            "vehicle_barrier": barrier,
            "speed_bumps": rng.random() < 0.6,
            "parent_waiting_area": rng.random() < 0.7,
            "closed_management": "closed_management" not in failing,
            "gatehouse_24h": "gatehouse_24h" not in failing,
        }

    # Technical defence.
    cameras = max(2, min(20, enrolment // 150 + rng.randrange(2, 7)))
    not_networked = 0
    if "video_networked" in failing:
        not_networked = rng.randrange(1, cameras)
    if "alarm_networked" in failing:
        alarm = rng.choice(("none", "none", "inactive_box", "unnetworked_system"))
    else:
        alarm = "box" if rng.random() < 0.9 else "networked_system"
    other_systems = rng.randrange(1, 3) if rng.random() < 0.3 else 0

    # Patrol rounds of the seven full days before the anchor day, and night rounds of the
    # eight nights before it (oldest first): at 00:40 the night that began yesterday is not
    # over, so the rule may look at the seven nights before it. A night is missed only
    # among the six that every reading of "the last seven nights" includes.
    if "patrol_rounds" in failing and boarding and rng.random() < 0.5:
        days = [rng.randrange(5, 8) for _ in range(DAYS)]
        nights = [1] * (DAYS + 1)
        for index in rng.sample(range(1, DAYS), k=rng.randrange(1, 4)):
            nights[index] = 0
    elif "patrol_rounds" in failing:
        days = [rng.randrange(3, 8) for _ in range(DAYS)]
        days[rng.randrange(DAYS)] = rng.randrange(2, 5)
        nights = [1 if boarding else 0] * (DAYS + 1)
    else:
        days = [rng.randrange(5, 8) for _ in range(DAYS)]
        nights = [1 if boarding else 0] * (DAYS + 1)
    return {
        "stage": stage,
        "enrolment": enrolment,
        "boarding": boarding,
        "model": model,
        "failing": sorted(failing),
        "required_guards": need,
        "guards": guards,
        "security_officers": officers,
        "dormitory_managers": dormitory,
        "equipment": equipment,
        "equipment_worn": worn,
        "defence": defence,
        "cameras": cameras,
        "cameras_not_networked": not_networked,
        "cameras_offline": sum(rng.random() < 0.1 for _ in range(cameras)),
        "alarm": alarm,
        "other_systems": other_systems,
        "day_rounds": days,
        "night_rounds": nights,
        "rounds_seed": rng.randrange(1 << 30),
    }


def aware(day: dt.date, at: dt.time) -> dt.datetime:
    from django.utils import timezone

    return timezone.make_aware(dt.datetime.combine(day, at))


def evaluation_now(anchor: dt.date) -> dt.datetime:
    """When the benchmark evaluates: 00:40 of the anchor day (the nightly job's time), so the
    last seven full days are the seven generated ones."""
    return aware(anchor, dt.time(0, 40))


def _digest(*parts) -> str:
    return hashlib.sha256(":".join(str(p) for p in (SEED, *parts)).encode()).hexdigest()


def _equipment_types(region) -> tuple[list, str]:
    """The county's protective set: security/defaults.py's when it exists."""
    from huxiao.security.models import EquipmentType

    try:
        from huxiao.security.defaults import ensure_equipment_types
    except ImportError:
        ensure_equipment_types = None
    if ensure_equipment_types is not None:
        ensure_equipment_types(region)
        source = "security.defaults.ensure_equipment_types"
    else:
        EquipmentType.objects.bulk_create(
            [
                EquipmentType(
                    region=region,
                    key=key,
                    name=name,
                    min_quantity=minimum,
                    per_guard=per_guard,
                    order=order,
                )
                for order, (key, name, minimum, per_guard) in enumerate(FALLBACK_EQUIPMENT)
            ]
        )
        source = "bench fallback (security/defaults.py missing)"
    return list(EquipmentType.objects.filter(region=region).order_by("order", "pk")), source


def _ensure_rules(region) -> str:
    try:
        from huxiao.security.rules import ensure_rules
    except ImportError:
        return "not available (security.rules.ensure_rules missing)"
    ensure_rules(region)
    return "security.rules.ensure_rules"


def _valid_certificate(rng: random.Random, anchor: dt.date) -> dict:
    issued = anchor - dt.timedelta(days=rng.randrange(30, 1500))
    return {
        "certificate_number": f"浙{rng.randrange(10**9, 10**10)}",
        "certificate_issued_on": issued,
        "certificate_expires_on": anchor + dt.timedelta(days=rng.randrange(31, 1500)),
        "filed_with_police": True,
        "filed_on": issued + dt.timedelta(days=rng.randrange(1, 30)),
    }


def build(*, schools: int, anchor: dt.date, towns: int = TOWNS) -> dict:
    """Generate the county; returns what the measurements and the report need."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from huxiao.accounts.models import DeviceKind, DeviceToken
    from huxiao.core.roles import OrgKind, Role
    from huxiao.duty.models import Checkpoint, CheckpointScan, PatrolRound
    from huxiao.orgs.models import Membership, Organization, Region, Town
    from huxiao.patrols.models import Camera
    from huxiao.people.models import Staff
    from huxiao.security.models import (
        DefenceProfile,
        GuardProfile,
        SchoolEquipment,
        TechnicalSystem,
    )

    started = time.perf_counter()
    User = get_user_model()
    facts = [school_facts(n) for n in range(schools)]
    per_town = math.ceil(schools / towns)
    towns_count = math.ceil(schools / per_town)

    with transaction.atomic():
        region = Region.objects.create(code=REGION_CODE, name="合规基准县")
        county_office = Organization.objects.create(
            kind=OrgKind.EDUCATION_OFFICE, name="合规基准县教育局", region=region
        )
        town_rows = Town.objects.bulk_create(
            [
                Town(region=region, code=f"{REGION_CODE}{n:02d}", name=f"合规镇{n:02d}")
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
                Organization(
                    kind=OrgKind.POLICE_STATION, name=f"{t.name}派出所", region=region, town=t
                )
                for t in town_rows
            ]
        )
        school_rows = Organization.objects.bulk_create(
            [
                Organization(
                    kind=OrgKind.KINDERGARTEN if f["stage"] == "kindergarten" else OrgKind.SCHOOL,
                    name=f"基准学校{n:04d}",
                    region=region,
                    town=town_rows[n // per_town],
                    stage=f["stage"],
                    is_boarding=f["boarding"],
                    enrolment=f["enrolment"],
                    police_station=stations[n // per_town],
                    education_office=offices[n // per_town] if n % 2 else None,
                )
                for n, f in enumerate(facts)
            ]
        )
        users = User.objects.bulk_create(
            [
                User(username="bench-cmp-county", first_name="县督导", password="!"),
                User(username="bench-cmp-principal", first_name="校长", password="!"),
            ]
            + [User(username=f"bench-cmp-town-{n:02d}", password="!") for n in range(towns_count)]
            + [
                User(username=f"bench-cmp-guard-{n:04d}", first_name=f"保安{n:04d}", password="!")
                for n in range(schools)
            ]
        )
        county_user, principal, *rest = users
        town_users, guard_users = rest[:towns_count], rest[towns_count:]
        Membership.objects.bulk_create(
            [
                Membership(
                    user=county_user, organization=county_office, role=Role.EDUCATION_SUPERVISOR
                ),
                Membership(user=principal, organization=school_rows[0], role=Role.PRINCIPAL),
            ]
            + [
                Membership(user=u, organization=o, role=Role.EDUCATION_SUPERVISOR)
                for u, o in zip(town_users, offices, strict=True)
            ]
            + [
                Membership(user=u, organization=s, role=Role.GUARD)
                for u, s in zip(guard_users, school_rows, strict=True)
            ]
        )

        # Personnel.
        staff_rows, profile_of = [], []
        for n, (school, f) in enumerate(zip(school_rows, facts, strict=True)):
            rng = random.Random(f"{SEED}:staff:{n}")
            people = [("guard", g) for g in f["guards"]]
            people += [("security_officer", {"employment": "full_time", "certificate": "valid"})]
            people = people[: len(f["guards"]) + f["security_officers"]]
            people += [
                ("dormitory_manager", {"employment": "full_time", "certificate": "valid"})
            ] * f["dormitory_managers"]
            for k, (role, guard) in enumerate(people):
                staff_rows.append(
                    Staff(
                        school=school,
                        user=guard_users[n] if k == 0 and role == "guard" else None,
                        name=f"{school.name[-4:]}{role[:1].upper()}{k}",
                        role=role,
                        phone=f"139{rng.randrange(10**8):08d}",
                        background_check=(
                            "pending" if guard["certificate"] == "background" else "passed"
                        ),
                        background_checked_on=anchor - dt.timedelta(days=rng.randrange(30, 900)),
                    )
                )
                profile_of.append(guard)
        staff_rows = Staff.objects.bulk_create(staff_rows, batch_size=2000)
        profiles = []
        for staff, guard in zip(staff_rows, profile_of, strict=True):
            state = guard["certificate"]
            if state == "no_profile":
                continue
            rng = random.Random(f"{SEED}:profile:{staff.pk}")
            fields = _valid_certificate(rng, anchor)
            if state == "expired":
                fields["certificate_expires_on"] = anchor - dt.timedelta(days=rng.randrange(1, 300))
            elif state == "missing":
                fields.update(
                    certificate_number="", certificate_issued_on=None, certificate_expires_on=None
                )
            elif state == "not_filed":
                fields.update(filed_with_police=False, filed_on=None)
            company = rng.random() < 0.4
            profiles.append(
                GuardProfile(
                    staff=staff,
                    employment=guard["employment"],
                    employer="security_company" if company else "school",
                    security_company="平安保安服务有限公司" if company else "",
                    hired_on=anchor - dt.timedelta(days=rng.randrange(60, 3000)),
                    **fields,
                )
            )
        GuardProfile.objects.bulk_create(profiles, batch_size=2000)
        log(f"{schools:,} schools in {towns_count} towns; {len(staff_rows):,} security staff")

        # Equipment.
        types, equipment_source = _equipment_types(region)
        guards_of = {s.pk: len(f["guards"]) for s, f in zip(school_rows, facts, strict=True)}
        stock = []
        for school, f in zip(school_rows, facts, strict=True):
            rng = random.Random(f"{SEED}:equipment:{school.pk}")
            for index, item in enumerate(types):
                state = f["equipment"][index % EQUIPMENT_ITEMS]
                if state == "missing" or not item.is_required and rng.random() < 0.5:
                    continue
                enough = max(item.min_quantity, guards_of[school.pk] if item.per_guard else 0)
                stock.append(
                    SchoolEquipment(
                        school=school,
                        equipment_type=item,
                        quantity=max(0, item.min_quantity - 1)
                        if state == "short"
                        else enough + rng.randrange(0, 3),
                        condition="broken"
                        if state == "broken"
                        else "worn"
                        if f["equipment_worn"][index % EQUIPMENT_ITEMS]
                        else "good",
                        last_checked_on=anchor - dt.timedelta(days=rng.randrange(1, 200)),
                    )
                )
        SchoolEquipment.objects.bulk_create(stock, batch_size=2000)

        # Defences.
        DefenceProfile.objects.bulk_create(
            [
                DefenceProfile(school=school, **f["defence"])
                for school, f in zip(school_rows, facts, strict=True)
                if f["defence"] is not None
            ],
            batch_size=2000,
        )
        cameras, devices, systems = [], [], []
        kinds = ("gate", "perimeter", "playground", "corridor", "canteen", "dormitory", "other")
        serial = 0
        for n, (school, f) in enumerate(zip(school_rows, facts, strict=True)):
            for k in range(f["cameras"]):
                serial += 1
                cameras.append(
                    Camera(
                        school=school,
                        device_id=f"{DIVISION}00132{serial % 10}{serial:06d}",
                        name=f"摄像机{k + 1:02d}",
                        location=CHECKPOINTS[k % len(CHECKPOINTS)],
                        kind=kinds[k % len(kinds)],
                        is_online=k >= f["cameras_offline"],
                        is_networked=k >= f["cameras_not_networked"],
                        is_active=True,
                    )
                )
            if f["alarm"] in ("box", "inactive_box"):
                devices.append(
                    DeviceToken(
                        school=school,
                        name="一键报警箱",
                        kind=DeviceKind.ALARM_BOX,
                        key_hash=_digest("alarm", n),
                        prefix=_digest("alarm", n)[:8],
                        is_active=f["alarm"] == "box",
                    )
                )
            if n % 3 == 0:
                devices.append(
                    DeviceToken(
                        school=school,
                        name="门岗终端",
                        kind=DeviceKind.GATE_TERMINAL,
                        key_hash=_digest("gate", n),
                        prefix=_digest("gate", n)[:8],
                    )
                )
            if f["alarm"] in ("networked_system", "unnetworked_system"):
                systems.append(
                    TechnicalSystem(
                        school=school,
                        kind="one_click_alarm",
                        name="一键报警（第三方）",
                        location="门卫室",
                        networked_to_police=f["alarm"] == "networked_system",
                        installed_on=anchor - dt.timedelta(days=400),
                    )
                )
            for k in range(f["other_systems"]):
                systems.append(
                    TechnicalSystem(
                        school=school,
                        kind=("intrusion_alarm", "video_recorder")[k % 2],
                        name=("周界入侵报警", "硬盘录像机")[k % 2],
                        networked_to_police=k % 2 == 0,
                        installed_on=anchor - dt.timedelta(days=700),
                        last_tested_on=anchor - dt.timedelta(days=30),
                    )
                )
        Camera.objects.bulk_create(cameras, batch_size=2000)
        DeviceToken.objects.bulk_create(devices, batch_size=2000)
        TechnicalSystem.objects.bulk_create(systems, batch_size=2000)
        log(
            f"{len(stock):,} stock rows of {len(types)} items ({equipment_source}); "
            f"{len(cameras):,} cameras, {len(devices):,} devices, {len(systems):,} systems"
        )

        # Checkpoints and the rounds of the seven full days before the anchor day.
        checkpoints = Checkpoint.objects.bulk_create(
            [
                Checkpoint(
                    school=school,
                    name=name,
                    location=name,
                    code=_digest("checkpoint", n, k)[:32],
                    is_key_area=True,
                    for_night=f["boarding"] and name == "宿舍楼",
                    order=k,
                )
                for n, (school, f) in enumerate(zip(school_rows, facts, strict=True))
                for k, name in enumerate(CHECKPOINTS)
            ],
            batch_size=2000,
        )
        points_of: dict[int, list] = {}
        for point in checkpoints:
            points_of.setdefault(point.school_id, []).append(point)
    rounds_made = scans_made = 0
    pending_rounds: list = []
    pending_scans: list[list[tuple]] = []

    def flush():
        nonlocal rounds_made, scans_made, pending_rounds, pending_scans
        with transaction.atomic():
            made = PatrolRound.objects.bulk_create(pending_rounds, batch_size=2000)
            scan_rows = [
                CheckpointScan(round=r, checkpoint=point, scanned_at=at)
                for r, planned in zip(made, pending_scans, strict=True)
                for point, at in planned
            ]
            CheckpointScan.objects.bulk_create(scan_rows, batch_size=5000)
        rounds_made += len(made)
        scans_made += len(scan_rows)
        pending_rounds, pending_scans = [], []

    def add_round(rng, school, guard, day, start_min, night):
        points = points_of[school.pk]
        visited = rng.sample(points, k=rng.randrange(2, len(points) + 1))
        at = aware(day, dt.time(0, 0)) + dt.timedelta(minutes=start_min)
        started_at, planned = at, []
        for point in visited:
            at += dt.timedelta(minutes=rng.randrange(2, 7))
            planned.append((point, at))
        pending_rounds.append(
            PatrolRound(
                school=school,
                guard=guard,
                started_at=started_at,
                finished_at=at,
                is_night=night,
            )
        )
        pending_scans.append(planned)

    for n, (school, f) in enumerate(zip(school_rows, facts, strict=True)):
        rng = random.Random(f"{SEED}:rounds:{f['rounds_seed']}")
        for index, count in enumerate(f["day_rounds"]):
            day = anchor - dt.timedelta(days=DAYS - index)
            for k in range(count):
                # Spread over 07:30–18:00.
                start = 450 + k * 630 // count + rng.randrange(0, 20)
                add_round(rng, school, guard_users[n], day, start, night=False)
        for index, count in enumerate(f["night_rounds"]):
            day = anchor - dt.timedelta(days=DAYS + 1 - index)
            for _ in range(count):
                add_round(rng, school, guard_users[n], day, 22 * 60 + rng.randrange(0, 90), True)
        if len(pending_rounds) >= 10_000:
            flush()
            log(f"rounds: {rounds_made:,} ({n + 1:,} of {schools:,} schools)")
    flush()
    with transaction.atomic():
        rules_source = _ensure_rules(region)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log(f"{rounds_made:,} rounds, {scans_made:,} scans; rules: {rules_source}")

    failing_counts = {a: sum(a in f["failing"] for f in facts) for a in ASPECTS}
    # Facts never recorded are "no data", which does not fail a school (ADR 0028): a school
    # without a defence profile, or without a retention figure, misses those rules only so.
    unrecorded = 0
    for f in facts:
        if f["model"]:
            continue
        no_data = set(DEFENCE_ASPECTS) if f["defence"] is None else set()
        if f["defence"] is not None and f["defence"]["video_retention_days"] is None:
            no_data.add("video_retention")
        unrecorded += set(f["failing"]) <= no_data
    return {
        "region_id": region.pk,
        "schools": schools,
        "towns": towns_count,
        "boarding": sum(f["boarding"] for f in facts),
        "security_staff": len(staff_rows),
        "guard_profiles": len(profiles),
        "equipment_types": len(types),
        "equipment_source": equipment_source,
        "school_equipment": len(stock),
        "defence_profiles": sum(f["defence"] is not None for f in facts),
        "cameras": len(cameras),
        "devices": len(devices),
        "technical_systems": len(systems),
        "checkpoints": len(checkpoints),
        "patrol_rounds": rounds_made,
        "checkpoint_scans": scans_made,
        "rules": rules_source,
        "designed": {
            "model_schools": sum(f["model"] for f in facts),
            "schools_missing_only_unrecorded_facts": unrecorded,
            "schools_without_defence_profile": sum(f["defence"] is None for f in facts),
            "schools_missing_each_aspect": failing_counts,
        },
        "anchor": anchor.isoformat(),
        "generated_s": round(time.perf_counter() - started, 1),
    }


def actors(region_id: int) -> dict:
    """The users whose pages are measured, and what they look at."""
    from django.contrib.auth import get_user_model

    from huxiao.orgs.models import Organization, Town

    users = get_user_model().objects
    town = Town.objects.filter(region_id=region_id).order_by("code").first()
    school = Organization.objects.filter(region_id=region_id, name="基准学校0000").get()
    return {
        "county": users.get(username="bench-cmp-county"),
        "town": users.get(username="bench-cmp-town-00"),
        "principal": users.get(username="bench-cmp-principal"),
        "town_id": town.pk,
        "school_id": school.pk,
    }
