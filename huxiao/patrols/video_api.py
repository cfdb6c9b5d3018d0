"""REST handlers of the camera registry and video patrols (ADR 0020).

Reading cameras needs `edit_cameras`, `log_patrol` or `view_coverage` on the school;
registering and editing `edit_cameras`; video patrols `log_patrol`. A role that allows the
action nowhere gets 403; a record out of scope is 404 like a missing one (ADR 0005)."""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from huxiao.core.api import DbId, ErrorOut, paginate
from huxiao.core.names import person_name
from huxiao.core.roles import Action
from huxiao.orgs.models import Organization
from huxiao.patrols import video_selectors as selectors
from huxiao.patrols import video_services as services
from huxiao.patrols.selectors import require_any
from huxiao.patrols.video_choices import CameraKind

router = Router(tags=["video patrol"])


class _In(Schema):
    model_config = ConfigDict(extra="forbid")


class CameraIn(_In):
    school_id: DbId
    device_id: str = Field(max_length=100, description="GB/T 28181: 20 digits")
    name: str = Field(max_length=1000)
    kind: str = Field(max_length=20, description=", ".join(CameraKind.values))
    location: str = Field("", max_length=1000)
    is_online: bool = False
    last_seen_at: dt.datetime | None = None
    is_networked: bool = False


class CameraUpdateIn(_In):
    device_id: str | None = Field(None, max_length=100)
    name: str | None = Field(None, max_length=1000)
    kind: str | None = Field(None, max_length=20)
    location: str | None = Field(None, max_length=1000)
    is_online: bool | None = None
    last_seen_at: dt.datetime | None = None
    is_networked: bool | None = None
    is_active: bool | None = None


class CameraOut(Schema):
    id: int
    school_id: int
    school_name: str
    device_id: str
    name: str
    location: str
    kind: str
    kind_label: str
    is_online: bool
    last_seen_at: str | None
    is_networked: bool
    is_active: bool


class CameraList(Schema):
    count: int
    items: list[CameraOut]


class RateOut(Schema):
    id: int
    name: str
    station_id: int | None
    station_name: str
    cameras: int
    networked: int
    online: int
    rate: float | None


class NetworkingOut(Schema):
    schools: list[RateOut]
    stations: list[RateOut]


class ObservationIn(_In):
    camera_id: DbId
    seen: str = Field("", max_length=10000)
    needs_follow_up: bool = False
    follow_up_note: str = Field("", max_length=10000)


class VideoPatrolIn(_In):
    started_at: dt.datetime
    ended_at: dt.datetime
    school_ids: list[DbId] = Field([], max_length=200)
    observations: list[ObservationIn] = Field([], max_length=200)
    findings: str = Field("", max_length=10000)


class ObservationOut(Schema):
    id: int
    camera_id: int
    camera_name: str
    device_id: str
    school_id: int
    seen: str
    needs_follow_up: bool
    follow_up_note: str


class VideoPatrolOut(Schema):
    id: int
    officer: str
    started_at: str
    ended_at: str
    schools: list[dict]
    findings: str
    observations: list[ObservationOut]


class VideoPatrolList(Schema):
    count: int
    items: list[VideoPatrolOut]


def camera_payload(camera) -> dict:
    return {
        "id": camera.pk,
        "school_id": camera.school_id,
        "school_name": camera.school.name,
        "device_id": camera.device_id,
        "name": camera.name,
        "location": camera.location,
        "kind": camera.kind,
        "kind_label": str(CameraKind(camera.kind).label),
        "is_online": camera.is_online,
        "last_seen_at": camera.last_seen_at.isoformat() if camera.last_seen_at else None,
        "is_networked": camera.is_networked,
        "is_active": camera.is_active,
    }


def _rate_payload(row) -> dict:
    return {
        "id": row.id,
        "name": row.name,
        "station_id": row.station_id,
        "station_name": row.station_name,
        "cameras": row.cameras,
        "networked": row.networked,
        "online": row.online,
        "rate": row.rate,
    }


