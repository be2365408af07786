"""What happens once a match has ended, whoever ended it: tell the partner, record the event."""

from __future__ import annotations

import logging

from channels.exceptions import ChannelFull
from channels.layers import BaseChannelLayer

from meet.events import record_match
from meet.matchmaking import EndedMatch

logger = logging.getLogger("alienmeet.meet")


async def announce_end(layer: BaseChannelLayer, ended: EndedMatch) -> None:
    if ended.other_channel:
        try:
            await layer.send(
                ended.other_channel,
                {"type": "meet.partner_left", "match_id": ended.match_id, "reason": ended.reason},
            )
        except ChannelFull:
            logger.warning("event=partner_left_dropped reason=channel_full")
        except Exception:
            # The partner's own heartbeat-reaped state is already idle; it just misses the notice.
            logger.warning("event=partner_left_dropped reason=layer_error", exc_info=True)
    logger.info(
        "event=match_end reason=%s duration=%.1f interest_matched=%s",
        ended.reason,
        ended.duration,
        ended.interest_matched,
    )
    await record_match(ended)
