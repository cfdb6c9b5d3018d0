"""Reads of the camera registry and video patrols, always scoped (ADR 0020).

Cameras are read by those who edit them (`edit_cameras`), the police who patrol on them
(`log_patrol`) and those who answer for coverage (`view_coverage`: the school's gate staff,
education and governance offices) — the networking rate (联网率) is a compliance figure they
supervise. Video patrols are police records (`log_patrol`)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from huxiao.core.roles import Action
from huxiao.core.scoping import visible_school_ids
from huxiao.orgs.models import Organization
from huxiao.patrols.models import Camera, VideoObservation, VideoPatrol

CAMERA_READ_ACTIONS = (Action.EDIT_CAMERAS, Action.LOG_PATROL, Action.VIEW_COVERAGE)


def camera_school_ids(actor) -> frozenset[int]:
    return frozenset().union(*(visible_school_ids(actor, a) for a in CAMERA_READ_ACTIONS))


def require_camera_reader(actor) -> frozenset[int]:
    """403 when the role reads cameras nowhere, so that a 404 below means "not in scope"."""
    ids = camera_school_ids(actor)
    if not ids:
        raise PermissionDenied(_("Your role does not allow this action."))
    return ids


def camera_list(
    *, actor, school_id: int | None = None, include_retired: bool = False
) -> QuerySet[Camera]:
    ids = camera_school_ids(actor)
    if not ids:
        return Camera.objects.none()
    qs = Camera.objects.filter(school_id__in=ids).select_related("school")
    if not include_retired:
        qs = qs.filter(is_active=True)
    if school_id:
        qs = qs.filter(school_id=school_id)
    return qs.order_by("school__name", "name", "id")


def camera_get(*, actor, camera_id: int) -> Camera:
    return get_object_or_404(camera_list(actor=actor, include_retired=True), pk=camera_id)


@dataclass
class NetworkingRow:
    """Cameras in service of one school or station, and how many are networked/online."""

    id: int
    name: str
    station_id: int | None
    station_name: str
    cameras: int
    networked: int
    online: int

    @property
    def rate(self) -> float | None:
        """联网率: networked / in service; None without cameras (not 0 %: nothing to count)."""
        return round(self.networked / self.cameras, 4) if self.cameras else None


def networking_rates(
    *, actor, school_id: int | None = None
) -> tuple[list[NetworkingRow], list[NetworkingRow]]:
    """(per school, per station) over the schools the actor reads cameras of; every school in
    scope has a row, a school without cameras too."""
    ids = camera_school_ids(actor)
    if school_id:
        ids = ids & {school_id}
    in_service = Q(cameras__is_active=True)
    schools = (
        Organization.objects.filter(pk__in=ids)
        .select_related("police_station")
        .annotate(
            n_cameras=Count("cameras", filter=in_service),
            n_networked=Count("cameras", filter=in_service & Q(cameras__is_networked=True)),
            n_online=Count("cameras", filter=in_service & Q(cameras__is_online=True)),
        )
        .order_by("name")
    )
    rows = []
    stations: dict[int | None, NetworkingRow] = {}
    for s in schools:
        station = s.police_station
        row = NetworkingRow(
            id=s.pk,
            name=s.name,
            station_id=station.pk if station else None,
            station_name=station.name if station else "",
            cameras=s.n_cameras,
            networked=s.n_networked,
            online=s.n_online,
        )
        rows.append(row)
        total = stations.setdefault(
            row.station_id,
            NetworkingRow(
                id=row.station_id or 0,
                name=row.station_name,
                station_id=row.station_id,
                station_name=row.station_name,
                cameras=0,
                networked=0,
                online=0,
            ),
        )
        total.cameras += row.cameras
        total.networked += row.networked
        total.online += row.online
    return rows, sorted(stations.values(), key=lambda r: r.name)


def video_patrol_list(
    *, actor, school_id: int | None = None, follow_up: bool | None = None
) -> QuerySet[VideoPatrol]:
    """The patrols that passed a school of the actor's jurisdiction, each showing only the
    schools and observations of that jurisdiction.

    A patrol may cover schools of two stations; the patrol is visible when one of its schools
    is, but what was seen at the other station's schools is not the reader's (ADR 0020)."""
    ids = visible_school_ids(actor, Action.LOG_PATROL)
    if not ids or (school_id and school_id not in ids):
        return VideoPatrol.objects.none()
    in_scope = VideoObservation.objects.filter(school_id__in=ids)
    qs = (
        VideoPatrol.objects.visible_to(actor, Action.LOG_PATROL)
        .select_related("officer")
        .prefetch_related(
            Prefetch("schools", queryset=Organization.objects.filter(pk__in=ids)),
            Prefetch(
                "observations",
                queryset=in_scope.select_related("camera").order_by("id"),
            ),
        )
        .order_by("-started_at", "-id")
    )
    if school_id:
        qs = qs.filter(schools=school_id)
    if follow_up:
        # Only an open follow-up the reader can see lists the patrol.
        qs = qs.filter(pk__in=in_scope.filter(needs_follow_up=True).values("patrol_id"))
    return qs


def video_patrol_get(*, actor, patrol_id: int) -> VideoPatrol:
    return get_object_or_404(video_patrol_list(actor=actor), pk=patrol_id)
