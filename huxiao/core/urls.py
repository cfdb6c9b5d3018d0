from django.urls import path

from huxiao.core import observability, views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", observability.readyz, name="readyz"),
    path("metrics", observability.metrics_view, name="metrics"),
    path("switch-organization/", views.switch_organization, name="switch_organization"),
]
