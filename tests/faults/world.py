"""Seed and inspect the database of the fault tests; run in a subprocess against the stack's
own database (HUXIAO_VAR_DIR / DATABASE_URL), never the test database.

    python -m tests.faults.world seed --devices 8   → JSON: device tokens, police token
    python -m tests.faults.world dump               → JSON: every alarm and its events
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def seed(devices: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from huxiao.accounts.services import api_token_issue, device_token_issue
    from huxiao.core.roles import OrgKind, Role
    from huxiao.orgs.models import Membership, Organization, Region, Town

    with transaction.atomic():
        region = Region.objects.create(name="故障县", code="990101")
        town = Town.objects.create(region=region, name="故障镇", code="990101001")
        station = Organization.objects.create(
            kind=OrgKind.POLICE_STATION, name="故障派出所", region=region, town=town
        )
        school = Organization.objects.create(
            kind=OrgKind.SCHOOL,
            name="故障测试学校",
            region=region,
            town=town,
            stage="primary",
            ownership="public",
            police_station=station,
        )
        police = get_user_model().objects.create_user(username="fault-police", password=None)
        Membership.objects.create(user=police, organization=station, role=Role.POLICE_COMMANDER)
    issued = [
        device_token_issue(actor=None, school=school, name=f"报警箱{i:02d}", kind="alarm_box")
        for i in range(devices)
    ]
    return {
        "school_id": school.pk,
        "device_tokens": [token for _device, token in issued],
        "device_ids": [device.pk for device, _token in issued],
        "police_token": api_token_issue(user=police),
    }


def dump() -> dict:
    from huxiao.alarms.models import Alarm, AlarmEvent

    return {
        "alarms": [
            {"id": pk, "key": key, "scope": scope}
            for pk, key, scope in Alarm.objects.order_by("pk").values_list(
                "pk", "idempotency_key", "idempotency_scope"
            )
        ],
        "events": [
            {"id": pk, "alarm_id": alarm_id, "type": type_, "data": data}
            for pk, alarm_id, type_, data in AlarmEvent.objects.order_by("pk").values_list(
                "pk", "alarm_id", "type", "data"
            )
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    seed_parser = sub.add_parser("seed")
    seed_parser.add_argument("--devices", type=int, default=8)
    sub.add_parser("dump")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    result = seed(args.devices) if args.command == "seed" else dump()
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
