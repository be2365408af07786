from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import BooleanField, Case, ExpressionWrapper, IntegerField, Q, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.timesince import timesince
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django_otp_webauthn.admin import WebAuthnCredentialAdmin
from django_otp_webauthn.models import WebAuthnCredential

from moderation.decisions import ACTION_BUTTONS, STAFF_ACTIONS, ban_addresses, can_undo, decide, undo
from moderation.desk import ACTION_KEYS, blurred, cases_for, queue_counts, unblurred_for
from moderation.models import Ban, Decision, Report, ReportedAddress, StaffAction, StaffPreference
from moderation.second_factor import needs_second_factor

QUEUE_LENGTH = 50
# The two rights the desk turns on: seeing what the reporter attached, and deciding (banning, dismissing, undoing).
VIEW_EVIDENCE = "moderation.view_evidence"
DECIDE = "moderation.decide"
# A report's evidence: no filter, search or ordering may touch it for staff who may not see it, since a
# result count answers a question about the chat as surely as the page would.
EVIDENCE_FIELDS = frozenset({"chat", "snapshot"})


def _touches_evidence(lookup: str) -> bool:
    return lookup.lstrip("-").split("__", 1)[0] in EVIDENCE_FIELDS


def second_factor_given(request: HttpRequest) -> bool:
    """Checked here as well as by the middleware, so that a page the middleware misses still asks for it."""
    user = request.user
    return not needs_second_factor(user) or bool(getattr(user, "is_verified", lambda: False)())


def can_see_evidence(request: HttpRequest) -> bool:
    user = request.user
    return user.is_active and user.is_staff and user.has_perm(VIEW_EVIDENCE) and second_factor_given(request)


def can_decide(request: HttpRequest) -> bool:
    user = request.user
    return user.is_active and user.is_staff and user.has_perm(DECIDE) and second_factor_given(request)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the site itself: staff may look, filter and delete, never edit."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReportInline(admin.TabularInline):
    model = Report
    fields = ("created_at", "reason", "escalated", "decision")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DecisionInline(admin.TabularInline):
    model = Decision
    fields = ("decided_at", "action", "decided_by")
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
    inlines = [DecisionInline, ReportInline]
    actions = ["ban_for_a_day", "ban_for_a_week", "ban_for_a_month"]

    def has_decide_permission(self, request: HttpRequest) -> bool:
        """Django offers and runs an action with ``permissions=["decide"]`` only when this says yes."""
        return can_decide(request)

    @admin.display(description=_("Address (hashed)"))
    def short_hash(self, obj: ReportedAddress) -> str:
        return f"{obj.ip_hash[:16]}…"

    @admin.display(description=_("Reasons"))
    def reasons(self, obj: ReportedAddress) -> str:
        labels = dict(Report.Reason.choices)
        return ", ".join(sorted({str(labels[r]) for r in obj.reports.values_list("reason", flat=True)}))

    @admin.display(description=_("Banned until"))
    def banned_until(self, obj: ReportedAddress) -> str:
        ban = Ban.objects.filter(ip_hash=obj.ip_hash, until__gt=timezone.now()).order_by("-until").first()
        return f"{ban.until:%Y-%m-%d %H:%M}" if ban else "—"

    def _ban(self, request: HttpRequest, queryset: QuerySet[ReportedAddress], days: int) -> None:
        count = ban_addresses(list(queryset), days, request.user)  # type: ignore[arg-type]
        addresses = ngettext("%(count)d address", "%(count)d addresses", count) % {"count": count}
        period = ngettext("%(days)d day", "%(days)d days", days) % {"days": days}
        message = gettext("Banned %(addresses)s for %(period)s.") % {"addresses": addresses, "period": period}
        self.message_user(request, message, messages.SUCCESS)

    @admin.action(description=_("Ban for a day"), permissions=["decide"])
    def ban_for_a_day(self, request: HttpRequest, queryset: QuerySet[ReportedAddress]) -> None:
        self._ban(request, queryset, 1)

    @admin.action(description=_("Ban for a week"), permissions=["decide"])
    def ban_for_a_week(self, request: HttpRequest, queryset: QuerySet[ReportedAddress]) -> None:
        self._ban(request, queryset, 7)

    @admin.action(description=_("Ban for a month"), permissions=["decide"])
    def ban_for_a_month(self, request: HttpRequest, queryset: QuerySet[ReportedAddress]) -> None:
        self._ban(request, queryset, 30)


