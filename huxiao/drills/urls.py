from huxiao.drills import activity_views, calendar_views, compliance_views, drill_views

app_name = "drills"
# Each area keeps its own routes; they are gathered here.
urlpatterns: list = []
urlpatterns += activity_views.urlpatterns
urlpatterns += drill_views.urlpatterns
urlpatterns += compliance_views.urlpatterns
urlpatterns += calendar_views.urlpatterns
