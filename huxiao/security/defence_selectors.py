"""Reads of a school's technical and physical defences (issue 7 item 3; §1 二(一), §2 4, 6).

What a school has is read from three places: the video registry (`patrols.Camera`, shared
with the police–school linkage), HuXiao's own one-click alarm boxes
(`accounts.DeviceToken(kind=alarm_box)`, which reach the police console by design and so
count as networked) and the school's own records here (`TechnicalSystem`, `DefenceProfile`).

The page and the API read through `visible_to(actor, VIEW)`: the school, its police
station and post, its town's offices and the county see it; anything out of scope is 404,
and a role that views no school at all is 403.

`defence_facts(school_ids)` is the summary the compliance area evaluates: a handful of
grouped queries for any number of schools, never one per school. It is not scoped (the
compliance job runs for a whole county); callers that show its figures to a user pass the
schools already visible to that user.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.accounts.models import DeviceKind, DeviceToken
from huxiao.core.roles import Action
from huxiao.core.scoping import visible_school_ids
from huxiao.orgs.models import Organization
from huxiao.patrols.models import Camera
from huxiao.patrols.video_choices import CameraKind
from huxiao.security.choices import Perimeter, SystemKind
from huxiao.security.models import DefenceProfile, TechnicalSystem

# The profile's own fields, in page order, with the value a school without a profile has.
PROFILE_DEFAULTS: dict[str, object] = {
    "video_retention_days": None,
    "monitoring_room": False,
    "monitoring_room_24h": False,
    "perimeter": Perimeter.NONE.value,
    "bollards": 0,
    "vehicle_barrier": False,
    "speed_bumps": False,
    "parent_waiting_area": False,
    "closed_management": False,
    "gatehouse_24h": False,
}
PROFILE_FIELDS = tuple(PROFILE_DEFAULTS)
# Key areas (重点部位) a school's cameras should cover; a dormitory only where pupils board.
KEY_CAMERA_KINDS = (CameraKind.GATE, CameraKind.PERIMETER, CameraKind.PLAYGROUND)
BOARDING_CAMERA_KINDS = (CameraKind.DORMITORY,)
# SQLite (before 3.32) allows 999 parameters per statement; stay below in every IN list.
_CHUNK = 900


def require_defence_reader(actor) -> frozenset[int]:
    """The schools `actor` may view; 403 when there is none, so that a 404 below only ever
    means "not in your scope"."""
    ids = visible_school_ids(actor, Action.VIEW)
    if not ids:
        raise PermissionDenied(_("Your role does not allow this action."))
    return ids


def defence_school_get(*, actor, school_id: int) -> Organization:
    """A school the actor may view (404 otherwise, whatever the reason)."""
    require_defence_reader(actor)
    return get_object_or_404(
        Organization.objects.visible_to(actor, Action.VIEW)
        .schools()
        .select_related("town", "police_station"),
        pk=school_id,
    )


def defence_schools(*, actor) -> QuerySet[Organization]:
    """The active schools the actor may view, by town and name."""
    require_defence_reader(actor)
    return (
        Organization.objects.visible_to(actor, Action.VIEW)
        .schools()
        .filter(is_active=True)
        .select_related("town")
        .order_by("town__name", "name", "id")
    )


def defence_profile_get(*, actor, school: Organization) -> DefenceProfile:
    """The school's profile, or an unsaved one with the defaults when none was recorded
    (its `pk` is None)."""
    profile = DefenceProfile.objects.visible_to(actor, Action.VIEW).filter(school=school).first()
    return profile or DefenceProfile(school=school)


def technical_system_list(
    *,
    actor,
    school_id: int | None = None,
    kind: str = "",
    include_retired: bool = False,
) -> QuerySet[TechnicalSystem]:
    qs = TechnicalSystem.objects.visible_to(actor, Action.VIEW).select_related("school")
    if school_id:
        qs = qs.filter(school_id=school_id)
    if kind:
        qs = qs.filter(kind=kind)
    if not include_retired:
        qs = qs.filter(is_active=True)
    return qs.order_by("school__name", "-is_active", "kind", "name", "id")


def technical_system_get(*, actor, system_id: int) -> TechnicalSystem:
    require_defence_reader(actor)
    return get_object_or_404(
        TechnicalSystem.objects.visible_to(actor, Action.VIEW).select_related("school"),
        pk=system_id,
    )


# ------------------------------------------------------------------ one school's page


@dataclass
class CameraSummary:
    total: int = 0
    active: int = 0
    online: int = 0
    networked: int = 0
    by_kind: list[dict] = field(default_factory=list)  # [{"kind", "label", "count", "key"}]
    missing_key_kinds: list[str] = field(default_factory=list)  # labels


# The defence page warns this many days before a device's token expires.
DEVICE_EXPIRY_WARNING_DAYS = 30


@dataclass
class DeviceRow:
    """A gate terminal or alarm box on the defence page, with its token's state."""

    device: DeviceToken
    state: str  # "in_service", "expiring" (within the warning), "expired", "revoked"
    days_left: int | None = None


