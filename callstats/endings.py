"""What happens once a match has ended, whoever ended it: tell the partner, note the event."""

from __future__ import annotations

import logging

from channels.exceptions import ChannelFull
from channels.layers import BaseChannelLayer

from callstats.events import EventBuffer
from matchmaking import EndedMatch
from transport.layer import ChannelLayerUnavailable

logger = logging.getLogger("alienmeet.meet")


async def announce_end(layer: BaseChannelLayer, ended: EndedMatch, events: EventBuffer) -> None:
    if ended.other_channel:
        try:
            await layer.send(
                ended.other_channel,
                {"type": "meet.partner_left", "match_id": ended.match_id, "reason": ended.reason},
            )
        except (ChannelFull, ChannelLayerUnavailable):
            # The matchmaking state already has the partner idle; it only misses the notice.
            logger.warning("event=partner_left_dropped")
    logger.info(
        "event=match_end reason=%s duration=%.1f interest_matched=%s",
        ended.reason,
        ended.duration,
        ended.interest_matched,
    )
    events.add(ended)
