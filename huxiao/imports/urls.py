from django.urls import path

from huxiao.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.job_list, name="job_list"),
    path("upload/", views.job_create, name="job_create"),
    path("<int:job_id>/", views.job_detail, name="job_detail"),
    path("<int:job_id>/confirm/", views.job_confirm, name="job_confirm"),
    path("templates/<str:kind>/", views.template_download, name="template"),
    path("export/<int:school_id>/<str:kind>/", views.export_download, name="export"),
]
