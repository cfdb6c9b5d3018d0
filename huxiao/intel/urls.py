from django.urls import path

from huxiao.intel import cases_views, views, warnings_views

app_name = "intel"
urlpatterns = [
    path("register/", views.register_list, name="register_list"),
    path("register/new/", views.register_create, name="register_create"),
    path("register/export/", views.register_export, name="register_export"),
    path("register/<int:person_id>/", views.register_detail, name="register_detail"),
    path("register/<int:person_id>/edit/", views.register_edit, name="register_edit"),
    path("register/<int:person_id>/photo/", views.register_photo, name="register_photo"),
    path("register/<int:person_id>/close/", views.register_close, name="register_close"),
    path("register/<int:person_id>/reopen/", views.register_reopen, name="register_reopen"),
    path("register/<int:person_id>/measures/new/", views.measure_add, name="measure_add"),
    path(
        "register/<int:person_id>/measures/<int:measure_id>/end/",
        views.measure_end,
        name="measure_end",
    ),
    path("register/<int:person_id>/follow-ups/new/", views.follow_up_add, name="follow_up_add"),
    # Warnings both ways (ADR 0019).
    path("warnings/signs/", warnings_views.sign_list, name="sign_list"),
    path("warnings/signs/new/", warnings_views.sign_new, name="sign_new"),
    path("warnings/signs/<int:sign_id>/", warnings_views.sign_detail, name="sign_detail"),
    path(
        "warnings/signs/<int:sign_id>/transition/",
        warnings_views.sign_transition,
        name="sign_transition",
    ),
    path(
        "warnings/signs/<int:sign_id>/attachments/<int:attachment_id>/",
        warnings_views.sign_attachment,
        name="sign_attachment",
    ),
    path("warnings/early/", warnings_views.early_list, name="early_list"),
    path("warnings/early/new/", warnings_views.early_new, name="early_new"),
    path("warnings/early/<int:warning_id>/", warnings_views.early_detail, name="early_detail"),
    path(
        "warnings/early/<int:warning_id>/acknowledge/",
        warnings_views.early_acknowledge,
        name="early_acknowledge",
    ),
    # School-related cases (ADR 0021).
    path("cases/", cases_views.case_list, name="case_list"),
    path("cases/new/", cases_views.case_new, name="case_new"),
    path("cases/<int:case_id>/", cases_views.case_detail, name="case_detail"),
    path("cases/<int:case_id>/edit/", cases_views.case_edit, name="case_edit"),
    path("cases/<int:case_id>/transition/", cases_views.case_transition, name="case_transition"),
]
