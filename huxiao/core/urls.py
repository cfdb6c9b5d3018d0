from django.urls import path

from huxiao.core import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("switch-organization/", views.switch_organization, name="switch_organization"),
]
