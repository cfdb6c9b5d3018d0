app_name = "drills"
# Each area keeps its own routes; they are gathered here.
urlpatterns: list = []
