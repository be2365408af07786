"""Does each configured TURN server give a relay to a visitor? Staff-only, never slow, never tells the secret.

Not part of /healthz: that endpoint is public and probed every few seconds by load
balancers, and each probe here makes every TURN server allocate a relay. Staff see it
at /admin/turn-check.json, and monitoring runs ``manage.py check_turn``.
"""

from __future__ import annotations

import ssl
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import translation
from django.utils.translation import gettext

from turn.client import TurnError, allocate
from turn.credentials import visitor_credential

TIMEOUT = 3.0


def _check(url: str, username: str, password: str, timeout: float) -> str:
    # Only fixed words or the server's own error code leave this function: never the credential.
    try:
        return allocate(url, username, password, timeout=timeout)
    except ValueError:
        return gettext("not a TURN URL")
    except TimeoutError:
        return gettext("no answer within %(seconds)s s") % {"seconds": f"{timeout:.0f}"}
    except ssl.SSLCertVerificationError:
        return gettext("TLS certificate refused")
    except ssl.SSLError:
        return gettext("TLS handshake failed")
    except TurnError:
        return gettext("not answering as a TURN server")
    except OSError as error:
        return gettext("unreachable (%(error)s)") % {"error": type(error).__name__}


def check_turn_servers(timeout: float = TIMEOUT) -> dict[str, str]:
    """URL -> "ok" or what went wrong; all servers at once, so the whole takes about one timeout."""
    urls = [url for url in settings.MEET["TURN_URLS"] if url.startswith(("turn:", "turns:"))]
    if not urls or not settings.MEET["TURN_SECRET"]:
        return {}
    # Minted exactly as for a visitor, and only long enough for this check.
    username, password = visitor_credential(ttl=60)
    # The pool's threads do not inherit the active language: the answers follow the staff member's.
    language = translation.get_language()

    def check(url: str) -> str:
        with translation.override(language):
            return _check(url, username, password, timeout)

    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        return dict(zip(urls, pool.map(check, urls), strict=True))


async def turn_check_json(request: HttpRequest) -> JsonResponse:
    user = await request.auser()
    if not (user.is_active and user.is_staff):
        return JsonResponse({"error": gettext("Staff only.")}, status=403)
    # In a thread of its own: sync views share one thread under ASGI, and this may wait seconds.
    results = await sync_to_async(check_turn_servers, thread_sensitive=False)()
    if not results:
        return JsonResponse({"status": "not configured", "servers": {}})
    healthy = all(state == "ok" for state in results.values())
    return JsonResponse({"status": "ok" if healthy else "failing", "servers": results}, status=200 if healthy else 503)
