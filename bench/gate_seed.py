"""Seed and check the database of bench/gate.py; run as `python -m bench.gate_seed seed|check`
with HUXIAO_VAR_DIR (and DATABASE_URL) already pointing at the benchmark's own database,
after `manage.py migrate`. Each prints one JSON line.

seed: a county with a police station and a kindergarten; a gate terminal (device token) of
the kindergarten; a staff member who hosts the visitors; a high-risk register of
HUXIAO_BENCH_REGISTER persons (made as bench/screening.py makes them: every field encrypted,
with its keyed hashes); HUXIAO_BENCH_CHILDREN children in classes of 30, each with a
guardian holding a pick-up code; the floor's table. The codes go to HUXIAO_BENCH_CODES_FILE,
one JSON string a line, alternately the 6-digit PIN and the printed card's QR. Two codes are
issued by `pickup_code_issue` itself and the rest in bulk with the same functions (PIN hash,
serial, secret), and a lookup of each kind is checked through `pickup_lookup` before the
load (a lookup writes nothing when it succeeds).

check: what the load left behind (visits by screening and status, holds, releases,
refusals, floor rows), and that the ID numbers bench/gate.lua sent are the ones
`visitor_id_number` makes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import sys

VISITOR_REGION = "110105"  # no register person is born there (bench/screening.py REGIONS)
FIRST_BORN = dt.date(1971, 1, 1)
CLASS_SIZE = 30


def visitor_id_number(n: int) -> str:
    """Person n's resident ID number, as bench/gate.lua builds it."""
    from huxiao.core.idcard import make_id_number

    return make_id_number(VISITOR_REGION, FIRST_BORN + dt.timedelta(days=n // 999), n % 999 + 1)


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _register(persons: int, station) -> dict:
    from django.db import connection

    from bench import screening
    from huxiao.intel.models import HighRiskPerson
    from huxiao.intel.services import register_matches

    screening._COLUMNS[:] = [
        f.column for f in HighRiskPerson._meta.concrete_fields if not f.primary_key
    ]
    screening._STATION_IDS[:] = [station.pk] * screening.STATIONS
    if persons:
        screening._insert(connection.vendor, screening._rows((0, persons, persons, 1)))
    # The register is real: a registered person is found, the benchmark's visitors are not.
    if persons:
        facts = screening.person_facts(1)
        if not register_matches(id_number=facts["id_number"]):
            raise SystemExit("the seeded register does not find its own person")
    for n in (0, 1, 999, 123_456):
        if register_matches(id_number=visitor_id_number(n), name=f"访客{n}"):
            raise SystemExit(f"visitor {n} matches the register")
    return {
        "persons": persons,
        "active": HighRiskPerson.objects.filter(status="active").count(),
    }


def _children_and_codes(*, school, principal, count: int, codes_path: str) -> dict:
    from django.db import transaction
    from django.utils import timezone

    from huxiao.access import codes, pickup_services
    from huxiao.access.models import PickupCode
    from huxiao.core import crypto
    from huxiao.core.idcard import make_id_number
    from huxiao.people.models import Child, Guardian, SchoolClass

    now = timezone.now()
    classes = [
        SchoolClass(school=school, name=f"{n + 1}班", grade=("小班", "中班", "大班")[n % 3])
        for n in range((count + CLASS_SIZE - 1) // CLASS_SIZE)
    ]
    SchoolClass.objects.bulk_create(classes, batch_size=500)
    classes = list(SchoolClass.objects.filter(school=school).order_by("pk"))
    children = []
    for i in range(count):
        born = dt.date(2020, 9, 1) + dt.timedelta(days=i % 700)
        child = Child(
            school=school,
            school_class=classes[i // CLASS_SIZE],
            name=f"幼儿{i:05d}",
            gender="female" if i % 2 else "male",
            birth_date=born,
        )
        child.set_id_number(make_id_number("110101", born, i // 700))
        children.append(child)
    Child.objects.bulk_create(children, batch_size=500)
    children = list(Child.objects.filter(school=school).order_by("pk"))
    Guardian.objects.bulk_create(
        [
            Guardian(
                child=c,
                name=f"家长{i:05d}",
                relationship="mother" if i % 2 else "father",
                phone=f"138{i:08d}",
                is_primary=True,
            )
            for i, c in enumerate(children)
        ],
        batch_size=500,
    )
    guardians = list(Guardian.objects.filter(child__school=school).order_by("child_id"))

    texts = []
    # The first two through the service itself...
    for guardian in guardians[:2]:
        issued = pickup_services.pickup_code_issue(actor=principal, guardian=guardian)
        texts.append(issued.pin if len(texts) % 2 == 0 else issued.card_text)
    # ...the rest in bulk, made the same way (PIN hash, serial, encrypted secret).
    taken = set(PickupCode.objects.filter(school=school).values_list("pin_hash", flat=True))
    pins = iter(random.Random(5).sample(range(10**6), count + 10))
    rows = []
    for guardian in guardians[2:]:
        while True:
            pin = f"{next(pins):06d}"
            hashed = pickup_services.pin_hash(school.pk, pin)
            if hashed not in taken:
                break
        code = PickupCode(
            school=school,
            guardian=guardian,
            pin_hash=hashed,
            card_serial=codes.new_serial(),
            secret_encrypted=crypto.encrypt(os.urandom(32).hex()),
            issued_by=principal,
            issued_at=now,
        )
        rows.append(code)
        texts.append(pin if len(texts) % 2 == 0 else pickup_services.card_text(code))
    with transaction.atomic():
        PickupCode.objects.bulk_create(rows, batch_size=500)
    with open(codes_path, "w", encoding="utf-8") as out:
        for text in texts:
            out.write(json.dumps(text) + "\n")
    return {"children": count, "classes": len(classes), "codes": len(texts)}


def _check_lookups(device, school, codes_path: str) -> None:
    """A bulk PIN and a bulk card QR look up like the service's own."""
    from huxiao.access import pickup_services

    with open(codes_path, encoding="utf-8") as lines:
        texts = [json.loads(line) for _n, line in zip(range(4), lines, strict=False)]
    for text in texts:
        match = pickup_services.pickup_lookup(actor=device, school=school, text=text)
        if not match.token:
            raise SystemExit(f"lookup of {text!r} gave no token")


def seed() -> None:
    _setup()
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from bench.gate_floor import GateFloorRow
    from huxiao.accounts.services import device_principal, device_token_issue
    from huxiao.core.roles import OrgKind, Role
    from huxiao.orgs.models import Membership, Organization, Region, Town
    from huxiao.people.models import Staff

    children = int(os.environ.get("HUXIAO_BENCH_CHILDREN", "2000"))
    persons = int(os.environ.get("HUXIAO_BENCH_REGISTER", "500"))
    codes_path = os.environ["HUXIAO_BENCH_CODES_FILE"]
    with transaction.atomic():
        region = Region.objects.create(name="基准县", code="110105")
        town = Town.objects.create(region=region, name="基准镇", code="110105001")
        station = Organization.objects.create(
            kind=OrgKind.POLICE_STATION, name="基准派出所", region=region, town=town
        )
        school = Organization.objects.create(
            kind=OrgKind.KINDERGARTEN,
            name="基准中心幼儿园",
            region=region,
            town=town,
            stage="kindergarten",
            ownership="public",
            police_station=station,
            enrolment=children,
        )
        users = get_user_model().objects
        principal = users.create_user(username="bench-gate-principal", password=None)
        Membership.objects.create(user=principal, organization=school, role=Role.PRINCIPAL)
        duty = users.create_user(username="bench-gate-duty", password=None)
        Membership.objects.create(user=duty, organization=school, role=Role.DUTY_LEADER)
        commander = users.create_user(username="bench-gate-police", password=None)
        Membership.objects.create(user=commander, organization=station, role=Role.POLICE_COMMANDER)
        host = Staff.objects.create(
            school=school, name="王老师", role="teacher", phone="13900139000"
        )
        register = _register(persons, station)
        data = _children_and_codes(
            school=school, principal=principal, count=children, codes_path=codes_path
        )
    _device, token = device_token_issue(
        actor=None, school=school, name="南门闸机", kind="gate_terminal"
    )
    with connection.schema_editor() as editor:
        editor.create_model(GateFloorRow)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    _check_lookups(device_principal(token), school, codes_path)
    print(
        json.dumps(
            {
                "school_id": school.pk,
                "host_id": host.pk,
                "token": token,
                "register": register,
                **data,
            }
        )
    )


def check() -> None:
    _setup()
    from django.db.models import Count

    from bench.gate_floor import GateFloorRow
    from huxiao.access.models import PickupRefusal, Release, Visit
    from huxiao.intel.models import ScreeningHit

    by = Visit.objects.values_list("screening", "status").annotate(n=Count("pk"))
    wrong = []
    sample = Visit.objects.filter(name__startswith="访客").order_by("?")[:50]
    for visit in sample:
        n = int(visit.name.removeprefix("访客"))
        if visit.decrypt_id_number() != visitor_id_number(n):
            wrong.append(visit.name)
    print(
        json.dumps(
            {
                "visits": {f"{s}/{st}": n for s, st, n in by},
                "visits_total": Visit.objects.count(),
                "screening_hits": ScreeningHit.objects.count(),
                "releases": Release.objects.count(),
                "refusals": PickupRefusal.objects.count(),
                "floor_rows": GateFloorRow.objects.count(),
                "id_numbers_checked": len(sample),
                "id_numbers_wrong": wrong,
            }
        )
    )


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command not in {"seed", "check"}:
        sys.exit("usage: python -m bench.gate_seed seed|check")
    seed() if command == "seed" else check()
