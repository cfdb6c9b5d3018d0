"""Seed a fresh benchmark database and print what the load needs, as one JSON line.

Run by bench/http_floor.py as `python -m bench.seed` with HUXIAO_VAR_DIR (and DATABASE_URL)
already pointing at the benchmark's own database, after `manage.py migrate`.

World: one county and town, a police station, the measured kindergarten (6 classes, 300
children by default, staff with certificates) and a second kindergarten whose 100 children
must never show (so the scoping filter has something to exclude), and a principal with a
membership at the measured school, an API token and a logged-in session.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()

    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.middleware.csrf import _get_new_csrf_string
    from django.test import Client
    from django.utils import timezone

    from huxiao.accounts.services import api_token_issue
    from huxiao.core.idcard import make_id_number
    from huxiao.core.roles import OrgKind, Role
    from huxiao.orgs.models import Membership, Organization, Region, Town
    from huxiao.people.models import Certificate, Child, SchoolClass, Staff

    children_per_school = int(os.environ.get("HUXIAO_BENCH_CHILDREN", "300"))

    def add_children(school, classes, count, region_code):
        rows = []
        for i in range(count):
            born = dt.date(2020, 9, 1) + dt.timedelta(days=i % 700)
            child = Child(
                school=school,
                school_class=classes[i % len(classes)],
                name=f"幼儿{school.pk}-{i:04d}",
                gender="female" if i % 2 else "male",
                birth_date=born,
                is_active=i % 25 != 0,
            )
            child.set_id_number(make_id_number(region_code, born, i))
            rows.append(child)
        Child.objects.bulk_create(rows, batch_size=500)

    with transaction.atomic():
        region = Region.objects.create(name="基准县", code="110101")
        town = Town.objects.create(region=region, name="基准镇", code="110101001")
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
            enrolment=children_per_school,
        )
        other = Organization.objects.create(
            kind=OrgKind.KINDERGARTEN,
            name="基准第二幼儿园",
            region=region,
            town=town,
            stage="kindergarten",
            ownership="private",
            police_station=station,
        )
        classes = [
            SchoolClass.objects.create(school=school, name=f"{grade}{n}班", grade=grade)
            for grade in ("小班", "中班", "大班")
            for n in (1, 2)
        ]
        other_classes = [SchoolClass.objects.create(school=other, name="混龄1班", grade="混龄")]
        add_children(school, classes, children_per_school, "110101")
        add_children(other, other_classes, 100, "110102")

        today = timezone.localdate()
        for i in range(20):
            staff = Staff.objects.create(
                school=school,
                name=f"教职工{i:02d}",
                role="teacher" if i > 2 else "guard",
                phone="13900139000",
                background_check="passed" if i % 4 else "pending",
            )
            Certificate.objects.create(
                staff=staff,
                kind="教师资格证" if i > 2 else "保安员证",
                number=f"C{i:05d}",
                expires_on=today + dt.timedelta(days=10 * i),
            )

        user = get_user_model().objects.create_user(username="bench-principal", password=None)
        Membership.objects.create(user=user, organization=school, role=Role.PRINCIPAL)

    token = api_token_issue(user=user)
    client = Client()
    client.force_login(user)
    session_key = client.cookies["sessionid"].value

    print(
        json.dumps(
            {
                "school_id": school.pk,
                "user_id": user.pk,
                "token": token,
                "session_key": session_key,
                # A browser that has loaded a page before sends its CSRF cookie back.
                "csrf_cookie": _get_new_csrf_string(),
                "children_in_school": children_per_school,
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
