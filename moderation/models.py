"""Reports, their evidence, bans and staff decisions, keyed only by the hash of an address.

The first three tables were created by the meet app and keep their names (``meet_*``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ReportedAddress(models.Model):
    """Everyone reported from one address, known only by a keyed hash of that address."""

    ip_hash = models.CharField(max_length=64, unique=True, help_text="HMAC-SHA256 of the address; not reversible.")
    report_count = models.PositiveIntegerField(default=0)
    first_reported_at = models.DateTimeField(auto_now_add=True)
    last_reported_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        db_table = "meet_reportedaddress"
        ordering = ["-report_count", "-last_reported_at"]
        verbose_name_plural = "reported addresses"

    def __str__(self) -> str:
        return f"Address {self.ip_hash[:12]}… ({self.report_count} reports)"


class Decision(models.Model):
    """What staff (or the automatic protection) decided about one reported address."""

    class Action(models.TextChoices):
        DISMISS = "dismiss", "Dismissed"
        BAN_1 = "ban_1", "Banned for 1 day"
        BAN_7 = "ban_7", "Banned for 7 days"
        BAN_30 = "ban_30", "Banned for 30 days"
        BAN_PERMANENT = "ban_permanent", "Banned permanently"
        AUTO_BAN = "auto_ban", "Banned automatically"

    address = models.ForeignKey(ReportedAddress, on_delete=models.CASCADE, related_name="decisions")
    action = models.CharField(max_length=16, choices=Action.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        help_text="The staff member; empty for the automatic protection.",
    )
    decided_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-decided_at"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} at {self.decided_at:%Y-%m-%d %H:%M}"


class Report(models.Model):
    class Reason(models.TextChoices):
        NUDITY = "nudity", "Nudity"
        HARASSMENT = "harassment", "Harassment"
        SPAM = "spam", "Spam"
        UNDERAGE = "underage", "Underage"
        OTHER = "other", "Other"

    address = models.ForeignKey(ReportedAddress, on_delete=models.CASCADE, related_name="reports")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Evidence the reporter chose to attach: a re-encoded still frame (pixels only) and chat lines.
    snapshot = models.BinaryField(null=True, blank=True, help_text="JPEG re-encoded by the server; no metadata.")
    chat = models.JSONField(default=list, blank=True, help_text='[{"from": "reporter"|"reported", "text": …}]')
    escalated = models.BooleanField(default=False, help_text="Several reporters at once: banned automatically.")
    decision = models.ForeignKey(Decision, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports")

    class Meta:
        db_table = "meet_report"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} at {self.created_at:%Y-%m-%d %H:%M}"


class Ban(models.Model):
    ip_hash = models.CharField(max_length=64, db_index=True)
    reason = models.CharField(max_length=200)
    until = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "meet_ban"
        ordering = ["-until"]

    def __str__(self) -> str:
        return f"Ban of {self.ip_hash[:12]}… until {self.until:%Y-%m-%d %H:%M}"
