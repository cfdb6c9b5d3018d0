"""Pages of the health app; each area keeps its own routes, gathered here (ADR 0032)."""

from huxiao.health import (
    case_views,
    check_views,
    directory_views,
    home_views,
    response_views,
    surveillance_views,
)

app_name = "health"
urlpatterns: list = []
urlpatterns += home_views.urlpatterns
urlpatterns += check_views.urlpatterns
urlpatterns += surveillance_views.urlpatterns
urlpatterns += case_views.urlpatterns
urlpatterns += response_views.urlpatterns
urlpatterns += directory_views.urlpatterns
