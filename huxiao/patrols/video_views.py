"""Pages of the camera registry and video patrols (ADR 0020):
parse → call → render. A page whose action the role allows nowhere is 403; a record out
of scope is 404; a failed form post answers 400 with the errors in place."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from huxiao.core.permissions import require
from huxiao.core.roles import Action
from huxiao.core.scoping import visible_school_ids
from huxiao.orgs.models import Organization
from huxiao.patrols import video_selectors, video_services
from huxiao.patrols.selectors import require_any
from huxiao.patrols.video_forms import CameraForm, VideoPatrolForm
from huxiao.patrols.views import _id, school_param


def _submit(form, call) -> bool:
    if not form.is_valid():
        return False
    try:
        call(**form.service_kwargs())
    except ValidationError as exc:
        form.add_service_errors(exc)
        return False
    return True


# ------------------------------------------------------------------ cameras


def camera_filters(actor, params) -> dict:
    """The camera registry's filters (page and export)."""
    ids = video_selectors.require_camera_reader(actor)
    return {"school_id": school_param(params, ids)}


@login_required
@require_safe
def camera_list(request):
    """The registry with the networking rate (联网率) per school and station."""
    school_id = camera_filters(request.user, request.GET)["school_id"]
    schools, stations = video_selectors.networking_rates(actor=request.user, school_id=school_id)
    return render(
        request,
        "patrols/video/camera_list.html",
        {
            "cameras": video_selectors.camera_list(actor=request.user, school_id=school_id)[:500],
            "school_rates": schools,
            "station_rates": stations,
            "can_edit": bool(visible_school_ids(request.user, Action.EDIT_CAMERAS)),
            "can_patrol": bool(visible_school_ids(request.user, Action.LOG_PATROL)),
            "nav_active": "patrols_video",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def camera_new(request):
    require_any(request.user, Action.EDIT_CAMERAS)
    schools = (
        Organization.objects.visible_to(request.user, Action.EDIT_CAMERAS)
        .schools()
        .order_by("name")
    )
    if request.method == "POST":
        form = CameraForm(request.POST, schools=schools)

        def call(**kwargs):
            video_services.camera_register(actor=request.user, **kwargs)

        if _submit(form, call):
            messages.success(request, _("Camera registered."))
            return redirect("patrols:video_cameras")
        status = 400
    else:
        form = CameraForm(schools=schools)
        status = 200
    return render(
        request,
        "patrols/video/camera_form.html",
        {"form": form, "nav_active": "patrols_video"},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def camera_edit(request, camera_id: int):
    video_selectors.require_camera_reader(request.user)
    camera = video_selectors.camera_get(actor=request.user, camera_id=_id(camera_id))
    require(request.user, Action.EDIT_CAMERAS, camera.school_id)
    schools = Organization.objects.none()
    if request.method == "POST":
        form = CameraForm(request.POST, schools=schools, camera=camera)

        def call(**kwargs):
            video_services.camera_update(actor=request.user, camera=camera, **kwargs)

        if _submit(form, call):
            messages.success(request, _("Camera saved."))
            return redirect("patrols:video_cameras")
        status = 400
    else:
        form = CameraForm(schools=schools, camera=camera)
        status = 200
    return render(
        request,
        "patrols/video/camera_form.html",
        {"form": form, "camera": camera, "nav_active": "patrols_video"},
        status=status,
    )


# ------------------------------------------------------------------ video patrols


def video_patrol_filters(actor, params) -> dict:
    """The video patrol list's filters (page and export)."""
    ids = require_any(actor, Action.LOG_PATROL)
    return {"school_id": school_param(params, ids), "follow_up": params.get("follow_up") == "1"}


@login_required
@require_safe
def patrol_list(request):
    filters = video_patrol_filters(request.user, request.GET)
    return render(
        request,
        "patrols/video/patrol_list.html",
        {
            "patrols": video_selectors.video_patrol_list(actor=request.user, **filters)[:100],
            "follow_up": filters["follow_up"],
            "nav_active": "patrols_video",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def patrol_new(request):
    require_any(request.user, Action.LOG_PATROL)
    schools = (
        Organization.objects.visible_to(request.user, Action.LOG_PATROL).schools().order_by("name")
    )
    cameras = video_selectors.camera_list(actor=request.user).filter(
        school_id__in=visible_school_ids(request.user, Action.LOG_PATROL)
    )
    if request.method == "POST":
        form = VideoPatrolForm(request.POST, schools=schools, cameras=cameras)
        created = {}

        def call(**kwargs):
            created["patrol"] = video_services.video_patrol_create(actor=request.user, **kwargs)

        if _submit(form, call):
            messages.success(request, _("Video patrol logged."))
            return redirect("patrols:video_patrol_detail", patrol_id=created["patrol"].pk)
        status = 400
    else:
        form = VideoPatrolForm(schools=schools, cameras=cameras)
        status = 200
    return render(
        request,
        "patrols/video/patrol_form.html",
        {"form": form, "nav_active": "patrols_video"},
        status=status,
    )


@login_required
@require_safe
def patrol_detail(request, patrol_id: int):
    require_any(request.user, Action.LOG_PATROL)
    patrol = video_selectors.video_patrol_get(actor=request.user, patrol_id=_id(patrol_id))
    return render(
        request,
        "patrols/video/patrol_detail.html",
        {"patrol": patrol, "nav_active": "patrols_video"},
    )
