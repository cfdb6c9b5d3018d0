from huxiao.security import compliance_views, defence_views, equipment_views, personnel_views

app_name = "security"
# Each area keeps its own routes; they are gathered here.
urlpatterns: list = []
urlpatterns += defence_views.urlpatterns
urlpatterns += personnel_views.urlpatterns
urlpatterns += equipment_views.urlpatterns
urlpatterns += compliance_views.urlpatterns
