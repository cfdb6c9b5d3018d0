app_name = "security"
# Each area keeps its own routes; they are gathered here.
urlpatterns: list = []
