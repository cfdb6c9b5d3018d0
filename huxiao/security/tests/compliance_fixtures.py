"""Helpers of the compliance tests (ADR 0028 "Compliance"): a fixed clock and schools whose
facts are written straight into the tables (the other areas' services are tested there)."""

from __future__ import annotations

import datetime as dt
import itertools
import secrets

from django.utils import timezone

from huxiao.accounts.models import DeviceKind, DeviceToken
from huxiao.core.roles import OrgKind
from huxiao.duty.models import Checkpoint, CheckpointScan, PatrolRound
from huxiao.orgs.tests.factories import SchoolFactory
from huxiao.patrols.models import Camera
from huxiao.people.models import Staff
from huxiao.security.models import (
    DefenceProfile,
    EquipmentType,
    GuardProfile,
    SchoolEquipment,
    TechnicalSystem,
)

# A Wednesday afternoon, local time (Asia/Shanghai): last night is over.
TODAY = dt.date(2026, 3, 11)
NOW = timezone.make_aware(dt.datetime.combine(TODAY, dt.time(15, 0)))
_serial = itertools.count(1)

DEFAULT_ITEMS = (
    ("helmet", "头盔", 1, True),
    ("shield", "盾牌", 2, False),
    ("steel_fork", "钢叉", 2, False),
    ("stab_vest", "防刺服", 1, True),
    ("cut_gloves", "防割手套", 1, True),
    ("rubber_baton", "橡胶警棍", 2, False),
    ("flashlight", "强光手电", 2, False),
    ("pepper_spray", "防暴喷雾", 2, False),
)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def school(town, *, enrolment=300, boarding=False, name=None, kind=OrgKind.SCHOOL):
    return SchoolFactory(
        town=town,
        kind=kind,
        enrolment=enrolment,
        is_boarding=boarding,
        **({"name": name} if name else {}),
    )


def staff(school, role, *, name=None, active=True, background="passed"):
    return Staff.objects.create(
        school=school,
        name=name or f"人员{next(_serial)}",
        role=role,
        background_check=background,
        is_active=active,
    )


def guard(
    school,
    *,
    name=None,
    full_time=True,
    profile=True,
    certificate="京123456789",
    expires=dt.date(2030, 1, 1),
    filed=True,
    background="passed",
    active=True,
):
    """A guard, certified and filed unless told otherwise."""
    person = staff(school, "guard", name=name, active=active, background=background)
    if profile:
        GuardProfile.objects.create(
            staff=person,
            employment="full_time" if full_time else "part_time",
            certificate_number=certificate,
            certificate_expires_on=expires,
            filed_with_police=filed,
        )
    return person


def equipment_types(region):
    """The default eight items, as the equipment area's defaults create them."""
    try:
        from huxiao.security.defaults import ensure_equipment_types

        return ensure_equipment_types(region)
    except ImportError:  # pragma: no cover - until the equipment area lands
        return [
            EquipmentType.objects.get_or_create(
                region=region,
                key=key,
                defaults={"name": name, "min_quantity": n, "per_guard": per, "order": i},
            )[0]
            for i, (key, name, n, per) in enumerate(DEFAULT_ITEMS)
        ]


def equip(school, *, skip=(), broken=(), short=()):
    """Stock every required item at its minimum, except: `skip` (none), `broken`, `short`
    (one fewer than the minimum); keys as in DEFAULT_ITEMS."""
    for item in equipment_types(school.region):
        if item.key in skip:
            continue
        quantity = item.min_quantity - (1 if item.key in short else 0)
        SchoolEquipment.objects.create(
            school=school,
            equipment_type=item,
            quantity=quantity,
            condition="broken" if item.key in broken else "good",
        )


def defend(school, **overrides) -> DefenceProfile:
    values = {
        "video_retention_days": 30,
        "monitoring_room": True,
        "monitoring_room_24h": True,
        "perimeter": "wall",
        "bollards": 3,
        "vehicle_barrier": False,
        "closed_management": True,
        "gatehouse_24h": True,
    }
    values.update(overrides)
    return DefenceProfile.objects.create(school=school, **values)


def cameras(school, n, *, networked=None, active=True):
    """`n` cameras, the first `networked` of them (all by default) networked."""
    networked = n if networked is None else networked
    for i in range(n):
        Camera.objects.create(
            school=school,
            device_id=f"130123{next(_serial):014d}",
            name=f"摄像机{i + 1}",
            kind="gate",
            is_networked=i < networked,
            is_active=active,
        )


def alarm_box(school, *, active=True):
    return DeviceToken.objects.create(
        school=school,
        name="一键报警",
        kind=DeviceKind.ALARM_BOX,
        key_hash=secrets.token_hex(32),
        prefix="hxd_abcd",
        is_active=active,
    )


def system(school, kind="one_click_alarm", *, networked=True, active=True):
    return TechnicalSystem.objects.create(
        school=school, kind=kind, name="系统", networked_to_police=networked, is_active=active
    )


def checkpoints(school, n=2):
    return [
        Checkpoint.objects.create(school=school, name=f"点位{i}", code=secrets.token_hex(8))
        for i in range(n)
    ]


def rounds(school, *, days=7, per_day=5, nights=0, today=TODAY, skip_days=()):
    """`per_day` finished day rounds (and `nights` night rounds at 22:00) on each of the
    `days` days before `today`, each scanning two checkpoints; `skip_days` (offsets 1…)
    get none."""
    points = list(Checkpoint.objects.filter(school=school, is_active=True)) or checkpoints(school)
    for offset in range(1, days + 1):
        if offset in skip_days:
            continue
        day = today - dt.timedelta(days=offset)
        starts = [(at(day, 8 + i), False) for i in range(per_day)]
        starts += [(at(day, 22) + dt.timedelta(minutes=10 * i), True) for i in range(nights)]
        for started, night in starts:
            rnd = PatrolRound.objects.create(
                school=school,
                started_at=started,
                finished_at=started + dt.timedelta(minutes=20),
                is_night=night,
            )
            for j, point in enumerate(points[:2]):
                CheckpointScan.objects.create(
                    round=rnd, checkpoint=point, scanned_at=started + dt.timedelta(minutes=5 * j)
                )


def model_school(town, *, enrolment=300, boarding=False, name=None):
    """A school meeting every shipped rule."""
    s = school(town, enrolment=enrolment, boarding=boarding, name=name)
    make_compliant(s)
    return s


def make_compliant(s):
    from huxiao.security.rules import RULES, guards_required

    need = guards_required(s.enrolment, s.is_boarding, RULES["guards_staffing"].default_params)
    staff(s, "security_officer")
    for _ in range(need):
        guard(s)
    if s.is_boarding:
        staff(s, "dormitory_manager")
    equip(s)
    defend(s)
    cameras(s, 2)
    alarm_box(s)
    rounds(s, nights=1 if s.is_boarding else 0)
    return s
