"""Fixtures of the hazards area's tests: a controllable clock, photos, and hazards in each
state at the kindergarten (`hworld.school`), reported by the town's police commander."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from huxiao.hazards import hazard_services as hs
from huxiao.hazards.choices import HazardCategory, HazardLevel

MONDAY = dt.date(2025, 3, 3)
JPEG = b"\xff\xd8\xff\xe0" + b"0" * 64


def at(day: dt.date, hhmm: str = "09:00") -> dt.datetime:
    hour, minute = hhmm.split(":")
    return timezone.make_aware(dt.datetime.combine(day, dt.time(int(hour), int(minute))))


def day(n: int) -> dt.date:
    return MONDAY + dt.timedelta(days=n)


def photo(name: str = "p.jpg", content: bytes = JPEG):
    return SimpleUploadedFile(name, content, content_type="image/jpeg")


def report(w, *, school=None, actor=None, title="消防通道堵塞", now=None, **kwargs):
    return hs.hazard_report(
        actor=actor or w.users["police"],
        school=school or w.school,
        category=kwargs.pop("category", HazardCategory.PHYSICAL),
        level=kwargs.pop("level", HazardLevel.GENERAL),
        title=title,
        description=kwargs.pop("description", "一楼东侧通道堆放杂物"),
        now=now or at(MONDAY),
        **kwargs,
    )


def advance(w, hazard, to: str, *, now=None):
    """Move a fresh hazard along the happy path up to the state `to`."""
    now = now or at(MONDAY, "10:00")
    steps = ["assigned", "rectifying", "submitted", "closed"]
    for step in steps[: steps.index(to) + 1]:
        if step == "assigned":
            hazard = hs.hazard_assign(
                actor=w.users["principal"],
                hazard=hazard,
                owner=w.users["security"],
                deadline=day(5),
                plan="清理杂物",
                now=now,
            )
        elif step == "rectifying":
            hazard = hs.hazard_start(actor=w.users["security"], hazard=hazard, now=now)
        elif step == "submitted":
            hazard = hs.hazard_submit(
                actor=w.users["security"], hazard=hazard, note="已清理", photos=[photo()], now=now
            )
        elif step == "closed":
            hazard = hs.hazard_verify(actor=w.users["edu"], hazard=hazard, now=now)
    return hazard


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def hazard(hworld, media):
    return report(hworld)
