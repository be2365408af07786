"""Live stats for staff: the admin page, its JSON, the staff WebSocket and Prometheus /metrics."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from callstats.connection_stats import OUTCOME_FIELDS
from callstats.stats import live_stats
from matchmaking import MatchmakerUnavailable, get_matchmaker
from transport.language import visitor_language

PUSH_EVERY_SECONDS = 2.0


async def collect() -> dict[str, Any]:
    try:
        snapshot = await get_matchmaker().snapshot()
    except MatchmakerUnavailable:
        snapshot = None
    return await sync_to_async(live_stats)(snapshot)


def live_stats_page(request: HttpRequest) -> HttpResponse:
    """Wrapped in admin_view by the URLconf: anyone but staff is sent to the admin login."""
    context = {**admin.site.each_context(request), "title": _("Live stats")}
    return render(request, "admin/callstats/live_stats.html", context)


async def live_stats_json(request: HttpRequest) -> HttpResponse:
    user = await request.auser()
    if not (user.is_active and user.is_staff):
        return JsonResponse({"error": gettext("Staff only.")}, status=403)
    return JsonResponse(await collect())


class LiveStatsConsumer(AsyncWebsocketConsumer):
    """Pushes the live stats to a staff member's page every couple of seconds."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not (user.is_active and user.is_staff):
            await self.close()
            return
        await self.accept()
        self.pusher = asyncio.get_running_loop().create_task(self._push())

    async def disconnect(self, code: int) -> None:
        pusher = getattr(self, "pusher", None)
        if pusher is not None:
            pusher.cancel()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        return None  # the page only listens

    async def _push(self) -> None:
        while True:
            # The chart labels in the staff member's language, as the page around them.
            with translation.override(visitor_language(self.scope)):
                stats = await collect()
            await self.send(text_data=json.dumps({"type": "stats", "stats": stats}))
            await asyncio.sleep(PUSH_EVERY_SECONDS)


def _gauge(lines: list[str], name: str, help_text: str, samples: list[tuple[str, float | None]]) -> None:
    lines += [f"# HELP alienmeet_{name} {help_text}", f"# TYPE alienmeet_{name} gauge"]
    for labels, value in samples:
        lines.append(f"alienmeet_{name}{labels} {'NaN' if value is None else value}")


def prometheus_text(stats: dict[str, Any]) -> str:
    lines: list[str] = []
    live = stats["live"] or {}
    _gauge(lines, "up", "1 when the shared matchmaking state answered.", [("", 1 if stats["live"] else 0)])
    _gauge(lines, "online", "People connected now, across all processes.", [("", live.get("online"))])
    _gauge(lines, "waiting", "People waiting for a match now.", [("", live.get("waiting"))])
    _gauge(lines, "calls_in_progress", "Matches in progress now.", [("", live.get("in_calls"))])
    windows = stats["windows"]

    def per_window(key: str) -> list[tuple[str, float | None]]:
        return [(f'{{window="{name}"}}', figures[key]) for name, figures in windows.items()]

    _gauge(lines, "matches", "Matches started in the window (ended ones).", per_window("matches"))
    _gauge(
        lines,
        "wait_seconds",
        "Wait before a match, per person.",
        [
            (f'{{window="{name}",quantile="{q}"}}', figures[key])
            for name, figures in windows.items()
            for q, key in (("0.5", "wait_median"), ("0.95", "wait_p95"))
        ],
    )
    _gauge(lines, "call_seconds_median", "Median call length.", per_window("call_median"))
    _gauge(lines, "quick_next_ratio", "Share of calls ended by Next within 10 seconds.", per_window("quick_next_share"))
    _gauge(lines, "interest_matched_ratio", "Share of matches on a common interest.", per_window("interest_share"))
    _gauge(lines, "language_matched_ratio", "Share of matches sharing a language.", per_window("language_share"))
    _gauge(lines, "reports", "Reports filed in the window.", per_window("reports"))
    _connection_gauges(lines, stats["connections"])
    return "\n".join(lines) + "\n"


def _connection_gauges(lines: list[str], connections: dict[str, dict[str, Any]]) -> None:
    _gauge(
        lines,
        "connection_reports",
        "Calls whose browser reported how it connected, in the window (one per browser).",
        [(f'{{window="{name}"}}', figures["reports"]) for name, figures in connections.items()],
    )
    _gauge(
        lines,
        "connection_ratio",
        "Share of reported calls by path: direct, relay_udp, relay_tcp, relay_tls or failed.",
        [
            (f'{{window="{name}",outcome="{outcome}"}}', figures[f"{outcome}_share"])
            for name, figures in connections.items()
            for outcome in OUTCOME_FIELDS
        ],
    )
    _gauge(
        lines,
        "connect_seconds_within",
        "Time from match to connection: the quantile of calls connected within this many seconds (binned).",
        [
            (f'{{window="{name}",quantile="{q}"}}', figures[key])
            for name, figures in connections.items()
            for q, key in (("0.5", "connect_p50_within"), ("0.95", "connect_p95_within"))
        ],
    )


async def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404("Metrics are not enabled.")
    given = request.headers.get("Authorization", "")
    if not constant_time_compare(given, f"Bearer {token}"):
        return HttpResponse("Missing or wrong bearer token.\n", status=401, content_type="text/plain")
    body = prometheus_text(await collect())
    return HttpResponse(body, content_type="text/plain; version=0.0.4; charset=utf-8")
