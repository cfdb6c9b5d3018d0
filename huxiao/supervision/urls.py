from huxiao.supervision import assessment_views, campaign_views, meeting_views, notice_views

app_name = "supervision"
# Each area keeps its own routes (ADR 0027).
urlpatterns = [
    *campaign_views.urlpatterns,
    *assessment_views.urlpatterns,
    *meeting_views.urlpatterns,
    *notice_views.urlpatterns,
]
