"""/healthz: can this process reach the database and the channel layer (and Redis)?"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Awaitable

from asgiref.sync import sync_to_async
from channels.layers import BaseChannelLayer, get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse

from matchmaking import MatchmakerUnavailable, get_matchmaker

TIMEOUT = 2.0


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


async def _channel_layer() -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel("healthz.")
    try:
        token = secrets.token_hex(4)
        await layer.send(channel, {"type": "healthz", "token": token})
        message = await layer.receive(channel)
        if message.get("token") != token:
            raise RuntimeError("channel layer returned another message")
    finally:
        await _release(layer, channel)


async def _release(layer: BaseChannelLayer, channel: str) -> None:
    """Give the probe's channel back: the pub/sub layer unsubscribes a channel whose receive is cancelled.

    Channels has no call to delete a channel; a consumer's channel ends this way when the
    consumer stops. Without it every probe left one Redis subscription behind for good.
    """
    waiting = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(0)  # let it start waiting, so the cancellation runs its clean-up
    waiting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiting


async def _matchmaking() -> None:
    await get_matchmaker().snapshot()


async def _check(name: str, probe: Awaitable[object]) -> tuple[str, str]:
    try:
        await asyncio.wait_for(probe, TIMEOUT)
    except TimeoutError:
        return name, f"timed out after {TIMEOUT:.0f} s"
    except MatchmakerUnavailable:
        return name, "unreachable"
    except Exception as error:
        return name, f"{type(error).__name__}"
    return name, "ok"


async def healthz(request: HttpRequest) -> JsonResponse:
    results = dict(
        await asyncio.gather(
            _check("database", sync_to_async(_database)()),
            _check("channel_layer", _channel_layer()),
            _check("matchmaking", _matchmaking()),
        )
    )
    healthy = all(state == "ok" for state in results.values())
    return JsonResponse({"status": "ok" if healthy else "unavailable", **results}, status=200 if healthy else 503)
