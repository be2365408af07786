"""What the moderators' desk shows beside each case: its history, the live counts, the blurred preview."""

from __future__ import annotations

import io
from typing import Any

from django.db.models import Min
from django.utils import timezone
from PIL import Image, ImageFilter

from moderation.models import Ban, Decision, Report, StaffPreference

# The key that decides each action in the queue, in the order of decisions.ACTION_BUTTONS.
ACTION_KEYS = ("d", "1", "7", "3", "p")
# The preview is drawn this wide: enough to tell there is a picture, too small to show what it is.
PREVIEW_WIDTH = 16


def cases_for(reports: list[Report]) -> list[dict[str, Any]]:
    """Each report with its address's earlier decisions and the ban in force, in two queries."""
    addresses = {report.address_id for report in reports}
    decisions: dict[int, list[Decision]] = {}
    for decision in Decision.objects.filter(address_id__in=addresses).select_related("decided_by"):
        decisions.setdefault(decision.address_id, []).append(decision)
    now = timezone.now()
    hashes = [report.address.ip_hash for report in reports]
    bans = {ban.ip_hash: ban.until for ban in Ban.objects.filter(ip_hash__in=hashes, until__gt=now).order_by("until")}
    return [
        {
            "report": report,
            "history": [d for d in decisions.get(report.address_id, []) if d.pk != report.decision_id],
            "banned_until": bans.get(report.address.ip_hash),
        }
        for report in reports
    ]


def queue_counts() -> dict[str, Any]:
    """The backlog at a glance: open cases, when the oldest came in, how many were banned automatically."""
    open_reports = Report.objects.filter(decision__isnull=True)
    return {
        "open": open_reports.count(),
        "oldest": open_reports.aggregate(oldest=Min("created_at"))["oldest"],
        "escalated": open_reports.filter(escalated=True).count(),
    }


def unblurred_for(user: Any) -> bool:
    """Blurred unless this staff member chose otherwise."""
    return StaffPreference.objects.filter(staff_member=user, unblurred=True).exists()


def blurred(jpeg: bytes) -> bytes:
    """A grey, tiny version of a snapshot the server itself re-encoded (so small and cheap to decode)."""
    with Image.open(io.BytesIO(jpeg)) as image:
        image.draft("L", (PREVIEW_WIDTH * 4, PREVIEW_WIDTH * 4))  # decode at a fraction of the size
        grey = image.convert("L")
        height = max(1, round(grey.height * PREVIEW_WIDTH / max(1, grey.width)))
        small = grey.resize((PREVIEW_WIDTH, height), Image.Resampling.BOX).filter(ImageFilter.GaussianBlur(1))
    out = io.BytesIO()
    small.save(out, "JPEG", quality=60)
    return out.getvalue()
