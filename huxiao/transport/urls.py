from huxiao.transport import fleet_views, inspection_views, route_views, trip_views

app_name = "transport"
# Each area keeps its own routes; they are gathered here.
urlpatterns: list = []
urlpatterns += inspection_views.urlpatterns
urlpatterns += trip_views.urlpatterns
urlpatterns += fleet_views.urlpatterns
urlpatterns += route_views.urlpatterns
