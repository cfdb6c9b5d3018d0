from huxiao.access import pass_views, pickup_views, report_views, visitor_views

app_name = "access"
# Each area of the gate keeps its own routes; the kiosk page is the visitors' module's.
urlpatterns = [*visitor_views.urlpatterns, *pass_views.urlpatterns, *pickup_views.urlpatterns]
urlpatterns += [*report_views.urlpatterns]
