from channels.auth import AuthMiddlewareStack
from django.urls import path

from callstats.live import LiveStatsConsumer
from meet.consumers import MeetConsumer

websocket_urlpatterns = [
    # Visitors are anonymous: the call socket needs no session or user, and skipping them saves
    # a session lookup per connection and a wrapper around every frame it sends.
    path("ws/meet/", MeetConsumer.as_asgi()),
    # Staff only: the consumer checks the signed-in user.
    path("ws/admin/live-stats/", AuthMiddlewareStack(LiveStatsConsumer.as_asgi())),
]