@admin.register(Ban)
class BanAdmin(admin.ModelAdmin):
    list_display = ("short_hash", "reason", "until", "active")
    list_filter = ("until",)
    search_fields = ("ip_hash",)
    fields = ("ip_hash", "reason", "until")

    # Banning or lifting a ban here is a decision like the queue's: it needs the decide right (and so the
    # second factor) on top of the model's own permission; looking at bans does not.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return can_decide(request) and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_decide(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_decide(request) and super().has_delete_permission(request, obj)

    @admin.display(description=_("Address (hashed)"))
    def short_hash(self, obj: Ban) -> str:
        return f"{obj.ip_hash[:16]}…"

    @admin.display(boolean=True, description=_("Active"))
    def active(self, obj: Ban) -> bool:
        return obj.until > timezone.now()


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ("decided_at", "action", "decided_by", "address", "undone_at")
    list_filter = ("action", "decided_at")


@admin.register(StaffAction)
class StaffActionAdmin(ReadOnlyAdmin):
    """Who looked at which snapshot and who decided: for superusers only, and nobody edits or deletes it
    (the retention job does, with the cases)."""

    list_display = ("at", "staff_member", "action", "report")
    list_filter = ("action", "at", "staff_member")
    list_select_related = ("staff_member", "report")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[StaffAction]:
        return super().get_queryset(request).defer("report__snapshot")


WITH_SNAPSHOT = ExpressionWrapper(Q(snapshot__isnull=False), output_field=BooleanField())


