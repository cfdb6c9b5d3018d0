"""Pages of the reports app; each area keeps its own routes, gathered here (ADR 0033)."""

from huxiao.reports import (
    dashboard_views,
    document_views,
    monthly_views,
    report_views,
    scorecard_views,
)

app_name = "reports"
urlpatterns: list = []
urlpatterns += report_views.urlpatterns
urlpatterns += dashboard_views.urlpatterns
urlpatterns += scorecard_views.urlpatterns
urlpatterns += monthly_views.urlpatterns
urlpatterns += document_views.urlpatterns
