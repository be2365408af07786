from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from callstats.models import MatchEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the site itself: staff may look, filter and delete, never edit."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MatchEvent)
class MatchEventAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "ended_at", "duration_seconds", "wait_seconds", "end_reason", "interest_matched")
    list_filter = ("started_at", "ended_at", "end_reason", "interest_matched")
    date_hierarchy = "started_at"
