from django.db import models


class MatchEvent(models.Model):
    """One match, start to end. Anonymous by design: no peer id, no address, no content."""

    class EndReason(models.TextChoices):
        NEXT = "next", "Next"
        LEAVE = "leave", "Leave"
        DISCONNECT = "disconnect", "Disconnect"

    started_at = models.DateTimeField(db_index=True)
    ended_at = models.DateTimeField(db_index=True)
    wait_seconds = models.FloatField(help_text="How long the first of the two had waited in the queue.")
    partner_wait_seconds = models.FloatField(help_text="How long the second of the two had waited.")
    duration_seconds = models.FloatField()
    end_reason = models.CharField(max_length=16, choices=EndReason.choices)
    interest_matched = models.BooleanField(default=False)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["ended_at", "end_reason"])]

    def __str__(self) -> str:
        return f"Match at {self.started_at:%Y-%m-%d %H:%M:%S}, {self.duration_seconds:.0f}s, ended by {self.end_reason}"
