"""Shared helpers of the video patrol and legal vice-principal tests."""

from __future__ import annotations

import itertools

import pytest
from django.utils import timezone

from huxiao.patrols import video_services
from huxiao.patrols.video_choices import CameraKind

_serials = itertools.count(1)
EVERYONE = (
    "anonymous",
    "nobody",
    "police",
    "officer",
    "postofficer",
    "farpolice",
    "principal",
    "guard",
    "teacher",
    "principal2",
    "edu",
    "gov",
    "county",
    "health",
)


def device_id() -> str:
    return f"130123100013200{next(_serials):05d}"


def camera(world, school=None, *, by="police", **extra):
    school = school or world.school
    actor = world.users["farpolice"] if school == world.far_school else world.users[by]
    data = {"name": "正门", "kind": CameraKind.GATE, "is_networked": True, "is_online": True}
    data.update(extra)
    return video_services.camera_register(
        actor=actor, school=school, device_id=data.pop("device_id", device_id()), **data
    )


def expect(table: dict, default: int = 403) -> dict:
    result = {who: default for who in EVERYONE}
    result["anonymous"] = 401
    for status, users in table.items():
        for who in users:
            result[who] = status
    return result


@pytest.fixture
def cams(people):  # noqa: D401
    w = people
    w.cam = camera(w)
    w.cam_offline = camera(
        w, name="围墙", kind=CameraKind.PERIMETER, is_online=False, is_networked=False
    )
    w.other_cam = camera(w, w.other_school)
    w.far_cam = camera(w, w.far_school)
    return w


def now():
    return timezone.now().replace(microsecond=0)
