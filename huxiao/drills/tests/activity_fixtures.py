"""Helpers of the activity and drill-record tests (ADR 0030): local times around today, an
activity made directly, a drill alarm raised through the alarm service, uploads."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from huxiao.drills.choices import ActivityKind, ActivityStatus, DrillKind
from huxiao.drills.models import Activity

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"0" * 64
ENROLMENT = 90


def local(days: int = 0, hour: int = 10, minute: int = 0, second: int = 0) -> dt.datetime:
    """A local (Asia/Shanghai) time `days` from today."""
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute, second)))


def make_activity(
    school,
    *,
    kind=ActivityKind.DRILL,
    status=ActivityStatus.HELD,
    drill_kind=None,
    starts_at=None,
    **fields,
) -> Activity:
    """An activity written directly (the services are tested on their own)."""
    starts_at = starts_at or local(hour=9)
    if drill_kind is None:
        drill_kind = DrillKind.FIRE if kind == ActivityKind.DRILL else ""
    return Activity.objects.create(
        school=school,
        kind=kind,
        drill_kind=drill_kind,
        status=status,
        title=fields.pop("title", "演练"),
        starts_at=starts_at,
        date=timezone.localtime(starts_at).date(),
        **fields,
    )


def drill_alarm(school, user, *, now=None):
    from huxiao.alarms.services import alarm_raise

    alarm, _created = alarm_raise(actor=user, school=school, kind="fire", drill=True, now=now)
    return alarm


def upload(name: str = "photo.jpg", content: bytes = JPEG, content_type="image/jpeg"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def payload(**overrides) -> dict:
    """The fields of a held whole-school fire drill this morning (service keywords)."""
    data = {
        "status": ActivityStatus.HELD,
        "kind": ActivityKind.DRILL,
        "drill_kind": DrillKind.FIRE,
        "starts_at": local(hour=9) if timezone.localtime().hour >= 9 else local(days=-1, hour=9),
        "whole_school": True,
        "headcount": 80,
    }
    data.update(overrides)
    return data


@pytest.fixture
def school(world, settings, tmp_path):
    """The world's school with an enrolment of 90; files go to a temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path
    world.school.enrolment = ENROLMENT
    world.school.save(update_fields=["enrolment"])
    return world.school
