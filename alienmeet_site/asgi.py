"""ASGI entry point: HTTP through Django, WebSocket through the meet routes."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alienmeet_site.settings")
# Django must be set up before anything imports models or consumers.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from alienmeet_site.origins import SameOriginValidator  # noqa: E402
from meet.routing import websocket_urlpatterns  # noqa: E402
from transport.send_backlog import SendBacklogMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SendBacklogMiddleware(SameOriginValidator(URLRouter(websocket_urlpatterns))),
    }
)
