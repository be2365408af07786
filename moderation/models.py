"""Reports, their evidence, bans and staff decisions, keyed only by the hash of an address.

The first three tables were created by the meet app and keep their names (``meet_*``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _


class ReportedAddress(models.Model):
    """Everyone reported from one address, known only by a keyed hash of that address."""

    ip_hash = models.CharField(
        _("ip hash"), max_length=64, unique=True, help_text=_("HMAC-SHA256 of the address; not reversible.")
    )
    report_count = models.PositiveIntegerField(_("report count"), default=0)
    first_reported_at = models.DateTimeField(_("first reported at"), auto_now_add=True)
    last_reported_at = models.DateTimeField(_("last reported at"), auto_now=True, db_index=True)

    class Meta:
        db_table = "meet_reportedaddress"
        ordering = ["-report_count", "-last_reported_at"]
        verbose_name = _("reported address")
        verbose_name_plural = _("reported addresses")

    def __str__(self) -> str:
        return ngettext(
            "Address %(hash)s… (%(count)s report)", "Address %(hash)s… (%(count)s reports)", self.report_count
        ) % {"hash": self.ip_hash[:12], "count": self.report_count}


class Decision(models.Model):
    """What staff (or the automatic protection) decided about one reported address."""

    class Action(models.TextChoices):
        DISMISS = "dismiss", _("Dismissed")
        BAN_1 = "ban_1", _("Banned for 1 day")
        BAN_7 = "ban_7", _("Banned for 7 days")
        BAN_30 = "ban_30", _("Banned for 30 days")
        BAN_PERMANENT = "ban_permanent", _("Banned permanently")
        AUTO_BAN = "auto_ban", _("Banned automatically")

    address = models.ForeignKey(
        ReportedAddress, on_delete=models.CASCADE, related_name="decisions", verbose_name=_("address")
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        verbose_name=_("decided by"),
        help_text=_("The staff member; empty for the automatic protection."),
    )
    decided_at = models.DateTimeField(_("decided at"), auto_now_add=True, db_index=True)
    undone_at = models.DateTimeField(
        _("undone at"), null=True, blank=True, help_text=_("Set when staff undid the decision within minutes.")
    )

    class Meta:
        ordering = ["-decided_at"]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")

    def __str__(self) -> str:
        return gettext("%(action)s at %(time)s") % {
            "action": self.get_action_display(),
            "time": f"{self.decided_at:%Y-%m-%d %H:%M}",
        }


class Report(models.Model):
    class Reason(models.TextChoices):
        NUDITY = "nudity", _("Nudity")
        HARASSMENT = "harassment", _("Harassment")
        SPAM = "spam", _("Spam")
        UNDERAGE = "underage", _("Underage")
        OTHER = "other", _("Other")

    address = models.ForeignKey(
        ReportedAddress, on_delete=models.CASCADE, related_name="reports", verbose_name=_("address")
    )
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    # Evidence the reporter chose to attach: a re-encoded still frame (pixels only) and chat lines.
    snapshot = models.BinaryField(
        _("snapshot"), null=True, blank=True, help_text=_("JPEG re-encoded by the server; no metadata.")
    )
    chat = models.JSONField(
        _("chat"), default=list, blank=True, help_text='[{"from": "reporter"|"reported", "text": …}]'
    )
    escalated = models.BooleanField(
        _("escalated"), default=False, help_text=_("Several reporters at once: banned automatically.")
    )
    decision = models.ForeignKey(
        Decision,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
        verbose_name=_("decision"),
    )

    class Meta:
        db_table = "meet_report"
        ordering = ["-created_at"]
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        # Looking at the list is not looking at the evidence, and neither is deciding: each is granted on its own.
        permissions = [
            ("view_evidence", _("Can see the evidence of a report (snapshot and chat lines)")),
            ("decide", _("Can decide a case: dismiss, ban an address, undo a ban")),
        ]

    def __str__(self) -> str:
        return gettext("%(reason)s at %(time)s") % {
            "reason": self.get_reason_display(),
            "time": f"{self.created_at:%Y-%m-%d %H:%M}",
        }


class Ban(models.Model):
    ip_hash = models.CharField(_("ip hash"), max_length=64, db_index=True)
    reason = models.CharField(_("reason"), max_length=200)
    until = models.DateTimeField(_("until"), db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "meet_ban"
        ordering = ["-until"]
        verbose_name = _("ban")
        verbose_name_plural = _("bans")

    def __str__(self) -> str:
        return gettext("Ban of %(hash)s… until %(time)s") % {
            "hash": self.ip_hash[:12],
            "time": f"{self.until:%Y-%m-%d %H:%M}",
        }


class StaffAction(models.Model):
    """Who looked at a case's snapshot and who decided it: the staff member, the case, what, when.
    Nothing about the visitor beyond the case it points at; deleted with the case or after as long."""

    class Action(models.TextChoices):
        REVEAL = "reveal", _("Revealed the snapshot")
        DISMISS = "dismiss", _("Dismissed")
        BAN_1 = "ban_1", _("Banned for 1 day")
        BAN_7 = "ban_7", _("Banned for 7 days")
        BAN_30 = "ban_30", _("Banned for 30 days")
        BAN_PERMANENT = "ban_permanent", _("Banned permanently")
        UNDO = "undo", _("Undid the decision")

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="staff_actions", verbose_name=_("report"))
    staff_member = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, verbose_name=_("staff member")
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("staff action")
        verbose_name_plural = _("staff actions")

    def __str__(self) -> str:
        return gettext("%(action)s at %(time)s") % {
            "action": self.get_action_display(),
            "time": f"{self.at:%Y-%m-%d %H:%M}",
        }


class StaffPreference(models.Model):
    """A staff member's own choice; snapshots are blurred unless they turned that off."""

    staff_member = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="moderation_preference",
        verbose_name=_("staff member"),
    )
    unblurred = models.BooleanField(_("snapshots shown unblurred"), default=False)

    class Meta:
        verbose_name = _("staff preference")
        verbose_name_plural = _("staff preferences")

    def __str__(self) -> str:
        return str(self.staff_member)
