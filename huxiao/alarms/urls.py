from django.urls import path

from huxiao.alarms import views

app_name = "alarms"
urlpatterns = [
    path("console/", views.console, name="console"),
    path("raise/", views.raise_alarm, name="raise"),
    path("stats/", views.stats, name="stats"),
    path("<int:alarm_id>/", views.detail, name="detail"),
]