@dataclass
class DefencePage:
    school: Organization
    profile: DefenceProfile
    cameras: CameraSummary
    alarm_boxes: list[DeviceToken]
    devices: list[DeviceRow]  # in service, expiring or expired; revoked ones are apart
    revoked_devices: list[DeviceRow]
    systems: list[TechnicalSystem]
    retired_systems: list[TechnicalSystem]
    can_edit: bool
    can_see_cameras: bool


def camera_summary(*, actor, school: Organization) -> CameraSummary:
    """Counts of the school's registry cameras and the key areas they cover (no device
    IDs: those stay on the registry page for its readers)."""
    rows = (
        Camera.objects.visible_to(actor, Action.VIEW)
        .filter(school=school)
        .values("kind", "is_active", "is_online", "is_networked")
        .annotate(n=Count("id"))
        .order_by()
    )
    summary = CameraSummary()
    kinds: dict[str, int] = defaultdict(int)
    for row in rows:
        summary.total += row["n"]
        if not row["is_active"]:
            continue
        summary.active += row["n"]
        summary.online += row["n"] if row["is_online"] else 0
        summary.networked += row["n"] if row["is_networked"] else 0
        kinds[row["kind"]] += row["n"]
    key = set(KEY_CAMERA_KINDS) | (set(BOARDING_CAMERA_KINDS) if school.is_boarding else set())
    summary.by_kind = [
        {"kind": k.value, "label": k.label, "count": kinds.get(k.value, 0), "key": k in key}
        for k in CameraKind
        if kinds.get(k.value) or k in key
    ]
    summary.missing_key_kinds = [
        str(k.label) for k in CameraKind if k in key and not kinds.get(k.value)
    ]
    return summary


def device_get(*, actor, device_id: int) -> DeviceToken:
    return get_object_or_404(DeviceToken.objects.visible_to(actor, Action.VIEW), pk=device_id)


