"""Seed the alarm benchmark's database and print what the load needs, as one JSON line.

Run by bench/alarm_latency.py as `python -m bench.alarm_seed` with HUXIAO_VAR_DIR (and
DATABASE_URL) pointing at the benchmark's own database, after `manage.py migrate`.

World: one county with a county command centre (综治中心, no town) and two towns; each town
has a police station, a campus police post under it and two schools in their jurisdiction.
Consoles (200 by default) are users spread over the four kinds of alarm group:

    county  — governance coordinators of the county centre    (hear every school)
    station — police officers of each station                  (hear their town's 2 schools)
    post    — police officers of each post                     (hear their town's 2 schools)
    school  — principal / security officer / duty leader       (hear their own school)

An alarm at a school therefore reaches the county, its station, its post and its school:
with the default split (40 / 2×30 / 2×20 / 4×15) 105 of the 200 consoles. Each console's
expected groups are derived here from the world's layout and checked against what the
server computes (alarms.events.console_groups), so the benchmark's idea of "who should get
it" is the platform's.
"""

from __future__ import annotations

import json
import os
import sys
from types import SimpleNamespace

SPLIT = {"county": 0.20, "station": 0.30, "post": 0.20, "school": 0.30}
DEVICES_PER_SCHOOL = 3


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()

    from django.contrib.auth import get_user_model
    from django.db import transaction

    from huxiao.accounts.services import api_token_issue, device_token_issue
    from huxiao.alarms.events import console_groups, groups_for_alarm
    from huxiao.core.roles import OrgKind, Role
    from huxiao.core.scoping import memberships_of
    from huxiao.orgs.models import Membership, Organization, Region, Town

    consoles_total = int(os.environ.get("HUXIAO_BENCH_CONSOLES", "200"))
    User = get_user_model()

    with transaction.atomic():
        region = Region.objects.create(name="基准县", code="110109")
        county = Organization.objects.create(
            kind=OrgKind.GOVERNANCE_OFFICE, name="基准县综治中心", region=region, town=None
        )
        towns, stations, posts, schools = [], [], [], []
        for t in range(2):
            town = Town.objects.create(
                region=region, name=f"基准{t + 1}镇", code=f"11010900{t + 1}"
            )
            station = Organization.objects.create(
                kind=OrgKind.POLICE_STATION, name=f"基准{t + 1}镇派出所", region=region, town=town
            )
            post = Organization.objects.create(
                kind=OrgKind.POLICE_POST,
                name=f"基准{t + 1}镇校园警务室",
                region=region,
                town=town,
                parent=station,
            )
            towns.append(town)
            stations.append(station)
            posts.append(post)
            for s in range(2):
                schools.append(
                    Organization.objects.create(
                        kind=OrgKind.SCHOOL,
                        name=f"基准{t + 1}镇第{s + 1}小学",
                        region=region,
                        town=town,
                        stage="primary",
                        ownership="public",
                        police_station=station,
                        police_post=post,
                    )
                )

        counts = {kind: round(consoles_total * share) for kind, share in SPLIT.items()}
        counts["school"] += consoles_total - sum(counts.values())
        placements: list[tuple[object, str, str]] = []  # (org, role, expected group)
        placements += [
            (county, Role.GOVERNANCE_COORDINATOR, f"alarms.county.{region.pk}")
        ] * counts["county"]
        for org, n in zip(stations, _split(counts["station"], len(stations)), strict=True):
            placements += [(org, Role.POLICE_OFFICER, f"alarms.station.{org.pk}")] * n
        for org, n in zip(posts, _split(counts["post"], len(posts)), strict=True):
            placements += [(org, Role.POLICE_OFFICER, f"alarms.post.{org.pk}")] * n
        school_roles = [Role.PRINCIPAL, Role.SECURITY_OFFICER, Role.DUTY_LEADER]
        for org, n in zip(schools, _split(counts["school"], len(schools)), strict=True):
            placements += [
                (org, school_roles[i % len(school_roles)], f"alarms.school.{org.pk}")
                for i in range(n)
            ]

        users = []
        for i, (org, role, group) in enumerate(placements):
            user = User.objects.create_user(username=f"console{i:03d}", password=None)
            Membership.objects.create(user=user, organization=org, role=role)
            users.append((user, group))

    consoles = []
    for user, group in users:
        server_groups = console_groups(memberships_of(user))
        if server_groups != [group]:
            raise SystemExit(
                f"{user.username}: the server gives groups {server_groups}, the layout {group}"
            )
        consoles.append({"token": api_token_issue(user=user), "groups": [group]})

    school_rows = []
    for school in schools:
        # Raise the first alarm's way: the same function the service publishes with.
        groups = groups_for_alarm(SimpleNamespace(school=school))
        expected = sorted(
            {
                f"alarms.county.{region.pk}",
                f"alarms.station.{school.police_station_id}",
                f"alarms.post.{school.police_post_id}",
                f"alarms.school.{school.pk}",
                f"alarms.town.{school.town_id}",
            }
        )
        if sorted(groups) != expected:
            raise SystemExit(f"school {school.pk}: groups_for_alarm gives {groups}")
        tokens = [
            device_token_issue(actor=None, school=school, name=f"报警箱{d}", kind="alarm_box")[1]
            for d in range(DEVICES_PER_SCHOOL)
        ]
        school_rows.append({"id": school.pk, "groups": groups, "device_tokens": tokens})

    print(
        json.dumps(
            {
                "consoles": consoles,
                "schools": school_rows,
                # A police officer of the first station: reads back the event format.
                "reader_token": consoles[counts["county"]]["token"],
                "split": counts,
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
