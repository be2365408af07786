"""The door of a signaling connection: too many connections from its address, or a ban, keep it out."""

from __future__ import annotations

import contextlib
import datetime
import logging
import secrets
from typing import Any

from channels.db import database_sync_to_async
from django.utils.translation import gettext_lazy as _

from meet import protocol
from meet.address_limits import get_address_limits
from meet.language import in_language
from meet.layer import ChannelLayerUnavailable
from moderation import service as moderation

logger = logging.getLogger("alienmeet.meet")


class Door:
    """Checks a new connection against its address's limits and bans (a mixin of MeetConsumer)."""

    async def _refuse_if_over_address_limit(self) -> bool:
        if not self.ip_hash:
            return False
        place = secrets.token_hex(8)
        refusal = await get_address_limits().admit(self.ip_hash, place)
        if refusal is None:
            self.address_place = place
            return False
        logger.info("event=refused_address_limit reason=%s", refusal.reason)
        if refusal.reason == "rate":
            message = _("Too many new connections from your network; try again in a minute.")
        else:
            message = _("Too many connections from your network at once; close another AlienMeet tab first.")
        details = {"reason": refusal.reason, "retry_after": refusal.retry_after}
        await self.send_json(protocol.error(protocol.TOO_MANY_CONNECTIONS, in_language(message, self.scope), **details))
        await self.close(code=protocol.CLOSE_TOO_MANY_CONNECTIONS)
        return True

    async def _give_back_address_place(self) -> None:
        place, self.address_place = self.address_place, ""
        if place:
            await get_address_limits().release(self.ip_hash, place)

    async def _refuse_if_banned(self) -> bool:
        try:
            until = await database_sync_to_async(moderation.active_ban_until)(self.ip_hash)
        except Exception:
            logger.exception("event=ban_check_failed")
            return False
        if until is None:
            return False
        await self._banned(until)
        return True

    async def _banned(self, until: datetime.datetime) -> None:
        message = in_language(moderation.ban_message(until), self.scope)
        await self.send_json(protocol.error(protocol.BANNED, message, until=until.isoformat()))
        await self.close(code=protocol.CLOSE_BANNED)

    async def _hear_bans(self) -> None:
        """A ban made later, by staff or automatically, closes this connection on whichever process it is."""
        if self.ip_hash:
            with contextlib.suppress(ChannelLayerUnavailable):
                await self.channel_layer.group_add(moderation.ban_group(self.ip_hash), self.channel_name)

    async def moderation_banned(self, message: dict[str, Any]) -> None:
        """This address was just banned: free the partner and close, as a refused connect would."""
        await self._leave()
        self.registered = False
        await self._banned(datetime.datetime.fromisoformat(message["until"]))
