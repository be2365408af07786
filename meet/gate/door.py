"""The door of a signaling connection: too many connections from its address, or a ban, keep it out."""

from __future__ import annotations

import asyncio
import datetime
import logging
import random
import secrets

from channels.db import database_sync_to_async
from django.utils.translation import gettext_lazy as _

from meet import protocol
from meet.gate.address_limits import get_address_limits
from moderation import service as moderation
from transport.language import in_language
from transport.layer import ChannelLayerUnavailable

logger = logging.getLogger("alienmeet.meet")

# How often a connection tries again to hear its address's bans while the channel layer is away.
BAN_SUBSCRIBE_RETRY_SECONDS = 1.0


class Door:
    """Checks a new connection against its address's limits and bans (a mixin of MeetConsumer, whose
    ``moderation_banned`` handles a ban announced later, and whose session says a ban to the browser)."""

    ban_subscription: asyncio.Task[None] | None = None  # set while a failed subscription is retried

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
        await self.session.refuse_banned(until)

    async def _hear_bans(self) -> None:
        """A ban made later, by staff or automatically, closes this connection on whichever process it is."""
        if not self.ip_hash:
            return
        try:
            await self.channel_layer.group_add(moderation.ban_group(self.ip_hash), self.channel_name)
        except ChannelLayerUnavailable:
            # Without the subscription this connection would never hear a ban: keep trying while it lives.
            self.ban_subscription = asyncio.get_running_loop().create_task(self._hear_bans_when_back())

    async def _hear_bans_when_back(self) -> None:
        while not self.gone:
            # Spread, so the connections an outage left unsubscribed do not all come back at one instant.
            await asyncio.sleep(BAN_SUBSCRIBE_RETRY_SECONDS * (0.5 + random.random()))
            try:
                await self.channel_layer.group_add(moderation.ban_group(self.ip_hash), self.channel_name)
            except ChannelLayerUnavailable:
                continue
            except Exception:
                logger.exception("event=ban_subscribe_failed")
                continue
            logger.info("event=ban_subscription_restored")
            # A ban made before the subscription held was announced to nobody here.
            try:
                until = await database_sync_to_async(moderation.active_ban_until)(self.ip_hash)
                if until is not None and not self.gone:
                    # As if announced: the session waits for a step of this connection's under way to end.
                    await self.moderation_banned({"until": until.isoformat()})
            except Exception:
                logger.exception("event=ban_check_failed")
            return

    def _stop_hearing_bans_later(self) -> None:
        task, self.ban_subscription = self.ban_subscription, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
