"""Roster import benchmark: a generated 10,000-row children roster, validation + commit.

Target (issue 2): ≤ 10 s including validation. The floor, measured in the same run, is a
plain `bulk_create` of the same 10,000 already-clean rows (no parsing, validation,
encryption or audit), so the ratio shows what the import adds on top of writing the rows.

    .venv/bin/python bench/roster.py [--rows 10000] [--rounds 3]

Prints one JSON document; also writes var/bench/roster.json. Uses a throwaway SQLite
database under var/bench/ unless DATABASE_URL is set.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _setup_django(var_dir: Path) -> None:
    os.environ["HUXIAO_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _workbook(rows: int, class_names: list[str]) -> bytes:
    from openpyxl import Workbook

    from huxiao.core.idcard import make_id_number

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["班级", "姓名", "性别", "身份证号"])
    start = dt.date(2020, 9, 1)
    for n in range(rows):
        born = start + dt.timedelta(days=n // 1000)
        sheet.append(
            [
                class_names[n % len(class_names)],
                f"测试{n:05d}",
                "男" if n % 2 else "女",
                make_id_number("130123", born, n % 1000),
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _school(round_no: int):
    from django.contrib.auth import get_user_model

    from huxiao.core.roles import OrgKind, Role
    from huxiao.orgs.models import Membership, Organization, Region, Town
    from huxiao.people.models import SchoolClass

    region, _ = Region.objects.get_or_create(code="BENCH1", defaults={"name": "基准县"})
    town, _ = Town.objects.get_or_create(
        code="BENCHT1", defaults={"region": region, "name": "基准镇"}
    )
    school = Organization.objects.create(
        kind=OrgKind.KINDERGARTEN,
        name=f"基准幼儿园{round_no}-{time.time_ns()}",
        region=region,
        town=town,
    )
    user = get_user_model().objects.create(username=f"bench-principal-{school.pk}")
    Membership.objects.create(user=user, organization=school, role=Role.PRINCIPAL)
    classes = [SchoolClass.objects.create(school=school, name=f"班{n:02d}") for n in range(40)]
    return school, user, classes


def _run_import(rows: int, round_no: int) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from huxiao.imports.services import import_job_commit, import_job_create, import_job_validate
    from huxiao.people.models import Child

    school, user, classes = _school(round_no)
    data = _workbook(rows, [c.name for c in classes])
    upload = SimpleUploadedFile("roster.xlsx", data)
    t0 = time.perf_counter()
    job = import_job_create(actor=user, school=school, kind="children", uploaded_file=upload)
    job = import_job_validate(job=job)
    t1 = time.perf_counter()
    if job.error_count:
        raise SystemExit(f"validation reported {job.error_count} errors: {job.errors[:3]}")
    job = import_job_commit(actor=user, job=job)
    t2 = time.perf_counter()
    created = Child.objects.filter(school=school).count()
    if created != rows:
        raise SystemExit(f"expected {rows} children, found {created} (status {job.status})")
    return {"validate_s": t1 - t0, "commit_s": t2 - t1, "total_s": t2 - t0}


def _run_floor(rows: int, round_no: int) -> float:
    from huxiao.people.models import Child

    school, _user, classes = _school(1000 + round_no)
    start = dt.date(2020, 9, 1)
    objs = [
        Child(
            school=school,
            school_class=classes[n % len(classes)],
            name=f"测试{n:05d}",
            gender="female",
            birth_date=start + dt.timedelta(days=n // 1000),
        )
        for n in range(rows)
    ]
    t0 = time.perf_counter()
    Child.objects.bulk_create(objs, batch_size=1000)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--target-seconds", type=float, default=10.0)
    args = parser.parse_args()
    out_dir = ROOT / "var" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    var_dir = Path(tempfile.mkdtemp(prefix="roster-", dir=out_dir))
    _setup_django(var_dir)
    from django.db import connection

    imports, floors = [], []
    for round_no in range(args.rounds):
        floors.append(_run_floor(args.rows, round_no))
        imports.append(_run_import(args.rows, round_no))
    total = statistics.median(r["total_s"] for r in imports)
    floor = statistics.median(floors)
    result = {
        "benchmark": "roster_import",
        "database": connection.vendor,
        "rows": args.rows,
        "rounds": args.rounds,
        "import": {
            "validate_s_median": round(statistics.median(r["validate_s"] for r in imports), 3),
            "commit_s_median": round(statistics.median(r["commit_s"] for r in imports), 3),
            "total_s_median": round(total, 3),
            "total_s_max": round(max(r["total_s"] for r in imports), 3),
            "samples": [{k: round(v, 3) for k, v in r.items()} for r in imports],
        },
        "floor_bulk_create_s_median": round(floor, 3),
        "ratio_to_floor": round(total / floor, 1) if floor else None,
        "target_s": args.target_seconds,
        "pass": total <= args.target_seconds,
    }
    text = json.dumps(result, ensure_ascii=False, indent=2)
    (out_dir / "roster.json").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
