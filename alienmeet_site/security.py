"""Response headers Django does not set itself: Content-Security-Policy and Permissions-Policy."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# Every script, style, image and socket the pages use comes from this site itself.
_SITE_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "media-src": "'self' blob: mediastream:",
    "font-src": "'self'",
    # The web app manifest and the offline service worker (alienmeet_site/webapp.py).
    "manifest-src": "'self'",
    "worker-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# Django's admin templates set a few inline style attributes.
_ADMIN_EXTRA = {"style-src": "'self' 'unsafe-inline'"}
# The nudity shield's classifier runs as WebAssembly; this allows compiling it, not JavaScript eval.
# It runs in a worker, which takes its policy from the worker script's own response (plain or hashed
# name, as WhiteNoise serves it; nginx serves static files with no policy at all).
_CALL_EXTRA = {"script-src": "'self' 'wasm-unsafe-eval'"}
_SHIELD_WORKER = re.compile(r"^/static/js/shield_worker(\.[0-9a-f]{12})?\.js$")

# The call page needs the camera and microphone, for this site only; nothing needs the rest.
PERMISSIONS_POLICY = (
    "camera=(self), microphone=(self), display-capture=(), geolocation=(), payment=(), usb=(), "
    "serial=(), bluetooth=(), midi=(), magnetometer=(), gyroscope=(), accelerometer=()"
)


def content_security_policy(request: HttpRequest) -> str:
    policy = dict(_SITE_POLICY)
    if request.path.startswith("/admin/"):
        policy.update(_ADMIN_EXTRA)
    if request.path.startswith("/meet/") or _SHIELD_WORKER.match(request.path):
        policy.update(_CALL_EXTRA)
    scheme = "wss" if request.is_secure() else "ws"
    # 'self' covers same-origin WebSockets in current browsers; naming it keeps older ones working.
    policy["connect-src"] = f"'self' {scheme}://{request.get_host()}"
    return "; ".join(f"{name} {value}" for name, value in policy.items())


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", content_security_policy(request))
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
