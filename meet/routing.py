from django.urls import path

from meet.consumers import MeetConsumer
from meet.live import LiveStatsConsumer

websocket_urlpatterns = [
    path("ws/meet/", MeetConsumer.as_asgi()),
    path("ws/admin/live-stats/", LiveStatsConsumer.as_asgi()),
]
