from django.urls import path

from huxiao.alarms.consumers import ConsoleConsumer
from huxiao.core.consumers import EventsConsumer
from huxiao.core.observability import counted_websocket

websocket_urlpatterns = [
    path("ws/events/", counted_websocket(EventsConsumer.as_asgi(), "events")),
    path("ws/console/", counted_websocket(ConsoleConsumer.as_asgi(), "console")),
]
