app_name = "transport"
# Each area keeps its own routes; they are gathered here.
urlpatterns: list = []
