from django.urls import path

from huxiao.notify import views

app_name = "notify"
urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/unread/", views.inbox_unread_badge, name="unread_badge"),
    path("inbox/read-all/", views.inbox_read_all, name="read_all"),
    path("inbox/<int:delivery_id>/", views.inbox_item, name="item"),
    path("inbox/<int:delivery_id>/read/", views.inbox_item_read, name="item_read"),
]