def video_patrol_payload(patrol) -> dict:
    return {
        "id": patrol.pk,
        "officer": person_name(patrol.officer),
        "started_at": patrol.started_at.isoformat(),
        "ended_at": patrol.ended_at.isoformat(),
        "schools": [{"id": s.pk, "name": s.name} for s in patrol.schools.all()],
        "findings": patrol.findings,
        "observations": [
            {
                "id": o.pk,
                "camera_id": o.camera_id,
                "camera_name": o.camera.name,
                "device_id": o.camera.device_id,
                "school_id": o.school_id,
                "seen": o.seen,
                "needs_follow_up": o.needs_follow_up,
                "follow_up_note": o.follow_up_note,
            }
            for o in patrol.observations.all()
        ],
    }


@router.get("/video/cameras", response={200: CameraList, 403: ErrorOut, 404: ErrorOut})
def camera_list(
    request,
    school_id: DbId | None = None,
    include_retired: bool = False,
    limit: int = 50,
    offset: int = 0,
):
    ids = selectors.require_camera_reader(request.auth)
    if school_id and school_id not in ids:
        raise Http404
    qs = selectors.camera_list(
        actor=request.auth, school_id=school_id, include_retired=include_retired
    )
    return paginate(qs, limit=limit, offset=offset, row=camera_payload)


@router.post(
    "/video/cameras", response={201: CameraOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
)
def camera_register(request, payload: CameraIn):
    require_any(request.auth, Action.EDIT_CAMERAS)
    data = payload.dict()
    school = get_object_or_404(
        Organization.objects.visible_to(request.auth, Action.EDIT_CAMERAS).schools(),
        pk=data.pop("school_id"),
    )
    camera = services.camera_register(actor=request.auth, school=school, **data)
    return Status(201, camera_payload(camera))


@router.get("/video/cameras/{camera_id}", response={200: CameraOut, 403: ErrorOut, 404: ErrorOut})
def camera_detail(request, camera_id: DbId):
    selectors.require_camera_reader(request.auth)
    return camera_payload(selectors.camera_get(actor=request.auth, camera_id=camera_id))


@router.patch(
    "/video/cameras/{camera_id}",
    response={200: CameraOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def camera_update(request, camera_id: DbId, payload: CameraUpdateIn):
    selectors.require_camera_reader(request.auth)
    camera = selectors.camera_get(actor=request.auth, camera_id=camera_id)
    changes = payload.dict(exclude_unset=True)
    camera = services.camera_update(actor=request.auth, camera=camera, **changes)
    return camera_payload(camera)


@router.get("/video/networking", response={200: NetworkingOut, 403: ErrorOut, 404: ErrorOut})
def networking(request, school_id: DbId | None = None):
    ids = selectors.require_camera_reader(request.auth)
    if school_id and school_id not in ids:
        raise Http404
    schools, stations = selectors.networking_rates(actor=request.auth, school_id=school_id)
    return {
        "schools": [_rate_payload(r) for r in schools],
        "stations": [_rate_payload(r) for r in stations],
    }


@router.get("/video/patrols", response={200: VideoPatrolList, 403: ErrorOut})
def video_patrol_list(
    request,
    school_id: DbId | None = None,
    follow_up: bool | None = None,
    limit: int = 50,
    offset: int = 0,
):
    require_any(request.auth, Action.LOG_PATROL)
    qs = selectors.video_patrol_list(actor=request.auth, school_id=school_id, follow_up=follow_up)
    return paginate(qs, limit=limit, offset=offset, row=video_patrol_payload)


@router.post("/video/patrols", response={201: VideoPatrolOut, 400: ErrorOut, 403: ErrorOut})
def video_patrol_create(request, payload: VideoPatrolIn):
    require_any(request.auth, Action.LOG_PATROL)
    data = payload.dict()
    patrol = services.video_patrol_create(actor=request.auth, **data)
    return Status(
        201,
        video_patrol_payload(selectors.video_patrol_get(actor=request.auth, patrol_id=patrol.pk)),
    )


@router.get(
    "/video/patrols/{patrol_id}", response={200: VideoPatrolOut, 403: ErrorOut, 404: ErrorOut}
)
def video_patrol_detail(request, patrol_id: DbId):
    require_any(request.auth, Action.LOG_PATROL)
    return video_patrol_payload(selectors.video_patrol_get(actor=request.auth, patrol_id=patrol_id))
