from django.db import models
from django.utils.translation import gettext_lazy as _


class MatchEvent(models.Model):
    """One match, start to end. Anonymous by design: no peer id, no address, no content."""

    class EndReason(models.TextChoices):
        NEXT = "next", _("Next")
        LEAVE = "leave", _("Leave")
        DISCONNECT = "disconnect", _("Disconnect")

    started_at = models.DateTimeField(_("started at"), db_index=True)
    ended_at = models.DateTimeField(_("ended at"), db_index=True)
    wait_seconds = models.FloatField(
        _("wait seconds"), help_text=_("How long the first of the two had waited in the queue.")
    )
    partner_wait_seconds = models.FloatField(
        _("partner wait seconds"), help_text=_("How long the second of the two had waited.")
    )
    duration_seconds = models.FloatField(_("duration seconds"))
    end_reason = models.CharField(_("end reason"), max_length=16, choices=EndReason.choices)
    interest_matched = models.BooleanField(_("interest matched"), default=False)
    language_matched = models.BooleanField(_("language matched"), default=False)

    class Meta:
        db_table = "meet_matchevent"  # the table predates this app; it is kept as it is
        ordering = ["-started_at"]
        verbose_name = _("match event")
        verbose_name_plural = _("match events")
        indexes = [models.Index(fields=["ended_at", "end_reason"])]

    def __str__(self) -> str:
        return f"Match at {self.started_at:%Y-%m-%d %H:%M:%S}, {self.duration_seconds:.0f}s, ended by {self.end_reason}"


class MinuteBucket(models.Model):
    """Match events summarised per minute of their start, for charts that stay cheap at any volume."""

    minute = models.DateTimeField(unique=True)
    matches = models.PositiveIntegerField(default=0)
    quick_nexts = models.PositiveIntegerField(default=0, help_text="Calls ended by Next within 10 seconds.")
    interest_matched = models.PositiveIntegerField(default=0)
    # Wait before a match, per person (two per match), in bins.
    wait_under_1s = models.PositiveIntegerField(default=0)
    wait_under_5s = models.PositiveIntegerField(default=0)
    wait_under_15s = models.PositiveIntegerField(default=0)
    wait_under_60s = models.PositiveIntegerField(default=0)
    wait_over_60s = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "meet_minutebucket"
        ordering = ["-minute"]

    def __str__(self) -> str:
        return f"{self.minute:%Y-%m-%d %H:%M}: {self.matches} matches"


class ConnectionBucket(models.Model):
    """How browsers connected their calls, counted per minute: each browser reports its own path once per call.

    Only counts: no match, no peer, no address, and no single call's time (times are binned).
    """

    minute = models.DateTimeField(unique=True)
    direct = models.PositiveIntegerField(default=0, help_text="Peer to peer, no relay on this side.")
    relay_udp = models.PositiveIntegerField(default=0, help_text="Through our TURN relay over UDP.")
    relay_tcp = models.PositiveIntegerField(default=0, help_text="Through our TURN relay over TCP.")
    relay_tls = models.PositiveIntegerField(default=0, help_text="Through our TURN relay over TLS.")
    failed = models.PositiveIntegerField(default=0, help_text="Never connected.")
    # Time from the match to the connection, for connected calls, in bins.
    connected_under_1s = models.PositiveIntegerField(default=0)
    connected_under_2s = models.PositiveIntegerField(default=0)
    connected_under_5s = models.PositiveIntegerField(default=0)
    connected_under_10s = models.PositiveIntegerField(default=0)
    connected_under_30s = models.PositiveIntegerField(default=0)
    connected_over_30s = models.PositiveIntegerField(default=0)
    picture_recovered = models.PositiveIntegerField(
        default=0, help_text="Stranger's picture froze (decoded, not shown) and the page brought it back."
    )

    class Meta:
        db_table = "meet_connectionbucket"
        ordering = ["-minute"]

    def __str__(self) -> str:
        return f"{self.minute:%Y-%m-%d %H:%M}: connection reports"
