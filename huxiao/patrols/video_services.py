"""Writes of the camera registry and video patrols (ADR 0020).

Cameras are edited by the roles with `edit_cameras` on the school (principal, security
officer, police commander of the station); video patrols are logged by police roles
(`log_patrol`) and may only name schools and cameras of their jurisdiction."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.audit.services import audit_create, audit_record, audit_update, snapshot
from huxiao.core.permissions import require
from huxiao.core.roles import Action
from huxiao.orgs.models import Organization
from huxiao.patrols import conf
from huxiao.patrols.models import Camera, VideoObservation, VideoPatrol
from huxiao.patrols.services import MAX_PATROL, _clean_span, _schools_for, as_aware
from huxiao.patrols.video_choices import CameraKind
from huxiao.people import validation as v
from huxiao.security.compliance import reevaluate_on_commit

_DEVICE_ID = re.compile(r"[0-9]{20}")
# GB/T 2260 division codes: province 11–82, then two-digit city and county parts; the
# 8-digit prefix of a GB/T 28181 ID adds a two-digit basic unit (street/township).
_PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82}
)
CAMERA_FIELDS = ("name", "location", "kind", "is_online", "last_seen_at", "is_networked")
MAX_OBSERVATIONS = 200


def clean_device_id(value) -> str:
    """A GB/T 28181 device ID: exactly 20 digits, the first 8 an administrative division
    code (a real province, then city, county and basic-unit digits)."""
    text = str(value or "").strip()
    if not text:
        raise ValidationError(_("This field is required."), code="required")
    if not _DEVICE_ID.fullmatch(text):
        raise ValidationError(
            _("A GB/T 28181 device ID is exactly 20 digits (0–9), without spaces or letters."),
            code="format",
        )
    if int(text[:2]) not in _PROVINCES or text[2:4] == "00" and text[4:8] != "0000":
        raise ValidationError(
            _(
                "The first 8 digits must be an administrative division code (province, city, "
                "county, basic unit), e.g. 13012310."
            ),
            code="division",
        )
    return text


def _clean_camera(errors: v.FieldErrors, data: dict) -> dict:
    cleaned = {}
    if "name" in data:
        cleaned["name"] = errors.run(
            "name", v.clean_text, data["name"], max_length=100, required=True
        )
    if "location" in data:
        cleaned["location"] = errors.run("location", v.clean_text, data["location"], max_length=200)
    if "kind" in data:
        if data["kind"] not in CameraKind.values:
            errors.add("kind", _("Select a valid choice."))
        cleaned["kind"] = data["kind"]
    for field in ("is_online", "is_networked"):
        if field in data:
            if not isinstance(data[field], bool):
                errors.add(field, _("This field is required."))
            cleaned[field] = data[field]
    if "last_seen_at" in data:
        seen = as_aware(data["last_seen_at"])
        if seen is not None and seen > timezone.now() + dt.timedelta(minutes=5):
            errors.add("last_seen_at", _("This time is in the future."))
        cleaned["last_seen_at"] = seen
    return cleaned


def _save_camera(camera: Camera) -> None:
    try:
        with transaction.atomic():
            camera.save()
    except IntegrityError:
        raise ValidationError(
            {"device_id": [_("A camera with this device ID is already registered.")]}
        ) from None


@transaction.atomic
def camera_register(
    *,
    actor,
    school: Organization,
    device_id: str,
    name: str,
    kind: str,
    location: str = "",
    is_online: bool = False,
    last_seen_at: dt.datetime | None = None,
    is_networked: bool = False,
) -> Camera:
    """Add a camera to a school's registry."""
    require(actor, Action.EDIT_CAMERAS, school.pk)
    errors = v.FieldErrors()
    device_id = errors.run("device_id", clean_device_id, device_id)
    if device_id and Camera.objects.filter(device_id=device_id).exists():
        # Device IDs are national; saying it exists reveals no school (no name, no link).
        errors.add("device_id", _("A camera with this device ID is already registered."))
    cleaned = _clean_camera(
        errors,
        {
            "name": name,
            "location": location,
            "kind": kind,
            "is_online": is_online,
            "last_seen_at": last_seen_at,
            "is_networked": is_networked,
        },
    )
    errors.raise_if_any()
    if cleaned["is_online"] and cleaned["last_seen_at"] is None:
        cleaned["last_seen_at"] = timezone.now()
    camera = Camera(school=school, device_id=device_id, **cleaned)
    _save_camera(camera)
    audit_create(actor=actor, obj=camera, school=school.pk)
    reevaluate_on_commit([school.pk])
    return camera


