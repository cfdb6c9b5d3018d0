from django.urls import path

from huxiao.alarms.consumers import ConsoleConsumer
from huxiao.core.consumers import EventsConsumer

websocket_urlpatterns = [
    path("ws/events/", EventsConsumer.as_asgi()),
    path("ws/console/", ConsoleConsumer.as_asgi()),
]
