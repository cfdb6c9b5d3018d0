"""Demo data of the camera registry, video patrols and legal vice-principals (ADR 0020).

`load_demo_video()` runs after `load_demo_township()` (demo mode only). It registers the
cameras of the township's schools (some offline, some not yet networked, so the networking
rate has something to show), logs a few video patrols by `officer` over the past days, one
finding marked for follow-up, and records `officer`'s appointment as legal vice-principal
of 大杨树实验幼儿园 — the post the township already gives him as a station membership
titled "大杨树实验幼儿园法制副校长"; the assignment keeps that membership as it is.

Idempotent, by natural keys: cameras by device ID, video patrols by (officer, start), the
assignment by (school, officer, appointment number). A second run writes nothing.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from huxiao.audit.models import AuditAction
from huxiao.audit.services import audit_record
from huxiao.demo.township import REGION_CODE, DemoModeOff
from huxiao.orgs.models import Organization
from huxiao.patrols.lvp_services import lvp_membership_sync
from huxiao.patrols.models import Camera, LegalVicePrincipal, VideoObservation, VideoPatrol
from huxiao.patrols.video_choices import CameraKind

AUDIT_OBJECT_TYPE = "demo.video"
# GB/T 28181: 8-digit centre code (示范县 130123 + basic unit 10), industry 00, type 132
# (network camera), network flag 0, then a 6-digit serial.
_PREFIX = "13012310" + "00" + "132" + "0"
K = CameraKind
# school name → [(serial, name, kind, location, online, networked)]
CAMERAS = {
    "大杨树实验幼儿园": [
        (101, "园门口", K.GATE, "幸福路8号正门", True, True),
        (102, "操场东", K.PLAYGROUND, "操场东侧", True, True),
        (103, "围墙北", K.PERIMETER, "北侧围墙", False, True),
        (104, "食堂后厨", K.CANTEEN, "食堂操作间", True, True),
    ],
    "大杨树中心小学": [
        (201, "校门口", K.GATE, "幸福路6号校门", True, True),
        (202, "教学楼走廊", K.CORRIDOR, "教学楼一层", True, True),
        (203, "操场", K.PLAYGROUND, "操场主席台", True, False),
    ],
    "大杨树镇中学": [
        (301, "校门口", K.GATE, "南门", True, True),
        (302, "宿舍楼", K.DORMITORY, "男生宿舍楼门口", True, True),
        (303, "西围墙", K.PERIMETER, "西侧围墙", False, False),
    ],
    "阳光幼儿园": [(401, "园门口", K.GATE, "东街23号门口", True, False)],
    "红星村小学": [(501, "校门口", K.GATE, "村委会南门", False, False)],
}
LVP_SCHOOL = "大杨树实验幼儿园"
LVP_APPOINTMENT = "示公字〔2025〕8号"
# (days back, start, minutes, [(school, serial, seen, follow-up note)], findings)
PATROLS = [
    (
        1,
        dt.time(7, 50),
        20,
        [
            (LVP_SCHOOL, 101, "入园秩序正常，门卫在岗。", ""),
            ("大杨树中心小学", 201, "护学岗在岗，家长车辆停放有序。", ""),
        ],
        "早高峰视频巡查，未见异常。",
    ),
    (
        2,
        dt.time(16, 40),
        25,
        [
            (LVP_SCHOOL, 101, "放学接送有序。", ""),
            (LVP_SCHOOL, 103, "北侧围墙画面离线。", "联系园方检修围墙北摄像头。"),
            ("大杨树镇中学", 302, "宿舍楼门口无闲杂人员。", ""),
        ],
        "幼儿园围墙北摄像头离线，需跟进。",
    ),
    (
        4,
        dt.time(21, 30),
        15,
        [("大杨树镇中学", 302, "晚间宿舍楼门已关闭，宿管在岗。", "")],
        "寄宿学校夜间巡查。",
    ),
]


def _device_id(serial: int) -> str:
    return f"{_PREFIX}{serial:06d}"


def load_demo_video(stdout=None, *, today: dt.date | None = None) -> dict:
    """Load (or complete) the demo's cameras, video patrols and legal vice-principal."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    today = today or timezone.localdate()
    now = timezone.now()
    users = {
        u.username: u for u in get_user_model().objects.filter(username__in=["police", "officer"])
    }
    schools = {
        o.name: o
        for o in Organization.objects.filter(
            region__code=REGION_CODE, name__in=list(CAMERAS)
        ).select_related("police_station")
    }
    created: dict[str, int] = {}

    def count(key, n=1):
        if n:
            created[key] = created.get(key, 0) + n

    with transaction.atomic():
        cameras = {}
        for name, rows in CAMERAS.items():
            school = schools.get(name)
            if school is None:
                continue
            for serial, cam_name, kind, location, online, networked in rows:
                camera, made = Camera.objects.get_or_create(
                    device_id=_device_id(serial),
                    defaults={
                        "school": school,
                        "name": cam_name,
                        "kind": kind,
                        "location": location,
                        "is_online": online,
                        "is_networked": networked,
                        "last_seen_at": now - dt.timedelta(minutes=5 if online else 60 * 26),
                    },
                )
                count("cameras", int(made))
                cameras[(name, serial)] = camera
        officer = users.get("officer")
        if officer is not None:
            for days_back, start, minutes, seen_rows, findings in PATROLS:
                started = timezone.make_aware(
                    dt.datetime.combine(today - dt.timedelta(days=days_back), start)
                )
                rows = [
                    (cameras[(s, serial)], seen, note)
                    for s, serial, seen, note in seen_rows
                    if (s, serial) in cameras
                ]
                if (
                    not rows
                    or VideoPatrol.objects.filter(officer=officer, started_at=started).exists()
                ):
                    continue
                patrol = VideoPatrol.objects.create(
                    officer=officer,
                    started_at=started,
                    ended_at=started + dt.timedelta(minutes=minutes),
                    findings=findings,
                )
                patrol.schools.set({camera.school_id for camera, _s, _n in rows})
                VideoObservation.objects.bulk_create(
                    VideoObservation(
                        patrol=patrol,
                        camera=camera,
                        school_id=camera.school_id,
                        seen=seen,
                        needs_follow_up=bool(note),
                        follow_up_note=note,
                    )
                    for camera, seen, note in rows
                )
                count("video_patrols")
            school = schools.get(LVP_SCHOOL)
            if school is not None and school.police_station is not None:
                active = LegalVicePrincipal.objects.filter(school=school, ended_at__isnull=True)
                if not active.exists():
                    LegalVicePrincipal.objects.create(
                        school=school,
                        station=school.police_station,
                        officer=officer,
                        term_start=dt.date(
                            today.year if today.month >= 9 else today.year - 1, 9, 1
                        ),
                        appointment_no=LVP_APPOINTMENT,
                        created_by=users.get("police"),
                    )
                    count("lvp_assignments")
                # The title it gives is the township's own: "大杨树实验幼儿园法制副校长".
                lvp_membership_sync(actor=None, officer=officer, station=school.police_station)
        if created:
            audit_record(
                actor=None,
                action=AuditAction.IMPORT,
                object_type=AUDIT_OBJECT_TYPE,
                object_repr="demo video patrol loaded",
                changes={"created": created},
            )
    if stdout is not None:
        stdout.write(f"  video patrol: {created}\n")
    return {
        "cameras": Camera.objects.filter(school__in=schools.values()).count(),
        "video_patrols": VideoPatrol.objects.filter(schools__in=schools.values())
        .distinct()
        .count(),
        "lvp_assignments": LegalVicePrincipal.objects.filter(
            school__in=schools.values(), ended_at__isnull=True
        ).count(),
        "created": created,
    }
