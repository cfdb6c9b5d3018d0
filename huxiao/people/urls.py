from django.urls import path

from huxiao.people import views

app_name = "people"
urlpatterns = [
    # classes and children
    path("classes/", views.class_list, name="class_list"),
    path("schools/<int:school_id>/classes/new/", views.class_create, name="class_create"),
    path("classes/<int:class_id>/", views.class_detail, name="class_detail"),
    path("classes/<int:class_id>/edit/", views.class_edit, name="class_edit"),
    path("classes/<int:class_id>/delete/", views.class_delete, name="class_delete"),
    path("classes/<int:class_id>/children/new/", views.child_create, name="child_create"),
    path("children/<int:child_id>/", views.child_detail, name="child_detail"),
    path("children/<int:child_id>/edit/", views.child_edit, name="child_edit"),
    path("children/<int:child_id>/move/", views.child_move, name="child_move"),
    path("children/<int:child_id>/delete/", views.child_delete, name="child_delete"),
    path("children/<int:child_id>/reveal-id/", views.child_reveal_id, name="child_reveal_id"),
    # guardians and authorised pick-up persons
    path("children/<int:child_id>/guardians/new/", views.guardian_create, name="guardian_create"),
    path("guardians/<int:guardian_id>/edit/", views.guardian_edit, name="guardian_edit"),
    path("guardians/<int:guardian_id>/delete/", views.guardian_delete, name="guardian_delete"),
    path(
        "guardians/<int:guardian_id>/reveal-id/",
        views.guardian_reveal_id,
        name="guardian_reveal_id",
    ),
    # staff and certificates
    path("staff/", views.staff_list, name="staff_list"),
    path("schools/<int:school_id>/staff/new/", views.staff_create, name="staff_create"),
    path("staff/<int:staff_id>/", views.staff_detail, name="staff_detail"),
    path("staff/<int:staff_id>/edit/", views.staff_edit, name="staff_edit"),
    path("staff/<int:staff_id>/delete/", views.staff_delete, name="staff_delete"),
    path("staff/<int:staff_id>/reveal-id/", views.staff_reveal_id, name="staff_reveal_id"),
    path(
        "staff/<int:staff_id>/certificates/new/",
        views.certificate_add,
        name="certificate_add",
    ),
    path(
        "staff/<int:staff_id>/certificates/<int:certificate_id>/delete/",
        views.certificate_remove,
        name="certificate_remove",
    ),
]
