from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from callstats.models import ConnectionBucket, MatchEvent, MinuteBucket
from moderation.retention import purge_moderation


class Command(BaseCommand):
    help = (
        "Delete match events and per-minute summaries (matches, connections) older than a number of days,"
        " and the moderation evidence, reports, decisions and bans that settings.MODERATION no longer keeps."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", type=int, required=True, metavar="DAYS", help="Age in days (at least 1).")

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["older_than"]
        if days < 1:
            raise CommandError("--older-than must be at least 1 day.")
        cutoff = timezone.now() - datetime.timedelta(days=days)
        events, _ = MatchEvent.objects.filter(ended_at__lt=cutoff).delete()
        buckets, _ = MinuteBucket.objects.filter(minute__lt=cutoff).delete()
        connections, _ = ConnectionBucket.objects.filter(minute__lt=cutoff).delete()
        self.stdout.write(
            f"Deleted {events} match events, {buckets} minute summaries and {connections} connection summaries "
            f"older than {days} days."
        )
        purged = purge_moderation()
        self.stdout.write(
            f"Moderation: evidence removed from {purged.evidence} reports; deleted {purged.reports} reports,"
            f" {purged.decisions} decisions, {purged.addresses} reported addresses, {purged.bans} ended bans"
            f" and {purged.staff_actions} records of staff actions."
        )
