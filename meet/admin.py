from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from meet.models import Ban, MatchEvent, Report, ReportedAddress
from meet.moderation import ban_addresses


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


class ReportInline(admin.TabularInline):
    model = Report
    fields = ("created_at", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReportedAddress)
class ReportedAddressAdmin(ReadOnlyAdmin):
    list_display = ("short_hash", "report_count", "reasons", "last_reported_at", "banned_until")
    list_filter = ("last_reported_at", "reports__reason")
    search_fields = ("ip_hash",)
    inlines = [ReportInline]
    actions = ["ban_for_a_day", "ban_for_a_week", "ban_for_a_month"]

    @admin.display(description="Address (hashed)")
    def short_hash(self, obj: ReportedAddress) -> str:
        return f"{obj.ip_hash[:16]}…"

    @admin.display(description="Reasons")
    def reasons(self, obj: ReportedAddress) -> str:
        labels = dict(Report.Reason.choices)
        return ", ".join(sorted({labels[r] for r in obj.reports.values_list("reason", flat=True)}))

    @admin.display(description="Banned until")
    def banned_until(self, obj: ReportedAddress) -> str:
        ban = Ban.objects.filter(ip_hash=obj.ip_hash, until__gt=timezone.now()).order_by("-until").first()
        return f"{ban.until:%Y-%m-%d %H:%M}" if ban else "—"

    def _ban(self, request: HttpRequest, queryset: QuerySet[ReportedAddress], days: int) -> None:
        count = ban_addresses(list(queryset), days, reason=f"Banned by {request.user.get_username()} after reports")
        self.message_user(request, f"Banned {count} address(es) for {days} day(s).", messages.SUCCESS)

    @admin.action(description="Ban for a day")
    def ban_for_a_day(self, request: HttpRequest, queryset: QuerySet[ReportedAddress]) -> None:
        self._ban(request, queryset, 1)

    @admin.action(description="Ban for a week")
    def ban_for_a_week(self, request: HttpRequest, queryset: QuerySet[ReportedAddress]) -> None:
        self._ban(request, queryset, 7)

    @admin.action(description="Ban for a month")
    def ban_for_a_month(self, request: HttpRequest, queryset: QuerySet[ReportedAddress]) -> None:
        self._ban(request, queryset, 30)


@admin.register(Ban)
class BanAdmin(admin.ModelAdmin):
    list_display = ("short_hash", "reason", "until", "active")
    list_filter = ("until",)
    search_fields = ("ip_hash",)
    fields = ("ip_hash", "reason", "until")

    @admin.display(description="Address (hashed)")
    def short_hash(self, obj: Ban) -> str:
        return f"{obj.ip_hash[:16]}…"

    @admin.display(boolean=True, description="Active")
    def active(self, obj: Ban) -> bool:
        return obj.until > timezone.now()
