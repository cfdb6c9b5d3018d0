from django.urls import path

from huxiao.patrols import lvp_views, video_views, views

app_name = "patrols"
urlpatterns = [
    path("", views.today, name="today"),
    path("posts/", views.post_list, name="post_list"),
    path("posts/new/", views.post_new, name="post_new"),
    path("posts/<int:post_id>/", views.post_detail, name="post_detail"),
    path("posts/<int:post_id>/edit/", views.post_edit, name="post_edit"),
    path("posts/<int:post_id>/checkin/", views.check_in, name="check_in"),
    path("posts/<int:post_id>/staff/", views.staff_add, name="staff_add"),
    path(
        "posts/<int:post_id>/staff/<int:staff_id>/remove/",
        views.staff_remove,
        name="staff_remove",
    ),
    path("shifts/<int:shift_id>/", views.shift_detail, name="shift_detail"),
    path("shifts/<int:shift_id>/cancel/", views.shift_cancel, name="shift_cancel"),
    path("checkins/<int:check_in_id>/checkout/", views.check_out, name="check_out"),
    path("checkins/<int:check_in_id>/vehicle/", views.check_in_vehicle, name="check_in_vehicle"),
    path("checkins/<int:check_in_id>/photo/", views.check_in_photo, name="check_in_photo"),
    path("coverage/", views.coverage, name="coverage"),
    path("logs/", views.log_list, name="log_list"),
    path("logs/new/", views.log_new, name="log_new"),
    path("logs/<int:log_id>/", views.log_detail, name="log_detail"),
    path("visits/", views.visit_list, name="visit_list"),
    path("visits/new/", views.visit_new, name="visit_new"),
    path("visits/<int:visit_id>/", views.visit_detail, name="visit_detail"),
    path("visits/<int:visit_id>/complete/", views.visit_complete, name="visit_complete"),
    # Video patrol and legal vice-principals (ADR 0020).
    path("video/", video_views.camera_list, name="video_cameras"),
    path("video/cameras/new/", video_views.camera_new, name="video_camera_new"),
    path("video/cameras/<int:camera_id>/edit/", video_views.camera_edit, name="video_camera_edit"),
    path("video/patrols/", video_views.patrol_list, name="video_patrols"),
    path("video/patrols/new/", video_views.patrol_new, name="video_patrol_new"),
    path(
        "video/patrols/<int:patrol_id>/",
        video_views.patrol_detail,
        name="video_patrol_detail",
    ),
    path("lvp/", lvp_views.lvp_list, name="lvp_list"),
    path("lvp/new/", lvp_views.lvp_new, name="lvp_new"),
    path("lvp/<int:assignment_id>/end/", lvp_views.lvp_end, name="lvp_end"),
]
