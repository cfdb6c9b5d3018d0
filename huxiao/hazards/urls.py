from huxiao.hazards import (
    hazard_views,
    inspection_views,
    listing_views,
    task_views,
    template_views,
)

app_name = "hazards"
# Each area keeps its own routes (ADR 0026).
urlpatterns = [
    *template_views.urlpatterns,
    *inspection_views.urlpatterns,
    *hazard_views.urlpatterns,
    *listing_views.urlpatterns,
    *task_views.urlpatterns,
]
