from django.urls import path

from huxiao.orgs import views

app_name = "orgs"
urlpatterns = [
    path("schools/", views.school_list, name="school_list"),
    path("schools/<int:school_id>/", views.school_detail, name="school_detail"),
    path("schools/<int:school_id>/edit/", views.school_edit, name="school_edit"),
]
