from django.urls import path

from huxiao.people import views

app_name = "people"
urlpatterns = [
    path("classes/", views.class_list, name="class_list"),
    path("staff/", views.staff_list, name="staff_list"),
]
