from django.urls import path

from meet.consumers import MeetConsumer

websocket_urlpatterns = [
    path("ws/meet/", MeetConsumer.as_asgi()),
]
