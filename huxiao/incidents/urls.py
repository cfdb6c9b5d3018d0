from django.urls import path

from huxiao.incidents import views

app_name = "incidents"
urlpatterns = [
    path("", views.incident_list, name="list"),
    path("from-alarm/<int:alarm_id>/", views.open_from_alarm, name="open_from_alarm"),
    path("<int:incident_id>/", views.incident_detail, name="detail"),
    path("<int:incident_id>/commander/", views.commander_set, name="commander_set"),
    path("<int:incident_id>/members/", views.member_add, name="member_add"),
    path(
        "<int:incident_id>/members/<int:member_id>/remove/",
        views.member_remove,
        name="member_remove",
    ),
    path(
        "<int:incident_id>/members/<int:member_id>/leader/",
        views.member_leader,
        name="member_leader",
    ),
    path("<int:incident_id>/tasks/", views.task_add, name="task_add"),
    path(
        "<int:incident_id>/tasks/<int:task_id>/complete/",
        views.task_complete,
        name="task_complete",
    ),
    path("<int:incident_id>/notes/", views.note_add, name="note_add"),
    path("<int:incident_id>/close/", views.incident_close, name="close"),
    path("<int:incident_id>/report/", views.incident_report, name="report"),
]