def open_reports() -> QuerySet[Report]:
    """The queue's order: cases banned automatically first, then "underage", then newest first."""
    underage = Case(When(reason=Report.Reason.UNDERAGE, then=Value(1)), default=Value(0), output_field=IntegerField())
    return (
        Report.objects.filter(decision__isnull=True)
        .select_related("address")
        .defer("snapshot")
        .annotate(underage=underage, with_snapshot=WITH_SNAPSHOT)
        .order_by("-escalated", "-underage", "-created_at")
    )


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    """Every report; the moderation queue (open reports with their evidence) is a page of its own."""

    list_display = ("created_at", "reason", "escalated", "has_snapshot", "decision")
    list_filter = ("reason", "escalated", "created_at")
    exclude = ("snapshot",)
    readonly_fields = ("address", "reason", "created_at", "chat", "escalated", "decision")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Report]:
        # The list never shows the images: leave their bytes in the database.
        return super().get_queryset(request).defer("snapshot").annotate(with_snapshot=WITH_SNAPSHOT)

    @admin.display(boolean=True, description=_("Snapshot"))
    def has_snapshot(self, obj: Report) -> bool:
        return bool(getattr(obj, "with_snapshot", False))

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("queue/", wrap(self.queue_view), name="moderation_queue"),
            path("<int:pk>/snapshot/", wrap(self.snapshot_view), name="moderation_snapshot"),
            path("<int:pk>/decide/", wrap(self.decide_view), name="moderation_decide"),
            path("<int:pk>/case/", wrap(self.case_view), name="moderation_case"),
            path("<int:pk>/snapshot/blurred/", wrap(self.blurred_snapshot_view), name="moderation_snapshot_blurred"),
            path("queue/counts.json", wrap(self.counts_view), name="moderation_counts"),
            path("undo/<int:pk>/", wrap(self.undo_view), name="moderation_undo"),
            path("preference/", wrap(self.preference_view), name="moderation_preference"),
            *super().get_urls(),
        ]

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        if _touches_evidence(lookup) and (request is None or not can_see_evidence(request)):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        fields = list(super().get_search_fields(request))
        return fields if can_see_evidence(request) else [f for f in fields if not _touches_evidence(f)]

    def get_ordering(self, request: HttpRequest) -> list[str]:
        ordering = list(super().get_ordering(request))
        return ordering if can_see_evidence(request) else [f for f in ordering if not _touches_evidence(f)]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(super().get_fields(request, obj))
        # The chat lines are evidence: the list and the record are not.
        return fields if can_see_evidence(request) else [f for f in fields if f != "chat"]

    def queue_view(self, request: HttpRequest) -> HttpResponse:
        if not can_see_evidence(request):
            raise PermissionDenied
        page = Paginator(open_reports(), QUEUE_LENGTH).get_page(request.GET.get("page"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Moderation queue"),
            "opts": self.model._meta,
            "cases": cases_for(list(page.object_list)),
            "page": page,
            "counts": queue_counts(),
            "undoable": self._undoable(request),
            "unblurred": unblurred_for(request.user),
            **self._decide_context(request),
        }
        response = TemplateResponse(request, "admin/moderation/queue.html", context)
        response["Cache-Control"] = "private, no-store"
        return response

    def case_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """One case on a page of its own, with the record of who looked at it and who decided."""
        if not can_see_evidence(request):
            raise PermissionDenied
        queryset = Report.objects.select_related("address").defer("snapshot").annotate(with_snapshot=WITH_SNAPSHOT)
        report = get_object_or_404(queryset, pk=pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Case: %(reason)s") % {"reason": report.get_reason_display()},
            "opts": self.model._meta,
            "case": cases_for([report])[0],
            "staff_actions": report.staff_actions.select_related("staff_member"),
            "undoable": self._undoable(request),
            # The no-script way to reveal: a link to this page that asks for the image itself.
            "unblurred": unblurred_for(request.user) or request.GET.get("reveal") == "1",
            **self._decide_context(request),
        }
        response = TemplateResponse(request, "admin/moderation/case.html", context)
        response["Cache-Control"] = "private, no-store"
        return response

    def counts_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        counts = queue_counts()
        return JsonResponse({**counts, "oldest": counts["oldest"] and timesince(counts["oldest"])})

    def _decide_context(self, request: HttpRequest) -> dict[str, Any]:
        decides = can_decide(request)
        return {"actions": list(zip(ACTION_BUTTONS.items(), ACTION_KEYS, strict=True)) if decides else []}

    def _undoable(self, request: HttpRequest) -> Decision | None:
        """The staff member's own latest decision, while it can still be taken back."""
        if not can_decide(request):
            return None
        latest = (
            Decision.objects.filter(decided_by=request.user).select_related("address").order_by("-decided_at").first()
        )
        return latest if latest is not None and can_undo(latest) else None

    @method_decorator(require_POST)
    def undo_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not can_decide(request):
            raise PermissionDenied
        # Only one's own decision: the queue offers nothing else, and another's ban is changed in the ban list.
        decision = get_object_or_404(Decision, pk=pk)
        if decision.decided_by_id != request.user.pk:
            raise PermissionDenied
        if undo(decision, request.user):  # type: ignore[arg-type]
            messages.success(request, gettext("Decision undone: any ban it made is lifted and the case is open again."))
        else:
            messages.error(request, gettext("Too late to undo that decision; change the ban itself instead."))
        return HttpResponseRedirect(reverse("admin:moderation_queue"))

    @method_decorator(require_POST)
    def preference_view(self, request: HttpRequest) -> HttpResponse:
        if not can_see_evidence(request):
            raise PermissionDenied
        StaffPreference.objects.update_or_create(
            staff_member=request.user, defaults={"unblurred": request.POST.get("unblurred") == "on"}
        )
        messages.success(request, gettext("Your preference is saved."))
        return HttpResponseRedirect(reverse("admin:moderation_queue"))

    def snapshot_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The snapshot as the reporter saw it. Serving it is what revealing it means, so it is recorded here."""
        if not can_see_evidence(request):
            raise PermissionDenied
        snapshot = Report.objects.filter(pk=pk).values_list("snapshot", flat=True).first()
        if snapshot is None:
            raise Http404("No snapshot")
        StaffAction.objects.create(report_id=pk, staff_member=request.user, action=StaffAction.Action.REVEAL)
        return _jpeg(bytes(snapshot))

    def blurred_snapshot_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """A tiny grey version, blurred again by the page: shows there is a picture, not what it shows."""
        if not can_see_evidence(request):
            raise PermissionDenied
        snapshot = Report.objects.filter(pk=pk).values_list("snapshot", flat=True).first()
        if snapshot is None:
            raise Http404("No snapshot")
        return _jpeg(blurred(bytes(snapshot)))

    @method_decorator(require_POST)
    def decide_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not can_decide(request):
            raise PermissionDenied
        report = get_object_or_404(Report.objects.select_related("address"), pk=pk)
        action = request.POST.get("action", "")
        if action not in STAFF_ACTIONS:
            messages.error(request, gettext("Unknown action; nothing was decided."))
        else:
            decide(report.address, action, request.user)  # type: ignore[arg-type]
            messages.success(request, f"{Decision.Action(action).label}: {report.address.ip_hash[:12]}…")
        return HttpResponseRedirect(reverse("admin:moderation_queue"))


def _jpeg(data: bytes) -> HttpResponse:
    response = HttpResponse(data, content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response


# django-otp-webauthn ships an admin for passkeys without registering it: registered here, so that a superuser
# can remove a lost passkey as they remove a lost authenticator app (README, "Second factor").
admin.site.register(WebAuthnCredential, WebAuthnCredentialAdmin)
