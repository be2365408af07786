from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from turn.health import check_turn_servers


class Command(BaseCommand):
    help = "Ask each TURN server in TURN_URLS for a relay with a credential minted as for visitors."

    def handle(self, *args: Any, **options: Any) -> None:
        results = check_turn_servers()
        if not results:
            raise CommandError("No TURN server configured (TURN_URLS and TURN_SECRET).")
        for url, state in results.items():
            self.stdout.write(f"{url}: {state}")
        failing = [url for url, state in results.items() if state != "ok"]
        if failing:
            raise CommandError(f"{len(failing)} of {len(results)} TURN servers give no relay.")
