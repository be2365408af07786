"""Keeping a call alive past a broken socket or an expired TURN credential (docs/protocol.md,
"Resuming a match on a new connection" and ``refresh_ice_servers``)."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import time
from typing import Any

from channels.exceptions import ChannelFull
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from meet import protocol, resume
from meet.matches import CurrentMatch
from transport.language import in_language
from transport.layer import ChannelLayerUnavailable
from turn.credentials import ice_servers

logger = logging.getLogger("alienmeet.meet")

# A call needs fresh TURN credentials about once per credential lifetime; more often is a script minting them.
ICE_REFRESH_SECONDS = 30.0
RESUME_FAILED_MESSAGE = _("That call has ended; nothing was resumed.")
# Close codes of a browser that meant to go (a closed tab, a page left): its match ends at once.
CLEAN_CLOSE_CODES = (1000, 1001)


class Resuming:
    """Resume and ICE refresh (a mixin of MeetConsumer)."""

    def _may_resume(self) -> bool:
        """A browser that can resume and lost its socket mid-call, rather than closing it, may come back."""
        return (
            self.match is not None
            and self.resumable
            and not self.closed_by_server
            and self.close_code not in CLEAN_CLOSE_CODES
            and settings.MEET["RESUME_GRACE"] > 0
        )

    async def _resume(self, command: protocol.Resume) -> None:
        """Take over the match an earlier connection of this browser held (docs/protocol.md)."""
        if self.match is not None or self.ticket:
            await self._error(protocol.BAD_MESSAGE, _("Resume only on a connection that is not in a call or queue."))
            return
        peer_id = resume.peer_of(command.token)
        moved = None
        if peer_id is not None and self.registered:
            moved = await self.matchmaker.take_over(
                peer_id,
                command.match_id,
                self.channel_name,
                self.peer_id,
                lambda holder: resume.verifies(command.token, command.match_id, holder),
            )
        if moved is None:
            await self._error(protocol.RESUME_FAILED, RESUME_FAILED_MESSAGE)
            return
        # This connection is that peer now; its own fresh peer was forgotten in the same step.
        self.peer_id = peer_id
        self.match = CurrentMatch(moved.match_id, moved.partner_channel, moved.partner_id)
        self.interests, self.languages = moved.interests, moved.languages
        self.resumable = self.admitted = True
        try:
            await self.channel_layer.send(
                moved.partner_channel,
                {"type": "meet.partner_moved", "match_id": moved.match_id, "channel": self.channel_name},
            )
        except (ChannelLayerUnavailable, ChannelFull):
            # A partner who cannot learn where this side went could never reach it: the call is over.
            await self._end_match(protocol.LEFT_DISCONNECT)
            await self._error(protocol.RESUME_FAILED, RESUME_FAILED_MESSAGE)
            return
        if moved.old_channel != self.channel_name:
            with contextlib.suppress(ChannelLayerUnavailable, ChannelFull):
                # Its process frees it and closes it; should this be lost, its unregister changes nothing.
                await self.channel_layer.send(moved.old_channel, {"type": "meet.superseded", "peer_id": peer_id})
        token = resume.mint(peer_id, moved.match_id, self.channel_name)
        await self.send_json(
            protocol.resumed(
                moved.match_id, moved.polite, moved.shared_interests, ice_servers(), moved.shared_languages, token
            )
        )
        logger.info("event=match_resumed")

    async def meet_partner_moved(self, message: dict[str, Any]) -> None:
        """The partner resumed the match on a new connection: relay there from now on."""
        async with self.lock:
            if self.match is not None and self.match.match_id == message["match_id"]:
                self.match = dataclasses.replace(self.match, partner_channel=message["channel"])
                await self.send_json(protocol.partner_resumed(message["match_id"]))

    async def meet_superseded(self, message: dict[str, Any]) -> None:
        """A newer connection of this browser took the match over: go quietly, ending nothing."""
        if message["peer_id"] != self.peer_id:
            return
        self.match = None
        await self.close(code=protocol.CLOSE_SUPERSEDED)

    async def _refresh_ice_servers(self) -> None:
        """Fresh TURN credentials for a call that outlived its own: an ICE restart allocates anew.
        Only a connection that was admitted and is in a call gets any."""
        if self.match is None or not self.admitted:
            await self._error(protocol.NOT_MATCHED, _("Not in a call: the next match brings fresh ICE servers."))
            return
        now = time.monotonic()
        remaining = self.ice_refreshed_at + ICE_REFRESH_SECONDS - now
        if remaining > 0:
            message = in_language(
                _("ICE servers can be refreshed once every %(seconds)s seconds."),
                self.scope,
                seconds=int(ICE_REFRESH_SECONDS),
            )
            await self.send_json(protocol.error(protocol.RATE_LIMITED, message, retry_after=math.ceil(remaining)))
            return
        self.ice_refreshed_at = now
        await self.send_json(protocol.ice_servers_message(ice_servers()))