@transaction.atomic
def camera_update(*, actor, camera: Camera, **changes) -> Camera:
    """Edit a camera; unknown fields are refused. The device ID may be corrected too."""
    require(actor, Action.EDIT_CAMERAS, camera.school_id)
    errors = v.FieldErrors()
    for field in sorted(set(changes) - set(CAMERA_FIELDS) - {"device_id", "is_active"}):
        errors.add(field, _("This field cannot be changed here."))
    cleaned = _clean_camera(errors, changes)
    if "device_id" in changes:
        device_id = errors.run("device_id", clean_device_id, changes["device_id"])
        if device_id and Camera.objects.filter(device_id=device_id).exclude(pk=camera.pk).exists():
            errors.add("device_id", _("A camera with this device ID is already registered."))
        cleaned["device_id"] = device_id
    if "is_active" in changes:
        if not isinstance(changes["is_active"], bool):
            errors.add("is_active", _("This field is required."))
        cleaned["is_active"] = changes["is_active"]
    errors.raise_if_any()
    before = snapshot(camera)
    if cleaned.get("is_online") and not camera.is_online and "last_seen_at" not in changes:
        cleaned["last_seen_at"] = timezone.now()
    for key, value in cleaned.items():
        setattr(camera, key, value)
    _save_camera(camera)
    audit_update(actor=actor, obj=camera, before=before, school=camera.school_id)
    reevaluate_on_commit([camera.school_id])
    return camera


def _observations_for(actor, observations) -> list[tuple[Camera, dict]]:
    rows = list(observations or ())
    if len(rows) > MAX_OBSERVATIONS:
        raise ValidationError(
            {"observations": [_("At most %(n)s cameras.") % {"n": MAX_OBSERVATIONS}]}
        )
    ids = []
    for row in rows:
        try:
            ids.append(int(row["camera_id"]))
        except (KeyError, TypeError, ValueError):
            raise ValidationError(
                {"observations": [_("Unknown or inaccessible record.")]}
            ) from None
    if len(set(ids)) != len(ids):
        raise ValidationError({"observations": [_("Each camera only once.")]})
    cameras = {
        c.pk: c for c in Camera.objects.visible_to(actor, Action.LOG_PATROL).filter(pk__in=ids)
    }
    if len(cameras) != len(ids):
        raise ValidationError({"observations": [_("Unknown or inaccessible record.")]})
    result = []
    errors = v.FieldErrors()
    for index, row in enumerate(rows):
        camera = cameras[ids[index]]
        key = f"observations.{index}"
        seen = errors.run(f"{key}.seen", v.clean_text, row.get("seen", ""), max_length=2000)
        note = errors.run(
            f"{key}.follow_up_note", v.clean_text, row.get("follow_up_note", ""), max_length=2000
        )
        follow = bool(row.get("needs_follow_up", False))
        if follow and not note:
            errors.add(f"{key}.follow_up_note", _("Say what needs to be followed up."))
        result.append(
            (camera, {"seen": seen or "", "needs_follow_up": follow, "follow_up_note": note or ""})
        )
    errors.raise_if_any()
    return result


@transaction.atomic
def video_patrol_create(
    *,
    actor,
    started_at: dt.datetime,
    ended_at: dt.datetime,
    school_ids: Iterable = (),
    observations: Iterable[dict] = (),
    findings: str = "",
    now=None,
) -> VideoPatrol:
    """Log a video patrol: the schools and cameras looked at, what was seen on each."""
    now = now or timezone.now()
    started_at, ended_at = as_aware(started_at), as_aware(ended_at)
    observed = _observations_for(actor, observations)
    ids = set()
    for raw in school_ids or ():
        try:
            ids.add(int(getattr(raw, "pk", raw)))
        except (TypeError, ValueError):
            raise ValidationError({"school_ids": [_("Unknown or inaccessible record.")]}) from None
    ids |= {camera.school_id for camera, _row in observed}
    if not ids:
        raise ValidationError({"school_ids": [_("Choose the schools or cameras you looked at.")]})
    # Same rule as patrol logs: only schools of the officer's jurisdiction.
    schools = _schools_for(actor, Action.LOG_PATROL, sorted(ids))
    errors = v.FieldErrors()
    if ended_at is None:
        errors.add("ended_at", _("This field is required."))
    _clean_span(
        errors,
        ("started_at", "ended_at"),
        started_at,
        ended_at,
        now=now,
        max_length=MAX_PATROL,
        backdate_days=conf.visit_backdate_days(),
    )
    findings = errors.run("findings", v.clean_text, findings, max_length=4000)
    errors.raise_if_any()
    patrol = VideoPatrol.objects.create(
        officer=actor, started_at=started_at, ended_at=ended_at, findings=findings or ""
    )
    patrol.schools.set(schools)
    VideoObservation.objects.bulk_create(
        VideoObservation(patrol=patrol, camera=camera, school_id=camera.school_id, **row)
        for camera, row in observed
    )
    audit_record(
        actor=actor,
        action="create",
        obj=patrol,
        school=schools[0].pk,
        changes={
            "after": {
                **snapshot(patrol),
                "schools": [s.pk for s in schools],
                "cameras": [camera.pk for camera, _row in observed],
                "follow_up": [camera.pk for camera, row in observed if row["needs_follow_up"]],
            }
        },
    )
    return patrol
