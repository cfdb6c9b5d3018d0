"""Seed, change and read the data of the backup tests; run in a subprocess against the
site's own database (HUXIAO_VAR_DIR / DATABASE_URL), never the test database.

    python -m huxiao.ops.tests.world seed     → JSON: ids of what was made
    python -m huxiao.ops.tests.world mutate   → JSON: what was changed
    python -m huxiao.ops.tests.world dump     → JSON: the sampled records and files
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys

# Bytes that are not text, so a restore that mangled line endings or encodings would show.
REPORT_BYTES = bytes(range(256)) * 16 + "月度报告".encode()
LOOSE_BYTES = b"\x00loose upload\xff" * 100


def seed() -> dict:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.db import transaction

    from huxiao.orgs.tests.factories import SchoolFactory
    from huxiao.people.tests.factories import (
        ChildFactory,
        GuardianFactory,
        SchoolClassFactory,
        StaffFactory,
    )
    from huxiao.reports.models import Report, ReportKind, ReportStatus

    with transaction.atomic():
        school = SchoolFactory(name="备份测试幼儿园")
        school_class = SchoolClassFactory(school=school, name="大一班")
        children = [ChildFactory(school_class=school_class, name=f"孩子{i}") for i in range(3)]
        for child in children:
            GuardianFactory(child=child, name=f"{child.name}的妈妈")
        StaffFactory(school=school, name="保安老王")
        report = Report(
            kind=ReportKind.MONTHLY,
            title="三月月报",
            status=ReportStatus.DONE,
            region=school.region,
            town=school.town,
            dedupe_key="ops-test-report",
        )
        report.pdf.save("monthly.pdf", ContentFile(REPORT_BYTES), save=False)
        report.save()
    default_storage.save("ops-test/loose.bin", ContentFile(LOOSE_BYTES))
    return {"school": school.pk, "children": [c.pk for c in children], "report": report.pk}


def mutate() -> dict:
    """Delete, change and add: each kind of damage a restore must undo."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from huxiao.people.models import Child, Guardian
    from huxiao.people.tests.factories import StaffFactory
    from huxiao.reports.models import Report

    children = list(Child.objects.order_by("pk"))
    Guardian.objects.filter(child=children[0]).delete()
    children[0].delete()
    children[1].set_id_number("110101201001010011")
    children[1].name = "改名"
    children[1].save()
    Guardian.objects.filter(child=children[2]).update(name="被改的家长")
    StaffFactory(school=children[2].school, name="新来的人")
    report = Report.objects.get()
    path = report.pdf.path
    with open(path, "wb") as handle:
        handle.write(b"overwritten")
    default_storage.delete("ops-test/loose.bin")
    default_storage.save("ops-test/new.bin", ContentFile(b"not in the backup"))
    return {"deleted_child": children[0].pk}


def dump() -> dict:
    from django.conf import settings

    from huxiao.people.models import Child, Guardian, Staff
    from huxiao.reports.models import Report

    media = {}
    for dirpath, _dirs, files in os.walk(settings.MEDIA_ROOT):
        for name in files:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as handle:
                media[os.path.relpath(path, settings.MEDIA_ROOT)] = hashlib.sha256(
                    handle.read()
                ).hexdigest()
    reports = []
    for report in Report.objects.order_by("pk"):
        with report.pdf.open("rb") as handle:
            content = handle.read()
        reports.append([report.pk, report.title, report.pdf.name, content == REPORT_BYTES])
    return {
        "children": [
            [c.pk, c.name, c.decrypt_id_number(), c.id_number_masked, c.id_number_hash]
            for c in Child.objects.order_by("pk")
        ],
        "guardians": [[g.pk, g.child_id, g.name] for g in Guardian.objects.order_by("pk")],
        "staff": [[s.pk, s.name] for s in Staff.objects.order_by("pk")],
        "reports": reports,
        "media": media,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["seed", "mutate", "dump"])
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    result = {"seed": seed, "mutate": mutate, "dump": dump}[args.command]()
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
