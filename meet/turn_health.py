"""Does each configured TURN server give a relay to a visitor? Staff-only, never slow, never tells the secret.

Not part of /healthz: that endpoint is public and probed every few seconds by load
balancers, and each probe here makes every TURN server allocate a relay. Staff see it
at /admin/turn-check.json, and monitoring runs ``manage.py check_turn``.
"""

from __future__ import annotations

import asyncio
import ssl
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from meet.ice import visitor_credential
from meet.turn_check import TurnError, allocate

TIMEOUT = 3.0


def _check(url: str, username: str, password: str, timeout: float) -> str:
    # Only fixed words or the server's own error code leave this function: never the credential.
    try:
        return allocate(url, username, password, timeout=timeout)
    except ValueError:
        return "not a TURN URL"
    except TimeoutError:
        return f"no answer within {timeout:.0f} s"
    except ssl.SSLCertVerificationError:
        return "TLS certificate refused"
    except ssl.SSLError:
        return "TLS handshake failed"
    except TurnError:
        return "not answering as a TURN server"
    except OSError as error:
        return f"unreachable ({type(error).__name__})"


def check_turn_servers(timeout: float = TIMEOUT) -> dict[str, str]:
    """URL -> "ok" or what went wrong; all servers at once, so the whole takes about one timeout."""
    urls = [url for url in settings.MEET["TURN_URLS"] if url.startswith(("turn:", "turns:"))]
    if not urls or not settings.MEET["TURN_SECRET"]:
        return {}
    # Minted exactly as for a visitor, and only long enough for this check.
    username, password = visitor_credential(ttl=60)
    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        answers = pool.map(lambda url: _check(url, username, password, timeout), urls)
        return dict(zip(urls, answers, strict=True))


async def turn_check_json(request: HttpRequest) -> JsonResponse:
    user = await request.auser()
    if not (user.is_active and user.is_staff):
        return JsonResponse({"error": "Staff only."}, status=403)
    # In a thread of its own: sync views share one thread under ASGI, and this may wait seconds.
    results = await asyncio.to_thread(check_turn_servers)
    if not results:
        return JsonResponse({"status": "not configured", "servers": {}})
    healthy = all(state == "ok" for state in results.values())
    return JsonResponse({"status": "ok" if healthy else "failing", "servers": results}, status=200 if healthy else 503)