def device_rows(*, actor, school: Organization, now=None) -> list[DeviceRow]:
    """The school's devices with their tokens' state, by kind and name. `days_left` counts
    the days after today that the token still works (0: today is its last day)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    rows = []
    for device in (
        DeviceToken.objects.visible_to(actor, Action.VIEW)
        .filter(school=school)
        .select_related("revoked_by")
        .order_by("kind", "-is_active", "name", "id")
    ):
        if not device.is_active:
            rows.append(DeviceRow(device, "revoked"))
        elif device.expires_at is None:
            rows.append(DeviceRow(device, "in_service"))
        elif device.expires_at <= now:
            rows.append(DeviceRow(device, "expired"))
        else:
            days = (device.valid_until - today).days
            state = "expiring" if days < DEVICE_EXPIRY_WARNING_DAYS else "in_service"
            rows.append(DeviceRow(device, state, days))
    return rows


def defence_page(*, actor, school_id: int) -> DefencePage:
    from huxiao.patrols.video_selectors import camera_school_ids

    school = defence_school_get(actor=actor, school_id=school_id)
    systems = list(
        TechnicalSystem.objects.visible_to(actor, Action.VIEW)
        .filter(school=school)
        .order_by("-is_active", "kind", "name", "id")
    )
    devices = device_rows(actor=actor, school=school)
    return DefencePage(
        school=school,
        profile=defence_profile_get(actor=actor, school=school),
        cameras=camera_summary(actor=actor, school=school),
        alarm_boxes=[
            row.device
            for row in devices
            if row.device.kind == DeviceKind.ALARM_BOX and row.state in ("in_service", "expiring")
        ],
        devices=[row for row in devices if row.state != "revoked"],
        revoked_devices=[row for row in devices if row.state == "revoked"],
        systems=[s for s in systems if s.is_active],
        retired_systems=[s for s in systems if not s.is_active],
        can_edit=school.pk in visible_school_ids(actor, Action.MANAGE_SECURITY),
        can_see_cameras=school.pk in camera_school_ids(actor),
    )


# ------------------------------------------------------------------ facts for compliance


def _empty_facts() -> dict:
    return {
        "has_profile": False,
        **PROFILE_DEFAULTS,
        "cameras_total": 0,
        "cameras_active": 0,
        "cameras_online": 0,
        "cameras_networked": 0,
        "camera_kinds": {},
        "alarm_boxes_active": 0,
        "systems": {},
        "one_click_alarms": 0,
        "one_click_alarms_networked": 0,
    }


def _chunks(ids: list[int]):
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def defence_facts(school_ids) -> dict[int, dict]:
    """The defence facts of each school, for the compliance rules.

    Per school id (every id asked for is present, with the defaults when nothing is
    recorded):

    - the profile: `has_profile` and the fields of `PROFILE_DEFAULTS`
      (`video_retention_days` is None when unknown);
    - registry cameras: `cameras_total` (retired included), `cameras_active` (in service),
      `cameras_online` and `cameras_networked` (in service and online / networked to the
      police), `camera_kinds` {kind: cameras in service};
    - `alarm_boxes_active`: HuXiao alarm boxes in service (networked by design);
    - `systems`: {kind: {"active": n, "networked": n}} of the technical systems in service;
    - `one_click_alarms` / `one_click_alarms_networked`: alarm boxes plus other one-click
      alarms in service, and how many of them reach the police.

    Four grouped queries per 900 schools, whatever the number of cameras or systems.
    """
    ids = sorted({int(i) for i in school_ids})
    facts = {sid: _empty_facts() for sid in ids}
    for chunk in _chunks(ids):
        for row in DefenceProfile.objects.filter(school_id__in=chunk).values(
            "school_id", *PROFILE_FIELDS
        ):
            item = facts[row.pop("school_id")]
            item.update(row, has_profile=True)
        for row in (
            Camera.objects.filter(school_id__in=chunk)
            .values("school_id", "kind", "is_active", "is_online", "is_networked")
            .annotate(n=Count("id"))
            .order_by()
        ):
            item, n = facts[row["school_id"]], row["n"]
            item["cameras_total"] += n
            if row["is_active"]:
                item["cameras_active"] += n
                item["cameras_online"] += n if row["is_online"] else 0
                item["cameras_networked"] += n if row["is_networked"] else 0
                kinds = item["camera_kinds"]
                kinds[row["kind"]] = kinds.get(row["kind"], 0) + n
        for row in (
            DeviceToken.objects.in_service()
            .filter(school_id__in=chunk, kind=DeviceKind.ALARM_BOX)
            .values("school_id")
            .annotate(n=Count("id"))
            .order_by()
        ):
            facts[row["school_id"]]["alarm_boxes_active"] = row["n"]
        for row in (
            TechnicalSystem.objects.filter(school_id__in=chunk, is_active=True)
            .values("school_id", "kind", "networked_to_police")
            .annotate(n=Count("id"))
            .order_by()
        ):
            systems = facts[row["school_id"]]["systems"]
            entry = systems.setdefault(row["kind"], {"active": 0, "networked": 0})
            entry["active"] += row["n"]
            if row["networked_to_police"]:
                entry["networked"] += row["n"]
    for item in facts.values():
        alarms = item["systems"].get(SystemKind.ONE_CLICK_ALARM.value, {})
        item["one_click_alarms"] = item["alarm_boxes_active"] + alarms.get("active", 0)
        item["one_click_alarms_networked"] = item["alarm_boxes_active"] + alarms.get("networked", 0)
    return facts
