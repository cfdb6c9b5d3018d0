from huxiao.duty import checkpoint_views, duty_views, gap_views, monitoring_views, rounds_views

app_name = "duty"
# Each area keeps its own routes; they are gathered here.
urlpatterns: list = []
urlpatterns += checkpoint_views.urlpatterns
urlpatterns += rounds_views.urlpatterns
urlpatterns += duty_views.urlpatterns + monitoring_views.urlpatterns + gap_views.urlpatterns
