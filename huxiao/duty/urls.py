app_name = "duty"
# Each area keeps its own routes; they are gathered here.
urlpatterns: list = []
