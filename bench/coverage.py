"""Gate-post coverage benchmark: a station with 100 schools and a year of check-ins.

Target (issue 4): the coverage report (三见 per school, per station, per peak and per week,
and the total, over the whole year) ≤ 500 ms. Measured twice, each over repeated runs:

- `selector`: `patrols.selectors.coverage` for the station commander, scope recomputed each
  run (as in a fresh request);
- `api`: GET /api/v1/patrols/coverage?since=…&until=… through the whole middleware stack
  with the commander's bearer token (django.test.Client), JSON rendered.

The floor, measured in the same run, is one hand-written GROUP BY school over the same
shifts (the least SQL that can answer "per school"), so the ratio shows what the four
groupings, the total, the scope and the HTTP layer add.

    .venv/bin/python bench/coverage.py [--schools 100] [--days 365] [--runs 40]

Prints one JSON document; also writes var/bench/coverage.json. Uses a throwaway SQLite
database under var/bench/ unless DATABASE_URL is set; then the generated rows are removed at
the end (use a scratch database).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REGION_CODE = "BENCHCOV"


def _setup_django(var_dir: Path) -> None:
    os.environ["HUXIAO_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("HUXIAO_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _seed(schools: int, days: int, today: dt.date) -> dict:
    """The station, its schools, three posts each (Monday–Friday), a year of shifts and their
    check-ins. Rows are written in bulk; each shift's 三见 flags are those the check-in
    service would derive from its check-ins (checked on a sample with the service)."""
    from django.contrib.auth import get_user_model

    from huxiao.core.roles import OrgKind, Role
    from huxiao.orgs.models import Membership, Organization, Region, Town
    from huxiao.patrols.choices import Period, StaffKind
    from huxiao.patrols.models import (
        GatePost,
        GatePostStaff,
        GatePostWindow,
        PostCheckIn,
        PostShift,
    )
    from huxiao.patrols.services import aware, week_start_of

    User = get_user_model()
    rng = random.Random("bench-coverage")
    region = Region.objects.create(code=REGION_CODE, name="基准县")
    town = Town.objects.create(region=region, code=f"{REGION_CODE}T", name="基准镇")
    station = Organization.objects.create(
        kind=OrgKind.POLICE_STATION, name="基准派出所", region=region, town=town
    )
    commander = User.objects.create(username=f"bench-commander-{time.time_ns()}")
    Membership.objects.create(user=commander, organization=station, role=Role.POLICE_COMMANDER)
    officers = User.objects.bulk_create(
        [User(username=f"bench-officer-{n}-{time.time_ns()}") for n in range(20)]
    )
    Membership.objects.bulk_create(
        [Membership(user=u, organization=station, role=Role.POLICE_OFFICER) for u in officers]
    )
    school_rows = Organization.objects.bulk_create(
        [
            Organization(
                kind=OrgKind.SCHOOL if n % 3 else OrgKind.KINDERGARTEN,
                name=f"基准学校{n:03d}",
                region=region,
                town=town,
                police_station=station,
            )
            for n in range(schools)
        ]
    )
    guards = User.objects.bulk_create(
        [User(username=f"bench-guard-{n}-{time.time_ns()}") for n in range(schools)]
    )
    Membership.objects.bulk_create(
        [
            Membership(user=g, organization=s, role=Role.GUARD)
            for g, s in zip(guards, school_rows, strict=True)
        ]
    )
    times = {
        Period.MORNING: (dt.time(7, 20), dt.time(8, 0)),
        Period.NOON: (dt.time(11, 40), dt.time(12, 10)),
        Period.AFTERNOON: (dt.time(16, 20), dt.time(17, 0)),
    }
    posts = GatePost.objects.bulk_create(
        [
            GatePost(school=s, period=p, location="正门")
            for s in school_rows
            for p in (Period.MORNING, Period.NOON, Period.AFTERNOON)
        ]
    )
    GatePostWindow.objects.bulk_create(
        [
            GatePostWindow(post=p, weekday=d, starts=times[p.period][0], ends=times[p.period][1])
            for p in posts
            for d in range(5)
        ]
    )
    GatePostStaff.objects.bulk_create(
        [
            GatePostStaff(post=p, kind=StaffKind.GUARD, user=guards[i // 3])
            for i, p in enumerate(posts)
        ]
        + [
            GatePostStaff(post=p, kind=StaffKind.POLICE, user=officers[i % len(officers)])
            for i, p in enumerate(posts)
            if p.period != Period.NOON
        ]
    )
    first_day = today - dt.timedelta(days=days)
    grace = dt.timedelta(minutes=5)
    shift_count = check_in_count = 0
    day = first_day
    while day < today:
        if day.weekday() < 5:
            shifts, plans = [], []
            for i, post in enumerate(posts):
                starts, ends = times[post.period]
                starts_at, ends_at = aware(day, starts), aware(day, ends)
                guard_in = rng.random() < 0.92
                police_expected = post.period != Period.NOON
                police_in = police_expected and rng.random() < 0.75
                car = police_in and rng.random() < 0.7
                lights = car and rng.random() < 0.65
                guard_at = starts_at + dt.timedelta(minutes=rng.randint(-12, 3))
                police_at = starts_at + dt.timedelta(minutes=rng.randint(-10, 12))
                first = min(
                    [t for t, ok in ((guard_at, guard_in), (police_at, police_in)) if ok],
                    default=None,
                )
                arrival = (police_at if police_in else None) if police_expected else first
                shifts.append(
                    PostShift(
                        post=post,
                        school_id=post.school_id,
                        period=post.period,
                        date=day,
                        week_start=week_start_of(day),
                        starts_at=starts_at,
                        ends_at=ends_at,
                        expects_police=police_expected,
                        staffed=first is not None,
                        police_present=police_in,
                        police_car=car,
                        police_lights=lights,
                        first_check_in_at=first,
                        police_arrived_at=police_at if police_in else None,
                        arrived_late=arrival is not None and arrival > starts_at + grace,
                    )
                )
                plans.append((i, post, guard_in, guard_at, police_in, police_at, car, lights))
            PostShift.objects.bulk_create(shifts, batch_size=2000)
            check_ins = []
            for shift, (i, post, guard_in, guard_at, police_in, police_at, car, lights) in zip(
                shifts, plans, strict=True
            ):
                if guard_in:
                    check_ins.append(
                        PostCheckIn(
                            shift=shift,
                            school_id=post.school_id,
                            user=guards[i // 3],
                            kind=StaffKind.GUARD,
                            person_name="门卫",
                            checked_in_at=guard_at,
                            is_late=guard_at > shift.starts_at + grace,
                        )
                    )
                if police_in:
                    check_ins.append(
                        PostCheckIn(
                            shift=shift,
                            school_id=post.school_id,
                            user=officers[i % len(officers)],
                            kind=StaffKind.POLICE,
                            person_name="民警",
                            checked_in_at=police_at,
                            is_late=police_at > shift.starts_at + grace,
                            vehicle_present=car,
                            lights_on=lights,
                        )
                    )
            PostCheckIn.objects.bulk_create(check_ins, batch_size=2000)
            shift_count += len(shifts)
            check_in_count += len(check_ins)
        day += dt.timedelta(days=1)
    return {
        "commander": commander,
        "first_day": first_day,
        "last_day": today,
        "schools": school_rows,
        "shifts": shift_count,
        "check_ins": check_in_count,
    }


def _consistent(sample: int = 200) -> bool:
    """The bulk-written flags equal what the check-in service derives from the check-ins."""
    from huxiao.patrols.models import PostShift
    from huxiao.patrols.services import _refresh_shift

    fields = ("staffed", "police_present", "police_car", "police_lights", "arrived_late")
    shifts = list(PostShift.objects.filter(school__region__code=REGION_CODE).order_by("?")[:sample])
    for shift in shifts:
        before = tuple(getattr(shift, f) for f in fields)
        _refresh_shift(shift)
        if tuple(getattr(shift, f) for f in fields) != before:
            return False
    return True


def _measure(func, runs: int) -> list[float]:
    func()  # warm the caches of the database and of Django
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        func()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def _summary(samples: list[float]) -> dict:
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p99_ms": round(_percentile(samples, 0.99), 2),
        "max_ms": round(max(samples), 2),
        "runs": len(samples),
    }


def _cleanup() -> None:
    """Remove the generated rows (PostgreSQL or another shared database)."""
    from django.contrib.auth import get_user_model

    from huxiao.audit.models import AuditEvent
    from huxiao.orgs.models import Membership, Organization, Region, Town
    from huxiao.patrols.models import (
        GatePost,
        GatePostStaff,
        GatePostWindow,
        PostCheckIn,
        PostShift,
    )

    schools = Organization.objects.filter(region__code=REGION_CODE)
    for qs in (
        PostCheckIn.objects.filter(school__in=schools),
        PostShift.objects.filter(school__in=schools),
        GatePostStaff.objects.filter(post__school__in=schools),
        GatePostWindow.objects.filter(post__school__in=schools),
        GatePost.objects.filter(school__in=schools),
    ):
        qs._raw_delete(qs.db)
    users = get_user_model().objects.filter(memberships__organization__in=schools).distinct()
    user_ids = list(users.values_list("pk", flat=True))
    AuditEvent.objects.filter(actor_id__in=user_ids).delete()
    Membership.objects.filter(organization__in=schools).delete()
    get_user_model().objects.filter(pk__in=user_ids).delete()
    Organization.objects.filter(
        region__code=REGION_CODE, kind__in=["school", "kindergarten"]
    ).delete()
    Organization.objects.filter(region__code=REGION_CODE).delete()
    Town.objects.filter(region__code=REGION_CODE).delete()
    Region.objects.filter(code=REGION_CODE).delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--schools", type=int, default=100)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--target-ms", type=float, default=500.0)
    parser.add_argument(
        "--keep", action="store_true", help="leave the generated rows in DATABASE_URL"
    )
    args = parser.parse_args()
    out_dir = ROOT / "var" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    var_dir = Path(tempfile.mkdtemp(prefix="coverage-", dir=out_dir))
    _setup_django(var_dir)
    from django.db import connection
    from django.test import Client

    from huxiao.accounts.services import api_token_issue
    from huxiao.core.scoping import clear_scope_cache
    from huxiao.patrols import selectors

    shared_db = bool(os.environ.get("DATABASE_URL"))
    if shared_db:
        _cleanup()
    today = dt.date.today()
    t0 = time.perf_counter()
    seeded = _seed(args.schools, args.days, today)
    seed_s = time.perf_counter() - t0
    # A database in use has its statistics (autovacuum, SQLite's optimize); fresh bulk rows
    # have none, and PostgreSQL would then sort where it hashes.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    commander = seeded["commander"]
    first_day, last_day = seeded["first_day"], seeded["last_day"]
    school_ids = [s.pk for s in seeded["schools"]]
    try:
        consistent = _consistent()

        def selector_run():
            clear_scope_cache(commander)
            report = selectors.coverage(actor=commander, first_day=first_day, last_day=last_day)
            assert report.total.shifts == seeded["shifts"], (report.total.shifts, seeded["shifts"])
            return report

        token = api_token_issue(user=commander)
        client = Client()
        path = (
            f"/api/v1/patrols/coverage?since={first_day.isoformat()}&until={last_day.isoformat()}"
        )

        def api_run():
            response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
            assert response.status_code == 200, response.content[:300]
            return response

        placeholders = ",".join(["%s"] * len(school_ids))
        floor_sql = (
            "SELECT school_id, COUNT(*), SUM(CASE WHEN police_present THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN police_car THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN police_lights THEN 1 ELSE 0 END) "
            f"FROM patrols_postshift WHERE school_id IN ({placeholders}) "
            "AND date >= %s AND date <= %s GROUP BY school_id"
        )

        def floor_run():
            with connection.cursor() as cursor:
                cursor.execute(floor_sql, [*school_ids, first_day, last_day])
                return cursor.fetchall()

        floor = _measure(floor_run, args.runs)
        selector = _measure(selector_run, args.runs)
        api = _measure(api_run, args.runs)
        body = api_run().json()
        total = body["total"]
        result = {
            "benchmark": "patrol_coverage",
            "database": connection.vendor,
            "schools": args.schools,
            "days": args.days,
            "since": first_day.isoformat(),
            "until": last_day.isoformat(),
            "shifts": seeded["shifts"],
            "check_ins": seeded["check_ins"],
            "seed_s": round(seed_s, 1),
            "flags_consistent_with_service": consistent,
            "report_groups": {k: len(v) for k, v in body["groups"].items()},
            "three_rate": total["three_rate"],
            "selector": _summary(selector),
            "api": _summary(api),
            "floor_group_by_school": _summary(floor),
            "ratio_api_p50_to_floor_p50": round(
                statistics.median(api) / statistics.median(floor), 1
            ),
            "target_ms": args.target_ms,
            # Other work on the machine inflates every figure; the floor moves with it.
            "load_average_1m": round(os.getloadavg()[0], 2),
            "pass": _percentile(api, 0.99) <= args.target_ms and consistent,
        }
    finally:
        if shared_db and not args.keep:
            _cleanup()
    text = json.dumps(result, ensure_ascii=False, indent=2)
    (out_dir / "coverage.json").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
